//! Tests for the remembered parent directory across the writer's
//! renames and unlinks: kept when a temporary regular file is renamed
//! into place or a name unlinked, which change where no path of
//! directories leads; forgotten when a directory or a symlink is moved,
//! and when the remembered directory was reached through a symlink that
//! a file replaced or an unlink removed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::policy::OverwritePermit;
use std::io::Write;
use std::os::unix::fs::symlink;
use std::path::PathBuf;

/// A scratch directory, removed on drop.
struct Tree(PathBuf);

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tree(tag: &str, dirs: &[&str]) -> (Tree, Root) {
    let base = std::env::temp_dir().join(format!("rrsync-place-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    for d in dirs {
        std::fs::create_dir_all(base.join("root").join(d)).unwrap();
    }
    std::fs::create_dir_all(base.join("root")).unwrap();
    let root = Root::open(&base.join("root")).unwrap();
    (Tree(base), root)
}

fn rp(s: &str) -> RelPath {
    RelPath::new(s.as_bytes()).unwrap()
}

/// `root/b/only_b` and the symlink `root/a` to `b`, with `a` remembered:
/// a directory reached through a symlink.
fn through_a_link(tag: &str, dirs: &[&str]) -> (Tree, Root) {
    let (t, r) = tree(tag, dirs);
    std::fs::create_dir_all(t.0.join("root/b")).unwrap();
    std::fs::write(t.0.join("root/b/only_b"), b"b").unwrap();
    symlink("b", t.0.join("root/a")).unwrap();
    assert!(r.lstat(&rp("a/only_b")).unwrap().is_file());
    (t, r)
}

#[test]
fn placing_a_file_keeps_the_remembered_directory() {
    let (t, r) = tree("file", &["d"]);
    let w = Writer::new(&r);
    let (mut f, tmp) = w.create_temp(&rp("d"), b"f", 0o600).unwrap();
    f.write_all(b"new").unwrap();
    w.place(&tmp, &rp("d/f"), None).unwrap();
    // Behind the writer's back, `d` moves and an empty `d` takes its
    // place: the directory the file went into is still the one looked
    // in, so it was not looked up again after the rename.
    std::fs::rename(t.0.join("root/d"), t.0.join("root/d2")).unwrap();
    std::fs::create_dir(t.0.join("root/d")).unwrap();
    assert!(r.lstat(&rp("d/f")).unwrap().is_file());
    // Once forgotten, the new `d` is looked up.
    r.forget_parent();
    assert!(r.lstat(&rp("d/f")).is_err());
}

#[test]
fn placing_a_symlink_forgets_the_remembered_directory() {
    let (t, r) = through_a_link("link", &["c"]);
    std::fs::write(t.0.join("root/c/only_c"), b"c").unwrap();
    let w = Writer::new(&r);
    // A new symlink `a` leading to `c`, placed over the old one.
    w.symlink(b"c", &rp(".a.tmp")).unwrap();
    let permit = OverwritePermit::for_tests();
    w.place(&rp(".a.tmp"), &rp("a"), Some(&permit)).unwrap();
    assert!(r.lstat(&rp("a/only_c")).unwrap().is_file());
    assert!(r.lstat(&rp("a/only_b")).is_err());
}

#[test]
fn placing_a_file_over_a_symlink_forgets_a_directory_reached_through_it() {
    let (_t, r) = through_a_link("file-over-link", &[]);
    let w = Writer::new(&r);
    let (mut f, tmp) = w.create_temp(&RelPath::root(), b"a", 0o600).unwrap();
    f.write_all(b"a file now").unwrap();
    let permit = OverwritePermit::for_tests();
    w.place(&tmp, &rp("a"), Some(&permit)).unwrap();
    // `a` is a file: nothing is beneath it any more.
    assert!(r.lstat(&rp("a")).unwrap().is_file());
    assert!(r.lstat(&rp("a/only_b")).is_err());
}

#[test]
fn removing_a_symlink_forgets_a_directory_reached_through_it() {
    let (_t, r) = through_a_link("unlink-link", &[]);
    let w = Writer::new(&r);
    w.remove(&rp("a"), Some(&crate::policy::DeletePermit::for_tests()))
        .unwrap();
    assert!(r.lstat(&rp("a/only_b")).is_err());
}

#[test]
fn a_directory_reached_without_symlinks_outlives_an_unlink() {
    let (t, r) = tree("unlink-plain", &["d"]);
    std::fs::write(t.0.join("root/d/x"), b"x").unwrap();
    std::fs::write(t.0.join("root/d/y"), b"y").unwrap();
    let w = Writer::new(&r);
    assert!(r.lstat(&rp("d/x")).unwrap().is_file());
    w.remove(&rp("d/x"), Some(&crate::policy::DeletePermit::for_tests()))
        .unwrap();
    // Moved behind the writer's back: still the remembered directory.
    std::fs::rename(t.0.join("root/d"), t.0.join("root/d2")).unwrap();
    assert!(r.lstat(&rp("d/y")).unwrap().is_file());
}

#[test]
fn moving_a_directory_forgets_the_remembered_directory() {
    let (t, r) = tree("dir", &[]);
    let w = Writer::new(&r);
    w.mkdir(&rp("d"), 0o755).unwrap();
    std::fs::write(t.0.join("root/d/x"), b"x").unwrap();
    // `d` is remembered, reached through directories alone.
    assert!(r.lstat(&rp("d/x")).unwrap().is_file());
    w.place(&rp("d"), &rp("e"), None).unwrap();
    assert!(r.lstat(&rp("d/x")).is_err());
    assert!(r.lstat(&rp("e/x")).unwrap().is_file());
}
