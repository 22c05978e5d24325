//! Refusals through `serve`, each with its audit line: `-ro`/`-wo` keys
//! used the wrong way round (refused inside the protocol, as under sshd),
//! an unknown key, a password-only client, `ssh host ls`, `ssh -tt host`,
//! a subsystem, `ssh -N -R` and `ssh -N -L`.

use super::{has, key_line, keygen, Serve};
use crate::fixtures;
use crate::harness::{self, Output, Report, Work};
use std::io::Read;
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Checks the exit code, an output fragment, and the `n`-th audit line.
struct Case<'a> {
    serve: &'a Serve,
    rep: Report,
    n: usize,
}

impl Case<'_> {
    fn check(
        &mut self,
        name: &str,
        out: &Output,
        code: Option<i32>,
        says: &str,
        audit: &[(&str, &str)],
    ) {
        self.n += 1;
        let lines = self.serve.audit_lines(self.n);
        let line = lines.get(self.n - 1).cloned().unwrap_or_default();
        let r = harness::ensure(
            out.code == code && out.all().contains(says),
            &format!("want exit {code:?} and `{says}`"),
            out,
        )
        .and_then(|()| match audit.iter().find(|(f, v)| !has(&line, f, v)) {
            None => Ok(()),
            Some((f, v)) => Err(format!(
                "audit line {} lacks {f}={v}: {line}\nall:\n{}",
                self.n,
                lines.join("\n")
            )),
        });
        self.rep.check(name, r);
    }
}

#[test]
fn serve_refusals_are_logged() {
    if !super::have_ssh() {
        return;
    }
    let fx = fixtures::small();
    let work = Work::new("ssh-refuse");
    let (ro, wo, unknown) = (
        work.dir.join("ro"),
        work.dir.join("wo"),
        work.dir.join("unknown"),
    );
    let wo_root = work.dir.join("wo-root");
    std::fs::create_dir_all(&wo_root).expect("mkdir");
    let keys = key_line("-ro", &fx.root, &keygen(&ro)) + &key_line("-wo", &wo_root, &keygen(&wo));
    keygen(&unknown);
    let serve = Serve::start(&work, &keys, &[]);
    let mut c = Case {
        serve: &serve,
        rep: Report::new(),
        n: 0,
    };
    let client = &harness::clients().first().expect("a client").path;
    let rsync = |key: &std::path::Path, args: &[&str]| {
        let mut cmd = Command::new(client);
        cmd.arg("-e").arg(serve.ssh(key)).args(args);
        harness::run(cmd, super::SHORT)
    };

    let src = format!("{}/", fx.dir.display());
    let out = rsync(&ro, &["-a", &src, "x@127.0.0.1:dir/"]);
    c.check(
        "push with -ro key",
        &out,
        Some(1),
        "read-only server",
        &[
            ("outcome", "refused"),
            ("mode", "ro"),
            ("refused", "sending to read-only"),
        ],
    );
    let dst = work.path("dst");
    let out = rsync(
        &wo,
        &["-a", "x@127.0.0.1:c/", &format!("{}/", dst.display())],
    );
    c.check(
        "pull with -wo key",
        &out,
        Some(1),
        "write-only server",
        &[
            ("outcome", "refused"),
            ("mode", "wo"),
            ("refused", "reading from write-only"),
        ],
    );
    let out = serve.run_ssh(&unknown, &[], &["true"]);
    c.check(
        "unknown key",
        &out,
        Some(255),
        "Permission denied",
        &[("outcome", "refused"), ("refused", "unknown key SHA256:")],
    );
    let out = serve.run_ssh(
        &unknown,
        &[
            "-o",
            "PubkeyAuthentication=no",
            "-o",
            "PreferredAuthentications=password,keyboard-interactive",
        ],
        &["true"],
    );
    c.check(
        "password only",
        &out,
        Some(255),
        "Permission denied",
        &[("outcome", "refused"), ("refused", "not authenticated")],
    );
    let out = serve.run_ssh(&ro, &[], &["ls"]);
    c.check(
        "ssh host ls",
        &out,
        Some(1),
        "only runs rsync",
        &[
            ("outcome", "refused"),
            ("command", "ls"),
            ("refused", "this key only runs rsync"),
        ],
    );
    let out = serve.run_ssh(&ro, &["-tt"], &[]);
    c.check(
        "ssh -tt host",
        &out,
        Some(255),
        "",
        &[
            ("outcome", "refused"),
            ("refused", "pty refused; shell refused"),
        ],
    );
    let out = serve.run_ssh(&ro, &["-s"], &["sftp"]);
    c.check(
        "ssh -s sftp",
        &out,
        Some(255),
        "",
        &[
            ("outcome", "refused"),
            ("refused", "subsystem sftp refused"),
        ],
    );
    let port = super::free_port().to_string();
    let out = serve.run_ssh(
        &ro,
        &[
            "-N",
            "-o",
            "ExitOnForwardFailure=yes",
            "-R",
            &format!("{port}:127.0.0.1:9"),
        ],
        &[],
    );
    c.check(
        "ssh -N -R",
        &out,
        Some(255),
        "forwarding failed",
        &[
            ("outcome", "refused"),
            ("refused", "remote port forwarding"),
        ],
    );
    let out = local_forward(&serve, &ro);
    c.check(
        "ssh -N -L",
        &out,
        out.code,
        "closed at once: Some(true)",
        &[
            ("outcome", "refused"),
            ("refused", "port forwarding to 127.0.0.1:9 refused"),
        ],
    );
    c.rep.finish("serve_refusals_are_logged");
}

/// `ssh -N -L P:127.0.0.1:9`: a connection to P must be closed at once
/// (the server refuses the channel), and serve ends the session at its
/// handshake time-out since no command ever runs.
fn local_forward(serve: &Serve, key: &std::path::Path) -> Output {
    let port = super::free_port();
    let line = serve.ssh(key);
    let mut words = line.split_whitespace();
    let mut child = Command::new(words.next().unwrap_or("ssh"))
        .args(words)
        .args(["-N", "-L", &format!("{port}:127.0.0.1:9"), "x@127.0.0.1"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ssh -L");
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut got = None;
    while Instant::now() < deadline && got.is_none() {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let mut buf = [0u8; 16];
            got = Some(s.read(&mut buf).map(|n| n == 0).unwrap_or(true));
        } else {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    while Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let status = child.wait().ok();
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    Output {
        code: if got == Some(true) {
            status.and_then(|s| s.code())
        } else {
            Some(-1)
        },
        timed_out: false,
        stdout: String::new(),
        stderr: format!("{stderr}(forwarded connection closed at once: {got:?})"),
    }
}
