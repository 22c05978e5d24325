//! The embedded SSH server (`rrsync-rs serve`, issue 5) against the real
//! OpenSSH client and stock rsync: transfers with delta in both
//! directions, refusals, concurrency, and `authorize` lines accepted by a
//! real sshd. Every case also checks the audit log line it produces.
//!
//! Each test starts its own `serve` on 127.0.0.1 with a free port, fresh
//! client keys (`ssh-keygen -t ed25519 -N ''`) and a short handshake
//! time-out, and skips loudly when `ssh`/`ssh-keygen` are missing.

mod authorize;
mod authorize_injection;
mod hardening;
mod logging;
mod privsep;
mod refuse;
mod signals;
mod transfer;

use crate::harness::{self, Output, Work};
pub use crate::openssh::{free_port, keygen};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Per-command bound for ssh runs that must be refused quickly.
pub const SHORT: Duration = Duration::from_secs(30);

/// False (after a loud skip) when the OpenSSH client tools are missing.
pub fn have_ssh() -> bool {
    let ok = |p: &str| {
        Command::new(p)
            .arg("-V")
            .stdin(Stdio::null())
            .output()
            .is_ok()
    };
    if ok("ssh") && Path::new("/usr/bin/ssh-keygen").exists() {
        return true;
    }
    harness::skip("ssh/ssh-keygen not installed (.ci/run installs openssh-client)");
    false
}

/// A running `rrsync-rs serve`, killed on drop.
pub struct Serve {
    child: Child,
    pub port: u16,
    pub audit: PathBuf,
    pub log: PathBuf,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    /// Starts `serve` with `authorized_keys` text and extra arguments.
    pub fn start(work: &Work, authorized_keys: &str, extra: &[&str]) -> Serve {
        let dir = work.dir.clone();
        let ak = dir.join("authorized_keys");
        std::fs::write(&ak, authorized_keys).expect("write authorized_keys");
        let audit = dir.join("audit.jsonl");
        let log = dir.join("serve.log");
        let port = free_port();
        let child = Command::new(harness::bin())
            .arg("serve")
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .arg("--host-key")
            .arg(dir.join("host_key"))
            .arg("--authorized-keys")
            .arg(&ak)
            .arg("--audit")
            .arg(&audit)
            .args(["--handshake-timeout", "10"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("create serve.log"))
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

    /// The server's stderr so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The `ssh` command line for key `key` (without host).
    pub fn ssh(&self, key: &Path) -> String {
        format!(
            "ssh -p {} -i {} -o IdentitiesOnly=yes -o StrictHostKeyChecking=no \
             -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR",
            self.port,
            key.display()
        )
    }

    /// Runs `ssh` with key `key`, extra options and a remote command.
    pub fn run_ssh(&self, key: &Path, opts: &[&str], remote: &[&str]) -> Output {
        let line = self.ssh(key);
        let mut words = line.split_whitespace();
        let mut cmd = Command::new(words.next().unwrap_or("ssh"));
        cmd.args(words).args(opts).arg("x@127.0.0.1").args(remote);
        harness::run(cmd, SHORT)
    }

    /// Audit lines, waiting up to 10 s until there are at least `n`.
    pub fn audit_lines(&self, n: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = std::fs::read_to_string(&self.audit).unwrap_or_default();
            let lines: Vec<String> = text.lines().map(str::to_string).collect();
            if lines.len() >= n || Instant::now() > deadline {
                return lines;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The server process.
    pub fn child(&self) -> &Child {
        &self.child
    }

    /// Waits (bounded) for the server to exit; its exit code.
    pub fn wait_exit(&mut self, within: Duration) -> Option<i32> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(st)) = self.child.try_wait() {
                return st.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

/// `"field":"value"` is in the JSON line.
pub fn has(line: &str, field: &str, value: &str) -> bool {
    line.contains(&format!("\"{field}\":\"{value}"))
}

/// Reads a whole file, for messages.
pub fn read(p: &Path) -> String {
    let mut s = String::new();
    if let Ok(mut f) = std::fs::File::open(p) {
        let _ = f.read_to_string(&mut s);
    }
    s
}

/// `command="BIN FLAGS ROOT",restrict KEY` for serve's authorized_keys.
pub fn key_line(flags: &str, root: &Path, pubkey: &str) -> String {
    format!(
        "command=\"{} {flags} {}\",restrict {pubkey}\n",
        harness::bin().display(),
        root.display()
    )
}
