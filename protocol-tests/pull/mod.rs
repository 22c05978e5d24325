//! Pull cases (server = sender, `rsync --server --sender`): the client
//! receives from the restricted root. Every transfer is repeated with the
//! same client, protocol and options against stock `rsync --server`
//! ([`crate::harness::Kind::Stock`]) and the two results must be identical
//! (exit code and whole tree), which absorbs per-protocol subtleties such as
//! mtime precision below protocol 31.

pub mod append;
mod basic;
mod bwlimit;
mod delta;
mod implied;
mod inc;
mod munge;
mod refuse;
mod remove_source;
mod sshd;

use crate::harness::{rsync, Cell, Output, Server, Work};
use crate::tree::{self, Cmp};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// One pull scenario.
pub struct Spec<'a> {
    /// Client options (before the sources), e.g. `["-a"]`.
    pub opts: Vec<String>,
    /// Remote sources, e.g. `["x:dir/"]`; the destination is appended.
    pub srcs: Vec<String>,
    /// rrsync flags for the server under test.
    pub flags: &'a [&'a str],
    /// Prepares the destination (run for the reference and ours alike).
    pub prep: Option<&'a dyn Fn(&Path)>,
    /// Tree comparison policy between the reference and ours.
    pub cmp: Cmp,
    /// Pass no destination (`--list-only`).
    pub no_dst: bool,
}

impl<'a> Spec<'a> {
    pub fn new(opts: &[&str], srcs: &[&str]) -> Spec<'a> {
        Spec {
            opts: crate::harness::args(opts),
            srcs: crate::harness::args(srcs),
            flags: &["-ro"],
            prep: None,
            cmp: Cmp::ALL,
            no_dst: false,
        }
    }
}

/// Result of one pull pair.
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

/// Run one pull through `server` into a fresh destination.
pub fn pull_with(work: &Work, cell: &Cell, server: &Server, spec: &Spec<'_>, dst: &Path) -> Output {
    if let Some(prep) = spec.prep {
        prep(dst);
    }
    let mut a = spec.opts.clone();
    a.extend(spec.srcs.iter().cloned());
    if !spec.no_dst {
        a.push(format!("{}/", dst.display()));
    }
    rsync(cell, &server.rsh(work), &a)
}

/// Pull with stock and with the server under test; require equal exit
/// codes, equal trees (and for listings equal stdout).
pub fn pull_vs_stock(
    work: &Work,
    cell: &Cell,
    root: &Path,
    spec: &Spec<'_>,
) -> Result<Pair, String> {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let reference = work.path(&format!("ref-{n}"));
    let ours = work.path(&format!("dst-{n}"));
    let ref_out = pull_with(work, cell, &Server::stock(root), spec, &reference);
    let our_out = pull_with(work, cell, &Server::tested(spec.flags, root), spec, &ours);
    let pair = Pair {
        reference,
        ours,
        ref_out,
        our_out,
    };
    let cmd = format!("{} {}", spec.opts.join(" "), spec.srcs.join(" "));
    if pair.ref_out.code != Some(0) {
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
    if spec.no_dst {
        if pair.ref_out.stdout.trim().is_empty() {
            return Err(format!("STOCK BASELINE listed nothing for `{cmd}`"));
        }
        if pair.our_out.stdout != pair.ref_out.stdout {
            return Err(format!(
                "`{cmd}`: output differs from stock\n{}",
                first_line_diff(&pair.ref_out.stdout, &pair.our_out.stdout)
            ));
        }
    } else {
        let n = tree::snapshot(&pair.reference)
            .map(|t| t.0.len())
            .unwrap_or(0);
        if n < 2 {
            return Err(format!(
                "STOCK BASELINE received nothing for `{cmd}`\n      {}",
                pair.ref_out.describe()
            ));
        }
        tree::same_dirs(
            &format!("`{cmd}` vs stock"),
            &pair.reference,
            &pair.ours,
            spec.cmp,
        )?;
    }
    Ok(pair)
}

/// Where two multi-line texts first differ.
pub fn first_line_diff(want: &str, got: &str) -> String {
    let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
    for i in 0..w.len().max(g.len()) {
        let (a, b) = (w.get(i), g.get(i));
        if a != b {
            return format!(
                "      line {}:\n        stock: {:?}\n        ours:  {:?}",
                i + 1,
                a,
                b
            );
        }
    }
    "      (identical lines; whitespace differs)".to_string()
}

/// Cells at each client's native protocol and at protocol 29 (the last one
/// without negotiation/varints): where the expensive cases run.
pub fn is_heavy(cell: &Cell) -> bool {
    cell.proto.is_none() || cell.proto == Some(29)
}

/// Every matrix cell run through `f`, failures reported together.
pub fn each_cell(test: &str, mut f: impl FnMut(&Work, &Cell) -> Result<(), String>) {
    let work = Work::new(test);
    let mut rep = crate::harness::Report::new();
    for cell in crate::harness::matrix() {
        rep.check(&cell.label(), f(&work, &cell));
    }
    rep.finish(test);
}
