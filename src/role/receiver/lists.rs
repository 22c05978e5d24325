//! The received file lists (`recv_file_list` in `flist.c`, `flist_new`,
//! `flist_for_ndx` in `rsync.c`), protocols 27 to 32.
//!
//! Without incremental recursion there is one list, indexed from 0, and
//! the uid/gid lists (and before protocol 30 the `io_error` word) follow
//! it. With it (CF_INC_RECURSE, protocol 30+), the first list starts at
//! index 1 and no id lists follow (names come inline); each sub-list
//! arrives between file requests after `NDX_FLIST_OFFSET - dir_ndx`, and
//! starts one index after the previous list's end, so that the index
//! before it names its parent directory. Here every list lives in one
//! table indexed by the wire index: that gap slot holds a copy of the
//! parent directory's entry, which the generator handles in full there,
//! as rsync does through `ndx_start - 1`.
//!
//! A sub-list is checked as rsync checks it since CVE-2024-12087: the
//! directory index must name a directory received so far, each directory
//! gets at most one sub-list, none comes after every list was freed, and
//! each entry must lie directly in that directory.

use std::cell::RefCell;
use std::rc::Rc;

use crate::flist::{FileEntry, FlistDecoder, FlistLimits, IdListsDecoder, InlineName};
use crate::role::Link;

use super::owners::Owners;
use super::sort::{drop_singletons, sort_one};
use super::table::{Row, Table};
use super::{ReceiverConfig, RecvError};

/// One list's place in the index space.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Seg {
    /// The wire index of its first entry (`ndx_start`).
    pub(crate) start: usize,
    /// One past its last entry.
    pub(crate) end: usize,
}

/// Incremental-recursion state shared by the receiver and generator.
#[derive(Debug, Default)]
pub(crate) struct Inc {
    /// rsync's `dir_flist`: the wire index of every directory received,
    /// each list's directories sorted and appended, and whether its
    /// sub-list came.
    dirs: Vec<(usize, bool)>,
    /// Every list received, in order.
    pub(crate) segs: Vec<Seg>,
    /// The client sent `NDX_FLIST_EOF`.
    pub(crate) eof: bool,
    /// Lists the receiver freed (one per `NDX_DONE` in phase 0).
    pub(crate) freed: usize,
    /// Lists the generator finished (its `NDX_DONE` sent).
    finished: usize,
    /// The access and default ACLs whose ids are mapped.
    acls_mapped: (usize, usize),
    /// The ids met so far and what each became (made with the first
    /// list).
    owners: Option<Owners>,
    /// The hard-link groups begun so far, by number: a later list may
    /// only continue one of them.
    begun: std::collections::HashSet<u32>,
}

/// The received lists, sorted, indexed by wire index.
pub(crate) struct List {
    pub(crate) entries: Entries,
    /// The ACLs and attribute lists the entries refer to; the receiver
    /// fills in long attribute values as they arrive.
    pub(crate) meta: RefCell<crate::meta::Tables>,
    /// Present under incremental recursion.
    pub(crate) inc: Option<RefCell<Inc>>,
    /// The decoder, kept for the sub-lists (the previous entry's values
    /// carry over).
    dec: RefCell<Option<FlistDecoder>>,
    /// The sizes of the files and symlinks received, summed.
    total_size: std::cell::Cell<u64>,
}

/// The entries by wire index (see [`Table`]).
#[derive(Default)]
pub(crate) struct Entries(RefCell<Table>);

impl Entries {
    /// The entry at wire index `i`, while its list lives.
    pub(crate) fn get(&self, i: usize) -> Option<Rc<FileEntry>> {
        self.0.borrow().get(i)
    }

    /// One past the last index received.
    pub(crate) fn len(&self) -> usize {
        self.0.borrow().len()
    }

    /// How many entries are held: those of lists not yet freed, and the
    /// directories kept past their list.
    pub(crate) fn held(&self) -> usize {
        self.0.borrow().held()
    }

    fn with<T>(&self, i: usize, f: impl FnOnce(&Row) -> T) -> Option<T> {
        self.0.borrow().row(i).map(f)
    }
}

impl List {
    fn new(inc: bool) -> Self {
        List {
            entries: Entries::default(),
            meta: RefCell::new(crate::meta::Tables::default()),
            inc: inc.then(|| RefCell::new(Inc::default())),
            dec: RefCell::new(None),
            total_size: std::cell::Cell::new(0),
        }
    }

    /// The sizes of every file and symlink received, summed (rsync's
    /// total size).
    pub(crate) fn total_size(&self) -> u64 {
        self.total_size.get()
    }

    /// Whether entry `i` is one to act on.
    pub(crate) fn active(&self, i: usize) -> bool {
        self.entries.with(i, |r| r.active) == Some(true)
    }

    /// Whether `i` is the slot naming a sub-list's parent directory.
    pub(crate) fn is_slot(&self, i: usize) -> bool {
        self.entries.with(i, |r| r.slot) == Some(true)
    }

    /// The hard-link group of entry `i`, if it is linked (`-H`).
    pub(crate) fn group(&self, i: usize) -> Option<u32> {
        self.entries.with(i, |r| r.group).flatten()
    }

    /// Whether incremental recursion is on.
    pub(crate) fn is_inc(&self) -> bool {
        self.inc.is_some()
    }

    /// The live entries received (slots left out).
    pub(crate) fn received(&self) -> Vec<Rc<FileEntry>> {
        let t = self.entries.0.borrow();
        t.live()
            .filter(|(_, r)| !r.slot)
            .map(|(_, r)| Rc::clone(&r.e))
            .collect()
    }

    /// The first entry received.
    pub(crate) fn first_entry(&self) -> Option<Rc<FileEntry>> {
        let t = self.entries.0.borrow();
        let first = t.live().find(|(_, r)| !r.slot);
        first.map(|(_, r)| Rc::clone(&r.e))
    }

    /// Whether `i` is an index the client may name now: an active entry
    /// (or slot) of a list the receiver has not freed.
    pub(crate) fn valid_ndx(&self, i: usize) -> bool {
        if !self.active(i) {
            return false;
        }
        let Some(inc) = &self.inc else {
            return true;
        };
        let inc = inc.borrow();
        inc.segs
            .get(inc.freed..)
            .is_some_and(|live| live.iter().any(|s| i + 1 >= s.start && i < s.end))
    }

    /// The receiver freed its oldest list (the client's `NDX_DONE` in
    /// phase 0); returns whether lists remain.
    pub(crate) fn receiver_freed(&self) -> bool {
        let Some(inc) = &self.inc else {
            return false;
        };
        let more = {
            let mut inc = inc.borrow_mut();
            if inc.freed >= inc.segs.len() {
                return false;
            }
            inc.freed += 1;
            inc.freed < inc.segs.len()
        };
        self.release();
        more
    }

    /// The generator finished its oldest list.
    pub(crate) fn generator_finished(&self) {
        if let Some(inc) = &self.inc {
            inc.borrow_mut().finished += 1;
        }
        self.release();
    }

    /// The first index of a list not yet freed by both sides.
    pub(crate) fn live_start(&self) -> usize {
        self.entries.0.borrow().base()
    }

    /// Drops the rows of every list both sides are done with.
    fn release(&self) {
        let Some(inc) = &self.inc else {
            return;
        };
        let inc = inc.borrow();
        let n = inc.freed.min(inc.finished);
        if let Some(s) = n.checked_sub(1).and_then(|k| inc.segs.get(k)) {
            self.entries.0.borrow_mut().free_below(s.end);
        }
    }

    /// Moves `entries` into allocations of their own, reusing those of
    /// freed rows (see [`Table::wrap`]): sorting then moves pointers.
    fn hold(&self, entries: impl Iterator<Item = FileEntry>) -> Vec<Rc<FileEntry>> {
        let mut table = self.entries.0.borrow_mut();
        entries.map(|e| table.wrap(e)).collect()
    }

    fn push(&self, e: Rc<FileEntry>, active: bool, slot: bool, group: Option<u32>) {
        if !slot && (e.is_file() || e.kind() == crate::flist::FileKind::Symlink) {
            self.total_size
                .set(self.total_size.get().saturating_add(e.size));
        }
        self.entries.0.borrow_mut().push(Row {
            e,
            active,
            slot,
            group,
            keep: false,
        });
    }
}

/// Reads, validates and sorts the first list (`recv_file_list`), then,
/// without incremental recursion, the id lists (`recv_id_list`) and
/// before protocol 30 the `io_error` word.
pub(crate) async fn receive_first(
    link: &Link,
    cfg: &ReceiverConfig<'_>,
    protocol: u32,
) -> Result<List, RecvError> {
    let limits = FlistLimits {
        max_entries: cfg.opts.max_entries,
        max_held: cfg.opts.max_held,
        max_meta: cfg.opts.max_meta,
        ..FlistLimits::default()
    };
    for line in &cfg.opts.map_lines {
        link.error_going_on(line);
    }
    let inc = cfg.flist.inc_recurse;
    let mut dec = FlistDecoder::new(cfg.flist, limits);
    if inc {
        dec.set_start(1);
    }
    while link.read("the file list", |r| dec.decode_next(r)).await? {}
    let mut tables = std::mem::take(&mut dec.tables);
    let (entries, names) = dec.next_list(0);
    let list = List::new(inc);
    if inc {
        *list.dec.borrow_mut() = Some(dec);
        *list.meta.borrow_mut() = tables;
        append(&list, cfg, protocol, entries, names, None)?;
        return Ok(list);
    }
    let mut ids = IdListsDecoder::new(&cfg.flist, cfg.id0_names);
    let (users, groups) = loop {
        if let Some(lists) = link.read("an id list", |r| ids.decode(r)).await? {
            break lists;
        }
    };
    if protocol < 30 {
        let _io_error = link.read("the io_error word", |r| r.i32()).await?;
    }
    let mut owners = Owners::new(&cfg.opts, cfg.id0_names, false);
    owners.learn_lists(users, groups);
    owners.map_acls(&mut tables, (0, 0));
    *list.meta.borrow_mut() = tables;
    let mut entries = entries;
    owners.map_entries(&mut entries);
    let mut held = list.hold(entries.into_iter());
    let mut marks = sort_one(&mut held, protocol, cfg.opts.hard_links, 0);
    drop_singletons(&mut marks.groups);
    let marked = marks.active.into_iter().zip(marks.groups);
    for (e, (active, group)) in held.into_iter().zip(marked) {
        list.push(e, active, false, group);
    }
    Ok(list)
}

/// A sub-list header names directory `dir_ndx`: checks it as rsync does
/// (CVE-2024-12087) and returns the parent's wire index.
pub(crate) fn check_header(list: &List, dir_ndx: i64) -> Result<usize, RecvError> {
    let Some(inc) = &list.inc else {
        return Err(RecvError::Protocol(format!(
            "Invalid file index: {} (not incremental)",
            crate::wire::NDX_FLIST_OFFSET as i64 - dir_ndx
        )));
    };
    let mut inc = inc.borrow_mut();
    if inc.freed >= inc.segs.len() {
        return Err(RecvError::Protocol(
            "rsync: refusing sub-flist after final flist was freed".into(),
        ));
    }
    let used = inc.dirs.len();
    let slot = usize::try_from(dir_ndx)
        .ok()
        .and_then(|d| inc.dirs.get_mut(d));
    let Some((ndx, got)) = slot else {
        return Err(RecvError::Protocol(format!(
            "Invalid dir index: {} ({} - {})",
            crate::wire::NDX_FLIST_OFFSET as i64 - dir_ndx,
            crate::wire::NDX_FLIST_OFFSET,
            crate::wire::NDX_FLIST_OFFSET as i64 - used as i64 + 1
        )));
    };
    if *got {
        return Err(RecvError::Protocol(format!(
            "rsync: refusing malicious duplicate flist for dir {dir_ndx}"
        )));
    }
    *got = true;
    let ndx = *ndx;
    if !list.active(ndx) {
        return Err(RecvError::Protocol(format!(
            "rsync: refusing flist for cleared dir_ndx {dir_ndx}"
        )));
    }
    Ok(ndx)
}

/// Reads the sub-list of the directory at wire index `parent` (after
/// [`check_header`]) with `read`, which decodes one step at a time.
pub(crate) fn decoder(list: &List) -> Option<FlistDecoder> {
    let mut d = list.dec.borrow_mut().take()?;
    d.tables = std::mem::take(&mut *list.meta.borrow_mut());
    d.set_start(u32::try_from(list.entries.len() + 1).unwrap_or(u32::MAX));
    // The ceiling on entries held at once counts the lists not yet
    // freed, not every list received.
    d.set_held(list.entries.held());
    Some(d)
}

/// Files a sub-list decoded with the [`decoder`]: checks every entry
/// lies in `parent`, sorts it and appends it with its parent slot.
/// Returns the new list's index range.
pub(crate) fn finish_sub(
    list: &List,
    cfg: &ReceiverConfig<'_>,
    protocol: u32,
    mut dec: FlistDecoder,
    parent: usize,
) -> Result<Seg, RecvError> {
    *list.meta.borrow_mut() = std::mem::take(&mut dec.tables);
    let (entries, names) = dec.next_list(0);
    *list.dec.borrow_mut() = Some(dec);
    let pname = list.entries.get(parent).map(|e| e.name.clone());
    let Some(pname) = pname else {
        return Err(RecvError::Protocol("invalid parent directory".into()));
    };
    for e in &entries {
        let dn = e.dirname().unwrap_or(b"");
        if dn != pname.as_slice() {
            return Err(RecvError::Protocol(format!(
                "ABORTING due to invalid path from sender: {}",
                String::from_utf8_lossy(&e.name)
            )));
        }
    }
    append(list, cfg, protocol, entries, names, Some(parent))
}

/// Appends one list (incremental recursion): its parent slot, then its
/// sorted entries; its directories join the directory table.
fn append(
    list: &List,
    cfg: &ReceiverConfig<'_>,
    protocol: u32,
    mut entries: Vec<FileEntry>,
    names: Vec<InlineName>,
    parent: Option<usize>,
) -> Result<Seg, RecvError> {
    let Some(inc) = &list.inc else {
        return Err(RecvError::Protocol("not incremental".into()));
    };
    let mut inc = inc.borrow_mut();
    map_new_owners(list, &mut inc, cfg, &names, &mut entries);
    let start = list.entries.len() + 1;
    for e in &entries {
        // A follower of a group from an earlier list: that list must
        // have begun the group (`match_gnums`).
        let first = e.hlink_first.map(|f| f as usize).filter(|&f| f < start);
        if let Some(f) = first.filter(|&f| !inc.begun.contains(&(f as u32))) {
            return Err(RecvError::Protocol(format!(
                "hard-link gnum {f} precedes flist start {start}"
            )));
        }
    }
    let mut held = list.hold(entries.drain(..));
    let marks = sort_one(&mut held, protocol, cfg.opts.hard_links, start);
    let first_is_dot = held.first().is_some_and(|e| e.name == b"." && e.is_dir());
    // The slot before the list: its parent, or for the first list the
    // top directory `.` when the list starts with it. A copy of its own,
    // so that the original's allocation is reused once freed.
    let slot = match parent {
        Some(p) => list.entries.get(p).map(|e| FileEntry::clone(&e)),
        None if first_is_dot => held.first().map(|e| FileEntry::clone(e)),
        None => None,
    };
    // Without a parent the slot stays empty: inactive, and no entry.
    let has_slot = slot.is_some();
    let slot = slot.unwrap_or_else(|| FileEntry::new(b".".to_vec(), 0o040755));
    let slot = list.entries.0.borrow_mut().wrap(slot);
    list.push(slot, has_slot, true, None);
    let mut dirs = Vec::new();
    let mut table = list.entries.0.borrow_mut();
    if let Some(p) = parent {
        // Its sub-list came: the slot holds its entry from now on.
        table.unkeep(p);
    }
    drop(table);
    let marked = marks.active.into_iter().zip(marks.groups);
    for (e, (active, group)) in held.into_iter().zip(marked) {
        let ndx = list.entries.len();
        if e.is_dir() {
            dirs.push(ndx);
        }
        if let Some(g) = group {
            inc.begun.insert(g);
        }
        list.push(e, active, false, group);
    }
    for &d in &dirs {
        list.entries.0.borrow_mut().keep(d);
    }
    if let Some(dec) = list.dec.borrow_mut().as_mut() {
        // The next list decodes into the same allocations.
        dec.recycle(entries);
        dec.recycle_names(list.entries.0.borrow_mut().take_names());
    }
    inc.dirs.extend(dirs.into_iter().map(|d| (d, false)));
    let seg = Seg {
        start,
        end: list.entries.len(),
    };
    inc.segs.push(seg);
    Ok(seg)
}

/// Maps the owners of a new list's entries and of the ACLs it brought,
/// by the names sent with them (and those met before).
fn map_new_owners(
    list: &List,
    inc: &mut Inc,
    cfg: &ReceiverConfig<'_>,
    names: &[InlineName],
    entries: &mut [FileEntry],
) {
    let owners = inc
        .owners
        .get_or_insert_with(|| Owners::new(&cfg.opts, cfg.id0_names, true));
    names.iter().for_each(|n| owners.learn_inline(n));
    owners.map_entries(entries);
    let mut meta = list.meta.borrow_mut();
    for n in std::mem::take(&mut meta.acl_names) {
        owners.learn_acl(&n);
    }
    owners.map_acls(&mut meta, inc.acls_mapped);
    inc.acls_mapped = (meta.acc.len(), meta.def.len());
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#[path = "lists_tests.rs"]
mod tests;
