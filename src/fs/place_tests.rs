//! Tests for the remembered parent directory across [`Writer::place`]:
//! kept when a temporary regular file is renamed into place, which
//! changes where no directory path leads; forgotten when a symlink is,
//! which may.
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
    let (t, r) = tree("link", &["b", "c"]);
    std::fs::write(t.0.join("root/b/only_b"), b"b").unwrap();
    std::fs::write(t.0.join("root/c/only_c"), b"c").unwrap();
    symlink("b", t.0.join("root/a")).unwrap();
    let w = Writer::new(&r);
    // `a` is remembered, leading to `b`.
    assert!(r.lstat(&rp("a/only_b")).unwrap().is_file());
    // A new symlink `a` leading to `c`, placed over the old one.
    w.symlink(b"c", &rp(".a.tmp")).unwrap();
    let permit = OverwritePermit::for_tests();
    w.place(&rp(".a.tmp"), &rp("a"), Some(&permit)).unwrap();
    assert!(r.lstat(&rp("a/only_c")).unwrap().is_file());
    assert!(r.lstat(&rp("a/only_b")).is_err());
}
