//! The receiver (`recv_files` and `receive_data` in `receiver.c`): reads
//! each requested file's delta, rebuilds it from the basis into a
//! temporary file beside the destination, verifies the whole-file
//! checksum and renames it into place. A local write error does not
//! desynchronise the stream: the rest of the file's tokens are read and
//! discarded, the temporary file removed, and the run goes on.

use crate::flist::item::ItemFlags;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::sync::mpsc::Sender;

use super::attrs::{self, item};
use super::dest::Dest;
use super::generator::show;
use super::{List, ReceiverConfig, RecvError, Shared, ToGen};
use crate::checksum::SumHead;
use crate::delta::Applier;
use crate::fs::{RelPath, Writer};
use crate::token::{TokenDecoder, TokenEvent};
use crate::wire::{MsgCode, NdxDecoder, NDX_DONE};

/// Counters from the receiver.
#[derive(Debug, Default)]
pub(crate) struct RecvCounts {
    pub(crate) files_received: u64,
}

/// `FNAMECMP_FNAME`: the basis is the destination file itself.
const FNAMECMP_FNAME: u8 = 0x80;

struct Ctx<'a, 'c, W: Write> {
    cfg: &'a ReceiverConfig<'c>,
    /// Every change to the tree goes through here.
    w: &'a Writer<'c>,
    list: &'a List,
    dest: &'a Dest,
    out: &'a Shared<W>,
    protocol: u32,
    tokens: TokenDecoder,
    tx: &'a Sender<ToGen>,
    counts: RecvCounts,
    /// `--delay-updates`: finished temporary files and their entries.
    delayed: Vec<(RelPath, usize)>,
    /// The item flags of the file being received, for the log file.
    iflags: ItemFlags,
}

/// Runs the receiver loop to the end of the session.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run<'c, R: Read, W: Write>(
    cfg: &ReceiverConfig<'c>,
    w: &Writer<'c>,
    list: &List,
    dest: &Dest,
    out: &Shared<W>,
    r: &mut R,
    mut ndx_in: NdxDecoder,
    protocol: u32,
    tx: &Sender<ToGen>,
    reqs: &super::requests::Requests,
) -> Result<RecvCounts, RecvError> {
    let mut tokens =
        TokenDecoder::new(cfg.compression).map_err(|e| RecvError::Protocol(e.to_string()))?;
    tokens.set_protocol(protocol);
    let mut c = Ctx {
        cfg,
        w,
        list,
        dest,
        out,
        protocol,
        tokens,
        tx,
        counts: RecvCounts::default(),
        delayed: Vec::new(),
        iflags: ItemFlags::EMPTY,
    };
    let max_phase = if protocol >= 29 { 2 } else { 1 };
    let mut phase = 0u32;
    loop {
        let ndx = ndx_in.get(r)?;
        if ndx == NDX_DONE {
            phase += 1;
            if phase > max_phase {
                break;
            }
            let _ = tx.send(ToGen::PhaseDone(phase));
            continue;
        }
        let i = usize::try_from(ndx)
            .ok()
            .filter(|&i| i < list.entries.len() && list.active.get(i) == Some(&true));
        let Some(i) = i else {
            return Err(RecvError::Protocol(format!(
                "invalid file index {ndx} received"
            )));
        };
        let item::ItemHeader {
            iflags, basis_type, ..
        } = item::ItemHeader::read(r, protocol)?;
        if !iflags.intersects(item::TRANSFER) {
            continue;
        }
        if !list.entries.get(i).is_some_and(|e| e.is_file()) {
            return Err(RecvError::Protocol(format!(
                "received request to transfer non-regular file: {ndx}"
            )));
        }
        if phase == 2 {
            return Err(RecvError::Protocol(
                "got transfer request in phase 2".into(),
            ));
        }
        if !reqs.wait(i) {
            return Err(RecvError::Protocol(format!(
                "received data for file index {ndx}, which was not requested"
            )));
        }
        if cfg.opts.dry_run {
            continue;
        }
        c.iflags = iflags;
        if let Err(e) = c.receive_file(r, i, basis_type, phase) {
            c.drop_delayed();
            return Err(e);
        }
    }
    c.place_delayed()?;
    if protocol >= 31 {
        let n = ndx_in.get(r)?;
        if n != NDX_DONE {
            return Err(RecvError::Protocol(format!(
                "invalid packet at end of run ({n})"
            )));
        }
    }
    Ok(c.counts)
}

/// Where the rebuilt bytes go: a temporary file, or the file itself with
/// `--inplace`. After the first write error further output is dropped.
struct Sink {
    file: Option<File>,
    error: Option<io::Error>,
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let (Some(f), None) = (self.file.as_mut(), self.error.as_ref()) {
            if let Err(e) = f.write_all(buf) {
                self.error = Some(e);
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<W: Write> Ctx<'_, '_, W> {
    fn receive_file<R: Read>(
        &mut self,
        r: &mut R,
        i: usize,
        basis_type: Option<u8>,
        phase: u32,
    ) -> Result<(), RecvError> {
        let cfg = self.cfg;
        let digest_len = cfg.xfer_kind.digest_len();
        let head = SumHead::read_from(r, self.protocol, digest_len)
            .map_err(|e| RecvError::Protocol(format!("invalid block-sum header: {e}")))?;
        let Some(e) = self.list.entries.get(i) else {
            return Ok(());
        };
        let path = self
            .dest
            .path_of(&e.name)
            .map_err(|er| RecvError::Protocol(er.to_string()))?;
        let mut basis = self.open_basis(&path, &e.name, basis_type, &head)?;
        let existing = cfg.root.lstat(&path).ok().filter(|m| m.is_file());
        let (mut sink, tmp) = self.open_output(&path, &e.name);
        let mut ap = Applier::new(head, cfg.xfer_kind, cfg.seed);
        let sum = match self.stream(r, &head, basis.as_mut(), &mut sink, &mut ap, digest_len) {
            Ok(sum) => sum,
            Err(err) => {
                self.abort(&path, tmp, sink);
                return Err(err);
            }
        };
        let written = ap.written();
        let ok = ap.verify(&sum);
        self.finish(
            i,
            e,
            &path,
            tmp,
            sink,
            ok,
            phase,
            written,
            existing.map(|m| m.mode),
        )
    }

    /// Reads one file's tokens into `sink` and returns the sender's
    /// whole-file checksum.
    fn stream<R: Read>(
        &mut self,
        r: &mut R,
        head: &SumHead,
        mut basis: Option<&mut File>,
        sink: &mut Sink,
        ap: &mut Applier,
        digest_len: usize,
    ) -> Result<Vec<u8>, RecvError> {
        let token_err = |er: crate::token::TokenError| match er {
            crate::token::TokenError::Io(io) => {
                RecvError::Wire(crate::wire::WireError::from_io(&io, "file data"))
            }
            other => RecvError::Protocol(format!("token stream: {other}")),
        };
        loop {
            match self.tokens.next(r, head.count).map_err(token_err)? {
                TokenEvent::Literal(d) => ap.literal(d, sink)?,
                TokenEvent::Block(b) => {
                    let data = ap
                        .block(b, basis.as_deref_mut(), sink)
                        .map_err(|er| RecvError::Protocol(format!("{er}")))?;
                    self.tokens.see_block(data).map_err(token_err)?;
                }
                TokenEvent::End => break,
            }
        }
        let mut sum = vec![0u8; digest_len];
        r.read_exact(&mut sum)
            .map_err(|er| crate::wire::WireError::from_io(&er, "a file checksum"))?;
        Ok(sum)
    }

    /// The connection broke in the middle of a file: remove the temporary
    /// file, or with `--partial` keep what arrived as rsync does (in the
    /// partial directory, or in place of the file), which replaces an
    /// existing name and so needs the overwrite permit.
    fn abort(&self, path: &RelPath, tmp: Option<RelPath>, sink: Sink) {
        let w = self.w;
        let Some(t) = tmp else { return };
        drop(sink);
        if let (true, Some(permit)) = (self.cfg.opts.partial, self.cfg.overwrite.as_ref()) {
            let target = match super::basis::partial_path(self.cfg, path) {
                Some(pp) => {
                    if let Some(d) = pp.parent() {
                        let _ = w.mkdir(&d, 0o700);
                    }
                    pp
                }
                None => path.clone(),
            };
            if w.place(&t, &target, Some(permit)).is_ok() {
                return;
            }
        }
        let _ = w.remove(&t, None);
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
                .ok_or_else(|| RecvError::Protocol("partial basis without --partial-dir".into()))?,
            Some(t) => {
                let dir = self.cfg.opts.alt_dest.get(usize::from(t)).map(|(_, d)| d);
                let dir =
                    dir.ok_or_else(|| RecvError::Protocol(format!("invalid basis type {t}")))?;
                let mut v = dir.as_bytes().to_vec();
                v.push(b'/');
                v.extend_from_slice(name);
                RelPath::new(&v).map_err(|e| RecvError::Protocol(e.to_string()))?
            }
        };
        Ok(self.cfg.root.open_file(&bp).ok())
    }

    fn open_output(&self, path: &RelPath, name: &[u8]) -> (Sink, Option<RelPath>) {
        let w = self.w;
        let sink = |r: std::io::Result<File>| match r {
            Ok(f) => Sink {
                file: Some(f),
                error: None,
            },
            Err(e) => Sink {
                file: None,
                error: Some(e),
            },
        };
        if let (true, Some(permit)) = (self.cfg.opts.inplace, self.cfg.overwrite.as_ref()) {
            let f = w.open_for_update(path, permit).or_else(|_| {
                let dir = path.parent().unwrap_or_else(RelPath::root);
                let (f, tp) = w.create_temp(&dir, b"x", 0o600)?;
                w.place(&tp, path, Some(permit)).map(|()| f)
            });
            return (sink(f), None);
        }
        let dir = match &self.cfg.opts.temp_dir {
            Some(t) => t.clone(),
            None => path.parent().unwrap_or_else(RelPath::root),
        };
        let base = path.file_name().unwrap_or(name);
        match w.create_temp(&dir, base, 0o600) {
            Ok((f, t)) => (sink(Ok(f)), Some(t)),
            Err(e) => (sink(Err(e)), None),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn finish(
        &mut self,
        i: usize,
        e: &crate::flist::FileEntry,
        path: &RelPath,
        tmp: Option<RelPath>,
        sink: Sink,
        ok: bool,
        phase: u32,
        written: u64,
        existing_mode: Option<u32>,
    ) -> Result<(), RecvError> {
        let w = self.w;
        let cleanup = |t: &Option<RelPath>| {
            if let Some(t) = t {
                let _ = w.remove(t, None);
            }
        };
        if let Some(err) = sink.error {
            cleanup(&tmp);
            self.out.rsyserr(
                "receiver",
                &format!("write failed on \"{}\"", show(&e.name)),
                &err,
            )?;
            return Ok(());
        }
        if !ok {
            cleanup(&tmp);
            if phase == 0 {
                let _ = self.tx.send(ToGen::Redo(i));
            } else {
                self.out.error_xfer(&format!(
                    "ERROR: {} failed verification -- update discarded.",
                    show(&e.name)
                ))?;
            }
            return Ok(());
        }
        let Some(f) = sink.file else { return Ok(()) };
        if tmp.is_none() {
            let _ = f.set_len(written);
        }
        let _ = (&f).seek(SeekFrom::Start(0));
        if let Err(err) = attrs::apply_fd(&self.cfg.opts, w, e, &f, existing_mode) {
            self.out.rsyserr(
                "receiver",
                &format!("failed to set attributes on \"{}\"", show(&e.name)),
                &err,
            )?;
        }
        drop(f);
        if let (Some(t), true) = (&tmp, self.cfg.opts.delay_updates) {
            self.cfg.log.item(self.iflags, e, None);
            self.delayed.push((t.clone(), i));
            return Ok(());
        }
        if let Some(t) = tmp {
            if let Err(err) = self.place(&t, path, e) {
                cleanup(&Some(t));
                self.out.rsyserr(
                    "receiver",
                    &format!("rename \"{}\" failed", show(&e.name)),
                    &err,
                )?;
                return Ok(());
            }
        }
        self.counts.files_received += 1;
        self.cfg.log.item(self.iflags, e, None);
        if let Some(pp) = super::basis::partial_path(self.cfg, path) {
            // rsync removes the used partial file, then its directory once
            // empty; without the deletion permit only if this session
            // created them (never a file that was there before).
            let permit = self.cfg.delete.as_ref();
            if w.remove(&pp, permit).is_ok() {
                if let Some(d) = pp.parent() {
                    let _ = w.remove_dir(&d, permit);
                }
            }
        }
        if self.cfg.opts.remove_source_files {
            self.out.msg_int(MsgCode::Success, i as i32)?;
        }
        Ok(())
    }

    /// `--delay-updates`: every finished file goes into place together,
    /// once all data has arrived.
    fn place_delayed(&mut self) -> Result<(), RecvError> {
        for (t, i) in std::mem::take(&mut self.delayed) {
            let Some(e) = self.list.entries.get(i) else {
                continue;
            };
            let Ok(path) = self.dest.path_of(&e.name) else {
                continue;
            };
            if let Err(err) = self.place(&t, &path, e) {
                let _ = self.w.remove(&t, None);
                self.out.rsyserr(
                    "receiver",
                    &format!("rename \"{}\" failed", show(&e.name)),
                    &err,
                )?;
                continue;
            }
            self.counts.files_received += 1;
            if self.cfg.opts.remove_source_files {
                self.out.msg_int(MsgCode::Success, i as i32)?;
            }
        }
        Ok(())
    }

    /// The run failed: delayed files never go into place.
    fn drop_delayed(&mut self) {
        for (t, _) in std::mem::take(&mut self.delayed) {
            let _ = self.w.remove(&t, None);
        }
    }

    /// Renames the finished temporary file into place: with a backup first
    /// when asked (a hard link, so the name never disappears), and never
    /// over an existing file without the overwrite permit.
    fn place(&self, tmp: &RelPath, path: &RelPath, e: &crate::flist::FileEntry) -> io::Result<()> {
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
