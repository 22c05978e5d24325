use super::*;
use crate::token::{Buffered, TokenEvent};
use crate::wire::Fail;

/// Every event of one file, literal bytes joined.
fn events(wire: &[u8]) -> (Vec<u8>, Vec<u32>) {
    let mut d = Lz4Decoder::new();
    let mut r = Reader::new(wire);
    let (mut lit, mut blocks) = (Vec::new(), Vec::new());
    loop {
        match d.decode(&mut r, 100).unwrap() {
            Some(TokenEvent::Literal(p)) => lit.extend_from_slice(p),
            Some(TokenEvent::Block(i)) => blocks.push(i),
            Some(TokenEvent::End) => break,
            None => {}
        }
    }
    assert_eq!(r.remaining(), 0);
    (lit, blocks)
}

/// Pieces of a stream: (compressed length) for each data record.
fn pieces(wire: &[u8]) -> Vec<usize> {
    let mut r = Reader::new(wire);
    let mut out = Vec::new();
    while let Ok(flag) = r.u8() {
        if flag & 0xc0 == DEFLATED_DATA {
            out.push(deflated(&mut r, flag).unwrap().len());
        }
    }
    out
}

#[test]
fn each_piece_is_one_block_of_at_most_16383_input_bytes() {
    let data: Vec<u8> = (0..40_000u32).map(|i| (i % 7) as u8).collect();
    let mut e = Lz4Encoder::new();
    let mut wire = Vec::new();
    e.literal(&data, &mut wire).unwrap();
    e.block(3, &mut wire);
    e.end(&mut wire);
    // 40000 = 16383 + 16383 + 7234: three pieces, each a block that
    // decompresses on its own.
    let mut r = Reader::new(&wire);
    let mut sizes = Vec::new();
    for _ in 0..3 {
        let flag = r.u8().unwrap();
        let piece = deflated(&mut r, flag).unwrap();
        sizes.push(lz4_flex::block::decompress(piece, OUT_CHUNK).unwrap().len());
    }
    assert_eq!(sizes, [16383, 16383, 7234]);
    // Then TOKEN_REL+3 and END_FLAG.
    assert_eq!(r.u8().unwrap(), 0x83);
    assert_eq!(r.u8().unwrap(), END_FLAG);
    assert_eq!(events(&wire), (data, vec![3]));
}

#[test]
fn incompressible_input_is_halved_until_its_block_fits() {
    // A xorshift stream: lz4 makes it a little longer, past 16383.
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let data: Vec<u8> = (0..20_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let mut e = Lz4Encoder::new();
    let mut wire = Vec::new();
    e.literal(&data, &mut wire).unwrap();
    e.end(&mut wire);
    let p = pieces(&wire);
    assert!(p.iter().all(|&n| n <= MAX_DATA_COUNT), "{p:?}");
    // 16383 bytes did not fit: 8191, then the 11809 left.
    let mut r = Reader::new(&wire);
    let mut sizes = Vec::new();
    while let Ok(flag) = r.u8() {
        if flag & 0xc0 == DEFLATED_DATA {
            let piece = deflated(&mut r, flag).unwrap();
            sizes.push(lz4_flex::block::decompress(piece, OUT_CHUNK).unwrap().len());
        }
    }
    assert_eq!(sizes, [8191, 11809]);
    assert_eq!(events(&wire).0, data);
}

#[test]
fn a_piece_that_decompresses_to_nothing_is_skipped_not_an_end() {
    // rsync's flush after a literal-only token: an empty input's block.
    let empty = lz4_flex::block::compress(b"");
    let mut wire = vec![DEFLATED_DATA, empty.len() as u8];
    wire.extend_from_slice(&empty);
    let mut e = Lz4Encoder::new();
    e.literal(b"after", &mut wire).unwrap();
    e.end(&mut wire);
    assert_eq!(events(&wire), (b"after".to_vec(), vec![]));
    // Our own encoder never sends such a piece.
    let mut ours = Vec::new();
    e.literal(b"abc", &mut ours).unwrap();
    e.block(0, &mut ours);
    e.end(&mut ours);
    assert_eq!(pieces(&ours).len(), 1);
}

#[test]
fn a_block_that_decompresses_past_rsyncs_buffer_is_refused() {
    // 40000 zeros compress to a few hundred bytes but need more room
    // than LZ4_compressBound(CHUNK_SIZE).
    let block = lz4_flex::block::compress(&[0u8; 40_000]);
    assert!(block.len() <= MAX_DATA_COUNT);
    let mut wire = vec![DEFLATED_DATA + (block.len() >> 8) as u8, block.len() as u8];
    wire.extend_from_slice(&block);
    let mut d = Lz4Decoder::new();
    let e = d.decode(&mut Reader::new(&wire), 0).map(|_| ());
    assert_eq!(
        e,
        Err(Fail::Invalid(CodecError::Compression(
            "lz4 block does not decompress"
        )))
    );
    // Garbage is refused the same way.
    let mut d = Lz4Decoder::new();
    let e = d.decode(&mut Reader::new(&[DEFLATED_DATA, 2, 0xff, 0xff]), 0);
    assert!(matches!(e, Err(Fail::Invalid(_))));
}
