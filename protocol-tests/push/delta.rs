//! Delta transfer on push (issue 3, "Done when" 2): the root holds the old
//! version of a 16 MiB file; after a 1-byte change (and a new mtime) the
//! client's `--stats` must show "Literal data" under 64 KiB and the root
//! must hold the new bytes. Variants: the default, `-z`, and from protocol
//! 30 on `--zc=zstd`, `--zc=lz4` and each `--checksum-choice` (xxh128, xxh3, xxh64,
//! md5, md4); below 30 there is no negotiation (md4, zlib). Stock
//! `rsync --server` runs the same push first: where it succeeds ours must;
//! where it fails ours must fail too. Where ours refuses `-z` with one
//! clear line naming compression, that is accepted and reported.

use super::each_cell;
use super::util::{self, literal_data, write_at};
use crate::fixtures::Rng;
use crate::harness::{self, Cell, Output, Server, Work};
use std::path::Path;

const SIZE: usize = 16 << 20;
const LIMIT: u64 = 64 * 1024;
const OLD_MTIME: u64 = 1_500_000_000;

/// Fresh root holding `dst/f16.bin` = old, then push `src/` into `x:dst/`.
fn one(
    work: &Work,
    cell: &Cell,
    server: &Server,
    old: &Path,
    src: &Path,
    extra: &[&str],
) -> Output {
    let _ = std::fs::remove_dir_all(&server.root);
    let dst = server.root.join("dst");
    std::fs::create_dir_all(&dst).expect("mkdir dst");
    std::fs::copy(old, dst.join("f16.bin")).expect("copy old version");
    let f = std::fs::File::options()
        .write(true)
        .open(dst.join("f16.bin"))
        .expect("open old copy");
    f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(OLD_MTIME))
        .expect("set mtime");
    let mut opts = vec!["-a", "--stats"];
    opts.extend_from_slice(extra);
    util::push(work, cell, server, &opts, &[util::src_arg(src)], "x:dst/")
}

fn check(root: &Path, new_hash: u128, out: &Output) -> Result<u64, String> {
    harness::ensure(out.code == Some(0), "push failed", out)?;
    let lit = literal_data(&out.stdout)
        .ok_or_else(|| format!("no \"Literal data:\" in --stats\n      {}", out.describe()))?;
    harness::ensure(
        lit < LIMIT,
        &format!("literal data {lit} >= {LIMIT} (no delta?)"),
        out,
    )?;
    let got = std::fs::read(root.join("dst/f16.bin")).map_err(|e| format!("read result: {e}"))?;
    harness::ensure(
        xxhash_rust::xxh3::xxh3_128(&got) == new_hash,
        "the file in the root differs from the source",
        out,
    )?;
    util::no_temp(root, &[], out)?;
    Ok(lit)
}

/// One line, non-zero exit, naming compression.
fn clear_compress_refusal(out: &Output) -> bool {
    let lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| !l.starts_with("rsync error:") && !l.trim().is_empty())
        .collect();
    out.code.is_some_and(|c| c != 0)
        && lines.len() == 1
        && lines.iter().any(|l| l.to_lowercase().contains("compress"))
}

fn variants(cell: &Cell) -> Vec<Vec<&'static str>> {
    let mut v: Vec<Vec<&str>> = vec![vec![], vec!["-z"]];
    if cell.protocol() >= 30 {
        v.push(vec!["--zc=zstd"]);
        v.push(vec!["--zc=lz4"]);
        for cc in ["xxh128", "xxh3", "xxh64", "md5", "md4", "sha1"] {
            v.push(vec!["--checksum-choice", cc]);
        }
    }
    v
}

#[test]
fn delta_after_one_byte_change() {
    let base = Work::new("push_delta_source");
    let src = base.dir.join("src");
    let old = base.dir.join("old.bin");
    let data = Rng::new(0xde17b).bytes(SIZE);
    write_at(&old, &data, OLD_MTIME);
    let mut new = data;
    if let Some(b) = new.get_mut(SIZE / 2 + 4_321) {
        *b ^= 0xa5;
    }
    write_at(&src.join("f16.bin"), &new, 1_600_000_000);
    let new_hash = xxhash_rust::xxh3::xxh3_128(&new);
    drop(new);

    each_cell("push_delta", |work, cell| {
        let mut errs = Vec::new();
        for extra in variants(cell) {
            let name = if extra.is_empty() {
                "default".to_string()
            } else {
                extra.join("=")
            };
            let stock_root = work.dir.join("ref");
            let our_root = work.dir.join("ours");
            let stock = one(work, cell, &Server::stock(&stock_root), &old, &src, &extra);
            let ours = one(
                work,
                cell,
                &Server::tested(&["-wo"], &our_root),
                &old,
                &src,
                &extra,
            );
            let compressing = extra
                .iter()
                .any(|e| e.starts_with("-z") || e.starts_with("--zc"));
            let r = if stock.code == Some(0) {
                check(&stock_root, new_hash, &stock)
                    .map_err(|e| format!("STOCK BASELINE: {e}"))
                    .and_then(|_| {
                        if compressing && clear_compress_refusal(&ours) {
                            eprintln!(
                                "NOTE [{}] {name}: ours refuses: {}",
                                cell.label(),
                                ours.stderr.trim()
                            );
                            Ok(0)
                        } else {
                            check(&our_root, new_hash, &ours)
                        }
                    })
                    .map(|_| ())
            } else if ours.code == Some(0) {
                Err(format!(
                    "stock fails but ours succeeds\n      stock: {}",
                    stock.describe()
                ))
            } else {
                Ok(())
            };
            if let Err(e) = r {
                errs.push(format!("{name}: {e}"));
            }
        }
        let _ = std::fs::remove_dir_all(work.dir.join("ref"));
        let _ = std::fs::remove_dir_all(work.dir.join("ours"));
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs.join("\n    "))
        }
    });
}
