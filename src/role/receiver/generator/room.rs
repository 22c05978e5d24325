//! Making room for an entry where something of another type is
//! (`delete_item` with its `DEL_FOR_*` flags and `delete_dir_contents` in
//! rsync's `delete.c`, called from `recv_generator`; protocols 27 to 32).
//!
//! A file, symlink or device in the way of a directory, or an empty
//! directory in the way of anything else, is removed whether or not the
//! client asked for `--delete`, as rsync does. A directory with contents
//! goes, contents first, only with `--delete` or `--force`; otherwise the
//! entry is skipped with rsync's two lines. Either way it takes the
//! session's deletion permit: under `-no-del` nothing is removed and the
//! entry is skipped.

use super::super::delete::Deleter;
use super::super::RecvError;
use super::{show, Gen};
use crate::flist::{FileEntry, FileKind};
use crate::fs::{Meta, RelPath};
use crate::wire::MsgCode;

impl Gen<'_, '_> {
    /// Clears `path`, where `cur` is, for entry `e`; whether the way is
    /// clear. `refusal` is the line for a session that may not delete
    /// (none: skipped without a word).
    pub(super) fn make_room(
        &mut self,
        path: &RelPath,
        e: &FileEntry,
        cur: &Meta,
        refusal: Option<String>,
    ) -> Result<bool, RecvError> {
        let dry = self.cfg.opts.dry_run;
        if let Some(d) = self.deleter.as_mut() {
            if !dry && !d.remove_one(path, &e.name, self.out)? {
                self.no_way(e);
                return Ok(false);
            }
            return Ok(true);
        }
        let Some(permit) = self.cfg.delete.as_ref() else {
            if let Some(line) = refusal {
                self.out.error_xfer(&line);
            }
            return Ok(false);
        };
        let empty = || {
            self.cfg
                .root
                .open_dir(path)
                .and_then(|d| d.read_entries(0))
                .is_ok()
        };
        if cur.is_dir() && !self.cfg.opts.force && !empty() {
            let info = format!("cannot delete non-empty directory: {}\n", show(&e.name));
            self.out.msg(MsgCode::Info, info.as_bytes());
            self.no_way(e);
            return Ok(false);
        }
        if !dry {
            let mut d = Deleter::for_room(self.cfg, self.w, self.dest, permit);
            if !d.remove_one(path, &e.name, self.out)? {
                self.no_way(e);
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// rsync's line for an entry whose way could not be cleared.
    fn no_way(&self, e: &FileEntry) {
        let what = match e.kind() {
            FileKind::File => "regular file",
            FileKind::Dir => "directory",
            FileKind::Symlink => "symlink",
            FileKind::Device => "device file",
            FileKind::Special => "special file",
        };
        let name = show(&e.name);
        self.out
            .error_xfer(&format!("could not make way for new {what}: {name}"));
    }
}
