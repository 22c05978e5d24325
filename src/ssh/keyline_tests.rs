use super::*;

const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDRQbSdUkrvxY/lZk0qbOpy6B3s8LIbBoA5S6SBPHxyz";

fn opts(o: &str) -> Result<KeyOptions, LineError> {
    parse_line(&format!("{o} {KEY} me@host")).map(|l| l.options)
}

fn is_syntax(r: Result<KeyOptions, LineError>) -> bool {
    matches!(r, Err(LineError::Syntax(_)))
}

fn is_strict(r: Result<KeyOptions, LineError>) -> bool {
    matches!(r, Err(LineError::Strict(_)))
}

#[test]
fn plain_key_and_comment() {
    let l = parse_line(&format!("  {KEY}\tsome  comment ")).unwrap();
    assert_eq!(l.options, KeyOptions::default());
    assert_eq!(l.key.comment().to_string(), "some  comment");
    assert!(matches!(
        parse_line("ssh-ed25519 AAAA"),
        Err(LineError::Key(_))
    ));
    assert!(matches!(parse_line("# x"), Err(LineError::Key(_))));
}

#[test]
fn options_as_sshd_reads_them() {
    let o = opts(r#"Command="a \"b\" c",restrict,NO-PTY,pty-x"#);
    assert!(is_syntax(o), "prefix of a flag is an unknown option");
    let o = opts(r#"Command="a \"b, c\"",restrict,NO-PTY,permitopen="h:22",permitopen="[::1]:*""#)
        .unwrap();
    assert_eq!(o.command.as_deref(), Some(r#"a "b, c""#));
    assert!(o.restrict);
    assert_eq!(o.flag("pty"), Some(false));
    assert_eq!(o.permitopen.len(), 2);
    let o = opts(r#"environment="A=1",environment="A_2=x",permitlisten="8080""#).unwrap();
    assert_eq!(o.environment.len(), 2);
    assert_eq!(o.permitlisten, ["8080"]);
}

#[test]
fn sshd_refusals() {
    for bad in [
        r#"command="rrsync-rs -ro /a",command="rrsync-rs /""#,
        r#"from="a",from="b""#,
        r#"principals="a",principals="b""#,
        "bogus",
        "command",
        r#"restrict="x""#,
        r#"command=x"#,
        r#"command="x"y"#,
        r#"no-restrict"#,
        r#"environment="1 x""#,
        r#"environment="noequals""#,
        r#"permitopen="host""#,
        r#"permitopen="host:0""#,
        r#"permitopen="[::1""#,
        r#"permitopen="host:99999""#,
        r#"expiry-time="tomorrow""#,
        r#"tunnel="x""#,
    ] {
        assert!(is_syntax(opts(bad)), "{bad}");
    }
    let unterminated = parse_line(&format!("command=\"x {KEY}"));
    assert!(matches!(unterminated, Err(LineError::Syntax(_))));
}

#[test]
fn stricter_than_sshd() {
    for bad in [
        "restrict,restrict",
        "pty,no-pty",
        "no-pty,no-pty",
        "restrict,,no-pty",
        "restrict,",
        r#"expiry-time="20300101",expiry-time="20310101""#,
        r#"tunnel="1",tunnel="2""#,
    ] {
        assert!(is_strict(opts(bad)), "{bad}");
    }
    assert!(matches!(
        parse_line(&format!("{KEY} a\0b")),
        Err(LineError::Strict(_))
    ));
    assert!(matches!(
        parse_line(&format!("{KEY} a\rb")),
        Err(LineError::Strict(_))
    ));
    assert!(matches!(
        parse_line(&format!("{KEY}\n{KEY}")),
        Err(LineError::Syntax(_))
    ));
    // `restrict` and then a flag turned back on is not a conflict.
    assert!(opts("restrict,pty").is_ok());
}

#[test]
fn key_of_finds_the_key_behind_bad_options() {
    let k = key_of(&format!(r#"command="a",command="b" {KEY}"#)).unwrap();
    assert_eq!(k.key_data(), parse_line(KEY).unwrap().key.key_data());
    assert!(key_of("garbage").is_none());
}
