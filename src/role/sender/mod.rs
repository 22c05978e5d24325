//! The sender role: the client pulls (`do_server_sender` in `main.c`).
//!
//! Order of events, all protocols 27 to 32: the client's filter rules,
//! optionally its `--files-from` names, then our file list (sorted as the
//! receiver sorts it, with id lists and, before protocol 30, the io_error
//! word), then the request loop with its phases, the statistics, and the
//! goodbye.
//!
//! With incremental recursion (protocol 30 on, when the client allows
//! it) the first list holds only the top level, and each directory's
//! sub-list follows as the transfer reaches it ([`inc`]); without it the
//! whole list goes up front.

mod args;
mod data;
mod flist_out;
mod glob;
mod inc;
mod lists;
mod meta_out;
mod remove;
mod send;
mod walk;

pub use walk::{Exclude, NoFilter, WalkOptions};

use std::io;
use std::time::Instant;

use crate::checksum::StrongKind;
use crate::error::IoErrors;
use crate::fs::Root;
use crate::role::Link;
use crate::token::TokenEncoder;
use crate::wire::{NdxDecoder, NdxEncoder, WireError};
use lists::Lists;
/// Why a sender session ended early.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The connection broke or carried garbage.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// Writing to the client failed.
    #[error("write failed: {0}")]
    Io(#[from] io::Error),
    /// The client violated the protocol.
    #[error("{0}")]
    Protocol(String),
    /// The request cannot be served.
    #[error("{0}")]
    Refused(String),
}

/// Counters for the audit line and the exit code.
#[derive(Debug, Default, Clone, Copy)]
pub struct SendStats {
    /// Files whose data was sent.
    pub files_sent: u64,
    /// Literal bytes sent.
    pub literal: u64,
    /// Entries in the file list.
    pub listed: u64,
    /// rsync's `io_error` bits (a transfer error, a vanished file).
    pub io_error: IoErrors,
}

/// Everything the sender needs besides the connection.
pub struct SenderConfig<'a> {
    /// The confined root.
    pub root: &'a Root,
    /// The client's source arguments, normalized by the policy.
    pub paths: Vec<Vec<u8>>,
    /// Options that shape the walk.
    pub walk: WalkOptions,
    /// Options that shape the file list's encoding.
    pub flist: crate::flist::FlistOptions,
    /// The transfer checksum.
    pub xfer_kind: StrongKind,
    /// The `-c` checksum.
    pub file_kind: StrongKind,
    /// The checksum seed.
    pub seed: i32,
    /// MD5 seed order (`CF_CHKSUM_SEED_FIX`).
    pub proper_seed_order: bool,
    /// `-n`.
    pub dry_run: bool,
    /// `--open-noatime` (or `-UU`): read files without moving their
    /// access times.
    pub noatime: bool,
    /// `--inplace`: the client updates its files in place.
    pub inplace: bool,
    /// `--append` (1) or `--append-verify` (2, and `--append` below
    /// protocol 30), 0 without either.
    pub append: u8,
    /// `--remove-source-files` with the permit to remove (never under
    /// `-ro` or `-no-del`).
    pub remove: Option<crate::policy::DeletePermit>,
    /// `-v` count.
    pub verbose: u8,
    /// `--files-from`: `Some(None)` for names on the connection,
    /// `Some(Some(path))` for a file beneath the root.
    pub files_from: Option<Option<Vec<u8>>>,
    /// `--ignore-errors`.
    pub ignore_errors: bool,
    /// The client deletes as it goes (`--delete-during`, `-delay`).
    pub deleting: bool,
    /// The names of uid/gid 0 travel too (`CF_ID0_NAMES`).
    pub id0_names: bool,
    /// The token encoder for the negotiated compression.
    pub tokens: TokenEncoder,
    /// The client's `--log-file`, if one is open.
    pub log: crate::role::log_file::ItemLog<'a>,
}

/// State shared by the sender's stages.
pub(crate) struct SenderCtx<'a> {
    pub(crate) link: &'a Link,
    pub(crate) protocol: u32,
    pub(crate) ndx_in: NdxDecoder,
    pub(crate) ndx_out: NdxEncoder,
    pub(crate) root: &'a Root,
    pub(crate) xfer_kind: StrongKind,
    pub(crate) seed: i32,
    pub(crate) proper_seed_order: bool,
    pub(crate) io_error: IoErrors,
    pub(crate) dry_run: bool,
    pub(crate) noatime: bool,
    pub(crate) inplace: bool,
    pub(crate) append: u8,
    /// Under `--append`, the indexes already sent once (a second request
    /// is a redo).
    pub(crate) appended: std::collections::HashSet<i32>,
    /// `--remove-source-files`: removes what the client confirms.
    pub(crate) remover: Option<remove::Remover<'a>>,
    pub(crate) tokens: TokenEncoder,
    pub(crate) stats: SendStats,
    pub(crate) log: crate::role::log_file::ItemLog<'a>,
    /// The ACLs and attribute lists sent, for the client's requests.
    pub(crate) meta: meta_out::MetaOut,
    /// Where each small piece of output is built before it is written,
    /// kept from one to the next ([`Self::take_scratch`]).
    pub(crate) scratch: Vec<u8>,
    /// The search buffer and hash state one file leaves for the next.
    pub(crate) spare: crate::delta::Spare,
}

impl SenderCtx<'_> {
    /// Writes a file index.
    pub(crate) fn write_ndx(&mut self, ndx: i32) {
        let mut b = self.take_scratch();
        self.ndx_out.put(&mut b, ndx);
        self.write_scratch(b);
    }

    /// The scratch buffer, empty, to build a piece of output in; give it
    /// back with [`Self::write_scratch`] so that the next piece reuses it.
    pub(crate) fn take_scratch(&mut self) -> Vec<u8> {
        let mut b = std::mem::take(&mut self.scratch);
        b.clear();
        b
    }

    /// Writes what was built in `b` and keeps `b` as the scratch buffer.
    pub(crate) fn write_scratch(&mut self, b: Vec<u8>) {
        self.link.write(&b);
        self.scratch = b;
    }
}

/// Milliseconds from `start` to the link's time now, at least 1.
fn ms_since(link: &Link, start: Option<Instant>) -> u64 {
    match (start, link.now()) {
        (Some(a), Some(b)) => (b.saturating_duration_since(a).as_millis() as u64).max(1),
        _ => 1,
    }
}

/// Runs a whole sender session after the handshake and the client's
/// filter rules (parsed into `filter`), at `protocol`.
pub async fn run(
    link: &Link,
    protocol: u32,
    cfg: SenderConfig<'_>,
    filter: &mut dyn Exclude,
) -> Result<SendStats, SendError> {
    link.set_who("sender");
    cfg.log.line("building file list");
    let start = link.now();
    let names = flist_out::source_names(link, protocol, &cfg).await?;
    let skipped = filter.skipped_rules();
    let mut walker = flist_out::walk_sources(link, &cfg, &names, filter).await;
    let walk = walker.take();
    // The rules from the wire were counted when they arrived; these are
    // the ones the walk dropped.
    let skipped = walker.skipped_rules().saturating_sub(skipped);
    if skipped > 0 {
        link.warning(&crate::role::text::skipped_rules("sender", skipped));
    }
    let built = ms_since(link, start);
    let sent_at = link.now();
    let incremental = cfg.flist.inc_recurse;
    let mut lists = if incremental {
        Lists::incremental()
    } else {
        Lists::default()
    };
    let mut writer = flist_out::ListWriter::new(&cfg);
    let listed = flist_out::send_list(link, &cfg, &mut writer, walk, lists.next_start()).await?;
    let xfer = ms_since(link, sent_at);
    let first_len = listed.items.len();
    let mut ctx = SenderCtx {
        link,
        protocol,
        ndx_in: NdxDecoder::new(protocol),
        ndx_out: NdxEncoder::new(protocol),
        root: cfg.root,
        xfer_kind: cfg.xfer_kind,
        seed: cfg.seed,
        proper_seed_order: cfg.proper_seed_order,
        io_error: listed.io_error,
        dry_run: cfg.dry_run,
        noatime: cfg.noatime,
        inplace: cfg.inplace || cfg.append > 0,
        append: cfg.append,
        appended: std::collections::HashSet::new(),
        remover: cfg
            .remove
            .map(|p| remove::Remover::new(cfg.root, p, cfg.verbose)),
        tokens: cfg.tokens,
        log: cfg.log,
        stats: SendStats::default(),
        meta: listed.meta,
        scratch: Vec::new(),
        spare: crate::delta::Spare::default(),
    };
    let mut inc = None;
    if incremental {
        let mut more = inc::Incremental::new(walker, writer, cfg.deleting);
        let parent =
            (listed.items.first().map(|i| i.entry.name.as_slice()) == Some(b".")).then_some(0);
        more.add_dirs(&mut lists, &listed.items);
        lists.add(listed.items, parent);
        more.after_first(&mut ctx, &mut lists, first_len).await?;
        inc = Some(more);
    } else {
        lists.add(listed.items, None);
    }
    if ctx.remover.is_some() {
        // Each file is confirmed at most once; more are dropped. Under
        // incremental recursion confirmations are taken between requests,
        // so the cap bounds what one read of the inbox can hold.
        let cap = if incremental { 1 << 20 } else { first_len + 1 };
        link.keep_successes(cap);
    }
    if first_len > 0 {
        send::send_files(&mut ctx, &mut lists, inc.as_mut()).await?;
        let sub = inc.as_ref().map_or(0, |i| i.total_size);
        send::send_stats(&mut ctx, listed.total_size + sub, built, xfer);
        send::final_goodbye(&mut ctx, &lists).await?;
    }
    ctx.stats.listed = lists.total();
    link.flush();
    ctx.stats.io_error = ctx.io_error;
    Ok(ctx.stats)
}

#[cfg(test)]
mod machine_tests;
