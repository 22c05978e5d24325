//! Hard links and alternate destinations on the generator side: linking
//! `-H` followers to their leader once the leader is in place
//! (`finish_hard_link` in `hlink.c`) and itemizing them (protocol 29+), and
//! `--link-dest`/`--compare-dest` over an existing file (`try_dests_reg`
//! in `generator.c`).

use super::super::attrs::item;
use super::super::basis;
use super::super::RecvError;
use super::{show, Gen};
use crate::flist::FileEntry;
use crate::fs::{Meta, RelPath};
use crate::wire::put_u16;

impl Gen<'_, '_> {
    /// `--link-dest`/`--compare-dest` over an existing file
    /// (`try_dests_reg` with `find_exact_for_existing`): when an alternate
    /// directory holds an exact copy, the file is replaced by a hard link
    /// to it in one rename, or removed for `--compare-dest`. Needs the
    /// overwrite, resp. deletion, capability; returns whether the file is
    /// dealt with.
    pub(super) fn alt_replaces_existing(
        &mut self,
        e: &FileEntry,
        path: &RelPath,
        m: &Meta,
    ) -> Result<bool, RecvError> {
        use crate::cli::AltDest;
        let Some((kind, alt, am)) = basis::exact_alt(self.cfg, e, None) else {
            return Ok(false);
        };
        match kind {
            AltDest::Copy => Ok(false),
            AltDest::Link if am.dev == m.dev && am.ino == m.ino => Ok(true),
            AltDest::Link => match self.cfg.overwrite.as_ref() {
                Some(permit) => Ok(self.w.link_over(&alt, path, permit).is_ok()),
                None => Ok(false),
            },
            AltDest::Compare => {
                if let Some(permit) = self.cfg.delete.as_ref() {
                    let _ = self.w.remove(path, Some(permit));
                }
                Ok(true)
            }
        }
    }

    /// Hard-links entry `i`, if it is a `-H` follower, to its leader,
    /// unless it already is. A follower's existing name is replaced in
    /// one rename, never removed first.
    pub(super) fn link_follower(&mut self, i: usize) -> Result<(), RecvError> {
        let Some(l) = self.list.leader(i) else {
            return Ok(());
        };
        let (Some(e), Some(le)) = (self.list.entries.get(i), self.list.entries.get(l)) else {
            return Ok(());
        };
        let (Ok(p), Ok(lp)) = (self.dest.path_of(&e.name), self.dest.path_of(&le.name)) else {
            return Ok(());
        };
        let root = self.cfg.root;
        let replace = match (root.lstat(&p), root.lstat(&lp)) {
            (Ok(a), Ok(b)) if a.same_file(&b) => return Ok(()),
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
        self.itemize_link(i, &le.name)
    }

    /// `hf+++++++++ NAME => LEADER`: a new hard link (protocol 29+).
    fn itemize_link(&self, ndx: usize, leader: &[u8]) -> Result<(), RecvError> {
        let iflags = item::IS_NEW | item::LOCAL_CHANGE | item::XNAME_FOLLOWS;
        if !self.cfg.opts.dry_run {
            self.count(iflags);
        }
        if self.protocol < 29 {
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
