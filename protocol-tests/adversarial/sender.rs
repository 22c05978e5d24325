//! Attacks on the sender role (the client pulls under `-ro`): the block
//! sum header and sums (`read_sum_head`, `receive_sums`: CVE-2024-12084,
//! CVE-2026-53792, CVE-2026-70453), file indexes (`send_files`:
//! CVE-2025-10158) and the client's filter rules (CVE-2026-70461 and
//! upstream's `--confine-root` for merge files). Protocols 29 and 32.

use std::time::{Duration, Instant};

use rrsync::checksum::checksum1;
use rrsync::flist::{FileEntry, FlistDecoder, FlistLimits, FlistOptions};
use rrsync::wire::{NdxEncoder, NDX_FLIST_OFFSET};

use super::client::{Client, Outcome};
use super::{all_text, assert_rejected, assert_sane, assert_says, Sandbox};

const CAPS: &str = "LsfxCIvu";
/// `ITEM_TRANSFER`.
const TRANSFER: u16 = 1 << 15;

/// A pull of `paths` after the handshake, the (empty or given) filter
/// list and the file list, in process; returns the client and the list.
pub fn pull(
    sb: &Sandbox,
    opts: &str,
    paths: &str,
    csums: &[u8],
    rules: &[&[u8]],
) -> (Client, Vec<FileEntry>) {
    let words = format!("rsync --server --sender -{opts}e.{CAPS} . {paths}");
    let links = opts.contains('l');
    pull_on(
        Client::inproc(&["-ro"], &sb.root, &words),
        csums,
        rules,
        links,
    )
}

/// [`pull`] against a server process, whose memory the client watches.
pub fn pull_process(sb: &Sandbox, paths: &str, csums: &[u8]) -> (Client, Vec<FileEntry>) {
    let words = format!("rsync --server --sender -e.{CAPS} . {paths}");
    pull_on(Client::spawn(&["-ro"], &sb.root, &words), csums, &[], false)
}

fn pull_on(mut c: Client, csums: &[u8], rules: &[&[u8]], links: bool) -> (Client, Vec<FileEntry>) {
    let hs = c.handshake(32, CAPS, csums, None).expect("handshake");
    let mut fl = Vec::new();
    for r in rules {
        fl.extend_from_slice(&(r.len() as i32).to_le_bytes());
        fl.extend_from_slice(r);
    }
    fl.extend_from_slice(&0i32.to_le_bytes());
    c.data(&fl);
    let fo = FlistOptions {
        protocol: hs.protocol,
        varint_flags: true,
        preserve_links: links,
        safe_flist: true,
        ..FlistOptions::default()
    };
    let list = super::stream::read_list(FlistDecoder::new(fo, FlistLimits::default()), &mut c.r)
        .unwrap_or_default();
    (c, list)
}

/// Requests `ndx` for transfer with the given header fields and sums.
fn request(mut c: Client, ndx: i32, head: [i32; 4], sums: &[u8]) -> Outcome {
    let mut b = Vec::new();
    NdxEncoder::new(c.hs.protocol).put(&mut b, ndx);
    b.extend_from_slice(&TRANSFER.to_le_bytes());
    for v in head {
        b.extend_from_slice(&v.to_le_bytes());
    }
    b.extend_from_slice(sums);
    c.data(&b);
    if c.is_process() {
        // Keep the server alive a moment, waiting for the rest of the
        // sums, so the watchdog samples its memory at its peak.
        std::thread::sleep(Duration::from_millis(100));
    }
    c.finish()
}

fn head_case(what: &str, csums: &[u8], head: [i32; 4], sums: &[u8], expect: &str) {
    let sb = Sandbox::new("sumhead");
    let before = sb.root_snapshot();
    let (c, list) = pull(&sb, "", "big", csums, &[]);
    assert_eq!(list.len(), 1, "{what}: file list");
    let out = request(c, 0, head, sums);
    assert_rejected(what, &out);
    assert_says(what, &out, expect);
    sb.check_confined(what, &out);
    assert_eq!(before, sb.root_snapshot(), "{what}: -ro root changed");
}

#[test]
fn sum_head_s2length_above_digest() {
    // CVE-2024-12084: above the 16-byte maximum, and above an 8-byte
    // negotiated digest while still within 16.
    head_case("s2length 17", b"md5", [1, 700, 17, 0], &[0; 21], "s2length");
    head_case(
        "s2length 16 with xxh64",
        b"xxh64",
        [1, 700, 16, 0],
        &[0; 20],
        "s2length",
    );
    head_case("s2length -1", b"md5", [1, 700, -1, 0], &[], "s2length");
}

#[test]
fn sum_head_counts_and_lengths() {
    // CVE-2026-53792: blocks with a zero block length; then huge counts.
    head_case(
        "count>0, blength 0",
        b"md5",
        [5, 0, 16, 0],
        &[0; 100],
        "zero block length",
    );
    head_case(
        "count i32::MAX",
        b"md5",
        [i32::MAX, 700, 16, 0],
        &[],
        "count",
    );
    head_case("negative count", b"md5", [-1, 700, 16, 0], &[], "count");
    head_case(
        "blength above max",
        b"md5",
        [1, (1 << 17) + 1, 16, 0],
        &[0; 20],
        "block length",
    );
    head_case(
        "negative blength",
        b"md5",
        [1, -700, 16, 0],
        &[0; 20],
        "block length",
    );
    head_case(
        "remainder > blength",
        b"md5",
        [2, 700, 16, 701],
        &[0; 40],
        "remainder",
    );
    head_case(
        "negative remainder",
        b"md5",
        [2, 700, 16, -1],
        &[0; 40],
        "remainder",
    );
}

#[test]
fn sum_head_max_count_memory_is_bounded() {
    // The largest count we accept, with only a few sums behind it: the
    // sender must not reserve memory for the announced count, not even
    // address space it never touches (a `Vec::with_capacity(count)` of
    // 2^24 sums would add ~400 MiB to VmPeak, none of it to VmHWM).
    let run = |count: i32| {
        let sb = Sandbox::new("sumcount");
        let (c, _) = pull_process(&sb, "big", b"md5");
        let out = request(c, 0, [count, 700, 16, 0], &[7u8; 20 * 1000]);
        assert_rejected("count then EOF", &out);
        sb.check_confined("count then EOF", &out);
        out
    };
    let small = run(2000);
    let big = run(1 << 24);
    eprintln!(
        "sum count 2000: VmPeak {} KiB; 2^24: VmPeak {} KiB, VmHWM {} KiB",
        small.peak_kb, big.peak_kb, big.hwm_kb
    );
    assert!(
        big.hwm_kb < 64 * 1024,
        "count 2^24: peak RSS {} KiB",
        big.hwm_kb
    );
    assert!(
        big.peak_kb < small.peak_kb + 128 * 1024,
        "count 2^24: address space grew from {} to {} KiB",
        small.peak_kb,
        big.peak_kb
    );
}

/// Seconds the sender takes to match a 1 MiB zero file against `n`
/// blocks of `blen` bytes that all carry the weak sum of a zero block and
/// strong sums that never match.
fn weak_collisions(n: usize, blen: usize) -> Duration {
    let sb = Sandbox::new("weak");
    let size = 1 << 20;
    std::fs::write(sb.root.join("zeros"), vec![0u8; size]).expect("write");
    let (mut c, list) = pull(&sb, "", "zeros", b"md5", &[]);
    assert_eq!(list.len(), 1);
    let weak = checksum1(&vec![0u8; blen]);
    let mut b = Vec::with_capacity(n * 20 + 32);
    NdxEncoder::new(32).put(&mut b, 0);
    b.extend_from_slice(&TRANSFER.to_le_bytes());
    for v in [n as i32, blen as i32, 16, 0] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    for i in 0..n as u32 {
        b.extend_from_slice(&weak.to_le_bytes());
        b.extend_from_slice(&i.to_le_bytes());
        b.extend_from_slice(&[0xA5; 12]);
    }
    // NDX_DONE: the sender flushes its output when it reads it.
    b.push(0);
    let t = Instant::now();
    c.data(&b);
    // The whole file comes back as literal data.
    let mut got = 0usize;
    let mut buf = vec![0u8; 1 << 16];
    while got < size {
        match std::io::Read::read(&mut c.r, &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(k) => got += k,
        }
    }
    let took = t.elapsed();
    let out = c.finish();
    assert_sane("equal weak sums", &out);
    assert!(
        got >= size,
        "equal weak sums: only {got} bytes of delta came back"
    );
    sb.check_confined("equal weak sums", &out);
    took
}

#[test]
fn equal_weak_sums_stay_linear() {
    // CVE-2026-70453 (rsync #217): with every block on one weak sum, a
    // chain walk costs O(offsets x blocks); 16 times the blocks must not
    // cost anywhere near 16 times the time.
    let small = weak_collisions(4096, 700);
    let large = weak_collisions(65_536, 700);
    eprintln!("equal weak sums: 4096 blocks {small:?}, 65536 blocks {large:?}");
    assert!(
        large < small * 4 + Duration::from_secs(2),
        "quadratic: {small:?} -> {large:?}"
    );
}

#[test]
fn equal_weak_sums_with_the_largest_blocks_stay_linear() {
    // The other product: every offset of the file hits the weak sum, and
    // each hit would hash a whole 128 KiB block (1 MiB x 128 KiB = 128 GiB
    // of MD5). The false-alarm budget (4 x the file + 64 MiB of hashing)
    // turns later hits into misses, so this stays well under a second.
    let took = weak_collisions(1, 128 * 1024);
    eprintln!("equal weak sums, one 128 KiB block: {took:?}");
    assert!(took < Duration::from_secs(10), "false alarms cost {took:?}");
}

fn ndx_case(what: &str, opts: &str, paths: &str, ndx: i32, expect: &str) {
    let sb = Sandbox::new("ndx");
    let (c, _) = pull(&sb, opts, paths, b"md5", &[]);
    let out = request(c, ndx, [0, 0, 16, 0], &[]);
    assert_rejected(what, &out);
    assert_says(what, &out, expect);
    sb.check_confined(what, &out);
}

#[test]
fn ndx_negative_out_of_range_directory_earlier_list() {
    // CVE-2025-10158.
    ndx_case("negative ndx", "", "file", -7, "invalid file index");
    ndx_case("ndx past the end", "", "file", 1, "invalid file index");
    ndx_case(
        "ndx far past the end",
        "",
        "file",
        i32::MAX,
        "invalid file index",
    );
    ndx_case(
        "ndx of a sub-list",
        "",
        "file",
        NDX_FLIST_OFFSET - 3,
        "invalid file index",
    );
    ndx_case("ndx of a directory", "r", "dir", 0, "non-regular");
}

#[test]
fn ndx_protocol_29_raw_ints() {
    let sb = Sandbox::new("ndx29");
    let mut c = Client::inproc(&["-ro"], &sb.root, "rsync --server --sender . file");
    c.handshake(29, "", b"", None).expect("handshake");
    c.data(&0i32.to_le_bytes());
    let mut b = Vec::new();
    for v in [i32::MIN, 0, 0, 0, 0] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    c.data(&b);
    let out = c.finish();
    assert_rejected("protocol 29 ndx i32::MIN", &out);
    sb.check_confined("protocol 29 ndx", &out);
}

#[test]
fn filter_rule_with_trailing_backslash() {
    // CVE-2026-70461: accepted as a literal byte, never read past.
    for rule in [
        &b"- foo\\"[..],
        b"+ *\\",
        b"- \\",
        b"-\\",
        b"- [\\",
        b"- **\\",
    ] {
        let sb = Sandbox::new("backslash");
        let (c, list) = pull(&sb, "r", "dir", b"md5", &[rule]);
        let out = c.finish();
        assert_sane("trailing backslash", &out);
        assert!(
            !list.is_empty() || out.code != Some(0),
            "trailing backslash: neither a list nor an error"
        );
        sb.check_confined("trailing backslash", &out);
    }
}

#[test]
fn merge_files_outside_the_root() {
    // Upstream's --confine-root: merge files named by the client are read
    // beneath the root only, and never echoed. A rule that names one
    // outside is skipped with a warning; the transfer goes on.
    let sb = Sandbox::new("merge");
    let abs = sb.outside.join("merge");
    let abs = abs.to_string_lossy().into_owned();
    std::os::unix::fs::symlink(
        sb.outside.join(".rsync-filter"),
        sb.root.join("dir/.rsync-filter"),
    )
    .expect("symlink");
    let rules: Vec<Vec<u8>> = vec![
        format!("merge {abs}").into_bytes(),
        format!(". {abs}").into_bytes(),
        b"merge ../outside/merge".to_vec(),
        b"dir-merge ../outside/.rsync-filter".to_vec(),
        format!("dir-merge {abs}").into_bytes(),
        b": /../outside/.rsync-filter".to_vec(),
        b"dir-merge .rsync-filter".to_vec(),
        b"merge dir/.rsync-filter".to_vec(),
    ];
    for r in &rules {
        let (c, list) = pull(&sb, "r", "dir", b"md5", &[r]);
        let out = c.finish();
        let what = String::from_utf8_lossy(r).into_owned();
        assert_sane(&what, &out);
        sb.check_confined(&what, &out);
        let listed: Vec<_> = list
            .iter()
            .map(|e| String::from_utf8_lossy(&e.name).into_owned())
            .collect();
        // Every name with a `/` is skipped by the merge-name guard itself,
        // with a warning; the one plain name meets a symlink, which only
        // the root's `RESOLVE_BENEATH` stops (an empty frame).
        if what != "dir-merge .rsync-filter" {
            assert_says(
                &what,
                &out,
                "skipped 1 filter rule(s) naming a merge file outside the served directory",
            );
            let text = all_text(&out);
            assert!(
                !text.contains("merge-file name must be one path component"),
                "{what}: the transfer was refused:\n{text}"
            );
            assert!(
                listed.iter().any(|n| n.starts_with("dir")),
                "{what}: no file list after a skipped rule: {listed:?}"
            );
        }
        assert!(
            !listed.iter().any(|n| n.contains(".rsync-filter")) || !out.stdout.is_empty(),
            "{what}"
        );
    }
}

#[test]
fn the_clients_exit_code_survives_while_sums_are_read() {
    // The client announces 4 block sums, sends 2, then exits with 23: the
    // session ends with the client's code, not a protocol error (2).
    let sb = Sandbox::new("peerexit");
    let (mut c, list) = pull(&sb, "", "big", b"md5", &[]);
    assert_eq!(list.len(), 1, "file list");
    let mut b = Vec::new();
    NdxEncoder::new(c.hs.protocol).put(&mut b, 0);
    b.extend_from_slice(&TRANSFER.to_le_bytes());
    for v in [4i32, 700, 16, 0] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    b.extend_from_slice(&[0u8; 2 * 20]);
    c.data(&b);
    // MSG_ERROR_EXIT (86) with code 23.
    c.frame(86, 4, &23i32.to_le_bytes());
    let out = c.finish();
    assert_eq!(out.code, Some(23), "{}", all_text(&out));
    assert!(!out.timed_out);
}
