//! Unit tests of the snapshot layout, the fill and copy-on-write.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::PathBuf;

use super::snapshot::*;
use super::{RelPath, Root, Writer};
use crate::policy::OverwritePermit;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rrsync-snap-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn at(secs: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(secs).unwrap()
}

#[test]
fn names_parse_and_format() {
    let t = at(1_796_422_503);
    let n = name_at(t);
    assert_eq!(n, "2026-12-04T221503Z");
    assert_eq!(snapshot_time(&n), Some(t));
    assert!(is_snapshot_name("2026-12-04T221503Z-2"));
    for bad in [
        ".partial",
        "2026-12-04T221503",
        "2026-12-04T221503Z-",
        "2026-12-04T221503Z-x",
        "2026-13-04T221503Z",
        "../2026-12-04T221503Z",
        "",
    ] {
        assert!(!is_snapshot_name(bad), "{bad}");
    }
}

#[test]
fn a_push_starts_from_latest_and_changes_only_its_own_copy() {
    let d = tmp("cow");
    let (root, p) = begin(Root::open(&d).unwrap(), at(1_000_000_000)).unwrap();
    assert_eq!(p.previous(), None);
    let w = Writer::new(&root);
    let (mut f, t) = w.create_temp(&RelPath::root(), b"f", 0o644).unwrap();
    std::io::Write::write_all(&mut f, b"hello").unwrap();
    let f_path = RelPath::new(b"f").unwrap();
    w.place(&t, &f_path, None).unwrap();
    w.mkdir(&RelPath::new(b"sub").unwrap(), 0o755).unwrap();
    w.symlink(b"f", &RelPath::new(b"sub/l").unwrap()).unwrap();
    let first = p.publish().unwrap();
    assert_eq!(first, "2001-09-09T014640Z");
    drop(w);
    drop((root, p));
    assert_eq!(
        std::fs::read_link(d.join("latest")).unwrap(),
        PathBuf::from(format!(".snapshots/{first}"))
    );

    // The second push: same second, so the name gets a suffix.
    let (root, p) = begin(Root::open(&d).unwrap(), at(1_000_000_000)).unwrap();
    assert_eq!(p.previous(), Some(first.as_str()));
    let old = d.join(".snapshots").join(&first);
    let new = d.join(".snapshots/.partial");
    assert_eq!(
        std::fs::metadata(old.join("f")).unwrap().ino(),
        std::fs::metadata(new.join("f")).unwrap().ino(),
        "unchanged files are hard links"
    );
    assert_eq!(
        std::fs::read_link(new.join("sub/l")).unwrap(),
        PathBuf::from("f")
    );
    let w = Writer::new(&root);
    let permit = OverwritePermit::for_tests();
    w.chmod(&f_path, 0o600, Some(&permit)).unwrap();
    w.set_times(&f_path, Some((5, 0)), None, Some(&permit))
        .unwrap();
    assert!(
        w.open_for_update(&f_path, &permit).is_err(),
        "never in place"
    );
    let second = p.publish().unwrap();
    assert_eq!(second, format!("{first}-2"));
    let (o, n) = (
        std::fs::metadata(old.join("f")).unwrap(),
        std::fs::metadata(d.join(".snapshots").join(&second).join("f")).unwrap(),
    );
    assert_ne!(o.ino(), n.ino(), "a changed file got its own copy");
    assert_eq!(
        (o.permissions().mode() & 0o777, o.mtime()),
        (0o644, o.mtime())
    );
    assert_ne!(o.mtime(), 5);
    assert_eq!((n.permissions().mode() & 0o777, n.mtime()), (0o600, 5));
    assert_eq!(std::fs::read(old.join("f")).unwrap(), b"hello");
    assert_eq!(std::fs::read(d.join("latest/f")).unwrap(), b"hello");

    let (names, latest) = list(&Root::open(&d).unwrap()).unwrap();
    assert_eq!(names, vec![first.clone(), second.clone()]);
    assert_eq!(latest.as_deref(), Some(second.as_str()));
}

#[test]
fn one_push_at_a_time_and_a_failed_one_is_resumed() {
    let d = tmp("lock");
    let (root, p) = begin(Root::open(&d).unwrap(), at(0)).unwrap();
    assert!(matches!(
        begin(Root::open(&d).unwrap(), at(1)),
        Err(SnapshotError::Busy)
    ));
    Writer::new(&root)
        .mkdir(&RelPath::new(b"kept").unwrap(), 0o755)
        .unwrap();
    drop((root, p)); // the push failed: nothing published
    assert!(std::fs::symlink_metadata(d.join("latest")).is_err());
    let (_root, p) = begin(Root::open(&d).unwrap(), at(2)).unwrap();
    assert!(d.join(".snapshots/.partial/kept").is_dir(), "resumed");
    p.publish().unwrap();
}

#[test]
fn a_latest_that_is_not_a_snapshot_link_is_refused() {
    let d = tmp("bad");
    std::fs::create_dir_all(d.join(".snapshots/x")).unwrap();
    std::os::unix::fs::symlink("/etc", d.join("latest")).unwrap();
    assert!(matches!(
        begin(Root::open(&d).unwrap(), at(0)),
        Err(SnapshotError::BadLatest)
    ));
    std::fs::remove_file(d.join("latest")).unwrap();
    std::os::unix::fs::symlink(".snapshots/x", d.join("latest")).unwrap();
    assert!(matches!(
        begin(Root::open(&d).unwrap(), at(0)),
        Err(SnapshotError::BadLatest)
    ));
}

#[test]
fn remove_takes_a_snapshot_away_without_following_links() {
    let d = tmp("rm");
    let outside = tmp("rm-outside");
    std::fs::write(outside.join("keep"), b"x").unwrap();
    let s = d.join(".snapshots/2026-01-01T000000Z");
    std::fs::create_dir_all(s.join("a/b")).unwrap();
    std::fs::write(s.join("a/b/f"), b"x").unwrap();
    std::os::unix::fs::symlink(&outside, s.join("a/out")).unwrap();
    remove(&Root::open(&d).unwrap(), "2026-01-01T000000Z").unwrap();
    assert!(!s.exists());
    assert!(outside.join("keep").exists());
    assert!(remove(&Root::open(&d).unwrap(), "../x").is_err());
}
