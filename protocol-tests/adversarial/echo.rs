//! The client's echo of a transfer request (`read_ndx_and_attrs` and
//! `receive_data` in rsync's `receiver.c`): after the file index the
//! sender repeats the item flags, the basis type and the block-sum
//! header the generator sent, and rsync's receiver believes them. Here
//! the header and basis are the generator's own, so a hostile client
//! cannot shrink the blocks of a file it may not read (under `-wo`, a
//! one-byte block and the file checksum's verdict would give the file
//! away a byte at a time) nor point a delta at another basis.
//!
//! Under `-wo` the request itself names no other file either: no
//! `--fuzzy` basis is offered, since its name would list the directory.

use std::time::Duration;

use rrsync::checksum::{FileHasher, StrongKind};
use rrsync::proto::Compression;
use rrsync::token::TokenEncoder;
use rrsync::wire::{NdxDecoder, NdxEncoder, NDX_DONE};

use super::client::{Client, Outcome};
use super::receiver::{dir, encode_list, file, flist_opts, push};
use super::stream::{get_ndx, get_u16};
use super::{assert_rejected, assert_says, Sandbox};

const TRANSFER: u16 = 1 << 15;
const BASIS_TYPE_FOLLOWS: u16 = 1 << 11;
const XNAME_FOLLOWS: u16 = 1 << 12;

/// Answers the first transfer request with `forged` as the echoed
/// header (count, block length, strong length, remainder; `None`: the
/// one sent), a basis type when `basis_type` is set, and then `body`.
/// Returns the header the generator sent.
fn answer_forged(
    c: &mut Client,
    forged: Option<[u32; 4]>,
    basis_type: Option<u8>,
    body: &[u8],
) -> Option<[u32; 4]> {
    let (mut dec, mut enc) = (NdxDecoder::new(32), NdxEncoder::new(32));
    loop {
        let ndx = get_ndx(&mut dec, &mut c.r).ok()?;
        if ndx == NDX_DONE || ndx < 0 {
            return None;
        }
        let iflags = get_u16(&mut c.r).ok()?;
        if iflags & TRANSFER == 0 {
            continue;
        }
        let mut head = [0u8; 16];
        std::io::Read::read_exact(&mut c.r, &mut head).ok()?;
        let w = |i: usize| u32::from_le_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
        let sent = [w(0), w(4), w(8), w(12)];
        let mut sums = vec![0u8; sent[0] as usize * (4 + sent[2] as usize)];
        std::io::Read::read_exact(&mut c.r, &mut sums).ok()?;
        let mut b = Vec::new();
        enc.put(&mut b, ndx);
        let flags = match basis_type {
            Some(_) => iflags | BASIS_TYPE_FOLLOWS,
            None => iflags,
        };
        b.extend_from_slice(&flags.to_le_bytes());
        b.extend(basis_type);
        for v in forged.unwrap_or(sent) {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.extend_from_slice(body);
        c.data(&b);
        return Some(sent);
    }
}

/// Block 0, the end marker and the checksum of `guess`.
fn block_zero_claiming(guess: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = TokenEncoder::new(Compression::None, None).expect("plain");
    enc.block(0, guess, &mut out).expect("block");
    enc.end(&mut out).expect("end");
    let mut h = FileHasher::new(StrongKind::Md5, 7);
    h.update(guess);
    out.extend_from_slice(h.finish().as_bytes());
    out
}

/// 2,000 bytes the client may not read.
fn secret() -> Vec<u8> {
    (0..2000u32).map(|i| b'A' + (i * 7 % 26) as u8).collect()
}

/// Pushes `f` (`size` bytes) over `c`, answers its request with
/// `forged`, and checks that the session was refused and `dst/f` is not
/// `guess`.
fn forged_case(
    what: &str,
    sb: &Sandbox,
    mut c: Client,
    forged: Option<[u32; 4]>,
    basis_type: Option<u8>,
    guess: &[u8],
) -> Outcome {
    c.data(&encode_list(
        &[dir(b"."), file(b"f", guess.len() as u64)],
        flist_opts(false, false, false),
    ));
    let sent = answer_forged(&mut c, forged, basis_type, &block_zero_claiming(guess));
    assert!(
        sent.is_some(),
        "{what}: the generator did not ask for the file"
    );
    std::thread::sleep(Duration::from_millis(200));
    let out = c.finish();
    sb.check_confined(what, &out);
    let now = std::fs::read(sb.root.join("dst/f")).unwrap_or_default();
    assert_ne!(
        now, guess,
        "{what}: a block the client may not read was copied and verified"
    );
    assert_rejected(what, &out);
    assert_says(
        what,
        &out,
        "came back with another basis or block-sum header",
    );
    out
}

#[test]
fn echoed_sum_head_cannot_shrink_the_blocks() {
    let sb = Sandbox::new("echo-head");
    let secret = secret();
    std::fs::create_dir_all(sb.root.join("dst")).expect("mkdir dst");
    std::fs::write(sb.root.join("dst/f"), &secret).expect("write basis");
    // One-byte blocks, and block 0 claimed to be the secret's first byte.
    let c = push(&sb, "", None);
    forged_case(
        "one-byte blocks",
        &sb,
        c,
        Some([2000, 1, 16, 0]),
        None,
        &secret[..1],
    );
}

#[test]
fn echoed_basis_type_cannot_name_another_file() {
    // The generator offers the file being replaced (3 blocks of 700); the
    // echo keeps that header and names the alternate directory's copy,
    // whose sums the client was never given.
    let sb = Sandbox::new("echo-basis");
    let secret = secret();
    std::fs::create_dir_all(sb.root.join("dst")).expect("mkdir dst");
    std::fs::create_dir_all(sb.root.join("alt")).expect("mkdir alt");
    std::fs::write(sb.root.join("dst/f"), vec![b'-'; 2000]).expect("write dst");
    std::fs::write(sb.root.join("alt/f"), &secret).expect("write alt");
    let words = "rsync --server -re.LsfxCIvu --compare-dest=../alt --checksum-seed=7 . dst/";
    let mut c = Client::spawn(&["-wo"], &sb.root, words);
    c.handshake(32, "LsfxCIvu", b"md5", None)
        .expect("handshake");
    forged_case("alternate basis", &sb, c, None, Some(0), &secret[..700]);
}

#[test]
fn write_only_offers_no_fuzzy_basis() {
    let sb = Sandbox::new("echo-fuzzy");
    std::fs::create_dir_all(sb.root.join("dst")).expect("mkdir dst");
    std::fs::write(sb.root.join("dst/secret-name.txt"), secret()).expect("write");
    let mut c = push(&sb, "y", None);
    c.data(&encode_list(
        &[dir(b"."), file(b"secret-name.txt~", 2000)],
        flist_opts(false, false, false),
    ));
    let mut dec = NdxDecoder::new(32);
    let ndx = get_ndx(&mut dec, &mut c.r).expect("a request");
    let iflags = get_u16(&mut c.r).expect("item flags");
    let _ = c.finish();
    assert!(ndx >= 0, "no request ({ndx})");
    assert_eq!(
        iflags & (BASIS_TYPE_FOLLOWS | XNAME_FOLLOWS),
        0,
        "the request named a basis: {iflags:#x}"
    );
}
