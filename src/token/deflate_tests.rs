#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::tests::{block_bytes, decode, encode, normalise, Op};
use super::*;
use crate::proto::Compression as C;

/// Incompressible bytes (xorshift).
fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect()
}

fn codec(c: C, proto: u32) -> (TokenEncoder, TokenDecoder) {
    let mut e = TokenEncoder::new(c, None).expect("enc");
    let mut d = TokenDecoder::new(c).expect("dec");
    e.set_protocol(proto);
    d.set_protocol(proto);
    (e, d)
}

/// Literal bytes that repeat block 0 compress to almost nothing with zlib
/// (the block is in the history) but not with zlibx.
#[test]
fn zlib_feeds_matched_blocks_into_history() {
    let noise = noise(9_000, 1);
    let mut sizes = Vec::new();
    for c in [C::Zlib, C::ZlibX] {
        let (mut e, mut d) = codec(c, 31);
        let mut wire = Vec::new();
        e.block(0, &noise, &mut wire).unwrap();
        e.literal(&noise, &mut wire).unwrap();
        e.end(&mut wire).unwrap();
        sizes.push(wire.len());
        let mut r = &wire[..];
        assert_eq!(d.next(&mut r, 1).unwrap(), TokenEvent::Block(0));
        d.see_block(&noise).unwrap();
        let mut got = Vec::new();
        loop {
            match d.next(&mut r, 1).unwrap() {
                TokenEvent::Literal(x) => got.extend_from_slice(x),
                TokenEvent::End => break,
                TokenEvent::Block(_) => panic!("block"),
            }
        }
        assert_eq!(got, noise);
        assert!(r.is_empty());
    }
    assert!(sizes[0] < 100, "{sizes:?}");
    assert!(sizes[1] > 8_000, "{sizes:?}");
}

/// A zlib stream decoded without the dictionary feed must not yield the
/// original data.
#[test]
fn zlib_without_see_block_diverges() {
    let files = vec![vec![
        Op::Blk(0),
        Op::Lit(block_bytes(0)),
        Op::Blk(2),
        Op::Lit(block_bytes(2)),
    ]];
    let (mut e, _) = codec(C::Zlib, 31);
    let wire = encode(&mut e, &files);
    let mut d = TokenDecoder::new(C::ZlibX).unwrap();
    if let Ok(got) = decode(&mut d, &wire, 1, 10) {
        assert_ne!(got, normalise(&files));
    }
}

/// Protocols before 31 feed every 0xffff piece of a long block from the
/// block's start; both sides must agree on it.
#[test]
fn long_blocks_feed_per_protocol() {
    let block = noise(150_000, 2);
    let tail = block.get(block.len() - 20_000..).unwrap().to_vec();
    let mut wires = Vec::new();
    for proto in [29, 31] {
        let (mut e, mut d) = codec(C::Zlib, proto);
        let mut wire = Vec::new();
        e.block(0, &block, &mut wire).unwrap();
        e.literal(&tail, &mut wire).unwrap();
        e.end(&mut wire).unwrap();
        let mut r = &wire[..];
        assert_eq!(d.next(&mut r, 1).unwrap(), TokenEvent::Block(0));
        d.see_block(&block).unwrap();
        let mut got = Vec::new();
        while let TokenEvent::Literal(x) = d.next(&mut r, 1).unwrap() {
            got.extend_from_slice(x);
        }
        assert_eq!(got, tail);
        wires.push(wire);
    }
    // Protocol 31 has the block's real tail in its window; 29 does not.
    assert!(wires[1].len() < 200, "{}", wires[1].len());
    assert!(wires[0].len() > 1_000, "{}", wires[0].len());
}

/// The wire shape: run coding, a flushed piece without the trailer, and
/// `END_FLAG`; a fresh stream per file.
#[test]
fn wire_shape_and_per_file_reset() {
    let (mut e, _) = codec(C::ZlibX, 31);
    let mut one = Vec::new();
    e.literal(b"hello hello hello", &mut one).unwrap();
    e.end(&mut one).unwrap();
    let mut two = Vec::new();
    e.literal(b"hello hello hello", &mut two).unwrap();
    e.end(&mut two).unwrap();
    assert_eq!(one, two, "each file starts a new deflate stream");
    assert_eq!(one[0] & 0xc0, 0x40);
    let n = usize::from(one[0] & 0x3f) << 8 | usize::from(one[1]);
    assert_eq!(one.len(), 2 + n + 1);
    assert_eq!(one.last(), Some(&0));
    let z = &one[2..2 + n];
    assert!(!z.ends_with(&[0, 0, 0xff, 0xff]));
    // Reattaching the trailer gives a valid raw deflate stream.
    let mut full = z.to_vec();
    full.extend_from_slice(&[0, 0, 0xff, 0xff]);
    let mut inf = flate2::Decompress::new(false);
    let mut outb = vec![0u8; 100];
    inf.decompress(&full, &mut outb, flate2::FlushDecompress::Sync)
        .unwrap();
    assert_eq!(&outb[..inf.total_out() as usize], b"hello hello hello");

    let mut runs = Vec::new();
    for i in 0..3 {
        e.block(i, &[1, 2, 3], &mut runs).unwrap();
    }
    e.end(&mut runs).unwrap();
    assert_eq!(runs, [0xc0, 2, 0, 0]);
}

/// A stream made by C zlib 1.x (Python's `zlib`) the way rsync does when
/// built without its bundled zlib: raw deflate level 6, `Z_SYNC_FLUSH`
/// before each token with the 4-byte trailer stripped, and each matched
/// block compressed with `Z_SYNC_FLUSH` and its output discarded (the
/// `Z_INSERT_ONLY` fallback). See `testdata/README.md` for the content.
#[test]
fn decodes_reference_zlib_stream() {
    let wire = include_bytes!("testdata/zlib_ref.bin");
    let basis = ref_basis();
    let blk = |i: u32| {
        basis
            .get(i as usize * 1000..(i as usize + 1) * 1000)
            .unwrap()
    };
    let mut d = TokenDecoder::new(C::Zlib).unwrap();
    let mut r = &wire[..];
    let mut out = Vec::new();
    for _ in 0..2 {
        out.clear();
        loop {
            match d.next(&mut r, 8).unwrap() {
                TokenEvent::Literal(x) => out.extend_from_slice(x),
                TokenEvent::Block(i) => {
                    let b = blk(i);
                    out.extend_from_slice(b);
                    d.see_block(b).unwrap();
                }
                TokenEvent::End => break,
            }
        }
        assert_eq!(out, ref_target());
    }
    assert!(r.is_empty());
}

/// The reference basis: 8 blocks of 1000 bytes.
fn ref_basis() -> Vec<u8> {
    (0..8000u32)
        .map(|k| ((k * k + 7 * k) % 251) as u8)
        .collect()
}

/// The reference target: block 2, literal copy of block 2 with one byte
/// changed, blocks 3..=5 (a run), a literal copy of block 5, 500 literal
/// bytes, block 7.
fn ref_target() -> Vec<u8> {
    let b = ref_basis();
    let blk = |i: usize| b[i * 1000..(i + 1) * 1000].to_vec();
    let mut t = blk(2);
    let mut lit = blk(2);
    lit[500] ^= 0x55;
    t.extend(lit);
    for i in 3..=5 {
        t.extend(blk(i));
    }
    t.extend(blk(5));
    t.extend((0..500u32).map(|k| (k % 7) as u8 + b'a'));
    t.extend(blk(7));
    t
}

/// Decode a captured stream against `basis` (blocks of `blen`).
fn apply(c: C, proto: u32, wire: &[u8], basis: &[u8], blen: usize) -> Result<Vec<u8>, TokenError> {
    let count = basis.len().div_ceil(blen) as u32;
    let mut d = TokenDecoder::new(c)?;
    d.set_protocol(proto);
    let mut r = wire;
    let mut out = Vec::new();
    loop {
        match d.next(&mut r, count)? {
            TokenEvent::Literal(x) => out.extend_from_slice(x),
            TokenEvent::Block(i) => {
                let start = i as usize * blen;
                let b = &basis[start..(start + blen).min(basis.len())];
                out.extend_from_slice(b);
                d.see_block(b)?;
            }
            TokenEvent::End => break,
        }
    }
    assert!(r.is_empty());
    Ok(out)
}

/// A token stream captured from stock rsync 3.5.0 sending with `-z` at
/// protocol 29 (see `testdata/README.md`).
#[test]
fn decodes_real_rsync_zlib_stream() {
    let wire = include_bytes!("testdata/rsync_zlib_p29.bin");
    let basis = include_bytes!("testdata/rsync_zlib_p29.basis");
    let mut want = basis.to_vec();
    want[5000..5004].copy_from_slice(b"EDIT");
    want.splice(15000..15000, b"INSERTED TEXT HERE\n".iter().copied());
    want.drain(20000..20100);
    let got = apply(C::Zlib, 29, wire, basis, 700).unwrap();
    assert!(got == want, "decoded data differs");
    // Without the matched blocks in the history the literals do not decode.
    assert!(apply(C::ZlibX, 29, wire, basis, 700).map_or(true, |g| g != want));
}

/// Peer garbage is an error, never a panic or unbounded output.
#[test]
fn rejects_hostile_streams_and_bounds_output() {
    let err = |wire: &[u8]| {
        let mut d = TokenDecoder::new(C::Zlib).unwrap();
        let mut r = wire;
        loop {
            match d.next(&mut r, 4) {
                Err(e) => return e,
                Ok(TokenEvent::End) => panic!("end"),
                Ok(_) => {}
            }
        }
    };
    let codec_err = |e: TokenError| matches!(e, TokenError::Codec(_));
    assert!(codec_err(err(&[0x40, 0x04, 0xff, 0xff, 0xff, 0xff, 0x80])));
    assert!(codec_err(err(&[0x40, 0x00, 0x80]))); // empty piece
    assert!(codec_err(err(&[0x05])));
    assert!(codec_err(err(&[0x84])));
    // A final block (BFINAL set), then more tokens: rsync rejects it too.
    assert!(codec_err(err(&[0x40, 0x03, 0x03, 0x00, 0x00, 0x80])));
    assert!(matches!(err(&[0x40, 0x05, 1]), TokenError::Io(_)));

    // 32 MiB of zeros: every piece handed out is at most OUT_CHUNK.
    let (mut e, mut d) = codec(C::Zlib, 31);
    let mut wire = Vec::new();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..32 {
        e.literal(&zeros, &mut wire).unwrap();
    }
    e.end(&mut wire).unwrap();
    assert!(wire.len() < 64 * 1024, "{}", wire.len());
    let mut r = &wire[..];
    let mut total = 0usize;
    while let TokenEvent::Literal(x) = d.next(&mut r, 0).unwrap() {
        assert!(x.len() <= inflate::OUT_CHUNK);
        total += x.len();
    }
    assert_eq!(total, 32 << 20);
}
