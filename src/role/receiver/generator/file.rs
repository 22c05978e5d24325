//! A regular file in the generator (`recv_generator` from the size
//! limits on, `try_dests_reg` and `generate_and_send_sums` in
//! `generator.c`), protocols 27 to 32: the quick check, the alternate
//! directories and `--partial-dir` as bases, and the request that sends
//! the client a file's index, item flags and block sums.

use super::{basis, meta, show, Gen};
use crate::flist::item::ItemFlags;
use crate::flist::FileEntry;
use crate::fs::{Meta, RelPath};
use crate::role::receiver::attrs::{self, item};
use crate::role::receiver::requests::Asked;
use crate::role::receiver::RecvError;
use crate::wire::{put_u16, put_vstring, WireError};

/// How the generator dealt with a regular file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fate {
    /// Requested from the client.
    Sent,
    /// In place: up to date, or made from an alternate directory.
    InPlace,
    /// Left alone.
    Skipped,
    /// A missing hard-link member waiting for a later one.
    Deferred,
}

impl Gen<'_, '_> {
    /// A regular file (`recv_generator` from the size limits on), and
    /// what became of it. `defer` says whether a missing file waits for a
    /// later member of its hard-link group instead of being requested.
    pub(super) fn file_body(
        &mut self,
        ndx: usize,
        e: &FileEntry,
        path: &RelPath,
        cur: Option<&Meta>,
        redo: bool,
        defer: bool,
    ) -> Result<Fate, RecvError> {
        let o = &self.cfg.opts;
        if o.max_size.is_some_and(|m| e.size > m) {
            self.info2(e, " is over max-size");
            return Ok(Fate::Skipped);
        }
        if o.min_size.is_some_and(|m| e.size < m) {
            self.info2(e, " is under min-size");
            return Ok(Fate::Skipped);
        }
        let basis_meta = cur.filter(|m| m.is_file());
        if let (Some(m), false) = (basis_meta, redo || o.dry_run) {
            if let Some(kind) = self.alt_replaces_existing(e, path, m)? {
                self.alt_done(ndx, e, kind)?;
                return Ok(Fate::InPlace);
            }
        }
        if let (Some(m), false) = (basis_meta, redo) {
            if basis::up_to_date(self.cfg, e, path, m) {
                let meta = self.meta_changes(e, Some(path));
                let mut ch = attrs::changes(o, e, m) | meta;
                // After `-c`, rsync also sets a time that differs only
                // below the quick check's precision, without an item.
                let exact = (m.mtime_sec, m.mtime_nsec) == (e.mtime, e.mtime_nsec);
                let touch = o.checksum && o.times && !exact;
                if !o.dry_run && (!ch.is_empty() || touch) {
                    let again = attrs::apply_path(self.cfg, self.w, e, path, self.out, false);
                    if let Some(seen) = again {
                        // rsync itemizes with its second look.
                        ch = attrs::changes(o, e, &seen) | meta;
                    }
                    self.meta_apply(e, path);
                }
                self.uptodate(e, !ch.is_empty());
                self.itemize(ndx, ch)?;
                return Ok(Fate::InPlace);
            }
            if o.update && m.mtime_sec > e.mtime {
                self.info2(e, " is newer");
                return Ok(Fate::Skipped);
            }
            // `--append` only ever adds to a file: one that is not shorter
            // is left as it is, attributes and all.
            if o.append > 0 && m.size >= e.size {
                return Ok(Fate::InPlace);
            }
        }
        if let Some(m) = cur.filter(|m| m.is_dir()) {
            let line = format!("rsync: [generator] cannot replace directory \"{}\" with a file: deleting is not allowed on this server", show(&e.name));
            if !self.make_room(path, e, m, Some(line))? {
                return Ok(Fate::Skipped);
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
                attrs::changes_with_size(o, e, m) | sum | self.meta_changes(e, Some(path))
            }
            None => item::IS_NEW | self.meta_changes(e, None),
        };
        if basis_meta.is_none() && !o.alt_dest.is_empty() {
            match basis::alt_dest(self.cfg, self.w, e, path) {
                basis::AltOutcome::Done(kind) => {
                    self.alt_done(ndx, e, kind)?;
                    return Ok(Fate::InPlace);
                }
                basis::AltOutcome::Copied { diff } => {
                    self.alt_copied(ndx, e, diff)?;
                    return Ok(Fate::InPlace);
                }
                basis::AltOutcome::Basis(i, p) if !o.whole_file => {
                    // Itemized against the alternate file, as rsync does.
                    let mut flags = item::TRANSFER | item::BASIS_TYPE_FOLLOWS;
                    if let Ok(am) = self.cfg.root.lstat(&p) {
                        flags |= attrs::changes_with_size(o, e, &am);
                    }
                    self.request(ndx, flags, Some((&p, Some(i))), redo)?;
                    return Ok(Fate::Sent);
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
                let pd = Some((&pp, Some(basis::FNAMECMP_PARTIAL_DIR)));
                self.request(ndx, flags, pd, redo)?;
                return Ok(Fate::Sent);
            }
        }
        if basis_meta.is_none() {
            if let Some((t, bp, x)) = self.fuzzy_basis(e, path) {
                let flags = iflags | item::BASIS_TYPE_FOLLOWS | item::XNAME_FOLLOWS;
                self.request_with(ndx, flags, Some((&bp, Some(t))), Some(&x), redo)?;
                return Ok(Fate::Sent);
            }
        }
        if basis_meta.is_none() && defer {
            return Ok(Fate::Deferred);
        }
        if basis_meta.is_some() {
            self.fuzzy_changing(e);
        }
        let basis = basis_meta
            .filter(|_| !self.cfg.opts.whole_file)
            .map(|_| (path, None));
        self.request(ndx, iflags, basis, redo)?;
        Ok(Fate::Sent)
    }

    /// Sends a transfer request: index, item flags, sum header and sums.
    pub(super) fn request(
        &mut self,
        ndx: usize,
        iflags: ItemFlags,
        basis: Option<(&RelPath, Option<u8>)>,
        redo: bool,
    ) -> Result<(), RecvError> {
        self.request_with(ndx, iflags, basis, None, redo)
    }

    /// [`Self::request`] with a fuzzy basis's name (`xname`).
    pub(super) fn request_with(
        &mut self,
        ndx: usize,
        iflags: ItemFlags,
        basis: Option<(&RelPath, Option<u8>)>,
        xname: Option<&[u8]>,
        redo: bool,
    ) -> Result<(), RecvError> {
        if !redo && !self.cfg.opts.dry_run {
            self.count(iflags | item::TRANSFER);
        }
        let p = self.protocol;
        let mut body = Vec::new();
        if p >= 29 {
            put_u16(&mut body, iflags.bits());
            if let Some((_, Some(t))) = basis {
                body.push(t);
            }
            if let Some(x) = xname {
                put_vstring(&mut body, x).map_err(WireError::from)?;
            }
            if let Some(e) = self.list.entries.get(ndx) {
                meta::request(self.cfg, self.list, &e, iflags, &mut body);
            }
        }
        if !self.cfg.opts.dry_run {
            let append = if redo { 0 } else { self.cfg.opts.append };
            let head = basis::sums(self.cfg, p, basis, redo, append, &mut body);
            let append_at = if append > 0 { head.basis_len() } else { 0 };
            // Below 29 no basis type travels; the receiver still needs it.
            let basis_type = basis.and_then(|(_, t)| t);
            let asked = Asked {
                basis_type,
                head,
                append_at,
                fuzzy: xname.map(<[u8]>::to_vec),
            };
            self.reqs.asked(ndx, asked);
        }
        self.out.put_ndx(ndx as i32);
        self.out.write(&body);
        self.reqs.requested(ndx);
        self.inflight.insert(ndx);
        Ok(())
    }
}
