//! The receiver's reconstruction: `receiver.c receive_data`, protocols 27–32.
//!
//! Literal data is written as it arrives; block `i` is copied from the basis
//! at `i * blength` (`remainder` bytes for a short last block). Every byte
//! written also feeds the whole-file checksum, which the caller compares with
//! the sender's after the end token. Block indexes are checked against the
//! header's count, and a block with no basis is an error, as in rsync.
//!
//! A basis that turns out shorter than its header (changed underneath us)
//! is zero-filled, as rsync's `map_ptr` does; the checksum then fails and
//! the file is redone.

use std::io::{self, Read, Seek, SeekFrom, Write};

use crate::checksum::{Digest, FileHasher, StrongKind, SumHead};
use crate::iobuf::IoBuf;

/// Why applying a token failed.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// A block index at or beyond the header's count.
    #[error("invalid block index {index} (count={count})")]
    BadIndex {
        /// The index received.
        index: u32,
        /// The number of blocks the header announced.
        count: u32,
    },
    /// A block match arrived but there is no basis file.
    #[error("block match with no basis file")]
    NoBasis,
    /// Reading the basis or writing the output failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Rebuilds one file from tokens.
pub struct Applier {
    head: SumHead,
    hasher: FileHasher,
    written: u64,
    buf: IoBuf,
}

impl Applier {
    /// Start a file whose basis was described by `head` (`SumHead::EMPTY`
    /// if there was none).
    pub fn new(head: SumHead, kind: StrongKind, seed: i32) -> Self {
        Self {
            head,
            hasher: FileHasher::new(kind, seed),
            written: 0,
            buf: IoBuf::zeroed(0),
        }
    }

    /// Basis offset and length of block `index`, validated.
    pub fn block_range(&self, index: u32) -> Result<(u64, usize), ApplyError> {
        if index >= self.head.count {
            return Err(ApplyError::BadIndex {
                index,
                count: self.head.count,
            });
        }
        let off = u64::from(index) * u64::from(self.head.block_len);
        Ok((off, self.head.block_len_of(index) as usize))
    }

    /// Adds bytes the file already has to the whole-file checksum only
    /// (`--append-verify`); call before any token.
    pub fn hash_only(&mut self, data: &[u8]) {
        self.hasher.update(data);
    }

    /// Write literal data.
    pub fn literal(&mut self, data: &[u8], out: &mut impl Write) -> io::Result<()> {
        self.hasher.update(data);
        out.write_all(data)?;
        self.written += data.len() as u64;
        Ok(())
    }

    /// Copy block `index` using `read_block(offset, dst)` to fill `dst`
    /// from the basis; returns the block's bytes (for `see_token`).
    pub fn block_with(
        &mut self,
        index: u32,
        read_block: &mut impl FnMut(u64, &mut [u8]) -> io::Result<()>,
        out: &mut impl Write,
    ) -> Result<&[u8], ApplyError> {
        let (off, len) = self.block_range(index)?;
        if self.buf.len() < len {
            self.buf = IoBuf::zeroed(len);
        }
        let block = self
            .buf
            .get_mut(..len)
            .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidData))?;
        read_block(off, block)?;
        self.hasher.update(block);
        out.write_all(block)?;
        self.written += len as u64;
        Ok(block)
    }

    /// Copy block `index` from a seekable basis (`None`: there is none).
    pub fn block<B: Read + Seek>(
        &mut self,
        index: u32,
        basis: Option<&mut B>,
        out: &mut impl Write,
    ) -> Result<&[u8], ApplyError> {
        let basis = basis.ok_or(ApplyError::NoBasis)?;
        self.block_with(
            index,
            &mut |off, dst| read_zero_filled(basis, off, dst),
            out,
        )
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// `sum_end`: the checksum of everything written.
    pub fn finish(self) -> Digest {
        self.hasher.finish()
    }

    /// Finish and compare with the sender's file checksum.
    pub fn verify(self, sender_sum: &[u8]) -> bool {
        self.finish().as_bytes() == sender_sum
    }
}

/// Read `dst.len()` bytes at `off`, zero-filling past the end of the basis.
pub fn read_zero_filled<B: Read + Seek>(basis: &mut B, off: u64, dst: &mut [u8]) -> io::Result<()> {
    basis.seek(SeekFrom::Start(off))?;
    let mut got = 0;
    while got < dst.len() {
        let rest = dst.get_mut(got..).unwrap_or_default();
        match basis.read(rest) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    if let Some(tail) = dst.get_mut(got..) {
        tail.fill(0);
    }
    Ok(())
}
