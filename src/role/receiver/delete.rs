//! Deleting extraneous files (`delete_in_dir` and `delete_item` in
//! `delete.c`/`generator.c`). Only reachable with a
//! [`crate::policy::DeletePermit`]; confined to the directories whose
//! contents the client sent, and files the client's filter rules protect
//! (or exclude, without `--delete-excluded`) are kept, in the directories
//! being deleted too ([`DelFilter`]): such a directory stays, with rsync's
//! "cannot delete non-empty directory" line.
//!
//! When, as rsync decides it: `--delete-before` (and a plain `--delete`
//! below protocol 30) deletes everything before the first entry;
//! `--delete-during` (a plain `--delete` from protocol 30 on) deletes in
//! each directory as the generator reaches it, after the directory's own
//! entry is itemized; `--delete-after` and `--delete-delay` at the end.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use super::del_filter::DelFilter;
use super::dest::Dest;
use super::out::Outbox;
use super::{List, ReceiverConfig, RecvError};
use crate::flist::FileEntry;
use crate::fs::{RelPath, Writer};
use crate::policy::DeletePermit;
use crate::wire::MsgCode;

/// What became of an entry [`Deleter::remove_tree`] was asked to remove.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gone {
    /// Removed (or already missing).
    Removed,
    /// Left in place: `--max-delete`, or the removal failed.
    Kept,
    /// A directory the rules keep something in.
    NotEmpty,
}

/// Deletion state for one session.
pub(crate) struct Deleter<'a, 'c> {
    cfg: &'a ReceiverConfig<'c>,
    w: &'a Writer<'c>,
    dest: &'a Dest,
    permit: &'a DeletePermit,
    count: u64,
    skipped: u64,
    /// The client's rules, with the destination's merge files.
    filter: DelFilter,
    /// The entries the list has in each directory, until it is visited.
    children: HashMap<Vec<u8>, Vec<Rc<FileEntry>>>,
    /// `--delete-delay` under incremental recursion: the names found
    /// extraneous as the walk passed their directories, removed at the
    /// end (rsync keeps them in a temporary file).
    delayed: Option<Vec<Vec<u8>>>,
    /// The client was told that a merge file was not read.
    warned_unread: bool,
}

impl<'a, 'c> Deleter<'a, 'c> {
    /// A deleter; holding `permit` is what allows it to exist, and the
    /// writer asks for it on every removal.
    pub(crate) fn new(
        cfg: &'a ReceiverConfig<'c>,
        w: &'a Writer<'c>,
        list: &'a List,
        dest: &'a Dest,
        permit: &'a DeletePermit,
    ) -> Self {
        let mut d = Self::for_room(cfg, w, dest, permit);
        d.add(list.received().into_iter());
        d
    }

    /// A deleter that only makes room for entries ([`Self::remove_one`]):
    /// it knows nothing of the list, which only the directory passes of
    /// `--delete` compare with.
    pub(crate) fn for_room(
        cfg: &'a ReceiverConfig<'c>,
        w: &'a Writer<'c>,
        dest: &'a Dest,
        permit: &'a DeletePermit,
    ) -> Self {
        Self {
            cfg,
            w,
            dest,
            permit,
            count: 0,
            skipped: 0,
            filter: DelFilter::new(cfg.filter.as_ref(), cfg.opts.delete_excluded, cfg.sums),
            children: HashMap::new(),
            delayed: None,
            warned_unread: false,
        }
    }

    /// Entries of a list that just arrived join their directories' names.
    pub(crate) fn add(&mut self, entries: impl Iterator<Item = Rc<FileEntry>>) {
        for e in entries.filter(|e| e.name != b".") {
            let parent = e.dirname().unwrap_or(b".");
            match self.children.get_mut(parent) {
                Some(v) => v.push(e),
                None => {
                    let key = parent.to_vec();
                    self.children.insert(key, vec![e]);
                }
            }
        }
    }

    /// Entries deleted so far.
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    /// Deletes in the directory `e`, if its contents were sent, the names
    /// the list does not have (`--delete-during`, as the walk reaches it).
    pub(crate) fn delete_dir(&mut self, e: &FileEntry, out: &Outbox<'_>) -> Result<(), RecvError> {
        if !(e.is_dir() && e.flags.content_dir) {
            return Ok(());
        }
        // Each directory is visited once: its set of names is handed over.
        let listed = self.children.remove(e.name.as_slice()).unwrap_or_default();
        let keep: HashSet<&[u8]> = listed.iter().map(|c| c.basename()).collect();
        self.delete_in_dir(&e.name, &keep, out)
    }

    /// `--delete-delay` under incremental recursion: notes what
    /// [`Self::delete_dir`] would delete in `e`, for [`Self::delete_delayed`].
    pub(crate) fn delay_dir(&mut self, e: &FileEntry, out: &Outbox<'_>) -> Result<(), RecvError> {
        self.delayed.get_or_insert_with(Vec::new);
        self.delete_dir(e, out)
    }

    /// Deletes what [`Self::delay_dir`] noted, in the order found.
    pub(crate) fn delete_delayed(&mut self, out: &Outbox<'_>) -> Result<(), RecvError> {
        for wire in self.delayed.take().unwrap_or_default() {
            if let Ok(p) = self.dest.path_of(&wire) {
                self.remove_tree(&p, &wire, out, false)?;
            }
        }
        Ok(())
    }

    /// After the last deletion: the `--max-delete` warning, if it cut in.
    pub(crate) fn finish(&mut self, out: &Outbox<'_>) {
        if self.skipped > 0 {
            let n = self.skipped;
            out.warning(&format!(
                "Deletions stopped due to --max-delete limit ({n} skipped)"
            ));
            out.add_io_error(crate::error::IoErrors::DEL_LIMIT);
        }
    }

    fn delete_in_dir(
        &mut self,
        dir: &[u8],
        keep: &HashSet<&[u8]>,
        out: &Outbox<'_>,
    ) -> Result<(), RecvError> {
        let Ok(path) = self.dest.path_of(dir) else {
            return Ok(());
        };
        let Ok(d) = self.cfg.root.open_dir(&path) else {
            return Ok(());
        };
        let Ok(names) = d.read_entries(10_000_000) else {
            return Ok(());
        };
        self.filter.change_to(dir, self.cfg.root, self.dest);
        self.warn_unread(out);
        for (n, is_dir) in self.rsync_order(&d, names) {
            if keep.contains(n.as_slice()) {
                continue;
            }
            let wire = if dir == b"." {
                n.clone()
            } else {
                [dir, b"/", &n].concat()
            };
            if self.filter.protected(&wire, is_dir, false) {
                continue;
            }
            if let Some(later) = self.delayed.as_mut() {
                later.push(wire);
                continue;
            }
            let Ok(p) = path.join(&n) else { continue };
            self.remove_tree(&p, &wire, out, false)?;
        }
        Ok(())
    }

    /// Once: a merge file in the destination was not read (`-wo`).
    fn warn_unread(&mut self, out: &Outbox<'_>) {
        if std::mem::take(&mut self.filter.unread) && !self.warned_unread {
            self.warned_unread = true;
            out.warning(super::super::text::UNREAD_MERGE);
        }
    }

    /// Whether `--max-delete` still allows one more deletion.
    fn allowed(&self) -> bool {
        !matches!(self.cfg.opts.max_delete, Some(m) if m >= 0 && self.count >= m as u64)
    }

    /// Removes one entry, named `wire` in the list, that is in the way
    /// of a received one; whether it is gone.
    pub(crate) fn remove_one(
        &mut self,
        path: &RelPath,
        wire: &[u8],
        out: &Outbox<'_>,
    ) -> Result<bool, RecvError> {
        Ok(self.remove_tree(path, wire, out, true)? == Gone::Removed)
    }

    /// Deletes `path` (recursively for directories, contents first) and
    /// reports each name to the client with `MSG_DELETED`. Every entry counts against `--max-delete`; past it the rest
    /// is left in place. What the rules protect inside a directory stays,
    /// and so does the directory. `room`: the entry is in the way of a
    /// received one, and, as rsync does, is neither listed nor counted
    /// (what it holds is).
    fn remove_tree(
        &mut self,
        path: &RelPath,
        wire: &[u8],
        out: &Outbox<'_>,
        room: bool,
    ) -> Result<Gone, RecvError> {
        let root = self.cfg.root;
        let Ok(meta) = root.lstat(path) else {
            return Ok(Gone::Removed);
        };
        if meta.is_dir() && !self.remove_contents(path, wire, out)? {
            return Ok(Gone::NotEmpty);
        }
        if !room && !self.allowed() {
            self.skipped += 1;
            return Ok(Gone::Kept);
        }
        let dry = self.cfg.opts.dry_run;
        let (res, what) = match (dry, meta.is_dir()) {
            (true, _) => (Ok(()), ""),
            (false, true) => (self.w.remove_dir(path, Some(self.permit)), "rmdir"),
            (false, false) => (self.w.remove(path, Some(self.permit)), "unlink"),
        };
        match res {
            Ok(()) if room => {}
            Ok(()) => self.report(wire, meta.is_dir(), out)?,
            Err(e) => {
                let shown = String::from_utf8_lossy(wire);
                out.rsyserr(
                    "generator",
                    &format!("delete_file: {what} \"{shown}\" failed"),
                    &e,
                );
                return Ok(Gone::Kept);
            }
        }
        Ok(Gone::Removed)
    }

    /// Deletes what directory `path` holds (`delete_dir_contents`): its
    /// merge files apply, perishable rules do not, and what the rules
    /// protect stays. Whether it is now empty.
    fn remove_contents(
        &mut self,
        path: &RelPath,
        wire: &[u8],
        out: &Outbox<'_>,
    ) -> Result<bool, RecvError> {
        let Ok(d) = self.cfg.root.open_dir(path) else {
            return Ok(true);
        };
        let names = d.read_entries(10_000_000).unwrap_or_default();
        let parent = wire
            .iter()
            .rposition(|&b| b == b'/')
            .map_or(&b"."[..], |i| wire.get(..i).unwrap_or(b"."));
        self.filter.change_to(parent, self.cfg.root, self.dest);
        self.filter.enter(wire, self.cfg.root, self.dest);
        self.warn_unread(out);
        let mut empty = true;
        for (n, is_dir) in self.rsync_order(&d, names) {
            let w = [wire, b"/", &n].concat();
            if self.filter.protected(&w, is_dir, true) {
                empty = false;
                continue;
            }
            let Ok(child) = path.join(&n) else { continue };
            match self.remove_tree(&child, &w, out, false)? {
                Gone::Removed => {}
                Gone::Kept => empty = false,
                Gone::NotEmpty => {
                    empty = false;
                    // rsync then tries the rmdir anyway: --max-delete
                    // counts it, or the failure is said again.
                    if self.allowed() {
                        self.not_empty(&w, out);
                    } else {
                        self.skipped += 1;
                    }
                }
            }
        }
        self.filter.leave();
        if !empty {
            self.not_empty(wire, out);
        }
        Ok(empty)
    }

    fn not_empty(&self, wire: &[u8], out: &Outbox<'_>) {
        let line = format!(
            "cannot delete non-empty directory: {}\n",
            String::from_utf8_lossy(wire)
        );
        out.msg(MsgCode::Info, line.as_bytes());
    }

    /// Names of a directory in the order rsync deletes them: its file-list
    /// order reversed, so subdirectories go before files.
    fn rsync_order(&self, d: &crate::fs::Dir, names: Vec<Vec<u8>>) -> Vec<(Vec<u8>, bool)> {
        let mut v: Vec<crate::flist::FileEntry> = names
            .into_iter()
            .map(|n| {
                let is_dir = d.lstat_at(&n).is_ok_and(|m| m.is_dir());
                crate::flist::FileEntry::new(n, if is_dir { 0o040000 } else { 0o100000 })
            })
            .collect();
        v.sort_by(|a, b| crate::flist::f_name_cmp(a, b, self.cfg.flist.protocol));
        v.into_iter()
            .rev()
            .map(|e| {
                let d = e.is_dir();
                (e.name, d)
            })
            .collect()
    }

    fn report(&mut self, wire: &[u8], is_dir: bool, out: &Outbox<'_>) -> Result<(), RecvError> {
        self.count += 1;
        if !self.cfg.opts.dry_run {
            self.cfg.log.deleting(wire, is_dir);
        }
        let mut name = wire.to_vec();
        if is_dir {
            name.push(0);
        }
        if self.cfg.flist.protocol >= 29 {
            out.msg(MsgCode::Deleted, &name);
        } else if self.cfg.opts.verbose > 0 {
            // No MSG_DELETED yet: the server says it in words (`log_delete`).
            let slash = if is_dir { "/" } else { "" };
            let line = format!("deleting {}{slash}\n", String::from_utf8_lossy(wire));
            out.msg(MsgCode::Info, line.as_bytes());
        }
        Ok(())
    }
}
