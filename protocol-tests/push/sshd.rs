//! One push through a real OpenSSH `sshd` (issue 3, "Done when"): sshd on
//! 127.0.0.1 (see [`crate::openssh`]) with the key line
//! `command="rrsync-rs -wo ROOT",restrict ...`; each client, at its native
//! protocol and at 29, pushes the small tree to `root@127.0.0.1:dst/`, and
//! the root must equal a stock push of the same tree (through the shim).

use super::{prepare, push_with, Spec};
use crate::fixtures;
use crate::harness::{self, ensure, Cell, Report, Server, Work};
use crate::openssh;
use crate::tree::{self, Cmp};

#[test]
fn push_through_real_sshd() {
    if !openssh::have_sshd() {
        return;
    }
    let fx = fixtures::small();
    let work = Work::new("push_sshd");
    let root = work.path("root");
    prepare(&root, None);
    let (daemon, key) = openssh::with_forced_key(&work, "-wo", &root);
    let ssh = openssh::ssh_command(daemon.port, &key);
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
                    let log_start = daemon.log().len();
                    let args = harness::args(&[
                        "-a",
                        &format!("{}/", fx.dir.display()),
                        "root@127.0.0.1:dst/",
                    ]);
                    let out = harness::rsync(&cell, &ssh, &args);
                    let log = daemon.log_since(log_start);
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
