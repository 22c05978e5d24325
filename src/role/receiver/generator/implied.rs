//! `-R --no-implied-dirs` on the receiving side (`recv_generator` in
//! `generator.c`, protocols 30 to 32, where the client sends the option):
//! the parents a relative path's client lists without content
//! (`XMIT_TOP_DIR | XMIT_NO_CONTENT_DIR`, decoded as
//! [`EntryFlags::implied_dir`](crate::flist::EntryFlags)) are not
//! touched at all — no attributes, no itemizing, and whatever stands at
//! the name (a directory, or a symlink to one) is kept. A parent that is
//! missing when an entry beneath it comes up is made plainly, with the
//! default mode less the umask, and not itemized (rsync's `make_path`).
//!
//! Every entry's parent must itself be a directory of the list (rsync
//! checks this without incremental recursion, so at every protocol here):
//! a list that breaks this ends the session as rsync does ("invalid path
//! from sender", code 2). This is what a client below protocol 30 meets
//! with `-R --no-implied-dirs`, which lists no parents there.
//!
//! A kept symlink is only ever followed through the confined file
//! system: one that leads outside the root fails the lookup, so the
//! entries under it get an error and nothing is written outside.

use std::collections::HashSet;

use super::super::{List, RecvError};
use super::{show, Gen};
use crate::flist::FileEntry;
use crate::fs::RelPath;

/// The names of the list's directories, for [`Gen::parent_listed`].
pub(super) fn dir_names(list: &List) -> HashSet<Vec<u8>> {
    if list.is_inc() {
        return HashSet::new();
    }
    let entries = list.received();
    let dirs = entries.iter().filter(|e| e.is_dir());
    dirs.map(|e| e.name.clone()).collect()
}

/// Mode asked for a parent made for an entry (the umask applies).
const PLAIN_DIR_MODE: u32 = 0o777;

impl Gen<'_, '_> {
    /// Whether `e` is a content-less parent to leave as it is.
    pub(super) fn leave_implied(&self, e: &FileEntry) -> bool {
        self.cfg.opts.no_implied_dirs && e.flags.implied_dir
    }

    /// Fails the session when `e`'s parent is not a directory of the
    /// list (an entry of mode 0, from `--delete-missing-args`, is let
    /// through as rsync does).
    pub(super) fn parent_listed(&self, e: &FileEntry) -> Result<(), RecvError> {
        let Some(dn) = e.dirname() else {
            return Ok(());
        };
        // Under incremental recursion each list was checked on arrival.
        if dn == b"." || e.mode == 0 || self.list.is_inc() || self.list_dirs.contains(dn) {
            return Ok(());
        }
        Err(RecvError::Protocol(format!(
            "ABORTING due to invalid path from sender: {}",
            show(&e.name)
        )))
    }

    /// Under `-R --no-implied-dirs`, makes the missing parents of `e`
    /// (once per parent, as rsync checks only when the parent changes).
    pub(super) fn implied_parents(&mut self, e: &FileEntry) {
        let o = &self.cfg.opts;
        if !(o.relative && o.no_implied_dirs) || o.dry_run || self.dest.single.is_some() {
            return;
        }
        let Some(dn) = e.dirname() else {
            return;
        };
        if self.last_parent.as_deref() == Some(dn) {
            return;
        }
        self.last_parent = Some(dn.to_vec());
        let Ok(full) = self.dest.path_of(dn) else {
            return;
        };
        if self.cfg.root.stat(&full).is_ok() {
            return;
        }
        if let Err((at, err)) = self.make_path(dn) {
            self.out.rsyserr(
                "generator",
                &format!("recv_generator: mkdir \"{}\" failed", show(&at)),
                &err,
            );
        }
    }

    /// `mkdir -p` of `dn` beneath the destination, each lookup confined;
    /// on failure, the name that failed and why.
    fn make_path(&self, dn: &[u8]) -> Result<(), (Vec<u8>, std::io::Error)> {
        let mut end = 0;
        for part in dn.split(|&b| b == b'/') {
            end += part.len();
            let prefix = dn.get(..end).unwrap_or(dn);
            end += 1;
            let path = self.path_in_dest(prefix)?;
            match self.cfg.root.stat(&path) {
                Ok(_) => continue,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                    self.w
                        .mkdir(&path, PLAIN_DIR_MODE)
                        .map_err(|err| (prefix.to_vec(), err))?;
                }
                Err(err) => return Err((prefix.to_vec(), err)),
            }
        }
        Ok(())
    }

    fn path_in_dest(&self, name: &[u8]) -> Result<RelPath, (Vec<u8>, std::io::Error)> {
        self.dest.path_of(name).map_err(|err| {
            let err = std::io::Error::new(std::io::ErrorKind::InvalidInput, err.to_string());
            (name.to_vec(), err)
        })
    }
}
