//! The sending session in process, inside a [`Machine`] on a clock where
//! every look takes a second: with the client's `--timeout`, a whole
//! list (protocol 29) is walked a directory at a time with keep-alives
//! between the directories, a huge directory's sub-list (protocol 31)
//! with keep-alives between batches of names, and a protocol-29
//! client's keep-alive is answered with one of ours, as rsync's sender
//! does.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use super::{NoFilter, SenderConfig, WalkOptions};
use crate::checksum::StrongKind;
use crate::flist::{item, FlistOptions};
use crate::fs::Root;
use crate::proto::Compression;
use crate::role::log_file::ItemLog;
use crate::role::test_util::{keepalive_on_ticking_clock, read_frames, Scratch};
use crate::role::{Link, Machine, Outcome};
use crate::token::TokenEncoder;
use crate::wire::put_u16;

const P: u32 = 29;

/// Four directories of two files each.
fn tree() -> Scratch {
    let t = Scratch::new("send-machine");
    for d in ["a", "b", "c", "d"] {
        std::fs::create_dir_all(t.0.join(d)).unwrap();
        for f in ["x", "y"] {
            std::fs::write(t.0.join(d).join(f), d).unwrap();
        }
    }
    t
}

/// A pull of `source`, the whole list at protocol 29 or incremental at
/// 31.
#[derive(Clone, Copy)]
struct Pull {
    source: &'static [u8],
    incremental: bool,
}

const WHOLE: Pull = Pull {
    source: b".",
    incremental: false,
};

async fn session(link: Link, root: &Root, pull: Pull) -> Outcome {
    link.set_multiplexed_out(true);
    let p = if pull.incremental { 31 } else { P };
    let cfg = SenderConfig {
        root,
        paths: vec![pull.source.to_vec()],
        walk: WalkOptions {
            recursive: true,
            max_entries: 10_000,
            divert: pull.incremental,
            ..WalkOptions::default()
        },
        flist: FlistOptions {
            protocol: p,
            varint_flags: pull.incremental,
            safe_flist: pull.incremental,
            inc_recurse: pull.incremental,
            ..FlistOptions::default()
        },
        xfer_kind: StrongKind::Md5,
        file_kind: StrongKind::Md5,
        seed: 0,
        proper_seed_order: true,
        dry_run: false,
        noatime: false,
        inplace: false,
        append: 0,
        remove: None,
        verbose: 0,
        files_from: None,
        ignore_errors: false,
        deleting: false,
        id0_names: false,
        tokens: TokenEncoder::new(Compression::None, None).unwrap(),
        log: ItemLog::off(),
    };
    let code = match super::run(&link, p, cfg, &mut NoFilter).await {
        Ok(st) => crate::error::finished(st.io_error),
        Err(e) => crate::error::Error::from(e).exit_code(),
    };
    Outcome {
        code,
        ..Outcome::default()
    }
}

/// Runs a pull of `tree` with or without the client's `--timeout`:
/// what the server sends before any request, then what it sends after
/// `input`.
fn run(tree: &Scratch, pull: Pull, keepalive: bool, input: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let root = Root::open(&tree.0).unwrap();
    let t0 = Instant::now();
    let mut m = Machine::new(t0, |l: Link| {
        keepalive_on_ticking_clock(&l, keepalive);
        session(l, &root, pull)
    });
    let mut list = Vec::new();
    for _ in 0..50 {
        m.poll_transmit(t0, &mut list);
        m.handle_timeout(t0, false);
    }
    let mut after = Vec::new();
    m.handle_input(t0, input);
    for _ in 0..10 {
        m.poll_transmit(t0, &mut after);
    }
    (list, after)
}

/// The protocol-29 keep-alive a client's generator sends: the index one
/// past the list (the root and four directories of two files), flagged
/// `IS_NEW`.
fn client_keepalive() -> Vec<u8> {
    let mut b = 13i32.to_le_bytes().to_vec();
    put_u16(&mut b, item::IS_NEW.bits());
    b
}

/// A whole list is walked a directory at a time: with the client's
/// `--timeout`, keep-alives go out between the directories, and the
/// list reads as without them.
#[test]
fn the_whole_list_walk_sends_keep_alives() {
    let tree = tree();
    let (plain, _) = run(&tree, WHOLE, false, &[]);
    let (kept, _) = run(&tree, WHOLE, true, &[]);
    let (none, list) = read_frames(&plain);
    assert_eq!(none, 0);
    assert!(!list.is_empty());
    let (empty, data) = read_frames(&kept);
    assert!(empty >= 4, "{empty} keep-alives");
    assert_eq!(data, list);
}

/// rsync's sender answers a protocol-29 client's keep-alive with one of
/// its own, so that the client's receiver hears something while its
/// generator works; ours does too, and only with the client's
/// `--timeout`.
#[test]
fn a_protocol_29_keep_alive_is_answered() {
    let tree = tree();
    let (_, plain) = run(&tree, WHOLE, false, &client_keepalive());
    assert_eq!(read_frames(&plain), (0, Vec::new()));
    let (_, kept) = run(&tree, WHOLE, true, &client_keepalive());
    assert_eq!(read_frames(&kept), (1, Vec::new()));
}

/// One directory's names are looked at a batch at a time: with the
/// client's `--timeout`, a huge directory's sub-list (incremental
/// recursion, protocol 31) is sent with keep-alives while its names are
/// looked at, and reads as without them.
#[test]
fn a_huge_directory_is_looked_at_with_keep_alives() {
    let tree = Scratch::new("send-machine-huge");
    std::fs::create_dir(tree.0.join("big")).unwrap();
    for i in 0..2500 {
        std::fs::write(tree.0.join("big").join(format!("f{i:04}")), b"x").unwrap();
    }
    let pull = Pull {
        source: b"big",
        incremental: true,
    };
    let (plain, _) = run(&tree, pull, false, &[]);
    let (kept, _) = run(&tree, pull, true, &[]);
    let (none, lists) = read_frames(&plain);
    assert_eq!(none, 0);
    assert!(lists.len() > 2500 * 5, "{} bytes of lists", lists.len());
    let (empty, data) = read_frames(&kept);
    assert!(empty >= 2, "{empty} keep-alives");
    assert_eq!(data, lists);
}
