#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::sum_head::*;

fn head(len: u64, proto: u32, dl: usize) -> SumHead {
    SumHead::for_file(len, proto, None, dl, false).expect("sizing")
}

#[test]
fn sizing_small_and_sqrt() {
    let h = head(0, 31, 16);
    assert_eq!(
        (h.count, h.block_len, h.s2_len, h.remainder),
        (0, 700, 2, 0)
    );
    let h = head(1_500, 31, 16);
    assert_eq!(
        (h.count, h.block_len, h.s2_len, h.remainder),
        (3, 700, 2, 100)
    );
    let h = head(1_000_000, 31, 16);
    assert_eq!(
        (h.count, h.block_len, h.s2_len, h.remainder),
        (1000, 1000, 2, 0)
    );
    let h = head(1 << 30, 31, 16);
    assert_eq!(
        (h.count, h.block_len, h.s2_len, h.remainder),
        (32768, 32768, 3, 0)
    );
    // Values printed by rsync 3.5.0 --debug=deltasum2 for these sizes.
    let h = head(490_001, 32, 16);
    assert_eq!(
        (h.count, h.block_len, h.s2_len, h.remainder),
        (701, 700, 2, 1)
    );
    let h = head(3_000_000_000, 32, 16);
    assert_eq!(
        (h.count, h.block_len, h.s2_len, h.remainder),
        (54777, 54768, 4, 28032)
    );
    // Large files hit the per-protocol maximum block length.
    let h = head(1 << 40, 31, 16);
    assert_eq!(h.block_len, MAX_BLOCK_SIZE);
    let h = head(1 << 40, 29, 16);
    assert_eq!(h.block_len, 1 << 20);
    // The strong length never exceeds the digest.
    let h = head(1 << 40, 31, 8);
    assert!(h.s2_len <= 8);
    let h = SumHead::for_file(5000, 31, None, 8, true).expect("redo");
    assert_eq!(h.s2_len, 8);
    let h = SumHead::for_file(5000, 31, None, 16, true).expect("redo");
    assert_eq!(h.s2_len, 16);
}

#[test]
fn explicit_block_size() {
    let h = SumHead::for_file(10_000, 31, Some(4096), 16, false).expect("ok");
    assert_eq!(
        (h.count, h.block_len, h.remainder),
        (3, 4096, 10_000 - 8192)
    );
    assert!(SumHead::for_file(10, 31, Some(MAX_BLOCK_SIZE + 1), 16, false).is_err());
    assert!(SumHead::for_file(10, 29, Some(MAX_BLOCK_SIZE + 1), 16, false).is_ok());
    assert!(SumHead::for_file(u64::MAX, 31, None, 16, false).is_err());
    // 2^31 blocks of 1 byte overflow the int32 count.
    assert!(SumHead::for_file(1 << 31, 31, Some(1), 16, false).is_err());
}

#[test]
fn block_lengths() {
    let h = head(1_500, 31, 16);
    assert_eq!(h.block_len_of(0), 700);
    assert_eq!(h.block_len_of(2), 100);
    assert_eq!(h.basis_len(), 1_500);
    assert_eq!(head(1_400, 31, 16).basis_len(), 1_400);
}

fn raw(vals: &[i32]) -> Vec<u8> {
    vals.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[test]
fn roundtrip_and_proto_26_layout() {
    let h = head(123_456, 31, 16);
    let mut v = Vec::new();
    h.encode(31, &mut v);
    assert_eq!(v.len(), 16);
    assert_eq!(SumHead::decode(&v, 31, 16), Ok((h, 16)));
    let mut r = &v[..];
    assert_eq!(SumHead::read_from(&mut r, 31, 16).expect("read"), h);
    let mut v = Vec::new();
    h.encode(26, &mut v);
    assert_eq!(v.len(), 12);
    let (d, n) = SumHead::decode(&v, 26, 16).expect("decode");
    assert_eq!((n, d.count, d.s2_len), (12, h.count, 2));
    assert_eq!(
        SumHead::decode(&v[..11], 26, 16),
        Err(SumHeadError::Incomplete("sum head"))
    );
    assert!(SumHead::read_from(&mut &v[..5], 31, 16).is_err());
}

#[test]
fn decode_rejects_hostile_heads() {
    let bad: &[&[i32]] = &[
        &[-1, 700, 2, 0],                         // negative count
        &[(MAX_SUM_COUNT + 1) as i32, 700, 2, 0], // above our cap
        &[1, 0, 2, 0],                            // CVE-2026-53792
        &[1, -700, 2, 0],
        &[1, (MAX_BLOCK_SIZE + 1) as i32, 2, 0],
        &[1, 700, 17, 0], // CVE-2024-12084
        &[1, 700, 9, 0],  // above an 8-byte digest
        &[1, 700, -1, 0],
        &[1, 700, 2, 701],
        &[1, 700, 2, -1],
    ];
    for b in bad {
        assert!(SumHead::decode(&raw(b), 31, 8).is_err(), "{b:?}");
    }
    // Accepted edge cases: no blocks with zero length, remainder == blength,
    // old protocols' larger blocks.
    assert!(SumHead::decode(&raw(&[0, 0, 0, 0]), 31, 16).is_ok());
    assert!(SumHead::decode(&raw(&[1, 700, 2, 700]), 31, 16).is_ok());
    assert!(SumHead::decode(&raw(&[1, 1 << 20, 2, 0]), 29, 16).is_ok());
}

#[test]
fn default_block_len_is_the_automatic_sizing() {
    for (len, proto) in [
        (0u64, 31u32),
        (1, 31),
        (490_000, 32),
        (490_001, 32),
        (3_000_000_000, 32),
        (1 << 40, 31),
        (1 << 40, 29),
        (u64::MAX, 32),
    ] {
        let auto = SumHead::for_file(len.min(i64::MAX as u64), proto, None, 16, false)
            .map(|h| h.block_len);
        let floor = SumHead::default_block_len(len, proto);
        if let Ok(b) = auto {
            assert_eq!(floor, b, "{len} at {proto}");
        }
        assert!(floor >= BLOCK_SIZE);
    }
}

mod reader {
    use super::super::sum_head::*;
    use crate::wire::{complete, CodecError, Decoded, Fail, Reader};

    fn raw(vals: &[i32]) -> Vec<u8> {
        vals.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    #[test]
    fn vectors() {
        let mut bytes = raw(&[3, 700, 2, 100]);
        bytes.push(0xAA);
        let mut r = Reader::new(&bytes);
        let h = SumHead::from_reader(&mut r, 31, 16).unwrap();
        assert_eq!(
            (h.count, h.block_len, h.s2_len, h.remainder),
            (3, 700, 2, 100)
        );
        assert_eq!(r.rest(), [0xAA]);
        // Protocol 26: three fields, s2length is the short sum length.
        let mut r = Reader::new(&bytes);
        let h = SumHead::from_reader(&mut r, 26, 16).unwrap();
        assert_eq!(
            (h.count, h.block_len, h.s2_len, h.remainder),
            (3, 700, 2, 2)
        );
        assert_eq!(r.used(), 12);
    }

    #[test]
    fn every_cut_is_incomplete() {
        for (proto, len) in [(31u32, 16usize), (29, 16), (26, 12)] {
            let h = SumHead::for_file(123_456, proto, None, 16, false).unwrap();
            let mut v = Vec::new();
            h.encode(proto, &mut v);
            assert_eq!(v.len(), len);
            for cut in 0..len {
                let d = complete(&v[..cut], |r| SumHead::from_reader(r, proto, 16)).unwrap();
                assert_eq!(d, Decoded::Incomplete { needed: len - cut }, "cut {cut}");
            }
            let d = complete(&v, |r| SumHead::from_reader(r, proto, 16)).unwrap();
            let old = SumHead::read_from(&mut &v[..], proto, 16).unwrap();
            assert_eq!(
                d,
                Decoded::Complete {
                    value: old,
                    consumed: len
                }
            );
        }
    }

    #[test]
    fn refusals_keep_their_words() {
        let cases: &[(&[i32], &str)] = &[
            (&[-1, 700, 2, 0], "negative count"),
            (&[1, 0, 2, 0], "zero block length with blocks"),
            (&[1, 700, 17, 0], "s2length above digest length"),
            (&[1, 700, 2, 701], "remainder above block length"),
        ];
        for (vals, words) in cases {
            let v = raw(vals);
            let e = SumHead::from_reader(&mut Reader::new(&v), 31, 16).unwrap_err();
            assert_eq!(e, Fail::Invalid(CodecError::OutOfRange(words)));
            assert_eq!(
                SumHead::decode(&v, 31, 16),
                Err(SumHeadError::Invalid(words))
            );
            match SumHead::read_from(&mut &v[..], 31, 16) {
                Err(SumHeadReadError::Invalid(SumHeadError::Invalid(w))) => assert_eq!(w, *words),
                other => panic!("{other:?}"),
            }
        }
        // A cut stream is the stream's own error.
        match SumHead::read_from(&mut &raw(&[1, 700])[..], 31, 16) {
            Err(SumHeadReadError::Io(e)) => {
                assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof)
            }
            other => panic!("{other:?}"),
        }
    }
}
