//! The receiving session in process, inside a [`Machine`] on a fake
//! clock: a scripted client pushes a one-file list and the file's delta
//! at protocol 31 (multiplexed both ways), in any split; cut at every
//! byte the session ends with an error code, never hangs; dropped by a
//! timeout inside the file, it leaves no temporary file behind; data for
//! a file the generator left alone is refused; an entry whose parent is
//! not listed ends the session.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use super::{ReceiverConfig, RecvOptions};
use crate::checksum::{FileHasher, StrongKind};
use crate::flist::item::{IS_NEW, TRANSFER};
use crate::flist::{FileEntry, FlistEncoder, FlistOptions};
use crate::fs::Root;
use crate::proto::Compression;
use crate::role::log_file::ItemLog;
use crate::role::test_util::{keepalive_on_ticking_clock, read_frames, Scratch};
use crate::role::{Link, Machine, Outcome};
use crate::token::TokenEncoder;
use crate::wire::{put_frame, put_u16, MsgCode, NdxEncoder, NDX_DONE};

const P: u32 = 31;
const DATA: &[u8] = b"hello from a scripted client\n";

fn flist_opts() -> FlistOptions {
    FlistOptions {
        protocol: P,
        varint_flags: true,
        safe_flist: true,
        ..FlistOptions::default()
    }
}

/// What the client sends: the list, then the delta for file 0 as the
/// client's sender answers our request, then the `NDX_DONE`s of the
/// three phases and the final one, in `MSG_DATA` frames of `frame_len`.
fn client_stream(frame_len: usize) -> Vec<u8> {
    let mut s = list();
    let mut ndx = NdxEncoder::new(P);
    delta(&mut s, &mut ndx, true);
    for _ in 0..4 {
        ndx.put(&mut s, NDX_DONE);
    }
    frames(&s, frame_len)
}

/// The one-file list.
fn list() -> Vec<u8> {
    let mut s = Vec::new();
    let mut e = FileEntry::new(b"hello.txt".to_vec(), 0o100644);
    e.size = DATA.len() as u64;
    e.mtime = 1_700_000_000;
    let mut enc = FlistEncoder::new(flist_opts());
    enc.encode(&e, &mut s, &mut |_| None, &mut |_| None);
    enc.end(&mut s, 0);
    s
}

/// File 0's index, item flags, empty sum head, data and checksum (a
/// wrong one unless `good`).
fn delta(s: &mut Vec<u8>, ndx: &mut NdxEncoder, good: bool) {
    ndx.put(s, 0);
    put_u16(s, (TRANSFER | IS_NEW).bits());
    for _ in 0..4 {
        s.extend_from_slice(&0i32.to_le_bytes());
    }
    let mut tokens = TokenEncoder::new(Compression::None, None).unwrap();
    tokens.literal(DATA, s).unwrap();
    tokens.end(s).unwrap();
    let mut h = FileHasher::new(StrongKind::Md5, 0);
    h.update(DATA);
    let mut sum = h.finish().as_bytes().to_vec();
    if !good {
        sum.iter_mut().for_each(|b| *b ^= 0xff);
    }
    s.extend_from_slice(&sum);
}

fn frames(s: &[u8], frame_len: usize) -> Vec<u8> {
    let mut framed = Vec::new();
    for chunk in s.chunks(frame_len) {
        put_frame(&mut framed, MsgCode::Data, chunk);
    }
    framed
}

/// The data in our multiplexed output, without the frames and messages.
fn data_of(out: &[u8]) -> Vec<u8> {
    read_frames(out).1
}

/// Our request for file 0 with an empty sum head, as the generator
/// writes it.
fn request(s: &mut Vec<u8>, ndx: &mut NdxEncoder) {
    ndx.put(s, 0);
    put_u16(s, (TRANSFER | IS_NEW).bits());
    s.extend_from_slice(&[0u8; 16]);
}

fn run_all(input: &[u8], dir: &Scratch) -> (Option<i32>, Vec<u8>) {
    let root = Root::open(&dir.0).unwrap();
    let t0 = Instant::now();
    let mut m = Machine::new(t0, |l| session(l, &root));
    let mut out = Vec::new();
    m.handle_input(t0, input);
    m.poll_transmit(t0, &mut out);
    m.poll_transmit(t0, &mut out);
    (m.outcome().map(|o| o.code), out)
}

async fn session(link: Link, root: &Root) -> Outcome {
    link.set_who("receiver");
    link.set_multiplexed_out(true);
    link.set_multiplexed_in(true);
    let cfg = ReceiverConfig {
        root,
        dest: Vec::new(),
        opts: RecvOptions {
            max_entries: 1000,
            max_held: 1000,
            ..RecvOptions::default()
        },
        flist: flist_opts(),
        xfer_kind: StrongKind::Md5,
        file_kind: StrongKind::Md5,
        seed: 0,
        proper_seed_order: true,
        compression: Compression::None,
        id0_names: false,
        filter: None,
        delete: None,
        overwrite: None,
        sums: crate::policy::BlockSums::default(),
        limits: Default::default(),
        log: ItemLog::off(),
    };
    let code = match super::run(&link, cfg, P).await {
        Ok(st) => crate::error::finished(st.io_error),
        Err(e) => {
            // What the session does with a role's error.
            link.fail(&e.to_string(), e.exit_code());
            e.exit_code()
        }
    };
    Outcome {
        code,
        ..Outcome::default()
    }
}

#[test]
fn a_pushed_file_arrives_in_any_split() {
    let input = client_stream(40);
    for step in [1, 2, 3, 7, 64, input.len()] {
        let dir = Scratch::new("recv-machine");
        let root = Root::open(&dir.0).unwrap();
        let t0 = Instant::now();
        let mut m = Machine::new(t0, |l| session(l, &root));
        let mut out = Vec::new();
        for chunk in input.chunks(step) {
            assert_eq!(m.handle_input(t0, chunk), chunk.len(), "split {step}");
            m.poll_transmit(t0, &mut out);
        }
        m.poll_transmit(t0, &mut out);
        assert_eq!(m.outcome().map(|o| o.code), Some(0), "split {step}");
        assert!(m.is_done(false), "split {step}");
        assert_eq!(std::fs::read(dir.0.join("hello.txt")).unwrap(), DATA);
        assert_eq!(dir.names(), ["hello.txt"], "split {step}");
        assert!(!out.is_empty());
    }
}

#[test]
fn a_cut_at_every_byte_ends_with_an_error() {
    let input = client_stream(40);
    for cut in 0..input.len() {
        let dir = Scratch::new("recv-machine");
        let root = Root::open(&dir.0).unwrap();
        let t0 = Instant::now();
        let mut m = Machine::new(t0, |l| session(l, &root));
        let mut out = Vec::new();
        m.handle_input(t0, input.get(..cut).unwrap());
        m.poll_transmit(t0, &mut out);
        assert!(m.outcome().is_none(), "cut at {cut}");
        m.handle_eof(t0);
        m.poll_transmit(t0, &mut out);
        let code = m.outcome().map(|o| o.code);
        assert!(code.is_some_and(|c| c != 0), "cut at {cut}: {code:?}");
        drop(m);
        // No temporary file is left behind; the file is there only if
        // its data was complete.
        let names = dir.names();
        assert!(
            names.is_empty() || names == ["hello.txt"],
            "cut at {cut}: {names:?}"
        );
    }
}

#[test]
fn a_timeout_inside_the_file_removes_its_temporary_file() {
    let input = client_stream(4096);
    // Up to the middle of the literal data.
    let at = input.windows(10).position(|w| w == b"hello from").unwrap() + 10;
    let dir = Scratch::new("recv-machine");
    let root = Root::open(&dir.0).unwrap();
    let t0 = Instant::now();
    let mut m = Machine::new(t0, |l| session(l, &root));
    let mut out = Vec::new();
    m.handle_input(t0, input.get(..at).unwrap());
    m.poll_transmit(t0, &mut out);
    assert!(m.outcome().is_none());
    assert_eq!(
        dir.names().len(),
        1,
        "a temporary file while the data comes"
    );
    let late = t0 + Duration::from_secs(3600);
    m.handle_timeout(late, false);
    assert_eq!(
        m.outcome().map(|o| o.code),
        Some(crate::error::code::TIMEOUT)
    );
    assert!(dir.names().is_empty(), "{:?}", dir.names());
}

#[test]
fn what_we_send_keeps_rsyncs_order() {
    let dir = Scratch::new("recv-machine");
    let (code, out) = run_all(&client_stream(40), &dir);
    assert_eq!(code, Some(0));
    // The request, the end of phase 0, the ends of phases 1 and 2, the
    // deletion phase (31+), and the goodbye.
    let mut expect = Vec::new();
    let mut ndx = NdxEncoder::new(P);
    request(&mut expect, &mut ndx);
    for _ in 0..5 {
        ndx.put(&mut expect, NDX_DONE);
    }
    assert_eq!(data_of(&out), expect);
}

#[test]
fn a_failed_checksum_is_asked_for_again_in_phase_1() {
    let mut s = list();
    let mut ndx = NdxEncoder::new(P);
    delta(&mut s, &mut ndx, false);
    ndx.put(&mut s, NDX_DONE);
    delta(&mut s, &mut ndx, true);
    for _ in 0..3 {
        ndx.put(&mut s, NDX_DONE);
    }
    let dir = Scratch::new("recv-machine");
    let (code, out) = run_all(&frames(&s, 64), &dir);
    assert_eq!(code, Some(0));
    assert_eq!(std::fs::read(dir.0.join("hello.txt")).unwrap(), DATA);
    assert_eq!(dir.names(), ["hello.txt"]);
    let mut expect = Vec::new();
    let mut ndx = NdxEncoder::new(P);
    request(&mut expect, &mut ndx);
    ndx.put(&mut expect, NDX_DONE);
    request(&mut expect, &mut ndx);
    for _ in 0..4 {
        ndx.put(&mut expect, NDX_DONE);
    }
    assert_eq!(data_of(&out), expect);
}

#[test]
fn data_for_a_file_left_alone_is_refused() {
    // The file exists and the session may not overwrite it: the generator
    // leaves it alone, so the client's data for it ends the session.
    let dir = Scratch::new("recv-machine");
    std::fs::write(dir.0.join("hello.txt"), b"keep me").unwrap();
    let (code, out) = run_all(&client_stream(40), &dir);
    assert_eq!(code, Some(crate::error::code::PROTOCOL));
    assert_eq!(std::fs::read(dir.0.join("hello.txt")).unwrap(), b"keep me");
    assert_eq!(dir.names(), ["hello.txt"]);
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains("which was not requested"), "{text}");
}

#[test]
fn an_entry_whose_parent_is_not_listed_ends_the_session() {
    // rsync's generator checks each entry's parent against the list (what
    // a -R --no-implied-dirs client meets below protocol 30).
    let dir = Scratch::new("recv-machine");
    let mut s = Vec::new();
    let mut e = FileEntry::new(b"sub/hello.txt".to_vec(), 0o100644);
    e.size = DATA.len() as u64;
    let mut enc = FlistEncoder::new(flist_opts());
    enc.encode(&e, &mut s, &mut |_| None, &mut |_| None);
    enc.end(&mut s, 0);
    let (code, out) = run_all(&frames(&s, 40), &dir);
    assert_eq!(code, Some(crate::error::code::PROTOCOL));
    assert!(dir.names().is_empty(), "{:?}", dir.names());
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.contains("invalid path from sender: sub/hello.txt"),
        "{text}"
    );
}

/// With the client's `--timeout`, the generator's steps send keep-alives
/// (empty `MSG_DATA` frames) once the lull has passed, here at every
/// step, between the frames of the stream, which reads as before.
#[test]
fn the_generator_sends_keep_alives_as_it_works() {
    let run = |keepalive: bool| {
        let dir = Scratch::new("recv-machine");
        let root = Root::open(&dir.0).unwrap();
        let t0 = Instant::now();
        let mut m = Machine::new(t0, |l: Link| {
            keepalive_on_ticking_clock(&l, keepalive);
            session(l, &root)
        });
        let mut out = Vec::new();
        m.handle_input(t0, &client_stream(1 << 16));
        for _ in 0..50 {
            m.poll_transmit(t0, &mut out);
            m.handle_timeout(t0, false);
        }
        (m.outcome().map(|o| o.code), out)
    };
    let (code, plain) = run(false);
    assert_eq!(code, Some(0));
    let (code, kept) = run(true);
    assert_eq!(code, Some(0));
    let empty = |out: &[u8]| read_frames(out).0;
    assert_eq!(empty(&plain), 0);
    assert!(empty(&kept) >= 2, "{kept:?}");
    assert_eq!(data_of(&kept), data_of(&plain));
}
