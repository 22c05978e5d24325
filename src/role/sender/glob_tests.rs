//! Tests for the sender's wildcard expansion of source arguments.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use std::os::unix::fs::symlink;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

/// A fresh temporary root, removed on drop.
struct Fixture {
    base: PathBuf,
    root: Root,
}

impl Fixture {
    fn new() -> Fixture {
        static N: AtomicU32 = AtomicU32::new(0);
        let base = std::env::temp_dir().join(format!(
            "rrsync-glob-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&base);
        for d in ["src", "sub1", "sub2", "sub3", "src/.hid", "src/d"] {
            std::fs::create_dir_all(base.join(d)).unwrap();
        }
        for f in [
            "src/a.txt",
            "src/b.txt",
            "src/c.log",
            "src/.h.txt",
            "src/a*b",
            "src/axb",
            "sub1/x",
            "sub2/x",
            "a",
            "b",
            "cc",
        ] {
            std::fs::write(base.join(f), f.as_bytes()).unwrap();
        }
        symlink("/etc", base.join("subetc")).unwrap();
        symlink("/etc", base.join("etclink")).unwrap();
        symlink("src", base.join("srclink")).unwrap();
        let root = Root::open(&base).unwrap();
        Fixture { base, root }
    }

    fn expand(&self, args: &[&str]) -> Vec<String> {
        let args: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
        expand_sources(&self.root, &args)
            .into_iter()
            .map(|v| String::from_utf8(v).unwrap())
            .collect()
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

#[test]
fn star_suffix() {
    let f = Fixture::new();
    assert_eq!(f.expand(&["src/*.txt"]), ["src/a.txt", "src/b.txt"]);
    assert_eq!(f.expand(&["src/*.log", "src/c.log"]), ["src/c.log"; 2]);
}

#[test]
fn wildcard_directory_then_literal() {
    let f = Fixture::new();
    // sub3 has no x; subetc is a symlink and is not entered.
    assert_eq!(f.expand(&["sub*/x"]), ["sub1/x", "sub2/x"]);
}

#[test]
fn question_mark_and_class() {
    let f = Fixture::new();
    assert_eq!(f.expand(&["?"]), ["a", "b"]);
    assert_eq!(f.expand(&["[ab]*"]), ["a", "b"]);
    assert_eq!(f.expand(&["[!ab]?"]), ["cc"]);
}

#[test]
fn hidden_entries_need_a_leading_dot() {
    let f = Fixture::new();
    assert_eq!(
        f.expand(&["src/*"]),
        [
            "src/a*b",
            "src/a.txt",
            "src/axb",
            "src/b.txt",
            "src/c.log",
            "src/d"
        ]
    );
    assert_eq!(f.expand(&["src/.*"]), ["src/.h.txt", "src/.hid"]);
    assert_eq!(f.expand(&["src/.h*.txt"]), ["src/.h.txt"]);
}

#[test]
fn no_match_keeps_the_argument() {
    let f = Fixture::new();
    assert_eq!(f.expand(&["src/*.png"]), ["src/*.png"]);
    assert_eq!(f.expand(&["nodir/*.txt"]), ["nodir/*.txt"]);
    assert_eq!(f.expand(&["src/a.txt/*"]), ["src/a.txt/*"]);
}

#[test]
fn plain_arguments_pass_through() {
    let f = Fixture::new();
    let args = ["src/a.txt", "missing", "a\\b", ".", "src/./d/"];
    assert_eq!(f.expand(&args), args);
}

#[test]
fn backslash_escapes() {
    let f = Fixture::new();
    // Escaped star in a wildcard component matches only a literal `*`.
    assert_eq!(f.expand(&["src/a\\*[b]"]), ["src/a*b"]);
    // Escapes in literal components are removed from the result.
    assert_eq!(
        f.expand(&["\\src/a\\*b", "s\\rc/[a]\\*b"]),
        ["\\src/a\\*b", "src/a*b"]
    );
    // `\*` alone is not a wildcard: the argument passes through.
    assert_eq!(f.expand(&["src/a\\*"]), ["src/a\\*"]);
}

#[test]
fn trailing_slash_kept_and_dirs_only() {
    let f = Fixture::new();
    assert_eq!(f.expand(&["sub*/"]), ["sub1/", "sub2/", "sub3/"]);
    assert_eq!(f.expand(&["src/*/"]), ["src/d/"]);
}

#[test]
fn dot_components_kept() {
    let f = Fixture::new();
    assert_eq!(f.expand(&["src/./*.log"]), ["src/./c.log"]);
    assert_eq!(f.expand(&["sub*/./x"]), ["sub1/./x", "sub2/./x"]);
}

#[test]
fn symlinks_out_of_the_root_are_not_followed() {
    let f = Fixture::new();
    // Matched by a wildcard: never entered.
    assert_eq!(f.expand(&["etc*/pass*"]), ["etc*/pass*"]);
    assert_eq!(f.expand(&["subetc/*"]), ["subetc/*"]);
    assert_eq!(f.expand(&["*/passwd"]), ["*/passwd"]);
    // The link itself may be a result.
    assert_eq!(f.expand(&["etc*"]), ["etclink"]);
}

#[test]
fn in_tree_symlink_prefix_is_followed() {
    let f = Fixture::new();
    assert_eq!(f.expand(&["srclink/*.log"]), ["srclink/c.log"]);
    // But not when the link is matched by a wildcard.
    assert_eq!(f.expand(&["srcl*/*.log"]), ["srcl*/*.log"]);
}

#[test]
fn bounded() {
    let f = Fixture::new();
    let deep = vec!["*"; MAX_COMPONENTS + 1].join("/");
    assert_eq!(f.expand(&[&deep]), [deep.as_str()]);
    let many: Vec<&str> = vec!["src/*"; MAX_RESULTS / 6 + 2];
    let out = f.expand(&many);
    assert!(out.len() <= MAX_RESULTS + 2);
}
