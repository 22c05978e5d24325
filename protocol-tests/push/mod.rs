//! Push cases (issue 3; server = generator + receiver, `rsync --server`
//! without `--sender`): a real client pushes a local tree into the
//! restricted root. Where the outcome is deterministic, the same push runs
//! first against unrestricted stock `rsync --server` in a separate root
//! and the two roots must end up identical (exit code and whole tree:
//! names, types, bytes, modes, mtimes, link targets), which absorbs
//! per-protocol details such as nanosecond mtimes from protocol 31 on.
//!
//! Files: `basic` (full tree, `--delete`, option cases), `extra`
//! (`--compare-dest`/`--copy-dest`, alt-dests over existing files,
//! `--max-delete`, `-H`), `delta` (literal
//! data after a 1-byte change), `modes` (`-ro`, `-no-del`,
//! `-no-overwrite`, the lock), `invariants` (each mode's invariant
//! against a battery of pushes that try to get round it), `escape` (writes outside the root),
//! `implied` (`-R --no-implied-dirs`: content-less parents left alone),
//! `failure` (client killed mid-transfer, disk full), `delete_rules`
//! (what the client's and the destination's rules keep from `--delete`),
//! `verbose` (the server's own lines, `-v` to `-vv`, every protocol),
//! `owners` (`--chown`, `--usermap`, `--groupmap` as root), `times`
//! (when an unchanged entry's time is set),
//! `sshd` (a real
//! sshd with a `restrict` key line) and `util` (shared helpers).

mod append;
mod basic;
mod delete_rules;
mod delta;
mod escape;
mod extra;
mod failure;
mod fuzzy;
mod hlinks;
mod implied;
mod inc;
mod invariants;
mod log_file;
mod modes;
mod options;
mod owners;
mod readable;
mod refusals;
mod snapshot;
mod snapshot_ops;
mod sshd;
mod times;
pub mod util;
mod verbose;
mod wo_leak;

use crate::harness::{Cell, Output, Server, Work};
use crate::tree::{self, Cmp};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

pub use crate::pull::{each_cell, is_heavy};

/// One push scenario.
pub struct Spec<'a> {
    /// Client options, e.g. `["-a"]`.
    pub opts: Vec<String>,
    /// Local sources (absolute paths).
    pub srcs: Vec<String>,
    /// The remote destination, e.g. `x:dst/`.
    pub dest: String,
    /// rrsync flags for the server under test.
    pub flags: &'a [&'a str],
    /// Extra client options for the stock run only (e.g. the
    /// `--ignore-existing` that `-no-overwrite` implies).
    pub stock_extra: Vec<String>,
    /// The exit code stock (and so ours) must give; 0 unless told.
    pub stock_code: i32,
    /// Prepares a fresh root (run for the reference root and ours alike).
    pub prep: Option<&'a dyn Fn(&Path)>,
    /// Tree comparison policy (the roots' own mtimes are never compared).
    pub cmp: Cmp,
}

impl<'a> Spec<'a> {
    /// `rsync OPTS SRC/ x:dst/` under `-wo`.
    pub fn new(opts: &[&str], src: &Path) -> Spec<'a> {
        Spec {
            opts: crate::harness::args(opts),
            srcs: vec![util::src_arg(src)],
            dest: "x:dst/".to_string(),
            flags: &["-wo"],
            stock_extra: Vec::new(),
            stock_code: 0,
            prep: None,
            cmp: Cmp::ALL,
        }
    }
}

/// Both roots after one push pair.
pub struct Pair {
    pub reference: PathBuf,
    pub ours: PathBuf,
    pub ref_out: Output,
    pub our_out: Output,
}

impl Pair {
    /// Free the disk space (big trees).
    pub fn remove(&self) {
        let _ = std::fs::remove_dir_all(&self.reference);
        let _ = std::fs::remove_dir_all(&self.ours);
    }
}

/// Run one push through `server` into `root` (prepared first).
pub fn push_with(
    work: &Work,
    cell: &Cell,
    server: &Server,
    spec: &Spec<'_>,
    extra: &[String],
) -> Output {
    prepare(&server.root, spec.prep);
    let mut a = spec.opts.clone();
    a.extend(extra.iter().cloned());
    a.extend(spec.srcs.iter().cloned());
    a.push(spec.dest.clone());
    crate::harness::rsync(cell, &server.rsh(work), &a)
}

/// Create `root` and run `prep` in it; then give every directory below
/// the root a fixed mtime, so that two prepared roots compare equal.
pub fn prepare(root: &Path, prep: Option<&dyn Fn(&Path)>) {
    std::fs::create_dir_all(root).expect("mkdir root");
    let Some(prep) = prep else { return };
    prep(root);
    let t = util::snap(root);
    for (p, e) in &t.0 {
        if e.kind == tree::Kind::Dir && !p.as_os_str().is_empty() {
            let f = std::fs::File::open(root.join(p)).expect("open dir");
            f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_300_000_000))
                .expect("set dir mtime");
        }
    }
}

/// Push with stock and with the server under test into two fresh roots;
/// require stock success, equal exit codes and equal root trees.
pub fn push_vs_stock(work: &Work, cell: &Cell, spec: &Spec<'_>) -> Result<Pair, String> {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let reference = work.path(&format!("ref-{n}"));
    let ours = work.path(&format!("ours-{n}"));
    let ref_out = push_with(
        work,
        cell,
        &Server::stock(&reference),
        spec,
        &spec.stock_extra,
    );
    let our_out = push_with(work, cell, &Server::tested(spec.flags, &ours), spec, &[]);
    let pair = Pair {
        reference,
        ours,
        ref_out,
        our_out,
    };
    let cmd = format!(
        "{} … {} (server {:?})",
        spec.opts.join(" "),
        spec.dest,
        spec.flags
    );
    if pair.ref_out.code != Some(spec.stock_code) {
        return Err(format!(
            "STOCK BASELINE failed for `{cmd}` (harness problem?)\n      {}",
            pair.ref_out.describe()
        ));
    }
    if pair.our_out.code != pair.ref_out.code {
        return Err(format!(
            "`{cmd}`: exit {:?}, stock exit {:?}\n      {}",
            pair.our_out.code,
            pair.ref_out.code,
            pair.our_out.describe()
        ));
    }
    tree::same_dirs(
        &format!("`{cmd}` vs stock"),
        &pair.reference,
        &pair.ours,
        spec.cmp.no_root_mtime(),
    )
    .map_err(|e| format!("{e}\n      ours: {}", pair.our_out.describe()))?;
    Ok(pair)
}
