//! Round trips through the encoder, and hostile lists.

use super::*;
use crate::flist::{EntryFlags, FileKind, FlistEncoder};

fn opts(protocol: u32, varint: bool) -> FlistOptions {
    FlistOptions {
        protocol,
        varint_flags: varint,
        preserve_uid: true,
        preserve_gid: true,
        preserve_links: true,
        preserve_devices: true,
        preserve_specials: true,
        preserve_hard_links: true,
        checksum_len: None,
        numeric_ids: true,
        inc_recurse: false,
        safe_flist: true,
        preserve_atimes: false,
        meta: Default::default(),
    }
}

fn sample() -> Vec<FileEntry> {
    let mut d = FileEntry::new(b".".to_vec(), 0o040755);
    d.flags = EntryFlags {
        top_dir: true,
        content_dir: true,
        implied_dir: false,
    };
    d.mtime = 1_700_000_000;
    let mut f = FileEntry::new(b"a file.txt".to_vec(), 0o100644);
    f.size = 1 << 33;
    f.mtime = 1_700_000_001;
    f.mtime_nsec = 123_456_789;
    f.uid = 1000;
    f.gid = 100;
    let mut l = FileEntry::new(b"link".to_vec(), 0o120777);
    l.link_target = Some(b"a file.txt".to_vec());
    l.size = 10;
    l.mtime = 1_700_000_001;
    l.uid = 1000;
    l.gid = 100;
    let mut s = FileEntry::new(b"sub".to_vec(), 0o040700);
    s.mtime = 5;
    s.flags = EntryFlags {
        content_dir: true,
        ..EntryFlags::default()
    };
    let mut c = FileEntry::new(b"sub/dev".to_vec(), 0o020600);
    c.rdev = (4, 300);
    vec![d, f, l, s, c]
}

#[test]
fn round_trip_all_protocols() {
    for (p, v) in [
        (27, false),
        (28, false),
        (29, false),
        (30, false),
        (30, true),
        (31, true),
        (32, true),
    ] {
        let o = opts(p, v);
        let mut enc = FlistEncoder::new(o);
        let mut buf = Vec::new();
        let mut list = sample();
        if p < 28 {
            // Before 28, -H sends device and inode of every regular file
            // (the sender's walk records them for all files).
            for (i, e) in list.iter_mut().enumerate().filter(|(_, e)| e.is_file()) {
                e.hlink = Some((7, i as u64));
            }
        }
        for e in &list {
            enc.encode(e, &mut buf, &mut |_| None, &mut |_| None);
        }
        enc.end(&mut buf, 0);
        let (got, err) = FlistDecoder::new(o, FlistLimits::default())
            .read_list(&mut &buf[..])
            .unwrap();
        assert_eq!(err, 0);
        assert_eq!(got.len(), list.len(), "protocol {p}");
        for (a, b) in got.iter().zip(&list) {
            assert_eq!(a.name, b.name, "protocol {p}");
            assert_eq!(a.mode, b.mode);
            assert_eq!(a.mtime, b.mtime);
            assert_eq!(
                a.size,
                if b.is_file() || b.kind() == FileKind::Symlink {
                    b.size
                } else {
                    0
                }
            );
            assert_eq!(a.link_target, b.link_target);
            assert_eq!((a.uid, a.gid), (b.uid, b.gid));
            if p >= 31 {
                assert_eq!(a.mtime_nsec, b.mtime_nsec);
            }
            if b.kind() == FileKind::Device && p >= 28 {
                assert_eq!(a.rdev, b.rdev);
            }
        }
    }
}

fn one_entry(name: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    crate::wire::put_varint(&mut v, 0x4); // flags: EXTENDED (no others)
    v.push(name.len() as u8);
    v.extend_from_slice(name);
    crate::wire::put_varlong(&mut v, 0, 3);
    crate::wire::put_varlong(&mut v, 0, 4);
    v.extend_from_slice(&0o100644i32.to_le_bytes());
    v.extend_from_slice(&[0, 0]); // uid, gid varints
    v
}

/// A whole list of one-entry records with its end marker (protocol 30+
/// with varint flags: a zero flags varint, then the io_error varint).
fn list_of(names: &[&[u8]]) -> Vec<u8> {
    let mut v = Vec::new();
    for n in names {
        v.extend(one_entry(n));
    }
    crate::wire::put_varint(&mut v, 0);
    crate::wire::put_varint(&mut v, 0);
    v
}

fn parse(buf: &[u8], limits: FlistLimits) -> Result<usize, String> {
    FlistDecoder::new(opts(32, true), limits)
        .read_list(&mut &buf[..])
        .map(|(l, _)| l.len())
        .map_err(|e| e.to_string())
}

#[test]
fn rejects_unsafe_names() {
    // The same list with a safe name parses: only the name decides.
    assert_eq!(parse(&list_of(&[b"a/b"]), FlistLimits::default()), Ok(1));
    for bad in [
        &b"../x"[..],
        b"/etc/passwd",
        b"a/../../x",
        b"a//b",
        b"a/./b",
        b"a\0b",
        b"",
    ] {
        let r = parse(&list_of(&[bad]), FlistLimits::default());
        assert!(r.is_err(), "{:?}", String::from_utf8_lossy(bad));
    }
}

#[test]
fn rejects_hardlink_without_h() {
    let mut o = opts(32, true);
    o.preserve_hard_links = false;
    let mut v = Vec::new();
    crate::wire::put_varint(&mut v, (xmit::HLINKED | xmit::HLINK_FIRST) as i32);
    v.push(1);
    v.push(b'a');
    let r = FlistDecoder::new(o, FlistLimits::default()).read_list(&mut &v[..]);
    assert!(matches!(r, Err(FlistError::Invalid(m)) if m.contains("without -H")));
}

#[test]
fn rejects_forward_hardlink_reference() {
    let mut v = Vec::new();
    crate::wire::put_varint(&mut v, xmit::HLINKED as i32);
    v.push(1);
    v.push(b'a');
    crate::wire::put_varint(&mut v, 5);
    let r = FlistDecoder::new(opts(32, true), FlistLimits::default()).read_list(&mut &v[..]);
    assert!(r.is_err());
}

#[test]
fn caps_entries() {
    let names: Vec<[u8; 1]> = (0..5u8).map(|i| [b'a' + i]).collect();
    let names: Vec<&[u8]> = names.iter().map(|n| &n[..]).collect();
    let limits = FlistLimits {
        max_entries: 3,
        max_path: 4096,
        ..FlistLimits::default()
    };
    // Exactly at the cap is fine; one more is refused.
    assert_eq!(parse(&list_of(&names[..3]), limits), Ok(3));
    assert!(parse(&list_of(&names[..4]), limits).is_err());
    assert!(parse(&list_of(&names), limits).is_err());
}

/// Under incremental recursion the ceiling counts the entries held at
/// once: every list handed over counts, until the caller says how many
/// of them it still holds (it frees lists the client is done with).
#[test]
fn caps_the_entries_held_not_the_tree() {
    let names: Vec<&[u8]> = vec![b"a", b"b", b"c"];
    let limits = FlistLimits {
        max_entries: 5,
        max_held: 5,
        max_path: 4096,
        ..FlistLimits::default()
    };
    let read = |dec: &mut FlistDecoder| -> Result<usize, String> {
        let buf = list_of(&names);
        let r = &mut &buf[..];
        while read_via::<_, FlistError, FlistError>(r, "the file list", |x| dec.step(x))
            .map_err(|e| e.to_string())?
        {}
        Ok(dec.next_list(0).0.len())
    };
    let fresh = || FlistDecoder::new(opts(32, true), limits);
    // Nothing freed: three and three pass five.
    let mut dec = fresh();
    assert_eq!(read(&mut dec), Ok(3));
    let err = read(&mut dec).unwrap_err();
    assert!(err.contains("more than 5 entries"), "{err}");
    // Two of the first three still held: five in all, at the ceiling.
    let mut dec = fresh();
    assert_eq!(read(&mut dec), Ok(3));
    dec.set_held(2);
    assert_eq!(read(&mut dec), Ok(3));
    // Three held: one too many.
    let mut dec = fresh();
    assert_eq!(read(&mut dec), Ok(3));
    dec.set_held(3);
    assert!(read(&mut dec).is_err());
    // The ceiling per list is the other one: lists of three under a
    // ceiling of three pass as long as the held ones leave room.
    let per_list = FlistLimits {
        max_entries: 3,
        max_held: 100,
        ..limits
    };
    let mut dec = FlistDecoder::new(opts(32, true), per_list);
    for _ in 0..4 {
        assert_eq!(read(&mut dec), Ok(3));
    }
}

/// `--atimes`: every non-directory carries its access time after the
/// mode, left out (`XMIT_SAME_ATIME`) when it equals the previous one;
/// directories carry none and keep no bit for it.
#[test]
fn atimes_round_trip_and_same_atime_bit() {
    for (p, v) in [(28, false), (29, false), (30, true), (31, true), (32, true)] {
        let mut o = opts(p, v);
        o.preserve_atimes = true;
        let mut list = sample();
        for (i, e) in list.iter_mut().enumerate() {
            e.hlink = None;
            e.atime = if e.kind() == FileKind::Dir {
                0
            } else {
                // The symlink shares the file's access time.
                1_600_000_000 + (i as i64 / 3)
            };
        }
        let mut enc = FlistEncoder::new(o);
        let mut buf = Vec::new();
        for e in &list {
            enc.encode(e, &mut buf, &mut |_| None, &mut |_| None);
        }
        enc.end(&mut buf, 0);
        let (got, _) = FlistDecoder::new(o, FlistLimits::default())
            .read_list(&mut &buf[..])
            .unwrap();
        let atimes: Vec<i64> = got.iter().map(|e| e.atime).collect();
        let want: Vec<i64> = list.iter().map(|e| e.atime).collect();
        assert_eq!(atimes, want, "protocol {p}");
        // Without atimes the same list is shorter by two varlongs (the
        // file's and the device's; the symlink's is left out as the same).
        let mut plain = FlistEncoder::new(opts(p, v));
        let mut short = Vec::new();
        for e in &list {
            plain.encode(e, &mut short, &mut |_| None, &mut |_| None);
        }
        plain.end(&mut short, 0);
        let mut one = Vec::new();
        crate::wire::put_varlong(&mut one, 1_600_000_000, 4);
        // (Below 30 the symlink's SAME_ATIME bit may need the second
        // flag byte.)
        let extra = buf.len() - short.len() - 2 * one.len();
        assert!(extra <= 1, "protocol {p}: {extra}");
    }
}

proptest::proptest! {
    /// The check of a received name that trusts the previous name's
    /// components accepts and refuses exactly what the full check does,
    /// for any previous name that passed and any suffix.
    #[test]
    fn prefix_trusting_name_check_matches_the_full_check(
        prev in proptest::collection::vec(proptest::sample::select(vec![b'a', b'.', b'/', 0u8]), 0..10),
        keep in 0usize..12,
        suffix in proptest::collection::vec(proptest::sample::select(vec![b'a', b'.', b'/', 0u8]), 0..8),
    ) {
        // A previous name is one that passed, or none (the list's start).
        let prev = if check_name(&prev).is_ok() { prev } else { Vec::new() };
        let keep = keep.min(prev.len());
        let mut name = prev[..keep].to_vec();
        name.extend_from_slice(&suffix);
        let full = check_name(&name).map_err(|e| e.to_string());
        let quick = check_new_name(&name, keep).map_err(|e| e.to_string());
        proptest::prop_assert_eq!(quick, full);
    }
}
