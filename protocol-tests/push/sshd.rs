//! One push through a real OpenSSH `sshd` (issue 3, "Done when"): `sshd -D
//! -e` on 127.0.0.1 (random port, fresh host key) with the key line
//! `command="rrsync-rs -wo ROOT",restrict ...`; each client at its native
//! protocol and at 29 pushes the small tree to `root@127.0.0.1:dst/`, and
//! the root must equal a stock push of the same tree (through the shim).
//! The daemon setup is a minimal copy of `pull::sshd` (private there).

use super::{prepare, push_with, Spec};
use crate::fixtures;
use crate::harness::{self, ensure, kind_under_test, Cell, Kind, Report, Server, Work};
use crate::tree::{self, Cmp};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SSHD: &str = "/usr/sbin/sshd";

/// Kills sshd when the test ends, however it ends.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn keygen(path: &Path) -> String {
    let st = Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "rrsync-push-test",
            "-f",
        ])
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

fn forced_command(root: &Path) -> String {
    let root = root.display();
    match kind_under_test() {
        Kind::Ours => format!("{} -wo {root}", harness::bin().display()),
        Kind::Rrsync => format!("/usr/bin/rrsync -wo {root}"),
        Kind::Stock => format!("cd {root} && exec /bin/sh -c \\\"$SSH_ORIGINAL_COMMAND\\\""),
    }
}

/// sshd with one forced-command key; returns it, its port and the key.
fn start_sshd(work: &Work, root: &Path) -> (Daemon, u16, PathBuf) {
    let host_key = work.dir.join("host_key");
    let client_key = work.dir.join("client_key");
    keygen(&host_key);
    let pubkey = keygen(&client_key);
    let auth = work.dir.join("authorized_keys");
    let line = format!("command=\"{}\",restrict {pubkey}\n", forced_command(root));
    std::fs::write(&auth, line).expect("write authorized_keys");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let config = work.dir.join("sshd_config");
    let text = format!(
        "ListenAddress 127.0.0.1\nPort {port}\nHostKey {}\nAuthorizedKeysFile {}\nStrictModes no\n\
         UsePAM no\nPidFile none\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n\
         KbdInteractiveAuthentication no\nPubkeyAuthentication yes\nLogLevel VERBOSE\n",
        host_key.display(),
        auth.display()
    );
    std::fs::write(&config, text).expect("write sshd_config");
    std::fs::create_dir_all("/run/sshd").expect("mkdir /run/sshd");
    let log = std::fs::File::create(work.dir.join("sshd.log")).expect("create sshd.log");
    let child = Command::new(SSHD)
        .args(["-D", "-e", "-f"])
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn sshd");
    let daemon = Daemon(child);
    let deadline = Instant::now() + Duration::from_secs(15);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "sshd did not listen on {port}: {}",
            sshd_log(work)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (daemon, port, client_key)
}

fn sshd_log(work: &Work) -> String {
    std::fs::read_to_string(work.dir.join("sshd.log")).unwrap_or_default()
}

#[test]
fn push_through_real_sshd() {
    if !Path::new(SSHD).exists() || Command::new("ssh").arg("-V").output().is_err() {
        return harness::skip(
            "sshd/ssh not installed (.ci/run installs openssh-server and openssh-client)",
        );
    }
    let fx = fixtures::small();
    let work = Work::new("push_sshd");
    let root = work.path("root");
    prepare(&root, None);
    let (_daemon, port, key) = start_sshd(&work, &root);
    let ssh = format!(
        "ssh -p {port} -i {} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
         -o BatchMode=yes -o LogLevel=ERROR",
        key.display()
    );
    let mut rep = Report::new();
    for client in harness::clients() {
        for proto in [None, Some(29)] {
            let cell = Cell {
                client: client.clone(),
                proto,
            };
            let reference = work.path(&format!("ref-{}", cell.label()));
            let spec = Spec::new(&["-a"], &fx.dir);
            let ref_out = push_with(&work, &cell, &Server::stock(&reference), &spec, &[]);
            let r =
                ensure(ref_out.code == Some(0), "STOCK BASELINE failed", &ref_out).and_then(|()| {
                    let _ = std::fs::remove_dir_all(root.join("dst"));
                    let log_start = sshd_log(&work).len();
                    let args = harness::args(&[
                        "-a",
                        &format!("{}/", fx.dir.display()),
                        "root@127.0.0.1:dst/",
                    ]);
                    let out = harness::rsync(&cell, &ssh, &args);
                    let log = sshd_log(&work)
                        .get(log_start..)
                        .unwrap_or_default()
                        .to_string();
                    ensure(
                        out.code == Some(0),
                        &format!("push through sshd failed; sshd log:\n{log}"),
                        &out,
                    )?;
                    tree::same_dirs(
                        "via sshd vs stock",
                        &reference.join("dst"),
                        &root.join("dst"),
                        Cmp::ALL,
                    )
                });
            rep.check(&cell.label(), r);
        }
    }
    rep.finish("push_through_real_sshd");
}
