//! From the client's options to what each part of the session acts on:
//! the walk, the file list's encoding, the receiver's options (rsync's
//! `options.c` `server_options()` read back on the server's side), and
//! the memory budget (`--max-alloc`).

use crate::checksum::StrongKind;
use crate::cli::Options;
use crate::flist::{FlistOptions, NameMap};
use crate::fs::Root;
use crate::proto::{self, CompatFlags};
use crate::role::receiver::{DeleteWhen, RecvOptions};
use crate::role::sender::{self, WalkOptions};

/// Memory budget for a session's file list when the client sets no
/// `--max-alloc` (rsync's default is also 1 GiB).
pub const DEFAULT_MAX_ALLOC: u64 = 1 << 30;

/// Most file-list entries a budget allows: about 1 KiB per entry covers
/// the entry, its name and the copies made while sorting.
pub fn max_entries(o: &Options) -> usize {
    let budget = o.max_alloc.unwrap_or(DEFAULT_MAX_ALLOC);
    usize::try_from(budget / 1024)
        .unwrap_or(usize::MAX)
        .clamp(1_000, 50_000_000)
}

/// Most file-list entries a receiver holds at once under incremental
/// recursion: what the budget allows, and never fewer than the default
/// budget does. rsync's `--max-alloc` bounds each allocation, so with a
/// small one a tree of any size still passes, the client's look-ahead
/// of about a thousand files held beside each sub-list; what this stops
/// is a client that sends sub-lists far ahead of the transfer.
pub fn max_held(o: &Options) -> usize {
    let default = usize::try_from(DEFAULT_MAX_ALLOC / 1024).unwrap_or(usize::MAX);
    max_entries(o).max(default)
}

/// Most bytes the ACLs and attribute lists a client sends may take: half
/// the budget, the file list's entries having the other half.
pub fn max_meta(o: &Options) -> u64 {
    o.max_alloc.unwrap_or(DEFAULT_MAX_ALLOC) / 2
}

pub(super) fn walk_options(o: &Options) -> WalkOptions {
    let files_from = o.files_from.is_some();
    WalkOptions {
        recursive: o.recursive,
        dirs: o.dirs || o.list_only || files_from,
        relative: o.relative || files_from,
        implied_dirs: o.implied_dirs,
        links: o.links,
        devices: o.devices,
        specials: o.specials,
        one_file_system: o.one_file_system > 0,
        hard_links: o.hard_links > 0,
        hlink_every_file: false,
        max_entries: max_entries(o),
        munge_links: o.munge_links,
        ignore_missing_args: o.ignore_missing_args,
        fake_super: o.fake_super,
        divert: false,
    }
}

pub(super) fn flist_options(
    o: &Options,
    hs: &proto::Negotiated,
    file_kind: StrongKind,
) -> FlistOptions {
    let p = hs.protocol;
    FlistOptions {
        protocol: p,
        varint_flags: hs.compat.contains(CompatFlags::VARINT_FLIST_FLAGS),
        preserve_uid: o.owner,
        preserve_gid: o.group,
        preserve_links: o.links,
        preserve_devices: o.devices,
        preserve_specials: o.specials,
        preserve_hard_links: o.hard_links > 0,
        checksum_len: o.checksum.then(|| file_kind.digest_len()),
        numeric_ids: o.numeric_ids,
        inc_recurse: hs.compat.contains(CompatFlags::INC_RECURSE),
        safe_flist: hs.compat.contains(CompatFlags::SAFE_FLIST) || p >= 31,
        preserve_atimes: o.atimes > 0,
        meta: crate::meta::MetaOpts {
            acls: o.acls,
            xattrs: o.xattrs,
            optim: p >= 31 && !hs.compat.contains(CompatFlags::AVOID_XATTR_OPTIM),
            fake_super: o.fake_super,
        },
    }
}

pub(super) fn files_from(o: &Options) -> Option<Option<Vec<u8>>> {
    o.files_from.as_ref().map(|f| {
        if f == "-" {
            None
        } else {
            Some(f.as_bytes().to_vec())
        }
    })
}

/// The client's rules as the sender's walk consults them. A per-directory
/// merge file that cannot be loaded excludes everything beneath it rather
/// than silently widening the transfer.
pub(super) struct SenderFilter(pub(super) crate::filter::FilterStack);

impl sender::Exclude for SenderFilter {
    fn excluded(&mut self, path: &[u8], is_dir: bool) -> bool {
        self.0.is_poisoned() || self.0.check(path, is_dir).is_excluded()
    }

    fn excludes_nothing(&self) -> bool {
        !self.0.is_poisoned() && self.0.list().is_empty()
    }

    fn enter_dir(&mut self, path: &[u8], read: &mut dyn FnMut(&[u8]) -> Option<Vec<u8>>) {
        let _ = self.0.enter_dir(path, read);
    }

    fn leave_dir(&mut self) {
        self.0.leave_dir();
    }

    fn skipped_rules(&self) -> usize {
        self.0.list().skipped_rules()
    }
}

fn rel(s: &str) -> Result<crate::fs::RelPath, String> {
    crate::fs::RelPath::new(s.as_bytes()).map_err(|e| format!("invalid directory argument: {e}"))
}

pub(super) fn recv_options(
    o: &Options,
    delete_mode: bool,
    protocol: u32,
) -> Result<RecvOptions, String> {
    let alt_dest = o
        .alt_dest
        .iter()
        .map(|(k, d)| rel(d).map(|p| (*k, p)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut map_lines = Vec::new();
    let usermap = name_map(o.usermap.as_deref(), true, &mut map_lines)?;
    let groupmap = name_map(o.groupmap.as_deref(), false, &mut map_lines)?;
    Ok(RecvOptions {
        verbose: o.verbose,
        quiet: o.quiet,
        max_entries: max_entries(o),
        max_held: max_held(o),
        max_meta: max_meta(o),
        noatime: o.open_noatime || o.atimes > 1,
        itemize: o.log_format.as_deref().is_some_and(|f| f.contains("%i")),
        itemize_all: o.verbose >= 2 || o.log_format.as_deref().is_some_and(|f| f.contains("%I")),
        perms: o.perms,
        executability: o.executability,
        times: o.times,
        atimes: o.atimes > 0,
        // `--backup` without `--backup-dir` implies `-O`: a directory's
        // time would move as each backup lands in it (rsync's options.c).
        omit_dir_times: o.omit_dir_times || (o.backup && o.backup_dir.is_none()),
        omit_link_times: o.omit_link_times,
        owner: o.owner,
        group: o.group,
        links: o.links,
        hard_links: o.hard_links > 0,
        checksum: o.checksum,
        ignore_times: o.ignore_times,
        size_only: o.size_only,
        update: o.update,
        ignore_existing: o.ignore_existing,
        existing: o.existing,
        whole_file: o.whole_file == Some(true),
        dry_run: o.dry_run,
        inplace: o.inplace || o.append > 0,
        append: append_mode(o.append, protocol),
        partial: o.partial || o.partial_dir.is_some(),
        backup: o.backup,
        backup_dir: o.backup_dir.as_deref().map(rel).transpose()?,
        suffix: o.suffix.clone().unwrap_or_default().into_bytes(),
        alt_dest,
        mkpath: o.mkpath,
        relative: o.relative,
        no_implied_dirs: !o.implied_dirs,
        temp_dir: o.temp_dir.as_deref().map(rel).transpose()?,
        partial_dir: o.partial_dir.as_deref().map(rel).transpose()?,
        delay_updates: o.delay_updates,
        min_size: o.min_size,
        max_size: o.max_size,
        block_size: o.block_size,
        modify_window: i64::from(o.modify_window.unwrap_or(0)),
        delete: delete_mode,
        delete_when: DeleteWhen::choose(
            o.delete_before,
            o.delete_during,
            o.delete_after || o.delete_delay,
            protocol,
        ),
        delete_delay: o.delete_delay && !o.delete_after,
        delete_excluded: o.delete_excluded,
        fuzzy: o.fuzzy,
        max_delete: o.max_delete,
        remove_source_files: o.remove_source_files,
        numeric_ids: o.numeric_ids,
        usermap,
        groupmap,
        map_lines,
        munge_links: o.munge_links,
        safe_links: o.safe_links,
        fsync: o.fsync,
        sparse: o.sparse,
        force: o.force,
        am_root: rustix::process::geteuid().is_root(),
        fake_super: o.fake_super,
    })
}

/// `--usermap` or `--groupmap` parsed as rsync's receiver parses it
/// (`parse_name_map`): a malformed one ends the session (code 1).
fn name_map(
    text: Option<&str>,
    users: bool,
    lines: &mut Vec<String>,
) -> Result<Option<NameMap>, String> {
    let Some(text) = text else {
        return Ok(None);
    };
    let (map, dropped) = NameMap::parse(text, users, crate::flist::IdNames::system())?;
    lines.extend(dropped);
    Ok(Some(map))
}

/// The effective `--append` mode: 1 for `--append`, 2 for
/// `--append-verify` (the client repeats `--append`), and as in rsync's
/// `setup_protocol` a plain `--append` verifies below protocol 30.
pub(crate) fn append_mode(count: u8, protocol: u32) -> u8 {
    match count {
        0 => 0,
        1 if protocol >= 30 => 1,
        _ => 2,
    }
}

/// Whether the seed goes before the data in MD5 block sums. rsync's
/// built-in MD5 puts it first only with `CF_CHKSUM_SEED_FIX`, but an MD5
/// chosen by name goes through OpenSSL in the distributions' builds, which
/// always put it first (`get_checksum2` in `checksum.c`).
pub(super) fn seed_first(hs: &proto::Negotiated) -> bool {
    hs.compat.contains(CompatFlags::CHKSUM_SEED_FIX) || hs.xfer_checksum.as_deref() == Some("md5")
}

/// `--temp-dir` must name an existing directory, checked before anything
/// is transferred as rsync's `do_recv` does.
pub(super) fn check_temp_dir(root: &Root, o: RecvOptions) -> Result<RecvOptions, String> {
    if let Some(t) = &o.temp_dir {
        if !root.stat(t).is_ok_and(|m| m.is_dir()) {
            return Err(format!(
                "The temp-dir does not exist or is not a directory: {t}"
            ));
        }
    }
    Ok(o)
}
