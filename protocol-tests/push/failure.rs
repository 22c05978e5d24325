//! Nothing lost on push (issue 3, "Nothing lost"):
//! - the client is SIGKILLed (its PID only, not its process group) in the
//!   middle of a slow (`--bwlimit`) 16 MiB push over an old version: the
//!   server must exit by itself; without `--partial` the old file is
//!   intact and no `.name.XXXXXX` temp is left; with `--partial` the
//!   destination holds a non-empty prefix of the new data; with
//!   `--partial-dir` the old file is intact, the prefix waits in the
//!   partial dir, and the next push resumes from it (its blocks are
//!   matched) and removes it;
//! - disk full on a 2 MiB tmpfs root (root only; skipped loudly
//!   otherwise): exit 23 or 11, a "No space left on device" line, the old
//!   big file unchanged, the small files of the same run present, no temp.
//!
//! Each scenario runs against stock `rsync --server` first (its own
//! properties are checked as a baseline), at each client's native protocol.

use super::util::{self, matched_data, src_arg, temp_size, write_at, Bg, Tmpfs};
use crate::fixtures::Rng;
use crate::harness::{self, ensure, Cell, Kind, Report, Server, Work};
use std::path::Path;
use std::time::Duration;

const SIZE: usize = 16 << 20;
const PDIR: &str = ".rsync-partial";

/// True when `got` is a non-empty strict prefix of `full`.
fn strict_prefix(got: &[u8], full: &[u8]) -> bool {
    !got.is_empty() && got.len() < full.len() && full.starts_with(got)
}

/// One killed push into a fresh `root`; checks the aftermath.
fn killed_push(
    work: &Work,
    cell: &Cell,
    server: &Server,
    src: &Path,
    old: &[u8],
    new: &[u8],
    mode: &str,
) -> Result<(), String> {
    let dst = server.root.join("dst");
    let _ = std::fs::remove_dir_all(&server.root);
    write_at(&dst.join("big.bin"), old, 1_500_000_000);
    let mut args = harness::args(&["-a", "--bwlimit=2048"]);
    if !mode.is_empty() {
        args.push(mode.to_string());
    }
    args.extend([src_arg(src), "x:dst/".to_string()]);
    let mut bg = Bg::start(work, cell, &server.rsh(work), &args, "killed");
    let started = util::wait_for(Duration::from_secs(40), || {
        temp_size(&dst, "big.bin") >= 1 << 20
    });
    bg.kill_client();
    let exited = bg.group_gone(Duration::from_secs(15));
    let out = bg.finish();
    ensure(started, "the temp file never grew to 1 MiB", &out)?;
    ensure(
        exited,
        "the server did not exit within 15 s of the client's death",
        &out,
    )?;
    util::no_temp(&server.root, &[PDIR], &out)?;
    let got = std::fs::read(dst.join("big.bin")).map_err(|e| format!("read big.bin: {e}"))?;
    if mode == "--partial" {
        ensure(
            strict_prefix(&got, new),
            "--partial: big.bin is not a partial prefix of the new data",
            &out,
        )?;
    } else {
        ensure(got == old, "the old big.bin was not left intact", &out)?;
    }
    if mode.starts_with("--partial-dir") {
        let p = std::fs::read(dst.join(PDIR).join("big.bin")).unwrap_or_default();
        ensure(
            strict_prefix(&p, new),
            "--partial-dir: no partial prefix kept",
            &out,
        )?;
        let mut args = harness::args(&["-a", "--stats", mode, &src_arg(src), "x:dst/"]);
        args.retain(|a| !a.is_empty());
        let out = harness::rsync(cell, &server.rsh(work), &args);
        ensure(out.code == Some(0), "resume push failed", &out)?;
        // The partial was the basis when its blocks were matched: the old
        // big.bin shares none with the new data. Matched bytes, not
        // literal ones, since the blocks' strong sums are two bytes long
        // at this size, so now and then (for stock too) a block falsely
        // matches, the whole-file check fails, and the file is sent again.
        let matched = matched_data(&out.stdout).unwrap_or(0);
        let min = (p.len() / 2) as u64;
        ensure(
            matched >= min,
            &format!("resume matched {matched} bytes (< {min}): partial not used"),
            &out,
        )?;
        let got = std::fs::read(dst.join("big.bin")).map_err(|e| format!("read big.bin: {e}"))?;
        ensure(got == new, "after resume big.bin != new", &out)?;
        ensure(
            !dst.join(PDIR).exists(),
            "partial dir left after the resume",
            &out,
        )?;
        util::no_temp(&server.root, &[], &out)?;
    }
    Ok(())
}

#[test]
fn client_killed_mid_transfer() {
    let work = Work::new("push_killed");
    let src = work.path("src");
    let old = Rng::new(1).bytes(SIZE);
    let new = Rng::new(2).bytes(SIZE);
    write_at(&src.join("big.bin"), &new, 1_600_000_000);
    let mut rep = Report::new();
    for cell in util::native_cells() {
        for mode in ["", "--partial", &format!("--partial-dir={PDIR}")] {
            let stock = Server::stock(&work.dir.join("ref"));
            let label = format!("{} {mode}", cell.label());
            let r = killed_push(&work, &cell, &stock, &src, &old, &new, mode)
                .map_err(|e| format!("STOCK BASELINE: {e}"))
                .and_then(|()| {
                    let ours = Server::tested(&["-wo"], &work.dir.join("ours"));
                    killed_push(&work, &cell, &ours, &src, &old, &new, mode)
                });
            rep.check(&label, r);
        }
    }
    rep.finish("push_killed");
}

/// One push into a full tmpfs; `strict` adds "the later files arrive".
fn disk_full_push(
    work: &Work,
    cell: &Cell,
    kind: Kind,
    src: &Path,
    old: &[u8],
    strict: bool,
) -> Result<(), String> {
    let root = work.path(&format!("tmpfs-{kind:?}"));
    let Some(_fs) = Tmpfs::mount(&root, "2m") else {
        return Err("mount failed".to_string());
    };
    write_at(&root.join("dst/big.bin"), old, 1_500_000_000);
    let server = Server::new(
        kind,
        if kind == Kind::Stock { &[] } else { &["-wo"] },
        &root,
    );
    let out = util::push(work, cell, &server, &["-a"], &[src_arg(src)], "x:dst/");
    ensure(
        matches!(out.code, Some(23) | Some(11)),
        "want exit 23 or 11",
        &out,
    )?;
    ensure(
        out.stderr
            .lines()
            .any(|l| l.contains("No space left on device")),
        "no \"No space left on device\" line",
        &out,
    )?;
    let got = std::fs::read(root.join("dst/big.bin")).unwrap_or_default();
    ensure(got == old, "the old big.bin changed", &out)?;
    util::no_temp(&root, &[], &out)?;
    let small: &[&str] = if strict {
        &["a_small.txt", "sub/c.txt", "z_small.txt"]
    } else {
        &["a_small.txt"]
    };
    for f in small {
        let want = std::fs::read(src.join(f)).unwrap_or_default();
        ensure(
            std::fs::read(root.join("dst").join(f)).ok() == Some(want),
            &format!("small file {f} did not arrive"),
            &out,
        )?;
    }
    Ok(())
}

#[test]
fn disk_full() {
    let work = Work::new("push_disk_full");
    let probe = work.path("probe");
    if Tmpfs::mount(&probe, "1m").is_none() {
        return harness::skip("cannot mount a tmpfs (needs root / CAP_SYS_ADMIN): disk-full case");
    }
    let src = work.path("src");
    write_at(&src.join("a_small.txt"), b"small a\n", 1_600_000_000);
    write_at(
        &src.join("big.bin"),
        &Rng::new(3).bytes(3 << 20),
        1_600_000_000,
    );
    write_at(&src.join("sub/c.txt"), b"small c\n", 1_600_000_000);
    write_at(&src.join("z_small.txt"), b"small z\n", 1_600_000_000);
    let old = Rng::new(4).bytes(600 << 10);
    let mut rep = Report::new();
    for cell in util::native_cells() {
        // Stock aborts the whole run on a write error (exit 11): later
        // files do not arrive there, so its baseline is the weaker one.
        let r = disk_full_push(&work, &cell, Kind::Stock, &src, &old, false)
            .map_err(|e| format!("STOCK BASELINE: {e}"))
            .and_then(|()| {
                disk_full_push(&work, &cell, harness::kind_under_test(), &src, &old, true)
            });
        rep.check(&cell.label(), r);
    }
    rep.finish("push_disk_full");
}
