//! The receiver's loop (`recv_files` in `receiver.c`, `read_ndx_and_attrs`
//! in `rsync.c`), protocols 27 to 32, in the same task as the generator.
//!
//! Each read from the client first lets the generator go on while the
//! outbox has room ([`read`]); when the value is not complete yet and the
//! generator still has work, the task waits for either more input or room
//! in the outbox, never for one alone while the other could let the client
//! go on. A file's data is refused unless the generator requested it; data
//! for a file the generator has not reached yet makes it go on until it
//! has decided that file.

use crate::flist::item::{ItemFlags, ItemHeader};
use crate::role::link::ReadError;
use crate::role::Link;
use crate::token::TokenDecoder;
use crate::wire::{NdxDecoder, Reader, Step, NDX_DONE, NDX_FLIST_EOF, NDX_FLIST_OFFSET};

use super::attrs::item;
use super::dest::Dest;
use super::generator::Gen;
use super::lists::{self, Seg};
use super::out::Outbox;
use super::place::Delayed;
use super::{List, ReceiverConfig, RecvError};
use crate::fs::Writer;

/// Counters from the receiver.
#[derive(Debug, Default)]
pub(crate) struct RecvCounts {
    pub(crate) files_received: u64,
}

/// The session's state: the generator's cursor and the receiver's.
pub(crate) struct Recv<'a, 'c> {
    pub(super) cfg: &'a ReceiverConfig<'c>,
    /// Every change to the tree goes through here.
    pub(super) w: &'a Writer<'c>,
    pub(super) list: &'a List,
    pub(super) dest: &'a Dest,
    pub(super) out: &'a Outbox<'a>,
    pub(super) link: &'a Link,
    pub(super) protocol: u32,
    pub(super) gen: Gen<'a, 'c>,
    pub(super) ndx_in: NdxDecoder,
    pub(super) tokens: TokenDecoder,
    pub(super) counts: RecvCounts,
    /// `--delay-updates`: finished temporary files and their entries.
    pub(super) delayed: Delayed<'a, 'c>,
    /// The item flags of the file being received, for the log file.
    pub(super) iflags: ItemFlags,
}

/// Reads one value from the client. The generator goes on first while
/// the outbox has room; while the value is incomplete and the generator
/// has work but no room, the task waits for input or room, whichever
/// comes first. Once the generator can do nothing until the receiver
/// goes on, only input is awaited.
pub(crate) async fn read<T, E>(
    link: &Link,
    gen: &mut Gen<'_, '_>,
    what: &'static str,
    mut decode: impl FnMut(&mut Reader<'_>) -> Step<T, E>,
) -> Result<T, RecvError>
where
    E: ReadError,
    RecvError: From<E::Out>,
{
    loop {
        while gen.can_step() && link.has_room() {
            gen.step()?;
            link.keep_alive().await;
        }
        if let Some(v) = link.try_decode(&mut decode)? {
            return Ok(v);
        }
        if !gen.can_step() || link.input_ended() {
            return Ok(link.read(what, &mut decode).await?);
        }
        link.wait_input_or_room().await;
    }
}

/// Handles `ndx` if it is a sub-list header or `NDX_FLIST_EOF` under
/// incremental recursion: `Some` with the new list's range (`None` at
/// the end mark), or `None` when `ndx` is something else. The sub-list
/// is read whole before anything else happens (the sender writes it in
/// one go), its header and entries checked as rsync checks them.
pub(crate) async fn flist_record(
    link: &Link,
    cfg: &ReceiverConfig<'_>,
    list: &List,
    protocol: u32,
    ndx: i32,
) -> Result<Option<Option<Seg>>, RecvError> {
    let Some(inc) = &list.inc else {
        return Ok(None);
    };
    if ndx == NDX_FLIST_EOF {
        inc.borrow_mut().eof = true;
        return Ok(Some(None));
    }
    if ndx > NDX_FLIST_OFFSET {
        return Ok(None);
    }
    if inc.borrow().eof {
        return Err(protocol_err(format!(
            "Invalid file index: {ndx} (a file list after the last)"
        )));
    }
    let dir_ndx = i64::from(NDX_FLIST_OFFSET) - i64::from(ndx);
    let parent = lists::check_header(list, dir_ndx)?;
    let Some(mut dec) = lists::decoder(list) else {
        return Err(protocol_err("file list decoder missing".into()));
    };
    while link.read("the file list", |r| dec.decode_next(r)).await? {}
    let seg = lists::finish_sub(list, cfg, protocol, dec, parent)?;
    Ok(Some(Some(seg)))
}

fn protocol_err(msg: String) -> RecvError {
    RecvError::Protocol(msg)
}

/// A slice decoder whose refusal is a value: the caller words the error
/// (the stream's own errors still end the read).
pub(crate) fn caught<T>(s: Step<T>) -> Step<Result<T, crate::wire::CodecError>> {
    match s {
        Ok(v) => Ok(Ok(v)),
        Err(crate::wire::Fail::Invalid(e)) => Ok(Err(e)),
        Err(f) => Err(f),
    }
}

impl<'a, 'c> Recv<'a, 'c> {
    /// Runs the receiver to the client's last `NDX_DONE`, then lets the
    /// generator finish.
    pub(crate) async fn run(mut self) -> Result<(RecvCounts, u64, (u64, u64)), RecvError> {
        self.recv_files().await?;
        self.gen.receiver_stopped();
        while self.gen.can_step() {
            self.link.room().await;
            self.gen.step()?;
            self.within_quota()?;
            self.link.keep_alive().await;
        }
        self.within_quota()?;
        let counts = std::mem::take(&mut self.counts);
        Ok((counts, self.gen.deleted(), self.gen.tally()))
    }

    /// Ends the session once the key's `-max-bytes` or `-max-files` is
    /// passed.
    fn within_quota(&self) -> Result<(), RecvError> {
        match self.w.quota().refusal() {
            Some(msg) => Err(RecvError::Quota(msg)),
            None => Ok(()),
        }
    }

    async fn recv_files(&mut self) -> Result<(), RecvError> {
        let p = self.protocol;
        let max_phase = if p >= 29 { 2 } else { 1 };
        let mut phase = 0u32;
        loop {
            self.within_quota()?;
            let ndx = self.read_ndx().await?;
            if ndx == NDX_DONE {
                if phase == 0 && self.free_list() {
                    continue;
                }
                phase += 1;
                if phase > max_phase {
                    break;
                }
                self.gen.phase_done(phase);
                continue;
            }
            let list = self.list;
            let i = usize::try_from(ndx).ok().filter(|&i| list.valid_ndx(i));
            let Some(i) = i else {
                return Err(protocol(format!("invalid file index {ndx} received")));
            };
            let (iflags, basis_type) = self.read_header().await?;
            if super::meta::carries_request(self.cfg, iflags) {
                self.read_xattr_answer(i).await?;
                if !iflags.intersects(item::TRANSFER) {
                    self.apply_answered(i);
                }
            }
            if !iflags.intersects(item::TRANSFER) {
                continue;
            }
            if list.is_slot(i) || !list.entries.get(i).is_some_and(|e| e.is_file()) {
                return Err(protocol(format!(
                    "received request to transfer non-regular file: {ndx}"
                )));
            }
            if phase == 2 {
                return Err(protocol("got transfer request in phase 2".into()));
            }
            if !self.decide(i).await? {
                return Err(protocol(format!(
                    "received data for file index {ndx}, which was not requested"
                )));
            }
            if self.cfg.opts.dry_run {
                self.gen.received(i);
                continue;
            }
            self.iflags = iflags;
            let phase_of_file = if self.gen.redoing(i) { 1 } else { phase };
            self.receive_file(i, basis_type, phase_of_file).await?;
            self.gen.received(i);
        }
        self.place_delayed();
        if p >= 31 {
            let n = self.read_ndx().await?;
            if n != NDX_DONE {
                return Err(protocol(format!("invalid packet at end of run ({n})")));
            }
        }
        Ok(())
    }

    /// Under incremental recursion, an `NDX_DONE` in phase 0 frees the
    /// oldest list; it ends the phase only when it freed the last one.
    /// Returns whether lists remain.
    fn free_list(&mut self) -> bool {
        self.list.receiver_freed()
    }

    /// The client's answer to the generator's request for long attribute
    /// values (`recv_xattr_request`).
    async fn read_xattr_answer(&mut self, i: usize) -> Result<(), RecvError> {
        let mut num = 0;
        while let Some((rel, value)) = self
            .read_value("an xattr value", super::meta::answer_step)
            .await?
        {
            if let Some(e) = self.list.entries.get(i) {
                super::meta::answered(self.list, &e, &mut num, rel, value)?;
            }
        }
        Ok(())
    }

    /// Applies the values that just arrived for an entry that was not
    /// transferred.
    fn apply_answered(&self, i: usize) {
        let Some(e) = self.list.entries.get(i) else {
            return;
        };
        if let Ok(path) = self.dest.path_of(&e.name) {
            let side = super::meta::Side::Receiver;
            super::meta::apply_path(self.cfg, self.w, self.list, &e, &path, side, self.out);
        }
    }

    /// The next file index, after any sub-lists and the end-of-lists
    /// mark that come before it (`read_ndx_and_attrs`).
    async fn read_ndx(&mut self) -> Result<i32, RecvError> {
        loop {
            let dec = &mut self.ndx_in;
            let ndx = read(self.link, &mut self.gen, "file index", |r| dec.decode(r)).await?;
            let (link, cfg, list, p) = (self.link, self.cfg, self.list, self.protocol);
            match flist_record(link, cfg, list, p, ndx).await? {
                Some(Some(seg)) => self.gen.list_added(seg),
                Some(None) => {}
                None => return Ok(ndx),
            }
        }
    }

    /// The item flags and the basis type after a file index.
    async fn read_header(&mut self) -> Result<(ItemFlags, Option<u8>), RecvError> {
        let p = self.protocol;
        let (link, gen) = (self.link, &mut self.gen);
        let iflags = read(link, gen, "item flags", |r| ItemHeader::decode_flags(r, p)).await?;
        let h = read(link, gen, "item header", |r| {
            ItemHeader::decode_after(r, iflags)
        })
        .await?;
        Ok((iflags, h.basis_type))
    }

    /// Whether the generator requested file `i`; it goes on (waiting for
    /// room as it needs) until it has decided.
    async fn decide(&mut self, i: usize) -> Result<bool, RecvError> {
        loop {
            if let Some(d) = self.gen.decision(i) {
                return Ok(d);
            }
            if !self.gen.can_step() {
                return Ok(false);
            }
            self.link.room().await;
            self.gen.step()?;
            self.link.keep_alive().await;
        }
    }

    /// Reads one value with [`read`].
    pub(super) async fn read_value<T, E>(
        &mut self,
        what: &'static str,
        decode: impl FnMut(&mut Reader<'_>) -> Step<T, E>,
    ) -> Result<T, RecvError>
    where
        E: ReadError,
        RecvError: From<E::Out>,
    {
        read(self.link, &mut self.gen, what, decode).await
    }

    /// The next token of the current file: `Ok(Err(_))` when the stream
    /// is malformed. Literal bytes go to `put` as they are decoded, straight
    /// from the input (uncompressed) or the decompressor's buffer, once the
    /// token is whole.
    pub(super) async fn read_token(
        &mut self,
        count: u32,
        put: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
    ) -> Result<Result<Option<Tok>, crate::wire::CodecError>, RecvError> {
        let tokens = &mut self.tokens;
        let mut failed = None;
        let tok = read(self.link, &mut self.gen, "file data", |r| {
            caught(token_step(tokens, r, count, &mut |d: &[u8]| {
                if let Err(e) = put(d) {
                    failed = Some(e);
                }
            }))
        })
        .await?;
        match failed {
            Some(e) => Err(RecvError::Io(e)),
            None => Ok(tok),
        }
    }
}

/// A token, its literal bytes already handed on.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Tok {
    /// Literal bytes (written as they were decoded).
    Literal,
    /// Copy basis block `i`.
    Block(u32),
    /// The end of the file's tokens.
    End,
}

fn token_step(
    t: &mut TokenDecoder,
    r: &mut Reader<'_>,
    count: u32,
    put: &mut dyn FnMut(&[u8]),
) -> Step<Option<Tok>> {
    use crate::token::TokenEvent;
    Ok(match t.decode(r, count)? {
        None => None,
        Some(TokenEvent::Literal(d)) => {
            put(d);
            Some(Tok::Literal)
        }
        Some(TokenEvent::Block(b)) => Some(Tok::Block(b)),
        Some(TokenEvent::End) => Some(Tok::End),
    })
}

pub(super) fn protocol(msg: String) -> RecvError {
    RecvError::Protocol(msg)
}
