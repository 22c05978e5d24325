//! Deleting extraneous files (`delete_in_dir` and `delete_item` in
//! `delete.c`/`generator.c`). Only reachable with a
//! [`crate::policy::DeletePermit`]; confined to the directories whose
//! contents the client sent, and files the client's filter rules protect
//! (or exclude, without `--delete-excluded`) are kept.
//!
//! When, as rsync decides it: `--delete-before` (and a plain `--delete`
//! below protocol 30) deletes everything before the first entry;
//! `--delete-during` (a plain `--delete` from protocol 30 on) deletes in
//! each directory as the generator reaches it, after the directory's own
//! entry is itemized; `--delete-after` and `--delete-delay` at the end.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use super::dest::Dest;
use super::out::Outbox;
use super::{List, ReceiverConfig, RecvError};
use crate::flist::FileEntry;
use crate::fs::{RelPath, Writer};
use crate::policy::DeletePermit;
use crate::wire::MsgCode;

/// Deletion state for one session.
pub(crate) struct Deleter<'a, 'c> {
    cfg: &'a ReceiverConfig<'c>,
    w: &'a Writer<'c>,
    dest: &'a Dest,
    permit: &'a DeletePermit,
    count: u64,
    skipped: u64,
    /// Removals that make room for an entry are not reported.
    quiet: bool,
    /// The entries the list has in each directory, until it is visited.
    children: HashMap<Vec<u8>, Vec<Rc<FileEntry>>>,
    /// `--delete-delay` under incremental recursion: the names found
    /// extraneous as the walk passed their directories, removed at the
    /// end (rsync keeps them in a temporary file).
    delayed: Option<Vec<Vec<u8>>>,
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
            quiet: false,
            children: HashMap::new(),
            delayed: None,
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
                self.remove_tree(&p, &wire, out)?;
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
        for (n, is_dir) in self.rsync_order(&d, names) {
            if keep.contains(n.as_slice()) {
                continue;
            }
            let wire = if dir == b"." {
                n.clone()
            } else {
                [dir, b"/", &n].concat()
            };
            if self.protected(&wire, is_dir) {
                continue;
            }
            if let Some(later) = self.delayed.as_mut() {
                later.push(wire);
                continue;
            }
            let Ok(p) = path.join(&n) else { continue };
            self.remove_tree(&p, &wire, out)?;
        }
        Ok(())
    }

    fn protected(&self, name: &[u8], is_dir: bool) -> bool {
        let Some(f) = &self.cfg.filter else {
            return false;
        };
        if f.check_receiver(name, is_dir, false).is_excluded() {
            return true;
        }
        !self.cfg.opts.delete_excluded && f.check(name, is_dir).is_excluded()
    }

    /// Whether `--max-delete` still allows one more deletion.
    fn allowed(&self) -> bool {
        !matches!(self.cfg.opts.max_delete, Some(m) if m >= 0 && self.count >= m as u64)
    }

    /// Removes one entry that is in the way of a received one.
    pub(crate) fn remove_one(&mut self, path: &RelPath, out: &Outbox<'_>) -> Result<(), RecvError> {
        // rsync does not list what it removes to make room for an entry.
        let wire = path.as_bytes().to_vec();
        self.quiet = true;
        let r = self.remove_tree(path, &wire, out);
        self.quiet = false;
        r
    }

    /// Deletes `path` (recursively for directories, contents first) and
    /// reports each name to the client with `MSG_DELETED`. Every entry
    /// counts against `--max-delete`; past it the rest is left in place.
    fn remove_tree(
        &mut self,
        path: &RelPath,
        wire: &[u8],
        out: &Outbox<'_>,
    ) -> Result<(), RecvError> {
        let root = self.cfg.root;
        let Ok(meta) = root.lstat(path) else {
            return Ok(());
        };
        if meta.is_dir() {
            if let Ok(d) = root.open_dir(path) {
                for (n, _) in self.rsync_order(&d, d.read_entries(10_000_000).unwrap_or_default()) {
                    if let Ok(child) = path.join(&n) {
                        let w = [wire, b"/", &n].concat();
                        self.remove_tree(&child, &w, out)?;
                    }
                }
            }
        }
        if !self.quiet && !self.allowed() {
            self.skipped += 1;
            return Ok(());
        }
        let dry = self.cfg.opts.dry_run;
        let (res, what) = match (dry, meta.is_dir()) {
            (true, _) => (Ok(()), ""),
            (false, true) => (self.w.remove_dir(path, Some(self.permit)), "rmdir"),
            (false, false) => (self.w.remove(path, Some(self.permit)), "unlink"),
        };
        match res {
            Ok(()) => self.report(wire, meta.is_dir(), out)?,
            Err(e) => {
                let shown = String::from_utf8_lossy(wire);
                out.rsyserr(
                    "generator",
                    &format!("delete_file: {what} \"{shown}\" failed"),
                    &e,
                )
            }
        }
        Ok(())
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
        if self.quiet {
            return Ok(());
        }
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
        }
        Ok(())
    }
}
