//! What a pushing client prints from the server's side, against stock
//! `rsync --server` in every cell: the lines of rsync's generator.
//! - `-vv`: "NAME is uptodate" (or the bare name when only attributes
//!   were set), "NAME exists" (`--ignore-existing`), `not creating new
//!   …` (`--existing`), "is newer" (`-u`), "is over max-size", and
//!   "delta-transmission enabled"; a hard-link member already linked too;
//! - `-vv -i` and `-ii`: an item for every entry, changed or not;
//! - without `-v` too: "skipping non-regular file" for a symlink without
//!   `-l` (and for a device or special file, which this server never
//!   makes);
//! - below protocol 29, where no item or MSG_DELETED exists, `-v` names
//!   the directories and symlinks the server makes or changes, the hard
//!   links (`NAME => LEADER`) and the deletions (`deleting NAME`).
//!
//! `--existing` also must create nothing new of any kind (it once made
//! the new directories and symlinks): the trees are compared as always.
//! And `--backup` without `--backup-dir` leaves directory times alone;
//! a `--link-dest` file whose attributes differ is copied, not linked.

use super::{each_cell, push_vs_stock, Spec};
use crate::harness::{ensure, Output, Work};
use crate::tree::Cmp;
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

/// The client's lines, less the transfer totals, sorted (stdout and
/// stderr interleave differently from run to run).
fn lines(out: &Output) -> Vec<String> {
    let skip = [
        "sent ",
        "total size",
        "total: matches",
        "sending incremental",
        "building file list",
        "done",
        "rsync error: received SIGUSR1",
        "opening connection",
    ];
    let mut v: Vec<String> = out
        .all()
        .lines()
        .filter(|l| !l.is_empty() && !skip.iter().any(|s| l.starts_with(s)))
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

fn past(p: &Path, secs: u64) {
    let f = std::fs::File::options()
        .write(!p.is_dir())
        .read(p.is_dir())
        .open(p)
        .expect("open");
    f.set_modified(UNIX_EPOCH + Duration::from_secs(secs))
        .expect("set mtime");
}

/// Files, a nested directory, a symlink and a pair of hard links.
fn source(work: &Work) -> PathBuf {
    let src = work.path("verbose-src");
    if src.exists() {
        return src;
    }
    std::fs::create_dir_all(src.join("dir/deep")).expect("mkdir");
    for (f, data) in [
        ("f1", &b"a\n"[..]),
        ("dir/f2", b"bb\n"),
        ("big", &[7u8; 3000]),
        ("hl1", b"h\n"),
    ] {
        std::fs::write(src.join(f), data).expect("write");
        past(&src.join(f), 1_500_000_000);
    }
    std::fs::hard_link(src.join("hl1"), src.join("dir/hl2")).expect("link");
    std::os::unix::fs::symlink("f1", src.join("link")).expect("symlink");
    for d in ["dir/deep", "dir", ""] {
        past(&src.join(d), 1_500_000_000);
    }
    src
}

/// A copy of the source in `root/dst`, then `change` made to it.
fn copy(src: &Path, root: &Path, change: &dyn Fn(&Path)) {
    let dst = root.join("dst");
    let st = std::process::Command::new("cp")
        .arg("-a")
        .arg(src)
        .arg(&dst)
        .status()
        .expect("cp");
    assert!(st.success(), "cp -a");
    change(&dst);
}

fn changed(d: &Path) {
    std::fs::write(d.join("f1"), b"newer\n").expect("write");
    past(&d.join("f1"), 1_900_000_000);
    let mut perm = std::fs::metadata(d.join("big"))
        .expect("stat")
        .permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o600);
    std::fs::set_permissions(d.join("big"), perm).expect("chmod");
}

fn partial(d: &Path) {
    for p in ["dir", "link", "hl1", "big"] {
        let p = d.join(p);
        if p.is_dir() {
            std::fs::remove_dir_all(&p).expect("rm");
        } else {
            std::fs::remove_file(&p).expect("rm");
        }
    }
    std::fs::write(d.join("gone"), b"x\n").expect("write");
    past(&d.join("gone"), 1_500_000_000);
}

/// Pushes `src` with `opts` (server without a mode) after `prep`, with
/// stock and ours: the trees and the client's sorted lines must match.
/// A new link's and a directory's mtime are not what these tests are
/// about (stock left the link's own time).
fn same_as_stock(
    work: &Work,
    cell: &crate::harness::Cell,
    src: &Path,
    opts: &[&str],
    prep: Option<&dyn Fn(&Path)>,
) -> Result<(), String> {
    let mut spec = Spec::new(opts, src);
    spec.flags = &[];
    spec.prep = prep;
    spec.cmp = Cmp {
        dir_mtime: false,
        link_mtime: false,
        ..Cmp::ALL
    };
    let pair = push_vs_stock(work, cell, &spec)?;
    let (want, got) = (lines(&pair.ref_out), lines(&pair.our_out));
    ensure(
        want == got,
        &format!("{opts:?}: the client's lines {got:?} differ from stock's {want:?}"),
        &pair.our_out,
    )?;
    pair.remove();
    Ok(())
}

#[test]
fn the_servers_lines_match_stock() {
    each_cell("push_verbose_lines", |work, cell| {
        let src = source(work);
        let old = cell.protocol() < 29;
        type Prep<'a> = Option<&'a dyn Fn(&Path)>;
        let copy_changed = |r: &Path| copy(&src, r, &changed);
        let copy_partial = |r: &Path| copy(&src, r, &partial);
        let cases: Vec<(&[&str], Prep<'_>)> = vec![
            (&["-avH"], None),
            (&["-avH", "--delete"], Some(&copy_partial)),
            (&["-avvH"], Some(&copy_changed)),
            (&["-avvHi"], Some(&copy_changed)),
            (&["-aiiH"], Some(&copy_changed)),
            (&["-avv", "--existing"], Some(&copy_partial)),
            (&["-avv", "--ignore-existing"], Some(&copy_changed)),
            (&["-avvu", "--max-size=100"], Some(&copy_changed)),
            (&["-avb"], Some(&copy_changed)),
            // No -l: the symlink is skipped, and said so from verbosity 0.
            (&["-rtv"], None),
            (&["-rtp"], None),
            (&["-avv", "--delete-before"], Some(&copy_partial)),
        ];
        for (opts, prep) in cases {
            if old && opts.iter().any(|o| o.contains("ii")) {
                // Below 29 no item reaches the client either way.
                continue;
            }
            same_as_stock(work, cell, &src, opts, prep)?;
        }
        Ok(())
    });
}

/// `--backup` without `--backup-dir` implies `--omit-dir-times`, as with
/// stock: the top directory, where the backup of `f1` lands, keeps the
/// time that gave it, not the source's.
#[test]
fn backup_leaves_directory_times() {
    each_cell("push_backup_dir_times", |work, cell| {
        let src = source(work);
        let copy_changed = |r: &Path| copy(&src, r, &changed);
        let mut spec = Spec::new(&["-ab"], &src);
        spec.flags = &[];
        spec.prep = Some(&copy_changed);
        spec.cmp = Cmp {
            dir_mtime: false,
            link_mtime: false,
            ..Cmp::ALL
        };
        let pair = push_vs_stock(work, cell, &spec)?;
        for root in [&pair.reference, &pair.ours] {
            let t = std::fs::metadata(root.join("dst"))
                .and_then(|m| m.modified())
                .expect("stat dst");
            ensure(
                t != UNIX_EPOCH + Duration::from_secs(1_500_000_000),
                &format!(
                    "{}: the top directory got the source's time",
                    root.display()
                ),
                &pair.our_out,
            )?;
        }
        pair.remove();
        Ok(())
    });
}

/// The alternate directories: a file there with the same contents and
/// other attributes is copied, not linked (a link took the other
/// directory's mode), and what `-i`, `-ii` and `-vv` show of matched
/// files, symlinks, directories and hard-link members is stock's.
#[test]
fn alt_dest_matches_and_lines_match_stock() {
    each_cell("push_alt_dest_lines", |work, cell| {
        let src = source(work);
        let prep = |root: &Path| {
            copy(&src, root, &|_| ());
            std::fs::rename(root.join("dst"), root.join("ref")).expect("rename");
            let f1 = root.join("ref/f1");
            let mut perm = std::fs::metadata(&f1).expect("stat").permissions();
            std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o600);
            std::fs::set_permissions(&f1, perm).expect("chmod");
        };
        // Over an existing copy too (`find_exact_for_existing`), with a
        // hard-link member that differs from its leader.
        let over = |root: &Path| {
            prep(root);
            copy(&src, root, &changed);
            let hl2 = root.join("dst/dir/hl2");
            std::fs::remove_file(&hl2).expect("rm");
            std::fs::write(&hl2, b"x\n").expect("write");
        };
        // The other directory's `big` differs in its last byte: it is the
        // basis of a delta (below protocol 29 too, where no basis type
        // travels and the receiver must know it).
        let basis = |root: &Path| {
            prep(root);
            let mut b = vec![7u8; 2999];
            b.push(8);
            std::fs::write(root.join("ref/big"), b).expect("write");
            past(&root.join("ref/big"), 1_600_000_000);
        };
        let old = cell.protocol() < 29;
        type Prep<'a> = &'a dyn Fn(&Path);
        let more: [(&[&str], Prep<'_>); 5] = [
            (&["-aviH", "--link-dest=../ref"], &over),
            (&["-aiiH", "--link-dest=../ref"], &over),
            (&["-avv", "--compare-dest=../ref"], &over),
            (&["-avi", "--copy-dest=../ref"], &basis),
            (&["-avi", "--link-dest=../ref"], &basis),
        ];
        let cases: [&[&str]; 8] = [
            &["-av", "--link-dest=../ref"],
            &["-avi", "--link-dest=../ref"],
            &["-avii", "--link-dest=../ref"],
            &["-avv", "--link-dest=../ref"],
            &["-avvi", "--compare-dest=../ref"],
            &["-avi", "--copy-dest=../ref"],
            &["-aviH", "--link-dest=../ref"],
            &["-aiiH", "--link-dest=../ref"],
        ];
        let all = cases.iter().map(|c| (*c, &prep as Prep<'_>)).chain(more);
        for (opts, prep) in all {
            if old && opts.iter().any(|o| o.contains("ii")) {
                continue;
            }
            same_as_stock(work, cell, &src, opts, Some(prep))?;
        }
        Ok(())
    });
}
