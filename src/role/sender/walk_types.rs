//! The walk's vocabulary: the options it takes from the client's
//! (`-r`, `-d`, `-R`, `-l`, `-D`, `-x`, `-H`, `--munge-links`,
//! `--fake-super`, incremental recursion), the filter it asks, and what
//! it returns. Protocols 27 to 32.

use std::io;
use std::rc::Rc;

use super::super::args::JoinRel;
use crate::flist::FileEntry;
use crate::fs::RelPath;

/// What shapes the walk, from the client's options.
#[derive(Debug, Clone, Copy, Default)]
pub struct WalkOptions {
    /// `-r`.
    pub recursive: bool,
    /// `-d` (or implied by `--list-only`/`--files-from`).
    pub dirs: bool,
    /// `-R`.
    pub relative: bool,
    /// Send implied directories of `-R` paths.
    pub implied_dirs: bool,
    /// `-l`: send symlinks as symlinks.
    pub links: bool,
    /// `-D` devices.
    pub devices: bool,
    /// `-D` specials.
    pub specials: bool,
    /// `-x`: stay on one filesystem.
    pub one_file_system: bool,
    /// `-H`: record device and inode of multiply-linked files.
    pub hard_links: bool,
    /// Before protocol 28, `-H` sends device and inode of every file.
    pub hlink_every_file: bool,
    /// The most entries we list before refusing.
    pub max_entries: usize,
    /// `--ignore-missing-args`: a source argument that does not exist is
    /// left out without an error.
    pub ignore_missing_args: bool,
    /// `--munge-links`: strip [`SYMLINK_PREFIX`] from link targets.
    pub munge_links: bool,
    /// `--fake-super`: what `user.rsync.%stat` records is sent in place
    /// of the file's own owner, mode and type.
    pub fake_super: bool,
    /// Incremental recursion (`FLAG_DIVERT_DIRS`): a directory's contents
    /// are listed later, in a sub-list of their own
    /// ([`Walker::scan_sub_list`]), not after the directory.
    pub divert: bool,
}

/// The prefix rsync's receiver puts before a munged link's target
/// (`SYMLINK_PREFIX`), the same bytes our receiver stores.
pub const SYMLINK_PREFIX: &[u8] = b"/rsyncd-munged/";

/// A munged target as the client sent it: the prefix is removed when
/// something follows it (rsync keeps a bare prefix as it is).
pub fn unmunge(target: Vec<u8>) -> Vec<u8> {
    match target.strip_prefix(SYMLINK_PREFIX) {
        Some(rest) if !rest.is_empty() => rest.to_vec(),
        _ => target,
    }
}

/// Decides which names are excluded; the filter rules implement it.
pub trait Exclude {
    /// Whether `path` (relative to the transfer root) is excluded.
    fn excluded(&mut self, path: &[u8], is_dir: bool) -> bool;
    /// Whether no name can be excluded (there are no rules): the walk
    /// then does not make each name to ask [`Exclude::excluded`].
    fn excludes_nothing(&self) -> bool {
        false
    }
    /// Called when the walk enters directory `path`, with a reader for
    /// per-directory merge files beneath it.
    fn enter_dir(&mut self, _path: &[u8], _read: &mut dyn FnMut(&[u8]) -> Option<Vec<u8>>) {}
    /// Called when the walk leaves the directory last entered.
    fn leave_dir(&mut self) {}
    /// Rules dropped so far because their merge file is not beneath the
    /// root (a `.` merge read when the walk starts, a dir-merge rule
    /// inside a per-directory file).
    fn skipped_rules(&self) -> usize {
        0
    }
}

/// No filtering.
pub struct NoFilter;

impl Exclude for NoFilter {
    fn excluded(&mut self, _: &[u8], _: bool) -> bool {
        false
    }

    fn excludes_nothing(&self) -> bool {
        true
    }
}

/// One listed file and where it lives beneath the root.
#[derive(Debug, Clone)]
pub struct Item {
    /// The entry as it travels.
    pub entry: FileEntry,
    /// The directory beneath the root that its name starts from: its
    /// source argument's base, shared by every entry of that source, so
    /// that no path is made for an entry that is never opened (most of
    /// them, when little changed).
    pub base: Rc<RelPath>,
}

impl Item {
    /// Its path beneath the root, for opening: the base joined with its
    /// name.
    pub fn path(&self) -> Result<RelPath, crate::fs::PathError> {
        self.base.join_rel(&self.entry.name)
    }
}

/// A problem met while walking, reported to the client.
#[derive(Debug)]
pub enum WalkNote {
    /// `rsync: [sender] WHAT: ERR` as a transfer error.
    Error(String, io::Error),
    /// An informational line.
    Info(String),
}

/// The walk's result.
#[derive(Debug, Default)]
pub struct Walk {
    /// Listed items, unsorted.
    pub items: Vec<Item>,
    /// Problems to report.
    pub notes: Vec<WalkNote>,
    /// rsync's `io_error` bits.
    pub io_error: crate::error::IoErrors,
    /// The list grew past the limit.
    pub overflow: bool,
}
