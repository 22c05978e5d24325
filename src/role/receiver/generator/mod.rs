//! The generator (`generate_files` and `recv_generator` in
//! `generator.c`): walks the sorted list, brings directories, symlinks and
//! unchanged files up to date locally, and asks the client for the rest
//! with the block sums of each basis (`generate_and_send_sums`).

mod links;

use crate::flist::item::ItemFlags;
use std::io::Write;
use std::sync::mpsc::Receiver;

use super::attrs::{self, item};
use super::basis;
use super::delete::Deleter;
use super::dest::Dest;
use super::{DeleteWhen, List, ReceiverConfig, RecvError, Shared, ToGen};
use crate::flist::{FileEntry, FileKind};
use crate::fs::{Meta, RelPath, Writer};
use crate::wire::{put_u16, put_varint, NDX_DEL_STATS, NDX_DONE};

/// What the generator reports back.
#[derive(Debug, Default)]
pub(crate) struct GenStats {
    pub(crate) deleted: u64,
}

struct Gen<'a, 'c, W: Write> {
    cfg: &'a ReceiverConfig<'c>,
    /// Every change to the tree goes through here.
    w: &'a Writer<'c>,
    list: &'a List,
    dest: &'a Dest,
    out: Shared<W>,
    protocol: u32,
    dirs: Vec<(RelPath, usize)>,
    reqs: &'a super::requests::Requests,
    deleter: Option<Deleter<'a, 'c>>,
}

/// Runs the generator to the end of the session.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run<'c, W: Write>(
    cfg: &ReceiverConfig<'c>,
    w: &Writer<'c>,
    list: &List,
    dest: &Dest,
    out: Shared<W>,
    rx: Receiver<ToGen>,
    protocol: u32,
    reqs: &super::requests::Requests,
) -> Result<GenStats, RecvError> {
    let deleter = cfg
        .delete
        .as_ref()
        .filter(|_| cfg.opts.delete)
        .map(|p| Deleter::new(cfg, w, list, dest, p));
    let mut g = Gen {
        cfg,
        w,
        list,
        dest,
        out,
        protocol,
        dirs: Vec::new(),
        reqs,
        deleter,
    };
    let result = g.generate(&rx);
    if result.is_err() {
        let _ = g.out.flush();
    }
    result?;
    Ok(GenStats {
        deleted: g.deleter.as_ref().map_or(0, Deleter::count),
    })
}

impl<W: Write> Gen<'_, '_, W> {
    fn generate(&mut self, rx: &Receiver<ToGen>) -> Result<(), RecvError> {
        let p = self.protocol;
        let when = self.cfg.opts.delete_when;
        if let Some(d) = self.deleter.as_mut().filter(|_| when == DeleteWhen::Before) {
            d.delete_all(&self.out)?;
        }
        for i in 0..self.list.entries.len() {
            if self.list.active.get(i) == Some(&true) {
                self.entry(i, false)?;
                self.reqs.settle(i);
                if let (Some(d), Some(e)) = (self.deleter.as_mut(), self.list.entries.get(i)) {
                    if when == DeleteWhen::During {
                        d.delete_dir(e, &self.out)?;
                    }
                }
            }
        }
        if let Some(d) = self.deleter.as_mut().filter(|_| when == DeleteWhen::During) {
            d.finish(&self.out)?;
        }
        self.done()?;
        // Phase 1: files that failed their checksum are asked for again.
        loop {
            match rx.recv() {
                Ok(ToGen::Redo(i)) => self.entry(i, true)?,
                Ok(ToGen::PhaseDone(n)) if n >= 1 => break,
                Ok(ToGen::PhaseDone(_)) => {}
                Ok(ToGen::Stopped) | Err(_) => return Ok(()),
            }
        }
        // Every group leader has arrived: link the other names to it.
        self.link_followers()?;
        self.done()?;
        if p >= 29 {
            self.done()?;
        }
        if p >= 31 {
            if self.cfg.opts.delete {
                self.del_stats()?;
            }
            self.done()?;
        }
        while !matches!(rx.recv(), Ok(ToGen::Stopped) | Err(_)) {}
        if let Some(d) = self.deleter.as_mut().filter(|_| when == DeleteWhen::After) {
            d.delete_all(&self.out)?;
        }
        self.touch_dirs();
        self.done()
    }

    /// Writes `NDX_DONE` and flushes.
    fn done(&mut self) -> Result<(), RecvError> {
        let mut o = self.out.lock()?;
        o.put_ndx(NDX_DONE)?;
        o.w.flush()?;
        Ok(())
    }

    fn del_stats(&mut self) -> Result<(), RecvError> {
        let n = self.deleter.as_ref().map_or(0, Deleter::count) as i32;
        let mut o = self.out.lock()?;
        o.put_ndx(NDX_DEL_STATS)?;
        let mut b = Vec::new();
        for v in [n, 0, 0, 0, 0] {
            put_varint(&mut b, v);
        }
        o.w.write_all(&b)?;
        Ok(())
    }

    /// Sends an item record without a transfer (`itemize`).
    fn itemize(&self, ndx: usize, iflags: ItemFlags) -> Result<(), RecvError> {
        if self.protocol < 29 || !iflags.intersects(item::SIGNIFICANT) {
            return Ok(());
        }
        if let (Some(e), false) = (self.list.entries.get(ndx), self.cfg.opts.dry_run) {
            self.cfg.log.item(iflags, e, None);
        }
        let mut o = self.out.lock()?;
        o.put_ndx(ndx as i32)?;
        let mut b = Vec::with_capacity(2);
        put_u16(&mut b, iflags.bits());
        o.w.write_all(&b)?;
        Ok(())
    }

    fn entry(&mut self, ndx: usize, redo: bool) -> Result<(), RecvError> {
        let Some(e) = self.list.entries.get(ndx) else {
            return Ok(());
        };
        let Ok(path) = self.dest.path_of(&e.name) else {
            self.out.error_xfer(&format!(
                "rsync: [generator] skipping unusable name \"{}\"",
                show(&e.name)
            ))?;
            return Ok(());
        };
        let cur = self.cfg.root.lstat(&path).ok();
        match e.kind() {
            FileKind::Dir => self.dir(ndx, e, &path, cur.as_ref()),
            FileKind::Symlink if self.cfg.opts.links => self.symlink(ndx, e, &path, cur.as_ref()),
            FileKind::File => self.file(ndx, e, &path, cur.as_ref(), redo),
            _ => Ok(()),
        }
    }

    fn dir(
        &mut self,
        ndx: usize,
        e: &FileEntry,
        path: &RelPath,
        cur: Option<&Meta>,
    ) -> Result<(), RecvError> {
        let o = &self.cfg.opts;
        let mut iflags = ItemFlags::EMPTY;
        let fresh_top = e.name == b"." && self.dest.created;
        let mut create = false;
        match cur {
            Some(_) if fresh_top => iflags |= item::IS_NEW | item::LOCAL_CHANGE,
            // Only what may change is reported (not under -no-overwrite).
            Some(m) if m.is_dir() && self.w.may_change(path, self.cfg.overwrite.as_ref()) => {
                iflags |= attrs::changes(o, e, m)
            }
            Some(m) if m.is_dir() => {}
            Some(_) if self.cfg.opts.ignore_existing => return Ok(()),
            Some(_) => {
                let Some(d) = self.deleter.as_mut() else {
                    self.out.error_xfer(&format!(
                        "rsync: [generator] cannot replace non-directory \"{}\" with a directory: deleting is not allowed on this server",
                        show(&e.name)
                    ))?;
                    return Ok(());
                };
                if !o.dry_run {
                    d.remove_one(path, &self.out)?;
                }
                create = true;
                iflags |= item::IS_NEW | item::LOCAL_CHANGE;
            }
            None => {
                create = true;
                // Itemized against a directory in a --*-dest dir, if any.
                iflags |= match basis::alt_dir_meta(self.cfg, &e.name) {
                    Some(am) => item::LOCAL_CHANGE | attrs::changes(o, e, &am),
                    None => item::IS_NEW | item::LOCAL_CHANGE,
                };
            }
        }
        if create && !o.dry_run {
            // Without -p a new directory gets the sender's bits less the
            // umask, as rsync creates it; with -p the exact mode follows.
            let mode = if o.perms { 0o700 } else { e.mode & 0o777 };
            if let Err(err) = self.w.mkdir(path, mode) {
                self.out.rsyserr(
                    "generator",
                    &format!("mkdir \"{}\" failed", show(&e.name)),
                    &err,
                )?;
                return Ok(());
            }
        }
        if !o.dry_run {
            attrs::apply_path(self.cfg, self.w, e, path, &self.out, false);
            self.dirs.push((path.clone(), ndx));
        }
        self.itemize(ndx, iflags)
    }

    fn symlink(
        &mut self,
        ndx: usize,
        e: &FileEntry,
        path: &RelPath,
        cur: Option<&Meta>,
    ) -> Result<(), RecvError> {
        let o = &self.cfg.opts;
        let target = attrs::stored_target(o, e.link_target.as_deref().unwrap_or(&[]));
        let mut iflags = item::IS_NEW | item::LOCAL_CHANGE;
        if cur.is_none() && !o.dry_run {
            use crate::cli::AltDest;
            match basis::exact_alt(self.cfg, e, Some(&target)) {
                Some((AltDest::Compare, _, _)) => return Ok(()),
                Some((AltDest::Link, alt, _)) if self.w.hard_link(&alt, path).is_ok() => {
                    return Ok(())
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
                if !o.dry_run && ch.intersects(item::REPORT_TIME) {
                    attrs::apply_path(self.cfg, self.w, e, path, &self.out, true);
                }
                return self.itemize(ndx, ch);
            }
            if o.ignore_existing || self.cfg.overwrite.is_none() {
                return Ok(());
            }
            if m.is_dir() {
                let Some(d) = self.deleter.as_mut() else {
                    return Ok(());
                };
                if !o.dry_run {
                    d.remove_one(path, &self.out)?;
                }
            } else if let (true, false, Some(p)) =
                (o.backup, o.dry_run, self.cfg.overwrite.as_ref())
            {
                // rsync backs up a file or symlink a symlink replaces.
                let _ = super::dest::make_backup(o, self.w, path, &e.name, p);
            }
            iflags = item::LOCAL_CHANGE | item::REPORT_CHANGE;
        }
        if !o.dry_run {
            if let Err(err) = attrs::place_symlink(self.cfg, self.w, path, &target, cur.is_some()) {
                self.out.rsyserr(
                    "generator",
                    &format!("symlink \"{}\" failed", show(&e.name)),
                    &err,
                )?;
                return Ok(());
            }
            attrs::apply_path(self.cfg, self.w, e, path, &self.out, true);
        }
        self.itemize(ndx, iflags)
    }

    fn file(
        &mut self,
        ndx: usize,
        e: &FileEntry,
        path: &RelPath,
        cur: Option<&Meta>,
        redo: bool,
    ) -> Result<(), RecvError> {
        let o = &self.cfg.opts;
        if self.list.hlink_leader.get(ndx).copied().flatten().is_some() {
            return Ok(());
        }
        if cur.is_some() && (o.ignore_existing || self.cfg.overwrite.is_none()) && !redo {
            return Ok(());
        }
        if cur.is_none() && o.existing {
            return Ok(());
        }
        if o.max_size.is_some_and(|m| e.size > m) || o.min_size.is_some_and(|m| e.size < m) {
            return Ok(());
        }
        let basis_meta = cur.filter(|m| m.is_file());
        if let (Some(m), false) = (basis_meta, redo || o.dry_run) {
            if self.alt_replaces_existing(e, path, m)? {
                return Ok(());
            }
        }
        if let (Some(m), false) = (basis_meta, redo) {
            if basis::up_to_date(self.cfg, e, path, m) {
                let ch = attrs::changes(o, e, m);
                if !o.dry_run && !ch.is_empty() {
                    attrs::apply_path(self.cfg, self.w, e, path, &self.out, false);
                }
                return self.itemize(ndx, ch);
            }
            if o.update && m.mtime_sec > e.mtime {
                return Ok(());
            }
        }
        if cur.is_some_and(Meta::is_dir) {
            let Some(d) = self.deleter.as_mut() else {
                self.out.error_xfer(&format!("rsync: [generator] cannot replace directory \"{}\" with a file: deleting is not allowed on this server", show(&e.name)))?;
                return Ok(());
            };
            if !o.dry_run {
                d.remove_one(path, &self.out)?;
            }
        }
        let mut iflags = item::TRANSFER;
        iflags |= match basis_meta {
            Some(m) => {
                // With -c a transferred file's checksum differed.
                let sum = if o.checksum {
                    item::REPORT_CHANGE
                } else {
                    ItemFlags::EMPTY
                };
                attrs::changes_with_size(o, e, m) | sum
            }
            None => item::IS_NEW,
        };
        if basis_meta.is_none() && !o.alt_dest.is_empty() {
            match basis::alt_dest(self.cfg, self.w, e, path) {
                basis::AltOutcome::Done => return Ok(()),
                basis::AltOutcome::Basis(i, p) if !o.whole_file => {
                    // Itemized against the alternate file, as rsync does.
                    let mut flags = item::TRANSFER | item::BASIS_TYPE_FOLLOWS;
                    if let Ok(am) = self.cfg.root.lstat(&p) {
                        flags |= attrs::changes_with_size(o, e, &am);
                    }
                    return self.request(ndx, flags, Some((&p, Some(i))), redo);
                }
                _ => {}
            }
        }
        if let (Some(pp), false, true) = (
            basis::partial_path(self.cfg, path),
            o.whole_file,
            self.protocol >= 29,
        ) {
            if self.cfg.root.lstat(&pp).is_ok_and(|m| m.is_file()) {
                let flags = iflags | item::BASIS_TYPE_FOLLOWS;
                return self.request(
                    ndx,
                    flags,
                    Some((&pp, Some(basis::FNAMECMP_PARTIAL_DIR))),
                    redo,
                );
            }
        }
        let basis = basis_meta.filter(|_| !o.whole_file).map(|_| (path, None));
        self.request(ndx, iflags, basis, redo)
    }

    /// Sends a transfer request: index, item flags, sum header and sums.
    fn request(
        &mut self,
        ndx: usize,
        iflags: ItemFlags,
        basis: Option<(&RelPath, Option<u8>)>,
        redo: bool,
    ) -> Result<(), RecvError> {
        let p = self.protocol;
        let mut body = Vec::new();
        if p >= 29 {
            put_u16(&mut body, iflags.bits());
            if let Some((_, Some(t))) = basis {
                body.push(t);
            }
        }
        if !self.cfg.opts.dry_run {
            basis::sums(self.cfg, self.protocol, basis, redo, &mut body);
        }
        let mut o = self.out.lock()?;
        o.put_ndx(ndx as i32)?;
        o.w.write_all(&body)?;
        drop(o);
        self.reqs.requested(ndx);
        Ok(())
    }

    /// Directory times last, once their contents are final.
    fn touch_dirs(&mut self) {
        if !self.cfg.opts.times || self.cfg.opts.omit_dir_times {
            return;
        }
        for (path, ndx) in self.dirs.iter().rev() {
            let Some(e) = self.list.entries.get(*ndx) else {
                continue;
            };
            let stale = self
                .cfg
                .root
                .lstat(path)
                .is_ok_and(|m| attrs::time_differs(self.cfg, e, &m));
            if stale {
                let permit = self.cfg.overwrite.as_ref();
                let _ = self
                    .w
                    .set_times(path, (e.mtime, e.mtime_nsec), None, permit);
            }
        }
    }
}

/// A name for messages.
pub(crate) fn show(name: &[u8]) -> String {
    String::from_utf8_lossy(name).into_owned()
}
