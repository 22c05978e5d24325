//! Tests for matching: anchoring, slash handling, `**`/`***`, directory-only
//! rules, negation, first match, sides, perishable, xattr and `/` rules.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::filter::Decision::{Exclude as X, Include as I, Neither as N};

fn list(rules: &[&str]) -> FilterList {
    let mut l = FilterList::new(31);
    for r in rules {
        l.push_wire_rule(r.as_bytes()).unwrap();
    }
    l
}

fn f(l: &FilterList, path: &str) -> Decision {
    l.check(path.as_bytes(), false)
}

fn d(l: &FilterList, path: &str) -> Decision {
    l.check(path.as_bytes(), true)
}

#[test]
fn basename_patterns() {
    let l = list(&["- *.o", "- core"]);
    assert_eq!(f(&l, "a/b/x.o"), X);
    assert_eq!(f(&l, "x.o"), X);
    assert_eq!(f(&l, "x.o/y"), N);
    assert_eq!(f(&l, "a/core"), X);
    assert_eq!(f(&l, "a/acore"), N);
    assert_eq!(f(&l, "core.c"), N);
    assert_eq!(f(&l, ""), N);
}

#[test]
fn anchored_patterns() {
    let l = list(&["- /foo", "- /a/b*"]);
    assert_eq!(f(&l, "foo"), X);
    assert_eq!(f(&l, "x/foo"), N);
    assert_eq!(f(&l, "a/bc"), X);
    assert_eq!(f(&l, "x/a/bc"), N);
    assert_eq!(f(&l, "a/bc/d"), N);
    let l = list(&["- /"]);
    assert_eq!(d(&l, "x"), N);
}

#[test]
fn inner_slash_matches_trailing_elements() {
    let l = list(&["- foo/*/bar"]);
    assert_eq!(f(&l, "x/foo/y/bar"), X);
    assert_eq!(f(&l, "foo/y/bar"), X);
    assert_eq!(f(&l, "foo/y/z/bar"), N);
    assert_eq!(f(&l, "y/bar"), N);
    let l = list(&["- a/b"]);
    assert_eq!(f(&l, "x/a/b"), X);
    assert_eq!(f(&l, "a/b"), X);
    assert_eq!(f(&l, "xa/b"), N);
    assert_eq!(f(&l, "b"), N);
    assert_eq!(f(&l, "a/b/c"), N);
}

#[test]
fn double_star() {
    let l = list(&["- /foo/**/bar"]);
    assert_eq!(f(&l, "foo/x/bar"), X);
    assert_eq!(f(&l, "foo/x/y/bar"), X);
    assert_eq!(f(&l, "foo/bar"), N);
    let l = list(&["- **/bar"]);
    assert_eq!(f(&l, "bar"), X);
    assert_eq!(f(&l, "a/b/bar"), X);
    assert_eq!(f(&l, "a/xbar"), N);
    let l = list(&["- a/**"]);
    assert_eq!(f(&l, "a/x"), X);
    assert_eq!(f(&l, "q/a/x/y"), X);
    assert_eq!(f(&l, "qa/x"), N);
    assert_eq!(d(&l, "a"), N);
    let l = list(&["- /a/**"]);
    assert_eq!(f(&l, "q/a/x"), N);
}

#[test]
fn triple_star_matches_dir_itself() {
    let l = list(&["- dir/***"]);
    assert_eq!(d(&l, "dir"), X);
    assert_eq!(f(&l, "dir"), N);
    assert_eq!(f(&l, "dir/x"), X);
    assert_eq!(f(&l, "dir/x/y"), X);
    assert_eq!(d(&l, "p/dir"), X);
    let l = list(&["+ /src/***", "- *"]);
    assert_eq!(d(&l, "src"), I);
    assert_eq!(f(&l, "src/a/b.c"), I);
    assert_eq!(f(&l, "other"), X);
}

#[test]
fn directory_only_and_negation() {
    let l = list(&["- foo/"]);
    assert_eq!(d(&l, "a/foo"), X);
    assert_eq!(f(&l, "a/foo"), N);
    let l = list(&["-! */"]);
    assert_eq!(f(&l, "a/file"), X);
    assert_eq!(d(&l, "a/dir"), N);
    let l = list(&["-! *.c"]);
    assert_eq!(f(&l, "a.h"), X);
    assert_eq!(f(&l, "a.c"), N);
    // An empty name never matches, negated or not.
    assert_eq!(f(&l, ""), N);
}

#[test]
fn first_match_wins() {
    let l = list(&["+ keep.o", "- *.o"]);
    assert_eq!(f(&l, "x/keep.o"), I);
    assert_eq!(f(&l, "x/other.o"), X);
    let l = list(&["+ */", "+ *.c", "- *"]);
    assert_eq!(d(&l, "src"), I);
    assert_eq!(f(&l, "src/a.c"), I);
    assert_eq!(f(&l, "src/a.h"), X);
    let l = list(&["+ foo/", "+ foo/bar.c", "- *"]);
    assert_eq!(d(&l, "foo"), I);
    assert_eq!(f(&l, "foo/bar.c"), I);
    assert_eq!(f(&l, "foo/baz.c"), X);
}

#[test]
fn clear_rule() {
    let l = list(&["- a", "- b", "!", "- c"]);
    assert_eq!(l.len(), 1);
    assert_eq!(f(&l, "a"), N);
    assert_eq!(f(&l, "c"), X);
    let l = list(&["- a", "clear"]);
    assert!(l.is_empty());
}

#[test]
fn sides() {
    let l = list(&[
        "H h", "S s", "P p", "R r", "- both", "-s sx", "-r rx", "-sr sr",
    ]);
    assert_eq!(f(&l, "h"), X);
    assert_eq!(f(&l, "s"), I);
    assert_eq!(f(&l, "p"), N);
    assert_eq!(f(&l, "r"), N);
    assert_eq!(f(&l, "both"), X);
    assert_eq!(f(&l, "sx"), X);
    assert_eq!(f(&l, "rx"), N);
    assert_eq!(f(&l, "sr"), X);
    let rc = |p: &str| l.check_receiver(p.as_bytes(), false, false);
    assert_eq!(rc("h"), N);
    assert_eq!(rc("p"), X);
    assert_eq!(rc("r"), I);
    assert_eq!(rc("both"), X);
    assert_eq!(rc("sx"), N);
    assert_eq!(rc("rx"), X);
    assert_eq!(rc("sr"), X);
    let mut l = list(&["- both", "-r rx"]);
    l.set_delete_excluded(true);
    assert_eq!(f(&l, "both"), X);
    assert_eq!(l.check_receiver(b"both", false, false), N);
    assert_eq!(l.check_receiver(b"rx", false, false), X);
}

#[test]
fn perishable_and_xattr() {
    let l = list(&["-p tmp", "-x user.*", "- keep"]);
    assert_eq!(l.check_receiver(b"tmp", false, false), X);
    assert_eq!(l.check_receiver(b"tmp", false, true), N);
    assert_eq!(l.check_receiver(b"keep", false, true), X);
    assert_eq!(f(&l, "user.foo"), N);
}

#[test]
fn abs_path_modifier() {
    let mut l = list(&["-/ /etc/passwd", "-/ sub/x", "-/ y"]);
    assert_eq!(f(&l, "etc/passwd"), X);
    l.set_abs_prefix(b"etc");
    assert_eq!(f(&l, "passwd"), X);
    assert_eq!(f(&l, "etc/passwd"), N);
    assert_eq!(f(&l, "y"), X);
    l.set_abs_prefix(b"sub");
    assert_eq!(f(&l, "x"), X);
}

#[test]
fn backslashes() {
    let l = list(&["- foo\\*", "- a\\b", "- c*\\"]);
    assert_eq!(f(&l, "foo*"), X);
    assert_eq!(f(&l, "foox"), N);
    assert_eq!(f(&l, "a\\b"), X);
    assert_eq!(f(&l, "ab"), N);
    assert_eq!(f(&l, "cx\\"), X);
    assert_eq!(f(&l, "cx"), N);
}

#[test]
fn literal_trailing_whitespace_kept() {
    let l = list(&["- a "]);
    assert_eq!(f(&l, "a "), X);
    assert_eq!(f(&l, "a"), N);
}

#[test]
fn cvs_defaults_inline() {
    let l = list(&["+ keep.o", "-C", "- last"]);
    assert_eq!(f(&l, "keep.o"), I);
    assert_eq!(f(&l, "x/y.o"), X);
    assert_eq!(d(&l, "p/.git"), X);
    assert_eq!(f(&l, "p/.git"), N);
    assert_eq!(f(&l, "#x#"), X);
    assert_eq!(f(&l, "last"), X);
    let l = list(&["-sC"]);
    assert_eq!(l.check_receiver(b"a.o", false, false), N);
    assert_eq!(f(&l, "a.o"), X);
}

#[test]
fn merge_pending_and_debug() {
    let mut l = list(&[":e .rules", ". extra", "- x"]);
    assert!(l.has_dir_merges());
    assert_eq!(f(&l, "a/.rules"), X);
    let s = format!("{l:?}");
    assert!(
        s.contains(": .rules") && s.contains(". extra") && s.contains("- x"),
        "{s}"
    );
    let mut read = |name: &[u8]| (name == b"extra").then(|| b"- from-extra\n# c\n".to_vec());
    l.resolve_merges(&mut read).unwrap();
    assert_eq!(f(&l, "from-extra"), X);
    let mut none = |_: &[u8]| None;
    let mut l = list(&[". missing"]);
    l.resolve_merges(&mut none).unwrap();
    assert_eq!(l.skipped_rules(), 1);
}

#[test]
fn dir_merge_dedup() {
    let l = list(&[": .f", ": /.f", ":n .g"]);
    assert_eq!(l.len(), 2);
    assert_eq!(l.rules().count(), 2);
}

#[test]
fn trailing_elements_helper() {
    assert_eq!(trailing_elements(b"a/b/c", 2), Some(&b"b/c"[..]));
    assert_eq!(trailing_elements(b"b/c", 2), Some(&b"b/c"[..]));
    assert_eq!(trailing_elements(b"c", 2), None);
    assert_eq!(trailing_elements(b"/c", 2), Some(&b"/c"[..]));
}
