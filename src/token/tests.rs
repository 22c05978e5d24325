#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use proptest::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Op {
    Lit(Vec<u8>),
    Blk(u32),
}

/// The basis data of block `i` in round-trip tests (varied lengths, some
/// beyond the 0xffff feeding piece).
pub(super) fn block_bytes(i: u32) -> Vec<u8> {
    let len = match i % 4 {
        0 => 700,
        1 => 3,
        2 => 70_000,
        _ => 9_000,
    };
    (0..len)
        .map(|k| ((k * 7 + i as usize * 13) % 251) as u8)
        .collect()
}

pub(super) fn encode(enc: &mut TokenEncoder, files: &[Vec<Op>]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in files {
        for op in f {
            match op {
                Op::Lit(d) => enc.literal(d, &mut out).expect("lit"),
                Op::Blk(i) => enc.block(*i, &block_bytes(*i), &mut out).expect("blk"),
            }
        }
        enc.end(&mut out).expect("end");
    }
    out
}

/// Decode files, merging adjacent literal pieces.
pub(super) fn decode(
    dec: &mut TokenDecoder,
    mut r: &[u8],
    nfiles: usize,
    count: u32,
) -> Result<Vec<Vec<Op>>, TokenError> {
    let mut files = Vec::new();
    for _ in 0..nfiles {
        let mut ops: Vec<Op> = Vec::new();
        loop {
            match dec.next(&mut r, count)? {
                TokenEvent::End => break,
                TokenEvent::Block(i) => {
                    ops.push(Op::Blk(i));
                    dec.see_block(&block_bytes(i))?;
                }
                TokenEvent::Literal(d) => match ops.last_mut() {
                    Some(Op::Lit(v)) => v.extend_from_slice(d),
                    _ => ops.push(Op::Lit(d.to_vec())),
                },
            }
        }
        files.push(ops);
    }
    assert!(r.is_empty(), "trailing bytes");
    Ok(files)
}

pub(super) fn normalise(files: &[Vec<Op>]) -> Vec<Vec<Op>> {
    files
        .iter()
        .map(|f| {
            let mut ops: Vec<Op> = Vec::new();
            for op in f {
                match (op, ops.last_mut()) {
                    (Op::Lit(d), _) if d.is_empty() => {}
                    (Op::Lit(d), Some(Op::Lit(v))) => v.extend_from_slice(d),
                    _ => ops.push(op.clone()),
                }
            }
            ops
        })
        .collect()
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        proptest::collection::vec(0u8..3, 0..70_000).prop_map(Op::Lit),
        (0u32..200).prop_map(Op::Blk),
        (0u32..4).prop_map(Op::Blk),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]
    #[test]
    fn roundtrip_all_codecs(files in proptest::collection::vec(proptest::collection::vec(op_strategy(), 0..12), 1..4), proto in 29u32..32) {
        use crate::proto::Compression as C;
        for c in [C::None, C::Zstd, C::Zlib, C::ZlibX] {
            let mut enc = TokenEncoder::new(c, None).expect("enc");
            let mut dec = TokenDecoder::new(c).expect("dec");
            enc.set_protocol(proto);
            dec.set_protocol(proto);
            let wire = encode(&mut enc, &files);
            let got = decode(&mut dec, &wire, files.len(), 200).expect("decode");
            prop_assert_eq!(got, normalise(&files));
        }
    }
}

#[test]
fn plain_wire_format() {
    let mut e = PlainEncoder;
    let mut out = Vec::new();
    e.literal(&vec![7u8; CHUNK_SIZE + 1], &mut out);
    e.block(0, &mut out);
    e.block(4, &mut out);
    e.end(&mut out);
    assert_eq!(&out[..4], &(CHUNK_SIZE as i32).to_le_bytes());
    let second = 4 + CHUNK_SIZE;
    assert_eq!(&out[second..second + 5], &[1, 0, 0, 0, 7]);
    assert_eq!(
        &out[second + 5..],
        &[0xff, 0xff, 0xff, 0xff, 0xfb, 0xff, 0xff, 0xff, 0, 0, 0, 0]
    );
}

#[test]
fn plain_accepts_long_runs_in_chunks_and_checks_indexes() {
    let mut wire = 70_000i32.to_le_bytes().to_vec();
    wire.extend(std::iter::repeat_n(1u8, 70_000));
    let mut d = PlainDecoder::new();
    let mut r = &wire[..];
    let mut sizes = Vec::new();
    while let Ok(TokenEvent::Literal(x)) = d.next(&mut r, 0) {
        sizes.push(x.len());
        if r.is_empty() {
            break;
        }
    }
    assert_eq!(sizes, vec![CHUNK_SIZE, CHUNK_SIZE, 70_000 - 2 * CHUNK_SIZE]);
    for bad in [-3i32, i32::MIN] {
        let w = bad.to_le_bytes();
        let e = PlainDecoder::new()
            .next(&mut &w[..], 2)
            .map(|_| ())
            .unwrap_err();
        assert!(
            matches!(e, TokenError::Codec(TokenCodecError::BlockIndex { .. })),
            "{e:?}"
        );
    }
    // Truncated literal.
    let w = [5, 0, 0, 0, 1, 2];
    assert!(matches!(
        PlainDecoder::new().next(&mut &w[..], 0),
        Err(TokenError::Io(_))
    ));
}

#[test]
fn zstd_run_coding_bytes() {
    let mut e = ZstdEncoder::new(0).expect("enc");
    let mut out = Vec::new();
    for i in 0..3 {
        e.block(i, &mut out).expect("blk");
    }
    e.end(&mut out).expect("end");
    assert_eq!(out, [0xc0, 2, 0, 0]);
    out.clear();
    e.block(100, &mut out).expect("blk");
    e.block(102, &mut out).expect("blk");
    e.end(&mut out).expect("end");
    // 100 is too far for a relative token; 102 is 2 after the run end.
    assert_eq!(out, [0x20, 100, 0, 0, 0, 0x82, 0]);
}

fn zstd_decode_err(wire: &[u8], count: u32) -> TokenError {
    let mut d = ZstdDecoder::new();
    let mut r = wire;
    loop {
        match d.next(&mut r, count) {
            Err(e) => return e,
            Ok(TokenEvent::End) => panic!("unexpected end"),
            Ok(_) => {}
        }
    }
}

#[test]
fn zstd_rejects_hostile_streams() {
    let codec = |e: TokenError| matches!(e, TokenError::Codec(_));
    assert!(codec(zstd_decode_err(&[0x05, 0, 0, 0, 0], 10))); // unknown flag
    assert!(codec(zstd_decode_err(&[0xc0, 0, 0], 10))); // zero-length run
    assert!(codec(zstd_decode_err(&[0x20, 0xff, 0xff, 0xff, 0xff], 10))); // negative
    assert!(codec(zstd_decode_err(&[0x89], 5))); // index 9 >= 5
    assert!(codec(zstd_decode_err(&[0xc0, 0xff, 0xff], 100))); // run past count
    assert!(codec(zstd_decode_err(
        &[0x21, 0xfe, 0xff, 0xff, 0x7f, 5, 0],
        u32::MAX
    ))); // overflow
    assert!(codec(zstd_decode_err(&[0x40, 0x04, 1, 2, 3, 4], 1))); // garbage data
    assert!(matches!(
        zstd_decode_err(&[0x40, 0x05, 1], 1),
        TokenError::Io(_)
    )); // truncated
}

#[test]
fn zstd_output_is_bounded_per_call() {
    // 64 MiB of zeros compress to a few kilobytes; each call returns at most
    // OUT_CHUNK bytes.
    let mut e = ZstdEncoder::new(19).expect("enc");
    let mut wire = Vec::new();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..64 {
        e.literal(&zeros, &mut wire).expect("lit");
    }
    e.end(&mut wire).expect("end");
    assert!(wire.len() < 64 * 1024, "{}", wire.len());
    let mut d = ZstdDecoder::new();
    let mut r = &wire[..];
    let mut total = 0usize;
    loop {
        match d.next(&mut r, 0).expect("next") {
            TokenEvent::Literal(x) => {
                assert!(x.len() <= zstd::OUT_CHUNK);
                total += x.len();
            }
            TokenEvent::End => break,
            TokenEvent::Block(_) => panic!("no blocks"),
        }
    }
    assert_eq!(total, 64 << 20);
}

#[test]
fn zstd_pieces_fit_fourteen_bits() {
    let mut x = 1u32;
    let noise: Vec<u8> = (0..200_000)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 16) as u8
        })
        .collect();
    let mut e = ZstdEncoder::new(1).expect("enc");
    let mut wire = Vec::new();
    e.literal(&noise, &mut wire).expect("lit");
    e.block(0, &mut wire).expect("blk");
    e.end(&mut wire).expect("end");
    let mut i = 0;
    while let Some(&flag) = wire.get(i) {
        if flag & 0xc0 != 0x40 {
            break;
        }
        let n = (usize::from(flag & 0x3f) << 8) | usize::from(wire[i + 1]);
        assert!(n <= 16383);
        i += 2 + n;
    }
    // After the data: block 0 as a relative token, then END_FLAG.
    assert_eq!(&wire[i..], &[0x80, 0]);
}

#[test]
fn codec_selection() {
    use crate::proto::Compression as C;
    assert!(matches!(
        TokenEncoder::new(C::None, None),
        Ok(TokenEncoder::Plain(_))
    ));
    assert!(matches!(
        TokenEncoder::new(C::Zstd, Some(-5)),
        Ok(TokenEncoder::Zstd(_))
    ));
    assert!(matches!(
        TokenEncoder::new(C::Zlib, None),
        Ok(TokenEncoder::Deflate(_))
    ));
    assert!(matches!(
        TokenEncoder::new(C::ZlibX, Some(0)),
        Ok(TokenEncoder::Plain(_))
    ));
    assert_eq!(effective_compression(C::Zlib, Some(0)), C::None);
    assert_eq!(effective_compression(C::Zstd, Some(0)), C::Zstd);
    assert!(matches!(
        TokenDecoder::new(C::ZlibX),
        Ok(TokenDecoder::Deflate(_))
    ));
    assert!(matches!(
        TokenEncoder::new(C::Lz4, Some(0)),
        Ok(TokenEncoder::Lz4(_))
    ));
    assert!(matches!(
        TokenDecoder::new(C::Zstd),
        Ok(TokenDecoder::Zstd(_))
    ));
    assert!(matches!(
        TokenDecoder::new(C::Lz4),
        Ok(TokenDecoder::Lz4(_))
    ));
    let e: std::io::Error = TokenError::from(TokenCodecError::BadToken("x")).into();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
}
