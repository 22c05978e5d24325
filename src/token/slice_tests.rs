//! The token decoders on bytes: fed in odd splits and cut at every byte,
//! they give exactly the events of the stream bridge, and "incomplete"
//! (never a wrong event) when a record is cut.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::tests::{block_bytes, encode, normalise, Op};
use super::*;
use crate::proto::Compression as C;
use crate::wire::Fail;
use proptest::prelude::*;

/// Blocks in the basis of these tests.
const COUNT: u32 = 200;
const CODECS: [C; 5] = [C::None, C::Zstd, C::Zlib, C::ZlibX, C::Lz4];

/// An event with its bytes copied out.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Owned {
    Lit(Vec<u8>),
    Blk(u32),
    End,
}

fn own(ev: TokenEvent<'_>) -> Owned {
    match ev {
        TokenEvent::Literal(d) => Owned::Lit(d.to_vec()),
        TokenEvent::Block(i) => Owned::Blk(i),
        TokenEvent::End => Owned::End,
    }
}

fn decoder(c: C, proto: u32) -> TokenDecoder {
    let mut d = TokenDecoder::new(c).expect("decoder");
    d.set_protocol(proto);
    d
}

/// What a receiver does after each event: zlib learns matched blocks.
fn see(d: &mut TokenDecoder, ev: &Owned) {
    if let Owned::Blk(i) = ev {
        d.see_block(&block_bytes(*i)).expect("see_block");
    }
}

fn wire_of(c: C, proto: u32, files: &[Vec<Op>]) -> Vec<u8> {
    let mut e = TokenEncoder::new(c, None).expect("encoder");
    e.set_protocol(proto);
    encode(&mut e, files)
}

/// Every event of `nfiles` files through the stream bridge.
fn by_stream(c: C, proto: u32, wire: &[u8], nfiles: usize) -> Vec<Owned> {
    let mut d = decoder(c, proto);
    let mut r = wire;
    let mut out = Vec::new();
    let mut ends = 0;
    while ends < nfiles {
        let ev = own(d.next(&mut r, COUNT).expect("stream"));
        see(&mut d, &ev);
        ends += usize::from(ev == Owned::End);
        out.push(ev);
    }
    assert!(r.is_empty(), "trailing bytes");
    out
}

/// A caller without I/O: decodes what has arrived (`held`) until the
/// decoder says "incomplete", dropping the bytes it used.
fn pump(d: &mut TokenDecoder, held: &mut Vec<u8>, out: &mut Vec<Owned>) -> Result<(), CodecError> {
    for _ in 0..1_000_000 {
        let mut r = Reader::new(held);
        let ev = match d.decode(&mut r, COUNT) {
            Ok(ev) => ev.map(own),
            Err(Fail::Incomplete { needed }) => {
                assert!(needed > 0);
                return Ok(());
            }
            Err(Fail::Invalid(e)) => return Err(e),
        };
        let used = r.used();
        held.drain(..used);
        if let Some(ev) = ev {
            see(d, &ev);
            out.push(ev);
        }
    }
    panic!("decoder made no progress");
}

/// Every event, the bytes arriving in pieces of the sizes `sizes` cycles
/// through.
fn by_slices(c: C, proto: u32, wire: &[u8], sizes: &[usize]) -> Vec<Owned> {
    let mut d = decoder(c, proto);
    let mut held = Vec::new();
    let mut out = Vec::new();
    let mut at = 0;
    for &n in sizes.iter().cycle() {
        if at == wire.len() {
            break;
        }
        let end = (at + n.max(1)).min(wire.len());
        held.extend_from_slice(&wire[at..end]);
        at = end;
        pump(&mut d, &mut held, &mut out).expect("valid stream");
    }
    assert!(held.is_empty(), "bytes left unused: {}", held.len());
    out
}

/// The files the events describe, adjacent literals merged.
fn files_of(events: &[Owned]) -> Vec<Vec<Op>> {
    let mut files = Vec::new();
    let mut ops = Vec::new();
    for ev in events {
        match ev {
            Owned::Lit(d) => ops.push(Op::Lit(d.clone())),
            Owned::Blk(i) => ops.push(Op::Blk(*i)),
            Owned::End => files.push(std::mem::take(&mut ops)),
        }
    }
    normalise(&files)
}

/// A few files with every kind of token: repeated and incompressible
/// literals, single blocks, runs, far blocks (long tokens), empty files.
fn sample() -> Vec<Vec<Op>> {
    let noise: Vec<u8> = (0u32..300)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    vec![
        vec![
            Op::Lit(b"hello hello hello hello".to_vec()),
            Op::Blk(0),
            Op::Blk(1),
            Op::Lit(noise.clone()),
            Op::Blk(3),
            Op::Blk(4),
            Op::Blk(5),
            Op::Blk(150),
            Op::Lit(block_bytes(0)),
        ],
        vec![],
        vec![Op::Blk(7), Op::Lit(noise), Op::Blk(1)],
    ]
}

#[test]
fn every_cut_is_incomplete_then_resumes() {
    let files = sample();
    for c in CODECS {
        for proto in [30u32, 31] {
            let wire = wire_of(c, proto, &files);
            let whole = by_stream(c, proto, &wire, files.len());
            assert_eq!(files_of(&whole), normalise(&files), "{c:?}");
            for cut in 0..=wire.len() {
                let mut d = decoder(c, proto);
                let mut held = wire[..cut].to_vec();
                let mut got = Vec::new();
                pump(&mut d, &mut held, &mut got).expect("a cut stream is not invalid");
                assert!(got.len() <= whole.len(), "{c:?} cut {cut}");
                // A whole literal piece, never part of one; no wrong event.
                assert_eq!(got[..], whole[..got.len()], "{c:?} cut {cut}");
                held.extend_from_slice(&wire[cut..]);
                pump(&mut d, &mut held, &mut got).expect("the rest");
                assert_eq!(got, whole, "{c:?} cut {cut}");
                assert!(held.is_empty());
            }
        }
    }
}

#[test]
fn one_and_seven_byte_pieces() {
    let files = sample();
    for c in CODECS {
        let wire = wire_of(c, 31, &files);
        let whole = by_stream(c, 31, &wire, files.len());
        assert_eq!(by_slices(c, 31, &wire, &[1]), whole, "{c:?}");
        assert_eq!(by_slices(c, 31, &wire, &[7]), whole, "{c:?}");
        assert_eq!(by_slices(c, 31, &wire, &[wire.len()]), whole, "{c:?}");
    }
}

#[test]
fn plain_vectors() {
    let mut d = PlainDecoder::new();
    let bytes = [
        3, 0, 0, 0, b'a', b'b', b'c', 0xfe, 0xff, 0xff, 0xff, 0, 0, 0, 0,
    ];
    let mut r = Reader::new(&bytes);
    assert_eq!(d.decode(&mut r, 2), Ok(Some(TokenEvent::Literal(b"abc"))));
    assert_eq!(r.used(), 7);
    assert_eq!(d.decode(&mut r, 2), Ok(Some(TokenEvent::Block(1))));
    assert_eq!(d.decode(&mut r, 2), Ok(Some(TokenEvent::End)));
    assert_eq!(r.remaining(), 0);
    // A literal needs all its bytes; a block beyond the count is refused.
    assert_eq!(
        d.decode(&mut Reader::new(&bytes[..6]), 2),
        Err(Fail::Incomplete { needed: 1 })
    );
    assert_eq!(
        d.decode(&mut Reader::new(&bytes[7..]), 1),
        Err(Fail::Invalid(CodecError::BlockIndex { index: 1, count: 1 }))
    );
    // A long run comes out CHUNK_SIZE bytes at a time.
    let mut long = 40_000i32.to_le_bytes().to_vec();
    long.extend(std::iter::repeat_n(9u8, 40_000));
    let mut r = Reader::new(&long);
    let first = d.decode(&mut r, 0).unwrap().map(own);
    assert_eq!(first, Some(Owned::Lit(vec![9; CHUNK_SIZE])));
    let mut rest = Reader::new(r.rest());
    assert_eq!(
        d.decode(&mut Reader::new(&rest.rest()[..10]), 0),
        Err(Fail::Incomplete {
            needed: 40_000 - CHUNK_SIZE - 10
        })
    );
    let second = d.decode(&mut rest, 0).unwrap().map(own);
    assert_eq!(second, Some(Owned::Lit(vec![9; 40_000 - CHUNK_SIZE])));
}

/// The run coding of the compressed codecs, byte by byte.
#[test]
fn run_coding_vectors() {
    for c in [C::Zstd, C::Zlib, C::ZlibX, C::Lz4] {
        let mut d = decoder(c, 31);
        // TOKEN_REL+2; TOKENRUN_REL+1 with 2 more; TOKEN_LONG 9; END_FLAG.
        let bytes = [0x82, 0xc1, 2, 0, 0x20, 9, 0, 0, 0, 0];
        let mut r = Reader::new(&bytes);
        let mut got = Vec::new();
        let mut used = Vec::new();
        for _ in 0..6 {
            let before = r.used();
            got.push(d.decode(&mut r, 10).unwrap().map(own).unwrap());
            used.push(r.used() - before);
        }
        use Owned::{Blk, End};
        assert_eq!(got, [Blk(2), Blk(3), Blk(4), Blk(5), Blk(9), End], "{c:?}");
        assert_eq!(used, [1, 3, 0, 0, 5, 1], "{c:?}");
        // A run cut before its count changes nothing: decoded whole
        // afterwards it starts where it should.
        let mut d = decoder(c, 31);
        for cut in 0..3 {
            let e = d.decode(&mut Reader::new(&[0xc1, 2, 0][..cut]), 10);
            assert!(matches!(e, Err(Fail::Incomplete { .. })), "{c:?} {cut}");
        }
        let mut r = Reader::new(&[0xc1, 2, 0]);
        assert_eq!(d.decode(&mut r, 10).unwrap().map(own), Some(Blk(1)));
        // Refusals.
        let mut d = decoder(c, 31);
        let e = d.decode(&mut Reader::new(&[0x20, 0xff, 0xff, 0xff, 0xff]), 10);
        assert_eq!(
            e.map(|_| ()),
            Err(Fail::Invalid(CodecError::BadToken("negative token number")))
        );
        let e = d.decode(&mut Reader::new(&[0x8a]), 10);
        assert_eq!(
            e.map(|_| ()),
            Err(Fail::Invalid(CodecError::BlockIndex {
                index: 10,
                count: 10
            }))
        );
    }
}

/// A compressed piece is used only once all of it is there.
#[test]
fn compressed_piece_waits_for_all_its_bytes() {
    for c in [C::Zstd, C::Zlib, C::Lz4] {
        let files = vec![vec![Op::Lit(b"abcabcabc".repeat(40))]];
        let wire = wire_of(c, 31, &files);
        let flag = wire[0];
        assert_eq!(flag & 0xc0, 0x40, "{c:?} starts with data");
        let n = (usize::from(flag & 0x3f) << 8) | usize::from(wire[1]);
        let mut d = decoder(c, 31);
        for cut in 0..2 + n {
            let e = d.decode(&mut Reader::new(&wire[..cut]), 0).map(|_| ());
            let needed = if cut < 2 { 1 } else { 2 + n - cut };
            assert_eq!(e, Err(Fail::Incomplete { needed }), "{c:?} cut {cut}");
        }
        let whole = by_stream(c, 31, &wire, 1);
        assert_eq!(by_slices(c, 31, &wire, &[2 + n - 1, 1]), whole);
    }
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        proptest::collection::vec(0u8..4, 0..3000).prop_map(Op::Lit),
        proptest::collection::vec(any::<u8>(), 0..600).prop_map(Op::Lit),
        (0u32..COUNT)
            .prop_filter("no 70 KB blocks", |i| i % 4 != 2)
            .prop_map(Op::Blk),
        (0u32..4).prop_map(|i| Op::Blk(i * 4)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn random_splits_match_the_stream(
        files in proptest::collection::vec(proptest::collection::vec(op_strategy(), 0..10), 1..4),
        proto in 29u32..=31,
        sizes in proptest::collection::vec(1usize..400, 1..20),
    ) {
        for c in CODECS {
            let wire = wire_of(c, proto, &files);
            let whole = by_stream(c, proto, &wire, files.len());
            prop_assert_eq!(files_of(&whole), normalise(&files));
            prop_assert_eq!(&by_slices(c, proto, &wire, &sizes), &whole);
            prop_assert_eq!(&by_slices(c, proto, &wire, &[1]), &whole);
            prop_assert_eq!(&by_slices(c, proto, &wire, &[7]), &whole);
        }
    }
}

/// A literal run longer than a chunk is handed out `CHUNK_SIZE` bytes at
/// a time as they arrive: the decoder never waits for the whole run,
/// which may be longer than the link ever holds (a peer may announce up
/// to 2 GiB in one run).
#[test]
fn a_long_literal_run_comes_out_a_chunk_at_a_time() {
    let run = 3 * CHUNK_SIZE + 5;
    let mut bytes = (run as i32).to_le_bytes().to_vec();
    bytes.extend(std::iter::repeat_n(b'x', CHUNK_SIZE + 10));
    let mut d = TokenDecoder::new(C::None).unwrap();
    let mut r = Reader::new(&bytes);
    match d.decode(&mut r, COUNT) {
        Ok(Some(TokenEvent::Literal(p))) => assert_eq!(p.len(), CHUNK_SIZE),
        other => panic!("{:?}", other.map(|e| e.map(own))),
    }
    assert!(matches!(
        d.decode(&mut r, COUNT),
        Err(Fail::Incomplete { .. })
    ));
}
