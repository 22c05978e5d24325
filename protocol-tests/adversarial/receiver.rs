//! Attacks on the receiver and generator (the client pushes under `-wo`):
//! the file list (`recv_file_entry`: unsafe names, duplicates,
//! CVE-2024-12087 sub-lists, CVE-2026-70458 hard links without `-H`,
//! devices, symlink-then-file); the token stream is in [`super::tokens`].
//! Protocol 32 with varint flags, as rsync 3.2+ clients send.

use std::time::Duration;

use super::stream::{get_ndx, get_u16};
use rrsync::checksum::{FileHasher, StrongKind};
use rrsync::flist::{FileEntry, FlistEncoder, FlistOptions};
use rrsync::proto::Compression;
use rrsync::token::TokenEncoder;
use rrsync::wire::{NdxDecoder, NdxEncoder, NDX_DONE, NDX_FLIST_OFFSET};

use super::client::{Client, Outcome};
use super::{assert_rejected, assert_sane, assert_says, Sandbox};

const CAPS: &str = "LsfxCIvu";
const TRANSFER: u16 = 1 << 15;

/// A push session after the handshake: `opts` are extra short options.
pub fn push(sb: &Sandbox, opts: &str, comp: Option<&[u8]>) -> Client {
    let z = if comp.is_some() { "z" } else { "" };
    let words = format!("rsync --server -r{opts}{z}e.{CAPS} --checksum-seed=7 . dst/");
    let mut c = Client::spawn(&["-wo"], &sb.root, &words);
    c.handshake(32, CAPS, b"md5", comp).expect("handshake");
    c
}

/// [`push`] to the session run in process: for attacks on the core that
/// need neither Landlock nor a memory ceiling.
pub fn push_inproc(sb: &Sandbox, opts: &str) -> Client {
    let words = format!("rsync --server -r{opts}e.{CAPS} --checksum-seed=7 . dst/");
    let mut c = Client::inproc(&["-wo"], &sb.root, &words);
    c.handshake(32, CAPS, b"md5", None).expect("handshake");
    c
}

pub fn flist_opts(links: bool, devices: bool, hard: bool) -> FlistOptions {
    FlistOptions {
        protocol: 32,
        varint_flags: true,
        preserve_links: links,
        preserve_devices: devices,
        preserve_hard_links: hard,
        safe_flist: true,
        ..FlistOptions::default()
    }
}

/// Encodes `entries` and the end marker (no id lists: no -o/-g).
pub fn encode_list(entries: &[FileEntry], o: FlistOptions) -> Vec<u8> {
    let mut enc = FlistEncoder::new(o);
    let mut out = Vec::new();
    for e in entries {
        enc.encode(e, &mut out, &mut |_| None, &mut |_| None);
    }
    enc.end(&mut out, 0);
    out
}

pub fn file(name: &[u8], size: u64) -> FileEntry {
    let mut e = FileEntry::new(name.to_vec(), 0o100644);
    e.size = size;
    e.mtime = 1_700_000_000;
    e
}

pub fn dir(name: &[u8]) -> FileEntry {
    let mut e = FileEntry::new(name.to_vec(), 0o040755);
    e.mtime = 1_700_000_000;
    e
}

pub fn symlink(name: &[u8], target: &[u8]) -> FileEntry {
    let mut e = FileEntry::new(name.to_vec(), 0o120777);
    e.link_target = Some(target.to_vec());
    e.size = target.len() as u64;
    e
}

/// Answers the generator's requests until its first `NDX_DONE`: each
/// transfer request gets `body(ndx)` after the echoed header; returns the
/// indexes asked for.
pub fn serve(c: &mut Client, body: &mut dyn FnMut(i32, u32) -> Vec<u8>) -> Vec<i32> {
    let mut asked = Vec::new();
    let mut dec = NdxDecoder::new(32);
    let mut enc = NdxEncoder::new(32);
    while let Ok(ndx) = get_ndx(&mut dec, &mut c.r) {
        if ndx == NDX_DONE || ndx < 0 {
            break;
        }
        let Ok(iflags) = get_u16(&mut c.r) else {
            break;
        };
        if iflags & TRANSFER == 0 {
            continue;
        }
        let mut head = [0u8; 16];
        if std::io::Read::read_exact(&mut c.r, &mut head).is_err() {
            break;
        }
        let count = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        let s2 = u32::from_le_bytes([head[8], head[9], head[10], head[11]]);
        let mut sums = vec![0u8; count as usize * (4 + s2 as usize)];
        if std::io::Read::read_exact(&mut c.r, &mut sums).is_err() {
            break;
        }
        asked.push(ndx);
        let mut b = Vec::new();
        enc.put(&mut b, ndx);
        b.extend_from_slice(&iflags.to_le_bytes());
        b.extend_from_slice(&head);
        b.extend_from_slice(&body(ndx, count));
        c.data(&b);
    }
    asked
}

/// Plain tokens for `data`, the end marker and the whole-file checksum.
pub fn literal_file(data: &[u8], seed: i32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = TokenEncoder::new(Compression::None, None).expect("plain");
    enc.literal(data, &mut out).expect("literal");
    enc.end(&mut out).expect("end");
    let mut h = FileHasher::new(StrongKind::Md5, seed);
    h.update(data);
    out.extend_from_slice(h.finish().as_bytes());
    out
}

/// Sends a list and then closes; the receiver must refuse it.
fn list_case(
    what: &str,
    entries: &[FileEntry],
    o: FlistOptions,
    opts: &str,
    expect: &str,
) -> Outcome {
    let sb = Sandbox::new("flist");
    let mut c = push_inproc(&sb, opts);
    c.data(&encode_list(entries, o));
    let out = c.finish();
    assert_rejected(what, &out);
    assert_says(what, &out, expect);
    sb.check_confined(what, &out);
    assert!(
        !sb.root.join("dst").exists() || super::snapshot(&sb.root.join("dst")).is_empty(),
        "{what}: wrote into dst"
    );
    out
}

#[test]
fn flist_unsafe_names() {
    let long_comp = vec![b'a'; 4096];
    let mut long_path = Vec::new();
    while long_path.len() < 100 * 1024 {
        long_path.extend_from_slice(b"abcdefgh/");
    }
    long_path.push(b'z');
    // The decoder's own message, not whichever later layer might also
    // refuse the name (RelPath, then openat2 RESOLVE_BENEATH).
    let unsafe_name = "unsafe pathname";
    let too_long = "file name too long";
    let names: Vec<(&str, Vec<u8>, &str)> = vec![
        ("dotdot", b"../escape".to_vec(), unsafe_name),
        ("inner dotdot", b"a/../../escape".to_vec(), unsafe_name),
        ("trailing dotdot", b"a/..".to_vec(), unsafe_name),
        ("absolute", b"/etc/passwd".to_vec(), unsafe_name),
        ("NUL", b"a\0b".to_vec(), unsafe_name),
        ("empty", Vec::new(), unsafe_name),
        ("dot component", b"a/./b".to_vec(), unsafe_name),
        ("leading dot", b"./a".to_vec(), unsafe_name),
        ("trailing dot", b"a/.".to_vec(), unsafe_name),
        ("double slash", b"a//b".to_vec(), unsafe_name),
        ("4 KiB component", long_comp, too_long),
        ("100 KiB path", long_path, too_long),
    ];
    for (what, name, expect) in names {
        list_case(
            what,
            &[file(&name, 3)],
            flist_opts(false, false, false),
            "",
            expect,
        );
    }
    // `.` is only the transfer root, and only as a directory.
    list_case(
        "dot as a file",
        &[file(b".", 3)],
        flist_opts(false, false, false),
        "",
        "non-directory transfer-root",
    );
}

#[test]
fn flist_hard_link_without_h() {
    // CVE-2026-70458: the flag arrives although -H was not negotiated.
    let mut a = file(b"a", 3);
    a.hlink = Some((1, 1));
    let mut b = file(b"b", 3);
    b.hlink = Some((1, 1));
    b.hlink_first = Some(0);
    list_case(
        "hlink without -H",
        &[a, b],
        flist_opts(false, false, true),
        "",
        "hard-link",
    );
}

#[test]
fn flist_hard_link_reference_out_of_range() {
    let mut a = file(b"a", 3);
    a.hlink = Some((1, 1));
    a.hlink_first = Some(5);
    list_case(
        "hlink forward reference",
        &[a],
        flist_opts(false, false, true),
        "H",
        "hard-link",
    );
}

#[test]
fn flist_duplicates_and_device() {
    let sb = Sandbox::new("dups");
    let mut c = push(&sb, "lD", None);
    let mut dev = FileEntry::new(b"null".to_vec(), 0o020666);
    dev.rdev = (1, 3);
    let mut blk = FileEntry::new(b"disk".to_vec(), 0o060660);
    blk.rdev = (8, 0);
    let entries = [
        dir(b"."),
        file(b"x", 3),
        dir(b"x"),
        file(b"x", 5),
        dev,
        blk,
        file(b"y", 3),
        file(b"y", 3),
    ];
    c.data(&encode_list(&entries, flist_opts(true, true, false)));
    let seed = c.hs.seed;
    let asked = serve(&mut c, &mut |_, _| literal_file(b"abc", seed));
    let out = c.finish();
    assert_sane("dups and devices", &out);
    sb.check_confined("dups and devices", &out);
    for n in ["null", "disk"] {
        let p = sb.root.join("dst").join(n);
        assert!(
            std::fs::symlink_metadata(&p).is_err(),
            "a device node {n} was created"
        );
    }
    assert!(asked.len() <= 3, "asked for {asked:?}");
}

#[test]
fn flist_sub_list_for_unsent_directory() {
    // CVE-2024-12087: this client does not offer incremental recursion
    // (no `i` after `-e.`), so an index that announces a sub-list is
    // refused.
    let sb = Sandbox::new("sublist");
    let mut c = push_inproc(&sb, "");
    c.data(&encode_list(
        &[dir(b"."), file(b"f", 3)],
        flist_opts(false, false, false),
    ));
    let mut b = Vec::new();
    NdxEncoder::new(32).put(&mut b, NDX_FLIST_OFFSET - 7);
    c.data(&b);
    let out = c.finish();
    assert_rejected("sub-list ndx", &out);
    // The index guard itself, not the end of input that follows it.
    assert_says("sub-list ndx", &out, "invalid file index");
    sb.check_confined("sub-list ndx", &out);
}

/// A push that offers incremental recursion (`i` after `-e.`), which a
/// `-r` receiver takes from protocol 30 on.
fn push_inc(sb: &Sandbox) -> Client {
    let caps = format!("i{CAPS}");
    let words = format!("rsync --server -re.{caps} --checksum-seed=7 . dst/");
    let mut c = Client::inproc(&["-wo"], &sb.root, &words);
    c.handshake(32, &caps, b"md5", None).expect("handshake");
    c
}

fn inc_opts() -> FlistOptions {
    FlistOptions {
        inc_recurse: true,
        ..flist_opts(false, false, false)
    }
}

/// The header of the sub-list for directory `dir_ndx`, then its entries.
fn sub_list(ndx: &mut NdxEncoder, dir_ndx: i32, entries: &[FileEntry]) -> Vec<u8> {
    let mut b = Vec::new();
    ndx.put(&mut b, NDX_FLIST_OFFSET - dir_ndx);
    b.extend(encode_list(entries, inc_opts()));
    b
}

/// Sends the first list `[".", "a/", "f"]` (directories `.` and `a`,
/// dir indexes 0 and 1), then `rest`, and checks the refusal.
fn inc_attack(what: &str, rest: &dyn Fn(&mut NdxEncoder) -> Vec<u8>, expect: &str) {
    let sb = Sandbox::new("incsub");
    let mut c = push_inc(&sb);
    c.data(&encode_list(
        &[dir(b"."), dir(b"a"), file(b"f", 3)],
        inc_opts(),
    ));
    let mut ndx = NdxEncoder::new(32);
    c.data(&rest(&mut ndx));
    let out = c.finish();
    assert_rejected(what, &out);
    assert_says(what, &out, expect);
    assert_eq!(out.code, Some(2), "{what}: exit code\n{}", out.stderr);
    sb.check_confined(what, &out);
}

#[test]
fn inc_sub_list_dir_index_out_of_range() {
    inc_attack(
        "dir index past the directories received",
        &|n| sub_list(n, 2, &[file(b"x", 1)]),
        "Invalid dir index",
    );
}

#[test]
fn inc_sub_list_twice_for_one_directory() {
    inc_attack(
        "second sub-list for a",
        &|n| {
            let mut b = sub_list(n, 1, &[file(b"a/x", 1)]);
            b.extend(sub_list(n, 1, &[file(b"a/y", 1)]));
            b
        },
        "refusing malicious duplicate flist",
    );
}

#[test]
fn inc_sub_list_entry_outside_its_directory() {
    for (what, name) in [
        ("sibling's file", &b"b/x"[..]),
        ("top-level file", b"x"),
        ("grandchild", b"a/b/x"),
    ] {
        inc_attack(
            what,
            &|n| sub_list(n, 1, &[file(name, 1)]),
            "ABORTING due to invalid path from sender",
        );
    }
}

#[test]
fn inc_sub_list_after_every_list_was_freed() {
    inc_attack(
        "sub-list after the last NDX_DONE freed every list",
        &|n| {
            let mut b = Vec::new();
            n.put(&mut b, NDX_DONE);
            b.extend(sub_list(n, 1, &[file(b"a/x", 1)]));
            b
        },
        "refusing sub-flist after final flist was freed",
    );
}

#[test]
fn inc_negative_index_other_than_the_marks() {
    inc_attack(
        "index -50",
        &|n| {
            let mut b = Vec::new();
            n.put(&mut b, -50);
            b
        },
        "invalid file index -50",
    );
}

/// A hard-link follower sent whole after its group number `first`
/// (as a group begun in an earlier list is sent): the flags word gains
/// the hard-link bit and the index follows the name.
fn whole_follower(e: &FileEntry, first: i32) -> Vec<u8> {
    let mut plain = encode_list(std::slice::from_ref(e), inc_opts());
    plain.pop(); // the end marker's io_error varint
    plain.pop(); // the end marker
    let flags = u32::from(plain[0]);
    assert!(
        flags < 0x80 && plain[1] as usize == e.name.len(),
        "simple head"
    );
    let name_end = 2 + e.name.len();
    let mut b = Vec::new();
    rrsync::wire::put_varint(&mut b, (flags | rrsync::flist::xmit::HLINKED) as i32);
    b.extend_from_slice(&plain[1..name_end]);
    rrsync::wire::put_varint(&mut b, first);
    b.extend_from_slice(&plain[name_end..]);
    b
}

#[test]
fn inc_hard_link_to_a_group_never_begun() {
    // `a` (index 2 of the first list) is a directory, not the first of
    // a hard-link group: a follower in a's sub-list may not name it.
    let sb = Sandbox::new("incgnum");
    let caps = format!("i{CAPS}");
    let words = format!("rsync --server -rHe.{caps} --checksum-seed=7 . dst/");
    let mut c = Client::inproc(&["-wo"], &sb.root, &words);
    c.handshake(32, &caps, b"md5", None).expect("handshake");
    let o = FlistOptions {
        preserve_hard_links: true,
        ..inc_opts()
    };
    c.data(&encode_list(&[dir(b"."), dir(b"a"), file(b"f", 3)], o));
    let mut ndx = NdxEncoder::new(32);
    let mut b = Vec::new();
    ndx.put(&mut b, NDX_FLIST_OFFSET - 1);
    b.extend(whole_follower(&file(b"a/x", 1), 2));
    b.extend(encode_list(&[], o));
    c.data(&b);
    let out = c.finish();
    let what = "follower of a group never begun";
    assert_rejected(what, &out);
    assert_says(what, &out, "hard-link gnum 2 precedes flist start 5");
    sb.check_confined(what, &out);
}

fn symlink_run(sb: &Sandbox, entries: &[FileEntry]) -> Outcome {
    let mut c = push(sb, "l", None);
    c.data(&encode_list(entries, flist_opts(true, false, false)));
    let seed = c.hs.seed;
    let data = sb.marker.repeat(2);
    serve(&mut c, &mut |_, _| literal_file(&data, seed));
    std::thread::sleep(Duration::from_millis(200));
    c.finish()
}

#[test]
fn symlink_then_file_beneath_it() {
    for target in ["abs", "rel"] {
        let sb = Sandbox::new("symfile");
        let t = if target == "abs" {
            sb.outside.to_string_lossy().into_owned()
        } else {
            "../../outside".into()
        };
        // The same run.
        let out = symlink_run(
            &sb,
            &[
                dir(b"."),
                symlink(b"evil", t.as_bytes()),
                file(b"evil/pwned", 10),
                file(b"evil/secret/key", 10),
            ],
        );
        assert_sane("symlink then file, same run", &out);
        sb.check_confined("symlink then file, same run", &out);
        // A later run finds the symlink in place.
        let out = symlink_run(&sb, &[dir(b"."), dir(b"evil"), file(b"evil/pwned", 10)]);
        assert_sane("symlink then file, later run", &out);
        sb.check_confined("symlink then file, later run", &out);
        let out = symlink_run(&sb, &[dir(b"."), file(b"evil", 10)]);
        assert_sane("file over the symlink", &out);
        sb.check_confined("file over the symlink", &out);
    }
}

/// A list of 3 million one-byte files (~30 MB on the wire) must meet the
/// clear "more than N entries" error of the memory budget (1 GiB by
/// default, see docs/security.md, "Limits"), not an allocation abort
/// under `prlimit --as=1GiB`.
#[test]
fn flist_entry_count_is_capped_by_memory() {
    let sb = Sandbox::new("many");
    let mut c = push(&sb, "", None);
    let o = flist_opts(false, false, false);
    let mut enc = FlistEncoder::new(o);
    let mut out = Vec::with_capacity(40 << 20);
    let mut e = file(b"", 1);
    for i in 0..3_000_000u32 {
        e.name = format!("f{i:07}").into_bytes();
        enc.encode(&e, &mut out, &mut |_| None, &mut |_| None);
    }
    enc.end(&mut out, 0);
    c.data(&out);
    let out = c.finish();
    assert_rejected("3M entries", &out);
    assert_says("3M entries", &out, "file list has more than");
    sb.check_confined("3M entries", &out);
}
