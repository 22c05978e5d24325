//! Pushes with incremental recursion (CF_INC_RECURSE): from protocol 30
//! on a client that pushes `-r` sends its list directory by directory,
//! and our receiver takes the sub-lists as they come. Each case runs
//! against stock `rsync --server` in every client × protocol cell and
//! the two roots must end up identical; in the cells from protocol 30
//! on the client must say it sent an incremental list (`-v`), below
//! 30 it must not.
//!
//! The tree is deep (nine levels), has empty directories, hard links
//! across directories and more files than one sub-list; the destination
//! is prefilled with stale and extra names for the deletion cases. The
//! `-H` cases link across directories, so a group's members come in
//! different sub-lists.

use super::util::write_at;
use super::{each_cell, push_vs_stock, Spec};
use crate::fixtures::Builder;
use crate::harness::{Cell, Output, Work};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The source tree, built once.
fn tree() -> &'static Path {
    static T: OnceLock<PathBuf> = OnceLock::new();
    T.get_or_init(|| {
        let top = crate::harness::process_base().join("inc-src");
        let _ = std::fs::remove_dir_all(&top);
        let mut b = Builder::new(&top, 0x1c);
        b.dir("empty", 0o755).dir("a/empty", 0o700);
        let mut deep = String::from("d");
        for i in 0..9 {
            deep.push_str(&format!("/l{i}"));
            b.dir(&deep, 0o755)
                .text_file(&format!("{deep}/f{i}"), 40 + i);
        }
        for d in 0..6 {
            for f in 0..30 {
                b.text_file(&format!("many/d{d}/f{f}"), 20 + f);
            }
        }
        b.text_file("a/x.txt", 300)
            .text_file("a/b/y.txt", 301)
            .text_file("top.txt", 302)
            .random_file("a/b/c/big.bin", 70_000, 0o644);
        b.finish();
        for (from, to) in [
            ("a/x.txt", "d/l0/l1/hl-x"),
            ("a/x.txt", "many/d5/hl-x"),
            ("top.txt", "a/b/c/hl-top"),
        ] {
            std::fs::hard_link(top.join(from), top.join(to)).expect("hard link");
        }
        // Old, distinct directory times (a directory touched in the same
        // second as the transfer keeps the transfer's time under stock).
        let t = super::util::snap(&top);
        for (i, (p, e)) in t.0.iter().enumerate() {
            if e.kind == crate::tree::Kind::Dir {
                let f = std::fs::File::open(top.join(p)).expect("open dir");
                let when = std::time::Duration::from_secs(1_200_000_000 + i as u64);
                f.set_modified(std::time::UNIX_EPOCH + when)
                    .expect("set dir mtime");
            }
        }
        top
    })
}

/// A destination with stale files and extra names at several depths.
fn prefill(root: &Path) {
    prefill_in(&root.join("dst"));
}

/// [`prefill`] into the root itself, for pushes to `x:.` (the root's own
/// time is left out of the comparison: a push whose list does not hold
/// `.` leaves it at the time of the transfer).
fn prefill_root(root: &Path) {
    prefill_in(root);
}

fn prefill_in(dst: &Path) {
    write_at(&dst.join("top.txt"), b"stale", 1_400_000_000);
    // Without -p, a file sent keeps the mode of the one it replaces.
    let private = std::os::unix::fs::PermissionsExt::from_mode(0o600);
    std::fs::set_permissions(dst.join("top.txt"), private).expect("chmod");
    write_at(&dst.join("gone.txt"), b"extra", 1_400_000_000);
    write_at(&dst.join("a/b/gone"), b"extra", 1_400_000_000);
    write_at(&dst.join("d/l0/l1/l2/gone"), b"extra", 1_400_000_000);
    write_at(&dst.join("gonedir/x/y"), b"extra", 1_400_000_000);
    write_at(&dst.join("many/d3/f7"), b"stale", 1_400_000_000);
    write_at(&dst.join("empty/gone"), b"extra", 1_400_000_000);
}

/// Whether the client reported an incremental list as it should at
/// this cell's protocol.
fn inc_as_expected(cell: &Cell, out: &Output) -> Result<(), String> {
    let said = out.all().contains("sending incremental file list");
    if said == (cell.protocol() >= 30) {
        return Ok(());
    }
    Err(format!(
        "incremental list {} at protocol {}\n      {}",
        if said { "used" } else { "not used" },
        cell.protocol(),
        out.describe()
    ))
}

/// Runs `opts` (with `-v`) against stock for `srcs` into `x:dst/`, or
/// into the root itself (`x:.`) when `into_root`.
fn case(
    work: &Work,
    cell: &Cell,
    opts: &[&str],
    srcs: Vec<String>,
    into_root: bool,
) -> Result<(), String> {
    let mut all = vec!["-v"];
    all.extend_from_slice(opts);
    let mut spec = Spec::new(&all, tree());
    spec.srcs = srcs;
    spec.flags = &[];
    spec.prep = Some(&prefill);
    if into_root {
        spec.dest = "x:.".to_string();
        spec.prep = Some(&prefill_root);
    }
    let pair = push_vs_stock(work, cell, &spec)?;
    let r = inc_as_expected(cell, &pair.our_out);
    pair.remove();
    r.map_err(|e| format!("{}: {e}", opts.join(" ")))
}

fn src() -> Vec<String> {
    vec![format!("{}/", tree().display())]
}

fn run_cases(test: &str, cases: &[&[&str]]) {
    each_cell(test, |work, cell| {
        let mut errs = Vec::new();
        for opts in cases {
            if let Err(e) = case(work, cell, opts, src(), false) {
                errs.push(e);
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs.join("\n    "))
        }
    });
}

#[test]
fn inc_recurse_push_matches_stock() {
    run_cases(
        "push_inc_basic",
        &[&["-a"], &["-rt"], &["-aH"], &["-a", "-c"], &["-a", "-n"]],
    );
}

#[test]
fn inc_recurse_push_deletes_per_directory() {
    run_cases(
        "push_inc_delete",
        &[
            &["-a", "--delete"],
            &["-a", "--delete-during"],
            &["-a", "--delete-delay"],
            &["-aH", "--delete"],
            &["-a", "--delete", "--exclude=gone*", "--exclude=d3/"],
            &["-a", "--delete", "--delete-excluded", "--exclude=f1*"],
            &["-a", "--delete", "--filter=- many/"],
        ],
    );
}

#[test]
fn inc_recurse_push_relative_files_from_and_no_slash() {
    let list_dir = crate::harness::process_base().join("inc-files-from");
    std::fs::create_dir_all(&list_dir).expect("mkdir list dir");
    let list = list_dir.join("list");
    std::fs::write(&list, "a/b\nd/l0/l1/l2/l3\nmany/d1/f3\ntop.txt\nempty\n").expect("write list");
    let files_from = format!("--files-from={}", list.display());
    each_cell("push_inc_relative", |work, cell| {
        let t = tree().display().to_string();
        let mut errs = Vec::new();
        let runs: Vec<(Vec<&str>, Vec<String>)> = vec![
            (
                vec!["-aR"],
                vec![format!("{t}/./a/b"), format!("{t}/./d/l0")],
            ),
            (vec!["-aR", "--delete"], vec![format!("{t}/./many")]),
            (vec!["-a", "-r", &files_from], src()),
            (vec!["-a"], vec![t.clone()]),
            (vec!["-a", "--delete"], vec![format!("{t}/empty")]),
        ];
        for (opts, srcs) in runs {
            if let Err(e) = case(work, cell, &opts, srcs, true) {
                errs.push(e);
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs.join("\n    "))
        }
    });
}

/// More files than the client keeps ahead (10000) in an up-to-date
/// destination: nothing is requested, so only our per-list `NDX_DONE`s
/// keep the client sending lists.
#[test]
fn inc_recurse_push_many_lists_nothing_to_send() {
    let top = crate::harness::process_base().join("inc-many");
    let _ = std::fs::remove_dir_all(&top);
    for d in 0..240 {
        let dir = top.join(format!("d{d}"));
        std::fs::create_dir_all(&dir).expect("mkdir");
        for f in 0..50 {
            std::fs::write(dir.join(format!("f{f}")), b"").expect("write");
        }
    }
    let seed_from = top.clone();
    let prep = move |root: &Path| super::util::seed(&seed_from, &root.join("dst"));
    each_cell("push_inc_many", |work, cell| {
        if cell.proto.is_some() && cell.protocol() != 30 {
            return Ok(());
        }
        let mut spec = Spec::new(&["-v", "-a", "--delete"], &top);
        spec.flags = &[];
        spec.prep = Some(&prep);
        let pair = push_vs_stock(work, cell, &spec)?;
        let r = inc_as_expected(cell, &pair.our_out);
        pair.remove();
        r
    });
}

/// A small `--max-alloc` bounds what is held at once, each sub-list
/// among it, not the tree: 2,400 files in directories of 300 pass under
/// a budget of 1,024 entries (`--max-alloc=1M`), as they do with stock.
/// The receiver once counted every list it had received against the
/// budget and stopped at its 1,025th entry. Below protocol 30 the list
/// is one, and the budget bounds it whole: that cell is not run.
#[test]
fn inc_recurse_push_budget_bounds_each_list_not_the_tree() {
    let top = crate::harness::process_base().join("inc-budget");
    let _ = std::fs::remove_dir_all(&top);
    for d in 0..8 {
        let dir = top.join(format!("d{d}"));
        std::fs::create_dir_all(&dir).expect("mkdir");
        for f in 0..300 {
            std::fs::write(dir.join(format!("f{f}")), format!("{d}.{f}\n")).expect("write");
        }
    }
    // Old directory times (one touched in the transfer's second keeps
    // the transfer's time under stock).
    for (i, dir) in std::iter::once(top.clone())
        .chain((0..8).map(|d| top.join(format!("d{d}"))))
        .enumerate()
    {
        let when = std::time::Duration::from_secs(1_300_000_000 + i as u64);
        std::fs::File::open(&dir)
            .and_then(|f| f.set_modified(std::time::UNIX_EPOCH + when))
            .expect("set dir mtime");
    }
    each_cell("push_inc_budget", |work, cell| {
        if cell.protocol() < 30 {
            return Ok(());
        }
        let mut spec = Spec::new(&["-v", "-a", "--max-alloc=1M"], &top);
        spec.flags = &[];
        let pair = push_vs_stock(work, cell, &spec)?;
        let r = inc_as_expected(cell, &pair.our_out);
        pair.remove();
        r
    });
}
