use super::*;
use crate::fs::RelPath;
use std::path::PathBuf;

/// A destination `dst/` with rule files at the top, in `a/` and `a/b/`.
fn tree(name: &str) -> (PathBuf, Root, Dest) {
    let d = std::env::temp_dir().join(format!("rrsync-delf-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("dst/a/b")).unwrap();
    std::fs::create_dir_all(d.join("dst/c")).unwrap();
    std::fs::write(d.join("dst/.rf"), b"- top.*\n").unwrap();
    std::fs::write(d.join("dst/a/.rf"), b"- in_a\n").unwrap();
    std::fs::write(d.join("dst/a/b/.rf"), b"- in_b\n").unwrap();
    let root = Root::open(&d).unwrap();
    let dest = Dest {
        base: RelPath::new(b"dst").unwrap(),
        single: None,
        created: false,
    };
    (d, root, dest)
}

fn filter(rules: &[&[u8]], sums: BlockSums) -> DelFilter {
    let mut l = FilterList::new(31);
    for r in rules {
        l.push_wire_rule(r).unwrap();
    }
    DelFilter::new(Some(&l), false, sums)
}

#[test]
fn each_directory_sees_its_own_and_its_parents_files() {
    let (d, root, dest) = tree("nest");
    let mut f = filter(&[b": .rf"], BlockSums::AsAsked);
    f.change_to(b"a/b", &root, &dest);
    assert!(f.protected(b"a/b/top.x", false, false));
    assert!(f.protected(b"a/b/in_a", false, false));
    assert!(f.protected(b"a/b/in_b", false, false));
    assert!(!f.protected(b"a/b/other", false, false));
    // Over to a sibling: a/ and a/b/ no longer apply.
    f.change_to(b"c", &root, &dest);
    assert!(f.protected(b"c/top.y", false, false));
    assert!(!f.protected(b"c/in_a", false, false));
    assert!(!f.protected(b"c/in_b", false, false));
    // Back up, then down one step by hand, as a doomed directory is.
    f.change_to(b"a", &root, &dest);
    assert!(!f.protected(b"a/in_b", false, false));
    f.enter(b"a/b", &root, &dest);
    assert!(f.protected(b"a/b/in_b", false, true));
    f.leave();
    assert!(!f.protected(b"a/in_b", false, false));
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn perishable_rules_keep_nothing_in_a_doomed_directory() {
    let (d, root, dest) = tree("perish");
    let mut f = filter(&[b"-p *.o", b"- *.keep"], BlockSums::AsAsked);
    f.change_to(b".", &root, &dest);
    assert!(f.protected(b"x.o", false, false));
    assert!(!f.protected(b"x.o", false, true));
    assert!(f.protected(b"x.keep", false, true));
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn write_only_reads_no_file_and_keeps_its_directory_whole() {
    let (d, root, dest) = tree("wo");
    let mut f = filter(&[b": .rf"], BlockSums::Coarse);
    f.change_to(b"c", &root, &dest);
    // The top holds a rule file: everything below it is kept.
    assert!(f.protected(b"c/anything", false, false));
    assert!(std::mem::take(&mut f.unread));
    std::fs::remove_dir_all(&d).unwrap();
    // Where no rule file is, nothing is sealed.
    let (d, root, dest) = tree("wo2");
    std::fs::remove_file(d.join("dst/.rf")).unwrap();
    let mut f = filter(&[b": .rf"], BlockSums::Blind);
    f.change_to(b"c", &root, &dest);
    assert!(!f.protected(b"c/anything", false, false));
    f.change_to(b"a", &root, &dest);
    assert!(f.protected(b"a/anything", false, false));
    f.change_to(b"c", &root, &dest);
    assert!(!f.protected(b"c/anything", false, false));
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn no_list_protects_nothing() {
    let (d, root, dest) = tree("none");
    let mut f = DelFilter::new(None, false, BlockSums::AsAsked);
    f.change_to(b"a/b", &root, &dest);
    assert!(!f.protected(b"a/b/in_b", false, false));
    std::fs::remove_dir_all(d).unwrap();
}
