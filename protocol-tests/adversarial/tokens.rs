//! Attacks on the receiver's token stream (`recv_token` in rsync's
//! `token.c`, the client pushes under `-wo`): literal lengths over the
//! limit, block indexes out of range, compressed data that inflates far
//! beyond the promised size (CVE-2026-43618), garbage compressed data.
//! Plain tokens (all protocols), zstd and zlib (protocol 32 here).

use std::time::Duration;

use rrsync::proto::Compression;
use rrsync::token::TokenEncoder;

use super::client::Outcome;
use super::receiver::{dir, encode_list, file, flist_opts, push, serve};
use super::{assert_rejected, assert_sane, assert_says, Sandbox};

/// One file `f` is requested; `body` answers with a hostile token stream.
fn token_case(
    what: &str,
    comp: Option<&[u8]>,
    body: &mut dyn FnMut(i32, u32) -> Vec<u8>,
) -> Outcome {
    token_case_with_basis(what, comp, None, body)
}

/// As [`token_case`], with `dst/f` first holding `basis` (so the request
/// carries block sums and `body` gets their count).
fn token_case_with_basis(
    what: &str,
    comp: Option<&[u8]>,
    basis: Option<&[u8]>,
    body: &mut dyn FnMut(i32, u32) -> Vec<u8>,
) -> Outcome {
    let sb = Sandbox::new("tokens");
    if let Some(b) = basis {
        std::fs::create_dir_all(sb.root.join("dst")).expect("mkdir dst");
        std::fs::write(sb.root.join("dst/f"), b).expect("write basis");
    }
    let mut c = push(&sb, "", comp);
    c.data(&encode_list(
        &[dir(b"."), file(b"f", 10)],
        flist_opts(false, false, false),
    ));
    let asked = serve(&mut c, body);
    assert_eq!(
        asked.len(),
        1,
        "{what}: the generator did not ask for the file"
    );
    std::thread::sleep(Duration::from_millis(100));
    let out = c.finish();
    assert_rejected(what, &out);
    sb.check_confined(what, &out);
    let left = super::snapshot(&sb.root.join("dst"));
    assert!(
        left.keys().all(|k| k.to_string_lossy() == "f"),
        "{what}: temporary files left behind: {:?}",
        left.keys()
    );
    out
}

#[test]
fn token_block_index_out_of_range() {
    // No basis: no block may be referenced at all (the token decoder
    // refuses, and so would the receiver, which has no basis to copy from).
    for idx in [0i32, 1, 1000, i32::MAX - 1] {
        token_case("plain block index, no basis", None, &mut |_, _| {
            (-(idx + 1)).to_le_bytes().to_vec()
        });
    }
    // A 2,000-byte basis: 3 blocks of 700; indexes from the count upwards.
    let basis = vec![b'b'; 2000];
    for extra in [0i32, 1, 1000] {
        let mut count_seen = 0;
        let out = token_case_with_basis("plain block index", None, Some(&basis), &mut |_, n| {
            count_seen = n;
            let idx = i32::try_from(n).unwrap_or(i32::MAX - 1001) + extra;
            (-(idx + 1)).to_le_bytes().to_vec()
        });
        assert_eq!(count_seen, 3, "the basis was not offered as 3 blocks");
        assert_says("plain block index", &out, "invalid block index");
    }
}

#[test]
fn token_literal_over_the_limit() {
    // A literal run announced as 2 GiB, with 100 KiB behind it.
    let out = token_case("plain literal i32::MAX", None, &mut |_, _| {
        let mut b = i32::MAX.to_le_bytes().to_vec();
        b.extend_from_slice(&[b'x'; 100 * 1024]);
        b
    });
    assert!(out.hwm_kb < 64 * 1024, "peak RSS {} KiB", out.hwm_kb);
}

fn bomb(c: Compression, total: usize) -> Vec<u8> {
    let mut enc =
        TokenEncoder::new(c, Some(if c == Compression::Zstd { 19 } else { 9 })).expect("enc");
    let zeros = vec![0u8; 1 << 20];
    let mut out = Vec::new();
    for _ in 0..total >> 20 {
        enc.literal(&zeros, &mut out).expect("literal");
    }
    enc.end(&mut out).expect("end");
    out.extend_from_slice(&[0u8; 16]);
    out
}

/// One `DEFLATED_DATA` chunk (at most 16383 bytes) that holds a whole
/// zstd frame of `total` zeros, then `END_FLAG` and a checksum: the
/// decoder meets all of it in a single call, so only a fixed output
/// buffer keeps memory flat.
fn zstd_one_chunk_bomb(total: usize) -> Vec<u8> {
    let frame = zstd::bulk::compress(&vec![0u8; total], 3).expect("compress");
    let n = frame.len();
    assert!(n <= 16383, "the bomb frame is {n} bytes");
    let mut out = vec![0x40 | (n >> 8) as u8, (n & 0xff) as u8];
    out.extend_from_slice(&frame);
    out.push(0);
    out.extend_from_slice(&[0u8; 16]);
    out
}

#[test]
fn token_decompression_bombs() {
    // CVE-2026-43618: a small compressed stream that inflates far beyond
    // the 10 bytes the list promised; memory must stay flat, and the
    // checksum (all zeros) fails, so nothing is kept.
    for (name, comp, data) in [
        ("zstd", &b"zstd"[..], bomb(Compression::Zstd, 256 << 20)),
        ("zlib", b"zlib", bomb(Compression::Zlib, 256 << 20)),
        ("zstd, one chunk", b"zstd", zstd_one_chunk_bomb(256 << 20)),
    ] {
        let sb = Sandbox::new("bomb");
        let mut cl = push(&sb, "", Some(comp));
        cl.data(&encode_list(
            &[dir(b"."), file(b"f", 10)],
            flist_opts(false, false, false),
        ));
        let asked = serve(&mut cl, &mut |_, _| data.clone());
        assert_eq!(asked.len(), 1, "{name} bomb: not asked");
        std::thread::sleep(Duration::from_millis(300));
        let out = cl.finish();
        assert_sane(name, &out);
        assert!(
            out.hwm_kb < 128 * 1024,
            "{name} bomb: peak RSS {} KiB",
            out.hwm_kb
        );
        sb.check_confined(name, &out);
        assert!(
            !sb.root.join("dst/f").exists(),
            "{name} bomb: a file failing its checksum was kept"
        );
    }
}

#[test]
fn token_garbage_compressed_data() {
    for (name, comp) in [("zstd", &b"zstd"[..]), ("zlib", b"zlib")] {
        token_case(name, Some(comp), &mut |_, _| {
            let mut b = vec![0x40 | 0x3F, 0xFF];
            b.extend((0..16383u32).map(|i| (i * 7 + 3) as u8));
            b
        });
    }
}
