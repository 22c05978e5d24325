//! The client's filter rules as deletion consults them, with the
//! per-directory merge files of the destination (`change_local_filter_dir`,
//! `push_local_filters` and the filter checks of `get_dirlist` in rsync's
//! `exclude.c`, `generator.c` and `delete.c`; protocols 27 to 32).
//!
//! A name is protected from deletion when a receiver-side rule excludes
//! it, or, without `--delete-excluded`, a sender-side one. A dir-merge
//! rule (`-F`, `:C` from `-C`, `--filter=': FILE'`) is read in each
//! destination directory the deletion reaches, and in its parents down
//! from the destination, so a `.rsync-filter` or `.cvsignore` kept on the
//! server protects what it names, as with stock. Inside a directory that
//! is being deleted, perishable rules (`p`, and `-C`'s defaults from
//! protocol 30) protect nothing.
//!
//! Under `-wo` and `-blind` ([`BlockSums`] other than `AsAsked`) no file
//! in the destination is read: which names a file's lines protect would
//! tell the client its contents. A directory holding a merge file that
//! was not read, and everything below it, is then kept whole; the client
//! is told once. A rule file that cannot be read or parsed keeps
//! everything (the stack is poisoned), never the reverse.

use super::dest::Dest;
use crate::filter::{FilterList, FilterStack, Side, MAX_MERGE_FILE};
use crate::fs::Root;
use crate::policy::BlockSums;

/// The deletion side's view of the client's rules.
pub(crate) struct DelFilter {
    stack: Option<FilterStack>,
    delete_excluded: bool,
    /// Merge files in the destination may be read.
    may_read: bool,
    /// The stack depth at which a merge file was found and not read:
    /// everything at or below it is kept.
    sealed: Option<usize>,
    /// A directory was kept whole for an unread merge file (warned once).
    pub(crate) unread: bool,
}

impl DelFilter {
    /// The rules of `list` (none: nothing is protected).
    pub(crate) fn new(list: Option<&FilterList>, delete_excluded: bool, sums: BlockSums) -> Self {
        Self {
            stack: list.cloned().map(FilterStack::new),
            delete_excluded,
            may_read: sums == BlockSums::AsAsked,
            sealed: None,
            unread: false,
        }
    }

    /// Makes `dir` (a wire name, `.` for the destination) the directory
    /// whose merge files apply: leaves those not above it, enters each
    /// one down to it.
    pub(crate) fn change_to(&mut self, dir: &[u8], root: &Root, dest: &Dest) {
        let dir = if dir == b"." { &b""[..] } else { dir };
        let Some(stack) = self.stack.as_ref() else {
            return;
        };
        let mut keep = 0;
        for (i, d) in stack.entered().enumerate() {
            if !is_at_or_above(d, dir) {
                break;
            }
            keep = i + 1;
        }
        while self.depth() > keep {
            self.leave();
        }
        // `keep` counts the top (""), which is no component of `dir`.
        let inside = keep.saturating_sub(1);
        if keep == 0 {
            self.enter(b"", root, dest);
        }
        let mut prefix: Vec<u8> = Vec::with_capacity(dir.len());
        for (i, c) in dir.split(|&b| b == b'/').enumerate() {
            if !prefix.is_empty() {
                prefix.push(b'/');
            }
            prefix.extend_from_slice(c);
            if i >= inside && !dir.is_empty() {
                self.enter(&prefix, root, dest);
            }
        }
    }

    /// Enters `dir`, which lies directly below the directory entered last
    /// ([`Self::change_to`] its parent first), reading its merge files.
    pub(crate) fn enter(&mut self, dir: &[u8], root: &Root, dest: &Dest) {
        let may_read = self.may_read;
        let mut found = false;
        let Some(stack) = self.stack.as_mut() else {
            return;
        };
        let mut read = |name: &[u8]| -> Option<Vec<u8>> {
            let d = if dir.is_empty() { &b"."[..] } else { dir };
            let p = dest.path_of(d).ok()?.join(name).ok()?;
            if !may_read {
                found |= root.lstat(&p).is_ok();
                return None;
            }
            let mut file = root.open_file(&p).ok()?;
            let mut v = Vec::new();
            let cap = u64::try_from(MAX_MERGE_FILE).unwrap_or(u64::MAX) + 1;
            std::io::Read::read_to_end(&mut std::io::Read::take(&mut file, cap), &mut v).ok()?;
            Some(v)
        };
        // An error poisons the stack, which then protects everything.
        let _ = stack.enter_dir(dir, &mut read);
        let depth = stack.depth();
        if found && self.sealed.is_none() {
            self.sealed = Some(depth);
            self.unread = true;
        }
    }

    /// Leaves the directory entered last.
    pub(crate) fn leave(&mut self) {
        let depth = self.depth();
        if let Some(stack) = self.stack.as_mut() {
            stack.leave_dir();
        }
        if self.sealed.is_some_and(|s| s >= depth) {
            self.sealed = None;
        }
    }

    fn depth(&self) -> usize {
        self.stack.as_ref().map_or(0, FilterStack::depth)
    }

    /// Whether `name` (a wire name) is kept from deletion.
    /// `doomed`: its directory is itself being deleted.
    pub(crate) fn protected(&self, name: &[u8], is_dir: bool, doomed: bool) -> bool {
        let Some(f) = &self.stack else {
            return false;
        };
        if self.sealed.is_some() {
            return true;
        }
        f.check_side(Side::Receiver, name, is_dir, doomed)
            .is_excluded()
            || (!self.delete_excluded
                && f.check_side(Side::Sender, name, is_dir, doomed)
                    .is_excluded())
    }
}

/// Whether `d` is `dir` or one of its parents (`""` is the top).
fn is_at_or_above(d: &[u8], dir: &[u8]) -> bool {
    d.is_empty()
        || dir == d
        || dir
            .strip_prefix(d)
            .is_some_and(|rest| rest.first() == Some(&b'/'))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#[path = "del_filter_tests.rs"]
mod tests;
