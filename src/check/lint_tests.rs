//! Tests of [`super`]: what `check` reports for one line or a file.

use super::*;

const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDRQbSdUkrvxY/lZk0qbOpy6B3s8LIbBoA5S6SBPHxyz me@host";
const OTHER: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIADjQrjnIZ+rFKuz9zQIwn8ncn5ZqOEX0xRtjJKw0bEI";

fn one(line: &str) -> Report {
    lint_line(line, Some(Path::new("/")), &mut Vec::new()).unwrap()
}

fn has(r: &Report, what: &str) -> bool {
    r.problems.iter().any(|p| p.contains(what))
}

#[test]
fn a_good_line_has_no_problem() {
    let r = one(&format!("command=\"/bin/sh -ro /tmp\",restrict {KEY}")
        .replace("/bin/sh", "/bin/rrsync-rs"));
    assert!(r.head.starts_with("ssh-ed25519 SHA256:"), "{r:?}");
    assert!(r.head.ends_with("me@host"));
    assert!(
        r.grants.contains("read-only") && r.grants.contains("/tmp"),
        "{r:?}"
    );
    assert!(
        r.problems.iter().all(|p| p.contains("does not exist")),
        "{r:?}"
    );
}

#[test]
fn each_problem_is_found() {
    let r = one(&format!(
        "command=\"rrsync-rs -ro /nonexistent-root\" {KEY}"
    ));
    assert!(
        has(&r, "restrict") && has(&r, "root /nonexistent-root"),
        "{r:?}"
    );
    let r = one(&format!("command=\"rrsync-rs -ro $HOME/x\",restrict {KEY}"));
    assert!(has(&r, "`$`"), "{r:?}");
    let r = one(&format!("command=\"rrsync-rs -ro ~/x\",restrict {KEY}"));
    assert!(has(&r, "`~`"), "{r:?}");
    let r = one(&format!(
        "command=\"/w/target/release/rrsync-rs /\",restrict {KEY}"
    ));
    assert!(
        has(&r, "build directory") && has(&r, "does not exist"),
        "{r:?}"
    );
    let r = one(&format!(
        "command=\"rrsync-rs /\",restrict,from=\"10.0.0.1\" {KEY}"
    ));
    assert!(has(&r, "serve cannot enforce"), "{r:?}");
    let r = one(&format!("restrict {KEY}"));
    assert!(has(&r, "no command="), "{r:?}");
    let r = one(&format!("command=\"rrsync-rs /\",no-pty,no-port-forwarding,no-agent-forwarding,no-x11-forwarding {KEY}"));
    assert!(!has(&r, "restrict"), "{r:?}");
    let r = one("command=\"x\" ssh-ed25519 AAAA");
    assert!(!r.problems.is_empty());
    assert!(lint_line("  # comment", None, &mut Vec::new()).is_none());
}

#[test]
fn duplicates_and_short_rsa_keys() {
    let text = format!(
        "command=\"rrsync-rs /\",restrict {KEY}\n\ncommand=\"rrsync-rs /\",restrict {OTHER}\nrestrict,command=\"rrsync-rs -ro /\" {KEY}\n"
    );
    let r = lint_text(&text, None);
    assert_eq!(r.iter().map(|r| r.n).collect::<Vec<_>>(), [1, 3, 4]);
    assert!(
        r[2].problems
            .iter()
            .any(|p| p.contains("same key as line 1")),
        "{r:?}"
    );
    assert!(!r[1].problems.iter().any(|p| p.contains("same key")));
    // A 1024-bit RSA key (ssh-keygen -t rsa -b 1024).
    let rsa = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDIEyMZdCPJTJHcb4VQxyAMiY1CAzx0TikbIZ/AqdwzSw/DQAqHGm6AvCkbf2i0EtygXRYzGYCT48dwu0YpEj1pO8+haSJSBO+25BCP0up2UyCGeVzic+ZnQVsYM1Odk2VI1+HiLOnh+lG8gW8vgY+On1X3afvDRqRexhcosURruw==";
    let r = one(&format!("command=\"rrsync-rs /\",restrict {rsa}"));
    assert!(has(&r, "1024 bits"), "{r:?}");
}
