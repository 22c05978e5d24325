//! Tests for per-directory merge files driven through `FilterStack`.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::filter::Decision::{Exclude as X, Include as I, Neither as N};
use std::collections::HashMap;

struct Tree {
    files: HashMap<Vec<u8>, Vec<u8>>,
    asked: Vec<Vec<u8>>,
}

impl Tree {
    fn new(files: &[(&str, &str)]) -> Self {
        let files = files
            .iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect();
        Tree {
            files,
            asked: Vec::new(),
        }
    }
    fn read(&mut self, p: &[u8]) -> Option<Vec<u8>> {
        self.asked.push(p.to_vec());
        self.files.get(p).cloned()
    }
}

fn stack(rules: &[&str]) -> FilterStack {
    let mut l = FilterList::new(31);
    for r in rules {
        l.push_wire_rule(r.as_bytes()).unwrap();
    }
    FilterStack::new(l)
}

/// Enter `dir`, resolving merge-file names in it as a walker would.
fn enter(s: &mut FilterStack, t: &mut Tree, dir: &str) -> Result<(), FilterError> {
    let d = if dir == "." { "" } else { dir };
    s.enter_dir(dir.as_bytes(), &mut |name: &[u8]| {
        assert!(!name.contains(&b'/') && name != b".." && !name.is_empty());
        let mut p = if d.is_empty() {
            Vec::new()
        } else {
            format!("{d}/").into_bytes()
        };
        p.extend_from_slice(name);
        t.read(&p)
    })
}

fn f(s: &FilterStack, p: &str) -> Decision {
    s.check(p.as_bytes(), false)
}

#[test]
fn inherit_and_anchor() {
    let mut t = Tree::new(&[
        (".rsync-filter", "- *.tmp\n"),
        (
            "sub/.rsync-filter",
            "+ keep.tmp\r\n- /local\n; comment\n# comment\n\n- /*.c\n",
        ),
    ]);
    let mut s = stack(&[": /.rsync-filter", "- .rsync-filter"]);
    enter(&mut s, &mut t, "").unwrap();
    assert_eq!(f(&s, "a.tmp"), X);
    assert_eq!(f(&s, ".rsync-filter"), X);
    enter(&mut s, &mut t, "sub").unwrap();
    assert_eq!(f(&s, "sub/keep.tmp"), I);
    assert_eq!(f(&s, "sub/x.tmp"), X);
    assert_eq!(f(&s, "sub/local"), X);
    assert_eq!(f(&s, "sub/a.c"), X);
    enter(&mut s, &mut t, "sub/deep").unwrap();
    assert_eq!(f(&s, "sub/deep/local"), N);
    assert_eq!(f(&s, "sub/deep/a.c"), N);
    assert_eq!(f(&s, "sub/deep/keep.tmp"), I);
    s.leave_dir();
    s.leave_dir();
    assert_eq!(f(&s, "sub/keep.tmp"), X);
    assert_eq!(s.depth(), 1);
    assert_eq!(
        t.asked,
        [
            &b".rsync-filter"[..],
            b"sub/.rsync-filter",
            b"sub/deep/.rsync-filter"
        ]
    );
}

#[test]
fn no_inherit_and_clear() {
    let mut t = Tree::new(&[
        (".n", "- a\n"),
        (".f", "- b\n- c\n"),
        ("sub/.f", "- d\n!\n- e\n"),
    ]);
    let mut s = stack(&[":n .n", ": .f"]);
    enter(&mut s, &mut t, "").unwrap();
    assert_eq!(f(&s, "a"), X);
    assert_eq!(f(&s, "b"), X);
    enter(&mut s, &mut t, "sub").unwrap();
    assert_eq!(f(&s, "sub/a"), N);
    assert_eq!(f(&s, "sub/b"), N);
    assert_eq!(f(&s, "sub/d"), N);
    assert_eq!(f(&s, "sub/e"), X);
    enter(&mut s, &mut t, "sub/x").unwrap();
    assert_eq!(f(&s, "sub/x/b"), N);
    assert_eq!(f(&s, "sub/x/e"), X);
}

#[test]
fn newest_first_and_global_position() {
    let mut t = Tree::new(&[(".f", "+ x\n- y\n"), ("sub/.f", "- x\n")]);
    let mut s = stack(&["- g", ": .f", "+ *"]);
    enter(&mut s, &mut t, "").unwrap();
    assert_eq!(f(&s, "x"), I);
    assert_eq!(f(&s, "y"), X);
    assert_eq!(f(&s, "g"), X);
    enter(&mut s, &mut t, "sub").unwrap();
    assert_eq!(f(&s, "sub/x"), X);
    assert_eq!(f(&s, "sub/y"), X);
    assert_eq!(f(&s, "sub/z"), I);
}

#[test]
fn nested_dir_merge_and_recursion_guard() {
    let mut t = Tree::new(&[(".f", ": .g\n: .f\n"), ("sub/.g", "- z\n")]);
    let mut s = stack(&[": .f"]);
    enter(&mut s, &mut t, "").unwrap();
    enter(&mut s, &mut t, "sub").unwrap();
    assert_eq!(f(&s, "sub/z"), X);
    s.leave_dir();
    assert_eq!(f(&s, "z"), N);
    s.leave_dir();
    enter(&mut s, &mut t, "").unwrap();
    assert_eq!(f(&s, "z"), N);
    // .f was read once per directory; the nested ": .f" was ignored.
    assert_eq!(t.asked.iter().filter(|p| p.as_slice() == b".f").count(), 2);
}

#[test]
fn pending_merge_at_first_enter() {
    let mut t = Tree::new(&[("m", "- fromm\n: .f\n"), (".f", "- q\n")]);
    let mut s = stack(&[". m"]);
    enter(&mut s, &mut t, "").unwrap();
    assert_eq!(f(&s, "fromm"), X);
    assert_eq!(f(&s, "q"), X);
    enter(&mut s, &mut t, "sub").unwrap();
    s.leave_dir();
    assert_eq!(f(&s, "q"), X);
    assert_eq!(t.asked, [&b"m"[..], b".f", b"sub/.f"]);
}

#[test]
fn merge_depth_poisons() {
    let mut t = Tree::new(&[(".f", ". m\n"), ("m", ". m\n")]);
    let mut s = stack(&[": .f"]);
    assert!(matches!(
        enter(&mut s, &mut t, ""),
        Err(FilterError::MergeDepth)
    ));
    assert!(s.is_poisoned());
    assert_eq!(f(&s, "anything"), X);
    assert!(matches!(
        enter(&mut s, &mut t, "x"),
        Err(FilterError::Poisoned)
    ));
}

#[test]
fn bad_merge_file_content() {
    for (bad, skipped) in [
        ("- ok\nbogus rule\n", false),
        (": ../../etc/x\n", true),
        (". /etc/passwd\n", true),
        ("-q x\n", false),
    ] {
        let mut t = Tree::new(&[(".f", bad)]);
        let mut s = stack(&[": .f"]);
        // A merge rule naming a file outside the root is skipped (and
        // counted); any other bad line is an error.
        assert_eq!(enter(&mut s, &mut t, "").is_ok(), skipped, "{bad}");
        assert_eq!(s.list().skipped_rules(), usize::from(skipped), "{bad}");
        assert!(t
            .asked
            .iter()
            .all(|p| !p.starts_with(b"/") && !p.windows(2).any(|w| w == b"..")));
    }
    let mut t = Tree::new(&[]);
    t.files.insert(
        b".f".to_vec(),
        vec![b'x'; crate::filter::MAX_MERGE_FILE + 1],
    );
    let mut s = stack(&[": .f"]);
    assert!(matches!(
        enter(&mut s, &mut t, ""),
        Err(FilterError::MergeFileTooLarge)
    ));
}

#[test]
fn too_many_rules_from_files() {
    let mut t = Tree::new(&[]);
    t.files
        .insert(b".f".to_vec(), b"- a\n".repeat(crate::filter::MAX_RULES));
    let mut s = stack(&[": .f"]);
    assert!(matches!(
        enter(&mut s, &mut t, ""),
        Err(FilterError::TooManyRules)
    ));
}

#[test]
fn over_long_lines_skipped() {
    let long = format!("- {}\n- short\n", "a".repeat(5000));
    let mut t = Tree::new(&[(".f", &long)]);
    let mut s = stack(&[": .f"]);
    enter(&mut s, &mut t, "").unwrap();
    assert_eq!(f(&s, "short"), X);
}

#[test]
fn cvsignore_per_dir() {
    let mut t = Tree::new(&[
        (".cvsignore", "*.x  tmp\tjunk\n"),
        ("sub/.cvsignore", "! keep"),
    ]);
    let mut s = stack(&[":C"]);
    enter(&mut s, &mut t, "").unwrap();
    assert_eq!(f(&s, "a.x"), X);
    assert_eq!(f(&s, "tmp"), X);
    assert_eq!(f(&s, "junk"), X);
    enter(&mut s, &mut t, "sub").unwrap();
    assert_eq!(f(&s, "sub/a.x"), N);
    assert_eq!(f(&s, "sub/keep"), X);
}

#[test]
fn word_split_and_prefix_free_files() {
    let mut t = Tree::new(&[(".w", "- a + b\n"), (".i", "x*\n- y\n")]);
    let mut s = stack(&[":+ .i", "- *"]);
    enter(&mut s, &mut t, "").unwrap();
    assert_eq!(f(&s, "xyz"), I);
    assert_eq!(f(&s, "- y"), I);
    assert_eq!(f(&s, "y"), X);
    // In a word-split file every word is a rule of its own, so "-" alone is
    // an incomplete rule (as upstream).
    let mut s = stack(&[":w .w"]);
    assert!(matches!(
        enter(&mut s, &mut t, ""),
        Err(FilterError::UnexpectedEnd)
    ));
}

#[test]
fn sides_in_per_dir_files() {
    let mut t = Tree::new(&[(".f", "P prot\nH hid\n- both\n"), (".s", "- sonly\n")]);
    let mut s = stack(&[": .f", ":s .s"]);
    enter(&mut s, &mut t, "").unwrap();
    assert_eq!(f(&s, "prot"), N);
    assert_eq!(s.check_receiver(b"prot", false, false), X);
    assert_eq!(f(&s, "hid"), X);
    assert_eq!(s.check_receiver(b"hid", false, false), N);
    assert_eq!(s.check_receiver(b"both", false, false), X);
    assert_eq!(f(&s, "sonly"), X);
    assert_eq!(s.check_receiver(b"sonly", false, false), N);
    let mut t = Tree::new(&[(".s", "H x\n")]);
    let mut s = stack(&[":s .s"]);
    assert!(matches!(
        enter(&mut s, &mut t, ""),
        Err(FilterError::SideConflict)
    ));
}

#[test]
fn perishable_dir_merge() {
    let mut t = Tree::new(&[(".f", "- a\n")]);
    let mut s = stack(&[":p .f"]);
    enter(&mut s, &mut t, "").unwrap();
    assert_eq!(s.check_receiver(b"a", false, false), X);
    assert_eq!(s.check_receiver(b"a", false, true), N);
}

#[test]
fn dir_sequence_validated() {
    let mut t = Tree::new(&[]);
    let mut s = stack(&[": .f"]);
    for bad in ["/abs", "../x", "a/../b", "a//b", "a/", "./a"] {
        let mut s2 = stack(&[": .f"]);
        assert!(
            matches!(enter(&mut s2, &mut t, bad), Err(FilterError::BadDir)),
            "{bad}"
        );
    }
    enter(&mut s, &mut t, ".").unwrap();
    enter(&mut s, &mut t, "a").unwrap();
    assert!(matches!(
        enter(&mut s, &mut t, "b"),
        Err(FilterError::BadDir)
    ));
    let mut s = stack(&[": .f"]);
    enter(&mut s, &mut t, "a").unwrap();
    assert!(matches!(
        enter(&mut s, &mut t, "ab"),
        Err(FilterError::BadDir)
    ));
    enter(&mut s, &mut t, "a/b/c").unwrap();
    assert_eq!(s.depth(), 2);
    s.leave_dir();
    s.leave_dir();
    s.leave_dir();
    assert_eq!(s.depth(), 0);
}

#[test]
fn no_dir_merges_reads_nothing() {
    let mut t = Tree::new(&[]);
    let mut s = stack(&["- x"]);
    enter(&mut s, &mut t, "").unwrap();
    enter(&mut s, &mut t, "d").unwrap();
    assert!(t.asked.is_empty());
    assert_eq!(f(&s, "d/x"), X);
    assert!(format!("{s:?}").contains("- x"));
}

#[test]
fn merge_inside_per_dir_file_reads_in_that_dir() {
    let mut t = Tree::new(&[("sub/.f", ". more\n- /x/***\n"), ("sub/more", "- m\n")]);
    let mut s = stack(&[": .f"]);
    enter(&mut s, &mut t, "").unwrap();
    enter(&mut s, &mut t, "sub").unwrap();
    assert_eq!(f(&s, "sub/m"), X);
    assert_eq!(s.check(b"sub/x", true), X);
    assert_eq!(f(&s, "sub/x/y/z"), X);
    assert_eq!(s.check(b"sub/q/x", true), N);
    assert!(t.asked.contains(&b"sub/more".to_vec()));
}
