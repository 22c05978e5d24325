//! Block sums on the wire: the per-block decoder on bytes, and the stream
//! bridge.

use super::*;
use crate::wire::{complete, Decoded, Fail};
use proptest::prelude::*;

/// The wire form of `sig`'s blocks, as `generate_and_send_sums` writes them.
fn wire(sig: &Signature) -> Vec<u8> {
    let mut out = Vec::new();
    for b in &sig.blocks {
        out.extend_from_slice(&b.weak.to_le_bytes());
        out.extend_from_slice(b.strong.as_bytes());
    }
    out
}

fn sample(len: usize, s2: u32) -> Signature {
    let basis: Vec<u8> = (0..len).map(|i| (i * 31 % 253) as u8).collect();
    let mut head = SumHead::for_file(len as u64, 31, Some(64), 16, false).unwrap();
    head.s2_len = s2;
    signature_of(&basis, head, StrongKind::Md5, 7, true).unwrap()
}

#[test]
fn vectors() {
    let bytes = [0x78, 0x56, 0x34, 0x12, 1, 2, 3];
    let mut r = Reader::new(&bytes);
    let b = BlockSum::decode(&mut r, 2).unwrap();
    assert_eq!(b.weak, 0x1234_5678);
    assert_eq!(b.strong.as_bytes(), [1, 2]);
    assert_eq!(r.rest(), [3]);
    let mut r = Reader::new(&bytes);
    assert_eq!(
        BlockSum::decode(&mut r, 21),
        Err(Fail::Invalid(CodecError::OutOfRange("s2length")))
    );
    // Zero strong bytes: the weak sum alone.
    let b = BlockSum::decode(&mut Reader::new(&bytes), 0).unwrap();
    assert_eq!(b.strong.as_bytes(), [0u8; 0]);
}

#[test]
fn every_cut_is_incomplete() {
    for s2 in [0u32, 2, 5, 16] {
        let sig = sample(64 * 3 + 10, s2);
        let w = wire(&sig);
        let rec = 4 + s2 as usize;
        for (i, want) in sig.blocks.iter().enumerate() {
            let at = i * rec;
            for cut in at..at + rec {
                let d = complete(&w[at..cut], |r| BlockSum::decode(r, s2 as usize)).unwrap();
                assert_eq!(
                    d,
                    Decoded::Incomplete {
                        needed: at + rec - cut
                    }
                );
            }
            let d = complete(&w[at..], |r| BlockSum::decode(r, s2 as usize)).unwrap();
            assert_eq!(
                d,
                Decoded::Complete {
                    value: *want,
                    consumed: rec
                }
            );
        }
        let old = Signature::read_blocks(sig.head, &mut &w[..]).unwrap();
        assert_eq!(old, sig);
    }
}

#[test]
fn stream_errors_are_the_streams() {
    let sig = sample(64 * 4, 3);
    let w = wire(&sig);
    let e = Signature::read_blocks(sig.head, &mut &w[..w.len() - 1]).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
    let mut head = sig.head;
    head.s2_len = 21;
    let e = Signature::read_blocks(head, &mut &w[..]).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    // The bridge takes no byte beyond the last block.
    let mut more = w.clone();
    more.extend_from_slice(b"next");
    let mut r = &more[..];
    assert_eq!(Signature::read_blocks(sig.head, &mut r).unwrap(), sig);
    assert_eq!(r, b"next");
}

proptest! {
    #[test]
    fn any_split_decodes_as_the_stream(len in 0usize..2000, s2 in 0u32..=16, step in 1usize..40) {
        let sig = sample(len, s2);
        let w = wire(&sig);
        let mut got = Vec::new();
        let mut at = 0;
        let mut end = 0;
        while end < w.len() {
            end = (end + step).min(w.len());
            while let Decoded::Complete { value, consumed } =
                complete(&w[at..end], |r| BlockSum::decode(r, s2 as usize)).unwrap()
            {
                got.push(value);
                at += consumed;
            }
        }
        prop_assert_eq!(at, w.len());
        let old = Signature::read_blocks(sig.head, &mut &w[..]).unwrap();
        prop_assert_eq!(&got, &old.blocks);
        prop_assert_eq!(got, sig.blocks);
    }
}
