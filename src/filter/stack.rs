//! The per-directory filter stack driven by a directory walk, mirroring
//! rsync's `push_local_filters()` / `pop_local_filters()` /
//! `change_local_filter_dir()` (exclude.c), protocols 27 to 32.
//!
//! Call [`FilterStack::enter_dir`] before checking the names inside a
//! directory and [`FilterStack::leave_dir`] when done with it; calls nest
//! like the walk. The first `enter_dir` also reads pending `.` merge files.
//! Every file is read through the caller's callback, which receives only a
//! validated single path component (e.g. `.rsync-filter`, never `..` or a
//! slash) and must resolve it in the directory being entered, beneath the
//! root, without following symlinks out of it; `None` means "no such file".
//!
//! A dir-merge name with a leading `/` (as `-F` sends, `: /.rsync-filter`)
//! is read in the transfer root and every directory below it. Upstream would
//! also read it in the parent directories above the transfer root; this
//! server does not look outside the transfer root.
//!
//! After an error the stack is poisoned: every check answers `Exclude`,
//! which is the safe answer for both roles (hide on the sender, protect
//! from deletion on the receiver).

use super::list::FilterList;
use super::load::{self, LoadCtx};
use super::{Decision, FilterError, Side};

/// A [`FilterList`] plus the directory stack of its dir-merge rules.
#[derive(Clone, Debug)]
pub struct FilterStack {
    list: FilterList,
    dirs: Vec<Vec<u8>>,
    /// Rules added to frames by each entered directory (for the rule cap).
    consumed: Vec<usize>,
    started: bool,
    poisoned: bool,
}

/// A walk path must be relative, without empty, `.` or `..` components.
fn valid_dir(dir: &[u8]) -> bool {
    dir.is_empty()
        || (!dir.contains(&0)
            && dir
                .split(|&b| b == b'/')
                .all(|c| !c.is_empty() && c != b"." && c != b".."))
}

impl FilterStack {
    /// Wrap a received list.
    pub fn new(list: FilterList) -> Self {
        FilterStack {
            list,
            dirs: Vec::new(),
            consumed: Vec::new(),
            started: false,
            poisoned: false,
        }
    }

    /// The underlying list (global rules plus current per-dir state).
    pub fn list(&self) -> &FilterList {
        &self.list
    }

    /// Number of directories currently entered.
    pub fn depth(&self) -> usize {
        self.dirs.len()
    }

    /// The directories entered, outermost first (`""` is the top).
    pub fn entered(&self) -> impl Iterator<Item = &[u8]> {
        self.dirs.iter().map(Vec::as_slice)
    }

    /// Whether an earlier error left the stack unusable.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }

    /// Enter `dir_rel` (relative to the transfer root; `""` or `"."` is the
    /// root). It must lie below the directory entered last, if any.
    pub fn enter_dir(
        &mut self,
        dir_rel: &[u8],
        read_file: &mut dyn FnMut(&[u8]) -> Option<Vec<u8>>,
    ) -> Result<(), FilterError> {
        if self.poisoned {
            return Err(FilterError::Poisoned);
        }
        let dir = if dir_rel == b"." { &b""[..] } else { dir_rel };
        let below = match self.dirs.last() {
            None => true,
            Some(parent) if parent.is_empty() => !dir.is_empty(),
            Some(parent) => dir
                .strip_prefix(parent.as_slice())
                .is_some_and(|r| r.len() > 1 && r.starts_with(b"/")),
        };
        if !valid_dir(dir) || !below {
            return Err(FilterError::BadDir);
        }
        let r = self.enter_inner(dir, read_file);
        if r.is_err() {
            self.poisoned = true;
        }
        r
    }

    fn enter_inner(
        &mut self,
        dir: &[u8],
        read_file: &mut dyn FnMut(&[u8]) -> Option<Vec<u8>>,
    ) -> Result<(), FilterError> {
        let in_frames: usize = self.consumed.iter().sum();
        if !self.started {
            self.started = true;
            let held = self.list.len() + in_frames;
            let mut ctx = LoadCtx::new(&self.list, held, Some(&mut *read_file), None);
            let r = load::resolve_pending(&mut self.list.entries, &mut ctx);
            self.list.skipped += ctx.skipped;
            r?;
        }
        let held = self.list.len() + in_frames;
        let mut ctx = LoadCtx::new(&self.list, held, Some(read_file), Some(dir));
        let before = ctx.budget();
        let r = load::enter(&mut self.list.entries, &mut ctx);
        self.list.skipped += ctx.skipped;
        r?;
        let used = before.saturating_sub(ctx.budget());
        self.consumed.push(used);
        self.dirs.push(dir.to_vec());
        Ok(())
    }

    /// Leave the directory entered last (no-op when none is entered).
    pub fn leave_dir(&mut self) {
        if self.dirs.pop().is_some() && !self.poisoned {
            self.consumed.pop();
            load::leave(&mut self.list.entries);
        }
    }

    /// Sender-side decision for `path` (relative to the transfer root).
    pub fn check(&self, path: &[u8], is_dir: bool) -> Decision {
        self.check_side(Side::Sender, path, is_dir, false)
    }

    /// Receiver-side (deletion) decision: `Exclude` = protected.
    pub fn check_receiver(&self, path: &[u8], is_dir: bool, ignore_perishable: bool) -> Decision {
        self.check_side(Side::Receiver, path, is_dir, ignore_perishable)
    }

    /// Decision for `path` as seen by `side`.
    pub fn check_side(
        &self,
        side: Side,
        path: &[u8],
        is_dir: bool,
        ignore_perishable: bool,
    ) -> Decision {
        if self.poisoned {
            return Decision::Exclude;
        }
        self.list.check_side(side, path, is_dir, ignore_perishable)
    }
}

#[cfg(test)]
#[path = "stack_tests.rs"]
mod tests;
