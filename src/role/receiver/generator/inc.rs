//! The generator over incremental lists (CF_INC_RECURSE, protocol 30+):
//! `generate_files` and `check_for_finished_files` in `generator.c`.
//!
//! The walk goes through the lists in the order they arrived and waits
//! at the end of the last one until the next arrives or the client says
//! there are no more. A directory met as an entry of its parent's list
//! is only created if missing (and only when directory times are kept);
//! its attributes and, with `--delete-during`, the deletions inside it
//! come at the slot before its own list. A list is finished once the walk
//! has left it, every file requested from it has arrived and none of its
//! hard-link members waits to be linked: one `NDX_DONE` tells the client
//! to free it. The last list's `NDX_DONE` also ends phase 0. Under `-H`
//! the walk reads lists ahead as rsync's generator does ([`Gen::sight`]).

use super::super::lists::Seg;
use super::super::RecvError;
use super::{show, Gen, Stage};
use crate::flist::FileEntry;
use crate::fs::{Meta, RelPath};

/// Entries the generator reads ahead under `-H` (rsync's
/// `MIN_FILECNT_LOOKAHEAD/2`).
const LOOKAHEAD: usize = 500;

impl Gen<'_, '_> {
    /// A list arrived: its names join the deletion checks (each list's
    /// parents were checked on arrival).
    pub(crate) fn list_added(&mut self, seg: Seg) {
        let Some(d) = self.deleter.as_mut() else {
            return;
        };
        let list = self.list;
        let new = (seg.start..seg.end).filter(|&i| list.active(i));
        d.add(new.filter_map(|i| list.entries.get(i)));
    }

    /// File `i` arrived (or was given up, or queued for a redo).
    pub(crate) fn received(&mut self, i: usize) {
        self.inflight.remove(&i);
        if !self.redo.contains(&i) {
            self.member_arrived(i);
        }
    }

    /// Whether the walk at `i` has work: an entry, a list to finish, or
    /// the end of phase 0 once every list is finished.
    pub(super) fn inc_can_walk(&self, i: usize) -> bool {
        let Some(inc) = &self.list.inc else {
            return true;
        };
        if (i < self.list.entries.len() && self.sight(i).is_some()) || self.can_finish(i) {
            return true;
        }
        let inc = inc.borrow();
        inc.eof && self.finished >= inc.segs.len()
    }

    /// Whether the walk at `i` has left list `k` behind: it is past the
    /// list's end (the last list only once the client sent no more).
    /// Lists arrive in index order, so their ends ascend, and list `k`
    /// is left behind exactly when the first `k + 1` lists are.
    fn left_behind(&self, i: usize, k: usize) -> bool {
        let Some(inc) = &self.list.inc else {
            return false;
        };
        let inc = inc.borrow();
        if i >= self.list.entries.len() {
            let last = k + 1 == inc.segs.len();
            return k < inc.segs.len() && (inc.eof || !last);
        }
        inc.segs.get(k).is_some_and(|s| s.end <= i)
    }

    /// Whether a file below `end` is still on its way or waits to be
    /// linked. The set is ordered, so its first index answers.
    fn holds_below(&self, end: usize) -> bool {
        self.inflight.first().is_some_and(|&r| r < end) || self.groups.holds_below(end)
    }

    fn seg(&self, k: usize) -> Option<Seg> {
        self.list
            .inc
            .as_ref()
            .and_then(|inc| inc.borrow().segs.get(k).copied())
    }

    /// Whether a list can be finished now (or a redo for it sent).
    pub(super) fn can_finish(&self, i: usize) -> bool {
        if !self.left_behind(i, self.finished) {
            return false;
        }
        let Some(s) = self.seg(self.finished) else {
            return false;
        };
        self.redo.iter().any(|&r| r < s.end) || !self.holds_below(s.end)
    }

    /// Finishes what lists it can (`check_for_finished_files`): a redo
    /// of one of their files goes first; a list with files still on the
    /// way stays. Returns whether phase 0 is over.
    pub(super) fn finish_lists(&mut self, i: usize) -> Result<bool, RecvError> {
        while self.left_behind(i, self.finished) {
            let Some(s) = self.seg(self.finished) else {
                break;
            };
            if let Some(pos) = self.redo.iter().position(|&r| r < s.end) {
                if let Some(r) = self.redo.remove(pos) {
                    self.entry(r, true)?;
                }
                return Ok(false);
            }
            if self.holds_below(s.end) {
                return Ok(false);
            }
            self.done();
            self.finished += 1;
            self.list.generator_finished();
            self.reqs.forget_below(self.list.live_start());
        }
        let eof = self.list.inc.as_ref().is_some_and(|inc| {
            let inc = inc.borrow();
            inc.eof && self.finished >= inc.segs.len()
        });
        Ok(eof && i >= self.list.entries.len())
    }

    /// The walk under incremental recursion: entry `i`, or the end.
    pub(super) fn inc_walk_step(&mut self, i: usize) -> Result<Stage, RecvError> {
        if self.finish_lists(i)? {
            self.reqs.close();
            return Ok(Stage::Redo);
        }
        let Some(e) = self.list.entries.get(i) else {
            return Ok(Stage::Walk(i));
        };
        let Some(seen) = self.sight(i) else {
            return Ok(Stage::Walk(i));
        };
        self.see_up_to(seen);
        if self.list.active(i) {
            self.entry(i, false)?;
            self.reqs.settle(i);
            let slot = self.list.is_slot(i);
            if let (Some(d), true) = (self.deleter.as_mut(), slot) {
                match self.cfg.opts.delete_when {
                    super::DeleteWhen::During => d.delete_dir(&e, self.out)?,
                    super::DeleteWhen::After => d.delay_dir(&e, self.out)?,
                    super::DeleteWhen::Before => {}
                }
            }
        }
        Ok(Stage::Walk(i + 1))
    }

    /// Under `-H`, the lists the walk must have seen to go on at `i`, or
    /// `None` to wait for more. rsync's generator reads a list only at
    /// the start of one (`generate_files`): the next one when the walk
    /// reaches it, and then more until the client said there are no more
    /// or 500 entries are in lists it has not finished
    /// (`MIN_FILECNT_LOOKAHEAD/2`). Which member of a group is the last
    /// known depends on it, and so which one is transferred.
    pub(super) fn sight(&self, i: usize) -> Option<usize> {
        let (mut seen, mut ahead) = self.sight;
        if !self.cfg.opts.hard_links {
            return Some(seen);
        }
        let Some(inc) = self.list.inc.as_ref().map(|x| x.borrow()) else {
            return Some(seen);
        };
        let end = |n: usize| {
            n.checked_sub(1)
                .and_then(|k| inc.segs.get(k))
                .map_or(0, |s| s.end)
        };
        if i < end(seen) && !ahead {
            return Some(seen);
        }
        if i >= end(seen) {
            if seen >= inc.segs.len() {
                return None;
            }
            seen += 1;
            ahead = true;
        }
        while ahead {
            let live = inc.segs.get(self.finished..seen).unwrap_or_default();
            let total: usize = live.iter().map(|s| s.end.saturating_sub(s.start)).sum();
            if (inc.eof && seen >= inc.segs.len()) || total >= LOOKAHEAD {
                ahead = false;
            } else if seen >= inc.segs.len() {
                return None;
            } else {
                seen += 1;
            }
        }
        Some(seen)
    }

    /// The walk has seen the first `n` lists: their group members are
    /// known.
    fn see_up_to(&mut self, n: usize) {
        while self.sight.0 < n {
            let k = self.sight.0;
            if let Some(s) = self.seg(k) {
                for j in s.start..s.end {
                    if let Some(g) = self.member_group(j).filter(|_| self.list.active(j)) {
                        self.groups.see(g, j);
                    }
                }
            }
            self.sight.0 += 1;
        }
        self.sight.1 = false;
    }

    /// A directory met in its parent's list (`is_dir < 0` in
    /// `recv_generator`): made now if missing, so the parent's time can
    /// be set when the parent's list ends, but only when directory times
    /// are kept; the rest waits for its own list.
    pub(super) fn early_dir(
        &mut self,
        e: &FileEntry,
        path: &RelPath,
        cur: Option<&Meta>,
    ) -> Result<(), RecvError> {
        let o = &self.cfg.opts;
        if !o.times || o.omit_dir_times || o.dry_run {
            return Ok(());
        }
        if let Some(m) = cur {
            // (`--ignore-existing`, and so `-no-overwrite`, never gets
            // here: the entry is passed over before its kind is looked at.)
            if m.is_dir() || !self.make_room(path, e, m, None)? {
                return Ok(());
            }
        }
        // The mode `dir` would create it with.
        let mode = if o.perms { 0o700 } else { e.mode & 0o777 };
        match self.w.mkdir(path, mode) {
            Ok(()) => {
                self.created_early.insert(e.name.clone());
            }
            Err(err) => {
                let what = format!("mkdir \"{}\" failed", show(&e.name));
                self.out.rsyserr("generator", &what, &err);
            }
        }
        Ok(())
    }
}
