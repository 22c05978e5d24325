//! Hard links and alternate destinations on the generator side: each
//! `-H` member's turn in its group ([`Groups`], after `hard_link_check`,
//! `skip_hard_link` and `finish_hard_link` in `hlink.c`), linking members
//! to the one in place and itemizing them (protocol 29+), protocols 27 to
//! 32; and `--link-dest`/`--compare-dest` over an existing file
//! (`try_dests_reg` in `generator.c`).

use super::super::attrs::{self, item};
use super::super::basis;
use super::super::groups::{Groups, Turn};
use super::super::{List, RecvError};
use super::file::Fate;
use super::{show, Gen};
use crate::flist::item::ItemFlags;
use crate::flist::FileEntry;
use crate::fs::{Meta, RelPath};
use crate::wire::put_u16;

impl Gen<'_, '_> {
    /// `--link-dest`/`--compare-dest` over an existing file
    /// (`try_dests_reg` with `find_exact_for_existing`): when an alternate
    /// directory holds an exact copy, the file is replaced by a hard link
    /// to it in one rename, or removed for `--compare-dest`. Needs the
    /// overwrite, resp. deletion, capability; returns how the file was
    /// dealt with, if it was. A file already linked there is left to the
    /// quick check, as rsync leaves it.
    pub(super) fn alt_replaces_existing(
        &mut self,
        e: &FileEntry,
        path: &RelPath,
        m: &Meta,
    ) -> Result<Option<crate::cli::AltDest>, RecvError> {
        use crate::cli::AltDest;
        let Some((kind, alt, am)) = basis::exact_alt(self.cfg, e, None) else {
            return Ok(None);
        };
        let done = match kind {
            AltDest::Copy => false,
            AltDest::Link if am.dev == m.dev && am.ino == m.ino => false,
            AltDest::Link => match self.cfg.overwrite.as_ref() {
                Some(permit) => self.w.link_over(&alt, path, permit).is_ok(),
                None => false,
            },
            AltDest::Compare => {
                if let Some(permit) = self.cfg.delete.as_ref() {
                    let _ = self.w.remove(path, Some(permit));
                }
                true
            }
        };
        Ok(done.then_some(kind))
    }

    /// A regular file; a hard-link member takes its turn in its group
    /// first (`hard_link_check`): linked at once to a member in place,
    /// waiting for one on the way, deferred while missing and not the
    /// last known, or handled as any file.
    pub(super) fn file(
        &mut self,
        ndx: usize,
        e: &FileEntry,
        path: &RelPath,
        cur: Option<&Meta>,
        redo: bool,
    ) -> Result<(), RecvError> {
        // `--existing`, `--ignore-existing` (and so `-no-overwrite`) came
        // before a member's turn (`entry_body`): it counts as skipped.
        if cur.is_some() && self.cfg.overwrite.is_none() && !redo {
            return Ok(());
        }
        let Some(g) = self.member_group(ndx).filter(|_| !redo) else {
            return self.file_body(ndx, e, path, cur, redo, false).map(drop);
        };
        let last = match self.groups.turn(g, ndx) {
            Turn::Link(leader) => return self.link_to(ndx, &leader),
            Turn::Wait => return Ok(()),
            Turn::Go { last } => last,
        };
        match self.file_body(ndx, e, path, cur, redo, !last)? {
            Fate::Sent => self.groups.sent(g, ndx),
            Fate::Deferred => self.groups.defer(g, ndx),
            Fate::InPlace => {
                if let Some(le) = self.list.entries.get(ndx) {
                    let held = self.groups.placed(g, ndx, le);
                    self.to_link.extend(held);
                }
            }
            Fate::Skipped => self.skip_member(g, ndx),
        }
        Ok(())
    }

    /// The hard-link group of entry `ndx`, a regular file.
    pub(super) fn member_group(&self, ndx: usize) -> Option<u32> {
        let g = self.list.group(ndx)?;
        self.list
            .entries
            .get(ndx)
            .is_some_and(|e| e.is_file())
            .then_some(g)
    }

    /// Member `ndx` was met: if it never reached its turn (an unusable
    /// name, say), it counts as skipped.
    pub(super) fn unturned(&mut self, g: u32, ndx: usize) {
        if !self.groups.turned(ndx) {
            self.skip_member(g, ndx);
        }
    }

    /// Member `ndx` was skipped: when it was the last known, a deferred
    /// member is handled again (`handle_skipped_hlink`).
    fn skip_member(&mut self, g: u32, ndx: usize) {
        if let Some(next) = self.groups.skipped(g, ndx) {
            self.revive.push_back(next);
        }
    }

    /// File `ndx` arrived: when it is the member its group waited for,
    /// the others are linked to it (`finish_hard_link`).
    pub(super) fn member_arrived(&mut self, ndx: usize) {
        let Some(g) = self.member_group(ndx) else {
            return;
        };
        if let Some(e) = self.list.entries.get(ndx) {
            let held = self.groups.arrived(g, ndx, e);
            self.to_link.extend(held);
        }
    }

    /// Links one member whose group is in place, or handles one deferred
    /// member again; returns whether there was one.
    pub(super) fn link_step(&mut self) -> Result<bool, RecvError> {
        if let Some(m) = self.to_link.pop_front() {
            self.groups.release(m);
            let leader = self.member_group(m).and_then(|g| self.groups.leader(g));
            if let Some(le) = leader {
                self.link_to(m, &le)?;
            }
            return Ok(true);
        }
        if let Some(m) = self.revive.pop_front() {
            self.entry(m, false)?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Hard-links entry `i` to `le`, the member of its group in place,
    /// unless it already is. An existing name is replaced in one rename,
    /// never removed first.
    fn link_to(&mut self, i: usize, le: &FileEntry) -> Result<(), RecvError> {
        let Some(e) = self.list.entries.get(i) else {
            return Ok(());
        };
        let (Ok(p), Ok(lp)) = (self.dest.path_of(&e.name), self.dest.path_of(&le.name)) else {
            return Ok(());
        };
        let root = self.cfg.root;
        let was = root.lstat(&p).ok();
        let replace = match (was.ok_or(()), root.lstat(&lp)) {
            (Ok(a), Ok(b)) if a.same_file(&b) => return self.linked_already(i, &e),
            (Ok(_), Ok(_)) => match self.cfg.overwrite.as_ref() {
                Some(permit) if !self.cfg.opts.dry_run => Some(permit),
                _ => return Ok(()),
            },
            _ => None,
        };
        if !self.cfg.opts.dry_run {
            let r = match replace {
                Some(permit) => self.w.link_over(&lp, &p, permit),
                None => self.w.hard_link(&lp, &p),
            };
            if let Err(err) = r {
                let what = format!("link \"{}\" => {} failed", show(&e.name), show(&le.name));
                self.out.rsyserr("generator", &what, &err);
                return Ok(());
            }
        }
        // A missing member the --link-dest directory holds as its
        // leader's file is linked without a word unless -i asks for every
        // item (`hard_link_check`); one that was there is no new entry.
        let o = &self.cfg.opts;
        let missing = replace.is_none();
        let leader = root.lstat(&lp).ok();
        let held = missing
            && !o.alt_dest.is_empty()
            && leader.is_some_and(|m| basis::link_dest_holds(self.cfg, &e.name, &m));
        if held && !(o.itemize && o.itemize_all) {
            self.uptodate(&e, false);
            return Ok(());
        }
        // What the link replaced is reported against, as an item is.
        let flags = match (&was, missing && !held) {
            (_, true) => item::IS_NEW,
            (Some(m), false) => attrs::changes_with_size(o, &e, m),
            (None, false) => ItemFlags::EMPTY,
        };
        self.itemize_link(i, &le.name, flags)
    }

    /// A member already linked to its leader (`maybe_hard_link`): only
    /// `-vv` or `-ii` hear of it, as an item with an empty link name.
    fn linked_already(&self, ndx: usize, e: &FileEntry) -> Result<(), RecvError> {
        self.uptodate(e, false);
        if self.protocol < 29 || !self.cfg.opts.itemize_all {
            return Ok(());
        }
        let mut b = Vec::new();
        put_u16(&mut b, (item::LOCAL_CHANGE | item::XNAME_FOLLOWS).bits());
        crate::wire::put_vstring(&mut b, b"").map_err(crate::wire::WireError::from)?;
        self.out.put_ndx(ndx as i32);
        self.out.write(&b);
        Ok(())
    }

    /// `hf+++++++++ NAME => LEADER`: a new hard link (protocol 29+).
    /// `more`: `IS_NEW`, or how the entry it replaced differed.
    fn itemize_link(&self, ndx: usize, leader: &[u8], more: ItemFlags) -> Result<(), RecvError> {
        let iflags = item::LOCAL_CHANGE | item::XNAME_FOLLOWS | more;
        if !self.cfg.opts.dry_run {
            self.count(iflags);
        }
        if self.protocol < 29 {
            // The server names the link itself (`maybe_hard_link`).
            if let (Some(e), true) = (self.list.entries.get(ndx), self.cfg.opts.verbose > 0) {
                let line = format!("{} => {}\n", show(&e.name), show(leader));
                self.out.msg(crate::wire::MsgCode::Info, line.as_bytes());
            }
            return Ok(());
        }
        if let (Some(e), false) = (self.list.entries.get(ndx), self.cfg.opts.dry_run) {
            self.cfg.log.item(iflags, &e, Some(leader));
        }
        let mut b = Vec::new();
        put_u16(&mut b, iflags.bits());
        crate::wire::put_vstring(&mut b, leader).map_err(crate::wire::WireError::from)?;
        self.out.put_ndx(ndx as i32);
        self.out.write(&b);
        Ok(())
    }
}

/// The groups of a whole list, every member known from the start (under
/// incremental recursion the walk learns them list by list).
pub(super) fn whole_list_groups(list: &List) -> Groups {
    let mut groups = Groups::default();
    if list.is_inc() {
        return groups;
    }
    for i in 0..list.entries.len() {
        if let (Some(g), true) = (list.group(i), list.active(i)) {
            if list.entries.get(i).is_some_and(|e| e.is_file()) {
                groups.see(g, i);
            }
        }
    }
    groups
}
