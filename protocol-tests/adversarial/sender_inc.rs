//! File indexes under incremental recursion (the client pulls `-r` with
//! the `i` capability, protocol 32): an index counts only while its list
//! is live. `dir` alone is the first list (index 1; its parent slot 0
//! names nothing, since the list does not start with `.`), and `dir`'s
//! sub-list follows at once. After the client's `NDX_DONE` for the first
//! list, its indexes are gone (`flist_for_ndx` in rsync).

use rrsync::flist::{FlistDecoder, FlistLimits, FlistOptions};
use rrsync::wire::{NdxDecoder, NdxEncoder, NDX_FLIST_EOF, NDX_FLIST_OFFSET};

use super::client::{Client, Outcome};
use super::{assert_rejected, assert_says, Sandbox};

const CAPS: &str = "iLsfxCIvu";
/// `ITEM_TRANSFER`.
const TRANSFER: u16 = 1 << 15;

/// A recursive pull of `dir`, up to the client's empty filter list, and a
/// decoder for the lists it will get.
fn start_pull(sb: &Sandbox) -> (Client, FlistDecoder) {
    let words = format!("rsync --server --sender -re.{CAPS} . dir");
    let mut c = Client::inproc(&["-ro"], &sb.root, &words);
    let hs = c.handshake(32, CAPS, b"md5", None).expect("handshake");
    c.data(&0i32.to_le_bytes());
    let fo = FlistOptions {
        protocol: hs.protocol,
        varint_flags: true,
        safe_flist: true,
        inc_recurse: true,
        ..FlistOptions::default()
    };
    (c, FlistDecoder::new(fo, FlistLimits::default()))
}

/// A recursive pull of `dir` up to the end of the first list.
fn pull_dir(sb: &Sandbox) -> Client {
    let (mut c, dec) = start_pull(sb);
    let list = super::stream::read_list(dec, &mut c.r).unwrap_or_default();
    assert_eq!(list.len(), 1, "first list: {list:?}");
    c
}

/// Sends the indexes in `ndxs` (`-1` is `NDX_DONE`), the last one as a
/// transfer request with an empty sum header.
fn requests(mut c: Client, ndxs: &[i32]) -> Outcome {
    let mut enc = NdxEncoder::new(c.hs.protocol);
    let mut b = Vec::new();
    for n in ndxs {
        enc.put(&mut b, *n);
    }
    b.extend_from_slice(&TRANSFER.to_le_bytes());
    for v in [0i32, 0, 16, 0] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    c.data(&b);
    c.finish()
}

#[test]
fn ndx_outside_the_live_lists_is_refused() {
    let sb = Sandbox::new("inc-ndx");
    // Live, and a directory: refused as one (the index exists).
    let out = requests(pull_dir(&sb), &[1]);
    assert_rejected("ndx of the listed dir", &out);
    assert_says("ndx of the listed dir", &out, "non-regular");
    // The slot before the first list names no directory.
    let out = requests(pull_dir(&sb), &[0]);
    assert_rejected("parent slot of the first list", &out);
    assert_says("parent slot of the first list", &out, "invalid file index");
    // The first list is freed by the client's NDX_DONE.
    let out = requests(pull_dir(&sb), &[-1, 1]);
    assert_rejected("ndx of a freed list", &out);
    assert_says("ndx of a freed list", &out, "invalid file index");
    // Past the lists sent so far.
    let out = requests(pull_dir(&sb), &[9]);
    assert_rejected("ndx past the lists", &out);
    assert_says("ndx past the lists", &out, "invalid file index");
}

/// The sender lists a window of the tree ahead of the client, not all of
/// it: a client that reads lists and asks for nothing gets sub-lists up
/// to the lookahead (1,000 entries past its current list), and no end of
/// lists. This is what keeps a pull's memory flat in the tree's size.
#[test]
fn sub_lists_stop_at_the_lookahead() {
    let sb = Sandbox::new("inc-window");
    for d in 0..30 {
        let sub = sb.root.join(format!("dir/d{d:02}"));
        std::fs::create_dir_all(&sub).expect("mkdir");
        for f in 0..100 {
            std::fs::write(sub.join(format!("f{f:03}")), b"x").expect("write");
        }
    }
    let (mut c, mut dec) = start_pull(&sb);
    // One decoder for every list: a name is compressed against the one
    // before it, across lists.
    let mut ndx = NdxDecoder::new(c.hs.protocol);
    let mut read_list = |c: &mut Client| {
        while super::stream::decode(&mut c.r, |x| dec.decode_entry(x))
            .expect("a list")
            .is_some()
        {}
        dec.next_list(0).0.len()
    };
    assert_eq!(read_list(&mut c), 1, "the first list is dir");
    let (mut lists, mut entries, mut eof) = (0, 0, false);
    // What the server sent before it waited for us: sub-lists, then
    // nothing more to read.
    while let Ok(n) = super::stream::get_ndx(&mut ndx, &mut c.r) {
        if n == NDX_FLIST_EOF {
            eof = true;
            break;
        }
        assert!(n <= NDX_FLIST_OFFSET, "a sub-list header, not {n}");
        lists += 1;
        entries += read_list(&mut c);
    }
    assert!(!eof, "the whole tree was listed ahead ({lists} lists)");
    assert!(
        (1000..1200).contains(&entries),
        "{entries} entries in {lists} sub-lists"
    );
}
