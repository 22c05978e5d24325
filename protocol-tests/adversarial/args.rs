//! Attacks before and around the protocol: the forced command and the
//! server arguments (`parse_arguments`; CVE-2026-70456 `read_args` for
//! `-s`, CVE-2026-70457 `parse_size_arg`, CVE-2026-53794 `--max-alloc=0`),
//! the demultiplexer (`read_a_msg`: unknown codes, 16 MiB frames), the
//! varint decoders (`read_varint`, `read_varlong`), and idle clients
//! (`--timeout`). All protocols; the frames need protocol >= 30.

use std::time::{Duration, Instant};

use super::client::Client;
use super::receiver::{dir, encode_list, file, push};
use super::{assert_failed, assert_rejected, assert_sane, assert_says, Sandbox};

#[test]
fn secluded_args_100k() {
    let sb = Sandbox::new("seclude");
    let mut c = Client::spawn(&["-wo"], &sb.root, "rsync --server -s");
    let mut b = b"rsync\0".to_vec();
    for _ in 0..100_000 {
        b.extend_from_slice(b"-v\0");
    }
    b.extend_from_slice(b".\0dst/\0\0");
    b.extend_from_slice(&32i32.to_le_bytes());
    c.raw(&b);
    let out = c.finish();
    assert_rejected("100,000 -s args", &out);
    assert_says("100k -s", &out, "more than");
    sb.check_confined("100,000 -s args", &out);
}

#[test]
fn secluded_args_huge_and_unterminated() {
    for (what, input, expect) in [
        (
            "one 1 MiB arg",
            [b"rsync\0".to_vec(), vec![b'a'; 1 << 20], b"\0\0".to_vec()].concat(),
            "longer than",
        ),
        (
            "unterminated",
            b"rsync\0-r\0.\0dst/".to_vec(),
            "ended before",
        ),
        (
            "not UTF-8",
            b"rsync\0\xff\xfe\0.\0d\0\0".to_vec(),
            "not valid UTF-8",
        ),
        (
            "paths escaping",
            b"rsync\0-r\0.\0../outside/\0\0".to_vec(),
            "do not use ..",
        ),
    ] {
        let sb = Sandbox::new("seclude2");
        let mut c = Client::spawn(&["-wo"], &sb.root, "rsync --server -s");
        c.raw(&input);
        let out = c.finish();
        assert_rejected(what, &out);
        assert_says(what, &out, expect);
        sb.check_confined(what, &out);
    }
}

#[test]
fn command_line_limits() {
    let many = "-v ".repeat(100_000);
    let long = format!("--suffix={}", "x".repeat(70_000));
    let cases = [
        (
            "100,000 words",
            format!("rsync --server {many}. dst/"),
            "command too long",
        ),
        (
            "70 KB word",
            format!("rsync --server -r {long} . dst/"),
            "command too long",
        ),
        ("not rsync", "sh -c id".to_string(), "only runs rsync"),
        ("no --server", "rsync -r . dst/".to_string(), "--server"),
        (
            "dotdot path",
            "rsync --server -r . ../outside/".to_string(),
            "do not use ..",
        ),
    ];
    for (what, words, expect) in cases {
        let sb = Sandbox::new("cmd");
        let c = Client::spawn(&["-wo"], &sb.root, &words);
        let out = c.finish();
        assert_rejected(what, &out);
        assert_says(what, &out, expect);
        sb.check_confined(what, &out);
    }
}

#[test]
fn numeric_options_out_of_range() {
    for opt in [
        "--block-size=131073",
        "--block-size=-1",
        "--block-size=99999999999999999999",
        "-B0x7fffffff",
        "--max-alloc=0",
        "--max-alloc=1",
        "--max-alloc=-5",
        "--max-alloc=99999999999g",
        "--bwlimit=1b",
        "--bwlimit=-1",
        "--bwlimit=99999999999999g",
        "--timeout=-1",
        "--timeout=99999999999",
        "--timeout=1e9",
        "--max-delete=1x",
        "--modify-window=99999999999",
        "--compress-level=9999",
        "--checksum-seed=99999999999",
    ] {
        let sb = Sandbox::new("num");
        let c = Client::spawn(
            &["-wo"],
            &sb.root,
            &format!("rsync --server -r {opt} . dst/"),
        );
        let out = c.finish();
        assert_rejected(opt, &out);
        // Refused while parsing, before any handshake: not merely failed
        // later when our input ends.
        assert_says(opt, &out, "invalid value");
        sb.check_confined(opt, &out);
    }
}

#[test]
fn mux_unknown_codes_and_huge_frames() {
    // (code, declared length, payload, the guard's message) after a
    // pull's handshake, while the server reads the filter list.
    let cases: [(&str, u8, u32, Vec<u8>, &str); 6] = [
        (
            "unknown code 50",
            50,
            4,
            vec![0; 4],
            "unexpected message code 50",
        ),
        (
            "code 249 (raw 0xFF)",
            248,
            0,
            vec![],
            "unexpected message code 248",
        ),
        (
            "16 MiB info message",
            2,
            0xFF_FFFF,
            vec![b'i'; 1 << 20],
            "too long: a multiplexed message",
        ),
        // Data frames may be long; the bytes inside are a filter rule
        // length of 0x01010101, which its own cap refuses.
        (
            "16 MiB data frame, short",
            0,
            0xFF_FFFF,
            vec![1; 1 << 20],
            "filter rule longer than",
        ),
        (
            "io_error with 3 bytes",
            22,
            3,
            vec![1, 2, 3],
            "invalid value received for an io_error message",
        ),
        (
            "exit message",
            86,
            4,
            255i32.to_le_bytes().to_vec(),
            "exited with code 255",
        ),
    ];
    for (what, code, len, payload, expect) in cases {
        let sb = Sandbox::new("mux");
        let mut c = Client::spawn(
            &["-ro"],
            &sb.root,
            "rsync --server --sender -re.LsfxCIvu . dir",
        );
        c.handshake(32, "LsfxCIvu", b"md5", None)
            .expect("handshake");
        c.frame(code, len, &payload);
        let out = c.finish();
        assert_rejected(what, &out);
        assert_says(what, &out, expect);
        assert!(
            out.hwm_kb < 64 * 1024,
            "{what}: peak RSS {} KiB",
            out.hwm_kb
        );
        sb.check_confined(what, &out);
    }
}

#[test]
fn varints_overlong_and_out_of_range() {
    // File-list flags are varints with `v`; sizes are varlongs (min 3).
    // Each case names the guard's own message: an end of input alone
    // would fail the session too, and prove nothing.
    let flags = "invalid value received for file-list flags";
    let cases: [(&str, Vec<u8>, &str); 5] = [
        (
            "varint lead 0xF8 (5 extra bytes)",
            vec![0xF8, 1, 2, 3, 4, 5],
            flags,
        ),
        (
            "varint lead 0xFC (6 extra bytes)",
            vec![0xFC, 1, 2, 3, 4, 5, 6],
            flags,
        ),
        (
            "varint 4 extra bytes, high bits set",
            vec![0xF7, 1, 2, 3, 4],
            flags,
        ),
        (
            "varlong size lead 0xFF (9 bytes, high bits set)",
            vec![0x02, 1, b'a', 0xFF, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8],
            "invalid value received for a file size",
        ),
        (
            // Lead 0xFC: 2 + 6 value bytes, the top one 0x80.
            "negative size",
            vec![0x02, 1, b'a', 0xFC, 0, 0, 0, 0, 0, 0, 0, 0x80],
            "negative file size",
        ),
    ];
    for (what, bytes, expect) in cases {
        let sb = Sandbox::new("varint");
        let mut c = push(&sb, "", None);
        c.data(&bytes);
        let out = c.finish();
        assert_rejected(what, &out);
        assert_says(what, &out, expect);
        sb.check_confined(what, &out);
    }
}

#[test]
fn handshake_garbage() {
    for (what, v) in [("version 0", 0i32), ("version -1", -1), ("version 26", 26)] {
        let sb = Sandbox::new("hs");
        let mut c = Client::spawn(
            &["-ro"],
            &sb.root,
            "rsync --server --sender -re.LsfxCIvu . dir",
        );
        c.raw(&v.to_le_bytes());
        let out = c.finish();
        assert_failed(what, &out);
        assert_says(what, &out, "is not supported");
        sb.check_confined(what, &out);
    }
    // A checksum list longer than the 1 KiB cap.
    let sb = Sandbox::new("hs");
    let mut c = Client::spawn(
        &["-ro"],
        &sb.root,
        "rsync --server --sender -re.LsfxCIvu . dir",
    );
    let mut b = 32i32.to_le_bytes().to_vec();
    b.extend_from_slice(&[0xFF, 0xFF]);
    b.extend_from_slice(&vec![b'x'; 0x7FFF]);
    c.raw(&b);
    let out = c.finish();
    assert_failed("32 KiB checksum list", &out);
    assert_says("32 KiB checksum list", &out, "too long: the checksum list");
}

/// A failed handshake must say why, on stderr (the operator's log) or in
/// an error frame.
#[test]
fn handshake_failure_is_reported() {
    let sb = Sandbox::new("hsmsg");
    let mut c = Client::spawn(
        &["-ro"],
        &sb.root,
        "rsync --server --sender -re.LsfxCIvu . dir",
    );
    c.raw(&26i32.to_le_bytes());
    let out = c.finish();
    assert_rejected("version 26", &out);
    assert_says("version 26", &out, "protocol");
}

/// An idle client after the handshake: dropped after its `--timeout`
/// (see docs/security.md, "Limits").
#[test]
fn idle_client_is_dropped_after_timeout() {
    let sb = Sandbox::new("idle");
    let mut c = Client::spawn_with(
        &["-ro"],
        &sb.root,
        "rsync --server --sender -re.LsfxCIvu --timeout=2 . dir",
        Duration::from_secs(20),
    );
    c.handshake(32, "LsfxCIvu", b"md5", None)
        .expect("handshake");
    let t = Instant::now();
    // Keep our end open and silent; the server must give up by itself.
    let mut sink = [0u8; 4096];
    while std::io::Read::read(&mut c.r, &mut sink)
        .map(|n| n > 0)
        .unwrap_or(false)
    {}
    let took = t.elapsed();
    let out = c.finish();
    assert_sane("idle client", &out);
    assert!(
        took < Duration::from_secs(10),
        "idle client: still connected after {took:?}"
    );
}

#[test]
fn push_after_refusal_is_not_processed() {
    // A refused push (-ro) followed by a full valid list: nothing written.
    let sb = Sandbox::new("refused");
    let before = sb.root_snapshot();
    let mut c = Client::spawn(&["-ro"], &sb.root, "rsync --server -re.LsfxCIvu . dst/");
    c.handshake(32, "LsfxCIvu", b"md5", None)
        .expect("handshake");
    c.data(&encode_list(
        &[dir(b"."), file(b"f", 3)],
        Default::default(),
    ));
    let out = c.finish();
    assert_rejected("push into -ro", &out);
    assert_eq!(before, sb.root_snapshot(), "push into -ro changed the root");
}

/// What protocol 28 cannot carry is refused in rsync's words and code 2,
/// though a stock client checks first (an older or other client may not).
#[test]
fn options_the_protocol_cannot_carry() {
    for (opts, words) in [
        ("-ry", "--fuzzy requires protocol 29 or higher (negotiated 28)."),
        (
            "-r --link-dest=../a --link-dest=../b",
            "Using more than one --link-dest option requires protocol 29 or higher (negotiated 28).",
        ),
        (
            "-r --inplace --compare-dest=../a",
            "--compare-dest with --inplace requires protocol 29 or higher (negotiated 28).",
        ),
        ("-rm", "--prune-empty-dirs requires protocol 29 or higher (negotiated 28)."),
    ] {
        let sb = Sandbox::new("old-proto");
        let words_line = format!("rsync --server {opts} . dst/");
        let mut c = Client::spawn(&["-wo"], &sb.root, &words_line);
        let _ = c.handshake(28, "", b"", None);
        let out = c.finish();
        assert_rejected(opts, &out);
        assert_eq!(out.code, Some(2), "{opts}: exit code");
        assert_says(opts, &out, words);
        sb.check_confined(opts, &out);
    }
}
