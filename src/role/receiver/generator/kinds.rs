//! Directories and symlinks on the generator side (`recv_generator` in
//! `generator.c`, protocols 27 to 32): a directory is created or its
//! attributes brought up to date, a symlink created or replaced, and each
//! is itemized; a name in the way goes only with the deletion permit.

use super::super::attrs::{self, item};
use super::super::basis;
use super::super::RecvError;
use super::{show, Gen};
use crate::flist::item::ItemFlags;
use crate::flist::FileEntry;
use crate::fs::{Meta, RelPath};

impl Gen<'_, '_> {
    /// `--safe-links`: whether symlink `e` leads outside the transfer and
    /// is left out (said with `-v`, in rsync's words).
    pub(super) fn unsafe_link(&self, e: &FileEntry) -> bool {
        let o = &self.cfg.opts;
        let target = e.link_target.as_deref().unwrap_or(&[]);
        if !o.links || !o.safe_links || !super::super::unsafe_link::is_unsafe(target, &e.name) {
            return false;
        }
        if o.verbose > 0 || o.itemize {
            let line = format!(
                "ignoring unsafe symlink \"{}\" -> \"{}\"\n",
                show(&e.name),
                show(target)
            );
            self.out.msg(crate::wire::MsgCode::Info, line.as_bytes());
        }
        true
    }

    pub(super) fn dir(
        &mut self,
        ndx: usize,
        e: &FileEntry,
        path: &RelPath,
        cur: Option<&Meta>,
    ) -> Result<(), RecvError> {
        let o = &self.cfg.opts;
        let mut iflags = ItemFlags::EMPTY;
        let fresh_top = e.name == b"." && self.dest.created;
        // Made when met in its parent's list: itemized as new here.
        let early = self.created_early.remove(&e.name);
        let cur = if early { None } else { cur };
        let mut create = false;
        // A directory matched in a --*-dest directory (same attributes)
        // is made without an item of its own (`try_dests_non`).
        let mut matched = false;
        match cur {
            Some(_) if fresh_top => iflags |= self.new_dir_flags(e, &mut matched),
            // Only what may change is reported (not under -no-overwrite).
            Some(m) if m.is_dir() && self.w.may_change(path, self.cfg.overwrite.as_ref()) => {
                iflags |= attrs::changes(o, e, m) | self.meta_changes(e, Some(path))
            }
            Some(m) if m.is_dir() => {}
            // Without the overwrite permit nothing is made room for
            // (`-no-overwrite` is passed over before this, as
            // `--ignore-existing`).
            Some(_) if self.cfg.overwrite.is_none() => return Ok(()),
            Some(m) => {
                let line = format!(
                    "rsync: [generator] cannot replace non-directory \"{}\" with a directory: deleting is not allowed on this server",
                    show(&e.name)
                );
                if !self.make_room(path, e, m, Some(line))? {
                    return Ok(());
                }
                create = true;
                iflags |= item::IS_NEW | item::LOCAL_CHANGE;
            }
            None => {
                create = true;
                iflags |= self.new_dir_flags(e, &mut matched);
                iflags |= self.meta_changes(e, None);
            }
        }
        if create && !early && !o.dry_run {
            // Without -p a new directory gets the sender's bits less the
            // umask, as rsync creates it; with -p the exact mode follows.
            let mode = if o.perms { 0o700 } else { e.mode & 0o777 };
            if let Err(err) = self.w.mkdir(path, mode) {
                self.out.rsyserr(
                    "generator",
                    &format!("mkdir \"{}\" failed", show(&e.name)),
                    &err,
                );
                return Ok(());
            }
        }
        if !o.dry_run {
            // An existing directory was looked at just before; one made
            // here (or earlier, in its parent's list) is looked at anew.
            match cur.copied() {
                Some(m) if !create => {
                    let _ = attrs::apply_seen(self.cfg, self.w, e, path, self.out, false, Some(m));
                }
                _ => {
                    let _ = attrs::apply_path(self.cfg, self.w, e, path, self.out, false);
                }
            }
            self.meta_apply(e, path);
            self.dirs.push((path.clone(), (e.mtime, e.mtime_nsec)));
        }
        if matched {
            return self.alt_matched(ndx, e, item::LOCAL_CHANGE, None);
        }
        self.itemize(ndx, iflags)
    }

    /// A new directory's item flags: against a directory of its name in
    /// a `--*-dest` directory, if any (`matched`: one with the same
    /// attributes), else new.
    fn new_dir_flags(&self, e: &FileEntry, matched: &mut bool) -> ItemFlags {
        match basis::alt_dir_meta(self.cfg, &e.name) {
            Some(am) => {
                let diff = attrs::changes(&self.cfg.opts, e, &am);
                *matched = diff.is_empty();
                item::LOCAL_CHANGE | diff
            }
            None => item::IS_NEW | item::LOCAL_CHANGE,
        }
    }

    pub(super) fn symlink(
        &mut self,
        ndx: usize,
        e: &FileEntry,
        path: &RelPath,
        cur: Option<&Meta>,
    ) -> Result<(), RecvError> {
        let o = &self.cfg.opts;
        let target = attrs::stored_target(o, e.link_target.as_deref().unwrap_or(&[]));
        let mut iflags = item::IS_NEW | item::LOCAL_CHANGE;
        // A copy from a --copy-dest match is made without a word more.
        let mut quiet = false;
        if cur.is_none() && !o.dry_run {
            use crate::cli::AltDest;
            match basis::exact_alt(self.cfg, e, Some(&target)) {
                Some((AltDest::Compare, _, _)) => {
                    return self.alt_matched(ndx, e, ItemFlags::EMPTY, None)
                }
                Some((AltDest::Link, alt, _)) if self.w.hard_link(&alt, path).is_ok() => {
                    return self.alt_matched(ndx, e, item::LOCAL_CHANGE, Some(b""));
                }
                Some((AltDest::Copy, _, _)) => {
                    self.alt_matched(ndx, e, item::LOCAL_CHANGE, None)?;
                    quiet = true;
                }
                _ => {}
            }
        }
        if let Some(m) = cur {
            if m.is_symlink()
                && self.cfg.root.read_link(path).ok().as_deref() == Some(target.as_slice())
            {
                let ch = if self.w.may_change(path, self.cfg.overwrite.as_ref()) {
                    attrs::changes(o, e, m)
                } else {
                    ItemFlags::EMPTY
                };
                // With -U a link whose access time differed (before reading
                // it just now moved it) gets the sender's, as with rsync.
                let atime = attrs::atime_to_set(o, e, Some(m)).is_some()
                    && self.w.may_change(path, self.cfg.overwrite.as_ref());
                // rsync's `set_file_attrs` sees to an unchanged link's
                // time and owners alike.
                if !o.dry_run && (!ch.is_empty() || atime) {
                    let _ = attrs::apply_path(self.cfg, self.w, e, path, self.out, true);
                }
                self.uptodate(e, !ch.is_empty());
                return self.itemize(ndx, ch);
            }
            if self.cfg.overwrite.is_none() {
                return Ok(());
            }
            if m.is_dir() {
                if !self.make_room(path, e, m, None)? {
                    return Ok(());
                }
            } else if let (true, false, Some(p)) =
                (o.backup, o.dry_run, self.cfg.overwrite.as_ref())
            {
                // rsync backs up a file or symlink a symlink replaces.
                let _ = super::super::dest::make_backup(o, self.w, path, &e.name, p);
            }
            // A symlink in place of another type is itemized as new, as
            // rsync's generator does after `atomic_create`.
            iflags = item::LOCAL_CHANGE | item::REPORT_CHANGE;
            if !m.is_symlink() {
                iflags |= item::IS_NEW;
            }
        }
        if !o.dry_run {
            if let Err(err) = attrs::place_symlink(self.cfg, self.w, path, &target, cur.is_some()) {
                self.out.rsyserr(
                    "generator",
                    &format!("symlink \"{}\" failed", show(&e.name)),
                    &err,
                );
                return Ok(());
            }
            let _ = attrs::apply_path(self.cfg, self.w, e, path, self.out, true);
        }
        if quiet {
            return Ok(());
        }
        self.itemize(ndx, iflags)
    }

    /// `--fake-super`: a symlink, device or special file is kept as a
    /// regular file (holding a symlink's target) and a record of what it
    /// is; an existing stand-in only gets its attributes brought up to
    /// date.
    pub(super) fn fake_node(
        &mut self,
        ndx: usize,
        e: &FileEntry,
        path: &RelPath,
        cur: Option<&Meta>,
    ) -> Result<(), RecvError> {
        use super::super::fake;
        let o = &self.cfg.opts;
        let permit = self.cfg.overwrite.as_ref();
        if let Some(m) = cur {
            if m.is_file() && fake::stands_for(self.cfg, e, path) {
                let mut seen = *m;
                if let Some(s) = fake::stored(self.cfg, path) {
                    (seen.mode, seen.uid, seen.gid) = (s.mode, s.uid, s.gid);
                }
                let may = self.w.may_change(path, permit);
                let ch = if may {
                    attrs::changes(o, e, &seen)
                } else {
                    ItemFlags::EMPTY
                };
                if !o.dry_run && !ch.is_empty() {
                    fake::apply_path(self.cfg, self.w, e, path, self.out);
                    let at = attrs::atime_to_set(o, e, Some(m));
                    let _ = self
                        .w
                        .set_times(path, Some((e.mtime, e.mtime_nsec)), at, permit);
                }
                return self.itemize(ndx, ch);
            }
            if permit.is_none() {
                return Ok(());
            }
            if m.is_dir() && !self.make_room(path, e, m, None)? {
                return Ok(());
            }
        }
        let replace = cur.is_some_and(|m| !m.is_dir());
        if !o.dry_run {
            if let Err(err) = fake::make(self.cfg, self.w, e, path, replace) {
                self.out.rsyserr(
                    "generator",
                    &format!("mknod \"{}\" failed", show(&e.name)),
                    &err,
                );
                return Ok(());
            }
            let at = attrs::atime_to_set(o, e, None);
            let _ = self
                .w
                .set_times(path, Some((e.mtime, e.mtime_nsec)), at, permit);
        }
        let iflags = if cur.is_some() {
            item::LOCAL_CHANGE | item::REPORT_CHANGE
        } else {
            item::IS_NEW | item::LOCAL_CHANGE
        };
        self.itemize(ndx, iflags)
    }
}
