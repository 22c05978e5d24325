//! SIGTERM drains: a pull running when `serve` gets SIGTERM completes,
//! new connections are no longer accepted, and `serve` then exits 0.

use super::{key_line, keygen, Serve};
use crate::harness::{self, ensure, Report, Work};
use crate::tree::{self, Cmp};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn serve_sigterm_drains_running_transfers() {
    if !super::have_ssh() {
        return;
    }
    let work = Work::new("ssh-drain");
    let root = work.dir.join("root");
    std::fs::create_dir_all(root.join("dir")).expect("mkdir");
    let data: Vec<u8> = (0..3 << 20)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(root.join("dir/big"), data).expect("write big");
    let key = work.dir.join("key");
    let mut serve = Serve::start(&work, &key_line("-ro", &root, &keygen(&key)), &[]);
    let client = &harness::clients().first().expect("a client").path;
    let dst = work.path("dst");
    // --bwlimit keeps the pull running for a few seconds.
    let mut child = Command::new(client)
        .arg("-e")
        .arg(serve.ssh(&key))
        .args([
            "-a",
            "--bwlimit=1000",
            "x@127.0.0.1:dir/",
            &format!("{}/", dst.display()),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rsync");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !serve.log_text().contains("usable key") || !dst.exists() {
        if Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    let pid = rustix::process::Pid::from_child(serve.child());
    let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
    std::thread::sleep(Duration::from_millis(300));
    let mut rep = Report::new();
    let refused = TcpStream::connect(("127.0.0.1", serve.port)).is_err();
    let mut status = None;
    while Instant::now() < deadline + Duration::from_secs(40) {
        if let Ok(Some(s)) = child.try_wait() {
            status = Some(s);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    if status.is_none() {
        let _ = child.kill();
    }
    // Reaps the killed client; after `try_wait` it returns the kept status.
    let _ = child.wait();
    let code = serve.wait_exit(Duration::from_secs(20));
    let out = harness::Output {
        code: status.and_then(|s| s.code()),
        timed_out: status.is_none(),
        stdout: String::new(),
        stderr: serve.log_text(),
    };
    rep.check(
        "pull completes",
        ensure(
            out.code == Some(0),
            "the running pull did not complete",
            &out,
        )
        .and_then(|()| tree::same_dirs("drained pull", &root.join("dir"), &dst, Cmp::SOURCE)),
    );
    rep.check(
        "no new connections",
        ensure(
            refused,
            "serve still accepted a connection after SIGTERM",
            &out,
        ),
    );
    rep.check(
        "serve exits 0",
        ensure(code == Some(0), &format!("serve exit {code:?}"), &out),
    );
    rep.finish("serve_sigterm_drains_running_transfers");
}
