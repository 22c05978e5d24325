//! Tests for `forced`: `SSH_ORIGINAL_COMMAND` tokenising and dispatch.

use super::*;

fn toks(s: &str) -> Vec<String> {
    tokenize(s).unwrap()
}

#[test]
fn true_is_a_connectivity_check() {
    assert_eq!(parse_original_command("true"), Ok(Request::True));
    assert!(parse_original_command(" true").is_err());
    assert!(parse_original_command("true ").is_err());
    assert!(parse_original_command("true; rm -rf /").is_err());
}

#[test]
fn tokenizer_splits_on_whitespace() {
    assert_eq!(toks("a  b\tc\nd"), ["a", "b", "c", "d"]);
    assert_eq!(toks("  lead trail  "), ["lead", "trail"]);
    assert!(toks("   ").is_empty());
    assert!(toks("").is_empty());
}

#[test]
fn tokenizer_backslash_escapes_next_char() {
    assert_eq!(toks(r"a\ b"), ["a b"]);
    assert_eq!(toks(r"a\\b"), [r"a\b"]);
    assert_eq!(toks(r"\a\b"), ["ab"]);
    assert_eq!(toks("x\\\ny"), ["x\ny"]);
    assert_eq!(toks(r"'quoted words'"), ["'quoted", "words'"]);
    assert_eq!(toks(r#""a b""#), ["\"a", "b\""]);
    assert_eq!(toks(r"\ "), [" "]);
    assert_eq!(toks("caf\\é"), ["café"]);
}

#[test]
fn tokenizer_rejections() {
    assert_eq!(tokenize(r"abc\"), Err(CliError::TrailingBackslash));
    assert_eq!(tokenize("a\0b"), Err(CliError::NulInCommand));
    let many = "x ".repeat(MAX_WORDS + 1);
    assert_eq!(
        tokenize(&many),
        Err(CliError::TooManyWords { max: MAX_WORDS })
    );
}

#[test]
fn junk_commands() {
    for cmd in [
        "",
        "   ",
        "ls",
        "ls -la",
        "sh -c id",
        "rsync",
        "rsync --sender",
        "scp -t .",
        "rsync --daemon",
        "/bin/sh",
        "../rsync --server . d",
        "rsync/x --server . d",
        "rsyncx --server . d",
        "bin/rsync --server . d",
        "/../rsync --server . d",
    ] {
        let e = parse_original_command(cmd).unwrap_err();
        assert!(!e.to_string().contains('\n'), "{cmd}: {e}");
    }
    assert_eq!(parse_original_command(""), Err(CliError::EmptyCommand));
    assert_eq!(
        parse_original_command("ls -la"),
        Err(CliError::NotRsync("ls".into()))
    );
}

#[test]
fn program_spellings() {
    for p in [
        "rsync",
        "openrsync",
        "/usr/bin/rsync",
        "/usr/local/bin/openrsync",
    ] {
        let cmd = format!("{p} --server -r . d");
        assert!(
            matches!(parse_original_command(&cmd), Ok(Request::Rsync(_))),
            "{cmd}"
        );
    }
}

#[test]
fn huge_junk_is_refused_without_echo() {
    let junk = "A".repeat(100 * 1024);
    let e = parse_original_command(&junk).unwrap_err();
    assert!(matches!(e, CliError::CommandTooLong { .. }));
    assert!(e.to_string().len() < 100);

    let junk = format!("{} --server", "B".repeat(60 * 1024));
    let msg = parse_original_command(&junk).unwrap_err().to_string();
    assert!(msg.len() < 120, "{msg}");

    let msg = parse_original_command("\u{1b}[31mevil\u{7}")
        .unwrap_err()
        .to_string();
    assert!(!msg.contains('\u{1b}') && !msg.contains('\u{7}'), "{msg}");
}

#[test]
fn nul_is_refused() {
    assert_eq!(
        parse_original_command("rsync\0 --server"),
        Err(CliError::NulInCommand)
    );
}

#[test]
fn rsync_request_is_parsed() {
    match parse_original_command(r"rsync --server --sender -vlogDtpre.iLsfxCIvu . a\ b c") {
        Ok(Request::Rsync(a)) => {
            assert!(a.sender);
            assert_eq!(a.paths, ["a b", "c"]);
        }
        other => panic!("{other:?}"),
    }
}
