//! Delta transfer on pull (issue 2, case 3): after a 1-byte change in a
//! 16 MiB file the client must receive well under 64 KiB of literal data
//! ("Literal data:" in `--stats`), for every `--checksum-choice` and with
//! `-z`, `--zc=zstd` and `--zc=lz4`. Stock rsync runs the same command first: where stock
//! succeeds ours must too; where stock fails (an option the protocol cannot
//! carry) ours must fail as well. Below protocol 30 there is no negotiation
//! (md4, zlib): ours may then also refuse `-z` with one line naming
//! "compress".

use super::each_cell;
use crate::fixtures::Rng;
use crate::harness::{self, rsync, Output, Server, Work};
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

const SIZE: usize = 16 << 20;
const LIMIT: u64 = 64 * 1024;

/// "Literal data: 1,234 bytes" → 1234.
pub fn literal_data(stats: &str) -> Option<u64> {
    let line = stats
        .lines()
        .find(|l| l.trim_start().starts_with("Literal data:"))?;
    let num: String = line
        .split(':')
        .nth(1)?
        .split_whitespace()
        .next()?
        .chars()
        .filter(|c| c.is_ascii_digit())
        .collect();
    num.parse().ok()
}

fn write_with_mtime(path: &Path, data: &[u8], secs: u64) {
    std::fs::write(path, data).expect("write delta file");
    let f = std::fs::File::open(path).expect("open delta file");
    f.set_modified(UNIX_EPOCH + Duration::new(secs, 123_000_000))
        .expect("set mtime");
}

/// Seed `dst/f16.bin` with the old version and pull the new one.
fn one(
    work: &Work,
    cell: &harness::Cell,
    server: &Server,
    old: &[u8],
    extra: &[&str],
    tag: &str,
) -> Output {
    let dst = work.path(tag);
    std::fs::create_dir_all(&dst).expect("mkdir dst");
    write_with_mtime(&dst.join("f16.bin"), old, 1_500_000_000);
    let mut a = harness::args(&["-a", "--stats", "--no-whole-file"]);
    a.extend(harness::args(extra));
    a.push("x:dir/".to_string());
    a.push(format!("{}/", dst.display()));
    rsync(cell, &server.rsh(work), &a)
}

fn check_result(work: &Work, tag: &str, new_hash: u128, out: &Output) -> Result<(), String> {
    let lit = literal_data(&out.stdout)
        .ok_or_else(|| format!("no \"Literal data:\" in --stats\n      {}", out.describe()))?;
    if lit >= LIMIT {
        return Err(format!(
            "literal data {lit} bytes >= {LIMIT} (no delta?)\n      {}",
            out.describe()
        ));
    }
    let got = std::fs::read(work.dir.join(tag).join("f16.bin"))
        .map_err(|e| format!("read result: {e}"))?;
    if xxhash_rust::xxh3::xxh3_128(&got) != new_hash {
        return Err("reconstructed file differs from the source".to_string());
    }
    let _ = std::fs::remove_dir_all(work.dir.join(tag));
    Ok(())
}

/// A failure with an error line naming compression (allowed below
/// protocol 30, where `-z` cannot be negotiated).
fn clear_compress_refusal(out: &Output) -> bool {
    out.code.is_some_and(|c| c != 0)
        && out
            .stderr
            .lines()
            .any(|l| l.to_lowercase().contains("compress"))
}

#[test]
fn delta_after_one_byte_change() {
    let work0 = Work::new("delta_source");
    let root = work0.dir.join("root");
    std::fs::create_dir_all(root.join("dir")).expect("mkdir root/dir");
    let old = Rng::new(0xde17a).bytes(SIZE);
    let mut new = old.clone();
    if let Some(b) = new.get_mut(SIZE / 2 + 12_345) {
        *b ^= 0x5a;
    }
    write_with_mtime(&root.join("dir/f16.bin"), &new, 1_600_000_000);
    let new_hash = xxhash_rust::xxh3::xxh3_128(&new);

    each_cell("delta", |work, cell| {
        let mut variants: Vec<Vec<&str>> =
            vec![vec![], vec!["-z"], vec!["--zc=zstd"], vec!["--zc=lz4"]];
        for cc in ["xxh128", "xxh3", "xxh64", "md5", "md4", "sha1"] {
            variants.push(vec!["--checksum-choice", cc]);
        }
        let mut errs = Vec::new();
        for (i, extra) in variants.iter().enumerate() {
            let name = if extra.is_empty() {
                "default".to_string()
            } else {
                extra.join("=")
            };
            let stock = one(
                work,
                cell,
                &Server::stock(&root),
                &old,
                extra,
                &format!("ref{i}"),
            );
            let ours = one(
                work,
                cell,
                &Server::tested(&["-ro"], &root),
                &old,
                extra,
                &format!("dst{i}"),
            );
            let r = if stock.code == Some(0) {
                check_result(work, &format!("ref{i}"), new_hash, &stock)
                    .map_err(|e| format!("STOCK BASELINE: {e}"))
                    .and_then(|()| {
                        let compressing = extra
                            .iter()
                            .any(|e| e.starts_with("-z") || e.starts_with("--zc"));
                        if cell.protocol() < 30 && compressing && clear_compress_refusal(&ours) {
                            Ok(())
                        } else {
                            check_result(work, &format!("dst{i}"), new_hash, &ours)
                        }
                    })
            } else if ours.code == Some(0) {
                Err(format!(
                    "stock fails ({:?}) but ours succeeds\n      stock: {}",
                    stock.code,
                    stock.describe()
                ))
            } else {
                eprintln!("[{}] {name}: stock and ours both refuse", cell.label());
                Ok(())
            };
            if let Err(e) = r {
                errs.push(format!("{name}: {e}"));
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs.join("\n    "))
        }
    });
}

#[test]
fn parses_literal_data() {
    assert_eq!(
        literal_data("Matched data: 5 bytes\nLiteral data: 1,234,567 bytes\n"),
        Some(1_234_567)
    );
    assert_eq!(literal_data("Literal data: 0 bytes\n"), Some(0));
    assert_eq!(literal_data("nothing"), None);
}
