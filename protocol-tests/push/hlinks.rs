//! `-H` pushes against stock, member by member: which member of a
//! hard-link group is transferred and which are linked to it shows in
//! `-i` (`>f+++` against `hf … => LEADER`), so the itemized lines, the
//! trees and which names share an inode must all equal stock's.
//!
//! Groups span directories (so, from protocol 30, incremental sub-lists),
//! one group sits within a directory, and one spans a directory of more
//! than 500 entries, where stock's generator stops reading lists ahead.
//! The destination is empty, holds one member up to date, holds one
//! member stale, or (with `--ignore-existing`) holds the last member.

use super::util::{inode, write_at};
use super::{each_cell, push_vs_stock, Spec};
use crate::harness::Work;
use std::path::{Path, PathBuf};

const T: u64 = 1_500_000_000;

/// One case: what it shows, the client's options and the destination's
/// preparation.
type Case<'a> = (&'a str, Vec<&'a str>, Option<&'a dyn Fn(&Path)>);
/// Names that share one inode, with that inode.
type Sharing = Vec<(Option<(u64, u64)>, Vec<&'static str>)>;

/// Every group, as names below the source; the first name is written,
/// the others linked to it.
const GROUPS: &[&[&str]] = &[
    &["a/x", "b/x2", "c/x3"],
    &["top1", "d/top2"],
    &["e/f1", "e/f2"],
    &["big/g4a", "zz/g4b"],
];

fn source(work: &Work) -> PathBuf {
    let src = work.path("hl-src");
    for (k, group) in GROUPS.iter().enumerate() {
        let mut names = group.iter();
        let Some(first) = names.next() else { continue };
        write_at(&src.join(first), format!("group {k}\n").as_bytes(), T);
        for n in names {
            if let Some(dir) = src.join(n).parent() {
                std::fs::create_dir_all(dir).expect("mkdir");
            }
            std::fs::hard_link(src.join(first), src.join(n)).expect("link");
        }
    }
    for i in 0..600 {
        write_at(&src.join(format!("big/f{i:03}")), b"filler\n", T);
    }
    write_at(&src.join("e/plain"), b"plain\n", T);
    // Directory times in the past: a run within the second they were
    // made would find them equal to the second and leave them.
    for d in ["", "a", "b", "c", "d", "e", "big", "zz"] {
        let f = std::fs::File::open(src.join(d)).expect("open dir");
        f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(T))
            .expect("set dir mtime");
    }
    src
}

/// The destination holds `name` as in the source (contents, mode, time).
fn up_to_date<'a>(src: &'a Path, name: &'static str) -> impl Fn(&Path) + 'a {
    move |root: &Path| {
        let to = root.join("dst").join(name);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(src.join(name), &to).expect("copy");
        let t = std::fs::metadata(src.join(name))
            .and_then(|m| m.modified())
            .expect("mtime");
        let f = std::fs::File::options()
            .write(true)
            .open(&to)
            .expect("open");
        f.set_modified(t).expect("set mtime");
    }
}

/// The destination holds `name` with other contents.
fn stale(name: &'static str) -> impl Fn(&Path) {
    move |root: &Path| write_at(&root.join("dst").join(name), b"stale contents\n", T - 99)
}

/// Which names of each group share an inode, per group.
fn sharing(root: &Path) -> Vec<Vec<Vec<&'static str>>> {
    GROUPS
        .iter()
        .map(|g| {
            let mut by: Sharing = Vec::new();
            for n in g.iter() {
                let ino = inode(&root.join("dst").join(n));
                match by.iter_mut().find(|(i, _)| *i == ino && ino.is_some()) {
                    Some((_, v)) => v.push(n),
                    None => by.push((ino, vec![n])),
                }
            }
            by.into_iter().map(|(_, v)| v).collect()
        })
        .collect()
}

fn sorted_lines(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s.lines().map(str::to_string).collect();
    v.sort_unstable();
    v
}

#[test]
fn hard_link_members_match_stock() {
    let base = Work::new("push_hlink_members_src");
    let src = source(&base);
    let keep = up_to_date(&src, "a/x");
    let stale_b = stale("b/x2");
    let stale_last = stale("c/x3");
    let cases: Vec<Case<'_>> = vec![
        ("empty destination", vec!["-aiH"], None),
        ("first member up to date", vec!["-aiH"], Some(&keep)),
        ("middle member stale", vec!["-aiH"], Some(&stale_b)),
        (
            "last member kept by --ignore-existing",
            vec!["-aiH", "--ignore-existing"],
            Some(&stale_last),
        ),
    ];
    each_cell("push_hlink_members", |work, cell| {
        if cell.protocol() < 29 {
            // No item flags on the wire: only the trees could be compared,
            // which `extra::hard_links` does.
            return Ok(());
        }
        let mut errs = Vec::new();
        for (what, opts, prep) in &cases {
            let mut spec = Spec::new(opts, &src);
            spec.prep = *prep;
            let pair = match push_vs_stock(work, cell, &spec) {
                Ok(pair) => pair,
                Err(e) => {
                    errs.push(format!("{what}: {e}"));
                    continue;
                }
            };
            let (want, got) = (
                sorted_lines(&pair.ref_out.stdout),
                sorted_lines(&pair.our_out.stdout),
            );
            if want != got {
                let only_stock: Vec<_> = want.iter().filter(|l| !got.contains(l)).collect();
                let only_ours: Vec<_> = got.iter().filter(|l| !want.contains(l)).collect();
                errs.push(format!(
                    "{what}: itemized lines differ\n      only stock: {only_stock:?}\n      only ours:  {only_ours:?}"
                ));
            }
            let (ws, gs) = (sharing(&pair.reference), sharing(&pair.ours));
            if ws != gs {
                errs.push(format!(
                    "{what}: linked names differ\n      stock: {ws:?}\n      ours:  {gs:?}"
                ));
            }
            pair.remove();
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs.join("\n    "))
        }
    });
}
