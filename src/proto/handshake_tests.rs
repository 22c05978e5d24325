//! The handshake without I/O against the stream function it replaced
//! (kept below as `oracle`, with its clock seed made an argument): byte
//! vectors for protocols 27 to 32, with and without the `v` capability
//! and with `--checksum-choice` and `--compress-choice`; the client's
//! replies fed whole, a byte at a time and cut at every byte; the same
//! bytes out, flushed at the same points, and the same bytes used.

use std::io::{self, Read, Write};

use super::*;
use crate::proto::server_handshake;
use crate::wire::{get_i32, get_vstring};

/// The stream handshake as it was before [`ServerHandshake`].
fn oracle(
    r: &mut impl Read,
    w: &mut impl Write,
    req: &HandshakeRequest,
    default_seed: i32,
) -> Result<Negotiated, HandshakeError> {
    let mut out = Vec::new();
    put_i32(&mut out, PROTOCOL_MAX as i32);
    w.write_all(&out)?;
    w.flush()?;
    let remote = get_i32(r, "the protocol version")?;
    if remote < PROTOCOL_MIN as i32 {
        return Err(HandshakeError::Version(remote));
    }
    let protocol = (remote as u32).min(PROTOCOL_MAX);
    let caps = Capabilities::parse(req.capabilities.as_deref().unwrap_or(""));
    let compat = CompatFlags::for_client(protocol, &caps, false);
    out.clear();
    if protocol >= 30 {
        if caps.legacy_varint_byte() {
            out.push(compat.bits() as u8);
        } else {
            put_varint(&mut out, compat.bits() as i32);
        }
    }
    let negotiate = compat.contains(CompatFlags::VARINT_FLIST_FLAGS);
    let want_csum_list = negotiate && req.checksum_choice.is_none();
    let want_comp_list = negotiate && req.compress && req.compress_choice.is_none();
    if want_csum_list {
        put_vstring(&mut out, CHECKSUM_NAMES.join(" ").as_bytes()).map_err(WireError::from)?;
    }
    if want_comp_list {
        put_vstring(&mut out, COMPRESS_NAMES.join(" ").as_bytes()).map_err(WireError::from)?;
    }
    w.write_all(&out)?;
    w.flush()?;
    let (xfer, file) = if want_csum_list {
        let theirs = get_vstring(r, MAX_NSTR, "the checksum list")?;
        let pick = choose(CHECKSUM_NAMES, &theirs).ok_or_else(|| {
            HandshakeError::Negotiation(format!(
                "Failed to negotiate a checksum choice (client offered: {})",
                String::from_utf8_lossy(&theirs)
            ))
        })?;
        (Some(pick.to_string()), Some(pick.to_string()))
    } else {
        split_choice(req.checksum_choice.as_deref())
    };
    let compression = if want_comp_list {
        let theirs = get_vstring(r, MAX_NSTR, "the compression list")?;
        let pick = choose(COMPRESS_NAMES, &theirs).ok_or_else(|| {
            HandshakeError::Negotiation(format!(
                "Failed to negotiate a compress choice (client offered: {})",
                String::from_utf8_lossy(&theirs)
            ))
        })?;
        Compression::from_name(pick).unwrap_or(Compression::None)
    } else {
        Compression::from_request(req.compress, req.compress_choice.as_deref())
            .map_err(HandshakeError::Negotiation)?
    };
    let seed = req.checksum_seed.map(|s| s as i32).unwrap_or(default_seed);
    out.clear();
    put_i32(&mut out, seed);
    w.write_all(&out)?;
    w.flush()?;
    Ok(Negotiated {
        protocol,
        compat,
        caps,
        xfer_checksum: xfer,
        file_checksum: file,
        compression,
        seed,
    })
}

/// The seed our tests pass for the clock's.
const SEED: i32 = 0x1234_5678;

/// A writer that keeps what was flushed, one entry per flush.
#[derive(Default)]
struct Flushes {
    done: Vec<Vec<u8>>,
    open: Vec<u8>,
}

impl Write for Flushes {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.open.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.done.push(std::mem::take(&mut self.open));
        Ok(())
    }
}

/// What a run gives: the outcome, the flushes, and the client's bytes
/// left for the session (after a failure there is no session: `None`).
type Run = (String, Vec<Vec<u8>>, Option<usize>);

fn run_of(res: &Result<Negotiated, HandshakeError>, sent: Vec<Vec<u8>>, left: usize) -> Run {
    (shown(res), sent, res.is_ok().then_some(left))
}

/// The exit code the top-level error picks for a handshake failure.
fn exit_of(e: &HandshakeError) -> i32 {
    let copy = match e {
        HandshakeError::Wire(w) => HandshakeError::Wire(*w),
        HandshakeError::Io(io) => {
            HandshakeError::Io(std::io::Error::new(io.kind(), io.to_string()))
        }
        HandshakeError::Version(v) => HandshakeError::Version(*v),
        HandshakeError::Negotiation(m) => HandshakeError::Negotiation(m.clone()),
    };
    crate::error::exit_code(copy)
}

/// Everything an outcome says, comparable (neither type is `PartialEq`).
fn shown(r: &Result<Negotiated, HandshakeError>) -> String {
    match r {
        Ok(s) => format!("{s:?}"),
        Err(e) => format!("error {e:?}: {e} (exit {})", exit_of(e)),
    }
}

/// The client's side: its version, then a checksum and a compression
/// list, then bytes of the session that must stay unread.
fn client(version: i32, csums: &[u8], comps: &[u8]) -> Vec<u8> {
    let mut v = version.to_le_bytes().to_vec();
    put_vstring(&mut v, csums).unwrap();
    put_vstring(&mut v, comps).unwrap();
    v.extend_from_slice(b"SESSION");
    v
}

fn req(caps: Option<&str>, csum: Option<&str>, z: bool, comp: Option<&str>) -> HandshakeRequest {
    HandshakeRequest {
        capabilities: caps.map(str::to_string),
        checksum_choice: csum.map(str::to_string),
        compress: z || comp.is_some(),
        compress_choice: comp.map(str::to_string),
        checksum_seed: None,
        allow_inc_recurse: false,
    }
}

/// Every request the tests run, each for every protocol.
fn requests() -> Vec<HandshakeRequest> {
    let mut v = Vec::new();
    for caps in [None, Some("LsfxCIvu"), Some("LsfxCIu"), Some("LsfxCIVu")] {
        for csum in [None, Some("md5"), Some("xxh3,md5"), Some("auto")] {
            for (z, comp) in [
                (false, None),
                (true, None),
                (true, Some("zlib")),
                (false, Some("zstd")),
                (true, Some("auto")),
                (true, Some("nonesuch")),
            ] {
                v.push(req(caps, csum, z, comp));
            }
        }
    }
    let mut seeded = req(Some("LsfxCIvu"), None, true, None);
    seeded.checksum_seed = Some(0xDEAD_BEEF);
    v.push(seeded);
    v
}

/// Client inputs: good ones for 27 to 32 (and a newer client), ones that
/// fail to negotiate, an old version, and a list over the limit.
fn inputs() -> Vec<Vec<u8>> {
    let good = |p| client(p, b"xxh128 xxh3 xxh64 md5 md4 sha1", b"zstd lz4 zlibx zlib");
    let mut v: Vec<Vec<u8>> = [27, 28, 29, 30, 31, 32, 40].into_iter().map(good).collect();
    v.push(client(31, b"md4", b"zlib"));
    v.push(client(32, b"sha1 sha256", b"zstd"));
    v.push(client(32, b"xxhash", b"lz4"));
    v.push(client(32, b"", b""));
    v.push(client(26, b"md5", b"zlib"));
    v.push(client(-1, b"md5", b"zlib"));
    let mut long = 32i32.to_le_bytes().to_vec();
    put_vstring(&mut long, &[b'a'; MAX_NSTR + 1]).unwrap();
    v.push(long);
    v
}

/// The oracle's outcome, flushes and bytes left unread.
fn run_oracle(input: &[u8], req: &HandshakeRequest) -> Run {
    let mut r = input;
    let mut w = Flushes::default();
    let res = oracle(&mut r, &mut w, req, SEED);
    run_of(&res, w.done, r.len())
}

/// The bridge, with the clock's seed replaced by [`SEED`].
fn run_bridge(input: &[u8], req: &HandshakeRequest) -> Run {
    let mut req = req.clone();
    req.checksum_seed = req.checksum_seed.or(Some(SEED as u32));
    let mut r = input;
    let mut w = Flushes::default();
    let res = server_handshake(&mut r, &mut w, &req);
    run_of(&res, w.done, r.len())
}

/// The machine fed in pieces of `step` bytes (`usize::MAX`: all at once):
/// the outcome, the transmits, and the bytes left unused.
fn run_machine(input: &[u8], req: &HandshakeRequest, step: usize) -> Run {
    let mut hs = ServerHandshake::new(req, SEED);
    let mut sent = Vec::new();
    let mut held = Vec::new();
    let mut fed = 0;
    let res = loop {
        while let Some(out) = hs.poll_transmit() {
            sent.push(out);
        }
        let res = hs.handle_input(&held);
        while let Some(out) = hs.poll_transmit() {
            sent.push(out);
        }
        match res {
            Err(e) => break Err(e),
            Ok((used, s)) => {
                held.drain(..used);
                if let Some(s) = s {
                    break Ok(s);
                }
            }
        }
        if fed == input.len() {
            break Err(hs.handle_eof());
        }
        let n = step.min(input.len() - fed);
        held.extend_from_slice(&input[fed..fed + n]);
        fed += n;
    };
    run_of(&res, sent, held.len() + input.len() - fed)
}

#[test]
fn the_bridge_and_the_machine_match_the_old_function() {
    for req in requests() {
        for input in inputs() {
            let want = run_oracle(&input, &req);
            assert_eq!(run_bridge(&input, &req), want, "{req:?} {input:02x?}");
            for step in [1, 2, 3, 7, usize::MAX] {
                let got = run_machine(&input, &req, step);
                assert_eq!(got, want, "{req:?} {input:02x?} step {step}");
            }
        }
    }
}

#[test]
fn a_cut_at_every_byte_fails_as_before() {
    for req in [
        req(Some("LsfxCIvu"), None, true, None),
        req(Some("LsfxCIvu"), None, false, None),
        req(None, None, false, None),
    ] {
        let input = client(31, b"md5 md4", b"zlibx zlib");
        for cut in 0..input.len() {
            let want = run_oracle(&input[..cut], &req);
            assert_eq!(run_bridge(&input[..cut], &req), want, "cut {cut}");
            assert_eq!(run_machine(&input[..cut], &req, 1), want, "cut {cut}");
        }
    }
}

/// Our version, as every handshake starts.
const V32: [u8; 4] = [32, 0, 0, 0];
/// `SYMLINK_TIMES|SAFE_FLIST|AVOID_XATTR|SEED_FIX|INPLACE_PARTIAL|ID0`,
/// 0x17A, as a varint; with `VARINT_FLIST_FLAGS` it is 0x1FA.
const FLAGS_NO_V: [u8; 2] = [0x81, 0x7A];
const FLAGS_V: [u8; 2] = [0x81, 0xFA];

fn vstr(s: &str) -> Vec<u8> {
    let mut v = Vec::new();
    put_vstring(&mut v, s.as_bytes()).unwrap();
    v
}

fn flushes(input: &[u8], req: &HandshakeRequest) -> Vec<Vec<u8>> {
    let (res, sent, _) = run_machine(input, req, 1);
    assert!(!res.starts_with("error"), "{res}");
    sent
}

#[test]
fn byte_vectors_per_protocol() {
    let seed = SEED.to_le_bytes().to_vec();
    let csums = vstr("xxh128 xxh3 xxh64 md5 md4 sha1 none");
    let comps = vstr("zstd lz4 zlibx zlib none");
    let v = Some("LsfxCIvu");
    let no_v = Some("LsfxCIu");
    // 27 and 29: no compat flags and no lists, whatever the client sent.
    for p in [27, 29] {
        let input = client(p, b"md5", b"zlib");
        let want = vec![V32.to_vec(), vec![], seed.clone()];
        assert_eq!(flushes(&input, &req(v, None, true, None)), want, "{p}");
        assert_eq!(flushes(&input, &req(None, Some("md5"), true, None)), want);
    }
    let input = client(30, b"md5", b"zlib");
    // 30 without `v`: the flags, no lists.
    assert_eq!(
        flushes(&input, &req(no_v, None, true, None)),
        [V32.to_vec(), FLAGS_NO_V.to_vec(), seed.clone()]
    );
    // 30 with `v`: the flags and the checksum list; -z adds the other.
    assert_eq!(
        flushes(&input, &req(v, None, false, None)),
        [V32.to_vec(), [&FLAGS_V[..], &csums].concat(), seed.clone()]
    );
    assert_eq!(
        flushes(&input, &req(v, None, true, None)),
        [
            V32.to_vec(),
            [&FLAGS_V[..], &csums, &comps].concat(),
            seed.clone()
        ]
    );
    // 31 with `v` and --checksum-choice: only the compression list.
    let input = client(31, b"zlib", b"");
    assert_eq!(
        flushes(&input, &req(v, Some("md5"), true, None)),
        [V32.to_vec(), [&FLAGS_V[..], &comps].concat(), seed.clone()]
    );
    // 32 with `v` and --compress-choice: only the checksum list.
    let input = client(32, b"md5", b"");
    assert_eq!(
        flushes(&input, &req(v, None, true, Some("zstd"))),
        [V32.to_vec(), [&FLAGS_V[..], &csums].concat(), seed.clone()]
    );
    // 32 with both choices: the flags alone.
    assert_eq!(
        flushes(&input, &req(v, Some("md5"), true, Some("zlib"))),
        [V32.to_vec(), FLAGS_V.to_vec(), seed.clone()]
    );
    // The pre-release `V`: the flags as one byte.
    assert_eq!(
        flushes(&input, &req(Some("V"), Some("md5"), false, None)),
        [V32.to_vec(), vec![0x82], seed]
    );
}

#[test]
fn the_machine_reports_what_it_waits_for() {
    let mut hs = ServerHandshake::new(&req(Some("LsfxCIvu"), None, true, None), SEED);
    assert_eq!(hs.poll_transmit(), Some(V32.to_vec()));
    assert_eq!(hs.poll_transmit(), None);
    assert_eq!(hs.waiting_for(), Some("the protocol version"));
    assert_eq!(hs.handle_input(&[32, 0]).unwrap().0, 0);
    assert_eq!(hs.needed(), 2);
    let mut input = 32i32.to_le_bytes().to_vec();
    input.extend(vstr("md5"));
    input.push(0x04);
    let (used, s) = hs.handle_input(&input).unwrap();
    assert!(s.is_none());
    // The version and the checksum list; the compression list's length
    // byte is seen but not used.
    assert_eq!(used, 8);
    assert_eq!(hs.waiting_for(), Some("the compression list"));
    assert_eq!(hs.needed(), 4);
    assert!(hs.poll_transmit().is_some());
    let e = hs.handle_eof();
    assert_eq!(
        format!("{e}"),
        "connection closed in the middle of the compression list"
    );
    assert!(hs.is_over());
    assert!(matches!(hs.handle_input(b"more"), Ok((0, None))));
}

#[test]
fn inc_recurse_is_set_only_when_allowed_and_asked_for() {
    let caps = Capabilities::parse("LsfxCIvu");
    let with_i = Capabilities::parse("iLsfxCIvu");
    assert!(!CompatFlags::for_client(32, &caps, true).contains(CompatFlags::INC_RECURSE));
    assert!(!CompatFlags::for_client(32, &with_i, false).contains(CompatFlags::INC_RECURSE));
    assert!(CompatFlags::for_client(32, &with_i, true).contains(CompatFlags::INC_RECURSE));
    assert!(!CompatFlags::for_client(29, &with_i, true).contains(CompatFlags::INC_RECURSE));
}
