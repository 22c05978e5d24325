//! A received file put in place (the end of `recv_files` in
//! `receiver.c`, `finish_transfer` and `handle_delayed_updates` in
//! `rsync.c`/`receiver.c`), protocols 27 to 32: attributes, ACLs and
//! xattrs set on the temporary file, the rename over the destination
//! (or the wait for the others with `--delay-updates`), the used
//! `--partial-dir` file removed, and a failed checksum asked for again.

use std::fs::File;
use std::io;

use super::attrs;
use super::file::Sink;
use super::generator::show;
use super::recv::Recv;
use crate::flist::FileEntry;
use crate::fs::{RelPath, Writer};
use crate::wire::MsgCode;

/// `--delay-updates`: finished temporary files and their entries; those
/// still here when the session ends are removed.
pub(crate) struct Delayed<'a, 'c> {
    w: &'a Writer<'c>,
    files: Vec<(RelPath, usize)>,
}

impl<'a, 'c> Delayed<'a, 'c> {
    pub(crate) fn new(w: &'a Writer<'c>) -> Self {
        Self {
            w,
            files: Vec::new(),
        }
    }
}

impl Drop for Delayed<'_, '_> {
    fn drop(&mut self) {
        for (t, _) in std::mem::take(&mut self.files) {
            let _ = self.w.remove(&t, None);
        }
    }
}

/// A file whose data has all arrived.
pub(super) struct Finished {
    pub(super) i: usize,
    pub(super) tmp: Option<RelPath>,
    pub(super) sink: Sink,
    pub(super) ok: bool,
    pub(super) phase: u32,
    pub(super) written: u64,
    pub(super) existing_mode: Option<u32>,
}

impl Recv<'_, '_> {
    pub(super) fn finish(&mut self, e: &FileEntry, path: &RelPath, f: Finished) {
        let w = self.w;
        let Finished {
            i,
            tmp,
            sink,
            ok,
            phase,
            written,
            existing_mode,
        } = f;
        let cleanup = |t: &Option<RelPath>| {
            if let Some(t) = t {
                let _ = w.remove(t, None);
            }
        };
        if let Some(err) = sink.error {
            cleanup(&tmp);
            let what = format!("write failed on \"{}\"", show(&e.name));
            self.out.rsyserr("receiver", &what, &err);
            return;
        }
        if !ok {
            cleanup(&tmp);
            self.verify_failed(e, i, phase);
            return;
        }
        let Some(file) = sink.file else { return };
        if tmp.is_none() || self.cfg.opts.sparse {
            // In place, or with a hole at the end under `--sparse`: a
            // length not set is said (rsync's "ftruncate failed"), and a
            // temporary file left short is not put in place.
            if let Err(err) = file.set_len(written) {
                let what = format!("ftruncate failed on \"{}\"", show(&e.name));
                self.out.rsyserr("receiver", &what, &err);
                if tmp.is_some() {
                    cleanup(&tmp);
                    return;
                }
            }
        }
        if self.cfg.opts.fsync {
            // `--fsync`: the data is on disk before the file is in place.
            if let Err(err) = file.sync_all() {
                cleanup(&tmp);
                let what = format!("fsync failed on \"{}\"", show(&e.name));
                self.out.rsyserr("receiver", &what, &err);
                return;
            }
        }
        if let Err(err) = attrs::apply_fd(&self.cfg.opts, w, e, &file, existing_mode) {
            let what = format!("failed to set attributes on \"{}\"", show(&e.name));
            self.out.rsyserr("receiver", &what, &err);
        }
        self.apply_meta(e, path, tmp.as_ref(), &file);
        drop(file);
        if let (Some(t), true) = (&tmp, self.cfg.opts.delay_updates) {
            self.cfg.log.item(self.iflags, e, None);
            self.delayed.files.push((t.clone(), i));
            return;
        }
        if let Some(t) = tmp {
            if let Err(err) = self.place(&t, path, e) {
                cleanup(&Some(t));
                let what = format!("rename \"{}\" failed", show(&e.name));
                self.out.rsyserr("receiver", &what, &err);
                return;
            }
        }
        self.counts.files_received += 1;
        self.cfg.log.item(self.iflags, e, None);
        self.remove_partial(path);
        if self.cfg.opts.remove_source_files {
            self.out.msg_int(MsgCode::Success, i as i32);
        }
    }

    /// A file whose checksum did not match: asked for again in phase 0
    /// (with a warning when the client shows names or items), an error
    /// in the redo phase; the words are rsync's `recv_files`.
    fn verify_failed(&mut self, e: &FileEntry, i: usize, phase: u32) {
        let o = &self.cfg.opts;
        let kept = match (o.inplace, o.partial_dir.is_some()) {
            (false, _) => "discarded",
            (true, true) => "put into partial-dir",
            (true, false) => "retained",
        };
        let name = show(&e.name);
        if phase == 0 {
            if o.verbose > 0 || o.itemize {
                let line = format!(
                    "WARNING: {name} failed verification -- update {kept} (will try again)."
                );
                // Stock servers deliver this warning as information below
                // protocol 29 (what the client prints on stdout).
                if self.protocol < 29 {
                    self.out.msg(MsgCode::Info, format!("{line}\n").as_bytes());
                } else {
                    self.out.warning(&line);
                }
            }
            self.gen.redo(i);
        } else {
            self.out.error_xfer(&format!(
                "ERROR: {name} failed verification -- update {kept}."
            ));
        }
    }

    /// rsync removes the used partial file, then its directory once
    /// empty; without the deletion permit only if this session created
    /// them (never a file that was there before).
    fn remove_partial(&self, path: &RelPath) {
        if let Some(pp) = super::basis::partial_path(self.cfg, path) {
            let permit = self.cfg.delete.as_ref();
            if self.w.remove(&pp, permit).is_ok() {
                if let Some(d) = pp.parent() {
                    let _ = self.w.remove_dir(&d, permit);
                }
            }
        }
    }

    /// `--delay-updates`: every finished file goes into place together,
    /// once all data has arrived.
    pub(super) fn place_delayed(&mut self) {
        for (t, i) in std::mem::take(&mut self.delayed.files) {
            let Some(e) = self.list.entries.get(i) else {
                continue;
            };
            let Ok(path) = self.dest.path_of(&e.name) else {
                continue;
            };
            if let Err(err) = self.place(&t, &path, &e) {
                let _ = self.w.remove(&t, None);
                let what = format!("rename \"{}\" failed", show(&e.name));
                self.out.rsyserr("receiver", &what, &err);
                continue;
            }
            self.counts.files_received += 1;
            if self.cfg.opts.remove_source_files {
                self.out.msg_int(MsgCode::Success, i as i32);
            }
        }
    }

    /// Renames the finished temporary file into place: with a backup first
    /// when asked (a hard link, so the name never disappears), and never
    /// over an existing file without the overwrite permit.
    fn place(&self, tmp: &RelPath, path: &RelPath, e: &FileEntry) -> io::Result<()> {
        let w = self.w;
        let permit = self.cfg.overwrite.as_ref();
        if let (Some(p), true) = (permit, self.cfg.opts.backup) {
            if self.cfg.root.lstat(path).is_ok() {
                super::dest::make_backup(&self.cfg.opts, w, path, &e.name, p)?;
            }
        }
        w.place(tmp, path, permit)
    }
}

impl Recv<'_, '_> {
    /// The received file's ACLs and attributes, set on it before it is
    /// placed; long values the client did not send come from the file it
    /// replaces.
    fn apply_meta(&self, e: &FileEntry, path: &RelPath, tmp: Option<&RelPath>, file: &File) {
        if !self.cfg.flist.meta.any() && !self.cfg.opts.fake_super {
            return;
        }
        let overwrite = if tmp.is_some() {
            None
        } else {
            self.cfg.overwrite.as_ref()
        };
        let Ok((target, real)) = self.w.meta_of(file, tmp.unwrap_or(path), overwrite) else {
            return;
        };
        if self.cfg.opts.fake_super {
            let stored = super::fake::store(self.cfg, e, &target, &real);
            if let Err(err) = stored {
                let what = format!(
                    "failed to write xattr user.rsync.%stat for \"{}\"",
                    show(&e.name)
                );
                self.out.rsyserr("receiver", &what, &err);
            }
            if !self.cfg.flist.meta.any() {
                return;
            }
        }
        let side = super::meta::Side::Receiver;
        let t = super::meta::Target {
            fd: &target,
            basis: super::meta::Basis::Replaced(self.cfg.root, path),
            mode: real.mode,
        };
        super::meta::apply(self.cfg, self.list, e, t, side, self.out);
    }
}
