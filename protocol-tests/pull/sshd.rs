//! One pull through a real OpenSSH `sshd` (issue 2, case 6): sshd on
//! 127.0.0.1 (see [`crate::openssh`]) with the key line
//! `command="rrsync-rs -ro ROOT",restrict ...`; each client, at its native
//! protocol and at 29, pulls `root@127.0.0.1:dir/` with plain `ssh`, and
//! the result must equal the stock reference (same client through the shim).

use super::{pull_with, Spec};
use crate::fixtures;
use crate::harness::{self, ensure, Cell, Report, Server, Work};
use crate::openssh;
use crate::tree::{self, Cmp};

#[test]
fn pull_through_real_sshd() {
    if !openssh::have_sshd() {
        return;
    }
    let fx = fixtures::small();
    let work = Work::new("sshd");
    let (daemon, key) = openssh::with_forced_key(&work, "-ro", &fx.root);
    let ssh = openssh::ssh_command(daemon.port, &key);
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
                    let log_start = daemon.log().len();
                    let args = harness::args(&[
                        "-a",
                        "root@127.0.0.1:dir/",
                        &format!("{}/", dst.display()),
                    ]);
                    let out = harness::rsync(&cell, &ssh, &args);
                    let log = daemon.log_since(log_start);
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
