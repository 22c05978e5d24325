//! Basis block sums: `generator.c generate_and_send_sums` (making them) and
//! `sender.c receive_sums` (reading them), protocols 27–32.
//!
//! Each block is sent as an int32 little-endian weak sum followed by the
//! first `s2length` bytes of its strong sum. [`BlockSum::decode`] decodes
//! one block from bytes or says "incomplete"; [`Signature::read_blocks`]
//! runs it over a blocking stream.

use std::io::{self, Read};

use crate::checksum::strong::{block_sums_pair, MAX_DIGEST_LEN};
use crate::checksum::{block_sum, checksum1, Digest, StrongKind, SumHead};
#[cfg(test)]
use crate::wire::{read_exact_via, StreamError};
use crate::wire::{CodecError, Reader, Step};

/// Blocks reserved up front when reading sums; more are pushed as they
/// actually arrive, so a lying `count` cannot force a large allocation.
#[cfg(test)]
const INITIAL_RESERVE: usize = 1 << 16;

/// One basis block's sums.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockSum {
    /// `get_checksum1` of the block.
    pub weak: u32,
    /// The strong sum truncated to `s2_len` bytes.
    pub strong: Digest,
}

/// A validated header and its blocks (`blocks.len() == head.count`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    /// The header the blocks were read under.
    pub head: SumHead,
    /// The blocks, in basis order.
    pub blocks: Vec<BlockSum>,
}

impl BlockSum {
    /// One block's sums over a [`Reader`] (`receive_sums`' loop body): the
    /// int32 weak sum and `s2_len` bytes of strong sum, all of them or
    /// "incomplete". An `s2_len` above the longest digest is refused.
    pub fn decode(r: &mut Reader<'_>, s2_len: usize) -> Step<Self> {
        if s2_len > MAX_DIGEST_LEN {
            return Err(CodecError::OutOfRange("s2length").into());
        }
        let mut rec = r.sub(4 + s2_len)?;
        let weak = u32::from_le_bytes(rec.array()?);
        Ok(Self {
            weak,
            strong: Digest::from_slice(rec.rest()),
        })
    }
}

impl Signature {
    #[cfg(test)]
    /// Read `head.count` block sums following an already validated `head`
    /// (the bridge over [`BlockSum::decode`]; the stream's errors are kept
    /// as they are).
    pub fn read_blocks(head: SumHead, r: &mut impl Read) -> io::Result<Self> {
        let count = head.count as usize;
        let s2 = head.s2_len as usize;
        if s2 > MAX_DIGEST_LEN {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "s2length above the longest digest",
            ));
        }
        let mut blocks = Vec::with_capacity(count.min(INITIAL_RESERVE));
        let mut held = Vec::with_capacity(4 + MAX_DIGEST_LEN);
        for _ in 0..count {
            let block =
                read_exact_via(r, &mut held, |x| BlockSum::decode(x, s2)).map_err(|e| match e {
                    StreamError::Io(e) => e,
                    StreamError::Invalid(e) => io::Error::new(io::ErrorKind::InvalidData, e),
                })?;
            blocks.push(block);
        }
        Ok(Self { head, blocks })
    }

    /// Build from blocks computed locally (tests, local transfers).
    pub fn from_blocks(head: SumHead, blocks: Vec<BlockSum>) -> Self {
        Self { head, blocks }
    }
}

/// `generate_and_send_sums`: read the basis sequentially and report each
/// block's weak sum and truncated strong sum. Fails with `UnexpectedEof`
/// if the basis is shorter than `head` describes.
pub fn generate_signature(
    r: &mut impl Read,
    head: &SumHead,
    kind: StrongKind,
    seed: i32,
    proper_seed_order: bool,
    out: &mut impl FnMut(u32, &[u8]),
) -> io::Result<()> {
    // MD4 and MD5 sum two blocks at once (two lanes cost little more
    // than one).
    let pair = kind.hashes_in_pairs();
    let blen = head.block_len as usize;
    let mut buf = crate::iobuf::IoBuf::zeroed(if pair { 2 * blen } else { blen });
    let s2 = head.s2_len as usize;
    let mut i = 0;
    while i < head.count {
        let n = head.block_len_of(i) as usize;
        if pair && i + 1 < head.count {
            let m = head.block_len_of(i + 1) as usize;
            let both = buf.get_mut(..n + m).ok_or(io::ErrorKind::InvalidInput)?;
            r.read_exact(both)?;
            let (a, b) = both.split_at(n);
            let [sa, sb] = block_sums_pair(kind, seed, proper_seed_order, a, b)
                .unwrap_or_else(|| [a, b].map(|x| block_sum(kind, seed, proper_seed_order, x)));
            out(checksum1(a), sa.truncated(s2).as_bytes());
            out(checksum1(b), sb.truncated(s2).as_bytes());
            i += 2;
            continue;
        }
        let block = buf.get_mut(..n).ok_or(io::ErrorKind::InvalidInput)?;
        r.read_exact(block)?;
        let strong = block_sum(kind, seed, proper_seed_order, block).truncated(s2);
        out(checksum1(block), strong.as_bytes());
        i += 1;
    }
    Ok(())
}

/// Convenience: the whole signature of an in-memory basis.
pub fn signature_of(
    basis: &[u8],
    head: SumHead,
    kind: StrongKind,
    seed: i32,
    proper_seed_order: bool,
) -> io::Result<Signature> {
    let mut blocks = Vec::with_capacity(head.count as usize);
    let mut r = basis;
    generate_signature(
        &mut r,
        &head,
        kind,
        seed,
        proper_seed_order,
        &mut |weak, s| {
            blocks.push(BlockSum {
                weak,
                strong: Digest::from_slice(s),
            })
        },
    )?;
    Ok(Signature { head, blocks })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#[path = "signature_tests.rs"]
mod tests;
