//! The generator (`generate_files` and `recv_generator` in
//! `generator.c`), protocols 27 to 32: walks the sorted list, brings
//! directories, symlinks and unchanged files up to date locally, and asks
//! the client for the rest with the block sums of each basis
//! (`generate_and_send_sums`).
//!
//! rsync runs it as a process of its own; here it is a cursor over the
//! sorted list that the session's one task advances a step at a time
//! ([`Gen::step`]) whenever the outbox has room, so requests go out while
//! the client's deltas come in. The steps keep rsync's order: deletions
//! before (`--delete-before`), each entry (with `--delete-during` after
//! its directory), `NDX_DONE`, the redo requests until the receiver ends
//! phase 0, the `NDX_DONE`s of the later phases with the deletion
//! statistics (31+), then once the receiver has stopped the deletions
//! after (`--delete-after`), directory times and the last `NDX_DONE`.
//! Hard links are made a member a step as soon as their group's member
//! is in place, whatever the stage (`finish_hard_link`).

mod file;
pub(super) mod fuzzy;
mod implied;
mod inc;
mod kinds;
mod lines;
mod links;
mod room;

use std::collections::VecDeque;

use crate::flist::item::ItemFlags;

use super::attrs::{self, item};
use super::basis;
use super::delete::Deleter;
use super::dest::Dest;
use super::groups::Groups;
use super::meta;
use super::out::Outbox;
use super::requests::{Asked, Requests};
use super::{DeleteWhen, List, ReceiverConfig, RecvError};
use crate::flist::{FileEntry, FileKind};
use crate::fs::{RelPath, Writer};
use crate::wire::{put_u16, put_varint, NDX_DEL_STATS, NDX_DONE};

/// Where the generator is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// `--delete-before`, in the directory of entry `i`.
    DeleteBefore(usize),
    /// Entry `i` of the walk.
    Walk(usize),
    /// Redo requests, until the receiver ends phase 0.
    Redo,
    /// The `NDX_DONE`s of the later phases.
    PhaseEnd,
    /// Waiting for the receiver to stop.
    WaitStop,
    /// `--delete-after`, in the directory of entry `i`.
    DeleteAfter(usize),
    /// Directory times and the last `NDX_DONE`.
    Final,
    /// Nothing more to do.
    Finished,
}

pub(crate) struct Gen<'a, 'c> {
    cfg: &'a ReceiverConfig<'c>,
    /// Every change to the tree goes through here.
    w: &'a Writer<'c>,
    list: &'a List,
    dest: &'a Dest,
    out: &'a Outbox<'a>,
    protocol: u32,
    /// The directories made or updated, with their times.
    dirs: Vec<(RelPath, (i64, u32))>,
    reqs: Requests,
    deleter: Option<Deleter<'a, 'c>>,
    stage: Stage,
    /// Files that failed their checksum in phase 0, to ask for again.
    redo: VecDeque<usize>,
    /// The phases the receiver has ended (the client's `NDX_DONE`s).
    recv_phase: u32,
    /// The receiver has stopped: it read the client's last `NDX_DONE`.
    recv_stopped: bool,
    /// The last entry's parent checked under `-R --no-implied-dirs`.
    last_parent: Option<Vec<u8>>,
    /// The names of the list's directories.
    list_dirs: std::collections::HashSet<Vec<u8>>,
    /// Files requested and not yet received.
    inflight: std::collections::BTreeSet<usize>,
    /// Lists finished (their `NDX_DONE` sent), under incremental
    /// recursion.
    finished: usize,
    /// Directories made when met in their parent's list.
    created_early: std::collections::HashSet<Vec<u8>>,
    /// Files asked for again in phase 0.
    redoing: std::collections::HashSet<usize>,
    /// Entries new to the destination, and existing ones changed, for
    /// the audit line.
    tally: std::cell::Cell<(u64, u64)>,
    /// Hard-link groups (`-H`).
    groups: Groups,
    /// Group members to link now, their group's member being in place.
    to_link: VecDeque<usize>,
    /// Deferred members to handle again: the last member was skipped.
    revive: VecDeque<usize>,
    /// `--fuzzy`: the candidates of the directory last looked in.
    fuzzy: Option<fuzzy::FuzzyDir>,
    /// Under incremental recursion with `-H`: the lists the walk has
    /// seen, and whether it is still reading ahead at a list's start.
    sight: (usize, bool),
    /// The allocation of the last entry's path, for the next one.
    path_buf: Vec<u8>,
}

impl<'a, 'c> Gen<'a, 'c> {
    /// A generator at the start of the list.
    pub(crate) fn new(
        cfg: &'a ReceiverConfig<'c>,
        w: &'a Writer<'c>,
        list: &'a List,
        dest: &'a Dest,
        out: &'a Outbox<'a>,
        protocol: u32,
    ) -> Self {
        let deleter = cfg
            .delete
            .as_ref()
            .filter(|_| cfg.opts.delete)
            .map(|p| Deleter::new(cfg, w, list, dest, p));
        let before = deleter.is_some() && cfg.opts.delete_when == DeleteWhen::Before;
        lines::starting(cfg, out);
        Gen {
            cfg,
            w,
            list,
            dest,
            out,
            protocol,
            dirs: Vec::new(),
            reqs: Requests::new(list.entries.len()),
            inflight: Default::default(),
            finished: 0,
            created_early: Default::default(),
            redoing: Default::default(),
            deleter,
            stage: if before {
                Stage::DeleteBefore(0)
            } else {
                Stage::Walk(0)
            },
            redo: VecDeque::new(),
            recv_phase: 0,
            recv_stopped: false,
            last_parent: None,
            list_dirs: implied::dir_names(list),
            tally: Default::default(),
            groups: links::whole_list_groups(list),
            to_link: VecDeque::new(),
            revive: VecDeque::new(),
            sight: (0, false),
            fuzzy: None,
            path_buf: Vec::new(),
        }
    }

    /// Entries added and entries changed so far (by the item flags the
    /// generator decided on).
    pub(crate) fn tally(&self) -> (u64, u64) {
        self.tally.get()
    }

    pub(super) fn count(&self, iflags: ItemFlags) {
        let (added, changed) = self.tally.get();
        if iflags.contains(item::IS_NEW) {
            self.tally.set((added + 1, changed));
        } else if iflags.intersects(item::SIGNIFICANT) {
            self.tally.set((added, changed + 1));
        }
    }

    /// Entries deleted so far.
    pub(crate) fn deleted(&self) -> u64 {
        self.deleter.as_ref().map_or(0, Deleter::count)
    }

    /// Whether file `i` was requested: `None` until the generator decided.
    pub(crate) fn decision(&self, i: usize) -> Option<bool> {
        self.reqs.decision(i)
    }

    /// What the generator sent with its request for file `i`, once.
    pub(crate) fn take_asked(&mut self, i: usize) -> Asked {
        self.reqs.take_asked(i)
    }

    /// File `i` failed its checksum in phase 0: ask for it again.
    pub(crate) fn redo(&mut self, i: usize) {
        self.redo.push_back(i);
        if self.list.is_inc() {
            // Asked for again within phase 0: received as in the redo
            // phase.
            self.redoing.insert(i);
        }
    }

    /// Whether file `i` comes again after a failed checksum, in phase 0
    /// (incremental recursion redoes a list's files before ending it).
    pub(crate) fn redoing(&self, i: usize) -> bool {
        self.redoing.contains(&i)
    }

    /// The receiver ended phase `n`.
    pub(crate) fn phase_done(&mut self, n: u32) {
        self.recv_phase = self.recv_phase.max(n);
    }

    /// The receiver read the client's last `NDX_DONE`.
    pub(crate) fn receiver_stopped(&mut self) {
        self.recv_stopped = true;
    }

    /// Whether [`Self::step`] has work now; when not, only the receiver's
    /// progress can give it some.
    pub(crate) fn can_step(&self) -> bool {
        if self.stage != Stage::Finished && !(self.to_link.is_empty() && self.revive.is_empty()) {
            return true;
        }
        match self.stage {
            Stage::Redo => !self.redo.is_empty() || self.recv_phase >= 1 || self.recv_stopped,
            Stage::WaitStop => self.recv_stopped,
            Stage::Walk(i) if self.list.is_inc() => self.inc_can_walk(i),
            Stage::Finished => false,
            _ => true,
        }
    }

    /// One step: one entry of the list, one redo request, or one of the
    /// ends of phase. Does nothing when [`Self::can_step`] says no.
    pub(crate) fn step(&mut self) -> Result<(), RecvError> {
        if self.stage != Stage::Finished && self.link_step()? {
            return Ok(());
        }
        self.stage = match self.stage {
            Stage::DeleteBefore(i) => self.delete_step(i, Stage::DeleteBefore, Stage::Walk(0))?,
            Stage::Walk(i) => self.walk_step(i)?,
            Stage::Redo => self.redo_step()?,
            Stage::PhaseEnd => {
                self.phase_end();
                Stage::WaitStop
            }
            Stage::WaitStop if self.recv_stopped => {
                let after = self.cfg.opts.delete_when == DeleteWhen::After;
                if after && self.deleter.is_some() {
                    Stage::DeleteAfter(0)
                } else {
                    Stage::Final
                }
            }
            Stage::DeleteAfter(i) => self.delete_step(i, Stage::DeleteAfter, Stage::Final)?,
            Stage::Final => {
                // rsync warns of --max-delete once everything is deleted,
                // room-making included.
                if let Some(d) = self.deleter.as_mut() {
                    d.finish(self.out);
                }
                self.touch_dirs();
                self.done();
                Stage::Finished
            }
            s => s,
        };
        Ok(())
    }

    /// Deletes in the directory of entry `i` (`--delete-before` and
    /// `--delete-after` visit every directory, as `do_delete_pass`).
    fn delete_step(
        &mut self,
        i: usize,
        at: fn(usize) -> Stage,
        then: Stage,
    ) -> Result<Stage, RecvError> {
        let Some(d) = self.deleter.as_mut() else {
            return Ok(then);
        };
        if self.list.is_inc() {
            // `--delete-delay`: the walk noted what to delete.
            d.delete_delayed(self.out)?;
            return Ok(then);
        }
        let Some(e) = self.list.entries.get(i) else {
            return Ok(then);
        };
        if self.list.active(i) && !self.list.is_slot(i) {
            let pass = !self.cfg.opts.delete_delay;
            if pass && e.flags.top_dir && e.flags.content_dir && self.cfg.opts.verbose >= 2 {
                // `do_delete_pass` names each top directory (`DEBUG_GTE(DEL, 1)`).
                let line = format!("deleting in {}\n", show(&e.name));
                self.out.msg(crate::wire::MsgCode::Info, line.as_bytes());
            }
            d.delete_dir(&e, self.out)?;
        }
        Ok(at(i + 1))
    }

    fn walk_step(&mut self, i: usize) -> Result<Stage, RecvError> {
        if self.list.is_inc() {
            return self.inc_walk_step(i);
        }
        let Some(e) = self.list.entries.get(i) else {
            self.done();
            self.reqs.close();
            return Ok(Stage::Redo);
        };
        if self.list.active(i) {
            self.entry(i, false)?;
            self.reqs.settle(i);
            if let Some(d) = self.deleter.as_mut() {
                if self.cfg.opts.delete_when == DeleteWhen::During {
                    d.delete_dir(&e, self.out)?;
                }
            }
        }
        Ok(Stage::Walk(i + 1))
    }

    /// Phase 1: files that failed their checksum are asked for again,
    /// until the receiver ends phase 0.
    fn redo_step(&mut self) -> Result<Stage, RecvError> {
        if let Some(i) = self.redo.pop_front() {
            self.entry(i, true)?;
            return Ok(Stage::Redo);
        }
        if self.recv_phase >= 1 {
            return Ok(Stage::PhaseEnd);
        }
        if self.recv_stopped {
            return Ok(Stage::Finished);
        }
        Ok(Stage::Redo)
    }

    /// The `NDX_DONE`s of the later phases, with the deletion statistics
    /// from protocol 31 on.
    fn phase_end(&mut self) {
        let p = self.protocol;
        self.done();
        if p >= 29 {
            self.done();
        }
        if p >= 31 {
            if self.cfg.opts.delete {
                self.del_stats();
            }
            self.done();
        }
    }

    /// Writes `NDX_DONE` and flushes.
    fn done(&mut self) {
        self.out.put_ndx(NDX_DONE);
        self.out.flush();
    }

    fn del_stats(&mut self) {
        let n = self.deleted() as i32;
        self.out.put_ndx(NDX_DEL_STATS);
        let mut b = Vec::new();
        for v in [n, 0, 0, 0, 0] {
            put_varint(&mut b, v);
        }
        self.out.write(&b);
    }

    /// Sends an item record without a transfer (`itemize`).
    fn itemize(&self, ndx: usize, iflags: ItemFlags) -> Result<(), RecvError> {
        if !self.cfg.opts.dry_run {
            self.count(iflags);
        }
        if self.protocol < 29 {
            self.old_name_line(ndx, iflags);
            return Ok(());
        }
        if !(self.cfg.opts.itemize_all || iflags.intersects(item::SIGNIFICANT)) {
            return Ok(());
        }
        if let (Some(e), false) = (self.list.entries.get(ndx), self.cfg.opts.dry_run) {
            self.cfg.log.item(iflags, &e, None);
        }
        self.out.put_ndx(ndx as i32);
        let mut b = Vec::with_capacity(2);
        put_u16(&mut b, iflags.bits());
        if let Some(e) = self.list.entries.get(ndx) {
            meta::request(self.cfg, self.list, &e, iflags, &mut b);
        }
        self.out.write(&b);
        Ok(())
    }

    /// The ACL and attribute item flags of `e` against `path` (`None`:
    /// a new entry).
    fn meta_changes(&self, e: &FileEntry, path: Option<&RelPath>) -> ItemFlags {
        if !self.cfg.flist.meta.any() {
            return ItemFlags::EMPTY;
        }
        meta::changes(self.cfg, self.list, e, path)
    }

    /// Applies `e`'s ACLs and attributes to `path`, as far as the
    /// generator knows them.
    fn meta_apply(&self, e: &FileEntry, path: &RelPath) {
        meta::apply_path(
            self.cfg,
            self.w,
            self.list,
            e,
            path,
            meta::Side::Generator,
            self.out,
        );
    }

    /// Entry `ndx`; a hard-link member that never reached its turn
    /// counts as skipped.
    fn entry(&mut self, ndx: usize, redo: bool) -> Result<(), RecvError> {
        let member = self.member_group(ndx).filter(|_| !redo);
        self.entry_body(ndx, redo)?;
        if let Some(g) = member {
            self.unturned(g, ndx);
        }
        Ok(())
    }

    fn entry_body(&mut self, ndx: usize, redo: bool) -> Result<(), RecvError> {
        let Some(e) = self.list.entries.get(ndx) else {
            return Ok(());
        };
        let buf = std::mem::take(&mut self.path_buf);
        let Ok(path) = self.dest.path_in(&e.name, buf) else {
            self.out.error_xfer(&format!(
                "rsync: [generator] skipping unusable name \"{}\"",
                show(&e.name)
            ));
            return Ok(());
        };
        let done = self.entry_at(ndx, &e, &path, redo);
        self.path_buf = path.into_bytes();
        done
    }

    /// Entry `ndx`, `e`, at `path`.
    fn entry_at(
        &mut self,
        ndx: usize,
        e: &FileEntry,
        path: &RelPath,
        redo: bool,
    ) -> Result<(), RecvError> {
        self.parent_listed(e)?;
        self.implied_parents(e);
        let cur = self.cfg.root.lstat(path).ok();
        let fake = self.cfg.opts.fake_super;
        let cur = match cur {
            Some(m) if fake => Some(super::fake::overlay(self.cfg, path, m)),
            m => m,
        };
        if let (Some(m), true) = (&cur, self.cfg.opts.ignore_existing && !redo) {
            // `--ignore-existing`: what is there stays as it is, unless a
            // directory meets a directory.
            if !(e.is_dir() && m.is_dir()) {
                let early = e.is_dir() && self.list.is_inc() && !self.list.is_slot(ndx);
                if !early {
                    self.info2(e, " exists");
                }
                return Ok(());
            }
        }
        if cur.is_none() && self.cfg.opts.existing && !redo {
            // `--existing`: nothing new of any kind, nor what is beneath
            // a directory not made.
            self.not_created(e, path, ndx);
            return Ok(());
        }
        match e.kind() {
            FileKind::Symlink if self.unsafe_link(e) => Ok(()),
            FileKind::Dir if self.leave_implied(e) => Ok(()),
            FileKind::Dir if self.list.is_inc() && !self.list.is_slot(ndx) => {
                self.early_dir(e, path, cur.as_ref())
            }
            FileKind::Dir => self.dir(ndx, e, path, cur.as_ref()),
            FileKind::Symlink | FileKind::Device | FileKind::Special if fake => {
                if e.kind() == FileKind::Symlink && !self.cfg.opts.links {
                    return Ok(());
                }
                self.fake_node(ndx, e, path, cur.as_ref())
            }
            FileKind::Symlink if self.cfg.opts.links => self.symlink(ndx, e, path, cur.as_ref()),
            FileKind::File => self.file(ndx, e, path, cur.as_ref(), redo),
            // A symlink without -l; a device or special file, which this
            // server never makes (with -D stock would).
            _ => {
                self.nonreg(e);
                Ok(())
            }
        }
    }

    /// Directory times last, once their contents are final.
    fn touch_dirs(&mut self) {
        if !self.cfg.opts.times || self.cfg.opts.omit_dir_times {
            return;
        }
        for (path, t) in self.dirs.iter().rev() {
            let stale = self
                .cfg
                .root
                .lstat(path)
                .is_ok_and(|m| attrs::mtime_differs(&self.cfg.opts, *t, &m));
            if stale {
                let permit = self.cfg.overwrite.as_ref();
                let _ = self.w.set_times(path, Some(*t), None, permit);
            }
        }
    }
}

/// A name for messages.
pub(crate) fn show(name: &[u8]) -> String {
    String::from_utf8_lossy(name).into_owned()
}
