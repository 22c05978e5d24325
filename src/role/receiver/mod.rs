//! The receiving side: the client pushes (`do_server_recv` and `do_recv`
//! in `main.c`), protocols 27 to 32.
//!
//! As in rsync, two workers share the connection: the generator (a
//! process in rsync) walks the sorted file list, creates directories and
//! symlinks and asks the client for files, sending block sums of each
//! basis; the receiver reads the client's delta for each requested file
//! into a temporary file beside it, checks the whole-file checksum and
//! renames it into place. Here both are one `async fn` over a
//! [`Link`]: the generator is a cursor the receiver advances whenever the
//! outbox has room, and the task waits for input or room, whichever
//! comes first. Phases, redo requests and the final goodbye follow
//! `generate_files`/`recv_files`.
//!
//! Nothing here runs without a [`crate::policy::ReceivePermit`]. Every
//! change to the tree goes through one [`Writer`] per session: removing
//! or moving away a name this session did not create needs a
//! [`DeletePermit`], changing one (contents, mode, owner, times, a
//! symlink's target) an [`OverwritePermit`], so `-no-del` and
//! `-no-overwrite` hold by construction, whichever option leads there.

mod attrs;
mod basis;
mod del_filter;
mod delete;
mod dest;
mod fake;
mod file;
mod generator;
mod groups;
mod lists;
mod meta;
mod out;
mod owners;
mod place;
mod recv;
mod requests;
mod sort;
mod sparse;
mod table;
mod unsafe_link;

use crate::checksum::StrongKind;
use crate::error::IoErrors;
use crate::filter::FilterList;
use crate::flist::FlistOptions;
use crate::fs::{RelPath, Root, Writer};
use crate::policy::{BlockSums, DeletePermit, OverwritePermit};
use crate::proto::Compression;
use crate::role::Link;
use crate::token::TokenDecoder;
use crate::wire::{NdxDecoder, NdxEncoder, WireError};

use out::Outbox;

/// Why a receiving session ended early.
#[derive(Debug, thiserror::Error)]
pub enum RecvError {
    /// The connection broke or carried garbage.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// Local I/O that ends the session.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The client violated the protocol.
    #[error("{0}")]
    Protocol(String),
    /// The destination cannot be used.
    #[error("{0}")]
    Dest(String),
    /// The client's list would pass the session's memory budget.
    #[error("{0}")]
    Budget(String),
    /// The push passed the key's `-max-bytes` or `-max-files`.
    #[error("{0}")]
    Quota(String),
}

impl From<crate::flist::FlistError> for RecvError {
    fn from(e: crate::flist::FlistError) -> Self {
        match e {
            crate::flist::FlistError::Wire(w) => RecvError::Wire(w),
            crate::flist::FlistError::Invalid(m) => RecvError::Protocol(m),
            crate::flist::FlistError::Budget(m) => RecvError::Budget(m),
        }
    }
}

/// Options the generator and receiver act on.
#[derive(Debug, Clone, Default)]
pub struct RecvOptions {
    /// `-v` count.
    pub verbose: u8,
    /// `-q`: not even rsync's verbosity-0 lines (`INFO_GTE(NONREG, 1)`).
    pub quiet: bool,
    /// Most file-list entries accepted in one list (from the memory
    /// budget).
    pub max_entries: usize,
    /// Most entries held at once under incremental recursion: the live
    /// rows and kept directories of every list not yet freed.
    pub max_held: usize,
    /// Most bytes the client's ACLs and attribute lists may take.
    pub max_meta: u64,
    /// `--open-noatime` (or `-UU`): the basis files and the files summed
    /// for `-c` are read without moving their access times.
    pub noatime: bool,
    /// The client itemizes (`--log-format=%i`).
    pub itemize: bool,
    /// Every entry is itemized, changed or not: `-vv`, or `-ii`
    /// (`--log-format=%i%I`), as rsync's `itemize` decides.
    pub itemize_all: bool,
    /// `-p`.
    pub perms: bool,
    /// `-E` without `-p`.
    pub executability: bool,
    /// `-t`.
    pub times: bool,
    /// `-U`: access times of non-directories.
    pub atimes: bool,
    /// `-O`.
    pub omit_dir_times: bool,
    /// `-J`.
    pub omit_link_times: bool,
    /// `-o` (effective only as root).
    pub owner: bool,
    /// `-g`.
    pub group: bool,
    /// `-l`.
    pub links: bool,
    /// `-H`.
    pub hard_links: bool,
    /// `-c`.
    pub checksum: bool,
    /// `-I`.
    pub ignore_times: bool,
    /// `--size-only`.
    pub size_only: bool,
    /// `-u`.
    pub update: bool,
    /// `--ignore-existing` (forced by `-no-overwrite`).
    pub ignore_existing: bool,
    /// `--existing`.
    pub existing: bool,
    /// `-W`.
    pub whole_file: bool,
    /// `-n`.
    pub dry_run: bool,
    /// `--inplace` (implied by `--append`).
    pub inplace: bool,
    /// `--append` (1) or `--append-verify` (2, and `--append` below
    /// protocol 30), 0 without either.
    pub append: u8,
    /// `--partial` (or `--partial-dir`).
    pub partial: bool,
    /// `-b`.
    pub backup: bool,
    /// `--backup-dir`, beneath the root.
    pub backup_dir: Option<RelPath>,
    /// `--suffix`.
    pub suffix: Vec<u8>,
    /// `--link-dest`, `--copy-dest`, `--compare-dest`, beneath the root.
    pub alt_dest: Vec<(crate::cli::AltDest, RelPath)>,
    /// `--mkpath`.
    pub mkpath: bool,
    /// `-R`.
    pub relative: bool,
    /// `--no-implied-dirs`: the parents a `-R` client lists without
    /// content are left as they are, and missing ones made plainly.
    pub no_implied_dirs: bool,
    /// `--partial-dir`, relative to each file's directory.
    pub partial_dir: Option<RelPath>,
    /// `--temp-dir`, beneath the root.
    pub temp_dir: Option<RelPath>,
    /// `--delay-updates`: rename every file into place at the end.
    pub delay_updates: bool,
    /// `--min-size`.
    pub min_size: Option<u64>,
    /// `--max-size`.
    pub max_size: Option<u64>,
    /// `-B`.
    pub block_size: Option<u32>,
    /// `--modify-window` (negative: times compare to the nanosecond).
    pub modify_window: i64,
    /// Any `--delete*`.
    pub delete: bool,
    /// When deletions happen.
    pub delete_when: DeleteWhen,
    /// `--delete-delay`: the after-pass is rsync's delayed deletions,
    /// not its `do_delete_pass`.
    pub delete_delay: bool,
    /// `--delete-excluded`.
    pub delete_excluded: bool,
    /// `--fuzzy` count: 1 looks beside a missing file, 2 in the alternate
    /// directories too.
    pub fuzzy: u8,
    /// `--max-delete`.
    pub max_delete: Option<i64>,
    /// `--remove-source-files`: report each finished file.
    pub remove_source_files: bool,
    /// `--numeric-ids`.
    pub numeric_ids: bool,
    /// `--usermap` (a client's `--chown=USER` arrives as `*:USER`).
    pub usermap: Option<crate::flist::NameMap>,
    /// `--groupmap` (`--chown=:GROUP` arrives as `*:GROUP`).
    pub groupmap: Option<crate::flist::NameMap>,
    /// What the maps leave for the client to read: rules dropped for a
    /// name unknown here, which rsync reports and goes on.
    pub map_lines: Vec<String>,
    /// `-munge`/`--munge-links`.
    pub munge_links: bool,
    /// `--safe-links`: symlinks leading outside the transfer are not made.
    pub safe_links: bool,
    /// `--fsync`: each received file is synced before it is put in place.
    pub fsync: bool,
    /// `--sparse`: runs of zeros in a new file become holes.
    pub sparse: bool,
    /// `--force`: a directory with contents in the way of another type
    /// is removed, contents first, without `--delete`.
    pub force: bool,
    /// Running as root (ownership can be set).
    pub am_root: bool,
    /// `--fake-super`: owners, set-id bits and special files are kept in
    /// an attribute instead.
    pub fake_super: bool,
}

/// When the receiver deletes extraneous names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DeleteWhen {
    /// Before the first entry (`--delete-before`; a plain `--delete`
    /// below protocol 30).
    Before,
    /// In each directory as the generator reaches it (`--delete-during`;
    /// a plain `--delete` from protocol 30 on).
    #[default]
    During,
    /// Once every file is in place (`--delete-after`, `--delete-delay`).
    After,
}

impl DeleteWhen {
    /// rsync's choice from the client's options and the protocol.
    pub fn choose(before: bool, during: bool, after: bool, protocol: u32) -> DeleteWhen {
        if after {
            DeleteWhen::After
        } else if before || (!during && protocol < 30) {
            DeleteWhen::Before
        } else {
            DeleteWhen::During
        }
    }
}

/// Everything a receiving session needs besides the connection.
pub struct ReceiverConfig<'a> {
    /// The confined root.
    pub root: &'a Root,
    /// The destination argument, normalized.
    pub dest: Vec<u8>,
    /// Behaviour.
    pub opts: RecvOptions,
    /// File-list encoding.
    pub flist: FlistOptions,
    /// Transfer checksum.
    pub xfer_kind: StrongKind,
    /// `-c` checksum.
    pub file_kind: StrongKind,
    /// Checksum seed.
    pub seed: i32,
    /// MD5 seed order.
    pub proper_seed_order: bool,
    /// Token compression.
    pub compression: Compression,
    /// Names of uid/gid 0 travel in the id lists.
    pub id0_names: bool,
    /// The client's rules, when it sent any (for `--delete` protection).
    pub filter: Option<FilterList>,
    /// Deletion capability (`None` under `-no-del`).
    pub delete: Option<DeletePermit>,
    /// Overwrite capability (`None` under `-no-overwrite`).
    pub overwrite: Option<OverwritePermit>,
    /// What the block sums may reveal (`-wo`, `-blind`).
    pub sums: BlockSums,
    /// What one push may add (`-max-bytes`, `-max-files`).
    pub limits: crate::cli::Limits,
    /// The client's `--log-file`, if one is open.
    pub log: crate::role::log_file::ItemLog<'a>,
}

/// Counters for the audit line.
#[derive(Debug, Default, Clone, Copy)]
pub struct RecvStats {
    /// Files written.
    pub files_received: u64,
    /// Entries deleted.
    pub deleted: u64,
    /// Entries new to the destination.
    pub added: u64,
    /// Existing entries changed (contents or attributes).
    pub changed: u64,
    /// Bytes written into files.
    pub bytes_written: u64,
    /// Bytes read from the client.
    pub bytes_in: u64,
    /// Bytes written to the client.
    pub bytes_out: u64,
    /// rsync's `io_error` bits, which decide the exit code.
    pub io_error: IoErrors,
    /// The size of the files and symlinks in the list (rsync's
    /// `total size`).
    pub total_size: u64,
}

pub(crate) use lists::List;

/// Runs a receiving session after the handshake, over `link`. On failure
/// the client hears `rsync: [receiver] ERROR` and the exit code.
pub async fn run(
    link: &Link,
    cfg: ReceiverConfig<'_>,
    protocol: u32,
) -> Result<RecvStats, crate::error::Error> {
    let out = Outbox::new(link, NdxEncoder::new(protocol));
    cfg.log.line("receiving file list");
    let mut result = receive(link, &cfg, &out, protocol).await;
    if let Ok(st) = result.as_mut() {
        st.bytes_in = link.bytes_in();
        st.bytes_out = link.bytes_out();
        st.io_error = out.io_error();
        let totals = crate::role::log_file::totals(st.bytes_out, st.bytes_in, st.total_size);
        cfg.log.line(&totals);
    }
    // The session tells the client (`rsync: [receiver] ...`, then the
    // exit message), as it does for every role's error.
    result.map_err(crate::error::Error::from)
}

/// The list, the destination, then the generator and receiver together.
async fn receive(
    link: &Link,
    cfg: &ReceiverConfig<'_>,
    out: &Outbox<'_>,
    protocol: u32,
) -> Result<RecvStats, RecvError> {
    let list = lists::receive_first(link, cfg, protocol).await?;
    let mut ndx_in = NdxDecoder::new(protocol);
    if list.is_inc() && list.received().len() == 1 {
        // A lone first entry: its sub-list (or the end) comes at once,
        // before the destination is decided (`recv_additional_file_list`).
        let ndx = link.read("file index", |r| ndx_in.decode(r)).await?;
        recv::flist_record(link, cfg, &list, protocol, ndx)
            .await?
            .map(|_| ())
            .ok_or_else(|| RecvError::Protocol(format!("Invalid dir index: {ndx}")))?;
    }
    let w = Writer::for_session(
        cfg.root,
        cfg.delete.as_ref(),
        cfg.overwrite.as_ref(),
        cfg.limits,
    );
    let dest = dest::resolve(cfg, &w, &list, out)?;
    let mut tokens =
        TokenDecoder::new(cfg.compression).map_err(|e| RecvError::Protocol(e.to_string()))?;
    tokens.set_protocol(protocol);
    let session = recv::Recv {
        cfg,
        w: &w,
        list: &list,
        dest: &dest,
        out,
        link,
        protocol,
        gen: generator::Gen::new(cfg, &w, &list, &dest, out, protocol),
        ndx_in,
        tokens,
        counts: recv::RecvCounts::default(),
        delayed: place::Delayed::new(&w),
        iflags: crate::flist::item::ItemFlags::EMPTY,
    };
    let (counts, deleted, (added, changed)) = session.run().await?;
    Ok(RecvStats {
        files_received: counts.files_received,
        deleted,
        added,
        changed,
        bytes_written: w.quota().bytes(),
        total_size: list.total_size(),
        ..RecvStats::default()
    })
}

#[cfg(test)]
mod machine_tests;
