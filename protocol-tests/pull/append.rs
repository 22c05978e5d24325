//! `--append` and `--append-verify` on pull (issue 11): the destination
//! holds a file that is a prefix of the source (grown), one that is the
//! same (unchanged), one longer than the source (shrunk: left alone), one
//! whose first bytes differ (changed prefix: plain `--append` keeps them,
//! `--append-verify` finds the mismatch and sends the file again whole)
//! and one that is missing. Each pull runs against stock `rsync --server`
//! first and the trees must be identical, in every client × protocol
//! cell (below 30 a plain `--append` verifies, as in rsync).

use super::{each_cell, pull_vs_stock, Spec};
use crate::harness::Work;
use crate::tree::Cmp;
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

const NEW: u64 = 1_600_000_000;
const OLD: u64 = 1_500_000_000;

fn body(n: usize, salt: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(salt))
        .collect()
}

fn write(path: &Path, data: &[u8], secs: u64) {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).expect("mkdir");
    }
    std::fs::write(path, data).expect("write");
    let f = std::fs::File::open(path).expect("open");
    f.set_modified(UNIX_EPOCH + Duration::from_secs(secs))
        .expect("set mtime");
}

/// The source side: the files as the sender has them now.
pub fn source(dir: &Path) {
    write(&dir.join("grown.bin"), &body(300_000, 1), NEW);
    write(&dir.join("same.bin"), &body(5_000, 2), NEW);
    write(&dir.join("shrunk.bin"), &body(500, 3), NEW);
    write(&dir.join("changed.bin"), &body(9_000, 4), NEW);
    write(&dir.join("new.bin"), &body(777, 5), NEW);
    write(&dir.join("sub/deeper.txt"), b"appended later\n", NEW);
}

/// The receiving side before the transfer: older copies.
pub fn old_copy(dir: &Path) {
    write(&dir.join("grown.bin"), &body(100_001, 1), OLD);
    write(&dir.join("same.bin"), &body(5_000, 2), NEW);
    write(&dir.join("shrunk.bin"), &body(800, 3), OLD);
    let mut changed = body(3_000, 4);
    changed[10] ^= 0xff;
    write(&dir.join("changed.bin"), &changed, OLD);
    write(&dir.join("sub/deeper.txt"), b"appended", OLD);
}

fn root(work: &Work) -> PathBuf {
    let root = work.path("root");
    source(&root.join("src"));
    root
}

fn case(opts: &[&str], test: &str, flags: &'static [&'static str]) {
    each_cell(test, |work, cell| {
        let root = root(work);
        let prep = |d: &Path| old_copy(d);
        let mut spec = Spec::new(opts, &["x:src/"]);
        spec.flags = flags;
        spec.prep = Some(&prep);
        // In append mode rsync writes a new file into a directory after
        // giving the directory its time, with stock as with us: directory
        // times are the time of the run, never equal between two runs.
        spec.cmp = Cmp {
            dir_mtime: false,
            ..Cmp::ALL
        };
        pull_vs_stock(work, cell, &root, &spec).map(|p| p.remove())
    });
}

#[test]
fn append_pull_matches_stock() {
    case(&["-a", "--append"], "pull_append", &["-ro"]);
}

#[test]
fn append_verify_pull_matches_stock() {
    case(&["-a", "--append-verify"], "pull_append_verify", &["-ro"]);
}

#[test]
fn append_pull_read_write_root_matches_stock() {
    case(
        &["-av", "--append-verify", "--stats"],
        "pull_append_rw",
        &[],
    );
}
