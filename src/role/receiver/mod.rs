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
mod delete;
mod dest;
mod fake;
mod file;
mod generator;
mod meta;
mod out;
mod recv;
mod requests;

use crate::checksum::StrongKind;
use crate::error::IoErrors;
use crate::filter::FilterList;
use crate::flist::{
    f_name_cmp, FileEntry, FlistDecoder, FlistLimits, FlistOptions, IdListsDecoder, IdNames,
};
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
    /// Most file-list entries accepted (from the memory budget).
    pub max_entries: usize,
    /// Most bytes the client's ACLs and attribute lists may take.
    pub max_meta: u64,
    /// The client itemizes (`--log-format=%i`).
    pub itemize: bool,
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
    /// `--modify-window`.
    pub modify_window: i64,
    /// Any `--delete*`.
    pub delete: bool,
    /// When deletions happen.
    pub delete_when: DeleteWhen,
    /// `--delete-excluded`.
    pub delete_excluded: bool,
    /// `--max-delete`.
    pub max_delete: Option<i64>,
    /// `--remove-source-files`: report each finished file.
    pub remove_source_files: bool,
    /// `--numeric-ids`.
    pub numeric_ids: bool,
    /// `-munge`/`--munge-links`.
    pub munge_links: bool,
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

/// The received, sorted list.
pub(crate) struct List {
    pub(crate) entries: Vec<FileEntry>,
    /// Entries dropped as duplicates.
    pub(crate) active: Vec<bool>,
    /// The first entry of each entry's hard-link group, if it is a follower.
    pub(crate) hlink_leader: Vec<Option<usize>>,
    /// The ACLs and attribute lists the entries refer to; the receiver
    /// fills in long attribute values as they arrive.
    pub(crate) meta: std::cell::RefCell<crate::meta::Tables>,
}

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
    let list = receive_list(link, cfg, protocol).await?;
    let w = Writer::new(cfg.root);
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
        ndx_in: NdxDecoder::new(protocol),
        tokens,
        counts: recv::RecvCounts::default(),
        delayed: file::Delayed::new(&w),
        iflags: crate::flist::item::ItemFlags::EMPTY,
    };
    let (counts, deleted) = session.run().await?;
    let sized = |e: &&FileEntry| e.is_file() || e.kind() == crate::flist::FileKind::Symlink;
    Ok(RecvStats {
        files_received: counts.files_received,
        deleted,
        total_size: list.entries.iter().filter(sized).map(|e| e.size).sum(),
        ..RecvStats::default()
    })
}

/// Reads, validates and sorts the file list (`recv_file_list`), then the
/// id lists (`recv_id_list`) and, before protocol 30, the `io_error` word.
async fn receive_list(
    link: &Link,
    cfg: &ReceiverConfig<'_>,
    protocol: u32,
) -> Result<List, RecvError> {
    let limits = FlistLimits {
        max_entries: cfg.opts.max_entries,
        max_meta: cfg.opts.max_meta,
        ..FlistLimits::default()
    };
    let mut dec = FlistDecoder::new(cfg.flist, limits);
    while link.read("the file list", |r| dec.decode_next(r)).await? {}
    let mut tables = std::mem::take(&mut dec.tables);
    let (entries, _io_error) = dec.finish();
    let mut ids = IdListsDecoder::new(&cfg.flist, cfg.id0_names);
    let (users, groups) = loop {
        if let Some(lists) = link.read("an id list", |r| ids.decode(r)).await? {
            break lists;
        }
    };
    if protocol < 30 {
        let _io_error = link.read("the io_error word", |r| r.i32()).await?;
    }
    if !cfg.opts.numeric_ids {
        let names = IdNames::system();
        tables.map_acl_ids(&|id| map_one(&users, id, &|n| names.user_id(n)), &|id| {
            map_one(&groups, id, &|n| names.group_id(n))
        });
    }
    let mut list = sort_list(entries, &users, &groups, cfg, protocol);
    list.meta = std::cell::RefCell::new(tables);
    Ok(list)
}

/// The local id for the client's `id`, by the name the client gave it.
fn map_one(list: &[(u32, Vec<u8>)], id: u32, lookup: &dyn Fn(&[u8]) -> Option<u32>) -> u32 {
    list.iter()
        .find(|(i, _)| *i == id)
        .and_then(|(_, n)| lookup(n))
        .unwrap_or(id)
}

/// Maps the ids, sorts the list, marks duplicates and hard-link leaders.
fn sort_list(
    mut entries: Vec<FileEntry>,
    users: &[(u32, Vec<u8>)],
    groups: &[(u32, Vec<u8>)],
    cfg: &ReceiverConfig<'_>,
    protocol: u32,
) -> List {
    map_ids(&mut entries, users, groups, &cfg.opts);
    // Remember each entry's received position: hard-link references use it.
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by(|&a, &b| match (entries.get(a), entries.get(b)) {
        (Some(x), Some(y)) => f_name_cmp(x, y, protocol),
        _ => std::cmp::Ordering::Equal,
    });
    let mut pos_of = vec![0usize; entries.len()];
    for (sorted, &orig) in order.iter().enumerate() {
        if let Some(p) = pos_of.get_mut(orig) {
            *p = sorted;
        }
    }
    let mut slots: Vec<Option<FileEntry>> = entries.into_iter().map(Some).collect();
    let sorted: Vec<FileEntry> = order
        .iter()
        .filter_map(|&i| slots.get_mut(i).and_then(Option::take))
        .collect();
    let mut active = vec![true; sorted.len()];
    for i in 1..sorted.len() {
        if let (Some(a), Some(b)) = (sorted.get(i - 1), sorted.get(i)) {
            if a.name == b.name {
                if let Some(x) = active.get_mut(i) {
                    *x = false;
                }
            }
        }
    }
    let hlink_leader = hard_link_leaders(&sorted, &pos_of, protocol, cfg.opts.hard_links);
    List {
        entries: sorted,
        active,
        hlink_leader,
        meta: Default::default(),
    }
}

/// Maps the sender's ids to ours by name (root only for users, as rsync).
fn map_ids(
    entries: &mut [FileEntry],
    users: &[(u32, Vec<u8>)],
    groups: &[(u32, Vec<u8>)],
    o: &RecvOptions,
) {
    if o.numeric_ids || (users.is_empty() && groups.is_empty()) {
        return;
    }
    let names = IdNames::system();
    let map = map_one;
    for e in entries {
        if o.owner && (o.am_root || o.fake_super) {
            e.uid = map(users, e.uid, &|n| names.user_id(n));
        }
        if o.group {
            e.gid = map(groups, e.gid, &|n| names.group_id(n));
        }
    }
}

/// For each follower of a hard-link group, the sorted index of its leader
/// (the first member in sorted order).
fn hard_link_leaders(
    sorted: &[FileEntry],
    pos_of: &[usize],
    protocol: u32,
    on: bool,
) -> Vec<Option<usize>> {
    let mut out = vec![None; sorted.len()];
    if !on {
        return out;
    }
    // Group members by their link identity; rsync transfers the last
    // member in sorted order and links the others to it.
    let mut last: std::collections::HashMap<(u64, u64), usize> = std::collections::HashMap::new();
    let keys: Vec<Option<(u64, u64)>> = sorted
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let key = if protocol >= 30 {
                match e.hlink_first {
                    Some(f) => pos_of.get(f as usize).map(|&p| (0, p as u64)),
                    None => e.hlink.map(|_| (0, i as u64)),
                }
            } else {
                e.hlink
            };
            key.filter(|_| e.is_file())
        })
        .collect();
    for (i, k) in keys.iter().enumerate() {
        if let Some(k) = k {
            last.insert(*k, i);
        }
    }
    for (i, k) in keys.iter().enumerate() {
        if let Some(&l) = k.as_ref().and_then(|k| last.get(k)) {
            if l != i {
                if let Some(slot) = out.get_mut(i) {
                    *slot = Some(l);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod machine_tests;
