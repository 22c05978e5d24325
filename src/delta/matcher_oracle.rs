//! A copy of the sender's block search (`match.c match_sums`,
//! `hash_search`, protocols 27-32) as it was when it streamed a whole file
//! through one call, kept as the oracle for the resumable form in
//! `matcher.rs`: same tokens, same order, same whole-file checksum.
//! Test-only; it changes only to take the read size and budget as arguments.

#![allow(dead_code)]

use std::io::{self, Read};

use super::index::{find_strong, BlockIndex};
use super::signature::Signature;
use super::Token;
use crate::checksum::{block_sum, Digest, FileHasher, Rolling, StrongKind};

/// Bytes read from the source per refill.
const READ_CHUNK: usize = 256 * 1024;
/// Fixed part of the false-alarm hashing budget.
const FALSE_ALARM_BASE: u64 = 64 << 20;

/// Block search over one signature; reusable for several files.
pub(super) struct OracleMatcher<'s> {
    sig: &'s Signature,
    kind: StrongKind,
    seed: i32,
    proper_seed_order: bool,
    index: BlockIndex,
    /// (index, length, weak) of a short last block.
    tail: Option<(u32, usize, u32)>,
    count: u32,
    blen: usize,
    inplace: bool,
}

impl<'s> OracleMatcher<'s> {
    /// Index `sig` for matching with the session's checksum settings.
    pub(super) fn new(
        sig: &'s Signature,
        kind: StrongKind,
        seed: i32,
        proper_seed_order: bool,
    ) -> Self {
        let head = sig.head;
        let count = (head.count as usize).min(sig.blocks.len()) as u32;
        let blen = head.block_len as usize;
        let short_tail = head.remainder != 0 && head.remainder < head.block_len && count > 0;
        let n_full = if short_tail { count - 1 } else { count };
        let tail = if short_tail {
            let i = count - 1;
            sig.blocks
                .get(i as usize)
                .map(|b| (i, head.remainder as usize, b.weak))
        } else {
            None
        };
        let index = BlockIndex::new(&sig.blocks, n_full as usize);
        Self {
            sig,
            kind,
            seed,
            proper_seed_order,
            index,
            tail,
            count,
            blen,
            inplace: false,
        }
    }

    /// Restrict matches for a receiver that writes into its basis file.
    pub(super) fn set_inplace(&mut self, on: bool) {
        self.inplace = on;
    }

    /// Stream `file_len` bytes from `src`, emitting tokens to `sink`, and
    /// return the whole-file checksum. Fails with `UnexpectedEof` if `src`
    /// ends early; bytes past `file_len` are not read.
    /// `run` as it was, with the read size and the false-alarm budget as
    /// arguments (`READ_CHUNK` and the default budget when `None`).
    pub(super) fn run_with(
        &mut self,
        src: &mut impl Read,
        file_len: u64,
        sink: &mut impl FnMut(Token<'_>) -> io::Result<()>,
        chunk: usize,
        budget: Option<u64>,
    ) -> io::Result<Digest> {
        let mut hasher = FileHasher::new(self.kind, self.seed);
        let mut s = Scan {
            // A block longer than the file cannot match, so a peer's huge
            // block length does not make us allocate more than the file.
            // A small file gets a small buffer: zeroing 256 KiB per file
            // dominated the cost of sending many small files.
            buf: vec![
                0u8;
                (chunk as u64).min(file_len.max(1)) as usize
                    + 2 * (self.blen as u64).min(file_len).max(1) as usize
            ],
            filled: 0,
            pos: 0,
            lit: 0,
            base: 0,
            read: 0,
            file_len,
            budget: budget.unwrap_or(file_len.saturating_mul(4).saturating_add(FALSE_ALARM_BASE)),
        };
        s.fill(src)?;
        if self.count > 0 && self.blen > 0 {
            self.search(&mut s, src, &mut hasher, sink)?;
        }
        // Everything after the last match is literal.
        s.pos = s.filled;
        s.emit_literal(&mut hasher, sink)?;
        while s.read < s.file_len {
            s.filled = 0;
            s.lit = 0;
            s.fill(src)?;
            s.pos = s.filled;
            s.emit_literal(&mut hasher, sink)?;
        }
        Ok(hasher.finish())
    }

    fn min_len(&self) -> usize {
        self.tail.map_or(self.blen, |(_, len, _)| len)
    }

    fn search(
        &self,
        s: &mut Scan,
        src: &mut impl Read,
        hasher: &mut FileHasher,
        sink: &mut impl FnMut(Token<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        let min_len = self.min_len() as u64;
        let mut want: u32 = 0;
        'window: loop {
            if s.remaining() < min_len {
                return Ok(());
            }
            if s.filled - s.pos <= self.blen && s.read < s.file_len {
                s.refill(src, hasher, sink)?;
            }
            let k = (self.blen as u64).min(s.remaining()) as usize;
            let win = s
                .buf
                .get(s.pos..s.pos + k)
                .ok_or(io::ErrorKind::InvalidData)?;
            let mut roll = Rolling::new(win);
            loop {
                if let Some((i, len)) = self.try_match(s, &roll, want) {
                    s.emit_literal(hasher, sink)?;
                    let block = s
                        .buf
                        .get(s.pos..s.pos + len)
                        .ok_or(io::ErrorKind::InvalidData)?;
                    hasher.update(block);
                    sink(Token::Block(i, block))?;
                    s.pos += len;
                    s.lit = s.pos;
                    want = i.wrapping_add(1);
                    continue 'window;
                }
                let k = roll.len() as usize;
                if k == self.blen {
                    // Roll through offsets whose bucket is empty in one tight loop.
                    let in_file = s.file_len.saturating_sub(s.base + k as u64);
                    let limit = (s.filled - k).min(usize::try_from(in_file).unwrap_or(usize::MAX));
                    if s.pos < limit {
                        s.pos = self.skip(&s.buf, s.pos, limit, &mut roll);
                        continue;
                    }
                }
                if s.base + ((s.pos + k) as u64) < s.file_len {
                    if s.pos + k >= s.filled {
                        s.refill(src, hasher, sink)?;
                    }
                    let (Some(&out), Some(&inp)) = (s.buf.get(s.pos), s.buf.get(s.pos + k)) else {
                        return Err(io::ErrorKind::InvalidData.into());
                    };
                    roll.roll(out, inp);
                } else {
                    let &out = s.buf.get(s.pos).ok_or(io::ErrorKind::InvalidData)?;
                    roll.rollout(out);
                }
                s.pos += 1;
                if s.remaining() < min_len {
                    return Ok(());
                }
            }
        }
    }

    /// Roll a full window forward from `pos` until a non-empty bucket or
    /// `limit` (the last offset whose incoming byte is buffered and in the
    /// file); returns the new window start.
    #[inline(never)]
    fn skip(&self, buf: &[u8], pos: usize, limit: usize, roll: &mut Rolling) -> usize {
        let k = self.blen;
        let (Some(outs), Some(ins)) = (buf.get(pos..limit), buf.get(pos + k..limit + k)) else {
            return pos;
        };
        for (n, (&o, &i)) in outs.iter().zip(ins).enumerate() {
            roll.roll(o, i);
            if self.index.maybe(roll.value()) {
                return pos + n + 1;
            }
        }
        limit
    }

    /// A matching block at the current window, if any: (index, length).
    #[inline(always)]
    fn try_match(&self, s: &mut Scan, roll: &Rolling, want: u32) -> Option<(u32, usize)> {
        let k = roll.len() as usize;
        let weak = roll.value();
        if k == self.blen {
            if !self.index.maybe(weak) {
                return None;
            }
            self.match_full(s, weak, want).map(|i| (i, self.blen))
        } else {
            let (idx, len, tw) = self.tail?;
            if len != k || tw != weak {
                return None;
            }
            if self.inplace && u64::from(idx) * (self.blen as u64) < s.abs_pos() {
                return None;
            }
            let strong = self.strong_at(s, len)?;
            let b = self.sig.blocks.get(idx as usize)?;
            (b.strong == strong).then_some((idx, len))
        }
    }

    fn match_full(&self, s: &mut Scan, weak: u32, want: u32) -> Option<u32> {
        let blocks = &self.sig.blocks;
        let cands = self.index.with_weak(blocks, weak);
        if cands.is_empty() {
            return None;
        }
        let strong = self.strong_at(s, self.blen)?;
        let blen = self.blen as u64;
        let min_idx = if self.inplace {
            u32::try_from(s.abs_pos().div_ceil(blen)).unwrap_or(u32::MAX)
        } else {
            0
        };
        let found = find_strong(blocks, cands, &strong, min_idx);
        let aligned = self.inplace && s.abs_pos().is_multiple_of(blen);
        let want_ok = want >= min_idx
            && self.tail.is_none_or(|(t, _, _)| t != want)
            && blocks
                .get(want as usize)
                .is_some_and(|b| b.weak == weak && b.strong == strong);
        let pick = match found {
            Some(i) if aligned && i == min_idx => Some(i),
            _ if want_ok && want < self.count => Some(want),
            f => f,
        };
        if pick.is_none() {
            s.budget = s.budget.saturating_sub(blen);
        }
        pick
    }

    /// The truncated strong sum of `len` bytes at the window, unless the
    /// false-alarm budget is spent.
    fn strong_at(&self, s: &Scan, len: usize) -> Option<Digest> {
        if s.budget == 0 {
            // (oracle)
            return None;
        }
        let data = s.buf.get(s.pos..s.pos + len)?;
        let d = block_sum(self.kind, self.seed, self.proper_seed_order, data);
        Some(d.truncated(self.sig.head.s2_len as usize))
    }
}

/// The streaming window over the source file.
struct Scan {
    buf: Vec<u8>,
    filled: usize,
    /// Window start.
    pos: usize,
    /// Start of the pending literal.
    lit: usize,
    /// File offset of `buf[0]`.
    base: u64,
    read: u64,
    file_len: u64,
    budget: u64,
}

impl Scan {
    #[inline(always)]
    fn abs_pos(&self) -> u64 {
        self.base + self.pos as u64
    }

    #[inline(always)]
    fn remaining(&self) -> u64 {
        self.file_len.saturating_sub(self.abs_pos())
    }

    /// Read until the buffer is full or the file is complete.
    fn fill(&mut self, src: &mut impl Read) -> io::Result<()> {
        while self.filled < self.buf.len() && self.read < self.file_len {
            let want = (self.buf.len() - self.filled) as u64;
            let want = want.min(self.file_len - self.read) as usize;
            let dst = self
                .buf
                .get_mut(self.filled..self.filled + want)
                .ok_or(io::ErrorKind::InvalidData)?;
            let n = match src.read(dst) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            self.filled += n;
            self.read += n as u64;
        }
        Ok(())
    }

    /// Send the pending literal `lit..pos`.
    fn emit_literal(
        &mut self,
        hasher: &mut FileHasher,
        sink: &mut impl FnMut(Token<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        if self.pos > self.lit {
            let data = self
                .buf
                .get(self.lit..self.pos)
                .ok_or(io::ErrorKind::InvalidData)?;
            hasher.update(data);
            sink(Token::Literal(data))?;
        }
        self.lit = self.pos;
        Ok(())
    }

    /// Flush the pending literal, move the window to the front, read more.
    fn refill(
        &mut self,
        src: &mut impl Read,
        hasher: &mut FileHasher,
        sink: &mut impl FnMut(Token<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        self.emit_literal(hasher, sink)?;
        self.buf.copy_within(self.pos..self.filled, 0);
        self.filled -= self.pos;
        self.base += self.pos as u64;
        self.pos = 0;
        self.lit = 0;
        self.fill(src)
    }
}
