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

use super::generator::{fuzzy, show};
use super::recv::{caught, protocol, Recv, Tok};
use super::requests::Asked;
use super::{ReceiverConfig, RecvError};
use crate::checksum::{SumHead, SumHeadError};
use crate::delta::Applier;
use crate::fs::{RelPath, Writer};

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
    pub(super) file: Option<File>,
    pub(super) error: Option<io::Error>,
    buf: Vec<u8>,
    /// The session's limits: every byte is charged before it is written.
    quota: Option<std::sync::Arc<crate::fs::Quota>>,
    /// `--sparse` into a new file: runs of zeros become holes.
    sparse: bool,
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
        let buf = std::mem::take(&mut self.buf);
        self.put(&buf);
        self.buf = buf;
        self.buf.clear();
    }

    /// Writes `data` to the file (sparsely under `--sparse`); the first
    /// error is kept and later data dropped.
    fn put(&mut self, data: &[u8]) {
        if let (Some(f), None) = (self.file.as_mut(), self.error.as_ref()) {
            let r = match self.sparse {
                true => super::sparse::write(f, data),
                false => f.write_all(data),
            };
            if let Err(e) = r {
                self.error = Some(e);
            }
        }
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
            self.put(data);
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
        let asked = self.asked(i, &e.name, basis_type, head)?;
        let append = if phase == 0 { cfg.opts.append } else { 0 };
        // In append mode the client matches no blocks: its data follows
        // the part of the file the generator said we have.
        let (head, offset) = if append > 0 {
            (SumHead::EMPTY, asked.append_at)
        } else {
            (asked.head, 0)
        };
        let mut basis = self.open_basis(&path, &e.name, &asked, &head)?;
        // The mode a file had matters only where `-p` does not give it one.
        let existing = match cfg.opts.perms {
            true => None,
            false => cfg.root.lstat(&path).ok().filter(|m| m.is_file()),
        };
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
        let fin = super::place::Finished {
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

    /// What the generator sent with its request for file `i`, checked
    /// against the client's echo of it: the basis type and the sum header
    /// must be the ones sent. Below protocol 29 only the header is echoed,
    /// and the basis is still the one the generator chose (rsync's
    /// receiver falls back to the one alternate directory there).
    fn asked(
        &mut self,
        i: usize,
        name: &[u8],
        basis_type: Option<u8>,
        head: SumHead,
    ) -> Result<Asked, RecvError> {
        let a = self.gen.take_asked(i);
        // Below protocol 29 no basis type is sent or echoed.
        let same_type = self.protocol < 29 || a.basis_type == basis_type;
        if same_type && a.head == head {
            return Ok(a);
        }
        Err(protocol(format!(
            "the request for {} came back with another basis or block-sum header",
            show(name)
        )))
    }

    /// `--append-verify`: the first `len` bytes of the destination go
    /// into the whole-file checksum before the client's data. A file that
    /// is shorter by now (or unreadable) leaves the sum short, so the
    /// check fails and the file is sent again whole.
    fn hash_prefix(&self, path: &RelPath, len: u64, ap: &mut Applier) {
        let Some((f, _)) = super::basis::read_basis(self.cfg, path) else {
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
        asked: &Asked,
        head: &SumHead,
    ) -> Result<Option<File>, RecvError> {
        if head.count == 0 {
            return Ok(None);
        }
        let bp = match asked.basis_type {
            None | Some(FNAMECMP_FNAME) => path.clone(),
            Some(super::basis::FNAMECMP_PARTIAL_DIR) => super::basis::partial_path(self.cfg, path)
                .ok_or_else(|| protocol("partial basis without --partial-dir".into()))?,
            Some(t) if t >= fuzzy::FNAMECMP_FUZZY => {
                let x = asked.fuzzy.as_deref().unwrap_or_default();
                fuzzy::basis_path(&self.cfg.opts.alt_dest, path, name, t, x)
                    .ok_or_else(|| protocol(format!("invalid basis type {t}")))?
            }
            Some(t) => {
                let dir = self.cfg.opts.alt_dest.get(usize::from(t)).map(|(_, d)| d);
                let dir = dir.ok_or_else(|| protocol(format!("invalid basis type {t}")))?;
                let mut v = dir.as_bytes().to_vec();
                v.push(b'/');
                v.extend_from_slice(name);
                RelPath::new(&v).map_err(|e| protocol(e.to_string()))?
            }
        };
        Ok(super::basis::read_basis(self.cfg, &bp).map(|(f, _)| f))
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
                    Ok((f, t)) => {
                        let mut s = sink(Ok(f));
                        s.sparse = self.cfg.opts.sparse;
                        (s, Some(t))
                    }
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
