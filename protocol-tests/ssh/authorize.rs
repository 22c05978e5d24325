//! `rrsync-rs authorize` against a real OpenSSH sshd: `--append` creates
//! `.ssh` (0700) and `authorized_keys` (0600), refuses a duplicate, and
//! the line it wrote lets a stock client pull through sshd, with an audit
//! line (`-audit`, key from sshd's `ExposeAuthInfo`). sshd is
//! [`crate::openssh::start`]; its `StrictModes` is off (the files live
//! under /tmp), so the permissions are checked directly instead.

use super::{has, read};
use crate::fixtures;
use crate::harness::{self, ensure, Report, Work};
use crate::openssh::{self, keygen};
use crate::tree::{self, Cmp};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

fn authorize(args: &[&str]) -> harness::Output {
    let mut cmd = Command::new(harness::bin());
    cmd.arg("authorize").args(args);
    harness::run(cmd, super::SHORT)
}

#[test]
fn authorize_line_works_with_real_sshd() {
    if !super::have_ssh() {
        return;
    }
    if !openssh::have_sshd() {
        return;
    }
    let fx = fixtures::small();
    let work = Work::new("ssh-authorize");
    let key = work.dir.join("client_key");
    keygen(&key);
    let pubkey = key.with_extension("pub");
    let ssh_dir = work.dir.join("home/.ssh");
    std::fs::create_dir_all(work.dir.join("home")).expect("mkdir home");
    let auth = ssh_dir.join("authorized_keys");
    let audit = work.dir.join("audit.jsonl");
    let (root, auth_s, audit_s) = (
        fx.root.display().to_string(),
        auth.display().to_string(),
        audit.display().to_string(),
    );
    let mut rep = Report::new();

    let out = authorize(&[
        "-ro",
        &root,
        &pubkey.display().to_string(),
        "--append",
        &auth_s,
        "--audit",
        &audit_s,
    ]);
    let written = read(&auth);
    let mode = |p: &Path| {
        std::fs::metadata(p)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0)
    };
    rep.check(
        "append",
        ensure(out.code == Some(0), "authorize --append failed", &out).and_then(|()| {
            let want = format!(
                "command=\"{} -audit {audit_s} -ro {root}\",restrict ",
                harness::bin().display()
            );
            ensure(
                written.starts_with(&want)
                    && written.trim_end() == out.stdout.trim_end()
                    && written.lines().count() == 1,
                &format!("line {written:?}, want it to start {want:?}"),
                &out,
            )?;
            ensure(
                (mode(&ssh_dir), mode(&auth)) == (0o700, 0o600),
                &format!("modes {:o} {:o}", mode(&ssh_dir), mode(&auth)),
                &out,
            )
        }),
    );
    let out = authorize(&[
        "-ro",
        &root,
        &pubkey.display().to_string(),
        "--append",
        &auth_s,
    ]);
    rep.check(
        "duplicate",
        ensure(
            out.code == Some(1) && out.stderr.contains("already") && read(&auth) == written,
            "a duplicate was not refused",
            &out,
        ),
    );
    let out = authorize(&["-ro", &root, &key.display().to_string()]);
    rep.check(
        "private key",
        ensure(
            out.code == Some(0)
                && out.stderr.contains("private key")
                && out.stdout.contains("ssh-ed25519"),
            "private key: no warning or no line",
            &out,
        ),
    );
    let out = authorize(&[
        "-ro",
        &work.dir.join("missing").display().to_string(),
        &pubkey.display().to_string(),
    ]);
    rep.check(
        "missing DIR",
        ensure(out.code == Some(1), "a missing DIR was accepted", &out),
    );

    let daemon = openssh::start(&work, &auth);
    let ssh = openssh::ssh_command(daemon.port, &key);
    let client = &harness::clients().first().expect("a client").path;
    let dst = work.path("dst");
    let mut cmd = Command::new(client);
    cmd.arg("-e")
        .arg(&ssh)
        .args(["-a", "root@127.0.0.1:dir/", &format!("{}/", dst.display())]);
    let out = harness::run(cmd, harness::TIMEOUT);
    rep.check(
        "pull via sshd",
        ensure(
            out.code == Some(0),
            &format!("pull failed; sshd log:\n{}", daemon.log()),
            &out,
        )
        .and_then(|()| tree::same_dirs("pull via sshd", &fx.dir, &dst, Cmp::SOURCE)),
    );
    let log = read(&audit);
    let line = log.lines().next().unwrap_or_default();
    let fields = [
        ("via", "sshd"),
        ("outcome", "ok"),
        ("key", "SHA256:"),
        ("remote", "127.0.0.1:"),
        ("mode", "ro"),
        ("role", "sender"),
        ("user", "root"),
        ("landlock", ""),
    ];
    rep.check(
        "audit",
        match fields.iter().find(|(f, v)| !has(line, f, v)) {
            None if log.lines().count() == 1 => Ok(()),
            _ => Err(format!("want one line with {fields:?}; got:\n{log}")),
        },
    );
    rep.finish("authorize_line_works_with_real_sshd");
}
