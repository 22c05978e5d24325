//! The per-file state of the sender's block search (`match.c match_sums`,
//! protocols 27–32) in a form without I/O that can pause: the caller
//! writes the file's bytes into [`Search::space`] (or hands them to
//! [`Search::feed`]) and each [`Search::commit`] emits the tokens that are
//! now decided, at most one buffer's worth, so an asynchronous sender can
//! wait for room in its outbox between calls.
//!
//! rsync maps the file through a sliding window and searches it in one
//! call; here the search stops whenever the window needs bytes not yet
//! handed in, keeps the rolling sum, and goes on once the buffer is full
//! again (or the file is complete). The buffer is filled to the same points
//! whatever the sizes of the pieces, so the tokens are those of one pass:
//! the same literal runs, block matches and whole-file checksum.

use std::io;

use super::matcher::Matcher;
use super::Token;
use crate::checksum::{Digest, FileHasher, Rolling};
use crate::iobuf::{self, IoBuf};

/// File bytes searched per buffer, besides two blocks of overlap.
pub(super) const READ_CHUNK: usize = 256 * 1024;
/// Fixed part of the false-alarm hashing budget.
const FALSE_ALARM_BASE: u64 = 64 << 20;

/// Where a paused search goes on once the buffer is full again.
#[derive(Clone, Copy, Debug)]
pub(super) enum Resume {
    /// At a window start: its weak sum is computed afresh.
    Window,
    /// Moving this window one byte on; the byte to roll in was not buffered.
    Roll(Rolling),
}

/// Why [`Matcher::search_buffer`] returned.
#[derive(Debug)]
pub(super) enum Stop {
    /// The buffer must be refilled first; then go on here.
    Refill(Resume),
    /// Too little of the file is left for any block: the rest is literal.
    Done,
}

#[derive(Clone, Copy, Debug)]
enum Phase {
    Search(Resume),
    /// After the last possible match: every buffer is one literal.
    Tail,
    Done,
}

/// The search of one file, fed by the caller.
///
/// Usage: while `!is_complete()`, put bytes into `space()` and `commit`
/// them (or `feed` a slice); then `finish()` for the whole-file checksum.
/// Each call emits tokens for at most one buffer (256 KiB plus two blocks)
/// of the file; memory stays at that buffer whatever the file's length.
pub struct Search<'m> {
    m: &'m Matcher<'m>,
    s: Scan,
    hasher: FileHasher,
    phase: Phase,
}

/// What a finished search leaves for the next one: its buffer and its
/// whole-file hash state, so that a run of small files allocates neither
/// per file. The next search sizes the buffer for its own file and
/// restarts the hash, so what it finds is exactly what a fresh search
/// would.
#[derive(Default)]
pub struct Spare {
    buf: Option<IoBuf>,
    hasher: Option<FileHasher>,
}

impl<'m> Search<'m> {
    pub(super) fn new(
        m: &'m Matcher<'m>,
        file_len: u64,
        chunk: usize,
        budget: Option<u64>,
        spare: &mut Spare,
    ) -> Self {
        let blen = m.block_len() as u64;
        let (kind, seed) = m.file_sum();
        // A block longer than the file cannot match, so a peer's huge
        // block length does not make us allocate more than the file.
        // A small file gets a small buffer: zeroing 256 KiB per file
        // dominated the cost of sending many small files.
        let cap =
            (chunk as u64).min(file_len.max(1)) as usize + 2 * blen.min(file_len).max(1) as usize;
        Self {
            m,
            s: Scan {
                // Room to keep the window's bytes at an aligned offset.
                buf: match spare.buf.take() {
                    Some(b) => b.resized(cap + iobuf::ALIGN),
                    None => IoBuf::zeroed(cap + iobuf::ALIGN),
                },
                cap,
                end: cap,
                filled: 0,
                pos: 0,
                lit: 0,
                base: 0,
                read: 0,
                file_len,
                budget: budget
                    .unwrap_or(file_len.saturating_mul(4).saturating_add(FALSE_ALARM_BASE)),
                want: 0,
            },
            hasher: match spare.hasher.take() {
                Some(mut h) => {
                    h.restart(kind, seed);
                    h
                }
                None => FileHasher::new(kind, seed),
            },
            phase: if m.has_blocks() {
                Phase::Search(Resume::Window)
            } else {
                Phase::Tail
            },
        }
    }

    /// Whether all of the file's bytes have been handed in (and so all its
    /// tokens emitted).
    pub fn is_complete(&self) -> bool {
        self.s.read >= self.s.file_len
    }

    /// Where the next bytes of the file go: the free part of the buffer, no
    /// longer than what is left of the file. Empty only once complete.
    pub fn space(&mut self) -> &mut [u8] {
        let s = &mut self.s;
        let room = s.end.saturating_sub(s.filled) as u64;
        let n = room.min(s.file_len.saturating_sub(s.read)) as usize;
        s.buf.get_mut(s.filled..s.filled + n).unwrap_or_default()
    }

    /// Adds bytes before the searched part of the file to the whole-file
    /// checksum only (`--append-verify`: the receiver has them already).
    /// Call before any bytes are committed.
    pub fn hash_only(&mut self, data: &[u8]) {
        self.hasher.update(data);
    }

    /// Take the first `n` bytes of [`space`](Self::space) as the file's
    /// next bytes. Once the buffer is full or the file complete, search it
    /// and emit the tokens it decides (those of at most one buffer).
    pub fn commit(
        &mut self,
        n: usize,
        sink: &mut impl FnMut(Token<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        if n > self.space().len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "more bytes committed than the search has room for",
            ));
        }
        self.s.filled += n;
        self.s.read += n as u64;
        self.advance(sink)
    }

    /// Copy as much of `data` as fits into [`space`](Self::space) and
    /// commit it; returns how many bytes were taken, 0 only once the file
    /// is complete.
    pub fn feed(
        &mut self,
        data: &[u8],
        sink: &mut impl FnMut(Token<'_>) -> io::Result<()>,
    ) -> io::Result<usize> {
        let space = self.space();
        let n = space.len().min(data.len());
        if let (Some(dst), Some(src)) = (space.get_mut(..n), data.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.commit(n, sink)?;
        Ok(n)
    }

    /// The whole-file checksum; fails with `UnexpectedEof` if fewer bytes
    /// than the file's length were handed in. Every token has been emitted
    /// by then: the commit that completes the file emits the last ones.
    pub fn finish(self) -> io::Result<Digest> {
        self.finish_into(&mut Spare::default())
    }

    /// [`Self::finish`], leaving the buffer and hash state in `spare` for
    /// the next search.
    pub fn finish_into(self, spare: &mut Spare) -> io::Result<Digest> {
        if !self.is_complete() {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let digest = self.hasher.digest();
        spare.buf = Some(self.s.buf);
        spare.hasher = Some(self.hasher);
        Ok(digest)
    }

    /// Search while the buffer is full or the file complete.
    fn advance(&mut self, sink: &mut impl FnMut(Token<'_>) -> io::Result<()>) -> io::Result<()> {
        let s = &mut self.s;
        while s.filled == s.end || s.read >= s.file_len {
            match self.phase {
                Phase::Search(at) => match self.m.search_buffer(s, &mut self.hasher, sink, at)? {
                    Stop::Refill(at) => {
                        s.emit_literal(&mut self.hasher, sink)?;
                        // Keep the window, drop what is behind it. The
                        // kept bytes move to just below an aligned offset,
                        // where the next read goes; the buffer's capacity
                        // stays `cap`, so the refills fall where they would
                        // without the shift.
                        let kept = s.filled - s.pos;
                        let off = s.base + s.pos as u64;
                        let lead = iobuf::lead_for(kept);
                        let to = if lead as u64 <= off { lead } else { 0 };
                        s.buf.copy_within(s.pos..s.filled, to);
                        s.filled = to + kept;
                        s.end = to + s.cap;
                        s.base = off - to as u64;
                        s.pos = to;
                        s.lit = to;
                        self.phase = Phase::Search(at);
                        // A refill is asked for only with file bytes still to
                        // come and the window past the buffer's start, so
                        // there is room now; without it, stop rather than spin.
                        if s.filled == s.end || s.read >= s.file_len {
                            return Err(io::ErrorKind::InvalidData.into());
                        }
                    }
                    Stop::Done => self.phase = Phase::Tail,
                },
                Phase::Tail => {
                    s.pos = s.filled;
                    s.emit_literal(&mut self.hasher, sink)?;
                    if s.read >= s.file_len {
                        self.phase = Phase::Done;
                    } else {
                        s.filled = 0;
                        s.end = s.cap;
                        s.pos = 0;
                        s.lit = 0;
                    }
                }
                Phase::Done => break,
            }
        }
        Ok(())
    }
}

/// The buffered part of the file and the search's place in it.
pub(super) struct Scan {
    pub(super) buf: IoBuf,
    /// The bytes the buffer holds at once: 256 KiB plus two blocks.
    pub(super) cap: usize,
    /// Where the buffered bytes may reach: `cap` past where they start.
    pub(super) end: usize,
    pub(super) filled: usize,
    /// Window start.
    pub(super) pos: usize,
    /// Start of the pending literal.
    pub(super) lit: usize,
    /// File offset that `buf[0]` stands for (after a refill the bytes
    /// before `lit` are stale).
    pub(super) base: u64,
    /// File bytes handed in so far.
    pub(super) read: u64,
    pub(super) file_len: u64,
    /// Strong-sum bytes still allowed on false alarms.
    pub(super) budget: u64,
    /// The block after the last match, preferred at the next one (`want_i`).
    pub(super) want: u32,
}

impl Scan {
    #[inline(always)]
    pub(super) fn abs_pos(&self) -> u64 {
        self.base + self.pos as u64
    }

    #[inline(always)]
    pub(super) fn remaining(&self) -> u64 {
        self.file_len.saturating_sub(self.abs_pos())
    }

    /// Send the pending literal `lit..pos`, already in the file sum.
    pub(super) fn emit_literal_hashed(
        &mut self,
        sink: &mut impl FnMut(Token<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        if self.pos > self.lit {
            let data = self
                .buf
                .get(self.lit..self.pos)
                .ok_or(io::ErrorKind::InvalidData)?;
            sink(Token::Literal(data))?;
        }
        self.lit = self.pos;
        Ok(())
    }

    /// Send the pending literal `lit..pos`.
    pub(super) fn emit_literal(
        &mut self,
        hasher: &mut FileHasher,
        sink: &mut impl FnMut(Token<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        if let Some(data) = self.buf.get(self.lit..self.pos) {
            hasher.update(data);
        }
        self.emit_literal_hashed(sink)
    }
}
