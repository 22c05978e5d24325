//! Recorded stock-client sessions replayed in process: the client's
//! bytes go through the session's machine (`rrsync::session::run`
//! in a `rrsync::role::Machine`) on a fake clock, with no process, no
//! pipe and no sleep. Pulls and pushes at protocols 32, 30, 29 and 27:
//! plain, delta, compressed and `--delete`.
//!
//! - Handed over in any split (one byte at a time, odd sizes, all at
//!   once), a full session ends with exit code 0 and sends the same
//!   data and messages: the core's behaviour does not depend on how the
//!   bytes arrive.
//! - Cut at every byte, a session ends (never hangs, never panics) with
//!   a non-zero code; a push leaves no temporary file behind.
//!
//! The recordings need the stock client (`/usr/bin/rsync`); the replay
//! does not.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rrsync::role::Machine;
use rrsync::session;
use rrsync::wire::{Decoded, Deframer, Frame};

use super::client::{wrapper_flags, RootHost};
use super::replay::{copy_tree, fixture, record, Recording};
use super::{snapshot, temporaries, Sandbox};

/// Runs one session on `input`, handed over `step` bytes at a time and
/// then closed; returns the exit code, what the session sent, and how
/// many of the bytes it never used.
fn run(root: &Path, r: &Recording, input: &[u8], step: usize) -> (i32, Vec<u8>, usize) {
    let flags: Vec<&str> = [r.flags].into_iter().filter(|f| !f.is_empty()).collect();
    let flags = wrapper_flags(&flags, root);
    let host = RootHost(root.to_path_buf());
    let t0 = Instant::now();
    let command = r.words.as_str();
    let mut m = Machine::new(t0, |link| session::run(link, &flags, &host, command));
    let mut out = Vec::new();
    let mut taken = 0;
    for chunk in input.chunks(step.max(1)) {
        let mut rest = chunk;
        while !rest.is_empty() && m.outcome().is_none() {
            let n = m.handle_input(t0, rest);
            taken += n;
            while m.poll_transmit(t0, &mut out) > 0 {}
            assert!(n > 0 || m.outcome().is_some(), "the machine took nothing");
            rest = rest.get(n..).unwrap_or_default();
        }
    }
    m.handle_eof(t0);
    while m.poll_transmit(t0, &mut out) > 0 {}
    let code = m.outcome().map(|o| o.code);
    let code = code.unwrap_or_else(|| panic!("{}: no end after the input closed", r.words));
    (code, out, input.len() - taken + m.link().unread())
}

/// The data and messages in a multiplexed stream after its raw start
/// (our version, then the seed or the compat flags and lists): frame
/// boundaries depend on when the session flushed, their content must not.
fn content(out: &[u8], raw: usize) -> (Vec<u8>, Vec<String>) {
    let mut d = Deframer::new();
    d.set_multiplexed(true);
    let mut data = out.get(..raw).unwrap_or_default().to_vec();
    let mut msgs = Vec::new();
    let mut rest = out.get(raw..).unwrap_or_default();
    while let Ok(Decoded::Complete { value, consumed }) = d.next(rest) {
        match value {
            Frame::Data(x) => data.extend_from_slice(x),
            Frame::Message(m) => msgs.push(format!("{m:?}")),
        }
        rest = rest.get(consumed..).unwrap_or_default();
    }
    (data, msgs)
}

/// Where our output becomes multiplexed: after the raw start, which
/// ends with the seed (7, as the recordings fix it), the first offset
/// after a seed from which the rest is whole frames.
fn raw_len(out: &[u8]) -> usize {
    let seed = 7i32.to_le_bytes();
    (4..out.len().saturating_sub(4))
        .filter(|&k| out.get(k..k + 4) == Some(&seed[..]))
        .map(|k| k + 4)
        .find(|&k| {
            let mut d = Deframer::new();
            d.set_multiplexed(true);
            let mut rest = out.get(k..).unwrap_or_default();
            while let Ok(Decoded::Complete { consumed, .. }) = d.next(rest) {
                rest = rest.get(consumed..).unwrap_or_default();
            }
            rest.is_empty()
        })
        .unwrap_or(0)
}

/// The end of a pull's data that holds the statistics and the goodbye.
const STATS_TAIL: usize = 40;

/// Replays `r` on copies of `template` in several splits, then cut at
/// every byte (every `stride`th byte for long sessions).
fn check(sb: &Sandbox, template: &Path, r: &Recording, what: &str, expect: Option<&Path>) {
    let n = r.c2s.len();
    let mut seen: Option<(Vec<u8>, Vec<String>)> = None;
    // Bytes the client sent after the session had all it needed (a
    // keep-alive, say): cutting them off changes nothing.
    let mut unused = 0;
    for step in [n.max(1), 1, 3, 4096, 65_537] {
        let root = fresh(sb, template, what);
        let (code, out, left) = run(&root, r, &r.c2s, step);
        assert_eq!(code, 0, "{what}: split {step}: the full session failed");
        unused = left;
        // The statistics at the end count the bytes moved so far, which
        // depends on how far the input had come: they are left out.
        let (mut data, msgs) = content(&out, raw_len(&out));
        data.truncate(data.len().saturating_sub(STATS_TAIL));
        let c = (data, msgs);
        if let Some(first) = &seen {
            let at = first.0.iter().zip(&c.0).position(|(a, b)| a != b);
            assert!(
                first == &c,
                "{what}: split {step} sent something else: data of {} and {} bytes differ \
                 at {at:?}; messages {:?} / {:?}",
                first.0.len(),
                c.0.len(),
                first.1,
                c.1
            );
        }
        seen = Some(c);
        if let Some(src) = expect {
            assert_eq!(
                snapshot(src),
                snapshot(&root.join("dst")),
                "{what}: split {step}: the pushed tree differs"
            );
        }
    }
    let stride = (n / 3000).max(1);
    for cut in (0..n.saturating_sub(unused)).step_by(stride) {
        let root = fresh(sb, template, what);
        let input = r.c2s.get(..cut).unwrap_or_default();
        let (code, _, _) = run(&root, r, input, 4096);
        assert_ne!(code, 0, "{what}: cut at {cut}/{n} succeeded");
        let temps = temporaries(&root);
        assert!(
            temps.is_empty(),
            "{what}: cut at {cut}: temporaries {temps:?}"
        );
    }
}

/// Sets every time in `trees` to one moment long past. Otherwise what a
/// session sends would depend on the clock: at protocol 29 `--delete`
/// deletes before the walk, which sets the directory's time to now, and
/// whether that equals the client's (in whole seconds) decides whether
/// the directory is itemized.
fn pin_times(trees: &[&Path]) {
    for t in trees {
        let st = std::process::Command::new("find")
            .arg(t)
            .args(["-exec", "touch", "-h", "-d", "@1600000000", "{}", "+"])
            .status()
            .expect("find");
        assert!(st.success());
    }
}

fn fresh(sb: &Sandbox, template: &Path, what: &str) -> PathBuf {
    let root = sb.dir.join(format!("run-{}", what.replace(' ', "-")));
    let _ = std::fs::remove_dir_all(&root);
    copy_tree(template, &root);
    root
}

/// The cases at `protocol`: (name, extra client options).
fn cases(protocol: u32) -> Vec<(&'static str, Vec<&'static str>)> {
    let z = if protocol >= 30 {
        vec!["-z", "--compress-choice=zstd"]
    } else {
        vec!["-z"]
    };
    vec![
        ("plain", vec!["--whole-file"]),
        ("delta", vec!["--no-whole-file"]),
        ("compressed", z),
        ("delete", vec!["--delete", "--no-whole-file"]),
    ]
}

const PROTOCOLS: [u32; 4] = [32, 30, 29, 27];

#[test]
fn pulls_replayed_in_process() {
    for p in PROTOCOLS {
        for (name, extra) in cases(p) {
            let sb = Sandbox::new("inproc-pull");
            let src = fixture(&sb);
            copy_tree(&src, &sb.root.join("pull"));
            pin_times(&[&sb.root.join("pull")]);
            let template = sb.dir.join("template");
            copy_tree(&sb.root, &template);
            // A basis and a stray name on the client's side.
            std::fs::create_dir_all(sb.dir.join("got")).expect("mkdir");
            std::fs::write(sb.dir.join("got/a.txt"), b"hello world\n".repeat(18)).expect("w");
            std::fs::write(sb.dir.join("got/stray"), b"x").expect("w");
            let proto = format!("--protocol={p}");
            let mut args = vec!["-rlt", "--checksum-seed=7", proto.as_str()];
            args.extend(extra);
            args.extend(["localhost:pull/", "got/"]);
            let what = format!("pull {name} p{p}");
            let Some(r) = record(&sb, &what, "-ro", &args) else {
                return;
            };
            check(&sb, &template, &r, &what, None);
        }
    }
}

#[test]
fn pushes_replayed_in_process() {
    for p in PROTOCOLS {
        for (name, extra) in cases(p) {
            let sb = Sandbox::new("inproc-push");
            let src = fixture(&sb);
            // A basis and a stray name on our side.
            std::fs::create_dir_all(sb.root.join("dst")).expect("mkdir");
            std::fs::write(sb.root.join("dst/a.txt"), b"hello world\n".repeat(18)).expect("w");
            std::fs::write(sb.root.join("dst/stray"), b"x").expect("w");
            pin_times(&[&src, &sb.root.join("dst")]);
            let template = sb.dir.join("template");
            copy_tree(&sb.root, &template);
            let proto = format!("--protocol={p}");
            let mut args = vec!["-rlt", "--checksum-seed=7", proto.as_str()];
            args.extend(extra.iter().copied());
            args.extend(["src/", "localhost:dst/"]);
            let what = format!("push {name} p{p}");
            let Some(r) = record(&sb, &what, "", &args) else {
                return;
            };
            let expect = extra.contains(&"--delete").then_some(src.as_path());
            check(&sb, &template, &r, &what, expect);
        }
    }
}

/// A delta of a file whose blocks all match is a few bytes a block: the
/// sender hands its tokens over as it searches (every MiB), so that the
/// client rebuilds the file alongside the search instead of after it.
/// Given the recorded session's input at once, the machine gives its
/// output in many takes while it searches 8 MiB; without the hand-over
/// the tokens would wait for the end of the file.
#[test]
fn a_delta_leaves_as_it_is_searched() {
    let sb = Sandbox::new("inproc-handover");
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let data: Vec<u8> = (0..8 << 20)
        .map(|_| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (x >> 33) as u8
        })
        .collect();
    std::fs::create_dir_all(sb.root.join("pull")).expect("mkdir");
    std::fs::write(sb.root.join("pull/big"), &data).expect("w");
    pin_times(&[&sb.root.join("pull")]);
    // The same bytes with another time: sent as a delta of matches only.
    std::fs::create_dir_all(sb.dir.join("got")).expect("mkdir");
    std::fs::write(sb.dir.join("got/big"), &data).expect("w");
    let args = [
        "-t",
        "--no-whole-file",
        "--checksum-seed=7",
        "localhost:pull/big",
        "got/",
    ];
    let Some(r) = record(&sb, "handover", "-ro", &args) else {
        return;
    };
    let flags = wrapper_flags(&["-ro"], &sb.root);
    let host = RootHost(sb.root.clone());
    let t0 = Instant::now();
    let command = r.words.as_str();
    let mut m = Machine::new(t0, |link| session::run(link, &flags, &host, command));
    let taken = m.handle_input(t0, &r.c2s);
    assert_eq!(taken, r.c2s.len());
    let mut takes = 0;
    let mut out = Vec::new();
    while m.outcome().is_none() {
        out.clear();
        if m.poll_transmit(t0, &mut out) == 0 {
            break;
        }
        takes += 1;
    }
    m.handle_eof(t0);
    assert_eq!(m.outcome().map(|o| o.code), Some(0), "the session failed");
    assert!(takes >= 8, "the output came in {takes} takes");
}
