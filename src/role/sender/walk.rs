//! Building the sender's file list from the client's source arguments
//! (`send_file_list`, `send_directory` and `send_implied_dirs` in
//! `flist.c`), beneath the confined root.
//!
//! Every name is resolved through [`crate::fs::Root`] or a [`Dir`] handle
//! opened beneath it; a directory is entered with `O_NOFOLLOW`, so a
//! directory swapped for a symlink is skipped rather than followed.
//!
//! Under `--munge-links` (or rrsync's `-munge`) a symlink the receiver
//! stored as `/rsyncd-munged/TARGET` is listed with `TARGET`, as rsync's
//! sender does in `readlink_stat` (`flist.c`, all protocols): a pull
//! returns what the push sent. The entry's size stays the `lstat` size,
//! as in rsync.

use std::collections::HashSet;
use std::io;
use std::rc::Rc;

use super::args::{display_arg, split_plain, split_relative, JoinRel, NameType};

#[path = "walk_defer.rs"]
mod defer;
#[path = "walk_dirs.rs"]
mod dirs;
#[path = "walk_types.rs"]
mod types;
use crate::flist::{EntryFlags, FileEntry, FileKind};
use crate::fs::{Meta, RelPath, Root};
pub use types::{unmunge, Exclude, Item, NoFilter, Walk, WalkNote, WalkOptions};

/// Walks the sources.
pub struct Walker<'a> {
    root: &'a Root,
    opts: WalkOptions,
    filter: &'a mut dyn Exclude,
    out: Walk,
    implied_seen: HashSet<Vec<u8>>,
    top_dev: u64,
    /// Diverted walk: the directories whose filter rules are in force,
    /// outermost first (their contents were listed; their subtrees are
    /// still being sent).
    entered: Vec<Vec<u8>>,
    /// Diverted `-R` names waiting for their parent directory's list.
    deferred: std::collections::HashMap<Vec<u8>, Vec<defer::Deferred>>,
    /// The directories the walk is inside, innermost last.
    stack: Vec<dirs::Frame>,
    /// The sub-list whose `-R` names come once its directory is done.
    resume: Option<Vec<u8>>,
    /// The name on the wire of the entry being looked at, for the filter.
    scratch: Vec<u8>,
    /// The buffers of the last directory left, for the next one.
    spare: dirs::Spare,
}

impl<'a> Walker<'a> {
    /// A walker over `root`.
    pub fn new(root: &'a Root, opts: WalkOptions, filter: &'a mut dyn Exclude) -> Self {
        Self {
            root,
            opts,
            filter,
            out: Walk::default(),
            implied_seen: HashSet::new(),
            top_dev: 0,
            entered: Vec::new(),
            deferred: std::collections::HashMap::new(),
            stack: Vec::new(),
            resume: None,
            scratch: Vec::new(),
            spare: dirs::Spare::default(),
        }
    }

    /// Lists one source argument as the client wrote it (already stripped
    /// of a leading `/` and free of `..`). A directory's contents are
    /// listed by the [`Walker::step`]s that follow.
    pub fn add_source(&mut self, arg: &[u8]) {
        if self.out.overflow {
            return;
        }
        let (base, name, nt) = if self.opts.relative {
            split_relative(arg)
        } else {
            split_plain(arg)
        };
        let Ok(base) = RelPath::new(&base) else {
            self.bad_arg(arg, io::Error::from_raw_os_error(libc_enoent()));
            return;
        };
        let Ok(path) = base.join_rel(&name) else {
            self.bad_arg(arg, io::Error::from_raw_os_error(libc_enoent()));
            return;
        };
        if self.opts.divert && self.opts.relative && name.contains(&b'/') {
            // Incremental: each list holds one level, so the path's
            // parents go first and the name waits for its parent's list.
            self.defer(arg, base, name, nt);
            return;
        }
        self.add_parsed(arg, &base, &path, name, nt);
    }

    /// Lists one source argument, split into its base, path and name.
    fn add_parsed(
        &mut self,
        arg: &[u8],
        base: &RelPath,
        path: &RelPath,
        name: Vec<u8>,
        nt: NameType,
    ) {
        let follow = nt == NameType::DotDir;
        let meta = if follow {
            self.root.stat(path)
        } else {
            self.root.lstat(path)
        };
        let meta = match meta {
            Ok(m) => m,
            Err(e) => {
                self.bad_arg(&display_arg(arg), e);
                return;
            }
        };
        if nt != NameType::DotDir && self.filter.excluded(&name, meta.is_dir()) {
            return;
        }
        if meta.is_dir() && !self.opts.dirs && !self.opts.recursive {
            let shown = String::from_utf8_lossy(&name).into_owned();
            self.out
                .notes
                .push(WalkNote::Info(format!("skipping directory {shown}")));
            return;
        }
        if self.opts.relative && self.opts.implied_dirs {
            self.add_implied_dirs(base, &name);
        }
        self.top_dev = meta.dev;
        let content =
            meta.is_dir() && (self.opts.recursive || (self.opts.dirs && nt == NameType::DotDir));
        let flags = EntryFlags {
            top_dir: content,
            content_dir: content,
            implied_dir: false,
        };
        let base = Rc::new(base.clone());
        self.push(name.clone(), &base, &meta, flags);
        // Diverted, a directory's contents come in its own sub-list,
        // except for `dir/.`, whose contents are the top level.
        if content && (!self.opts.divert || name == b".") {
            self.scan_dir(&base, path, &name, self.opts.recursive);
        }
    }

    /// Filter rules skipped so far (see [`Exclude::skipped_rules`]).
    pub fn skipped_rules(&self) -> usize {
        self.filter.skipped_rules()
    }

    /// What was listed since the last call: one file list's entries
    /// (with the steps still left taken first).
    pub fn take(&mut self) -> Walk {
        self.finish();
        std::mem::take(&mut self.out)
    }

    /// Starts listing the contents of directory `name` (on the wire; its
    /// path is `base` joined with it), as one sub-list of a diverted walk
    /// (`send1extra`), which the [`Walker::step`]s that follow go on
    /// with: the filter rules of the directories around it are put in
    /// force first, and the `-R` names waiting for it come last. A
    /// directory without content (`-x` boundary, implied parent) lists
    /// nothing of its own.
    pub fn scan_sub_list(&mut self, base: &Rc<RelPath>, name: &[u8], content: bool) {
        while let Some(top) = self.entered.last() {
            if is_ancestor(top, name) {
                break;
            }
            self.entered.pop();
            self.filter.leave_dir();
        }
        if content {
            match base.join_rel(name) {
                Ok(path) => self.scan_content(base, &path, name),
                Err(e) => self.note_error(
                    crate::error::IoErrors::GENERAL,
                    format!("opendir {} failed", crate::role::text::quoted(name)),
                    e.into(),
                ),
            }
        }
        self.resume = Some(name.to_vec());
    }

    /// A sub-list's own entries: the directory's contents.
    fn scan_content(&mut self, base: &Rc<RelPath>, path: &RelPath, name: &[u8]) {
        if self.opts.one_file_system {
            match self.root.stat(path) {
                Ok(m) => self.top_dev = m.dev,
                Err(e) => {
                    let what = format!("link_stat {} failed", crate::role::text::quoted(name));
                    self.note_error(crate::error::IoErrors::VANISHED, what, e);
                    return;
                }
            }
        }
        self.scan_dir(base, path, name, true);
    }

    /// Leaves a directory's filter rules: at once in a whole walk, when
    /// the walk moves out of its subtree in a diverted one.
    fn done_with(&mut self, name: &[u8]) {
        if self.opts.divert {
            self.entered.push(name.to_vec());
        } else {
            self.filter.leave_dir();
        }
    }

    fn bad_arg(&mut self, shown: &[u8], e: io::Error) {
        let missing = e.kind() == io::ErrorKind::NotFound;
        if missing && self.opts.ignore_missing_args {
            // `--ignore-missing-args`: left out, as rsync's sender does.
            return;
        }
        // A missing argument is a transfer error but does not mark the
        // list incomplete (rsync only inhibits deletion for other errors).
        if !missing {
            self.out.io_error.insert(crate::error::IoErrors::GENERAL);
        }
        let what = format!("link_stat {} failed", crate::role::text::quoted(shown));
        self.out.notes.push(WalkNote::Error(what, e));
    }

    fn add_implied_dirs(&mut self, base: &RelPath, name: &[u8]) {
        let mut prefix = Vec::new();
        let comps: Vec<&[u8]> = name
            .split(|&b| b == b'/')
            .filter(|c| !c.is_empty())
            .collect();
        let Some((_, parents)) = comps.split_last() else {
            return;
        };
        for c in parents {
            if !prefix.is_empty() {
                prefix.push(b'/');
            }
            prefix.extend_from_slice(c);
            if !self.implied_seen.insert(prefix.clone()) {
                continue;
            }
            if !self.push_implied(base, &prefix) {
                return;
            }
        }
    }

    fn push_link(
        &mut self,
        name: Vec<u8>,
        base: &Rc<RelPath>,
        meta: &Meta,
        target: io::Result<Vec<u8>>,
    ) {
        match target {
            Ok(t) => {
                let mut e = entry_from_meta(name, meta, EntryFlags::default());
                e.link_target = Some(if self.opts.munge_links { unmunge(t) } else { t });
                self.push_entry(e, base);
            }
            Err(err) => {
                let what = format!("readlink {} failed", crate::role::text::quoted(&name));
                self.note_error(crate::error::IoErrors::GENERAL, what, err);
            }
        }
    }

    /// Lists `name`, whose path is `base` joined with it.
    fn push(&mut self, name: Vec<u8>, base: &Rc<RelPath>, meta: &Meta, flags: EntryFlags) {
        if meta.is_symlink() {
            let t = base
                .join_rel(&name)
                .map_err(io::Error::from)
                .and_then(|p| self.root.read_link(&p));
            self.push_link(name, base, meta, t);
            return;
        }
        let mut e = entry_from_meta(name, meta, flags);
        if self.opts.fake_super && (meta.is_file() || meta.is_dir()) {
            let path = base.join_rel(&e.name).ok();
            if let Some(fe) = path.and_then(|p| self.fake_entry(e.clone(), &p, meta)) {
                if let Some(fe) = fe {
                    self.push_entry(fe, base);
                }
                return;
            }
        }
        let every_file = self.opts.hlink_every_file && meta.is_file();
        if self.opts.hard_links && !meta.is_dir() && (meta.nlink > 1 || every_file) {
            e.hlink = Some((meta.dev, meta.ino));
        }
        self.push_entry(e, base);
    }

    /// `--fake-super` (`x_lstat`, `do_readlink`): the entry as its record
    /// describes it. `None` when there is no record; `Some(None)` when
    /// the recorded type is not wanted (a symlink without `-l`, a device
    /// without `-D`).
    fn fake_entry(
        &mut self,
        mut e: FileEntry,
        path: &RelPath,
        m: &Meta,
    ) -> Option<Option<FileEntry>> {
        use crate::fs::Attrs;
        use crate::meta::fake::{FakeStat, STAT};
        let at = self.root.meta_at(path).ok()?;
        let s = FakeStat::parse(&at.get(STAT).ok().flatten()?)?;
        let (stored, real) = (s.mode & 0o170000, m.mode & 0o170000);
        if stored != real && (m.is_dir() || stored == 0o040000) {
            return None;
        }
        e.mode = s.mode;
        e.uid = s.uid;
        e.gid = s.gid;
        e.rdev = s.rdev;
        Some(match e.kind() {
            FileKind::Symlink if self.opts.links => {
                let mut t = Vec::new();
                let f = self.root.open_file(path).ok()?;
                std::io::Read::read_to_end(&mut std::io::Read::take(f, 4096), &mut t).ok()?;
                e.size = t.len() as u64;
                e.link_target = Some(t);
                Some(e)
            }
            FileKind::Symlink => None,
            FileKind::Device if !self.opts.devices => None,
            FileKind::Special if !self.opts.specials => None,
            _ => Some(e),
        })
    }

    fn push_entry(&mut self, entry: FileEntry, base: &Rc<RelPath>) {
        if self.out.items.len() >= self.opts.max_entries {
            self.out.overflow = true;
            return;
        }
        let base = Rc::clone(base);
        self.out.items.push(Item { entry, base });
    }
}

/// Builds an entry from metadata.
fn entry_from_meta(name: Vec<u8>, m: &Meta, flags: EntryFlags) -> FileEntry {
    let mut e = FileEntry::new(name, m.mode);
    // rsync sends st_size for every type, directories included.
    e.size = m.size;
    e.mtime = m.mtime_sec;
    e.mtime_nsec = m.mtime_nsec;
    e.atime = m.atime_sec;
    e.uid = m.uid;
    e.gid = m.gid;
    e.rdev = (m.rdev_major, m.rdev_minor);
    e.flags = flags;
    e
}

/// Whether directory `dir` contains `name` (`.` contains everything).
fn is_ancestor(dir: &[u8], name: &[u8]) -> bool {
    dir == b"."
        || name
            .strip_prefix(dir)
            .is_some_and(|rest| rest.first() == Some(&b'/'))
}

fn join_name(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(dir.len() + 1 + name.len());
    join_name_into(dir, name, &mut v);
    v
}

/// [`join_name`] into `out`, which it clears first.
fn join_name_into(dir: &[u8], name: &[u8], out: &mut Vec<u8>) {
    out.clear();
    if dir != b"." && !dir.is_empty() {
        out.extend_from_slice(dir);
        out.push(b'/');
    }
    out.extend_from_slice(name);
}

fn libc_enoent() -> i32 {
    2
}

#[cfg(test)]
mod tests {
    use super::unmunge;

    #[test]
    fn unmunge_strips_one_prefix_with_something_after_it() {
        let u = |t: &[u8]| unmunge(t.to_vec());
        assert_eq!(u(b"/rsyncd-munged/../x"), b"../x");
        assert_eq!(u(b"/rsyncd-munged//abs"), b"/abs");
        assert_eq!(u(b"/rsyncd-munged//rsyncd-munged/x"), b"/rsyncd-munged/x");
        assert_eq!(u(b"/rsyncd-munged/"), b"/rsyncd-munged/");
        assert_eq!(u(b"plain"), b"plain");
        assert_eq!(u(b"/rsyncd-munge"), b"/rsyncd-munge");
    }
}
