//! `-wo` must not read (issue 9): a pushing client learns of an existing
//! file only the block sums the generator sends it, so those are checked
//! as the client's sender received them (`--debug=deltasum3` prints
//! `count=N n=BLEN rem=R` for every sum head; the option is not passed to
//! the server). Under `-wo`:
//! - `-B1` (a 1-byte block's weak sum is the byte itself), `--inplace
//!   -B1` and a `--partial-dir` basis with `-B1` get blocks of rsync's
//!   default length for the file (700 bytes for 3,000), a larger `-B`
//!   stays as asked;
//! - a `--compare-dest`/`--copy-dest`/`--link-dest` basis gets no sums
//!   (`count=0`), with and without `-no-overwrite`, and `-c` does not
//!   compare an alternate file's contents;
//! - under `-blind` no basis gets sums and `-c` compares no contents.
//!
//! The redo phase (full-length strong sums, provoked by a wrong file
//! checksum) needs a client that lies: [`redo_sends_no_sums`] uses the
//! adversarial client. Stock rsync and rrsync leak in all of these cases,
//! so there is no stock baseline to compare with.

use super::each_cell;
use super::util::write_at;
use crate::adversarial::client::Client;
use crate::fixtures::Rng;
use crate::harness::{self, Cell, Output, Server, Work};
use std::path::Path;

const SIZE: usize = 3000;
/// rsync's default block length for a 3,000-byte file.
const DEFAULT_BLEN: u64 = 700;
const OLD: u64 = 1_500_000_000;
const NEW: u64 = 1_600_000_000;

/// `(count, blength)` of every sum head the client's sender read.
fn heads(out: &Output) -> Vec<(u64, u64)> {
    let num = |w: &str, key: &str| -> Option<u64> {
        let d: String = w
            .strip_prefix(key)?
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        d.parse().ok()
    };
    out.all()
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let c = num(w.next()?, "count=")?;
            let n = num(w.next()?, "n=")?;
            Some((c, n))
        })
        .collect()
}

/// A fresh root prepared by `prep`, then `rsync -rt OPTS --debug=deltasum3
/// src/ x:dst/` through the server under test with `flags`.
fn push(
    work: &Work,
    cell: &Cell,
    flags: &[&str],
    prep: &dyn Fn(&Path),
    src: &Path,
    opts: &[&str],
) -> Output {
    let root = work.path("root");
    std::fs::create_dir_all(root.join("dst")).expect("mkdir dst");
    prep(&root);
    let mut a = harness::args(&["-rt", "--debug=deltasum3"]);
    a.extend(harness::args(opts));
    a.push(format!("{}/", src.display()));
    a.push("x:dst/".into());
    harness::rsync(cell, &Server::tested(flags, &root).rsh(work), &a)
}

/// The client's `secret` (new content, new mtime) and `same` (equal to the
/// root's `same`, another mtime).
fn sources(work: &Work) -> (std::path::PathBuf, Vec<u8>, Vec<u8>) {
    let src = work.dir.join("src");
    let old = Rng::new(0x5ec7e7).bytes(SIZE);
    let same = Rng::new(0x5a3e).bytes(SIZE);
    write_at(&src.join("secret"), &Rng::new(0xc11e47).bytes(SIZE), NEW);
    write_at(&src.join("same"), &same, NEW);
    (src, old, same)
}

/// Every head `ok`, and at least one head at all (the file was asked for).
fn check(what: &str, out: &Output, ok: &dyn Fn(u64, u64) -> bool) -> Result<(), String> {
    harness::ensure(out.code == Some(0), &format!("{what}: push failed"), out)?;
    let h = heads(out);
    harness::ensure(
        !h.is_empty(),
        &format!("{what}: no `count=` line (file not requested?)"),
        out,
    )?;
    match h.iter().find(|(c, n)| !ok(*c, *n)) {
        Some((c, n)) => Err(format!(
            "{what}: the server sent {c} block sums of {n} bytes\n      {}",
            out.describe()
        )),
        None => Ok(()),
    }
}

#[test]
fn wo_blocks_never_finer_than_default() {
    if !super::util::ours_only("stock servers send the sums a client asks for") {
        return;
    }
    let base = Work::new("wo_leak_src");
    let (src, old, same) = sources(&base);
    let put = |root: &Path, dir: &str| {
        write_at(&root.join(dir).join("secret"), &old, OLD);
        write_at(&root.join(dir).join("same"), &same, OLD);
    };
    let in_dst = |root: &Path| put(root, "dst");
    let in_partial = |root: &Path| put(root, "dst/.p");
    let coarse = |c: u64, n: u64| c > 0 && n >= DEFAULT_BLEN;
    each_cell("wo_blocks_never_finer", |work, cell| {
        let out = push(work, cell, &["-wo"], &in_dst, &src, &["-B1"]);
        check("-B1", &out, &coarse)?;
        let out = push(work, cell, &["-wo"], &in_dst, &src, &["-B1", "--inplace"]);
        check("--inplace -B1", &out, &coarse)?;
        let out = push(work, cell, &["-wo"], &in_dst, &src, &["-B2000"]);
        check("-B2000 (larger than the default)", &out, &|c, n| {
            c > 0 && n == 2000
        })?;
        let out = push(work, cell, &["-wo"], &in_dst, &src, &[]);
        check("default -B", &out, &|c, n| c > 0 && n == DEFAULT_BLEN)?;
        if cell.protocol() >= 29 {
            let o = ["-B1", "--partial-dir=.p"];
            let out = push(work, cell, &["-wo"], &in_partial, &src, &o);
            check("--partial-dir basis, -B1", &out, &coarse)?;
        }
        Ok(())
    });
}

#[test]
fn wo_alt_dest_basis_gets_no_sums() {
    if !super::util::ours_only("stock servers send the sums a client asks for") {
        return;
    }
    let base = Work::new("wo_leak_src");
    let (src, old, same) = sources(&base);
    let vault = |root: &Path| {
        write_at(&root.join("vault/secret"), &old, OLD);
        write_at(&root.join("vault/same"), &same, OLD);
    };
    let none = |c: u64, _| c == 0;
    each_cell("wo_alt_dest_no_sums", |work, cell| {
        for flags in [&["-wo"][..], &["-wo", "-no-overwrite"]] {
            for alt in ["--compare-dest", "--copy-dest", "--link-dest"] {
                let opt = format!("{alt}=../vault");
                let out = push(work, cell, flags, &vault, &src, &[&opt, "-B1"]);
                check(&format!("{flags:?} {opt} -B1"), &out, &none)?;
                // -c must not say whether vault/same equals the client's.
                let out = push(work, cell, flags, &vault, &src, &[&opt, "-c"]);
                check(&format!("{flags:?} {opt} -c"), &out, &none)?;
                harness::ensure(
                    heads(&out).len() == 2,
                    &format!("{flags:?} {opt} -c: `same` was compared, not requested"),
                    &out,
                )?;
            }
        }
        Ok(())
    });
}

#[test]
fn blind_sends_no_sums_and_compares_nothing() {
    if !super::util::ours_only("stock servers send the sums a client asks for") {
        return;
    }
    let base = Work::new("wo_leak_src");
    let (src, old, same) = sources(&base);
    let in_dst = |root: &Path| {
        write_at(&root.join("dst/secret"), &old, OLD);
        write_at(&root.join("dst/same"), &same, OLD);
    };
    let none = |c: u64, _| c == 0;
    each_cell("blind_no_sums", |work, cell| {
        for flags in [&["-wo", "-blind"][..], &["-blind"]] {
            let out = push(work, cell, flags, &in_dst, &src, &[]);
            check(&format!("{flags:?} delta push"), &out, &none)?;
            let out = push(work, cell, flags, &in_dst, &src, &["-c"]);
            check(&format!("{flags:?} -c"), &out, &none)?;
            // `same` went as a whole file, not skipped as identical.
            harness::ensure(
                heads(&out).len() == 2,
                &format!("{flags:?} -c: both files must be requested"),
                &out,
            )?;
        }
        Ok(())
    });
}

/// A file list of `.` and `f` (`size` bytes), through our own codec.
fn flist(size: u64) -> Vec<u8> {
    use rrsync::flist::{FileEntry, FlistEncoder, FlistOptions};
    let o = FlistOptions {
        protocol: 32,
        varint_flags: true,
        safe_flist: true,
        ..FlistOptions::default()
    };
    let mut enc = FlistEncoder::new(o);
    let mut out = Vec::new();
    for (name, mode, sz) in [(&b"."[..], 0o040755, 0), (b"f", 0o100644, size)] {
        let mut e = FileEntry::new(name.to_vec(), mode);
        e.size = sz;
        e.mtime = 1_700_000_000;
        enc.encode(&e, &mut out, &mut |_| None, &mut |_| None);
    }
    enc.end(&mut out, 0);
    out
}

/// Reads one transfer request: `(ndx, iflags, head bytes)`, skipping
/// the sums; `None` at `NDX_DONE` or end of stream.
fn request(
    c: &mut Client,
    dec: &mut rrsync::wire::NdxDecoder,
) -> Option<(i32, u16, [u8; 16], u32)> {
    use std::io::Read;
    loop {
        let ndx = crate::adversarial::stream::get_ndx(dec, &mut c.r).ok()?;
        if ndx < 0 {
            return None;
        }
        let iflags = crate::adversarial::stream::get_u16(&mut c.r).ok()?;
        if iflags & (1 << 15) == 0 {
            continue;
        }
        let mut head = [0u8; 16];
        c.r.read_exact(&mut head).ok()?;
        let word = |i: usize| u32::from_le_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
        let (count, s2) = (word(0), word(8));
        let mut sums = vec![0u8; count as usize * (4 + s2 as usize)];
        c.r.read_exact(&mut sums).ok()?;
        return Some((ndx, iflags, head, count));
    }
}

/// The server asks again for a file whose checksum failed (rsync's redo
/// phase, with full-length strong sums): under `-wo` the second request
/// carries no sums, under a read-write server it does.
#[test]
fn redo_sends_no_sums() {
    if !super::util::ours_only("stock servers send the sums a client asks for") {
        return;
    }
    let counts: Vec<(&str, u32)> = [("-wo", &["-wo"][..]), ("read-write", &[])]
        .into_iter()
        .map(|(what, flags)| (what, redo_count(flags)))
        .collect();
    assert_eq!(counts, vec![("-wo", 0), ("read-write", 3)]);
}

/// Pushes `f` over a 2,000-byte `dst/f` with a wrong file checksum and
/// returns the block count of the redo request.
fn redo_count(flags: &[&str]) -> u32 {
    use rrsync::wire::{NdxDecoder, NdxEncoder, NDX_DONE};
    let work = Work::new("wo_leak_redo");
    let root = work.dir.join("root");
    write_at(&root.join("dst/f"), &vec![b'b'; 2000], OLD);
    let words = "rsync --server -re.LsfxCIvu --checksum-seed=7 . dst/";
    let mut c = Client::spawn(flags, &root, words);
    c.handshake(32, "LsfxCIvu", b"md5", None)
        .expect("handshake");
    c.data(&flist(10));
    let (mut dec, mut enc) = (NdxDecoder::new(32), NdxEncoder::new(32));
    let (ndx, iflags, head, count) = request(&mut c, &mut dec).expect("first request");
    assert_eq!(count, 3, "{flags:?}: the first request must carry 3 blocks");
    let mut b = Vec::new();
    enc.put(&mut b, ndx);
    b.extend_from_slice(&iflags.to_le_bytes());
    b.extend_from_slice(&head);
    b.extend_from_slice(&10i32.to_le_bytes());
    b.extend_from_slice(b"0123456789");
    b.extend_from_slice(&0i32.to_le_bytes());
    b.extend_from_slice(&[0u8; 16]); // not the MD5 of the data
    c.data(&b);
    // The phase-0 NDX_DONE, echoed as the sender does; then the redo.
    assert!(
        request(&mut c, &mut dec).is_none(),
        "{flags:?}: no NDX_DONE"
    );
    let mut b = Vec::new();
    enc.put(&mut b, NDX_DONE);
    c.data(&b);
    let redo = request(&mut c, &mut dec).map(|r| r.3);
    let out = c.finish();
    redo.unwrap_or_else(|| panic!("{flags:?}: no redo request\n{}", out.stderr))
}
