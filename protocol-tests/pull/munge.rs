//! `-munge` round trip (issue 9): a push through a `-munge` server stores
//! each symlink as `/rsyncd-munged/TARGET`; a pull through the same server
//! must return `TARGET`, as rsync's sender un-munges in `readlink_stat`
//! (`flist.c`). The pull is repeated through upstream rrsync `-munge`
//! (which runs stock `rsync --server --sender --munge-links`) over the
//! same root, and both the received trees and `--list-only` output must
//! be identical.

use super::{each_cell, first_line_diff};
use crate::harness::{self, kind_under_test, Cell, Kind, Output, Server, Work};
use crate::tree::{self, Cmp};
use std::path::Path;

/// Link name → target, as the client has them.
const LINKS: &[(&str, &str)] = &[
    ("rel", "f"),
    ("up", "../../outside/x"),
    ("abs", "/etc/passwd"),
    ("pre", "/rsyncd-munged/already"),
    ("bare", "/rsyncd-munged/"),
    ("sub/deep", "../rel"),
];

fn source(work: &Work) -> std::path::PathBuf {
    let src = work.dir.join("src");
    std::fs::create_dir_all(src.join("sub")).expect("mkdir src");
    std::fs::write(src.join("f"), b"file").expect("write f");
    for (name, target) in LINKS {
        std::os::unix::fs::symlink(target, src.join(name)).expect("symlink");
    }
    // Old times throughout, so that no client skips setting a time that
    // happens to fall in the same second as the entry's creation.
    let mut names: Vec<String> = LINKS.iter().map(|(n, _)| n.to_string()).collect();
    names.extend(["f", "sub", "."].map(String::from));
    let st = std::process::Command::new("touch")
        .args(["-h", "-d", "@1500000000"])
        .args(names)
        .current_dir(&src)
        .status()
        .expect("run touch");
    assert!(st.success(), "touch -h");
    src
}

fn run(work: &Work, cell: &Cell, server: &Server, opts: &[&str], args: &[String]) -> Output {
    let mut a = harness::args(opts);
    a.extend(args.iter().cloned());
    harness::rsync(cell, &server.rsh(work), &a)
}

fn pull(work: &Work, cell: &Cell, server: &Server, dst: &Path) -> Result<Output, String> {
    let out = run(
        work,
        cell,
        server,
        &["-a"],
        &["x:d/".into(), format!("{}/", dst.display())],
    );
    harness::ensure(out.code == Some(0), "pull failed", &out)?;
    Ok(out)
}

fn targets_are(dir: &Path, munged: bool, out: &Output) -> Result<(), String> {
    for (name, target) in LINKS {
        let want = if munged {
            format!("/rsyncd-munged/{target}")
        } else {
            target.to_string()
        };
        let got = std::fs::read_link(dir.join(name)).map_err(|e| format!("{name}: {e}"))?;
        harness::ensure(
            got == Path::new(&want),
            &format!("{name} -> {} (want {want})", got.display()),
            out,
        )?;
    }
    Ok(())
}

#[test]
fn munge_pull_returns_the_pushed_targets() {
    if kind_under_test() == Kind::Stock {
        return harness::not_applicable("plain stock rsync --server does not munge");
    }
    let base = Work::new("munge_src");
    let src = source(&base);
    each_cell("munge_round_trip", |work, cell| {
        let root = work.path("root");
        std::fs::create_dir_all(&root).expect("mkdir root");
        let ours = Server::tested(&["-munge"], &root);
        let srcs = [format!("{}/", src.display()), "x:d/".into()];
        let out = run(work, cell, &ours, &["-a"], &srcs);
        harness::ensure(out.code == Some(0), "push failed", &out)?;
        targets_are(&root.join("d"), true, &out)?;

        let back = work.path("back");
        let out = pull(work, cell, &ours, &back)?;
        targets_are(&back, false, &out)?;
        tree::same_dirs("pulled vs pushed", &src, &back, Cmp::SOURCE)?;

        let reference = work.path("ref");
        let rr = Server::new(Kind::Rrsync, &["-munge"], &root);
        let stock = pull(work, cell, &rr, &reference)?;
        tree::same_dirs("ours vs rrsync -munge", &reference, &back, Cmp::ALL)?;

        let list = |s: &Server| run(work, cell, s, &["-a", "--list-only"], &["x:d/".into()]);
        let (o, r) = (list(&ours), list(&rr));
        harness::ensure(r.code == Some(0), "rrsync --list-only failed", &r)?;
        harness::ensure(o.code == Some(0), "--list-only failed", &o)?;
        if o.stdout != r.stdout {
            return Err(format!(
                "--list-only differs from rrsync -munge\n{}\n      {}",
                first_line_diff(&r.stdout, &o.stdout),
                stock.describe()
            ));
        }
        Ok(())
    });
}
