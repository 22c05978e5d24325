//! `--remove-source-files` on a pull from a read-write root (issue 11):
//! the server removes each file the client confirms, keeps directories,
//! and keeps a file that changed after it was listed. Stock `rsync
//! --server` runs the same pull from an identical root of its own; the
//! received trees and what is left of the two roots must be the same.
//! Under `-ro` and `-no-del` the option is refused and nothing goes.

use super::{each_cell, first_line_diff, is_heavy, pull_with, Spec};
use crate::harness::{rsync, Cell, Server, Work};
use crate::push::util::{temp_size, wait_for, Bg};
use crate::tree::{self, Cmp};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

const T: u64 = 1_600_000_000;

fn write(path: &Path, data: &[u8]) {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).expect("mkdir");
    }
    std::fs::write(path, data).expect("write");
    let f = std::fs::File::open(path).expect("open");
    f.set_modified(UNIX_EPOCH + Duration::from_secs(T))
        .expect("mtime");
}

/// A root whose `src/` has files, a symlink, an empty directory and a
/// file the destination already has.
fn root(work: &Work, tag: &str) -> PathBuf {
    let root = work.path(tag);
    let _ = std::fs::remove_dir_all(&root);
    let src = root.join("src");
    write(&src.join("a.txt"), b"alpha\n");
    write(&src.join("sub/b.txt"), b"beta\n");
    write(&src.join("sub/deep/c.txt"), b"gamma\n");
    write(&src.join("same.txt"), b"already there\n");
    std::fs::create_dir_all(src.join("empty")).expect("mkdir");
    std::os::unix::fs::symlink("a.txt", src.join("link")).expect("symlink");
    root
}

fn prep(dst: &Path) {
    write(&dst.join("same.txt"), b"already there\n");
}

/// What is left of both roots must match (directory times moved with the
/// removals, so they are not compared).
const LEFT: Cmp = Cmp {
    dir_mtime: false,
    root_mtime: false,
    ..Cmp::ALL
};

/// Two identical roots (copies of one, times and all).
fn two_roots(work: &Work) -> (PathBuf, PathBuf) {
    let tmpl = root(work, "root-tmpl");
    let (a, b) = (work.path("root-ref"), work.path("root-ours"));
    for r in [&a, &b] {
        let _ = std::fs::remove_dir_all(r);
        let st = std::process::Command::new("cp")
            .arg("-a")
            .arg(&tmpl)
            .arg(r)
            .status()
            .expect("cp -a");
        assert!(st.success(), "copy root");
    }
    (a, b)
}

fn pair(work: &Work, cell: &Cell, opts: &[&str]) -> Result<(), String> {
    let (rref, rours) = two_roots(work);
    let mut spec = Spec::new(opts, &["x:src/"]);
    spec.flags = &[];
    spec.prep = Some(&prep);
    let (dref, dours) = (work.path("dst-ref"), work.path("dst-ours"));
    for d in [&dref, &dours] {
        let _ = std::fs::remove_dir_all(d);
    }
    let ref_out = pull_with(work, cell, &Server::stock(&rref), &spec, &dref);
    let our_out = pull_with(work, cell, &Server::tested(&[], &rours), &spec, &dours);
    if ref_out.code != Some(0) {
        return Err(format!(
            "STOCK BASELINE failed\n      {}",
            ref_out.describe()
        ));
    }
    // The same removal lines, in any order (they interleave with the names
    // as the confirmations happen to arrive; the other -vv lines differ
    // for reasons of their own, such as incremental recursion).
    let lines = |t: &str| {
        let mut v: Vec<String> = t
            .lines()
            .filter(|l| l.starts_with("sender "))
            .map(str::to_string)
            .collect();
        v.sort();
        v.join("\n")
    };
    if our_out.code != ref_out.code || lines(&our_out.stdout) != lines(&ref_out.stdout) {
        return Err(format!(
            "{opts:?}: exit {:?} vs stock {:?}\n{}\n      {}",
            our_out.code,
            ref_out.code,
            first_line_diff(&ref_out.stdout, &our_out.stdout),
            our_out.describe()
        ));
    }
    // The client gives directories and symlinks their times before their
    // contents arrive, with stock as with us: not comparable between runs.
    let received = Cmp {
        link_mtime: false,
        ..LEFT
    };
    tree::same_dirs("received vs stock", &dref, &dours, received)?;
    tree::same_dirs("root left vs stock", &rref, &rours, LEFT)?;
    if rours.join("src/a.txt").exists() || !rours.join("src/empty").is_dir() {
        return Err("a.txt was not removed, or a directory was".into());
    }
    Ok(())
}

#[test]
fn remove_source_files_pull_matches_stock() {
    each_cell("pull_remove_source", |work, cell| {
        pair(work, cell, &["-a", "--remove-source-files"])?;
        pair(work, cell, &["-avv", "--remove-source-files"])
    });
}

#[test]
fn remove_source_files_is_refused_under_ro_and_no_del() {
    each_cell("pull_remove_source_refused", |work, cell| {
        for flags in [&["-ro"][..], &["-no-del"][..]] {
            let root = root(work, "root");
            let before = tree::snapshot(&root).map_err(|e| e.to_string())?;
            let dst = work.path("dst");
            let args = crate::harness::args(&["-a", "--remove-source-files", "x:src/"]);
            let mut a = args.clone();
            a.push(format!("{}/", dst.display()));
            let out = rsync(cell, &Server::tested(flags, &root).rsh(work), &a);
            let want = "option --remove-source-files has been disabled on this server.";
            if out.code == Some(0) || !out.stderr.contains(want) {
                return Err(format!("{flags:?}: not refused\n      {}", out.describe()));
            }
            let after = tree::snapshot(&root).map_err(|e| e.to_string())?;
            tree::same(&format!("{flags:?} root"), &before, &after, Cmp::ALL)?;
        }
        Ok(())
    });
}

/// A file touched while it is being sent is kept, with rsync's error.
fn changed_during(work: &Work, cell: &Cell, server: &Server, tag: &str) -> Result<(), String> {
    let big = server.root.join("src/big.bin");
    let data: Vec<u8> = (0..(32u32 << 20)).map(|i| (i % 251) as u8).collect();
    write(&big, &data);
    let dst = work.path(tag);
    let _ = std::fs::remove_dir_all(&dst);
    std::fs::create_dir_all(&dst).expect("mkdir dst");
    let args = crate::harness::args(&[
        "-a",
        "--remove-source-files",
        "x:src/",
        &format!("{}/", dst.display()),
    ]);
    // The client is stopped while the file is on its way, and the file
    // is touched meanwhile.
    let bg = Bg::start(work, cell, &server.rsh(work), &args, tag);
    let arrived = wait_for(Duration::from_secs(30), || temp_size(&dst, "big.bin") > 0);
    bg.pause(false);
    if !arrived {
        bg.pause(true);
        return Err(format!("{tag}: no temporary file appeared"));
    }
    let f = std::fs::File::options()
        .write(true)
        .open(&big)
        .expect("open big");
    f.set_modified(UNIX_EPOCH + Duration::from_secs(T + 60))
        .expect("touch big");
    bg.pause(true);
    let out = bg.finish();
    let said = out
        .stderr
        .contains("ERROR: Skipping sender remove for changed file: big.bin");
    if !big.exists() || !said {
        return Err(format!(
            "{tag}: changed file removed or not reported\n      {}",
            out.describe()
        ));
    }
    Ok(())
}

#[test]
fn remove_source_files_keeps_a_changed_file() {
    each_cell("pull_remove_source_changed", |work, cell| {
        if !is_heavy(cell) {
            return Ok(());
        }
        let (rref, rours) = two_roots(work);
        changed_during(work, cell, &Server::stock(&rref), "stock")
            .map_err(|e| format!("STOCK BASELINE {e}"))?;
        changed_during(work, cell, &Server::tested(&[], &rours), "ours")
    });
}
