//! The sender's block search: `match.c match_sums` and `hash_search`,
//! protocols 27–32.
//!
//! The file passes once through a buffer of 256 KiB plus two blocks. The
//! matcher reads nothing itself: a [`Search`] per file takes the bytes from
//! its caller piece by piece and emits the tokens each buffer decides, so an
//! asynchronous sender can stop after any buffer and go on later;
//! `Matcher::run`, that loop over a reader, is kept for the tests. At each offset the rolling
//! weak sum is probed in the [`BlockIndex`]; strong sums are computed only
//! on a weak hit. As in rsync, a full-length
//! block can match wherever a full window remains, the short last block only
//! at the very end of the file, and the block after the previous match
//! (`want_i`) is preferred so runs compress well. With `inplace` (the
//! receiver updates its basis in place, `updating_basis_file`) only blocks at
//! or after the current offset are used, and the aligned block is preferred.
//!
//! The whole-file checksum (`sum_update` over every byte, in order) is
//! computed in the same pass and returned.
//!
//! Unlike rsync, strong-sum work on false alarms is capped per file (four
//! times the file length plus 64 MiB of hashing); past the cap weak hits are
//! treated as misses, so a hostile signature costs at most linear time. This
//! only ever turns matches into literals.

use std::io;
#[cfg(test)]
use std::io::Read;

use super::index::{find_strong, BlockIndex};
use super::search::{Resume, Scan, Search, Spare, Stop, READ_CHUNK};
use super::signature::Signature;
use super::Token;
use crate::checksum::{block_sum, Digest, FileHasher, Rolling, StrongKind};

/// Block search over one signature; reusable for several files.
pub struct Matcher<'s> {
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

impl<'s> Matcher<'s> {
    /// Index `sig` for matching with the session's checksum settings.
    pub fn new(sig: &'s Signature, kind: StrongKind, seed: i32, proper_seed_order: bool) -> Self {
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
    pub fn set_inplace(&mut self, on: bool) {
        self.inplace = on;
    }

    /// Start the search of one file of `file_len` bytes; the caller hands
    /// in its bytes and takes the tokens piece by piece ([`Search`]).
    pub fn search(&self, file_len: u64) -> Search<'_> {
        Search::new(self, file_len, READ_CHUNK, None, &mut Spare::default())
    }

    /// [`Matcher::search`] in what an earlier search left in `spare`
    /// ([`Search::finish_into`]).
    pub fn search_reusing(&self, file_len: u64, spare: &mut Spare) -> Search<'_> {
        Search::new(self, file_len, READ_CHUNK, None, spare)
    }

    /// [`Matcher::search`] with another buffer size and false-alarm budget.
    #[cfg(test)]
    pub(super) fn search_with(
        &self,
        file_len: u64,
        chunk: usize,
        budget: Option<u64>,
    ) -> Search<'_> {
        Search::new(self, file_len, chunk, budget, &mut Spare::default())
    }

    #[cfg(test)]
    /// Stream `file_len` bytes from `src`, emitting tokens to `sink`, and
    /// return the whole-file checksum. Fails with `UnexpectedEof` if `src`
    /// ends early; bytes past `file_len` are not read.
    pub fn run(
        &mut self,
        src: &mut impl Read,
        file_len: u64,
        sink: &mut impl FnMut(Token<'_>) -> io::Result<()>,
    ) -> io::Result<Digest> {
        let mut search = self.search(file_len);
        while !search.is_complete() {
            let n = match src.read(search.space()) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            search.commit(n, sink)?;
        }
        search.finish()
    }

    /// Whether any block can match (there are blocks, of some length).
    pub(super) fn has_blocks(&self) -> bool {
        self.count > 0 && self.blen > 0
    }

    pub(super) fn block_len(&self) -> usize {
        self.blen
    }

    /// The whole-file checksum's kind and seed.
    pub(super) fn file_sum(&self) -> (StrongKind, i32) {
        (self.kind, self.seed)
    }

    fn min_len(&self) -> u64 {
        self.tail.map_or(self.blen, |(_, len, _)| len) as u64
    }

    /// Search the buffered part of the file, going on at `at`, until the
    /// buffer must be refilled or too little of the file is left for a
    /// block. Emits block matches and the literals before them; the literal
    /// in progress stays in the buffer (`s.lit..s.pos`).
    pub(super) fn search_buffer(
        &self,
        s: &mut Scan,
        hasher: &mut FileHasher,
        sink: &mut impl FnMut(Token<'_>) -> io::Result<()>,
        mut at: Resume,
    ) -> io::Result<Stop> {
        let min_len = self.min_len();
        'window: loop {
            let mut roll = match at {
                Resume::Roll(mut roll) => {
                    at = Resume::Window;
                    if let Some(stop) = self.roll_one(s, &mut roll, min_len)? {
                        return Ok(stop);
                    }
                    roll
                }
                Resume::Window => {
                    if s.remaining() < min_len {
                        return Ok(Stop::Done);
                    }
                    if s.filled - s.pos <= self.blen && s.read < s.file_len {
                        return Ok(Stop::Refill(Resume::Window));
                    }
                    let k = (self.blen as u64).min(s.remaining()) as usize;
                    let win = s
                        .buf
                        .get(s.pos..s.pos + k)
                        .ok_or(io::ErrorKind::InvalidData)?;
                    Rolling::new(win)
                }
            };
            loop {
                if let Some((i, len, ahead)) = self.try_match(s, &roll, hasher) {
                    let hashed = ahead.is_some();
                    match ahead {
                        // The file sum has the literal and the block.
                        Some(h) => {
                            s.emit_literal_hashed(sink)?;
                            *hasher = h;
                        }
                        None => s.emit_literal(hasher, sink)?,
                    }
                    let block = s
                        .buf
                        .get(s.pos..s.pos + len)
                        .ok_or(io::ErrorKind::InvalidData)?;
                    if !hashed {
                        hasher.update(block);
                    }
                    sink(Token::Block(i, block))?;
                    s.pos += len;
                    s.lit = s.pos;
                    s.want = i.wrapping_add(1);
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
                if let Some(stop) = self.roll_one(s, &mut roll, min_len)? {
                    return Ok(stop);
                }
            }
        }
    }

    /// Move the window one byte on: roll the next byte in while the file
    /// has one, else only roll the first byte out (the window shrinks
    /// towards the short last block). Stops the search when the next byte
    /// is not buffered yet or too little of the file is left.
    #[inline(always)]
    fn roll_one(&self, s: &mut Scan, roll: &mut Rolling, min_len: u64) -> io::Result<Option<Stop>> {
        let k = roll.len() as usize;
        if s.base + ((s.pos + k) as u64) < s.file_len {
            if s.pos + k >= s.filled {
                return Ok(Some(Stop::Refill(Resume::Roll(*roll))));
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
        Ok((s.remaining() < min_len).then_some(Stop::Done))
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

    /// A matching block at the current window, if any: (index, length,
    /// and the file sum over the pending literal and the block when it was
    /// computed alongside the block's sum).
    #[inline(always)]
    fn try_match(
        &self,
        s: &mut Scan,
        roll: &Rolling,
        hasher: &FileHasher,
    ) -> Option<(u32, usize, Option<FileHasher>)> {
        let k = roll.len() as usize;
        let weak = roll.value();
        if k == self.blen {
            if !self.index.maybe(weak) {
                return None;
            }
            self.match_full(s, weak, hasher)
                .map(|(i, ahead)| (i, self.blen, ahead))
        } else {
            let (idx, len, tw) = self.tail?;
            if len != k || tw != weak {
                return None;
            }
            if self.inplace && u64::from(idx) * (self.blen as u64) < s.abs_pos() {
                return None;
            }
            let (strong, ahead) = self.strong_at(s, len, hasher)?;
            let b = self.sig.blocks.get(idx as usize)?;
            (b.strong == strong).then_some((idx, len, ahead))
        }
    }

    fn match_full(
        &self,
        s: &mut Scan,
        weak: u32,
        hasher: &FileHasher,
    ) -> Option<(u32, Option<FileHasher>)> {
        let want = s.want;
        let blocks = &self.sig.blocks;
        let cands = self.index.with_weak(blocks, weak);
        if cands.is_empty() {
            return None;
        }
        let (strong, ahead) = self.strong_at(s, self.blen, hasher)?;
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
        pick.map(|i| (i, ahead))
    }

    /// The truncated strong sum of `len` bytes at the window, unless the
    /// false-alarm budget is spent. With MD4 or MD5 and a pending literal no
    /// longer than a block, also the file sum over the literal and the
    /// window, hashed in the same pass: it is needed if the block
    /// matches, and costs at most a block's hashing if it does not.
    fn strong_at(
        &self,
        s: &Scan,
        len: usize,
        hasher: &FileHasher,
    ) -> Option<(Digest, Option<FileHasher>)> {
        if s.budget == 0 {
            return None;
        }
        let data = s.buf.get(s.pos..s.pos + len)?;
        let n = self.sig.head.s2_len as usize;
        if self.kind.hashes_in_pairs() && s.pos.saturating_sub(s.lit) <= self.blen {
            let through = s.buf.get(s.lit..s.pos + len);
            let pair = |t| hasher.pair_with_block(self.seed, self.proper_seed_order, data, t);
            if let Some((d, ahead)) = through.and_then(pair) {
                return Some((d.truncated(n), Some(ahead)));
            }
        }
        let d = block_sum(self.kind, self.seed, self.proper_seed_order, data);
        Some((d.truncated(n), None))
    }
}
