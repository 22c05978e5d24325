//! A real OpenSSH `sshd` for the cases that run through one (`pull::sshd`,
//! `push::sshd`, `ssh::authorize`), and the key helpers the embedded-server
//! suite shares with them.
//!
//! `sshd -D -e` listens on 127.0.0.1 at a free port with its own host key
//! and the test's `authorized_keys`. `StrictModes` is off because the files
//! live under /tmp; `ExposeAuthInfo` is on so that the forced command sees
//! `SSH_USER_AUTH` (the audit line's key fingerprint).

use crate::harness::{self, kind_under_test, Kind, Work};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SSHD: &str = "/usr/sbin/sshd";

/// The running sshd, killed when the test ends, however it ends.
pub struct Daemon {
    child: Child,
    log: PathBuf,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
}

impl Daemon {
    /// Everything sshd has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The log written since `start` bytes (see [`Daemon::log`]).
    pub fn log_since(&self, start: usize) -> String {
        self.log().get(start..).unwrap_or_default().to_string()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// True when sshd and ssh are installed; otherwise a loud skip.
pub fn have_sshd() -> bool {
    if Path::new(SSHD).exists() && Command::new("ssh").arg("-V").output().is_ok() {
        return true;
    }
    harness::skip("sshd/ssh not installed (.ci/run installs openssh-server and openssh-client)");
    false
}

/// A new passphrase-less ed25519 key pair at `path` and `path.pub`;
/// returns the public line.
pub fn keygen(path: &Path) -> String {
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "rrsync-test", "-f"])
        .arg(path)
        .stdin(Stdio::null())
        .status()
        .expect("run ssh-keygen");
    assert!(st.success(), "ssh-keygen {}", path.display());
    std::fs::read_to_string(path.with_extension("pub"))
        .expect("read pubkey")
        .trim()
        .to_string()
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// The `-e` command for a stock client: key `key`, no host-key prompts.
pub fn ssh_command(port: u16, key: &Path) -> String {
    format!(
        "ssh -p {port} -i {} -o IdentitiesOnly=yes -o StrictHostKeyChecking=no \
         -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR",
        key.display()
    )
}

/// The forced command of the server kind under test, with `mode` (`-ro`
/// or `-wo`) and `root`.
pub fn forced_command(mode: &str, root: &Path) -> String {
    let root = root.display();
    match kind_under_test() {
        Kind::Ours => format!("{} {mode} {root}", harness::bin().display()),
        Kind::Rrsync => format!("/usr/bin/rrsync {mode} {root}"),
        Kind::Stock => format!("cd {root} && exec /bin/sh -c \\\"$SSH_ORIGINAL_COMMAND\\\""),
    }
}

/// sshd with a fresh client key whose line is `command="…",restrict`
/// ([`forced_command`]); returns the daemon and the client's private key.
pub fn with_forced_key(work: &Work, mode: &str, root: &Path) -> (Daemon, PathBuf) {
    let client_key = work.dir.join("client_key");
    let pubkey = keygen(&client_key);
    let auth = work.dir.join("authorized_keys");
    let line = format!(
        "command=\"{}\",restrict {pubkey}\n",
        forced_command(mode, root)
    );
    std::fs::write(&auth, line).expect("write authorized_keys");
    (start(work, &auth), client_key)
}

/// sshd reading `auth` as its `AuthorizedKeysFile`, once it listens.
pub fn start(work: &Work, auth: &Path) -> Daemon {
    let host_key = work.dir.join("sshd_host_key");
    keygen(&host_key);
    let port = free_port();
    let config = work.dir.join("sshd_config");
    let text = format!(
        "ListenAddress 127.0.0.1\nPort {port}\nHostKey {}\nAuthorizedKeysFile {}\n\
         StrictModes no\nUsePAM no\nPidFile none\nPermitRootLogin prohibit-password\n\
         PasswordAuthentication no\nKbdInteractiveAuthentication no\n\
         PubkeyAuthentication yes\nExposeAuthInfo yes\nLogLevel VERBOSE\n",
        host_key.display(),
        auth.display()
    );
    std::fs::write(&config, text).expect("write sshd_config");
    std::fs::create_dir_all("/run/sshd").expect("mkdir /run/sshd");
    let log = work.dir.join("sshd.log");
    let child = Command::new(SSHD)
        .args(["-D", "-e", "-f"])
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("create sshd.log"))
        .spawn()
        .expect("spawn sshd");
    let daemon = Daemon { child, log, port };
    let deadline = Instant::now() + Duration::from_secs(15);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "sshd did not listen on {port}: {}",
            daemon.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    daemon
}
