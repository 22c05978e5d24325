//! `rrsync-rs authorize` cannot be made to write a second key line: a
//! directory name or key comment with a newline (or any control
//! character) is refused before anything is printed or appended, and the
//! line it does write reads back, with `serve`'s own parser, as one key
//! with the intended flags and root (issue 9).

use super::read;
use crate::harness::{self, ensure, Report, Work};
use crate::openssh::keygen;
use std::process::Command;

fn authorize(args: &[&str]) -> harness::Output {
    let mut cmd = Command::new(harness::bin());
    cmd.arg("authorize").args(args);
    harness::run(cmd, super::SHORT)
}

#[test]
fn authorize_refuses_control_characters() {
    if !std::path::Path::new("/usr/bin/ssh-keygen").exists() {
        harness::skip("ssh-keygen not installed");
        return;
    }
    let work = Work::new("authorize-injection");
    let key = work.dir.join("client_key");
    keygen(&key);
    let pubkey = key.with_extension("pub");
    let pub_text = read(&pubkey);
    let blob = pub_text.split_whitespace().nth(1).unwrap_or_default();
    let mut rep = Report::new();

    // A directory whose name carries a whole unrestricted key line.
    let evil = work.dir.join(format!("srv\nssh-ed25519 {blob} attacker"));
    std::fs::create_dir_all(&evil).expect("mkdir evil dir");
    let auth = work.dir.join("authorized_keys");
    let (evil_s, pub_s, auth_s) = (
        evil.display().to_string(),
        pubkey.display().to_string(),
        auth.display().to_string(),
    );
    let out = authorize(&["-ro", &evil_s, &pub_s, "--append", &auth_s]);
    rep.check(
        "newline in DIR",
        ensure(out.code == Some(1), "authorize did not refuse", &out)
            .and_then(|()| ensure(!auth.exists(), "authorized_keys was written", &out))
            .and_then(|()| ensure(out.stdout.is_empty(), "a line was printed", &out))
            .and_then(|()| {
                ensure(
                    out.stderr.contains("DIR contains a control character"),
                    "no reason given",
                    &out,
                )
            }),
    );

    // A key comment with a terminal escape, or a bell.
    let plain = work.dir.join("plain");
    std::fs::create_dir_all(&plain).expect("mkdir plain");
    for (label, comment) in [("escape", "me\u{1b}[2Jx"), ("BEL", "me\u{7}x")] {
        let k = work.dir.join(format!("k-{label}.pub"));
        std::fs::write(&k, format!("ssh-ed25519 {blob} {comment}\n")).expect("write key");
        let out = authorize(&[
            "-wo",
            &plain.display().to_string(),
            &k.display().to_string(),
            "--append",
            &auth_s,
        ]);
        rep.check(
            label,
            ensure(out.code == Some(1), "authorize did not refuse", &out)
                .and_then(|()| ensure(!auth.exists(), "authorized_keys was written", &out))
                .and_then(|()| ensure(out.stdout.is_empty(), "a line was printed", &out)),
        );
    }

    // An honest directory with a space and a quote still works, one line.
    let odd = work.dir.join("it's \"odd\" dir");
    std::fs::create_dir_all(&odd).expect("mkdir odd");
    let out = authorize(&[
        "-wo",
        "-no-del",
        &odd.display().to_string(),
        &pub_s,
        "--append",
        &auth_s,
    ]);
    let written = read(&auth);
    rep.check(
        "honest dir",
        ensure(out.code == Some(0), "authorize failed", &out).and_then(|()| {
            ensure(
                written.lines().count() == 1 && written.trim_end() == out.stdout.trim_end(),
                &format!("want one line, got {written:?}"),
                &out,
            )
        }),
    );
    rep.finish("authorize_refuses_control_characters");
}
