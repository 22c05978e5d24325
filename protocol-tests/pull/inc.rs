//! Pulls with incremental recursion (issue 12): from protocol 30 our
//! sender lists the top level first and each directory's contents in a
//! sub-list of its own. Every case is compared with stock `rsync
//! --server --sender` in every cell: the whole tree, and the client's
//! itemized output line for line (only the byte counts of the summary
//! may differ). At 30 and above the client must say "receiving
//! incremental file list"; below it, and with `--no-inc-recursive`,
//! "receiving file list".
//!
//! The tree is deep and wide enough for several sub-lists to be in
//! flight at once (more than the sender's 1,000-entry lookahead), and
//! holds an empty directory, a hard link across directories, symlinks
//! and per-directory filter files.

use super::{each_cell, first_line_diff, pull_vs_stock, Spec};
use crate::harness::{Cell, Work};
use crate::tree::Cmp;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

fn set_time(p: &Path, secs: u64) {
    let f = std::fs::File::open(p).expect("open");
    f.set_modified(UNIX_EPOCH + Duration::from_secs(secs))
        .expect("mtime");
}

/// `tree/`: 3 levels of directories, 2,500 small files, an empty
/// directory, a hard link from `d0/s0/` to `top1`, a symlink, and a
/// `.rsync-filter` in `d1/` that hides `*.tmp` beneath it.
fn root(work: &Work) -> PathBuf {
    let root = work.path("root");
    let t = root.join("tree");
    let mut dirs = vec![t.clone()];
    for a in 0..5 {
        let d = t.join(format!("d{a}"));
        dirs.push(d.clone());
        for b in 0..4 {
            dirs.push(d.join(format!("s{b}")));
        }
    }
    dirs.push(t.join("d2/s1/deeper"));
    dirs.push(t.join("d2/s1/deeper/deepest"));
    dirs.push(t.join("empty"));
    for d in &dirs {
        std::fs::create_dir_all(d).expect("mkdir");
    }
    let mut n = 0u64;
    for d in dirs
        .iter()
        .filter(|d| !d.ends_with("empty") && !d.ends_with("deeper"))
    {
        for i in 0..100 {
            n += 1;
            std::fs::write(d.join(format!("f{i:03}")), format!("{n}\n")).expect("write");
        }
    }
    std::fs::write(t.join("top1"), b"linked\n").expect("write");
    std::fs::hard_link(t.join("top1"), t.join("d0/s0/hard")).expect("link");
    std::os::unix::fs::symlink("../top1", t.join("d3/sym")).expect("symlink");
    std::fs::write(t.join("d1/.rsync-filter"), b"- *.tmp\n").expect("write");
    std::fs::write(t.join("d1/s2/x.tmp"), b"hidden\n").expect("write");
    std::fs::write(t.join("d4/y.tmp"), b"shown\n").expect("write");
    std::fs::set_permissions(t.join("d2"), std::fs::Permissions::from_mode(0o750)).expect("chmod");
    for d in dirs.iter().rev() {
        set_time(d, 1_600_000_000);
    }
    root
}

/// The client's stdout without the summary lines (their byte counts
/// differ between servers), the destination's name, and the lines for
/// directory times (in a directory where the client deletes, whether it
/// reports the time depends on how its two processes interleave, with
/// stock as with us; the trees are compared anyway). Sorted: the
/// client's generator (directories, links, deletions) and receiver
/// (files) print in whichever order the two processes run.
fn itemized(out: &str) -> String {
    let mut v: Vec<&str> = out
        .lines()
        .filter(|l| {
            !l.starts_with("sent ")
                && !l.starts_with("total size")
                && !l.starts_with("created directory")
                && !l.starts_with(".d")
        })
        .collect();
    v.sort_unstable();
    v.join("\n")
}

/// Runs `spec` against stock and ours; the trees and itemized lines must
/// match, and the client must report the list the way `want_inc` says.
fn check(
    work: &Work,
    cell: &Cell,
    root: &Path,
    spec: &Spec<'_>,
    want_inc: bool,
) -> Result<(), String> {
    let pair = pull_vs_stock(work, cell, root, spec)?;
    let (a, b) = (
        itemized(&pair.ref_out.stdout),
        itemized(&pair.our_out.stdout),
    );
    pair.remove();
    let cmd = spec.opts.join(" ");
    if a != b {
        return Err(format!(
            "`{cmd}`: itemized output differs\n{}",
            first_line_diff(&a, &b)
        ));
    }
    let inc = b.contains("receiving incremental file list");
    if inc != want_inc {
        return Err(format!(
            "`{cmd}`: incremental recursion used: {inc}, wanted {want_inc}\n{b}"
        ));
    }
    Ok(())
}

/// The destination's own time is set when the client made it, and a
/// symlink's time travels only from protocol 31.
fn cmp() -> Cmp {
    Cmp {
        root_mtime: false,
        link_mtime: false,
        ..Cmp::ALL
    }
}

#[test]
fn incremental_pulls_match_stock() {
    each_cell("pull_incremental", |work, cell| {
        let root = root(work);
        let inc = cell.protocol() >= 30;
        let cases: [&[&str]; 4] = [
            &["-avi"],
            &["-aviH", "-F"],
            &["-avi", "--exclude=s3/", "--exclude=f05*"],
            &["-avi", "--no-inc-recursive"],
        ];
        for (i, opts) in cases.iter().enumerate() {
            if opts.contains(&"-F") && cell.protocol() < 29 {
                // A client refuses per-directory rules below 29.
                continue;
            }
            let mut spec = Spec::new(opts, &["x:tree/"]);
            spec.cmp = cmp();
            check(work, cell, &root, &spec, inc && i != 3)?;
        }
        // No trailing slash: the first list holds one entry.
        let mut spec = Spec::new(&["-avi"], &["x:tree"]);
        spec.cmp = cmp();
        check(work, cell, &root, &spec, inc)
    });
}

#[test]
fn incremental_pulls_with_delete_relative_and_files_from_match_stock() {
    each_cell("pull_incremental_delete", |work, cell| {
        let root = root(work);
        let inc = cell.protocol() >= 30;
        // Stale names at several depths, and a file where a directory is.
        let stale = |d: &Path| {
            for p in ["d0/s1", "d2/s1/deeper/gone", "empty/old", "d3"] {
                std::fs::create_dir_all(d.join(p)).expect("mkdir");
            }
            std::fs::write(d.join("d0/s1/stale"), b"x").expect("write");
            std::fs::write(d.join("d3/s3"), b"a file in a directory's place").expect("write");
            std::fs::write(d.join("extra"), b"x").expect("write");
        };
        let mut spec = Spec::new(&["-avi", "--delete"], &["x:tree/"]);
        // A directory the client deleted in keeps the time of the
        // deletion, with stock as with us.
        spec.cmp = Cmp {
            dir_mtime: false,
            ..cmp()
        };
        spec.prep = Some(&stale);
        check(work, cell, &root, &spec, inc)?;
        let mut spec = Spec::new(&["-aviR"], &["x:tree/d2/s1", "x:tree/./d4"]);
        spec.cmp = Cmp {
            dir_mtime: false,
            ..cmp()
        };
        check(work, cell, &root, &spec, inc)?;
        let list = work.path("files-from");
        std::fs::write(&list, "d1/s0\nd3\ntop1\n").expect("write");
        let from = format!("--files-from={}", list.display());
        let mut spec = Spec::new(&["-avir", &from], &["x:tree/"]);
        spec.cmp = Cmp {
            dir_mtime: false,
            ..cmp()
        };
        check(work, cell, &root, &spec, inc)
    });
}
