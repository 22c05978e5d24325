//! Byte vectors for `--fuzzy`'s distance and suffix, checked against
//! rsync's `fuzzy_distance` and `find_filename_suffix`.

use super::*;

#[test]
fn distance_matches_rsync() {
    let up = 25 * UNIT;
    let cases: [(&[u8], &[u8], u32); 8] = [
        (b"log.1", b"log.2", 65537),
        (b"report-2024.txt", b"report-2025.txt", 65537),
        (b"a", b"b", 65537),
        (b"abc", b"", 196_902),
        (b"", b"", 0),
        (b"data.tar.gz", b"data.tar", 196_879),
        (b"x\xe9y", b"xey", 65668),
        (b"kitten", b"sitting", 196_723),
    ];
    for (a, b, want) in cases {
        assert_eq!(distance(a, b, up), want, "{a:?} {b:?}");
    }
    // Further apart by length alone than the limit.
    assert_eq!(
        distance(b"abcdefghijklmnopqrstuvwxyz0123", b"ab", up),
        4_294_901_761
    );
}

#[test]
fn suffix_matches_rsync() {
    let cases: [(&[u8], &[u8]); 17] = [
        (b"foo.txt", b".txt"),
        (b"foo.txt~", b".txt"),
        (b"foo.txt.bak", b".txt"),
        (b"foo.c.orig", b".c"),
        (b"a.tar.gz", b".gz"),
        (b"log.1", b".1"),
        (b"log.2024.txt", b".txt"),
        (b"archive.12", b".12"),
        (b"x.~3~", b""),
        (b"x.txt.~3~", b".txt"),
        (b"..hidden", b""),
        (b"foo", b""),
        (b"foo.", b"."),
        (b"foo.old.bak", b".old"),
        (b"v1.2.3", b".2"),
        (b".bashrc", b""),
        (b"f.tar.gz~", b".gz"),
    ];
    for (name, want) in cases {
        assert_eq!(suffix(name), want, "{:?}", String::from_utf8_lossy(name));
    }
}

fn entry(name: &[u8], size: u64, mtime: i64) -> FileEntry {
    let mut e = FileEntry::new(name.to_vec(), 0o100644);
    e.size = size;
    e.mtime = mtime;
    e
}

#[test]
fn same_size_and_time_wins_then_the_nearest_name() {
    let d = FuzzyDir::new(
        b".".to_vec(),
        vec![vec![
            Cand::new(b"app.log.1".to_vec(), 10, 5),
            Cand::new(b"zzz".to_vec(), 99, 7),
            Cand::new(b"empty.log".to_vec(), 0, 5),
        ]],
    );
    assert_eq!(
        d.pick(&entry(b"new", 99, 7), b"new"),
        Some((0, &b"zzz"[..]))
    );
    assert_eq!(
        d.pick(&entry(b"app.log", 1, 1), b"app.log"),
        Some((0, &b"app.log.1"[..]))
    );
    // Nothing within 25 edits, and an empty file is never a basis.
    assert_eq!(d.pick(&entry(&[b'q'; 40], 1, 1), &[b'q'; 40]), None);
    assert_eq!(
        d.pick(&entry(b"empty.log", 0, 5), b"empty.log"),
        Some((0, &b"app.log.1"[..]))
    );
}

#[test]
fn a_file_about_to_change_is_no_basis() {
    let mut d = FuzzyDir::new(
        b".".to_vec(),
        vec![
            vec![Cand::new(b"a.txt".to_vec(), 10, 5)],
            vec![Cand::new(b"b.txt".to_vec(), 10, 5)],
        ],
    );
    assert_eq!(
        d.pick(&entry(b"c.txt", 10, 5), b"c.txt"),
        Some((0, &b"a.txt"[..]))
    );
    d.mark_sent(b"a.txt");
    // The alternate directory's copy (-yy) is the next choice.
    assert_eq!(
        d.pick(&entry(b"c.txt", 10, 5), b"c.txt"),
        Some((1, &b"b.txt"[..]))
    );
}
