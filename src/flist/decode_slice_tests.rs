//! The slice decoders against the stream decoder they replaced (kept as
//! `oracle`): lists from our own encoder at protocols 27 to 32, decoded
//! whole, a byte at a time, in random pieces, cut at every byte, and
//! with bytes changed.

use super::oracle::{self, OldDecoder};
use super::*;
use crate::flist::{read_id_lists, EntryFlags, FileKind, FlistEncoder, IdListsDecoder, IdNameList};
use crate::wire::{complete, Decoded, WireError};

/// Protocol, varint flags, `-c`, inline id names (always off: our sender
/// has no incremental recursion, see `inline_id_names`), id 0 named,
/// io_error.
type Variant = (u32, bool, Option<usize>, bool, bool, i32);

const VARIANTS: [Variant; 7] = [
    (27, false, None, false, false, 0),
    (29, false, Some(16), false, false, 0),
    (29, false, None, false, false, 5),
    (30, false, None, false, false, 23),
    (30, true, None, false, true, 0),
    (31, true, None, false, false, 0),
    (32, true, Some(16), false, true, 7),
];

fn opts_of(v: Variant) -> FlistOptions {
    let (protocol, varint_flags, checksum_len, inc_recurse, _, _) = v;
    FlistOptions {
        protocol,
        varint_flags,
        preserve_uid: true,
        preserve_gid: true,
        preserve_links: true,
        preserve_devices: true,
        preserve_specials: true,
        preserve_hard_links: true,
        checksum_len,
        numeric_ids: false,
        inc_recurse,
        safe_flist: protocol >= 29,
        preserve_atimes: false,
        meta: Default::default(),
    }
}

/// Files, directories, symlinks, a hard-link group, devices, a FIFO and
/// long names sharing prefixes.
fn sample(p: u32) -> Vec<FileEntry> {
    let e = |name: &[u8], mode: u32, mtime: i64| {
        let mut e = FileEntry::new(name.to_vec(), mode);
        e.mtime = mtime;
        e
    };
    let mut root = e(b".", 0o040755, 1_700_000_000);
    root.flags = EntryFlags {
        top_dir: true,
        content_dir: true,
        implied_dir: false,
    };
    let mut dir = e(b"a", 0o040700, 1_700_000_000);
    dir.flags.content_dir = true;
    let mut f1 = e(b"a/file1", 0o100644, 1_700_000_001);
    f1.size = 1 << 33;
    f1.mtime_nsec = 123_456_789;
    f1.uid = 1000;
    f1.gid = 100;
    f1.checksum = Some((0..16).collect());
    let mut leader = e(b"a/file2", 0o100600, 1_600_000_000);
    leader.size = 77;
    leader.uid = 1001;
    leader.gid = 100;
    leader.hlink = Some((7, 42));
    let mut follower = leader.clone();
    follower.name = b"a/file3".to_vec();
    if p >= 30 {
        follower.hlink_first = Some(3);
    }
    let mut link = e(b"a/link", 0o120777, 1_600_000_000);
    link.link_target = Some(b"file1".to_vec());
    link.size = 5;
    link.uid = 1001;
    let mut long1 = b"a/".to_vec();
    long1.extend(std::iter::repeat_n(b'x', 300));
    let mut long2 = long1.clone();
    long2.push(b'y');
    let long1 = e(&long1, 0o100644, 5);
    let mut long2 = e(&long2, 0o100644, 5);
    long2.gid = 0;
    let mut null = e(b"dev/null", 0o020666, 5);
    null.rdev = (1, 3);
    let mut sda = e(b"dev/sda", 0o060660, 5);
    sda.rdev = (8, 0);
    let mut big = e(b"dev/zbig", 0o020600, 6);
    big.rdev = (300, 70_000);
    let fifo = e(b"fifo", 0o010644, 6);
    let mut z = e(b"z", 0o100644, 6);
    z.uid = 1000;
    let mut list = vec![
        root, dir, f1, leader, follower, link, long1, long2, null, sda, big, fifo, z,
    ];
    if p < 28 {
        // Before 28, -H sends device and inode of every regular file.
        for (i, f) in list.iter_mut().enumerate().filter(|(_, f)| f.is_file()) {
            f.hlink.get_or_insert((9, i as u64));
        }
    }
    list
}

/// The list, its end marker and the id lists, as our sender writes them.
fn encoded(v: Variant) -> Vec<u8> {
    let o = opts_of(v);
    let (_, _, _, _, id0, io_error) = v;
    let mut enc = FlistEncoder::new(o);
    let mut buf = Vec::new();
    let name = |id: u32| {
        id.is_multiple_of(2)
            .then(|| format!("name{id}").into_bytes())
    };
    for e in &sample(o.protocol) {
        let group = |id: u32| {
            name(id).map(|mut n| {
                n.insert(0, b'g');
                n
            })
        };
        enc.encode(e, &mut buf, &mut |id| name(id), &mut |id| group(id));
    }
    enc.end(&mut buf, io_error);
    let id0 = id0.then_some(&b"root"[..]);
    enc.uids.encode(&mut buf, o.protocol, id0);
    enc.gids.encode(&mut buf, o.protocol, id0);
    buf
}

/// Everything a list and its id lists decode to.
#[derive(Debug, Clone, PartialEq)]
struct Outcome {
    entries: Vec<FileEntry>,
    io_error: i32,
    ids: Option<(IdNameList, IdNameList)>,
    /// Bytes after the id lists, not read.
    left: usize,
}

/// The stream decoder's result; `Err(None)` when the bytes end early.
fn old_path(v: Variant, bytes: &[u8]) -> Result<Outcome, Option<String>> {
    let o = opts_of(v);
    let mut r = bytes;
    let err = |e: FlistError| match e {
        FlistError::Wire(WireError::Truncated(_)) => None,
        e => Some(e.to_string()),
    };
    let (entries, io_error) = OldDecoder::new(o, FlistLimits::default())
        .read_list(&mut r)
        .map_err(err)?;
    let ids = oracle::read_id_lists(&mut r, &o, v.4).map_err(err)?;
    Ok(Outcome {
        entries,
        io_error,
        ids: Some(ids),
        left: r.len(),
    })
}

/// The bridge over the slice decoders, as the receiver calls it.
fn bridge(v: Variant, bytes: &[u8]) -> Result<Outcome, Option<String>> {
    let o = opts_of(v);
    let mut r = bytes;
    let err = |e: FlistError| match e {
        FlistError::Wire(WireError::Truncated(_)) => None,
        e => Some(e.to_string()),
    };
    let (entries, io_error) = FlistDecoder::new(o, FlistLimits::default())
        .read_list(&mut r)
        .map_err(err)?;
    let ids = read_id_lists(&mut r, &o, v.4).map_err(err)?;
    Ok(Outcome {
        entries,
        io_error,
        ids: Some(ids),
        left: r.len(),
    })
}

/// Decodes `bytes` arriving in pieces that end at `ends` (then at the
/// end), re-running the decoder after every "incomplete". `ids` is `None`
/// when the bytes ended first; `Err` carries the error text.
fn sliced(v: Variant, bytes: &[u8], ends: &[usize]) -> Result<Outcome, String> {
    let o = opts_of(v);
    let mut dec = FlistDecoder::new(o, FlistLimits::default());
    // Names decode into given-back allocations whatever they held.
    dec.recycle_names(vec![b"an old name's bytes".to_vec(); 3]);
    let mut ids = IdListsDecoder::new(&o, v.4);
    let mut returned = Vec::new();
    let mut list_done = false;
    let mut lists = None;
    let mut start = 0;
    for &end in ends.iter().chain([&bytes.len()]) {
        let end = end.clamp(start, bytes.len());
        while lists.is_none() {
            let buf = &bytes[start..end];
            let d = if list_done {
                complete(buf, |r| ids.decode(r)).map(|d| match d {
                    Decoded::Complete { value, consumed } => {
                        lists = value;
                        Some(consumed)
                    }
                    Decoded::Incomplete { .. } => None,
                })
            } else {
                complete(buf, |r| dec.decode_entry(r)).map(|d| match d {
                    Decoded::Complete { value, consumed } => {
                        match value {
                            Some(e) => returned.push(e),
                            None => list_done = true,
                        }
                        Some(consumed)
                    }
                    Decoded::Incomplete { .. } => None,
                })
            };
            match d.map_err(|e| e.to_string())? {
                Some(consumed) => start += consumed,
                None => break,
            }
        }
    }
    let io_error = dec.io_error;
    let (entries, _) = dec.finish();
    assert_eq!(
        returned, entries,
        "what decode_entry returned is what it kept"
    );
    let left = if lists.is_some() {
        bytes.len() - start
    } else {
        0
    };
    Ok(Outcome {
        entries,
        io_error,
        ids: lists,
        left,
    })
}

#[test]
fn whole_and_byte_by_byte_equal_the_stream_decoder() {
    for v in VARIANTS {
        let bytes = encoded(v);
        let want = old_path(v, &bytes).unwrap();
        assert_eq!(want.entries.len(), sample(v.0).len(), "{v:?}");
        assert_eq!(want.left, 0, "every byte used");
        assert_eq!(want.io_error, v.5);
        let (users, groups) = want.ids.clone().unwrap();
        assert!(!users.is_empty() && !groups.is_empty(), "{v:?}");
        assert_eq!(users.iter().any(|(i, _)| *i == 0), v.4);
        assert_eq!(sliced(v, &bytes, &[]), Ok(want.clone()), "{v:?} whole");
        let each: Vec<usize> = (0..bytes.len()).collect();
        assert_eq!(sliced(v, &bytes, &each), Ok(want.clone()), "{v:?} bytewise");
        assert_eq!(bridge(v, &bytes), Ok(want), "{v:?} bridge");
    }
}

#[test]
fn the_sample_covers_every_kind_and_long_names() {
    let v = VARIANTS[6];
    let got = sliced(v, &encoded(v), &[]).unwrap().entries;
    for k in [
        FileKind::Dir,
        FileKind::File,
        FileKind::Symlink,
        FileKind::Device,
        FileKind::Special,
    ] {
        assert!(got.iter().any(|e| e.kind() == k), "{k:?}");
    }
    assert_eq!(got[4].hlink_first, Some(3));
    assert_eq!(got[4].size, 77);
    assert_eq!(got[7].name.len(), 303);
    assert_eq!(got[10].rdev, (300, 70_000));
    assert_eq!(
        got[2].checksum.as_deref(),
        Some(&(0..16).collect::<Vec<u8>>()[..])
    );
}

#[test]
fn a_cut_at_every_byte_is_incomplete_never_wrong() {
    for v in VARIANTS {
        let bytes = encoded(v);
        let want = old_path(v, &bytes).unwrap();
        for cut in 0..bytes.len() {
            let got =
                sliced(v, &bytes[..cut], &[]).unwrap_or_else(|e| panic!("{v:?} cut {cut}: {e}"));
            assert_eq!(got.ids, None, "{v:?} cut {cut}");
            assert!(
                want.entries.starts_with(&got.entries),
                "{v:?} cut {cut}: a wrong entry"
            );
            assert_eq!(old_path(v, &bytes[..cut]), Err(None), "{v:?} cut {cut}");
        }
    }
}

/// The same list decodes the same with no limits hit: a cap of exactly
/// the entry count passes, one less is refused by both decoders alike.
#[test]
fn the_entry_cap_holds_in_the_slice_decoder() {
    let v = VARIANTS[5];
    let bytes = encoded(v);
    let n = sample(v.0).len();
    for (max, ok) in [(n, true), (n - 1, false)] {
        let limits = FlistLimits {
            max_entries: max,
            max_path: 4096,
            ..FlistLimits::default()
        };
        let mut dec = FlistDecoder::new(opts_of(v), limits);
        let mut r = crate::wire::Reader::new(&bytes);
        let res = loop {
            match dec.decode_entry(&mut r) {
                Ok(Some(_)) => continue,
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        assert_eq!(res.is_ok(), ok, "cap {max}");
        let old = OldDecoder::new(opts_of(v), limits).read_list(&mut &bytes[..]);
        assert_eq!(old.is_ok(), ok);
    }
}

/// Names inline after the ids (protocol 30+, incremental recursion),
/// written by hand: one file with both names, then one with neither.
#[test]
fn inline_id_names() {
    let v: Variant = (31, true, None, true, false, 0);
    let mut b = Vec::new();
    let x = xmit::USER_NAME_FOLLOWS | xmit::GROUP_NAME_FOLLOWS;
    crate::wire::put_varint(&mut b, x as i32);
    b.extend_from_slice(b"\x01f");
    crate::wire::put_varlong(&mut b, 9, 3);
    crate::wire::put_varlong(&mut b, 1_700_000_000, 4);
    b.extend_from_slice(&0o100644i32.to_le_bytes());
    crate::wire::put_varint(&mut b, 1000);
    b.extend_from_slice(b"\x05alice");
    crate::wire::put_varint(&mut b, 100);
    b.extend_from_slice(b"\x05staff");
    let x = xmit::SAME_NAME | xmit::SAME_TIME | xmit::SAME_MODE;
    crate::wire::put_varint(&mut b, x as i32);
    b.extend_from_slice(b"\x01\x01g");
    crate::wire::put_varlong(&mut b, 0, 3);
    crate::wire::put_varint(&mut b, 1001);
    crate::wire::put_varint(&mut b, 101);
    b.extend_from_slice(&[0, 0]); // end of list, io_error 0
    b.extend_from_slice(&[0, 0]); // empty uid and gid lists
    let want = old_path(v, &b).unwrap();
    assert_eq!(want.left, 0);
    let got: Vec<_> = want
        .entries
        .iter()
        .map(|e| (&e.name[..], e.uid, e.gid))
        .collect();
    assert_eq!(got, [(&b"f"[..], 1000, 100), (b"fg", 1001, 101)]);
    assert_eq!(sliced(v, &b, &[]), Ok(want.clone()));
    let each: Vec<usize> = (0..b.len()).collect();
    assert_eq!(sliced(v, &b, &each), Ok(want));
    for cut in 0..b.len() {
        assert_eq!(sliced(v, &b[..cut], &[]).unwrap().ids, None, "cut {cut}");
    }
}

proptest::proptest! {
    #[test]
    fn random_splits_equal_the_stream_decoder(
        which in 0usize..VARIANTS.len(),
        mut ends in proptest::collection::vec(0usize..3000, 0..40),
    ) {
        let v = VARIANTS[which];
        let bytes = encoded(v);
        ends.sort_unstable();
        let want = old_path(v, &bytes).unwrap();
        proptest::prop_assert_eq!(sliced(v, &bytes, &ends), Ok(want));
    }

    #[test]
    fn changed_bytes_decode_as_the_stream_decoder_did(
        which in 0usize..VARIANTS.len(),
        changes in proptest::collection::vec((0usize..3000, proptest::num::u8::ANY), 1..4),
        cut in 0usize..3000,
    ) {
        let v = VARIANTS[which];
        let mut bytes = encoded(v);
        for (at, b) in changes {
            let at = at % bytes.len();
            bytes[at] = b;
        }
        bytes.truncate(cut.max(bytes.len() / 2));
        let want = old_path(v, &bytes);
        let got = sliced(v, &bytes, &[]);
        match &want {
            Ok(w) => proptest::prop_assert_eq!(&got, &Ok(w.clone())),
            Err(None) => proptest::prop_assert!(matches!(&got, Ok(o) if o.ids.is_none()), "{got:?}"),
            Err(Some(m)) => proptest::prop_assert_eq!(&got, &Err(m.clone())),
        }
        proptest::prop_assert_eq!(bridge(v, &bytes), want);
    }
}

/// Given-back name allocations are kept up to a count, and only short
/// ones: a list of long names leaves no megabytes behind.
#[test]
fn only_short_name_allocations_are_kept() {
    let mut dec = FlistDecoder::new(opts_of(VARIANTS[0]), FlistLimits::default());
    dec.recycle_names([Vec::with_capacity(4096), Vec::with_capacity(16)]);
    assert_eq!(dec.spare_names.len(), 1);
    dec.recycle_names((0..2 * MAX_SPARE_NAMES).map(|_| Vec::with_capacity(16)));
    assert_eq!(dec.spare_names.len(), MAX_SPARE_NAMES);
}
