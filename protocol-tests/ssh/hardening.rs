//! `serve` hardened (issue 9): keys lines that sshd would refuse or read
//! differently are skipped; an idle flood cannot lock a pull out
//! (sshd's `MaxStartups` and `PerSourceMaxStartups`, a login grace time);
//! SIGHUP reopens the logs and keeps serving; RSA keys authenticate; and
//! no client or key text can forge an operator's line.

use super::{key_line, keygen, Serve};
use crate::fixtures;
use crate::harness::{self, ensure, Output, Report, Work};
use crate::tree::{self, Cmp};
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddrV4, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn rsync(client: &Path, ssh: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new(client);
    cmd.arg("-e").arg(ssh).args(args);
    harness::run(cmd, Duration::from_secs(25))
}

/// An `Output` that only carries text for a failure message.
fn said(stderr: String) -> Output {
    Output {
        code: None,
        timed_out: false,
        stdout: String::new(),
        stderr,
    }
}

fn client() -> &'static Path {
    &harness::clients().first().expect("a client").path
}

/// `BIN FLAGS ROOT` as a `command=` value.
fn cmd(flags: &str, root: &Path) -> String {
    format!("{} {flags} {}", harness::bin().display(), root.display())
}

#[test]
fn serve_keys_lines_fail_closed() {
    if !super::have_ssh() {
        return;
    }
    let work = Work::new("ssh-keylines");
    let (ro, rw) = (work.dir.join("ro"), work.dir.join("rw"));
    std::fs::create_dir_all(&ro).expect("mkdir");
    std::fs::create_dir_all(&rw).expect("mkdir");
    let names = ["two-commands", "restrict-twice", "pty-no-pty", "first-line"];
    let keys: Vec<_> = names.iter().map(|n| work.dir.join(n)).collect();
    let good = work.dir.join("good");
    let pubs: Vec<String> = keys.iter().map(|k| keygen(k)).collect();
    let (r, w) = (cmd("-ro", &ro), cmd("", &rw));
    let text = format!(
        "command=\"{r}\",command=\"{w}\",restrict {}\n\
         restrict,restrict,command=\"{r}\" {}\n\
         pty,no-pty,command=\"{r}\" {}\n\
         from=\"10.9.9.9\",command=\"{r}\",restrict {k}\n\
         command=\"{w}\",restrict {k}\n{}",
        pubs[0],
        pubs[1],
        pubs[2],
        key_line("-ro", &ro, &keygen(&good)),
        k = pubs[3],
    );
    let serve = Serve::start(&work, &text, &[]);
    let mut rep = Report::new();
    for (name, key) in names.iter().zip(&keys) {
        let out = serve.run_ssh(key, &[], &["true"]);
        rep.check(
            name,
            ensure(out.code == Some(255), "the key was let in", &out),
        );
    }
    let out = serve.run_ssh(&good, &[], &["true"]);
    rep.check(
        "a good line still works",
        ensure(out.code == Some(0), "refused", &out),
    );
    let log = serve.log_text();
    let says = |n: usize, what: &str| {
        let want = format!("line {n}: {what}");
        ensure(
            log.contains(&want),
            &format!("no `{want}` in the log"),
            &out,
        )
    };
    rep.check(
        "warns line 1",
        says(1, "bad options (multiple \"command\" clauses)"),
    );
    rep.check("warns line 2", says(2, "ambiguous options"));
    rep.check("warns line 3", says(3, "ambiguous options"));
    rep.check("warns line 4", says(4, "from= is not supported"));
    rep.check("warns line 5", says(5, "the same key as line 4"));
    rep.check(
        "no key material in warnings",
        ensure(!log.contains("AAAAC3"), "a warning quotes a key", &out),
    );
    rep.check(
        "start-up count",
        ensure(log.contains("1 usable key(s)"), "wrong count", &out),
    );
    rep.finish("serve_keys_lines_fail_closed");
}

/// A TCP connection to `port` on 127.0.0.1 from `src`, another loopback
/// address (all of 127/8 is local).
fn connect_from(src: Ipv4Addr, port: u16) -> std::io::Result<TcpStream> {
    use rustix::net::{AddressFamily, SocketType};
    let fd = rustix::net::socket(AddressFamily::INET, SocketType::STREAM, None)?;
    rustix::net::bind(&fd, &SocketAddrV4::new(src, 0))?;
    rustix::net::connect(&fd, &SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))?;
    Ok(TcpStream::from(fd))
}

/// Whether the server took the connection: its SSH banner, rather than
/// a refusal line or EOF.
fn held(s: &mut TcpStream) -> bool {
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf = [0u8; 4];
    s.read_exact(&mut buf).is_ok() && &buf == b"SSH-"
}

/// Opens `n` idle connections from each source; returns them and how
/// many of each the server took.
fn flood(port: u16, sources: &[Ipv4Addr], n: usize) -> (Vec<TcpStream>, Vec<usize>) {
    let mut all = Vec::new();
    let mut taken = Vec::new();
    for src in sources {
        let mut k = 0;
        for _ in 0..n {
            if let Ok(mut s) = connect_from(*src, port) {
                k += usize::from(held(&mut s));
                all.push(s);
            }
        }
        taken.push(k);
    }
    (all, taken)
}

#[test]
fn serve_idle_flood_does_not_lock_out_a_pull() {
    if !super::have_ssh() {
        return;
    }
    let fx = fixtures::small();
    let work = Work::new("ssh-flood");
    let key = work.dir.join("key");
    // The defaults: max-startups 20:30:100, 8 per source; the flood
    // holds 16 places, below 20, so the pull is never dropped at random.
    let serve = Serve::start(&work, &key_line("-ro", &fx.root, &keygen(&key)), &[]);
    let sources = [Ipv4Addr::new(127, 0, 0, 1), Ipv4Addr::new(127, 0, 0, 2)];
    let (conns, taken) = flood(serve.port, &sources, 20);
    let mut rep = Report::new();
    let none = said(String::new());
    rep.check(
        "flood connected",
        ensure(
            conns.len() == 40,
            &format!("{} connections", conns.len()),
            &none,
        ),
    );
    rep.check(
        "per source",
        ensure(
            taken == [8, 8],
            &format!("taken per source: {taken:?}"),
            &none,
        ),
    );
    let started = Instant::now();
    let dst = work.path("dst");
    let ssh = format!("{} -o BindAddress=127.0.0.3", serve.ssh(&key));
    let out = rsync(
        client(),
        &ssh,
        &["-a", "x@127.0.0.1:", &format!("{}/", dst.display())],
    );
    rep.check(
        "pull during the flood",
        ensure(out.code == Some(0), "the pull was locked out", &out)
            .and_then(|()| tree::same_dirs("flood pull", &fx.root, &dst, Cmp::SOURCE)),
    );
    eprintln!("pull during the flood took {:?}", started.elapsed());
    let log = serve.log_text();
    rep.check(
        "drops are logged once",
        ensure(
            log.matches("dropped ").count() == 1 && log.contains("over the per-source limit"),
            "want one summary line of drops",
            &said(log.clone()),
        ),
    );
    drop(conns);
    rep.finish("serve_idle_flood_does_not_lock_out_a_pull");
}

#[test]
fn serve_max_startups_caps_unauthenticated() {
    if !super::have_ssh() {
        return;
    }
    let work = Work::new("ssh-startups");
    let key = work.dir.join("key");
    let root = work.dir.join("root");
    let args = [
        "--max-startups",
        "3:100:3",
        "--per-source-max-startups",
        "50",
    ];
    let serve = Serve::start(&work, &key_line("-ro", &root, &keygen(&key)), &args);
    let (_conns, taken) = flood(serve.port, &[Ipv4Addr::LOCALHOST], 8);
    let mut rep = Report::new();
    rep.check(
        "full",
        ensure(
            taken == [3],
            &format!("taken: {taken:?}"),
            &said(String::new()),
        ),
    );
    rep.finish("serve_max_startups_caps_unauthenticated");
}

#[test]
fn serve_login_grace_time_closes_idle_connections() {
    if !super::have_ssh() {
        return;
    }
    let work = Work::new("ssh-grace");
    let key = work.dir.join("key");
    let root = work.dir.join("root");
    // --handshake-timeout is 10 s (the helper); the grace time is shorter.
    let args = ["--login-grace-time", "2"];
    let serve = Serve::start(&work, &key_line("-ro", &root, &keygen(&key)), &args);
    let mut s = TcpStream::connect(("127.0.0.1", serve.port)).expect("connect");
    let mut rep = Report::new();
    let none = said(String::new());
    rep.check("banner", ensure(held(&mut s), "no banner", &none));
    let _ = s.set_read_timeout(Some(Duration::from_secs(7)));
    let mut rest = Vec::new();
    let closed = s.read_to_end(&mut rest).is_ok();
    rep.check(
        "closed before the handshake timeout",
        ensure(closed, "still open after 7 s", &none),
    );
    let line = serve.audit_lines(1).join("\n");
    rep.check(
        "audit says why",
        ensure(
            line.contains("not authenticated within the login grace time"),
            &line,
            &none,
        ),
    );
    rep.finish("serve_login_grace_time_closes_idle_connections");
}

/// `serve` writing its log to `--log FILE` rather than to stderr (as
/// [`Serve::start`] otherwise); waits until it listens.
fn start_logged(work: &Work, keys: &str) -> Serve {
    let ak = work.dir.join("authorized_keys");
    std::fs::write(&ak, keys).expect("write authorized_keys");
    let (audit, log) = (work.dir.join("audit.jsonl"), work.dir.join("serve.log"));
    let port = super::free_port();
    let child = Command::new(harness::bin())
        .arg("serve")
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .arg("--host-key")
        .arg(work.dir.join("host_key"))
        .arg("--authorized-keys")
        .arg(&ak)
        .arg("--audit")
        .arg(&audit)
        .arg("--log")
        .arg(&log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn rrsync-rs serve");
    let s = Serve {
        child,
        port,
        audit,
        log,
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    while !s.log_text().contains("listening on") {
        assert!(
            Instant::now() < deadline,
            "serve did not start: {}",
            s.log_text()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    s
}

#[test]
fn serve_sighup_reopens_logs_and_keeps_serving() {
    if !super::have_ssh() {
        return;
    }
    let work = Work::new("ssh-sighup");
    let key = work.dir.join("key");
    let root = work.dir.join("root");
    std::fs::create_dir_all(&root).expect("mkdir");
    let keys = key_line("-ro", &root, &keygen(&key));
    let mut serve = start_logged(&work, &keys);
    let mut rep = Report::new();
    let first = serve.run_ssh(&key, &[], &["true"]);
    rep.check("before", ensure(first.code == Some(0), "refused", &first));
    let _ = serve.audit_lines(1);
    // logrotate: move both files away, then SIGHUP.
    let (old_log, old_audit) = (work.dir.join("serve.log.1"), work.dir.join("audit.1"));
    std::fs::rename(&serve.log, &old_log).expect("rotate log");
    std::fs::rename(&serve.audit, &old_audit).expect("rotate audit");
    std::fs::write(
        work.dir.join("authorized_keys"),
        format!("{keys}bogus,{keys}"),
    )
    .expect("rewrite keys");
    let pid = rustix::process::Pid::from_child(serve.child());
    let _ = rustix::process::kill_process(pid, rustix::process::Signal::HUP);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !serve.log_text().contains("usable key") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = serve.run_ssh(&key, &[], &["true"]);
    // The server logs the session as it closes it, which may be after the
    // client has its exit status: wait for the line, as for the reload's.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !serve.log_text().contains("session ok") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = serve.log_text();
    let shown = said(format!(
        "{}\nnew log:\n{log}\nold log:\n{}",
        out.all(),
        super::read(&old_log)
    ));
    rep.check(
        "after",
        ensure(out.code == Some(0), "refused after SIGHUP", &shown),
    );
    rep.check(
        "alive",
        ensure(
            serve.wait_exit(Duration::from_millis(100)).is_none(),
            "serve exited on SIGHUP",
            &shown,
        ),
    );
    rep.check(
        "new log",
        ensure(
            log.contains("SIGHUP")
                && log.contains("line 2: bad options")
                && log.contains("session ok"),
            "the new log lacks the reload and the session",
            &shown,
        ),
    );
    let audit = serve.audit_lines(1);
    rep.check(
        "new audit log",
        ensure(
            audit.len() == 1,
            &format!("{} new audit lines", audit.len()),
            &shown,
        ),
    );
    rep.finish("serve_sighup_reopens_logs_and_keeps_serving");
}

#[test]
fn serve_rsa_key_pulls() {
    if !super::have_ssh() {
        return;
    }
    let fx = fixtures::small();
    let work = Work::new("ssh-rsa");
    let key = work.dir.join("rsa");
    let st = Command::new("ssh-keygen")
        .args([
            "-q", "-t", "rsa", "-b", "3072", "-N", "", "-C", "rsa-test", "-f",
        ])
        .arg(&key)
        .stdin(Stdio::null())
        .status()
        .expect("run ssh-keygen");
    assert!(st.success(), "ssh-keygen -t rsa");
    let pubkey = std::fs::read_to_string(key.with_extension("pub")).expect("read pub");
    let serve = Serve::start(&work, &key_line("-ro", &fx.root, pubkey.trim()), &[]);
    let mut rep = Report::new();
    let dst = work.path("dst");
    let out = rsync(
        client(),
        &serve.ssh(&key),
        &["-a", "x@127.0.0.1:", &format!("{}/", dst.display())],
    );
    rep.check(
        "rsa pull",
        ensure(out.code == Some(0), "the RSA key was refused", &out)
            .and_then(|()| tree::same_dirs("rsa pull", &fx.root, &dst, Cmp::SOURCE)),
    );
    let line = serve.audit_lines(1).join("\n");
    rep.check(
        "audit names the key",
        ensure(
            line.contains("rsa-test") && line.contains("\"outcome\":\"ok\""),
            &line,
            &out,
        ),
    );
    rep.finish("serve_rsa_key_pulls");
}

/// Characters that would forge or disguise an operator's line.
fn raw_unsafe(s: &str) -> Option<char> {
    s.chars().find(|c| {
        (c.is_control() && *c != '\n') || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202e}')
    })
}

#[test]
fn serve_log_lines_cannot_be_forged() {
    if !super::have_ssh() {
        return;
    }
    let work = Work::new("ssh-forge");
    let key = work.dir.join("key");
    let root = work.dir.join("root");
    std::fs::create_dir_all(&root).expect("mkdir");
    let pubkey = keygen(&key);
    let bare = pubkey.rsplit_once(' ').map_or(pubkey.as_str(), |p| p.0);
    // A key file cannot hold a line break, and a carriage return skips
    // the line; the rest of the controls may be in a comment.
    let comment = "me\x1b[2J\tFORGED\u{2028}FORGED\u{85}\u{202e}x";
    let line = key_line("-ro", &root, &format!("{bare} {comment}"));
    let serve = Serve::start(&work, &line, &[]);
    let mut rep = Report::new();
    // No spaces: a value without one used to be printed as it is.
    let evil = "true\nFORGED:session\tok\x1b[31m\u{9b}2J\u{2028}FORGED";
    let out = serve.run_ssh(&key, &[], &[evil]);
    let ok = serve.run_ssh(&key, &[], &["true"]);
    let audit = serve.audit_lines(2);
    let log = serve.log_text();
    let shown = said(format!(
        "{}\n{log}\n--- audit:\n{}",
        out.all(),
        audit.join("\n")
    ));
    rep.check("sessions ran", ensure(ok.code == Some(0), "refused", &ok));
    for (what, text) in [("log", log.as_str()), ("audit", &audit.join("\n"))] {
        let forged = text.lines().filter(|l| l.starts_with("FORGED")).count();
        rep.check(
            &format!("{what}: no forged line"),
            ensure(forged == 0, &format!("{forged} forged line(s)"), &shown),
        );
        let bad = raw_unsafe(text);
        rep.check(
            &format!("{what}: no raw control"),
            ensure(bad.is_none(), &format!("raw {bad:?}"), &shown),
        );
    }
    rep.check(
        "one audit line each",
        ensure(
            audit.len() == 2,
            &format!("{} audit lines", audit.len()),
            &shown,
        ),
    );
    rep.check(
        "escaped, not dropped",
        ensure(
            log.contains("true\\nFORGED") && log.contains("me\\x1b[2J\\tFORGED"),
            "",
            &shown,
        ),
    );
    rep.finish("serve_log_lines_cannot_be_forged");
}
