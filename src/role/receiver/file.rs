//! One file's data (`receive_data` and the end of `recv_files` in
//! `receiver.c`), protocols 27 to 32: the delta is rebuilt from the basis
//! into a temporary file beside the destination, the whole-file checksum
//! verified and the file renamed into place. A local write error does not
//! desynchronise the stream: the rest of the file's tokens are read and
//! discarded, the temporary file removed, and the run goes on.
//!
//! A temporary file belongs to a guard until it is placed: when the
//! session ends inside a file (an error, or the machine dropping the task
//! after a timeout) the guard removes it, or with `--partial` keeps what
//! arrived as rsync does. `--delay-updates` files wait in [`Delayed`],
//! which removes them if the session ends before they are placed.

use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};

use super::attrs;
use super::generator::show;
use super::recv::{caught, protocol, Recv, Tok};
use super::{ReceiverConfig, RecvError};
use crate::checksum::{SumHead, SumHeadError};
use crate::delta::Applier;
use crate::flist::FileEntry;
use crate::fs::{RelPath, Writer};
use crate::wire::MsgCode;

use crate::flist::item::FNAMECMP_FNAME;

/// How much rebuilt data is gathered before one `write(2)` (rsync's
/// receiver writes through a buffer of the same size).
const WRITE_BUF: usize = 256 * 1024;

/// Where the rebuilt bytes go: a temporary file, or the file itself with
/// `--inplace`, through a buffer, so that 32 KiB literals and small
/// blocks do not each cost a system call. After the first write error
/// further output is dropped.
#[derive(Default)]
pub(super) struct Sink {
    file: Option<File>,
    error: Option<io::Error>,
    buf: Vec<u8>,
    /// The session's limits: every byte is charged before it is written.
    quota: Option<std::sync::Arc<crate::fs::Quota>>,
}

impl Sink {
    fn new(r: io::Result<File>, quota: &std::sync::Arc<crate::fs::Quota>) -> Self {
        let quota = Some(std::sync::Arc::clone(quota));
        match r {
            Ok(f) => Self {
                file: Some(f),
                quota,
                ..Self::default()
            },
            Err(e) => Self {
                error: Some(e),
                quota,
                ..Self::default()
            },
        }
    }

    /// Writes out what the buffer holds (before the file is read back,
    /// placed or given its attributes).
    fn drain(&mut self) {
        if let (Some(f), None) = (self.file.as_mut(), self.error.as_ref()) {
            if let Err(e) = f.write_all(&self.buf) {
                self.error = Some(e);
            }
        }
        self.buf.clear();
    }
}

impl Write for Sink {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.file.is_none() || self.error.is_some() {
            return Ok(data.len());
        }
        if let Some(Err(e)) = self
            .quota
            .as_ref()
            .map(|q| q.charge_bytes(data.len() as u64))
        {
            self.error = Some(e);
            return Ok(data.len());
        }
        if self.buf.len() + data.len() > WRITE_BUF {
            self.drain();
        }
        if data.len() >= WRITE_BUF {
            if let (Some(f), None) = (self.file.as_mut(), self.error.as_ref()) {
                if let Err(e) = f.write_all(data) {
                    self.error = Some(e);
                }
            }
        } else {
            if self.buf.capacity() == 0 {
                self.buf.reserve_exact(WRITE_BUF);
            }
            self.buf.extend_from_slice(data);
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.drain();
        Ok(())
    }
}

/// A file being received; dropped before it is finished, it removes its
/// temporary file (or keeps it as a partial file with `--partial`).
struct Incoming<'a, 'c> {
    cfg: &'a ReceiverConfig<'c>,
    w: &'a Writer<'c>,
    path: RelPath,
    tmp: Option<RelPath>,
    sink: Sink,
}

impl Drop for Incoming<'_, '_> {
    /// The session ended in the middle of the file: remove the temporary
    /// file, or with `--partial` keep what arrived as rsync does (in the
    /// partial directory, or in place of the file), which replaces an
    /// existing name and so needs the overwrite permit.
    fn drop(&mut self) {
        let Some(t) = self.tmp.take() else { return };
        self.sink.drain();
        self.sink.file = None;
        let w = self.w;
        if let (true, Some(permit)) = (self.cfg.opts.partial, self.cfg.overwrite.as_ref()) {
            let target = match super::basis::partial_path(self.cfg, &self.path) {
                Some(pp) => {
                    if let Some(d) = pp.parent() {
                        let _ = w.mkdir(&d, 0o700);
                    }
                    pp
                }
                None => self.path.clone(),
            };
            if w.place(&t, &target, Some(permit)).is_ok() {
                return;
            }
        }
        let _ = w.remove(&t, None);
    }
}

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

impl<'a, 'c> Recv<'a, 'c> {
    /// Receives file `i`: its sum head, tokens and checksum.
    pub(super) async fn receive_file(
        &mut self,
        i: usize,
        basis_type: Option<u8>,
        phase: u32,
    ) -> Result<(), RecvError> {
        let (cfg, list) = (self.cfg, self.list);
        let head = self.read_head().await?;
        let Some(e) = list.entries.get(i) else {
            return Ok(());
        };
        let path = self
            .dest
            .path_of(&e.name)
            .map_err(|er| protocol(er.to_string()))?;
        let append = if phase == 0 { cfg.opts.append } else { 0 };
        // In append mode the client matches no blocks: its data follows
        // the part of the file the generator said we have (that length,
        // not the client's echo of the header, is where writing starts).
        let (head, offset) = if append > 0 {
            (SumHead::EMPTY, self.gen.append_offset(i))
        } else {
            (head, 0)
        };
        let mut basis = self.open_basis(&path, &e.name, basis_type, &head)?;
        let existing = cfg.root.lstat(&path).ok().filter(|m| m.is_file());
        let mut ap = Applier::new(head, cfg.xfer_kind, cfg.seed);
        if append == 2 && offset > 0 {
            self.hash_prefix(&path, offset, &mut ap);
        }
        let mut inc = self.open_output(path, &e.name);
        if offset > 0 {
            if let Some(f) = inc.sink.file.as_mut() {
                if let Err(er) = f.seek(SeekFrom::Start(offset)) {
                    inc.sink.error = Some(er);
                }
            }
        }
        self.stream(&head, basis.as_mut(), &mut inc.sink, &mut ap)
            .await?;
        let sum = self
            .read_value("a file checksum", |r| {
                r.take(cfg.xfer_kind.digest_len()).map(<[u8]>::to_vec)
            })
            .await?;
        let written = offset + ap.written();
        let ok = ap.verify(&sum);
        let tmp = inc.tmp.take();
        let mut sink = std::mem::take(&mut inc.sink);
        sink.drain();
        let path = inc.path.clone();
        drop(inc);
        let fin = Finished {
            i,
            tmp,
            sink,
            ok,
            phase,
            written,
            existing_mode: existing.map(|m| m.mode),
        };
        self.finish(&e, &path, fin);
        Ok(())
    }

    /// `--append-verify`: the first `len` bytes of the destination go
    /// into the whole-file checksum before the client's data. A file that
    /// is shorter by now (or unreadable) leaves the sum short, so the
    /// check fails and the file is sent again whole.
    fn hash_prefix(&self, path: &RelPath, len: u64, ap: &mut Applier) {
        let Ok(f) = self.cfg.root.open_file(path) else {
            return;
        };
        let mut r = io::Read::take(f, len);
        let mut buf = crate::iobuf::IoBuf::zeroed(256 * 1024);
        loop {
            match io::Read::read(&mut r, &mut buf) {
                Ok(0) => return,
                Ok(n) => ap.hash_only(buf.get(..n).unwrap_or_default()),
                Err(er) if er.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }

    /// `read_sum_head`, with rsync's words when it is refused.
    async fn read_head(&mut self) -> Result<SumHead, RecvError> {
        let (p, dl) = (self.protocol, self.cfg.xfer_kind.digest_len());
        let head = self
            .read_value("sum head", |r| caught(SumHead::from_reader(r, p, dl)))
            .await
            .map_err(|e| match e {
                RecvError::Wire(w) => {
                    protocol(format!("invalid block-sum header: reading sum head: {w}"))
                }
                e => e,
            })?;
        head.map_err(|c| {
            protocol(format!(
                "invalid block-sum header: {}",
                SumHeadError::from_codec(c)
            ))
        })
    }

    /// Reads one file's tokens into `sink`.
    async fn stream(
        &mut self,
        head: &SumHead,
        mut basis: Option<&mut File>,
        sink: &mut Sink,
        ap: &mut Applier,
    ) -> Result<(), RecvError> {
        let token_err = |er: crate::token::TokenError| protocol(format!("token stream: {er}"));
        loop {
            let tok = self
                .read_token(head.count, &mut |d| ap.literal(d, sink))
                .await?
                .map_err(|c| token_err(crate::token::TokenError::Codec(c.into())))?;
            match tok {
                None => {}
                Some(Tok::Literal) => {}
                Some(Tok::Block(b)) => {
                    if self.cfg.opts.inplace {
                        // The basis is the file being written: what it
                        // reads back must include what was written.
                        sink.drain();
                    }
                    let data = ap
                        .block(b, basis.as_deref_mut(), sink)
                        .map_err(|er| protocol(format!("{er}")))?;
                    self.tokens.see_block(data).map_err(token_err)?;
                }
                Some(Tok::End) => return Ok(()),
            }
        }
    }

    fn open_basis(
        &self,
        path: &RelPath,
        name: &[u8],
        basis_type: Option<u8>,
        head: &SumHead,
    ) -> Result<Option<File>, RecvError> {
        if head.count == 0 {
            return Ok(None);
        }
        let bp = match basis_type {
            None | Some(FNAMECMP_FNAME) => path.clone(),
            Some(super::basis::FNAMECMP_PARTIAL_DIR) => super::basis::partial_path(self.cfg, path)
                .ok_or_else(|| protocol("partial basis without --partial-dir".into()))?,
            Some(t) => {
                let dir = self.cfg.opts.alt_dest.get(usize::from(t)).map(|(_, d)| d);
                let dir = dir.ok_or_else(|| protocol(format!("invalid basis type {t}")))?;
                let mut v = dir.as_bytes().to_vec();
                v.push(b'/');
                v.extend_from_slice(name);
                RelPath::new(&v).map_err(|e| protocol(e.to_string()))?
            }
        };
        Ok(self.cfg.root.open_file(&bp).ok())
    }

    fn open_output(&self, path: RelPath, name: &[u8]) -> Incoming<'a, 'c> {
        let w = self.w;
        let sink = |r| Sink::new(r, w.quota());
        let (sink, tmp) =
            if let (true, Some(permit)) = (self.cfg.opts.inplace, self.cfg.overwrite.as_ref()) {
                let f = w.open_for_update(&path, permit).or_else(|_| {
                    let dir = path.parent().unwrap_or_else(RelPath::root);
                    let (f, tp) = w.create_temp(&dir, b"x", 0o600)?;
                    w.place(&tp, &path, Some(permit)).map(|()| f)
                });
                (sink(f), None)
            } else {
                let dir = match &self.cfg.opts.temp_dir {
                    Some(t) => t.clone(),
                    None => path.parent().unwrap_or_else(RelPath::root),
                };
                let base = path.file_name().unwrap_or(name);
                match w.create_temp(&dir, base, 0o600) {
                    Ok((f, t)) => (sink(Ok(f)), Some(t)),
                    Err(e) => (sink(Err(e)), None),
                }
            };
        Incoming {
            cfg: self.cfg,
            w,
            path,
            tmp,
            sink,
        }
    }
}

/// A file whose data has all arrived.
struct Finished {
    i: usize,
    tmp: Option<RelPath>,
    sink: Sink,
    ok: bool,
    phase: u32,
    written: u64,
    existing_mode: Option<u32>,
}

impl Recv<'_, '_> {
    fn finish(&mut self, e: &FileEntry, path: &RelPath, f: Finished) {
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
        if tmp.is_none() {
            let _ = file.set_len(written);
        }
        let _ = (&file).seek(SeekFrom::Start(0));
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
        let Ok(target) = self.w.meta_of(file, tmp.unwrap_or(path), overwrite) else {
            return;
        };
        if self.cfg.opts.fake_super {
            let stored = crate::fs::Meta::of_file(file)
                .and_then(|real| super::fake::store(self.cfg, e, &target, &real));
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
        let basis = self.cfg.root.open_meta(path).ok().flatten();
        let mode = crate::fs::Meta::of_file(file).map_or(e.mode, |m| m.mode);
        let side = super::meta::Side::Receiver;
        let t = super::meta::Target {
            fd: &target,
            basis: basis.as_ref(),
            mode,
        };
        super::meta::apply(self.cfg, self.list, e, t, side, self.out);
    }
}
