//! The walk through directories (`send_directory` in rsync's `flist.c`,
//! protocols 27 to 32): each directory's entries are looked at, filtered
//! and put in rsync's order, then listed one by one; a subdirectory's
//! own entries follow it when the walk recurses into it.
//!
//! The walk keeps its place on an explicit stack of open directories
//! rather than in the call stack, so that it can stop after each
//! directory and after each [`LOOK_BATCH`] names looked at
//! ([`Walker::step`]). Between steps the role sends keep-alives, where
//! rsync writes each entry as it goes: a whole list (no incremental
//! recursion, or protocol 29 and older) or one huge directory's sub-list
//! takes longer than a client's `--timeout`.

use super::{join_name, join_name_into, EntryFlags, Walker};
use crate::error::IoErrors;
use crate::flist::cmp_in_dir;
use crate::fs::{Dir, Meta, Names, RelPath};
use crate::role::text::quoted;
use std::rc::Rc;

/// How many names one step looks at.
const LOOK_BATCH: usize = 1024;

/// The most bytes of buffers kept from one directory for the next: those
/// of a directory of a few thousand names. Bigger ones are freed as
/// before, so that one huge directory does not hold its memory for the
/// rest of the walk.
const SPARE_MAX: usize = 256 * 1024;

/// The buffers of the last directory the walk left, for the next one to
/// fill rather than grow its own from nothing: in a tree of small
/// directories, growing them was most of the walk's allocator time.
#[derive(Default)]
pub(super) struct Spare {
    names: Option<Names>,
    kids: Vec<Kid>,
}

impl Spare {
    /// Keeps what a finished directory held, unless it is big.
    fn keep(&mut self, names: Names, mut kids: Vec<Kid>) {
        if names.held() <= SPARE_MAX {
            self.names = Some(names);
        }
        if kids.capacity().saturating_mul(std::mem::size_of::<Kid>()) <= SPARE_MAX {
            kids.clear();
            self.kids = kids;
        }
    }
}

/// A directory the walk is inside: its handle and where the walk is in
/// it.
pub(super) struct Frame {
    dir: Dir,
    /// Its name on the wire, and its path beneath the root.
    name: Vec<u8>,
    path: RelPath,
    /// The path its entries' names start from (see [`super::Item`]).
    base: Rc<RelPath>,
    recurse: bool,
    /// Its names, as read: the entries below point into them.
    names: Names,
    phase: Phase,
}

/// Where the walk is in a directory.
enum Phase {
    /// Looking at its names: the next one to look at, and the entries
    /// looked at and not excluded so far.
    Looking(usize, Vec<Kid>),
    /// Listing its entries, in rsync's order: the next one to list, and
    /// all of them.
    Listing(usize, Vec<Kid>),
}

impl Frame {
    /// The next entry to list; none while names are still looked at.
    fn next_kid(&mut self) -> Option<Kid> {
        match &mut self.phase {
            Phase::Listing(next, kids) => {
                let kid = kids.get(*next).copied();
                *next = next.saturating_add(1);
                kid
            }
            Phase::Looking(..) => None,
        }
    }

    /// Its buffers, for the next directory.
    fn into_spare(self, spare: &mut Spare) {
        let (Phase::Looking(_, kids) | Phase::Listing(_, kids)) = self.phase;
        spare.keep(self.names, kids);
    }
}

/// One entry of a directory, looked at and not excluded: its name is the
/// directory's `at`th. Its name on the wire and its path are made only
/// when it is listed, so the directory's names are not copied twice
/// over while they are looked at and sorted.
#[derive(Clone, Copy)]
struct Kid {
    at: usize,
    meta: Meta,
}

impl Walker<'_> {
    /// Starts listing the contents of directory `path` (named `name` on
    /// the wire, which starts from `base`); [`Walker::step`] goes on with
    /// it.
    pub(super) fn scan_dir(
        &mut self,
        base: &Rc<RelPath>,
        path: &RelPath,
        name: &[u8],
        recurse: bool,
    ) {
        match self.root.open_dir_follow(path) {
            Ok(dir) => self.enter(dir, base, path, name.to_vec(), recurse),
            Err(e) => self.note_error(
                IoErrors::GENERAL,
                format!("opendir {} failed", quoted(name)),
                e,
            ),
        }
    }

    /// Looks at the next batch of names of the innermost open directory,
    /// or lists its entries until the walk enters a subdirectory or is
    /// done with it; after a sub-list's directory, lists the `-R` names
    /// waiting for it. `false` when there is nothing left to do.
    pub fn step(&mut self) -> bool {
        let Some(mut top) = self.stack.pop() else {
            let Some(name) = self.resume.take() else {
                return false;
            };
            self.resume_deferred(&name);
            return true;
        };
        if self.look(&mut top) {
            self.stack.push(top);
            return true;
        }
        while let Some(kid) = top.next_kid() {
            if self.out.overflow {
                break;
            }
            if let Some(sub) = self.list_kid(&top, kid) {
                let (dir, path, name) = sub;
                let base = Rc::clone(&top.base);
                self.stack.push(top);
                self.enter(dir, &base, &path, name, true);
                return true;
            }
        }
        self.done_with(&top.name);
        top.into_spare(&mut self.spare);
        true
    }

    /// Takes every step left.
    pub(super) fn finish(&mut self) {
        while self.step() {}
    }

    /// Lists one entry; the directory to enter next if the walk recurses
    /// into it.
    fn list_kid(&mut self, top: &Frame, kid: Kid) -> Option<(Dir, RelPath, Vec<u8>)> {
        let Kid { at, meta } = kid;
        let leaf = top.names.get(at)?;
        let name = join_name(&top.name, leaf);
        let is_dir = meta.is_dir();
        let other_fs = is_dir && self.opts.one_file_system && meta.dev != self.top_dev;
        let recurse_here = is_dir && top.recurse && !other_fs;
        let flags = EntryFlags {
            content_dir: recurse_here,
            ..EntryFlags::default()
        };
        if meta.is_symlink() {
            let target = top.dir.read_link_at(leaf);
            self.push_link(name, &top.base, &meta, target);
            return None;
        }
        if !recurse_here || self.opts.divert {
            self.push(name, &top.base, &meta, flags);
            return None;
        }
        let path = top.path.join(leaf).ok()?;
        self.push(name.clone(), &top.base, &meta, flags);
        match top.dir.open_dir_at(leaf) {
            Ok(sub) => Some((sub, path, name)),
            Err(e) => {
                self.note_error(
                    IoErrors::GENERAL,
                    format!("opendir {} failed", quoted(&name)),
                    e,
                );
                None
            }
        }
    }

    /// Enters an open directory: puts its merge files' rules in force and
    /// reads its names, for [`Walker::step`] to look at and list.
    fn enter(
        &mut self,
        dir: Dir,
        base: &Rc<RelPath>,
        path: &RelPath,
        name: Vec<u8>,
        recurse: bool,
    ) {
        let root = self.root;
        let mut read = |f: &[u8]| -> Option<Vec<u8>> {
            let p = path.join(f).ok()?;
            let mut file = root.open_file(&p).ok()?;
            let mut v = Vec::new();
            std::io::Read::read_to_end(&mut std::io::Read::take(&mut file, (1 << 20) + 1), &mut v)
                .ok()?;
            Some(v)
        };
        self.filter.enter_dir(&name, &mut read);
        let mut names = self.spare.names.take().unwrap_or_default();
        if let Err(e) = dir.read_names_into(self.opts.max_entries.saturating_add(1), &mut names) {
            self.note_error(IoErrors::GENERAL, format!("readdir({})", quoted(&name)), e);
            self.done_with(&name);
            return;
        }
        let mut kids = std::mem::take(&mut self.spare.kids);
        kids.reserve(names.len());
        self.stack.push(Frame {
            dir,
            name,
            path: path.clone(),
            base: Rc::clone(base),
            recurse,
            names,
            phase: Phase::Looking(0, kids),
        });
    }

    /// Looks at the next [`LOOK_BATCH`] names of `top`; once all have
    /// been, puts the entries in rsync's order for listing. Whether names
    /// are left.
    fn look(&mut self, top: &mut Frame) -> bool {
        let Phase::Looking(next, kids) = &mut top.phase else {
            return false;
        };
        let end = next.saturating_add(LOOK_BATCH).min(top.names.len());
        for at in *next..end {
            let Some(c_leaf) = top.names.get_c(at) else {
                continue;
            };
            let leaf = c_leaf.to_bytes();
            if !top.path.can_join(leaf) {
                continue;
            }
            let meta = match top.dir.lstat_c(c_leaf) {
                Ok(m) => m,
                Err(e) => {
                    let name = join_name(&top.name, leaf);
                    let what = format!("readlink_stat {} failed", quoted(&name));
                    self.note_error(IoErrors::VANISHED, what, e);
                    continue;
                }
            };
            if self.kept(&top.name, leaf, meta.is_dir()) {
                kids.push(Kid { at, meta });
            }
        }
        *next = end;
        if end < top.names.len() {
            return true;
        }
        let mut kids = std::mem::take(kids);
        // rsync's order within a directory (protocol 29 on): files first,
        // then each directory followed by its contents. The list is then
        // already sorted when it is sorted as a whole.
        let names = &top.names;
        let leaf = |k: &Kid| names.get(k.at).unwrap_or_default();
        // Names in one directory are distinct, so no two compare equal and
        // an unstable sort gives the one order, without a scratch buffer.
        kids.sort_unstable_by(|a, b| {
            cmp_in_dir(leaf(a), a.meta.is_dir(), leaf(b), b.meta.is_dir())
        });
        if self.out.items.is_empty() {
            // A sub-list is one directory: its entries, in one allocation
            // of their size rather than a doubling one.
            self.out.items.reserve_exact(kids.len());
        }
        top.phase = Phase::Listing(0, kids);
        false
    }

    /// Whether the filter keeps `leaf` of directory `dir` (named on the
    /// wire). The entry's name is made only for a filter with rules to
    /// ask.
    fn kept(&mut self, dir: &[u8], leaf: &[u8], is_dir: bool) -> bool {
        if self.filter.excludes_nothing() {
            return true;
        }
        join_name_into(dir, leaf, &mut self.scratch);
        !self.filter.excluded(&self.scratch, is_dir)
    }

    /// Records a problem: its `io_error` bit and the line the client sees.
    pub(super) fn note_error(&mut self, bit: IoErrors, what: String, e: std::io::Error) {
        self.out.io_error.insert(bit);
        self.out.notes.push(super::WalkNote::Error(what, e));
    }
}
