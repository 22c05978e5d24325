//! One pull through a real OpenSSH `sshd` (issue 2, case 6): the test
//! starts `sshd -D -e` on 127.0.0.1 with a random port, a fresh host key and
//! an `authorized_keys` line `command="rrsync-rs -ro ROOT",restrict ...`,
//! then each client pulls `root@127.0.0.1:dir/` with plain `ssh` and the
//! result must equal the stock reference (same client through the shim).

use super::{pull_with, Spec};
use crate::fixtures;
use crate::harness::{self, ensure, kind_under_test, Cell, Kind, Report, Server, Work};
use crate::tree::{self, Cmp};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
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

fn keygen(path: &Path) {
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "rrsync-test", "-f"])
        .arg(path)
        .stdin(Stdio::null())
        .status()
        .expect("run ssh-keygen");
    assert!(st.success(), "ssh-keygen {}", path.display());
}

/// The forced command for the server under test.
fn forced_command(root: &Path) -> String {
    let root = root.display();
    match kind_under_test() {
        Kind::Ours => format!("{} -ro {root}", harness::bin().display()),
        Kind::Rrsync => format!("/usr/bin/rrsync -ro {root}"),
        Kind::Stock => format!("cd {root} && exec /bin/sh -c \\\"$SSH_ORIGINAL_COMMAND\\\""),
    }
}

fn start_sshd(work: &Work, root: &Path) -> (Daemon, u16, std::path::PathBuf) {
    let host_key = work.dir.join("host_key");
    let client_key = work.dir.join("client_key");
    keygen(&host_key);
    keygen(&client_key);
    let pubkey =
        std::fs::read_to_string(client_key.with_extension("pub")).expect("read client pubkey");
    let auth = work.dir.join("authorized_keys");
    std::fs::write(
        &auth,
        format!(
            "command=\"{}\",restrict {}",
            forced_command(root),
            pubkey.trim()
        ),
    )
    .expect("write authorized_keys");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let config = work.dir.join("sshd_config");
    std::fs::write(
        &config,
        format!(
            "ListenAddress 127.0.0.1\nPort {port}\nHostKey {}\nAuthorizedKeysFile {}\nStrictModes no\nUsePAM no\n\
             PidFile none\nPermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             PubkeyAuthentication yes\nLogLevel VERBOSE\n",
            host_key.display(),
            auth.display()
        ),
    )
    .expect("write sshd_config");
    std::fs::create_dir_all("/run/sshd").expect("mkdir /run/sshd");
    let log = std::fs::File::create(work.dir.join("sshd.log")).expect("create sshd.log");
    let child = Command::new(SSHD)
        .arg("-D")
        .arg("-e")
        .arg("-f")
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
fn pull_through_real_sshd() {
    if !Path::new(SSHD).exists() || Command::new("ssh").arg("-V").output().is_err() {
        return harness::skip(
            "sshd/ssh not installed (.ci/run installs openssh-server and openssh-client)",
        );
    }
    let fx = fixtures::small();
    let work = Work::new("sshd");
    let (_daemon, port, key) = start_sshd(&work, &fx.root);
    let ssh = format!(
        "ssh -p {port} -i {} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR",
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
            let dst = work.path(&format!("dst-{}", cell.label()));
            let spec = Spec::new(&["-a"], &["x:dir/"]);
            let ref_out = pull_with(&work, &cell, &Server::stock(&fx.root), &spec, &reference);
            let r =
                ensure(ref_out.code == Some(0), "STOCK BASELINE failed", &ref_out).and_then(|()| {
                    let log_start = sshd_log(&work).len();
                    let args = harness::args(&[
                        "-a",
                        "root@127.0.0.1:dir/",
                        &format!("{}/", dst.display()),
                    ]);
                    let out = harness::rsync(&cell, &ssh, &args);
                    let log = sshd_log(&work)
                        .get(log_start..)
                        .unwrap_or_default()
                        .to_string();
                    ensure(
                        out.code == Some(0),
                        &format!("pull through sshd failed; sshd log:\n{log}"),
                        &out,
                    )?;
                    tree::same_dirs("via sshd vs stock", &reference, &dst, Cmp::ALL)
                });
            rep.check(&cell.label(), r);
        }
    }
    rep.finish("pull_through_real_sshd");
}
