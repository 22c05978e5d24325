//! The block-sum header: `generator.c sum_sizes_sqroot` (sizing),
//! `io.c write_sum_head` / `read_sum_head` (wire form), protocols 27–32
//! (older protocols' fixed `s2length` is computed but not otherwise used).
//!
//! Wire form, all little-endian int32: `count`, `blength`, `s2length`
//! (protocol ≥ 27 only), `remainder`.
//!
//! Validation on decode rejects, as rsync 3.5.0 does: a negative count;
//! `blength` outside `0..=max` (128 KiB from protocol 30, 512 MiB before);
//! `count > 0` with `blength == 0` (CVE-2026-53792); `s2length` above the
//! negotiated digest length (CVE-2024-12084); `remainder` outside
//! `0..=blength`. In addition we cap `count` at [`MAX_SUM_COUNT`] (2^24
//! blocks: a 2 TiB basis at the largest block size, or ~11 GiB at the
//! 700-byte minimum) so a peer cannot make us hold more than ~400 MB of sums.
//!
//! [`SumHead::from_reader`] decodes a header from bytes or says
//! "incomplete"; [`SumHead::decode`] and [`SumHead::read_from`] are the
//! buffer and stream forms over it.

#[cfg(test)]
use std::io::Read;

use crate::wire::{complete, CodecError, Decoded, Reader, Step};
#[cfg(test)]
use crate::wire::{read_exact_via, StreamError};

/// `BLOCK_SIZE`: the minimum automatic block length.
pub const BLOCK_SIZE: u32 = 700;
/// `MAX_BLOCK_SIZE`: largest block length from protocol 30.
pub const MAX_BLOCK_SIZE: u32 = 1 << 17;
/// `OLD_MAX_BLOCK_SIZE`: largest block length before protocol 30.
pub const OLD_MAX_BLOCK_SIZE: u32 = 1 << 29;
/// `SUM_LENGTH`: full strong-sum length (redo phase).
pub const SUM_LENGTH: u32 = 16;
/// `SHORT_SUM_LENGTH`: minimum strong-sum length in the first phase.
pub const SHORT_SUM_LENGTH: u32 = 2;
/// `BLOCKSUM_BIAS`.
const BLOCKSUM_BIAS: i32 = 10;
/// Our cap on the number of block sums a peer may announce.
pub const MAX_SUM_COUNT: u32 = 1 << 24;

/// The largest block length a peer may use at `protocol`.
pub fn max_block_len(protocol: u32) -> u32 {
    if protocol < 30 {
        OLD_MAX_BLOCK_SIZE
    } else {
        MAX_BLOCK_SIZE
    }
}

/// Why a header is rejected (or could not be built).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SumHeadError {
    /// Fewer bytes than a header needs.
    #[error("sum head truncated: {0}")]
    Incomplete(&'static str),
    /// A field outside the range rsync accepts.
    #[error("invalid sum head: {0}")]
    Invalid(&'static str),
    /// The file is too large for an int32 block count.
    #[error("file too large for block sums: {0}")]
    TooLarge(&'static str),
}

impl SumHeadError {
    /// The words that say what is wrong.
    fn words(self) -> &'static str {
        match self {
            Self::Incomplete(w) | Self::Invalid(w) | Self::TooLarge(w) => w,
        }
    }

    /// The error for what [`SumHead::from_reader`] refused.
    pub fn from_codec(e: CodecError) -> Self {
        match e {
            CodecError::OutOfRange(w) => Self::Invalid(w),
            _ => Self::Invalid("sum head"),
        }
    }
}

#[cfg(test)]
/// Reading a header from a stream.
#[derive(Debug, thiserror::Error)]
pub enum SumHeadReadError {
    /// The stream failed or ended.
    #[error("reading sum head: {0}")]
    Io(#[from] std::io::Error),
    /// The header was read but is invalid.
    #[error(transparent)]
    Invalid(#[from] SumHeadError),
}

/// `struct sum_struct` minus the sums themselves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SumHead {
    /// Number of blocks (0: no basis, send everything literally).
    pub count: u32,
    /// Block length.
    pub block_len: u32,
    /// Strong-sum bytes sent per block.
    pub s2_len: u32,
    /// Length of the final short block, 0 if the last block is full.
    pub remainder: u32,
}

impl SumHead {
    /// The header for "no basis" (`write_sum_head(f, NULL)`).
    pub const EMPTY: Self = Self {
        count: 0,
        block_len: 0,
        s2_len: 0,
        remainder: 0,
    };

    /// `sum_sizes_sqroot`: block layout for a basis of `file_len` bytes.
    /// `block_size` is the client's `-B` (0 or `None`: automatic);
    /// `digest_len` the negotiated `xfer_sum_len`; `redo` selects the full
    /// 16-byte `csum_length` of the redo phase.
    pub fn for_file(
        file_len: u64,
        protocol: u32,
        block_size: Option<u32>,
        digest_len: usize,
        redo: bool,
    ) -> Result<Self, SumHeadError> {
        let len = i64::try_from(file_len).map_err(|_| SumHeadError::TooLarge("length"))?;
        let max_blen = max_block_len(protocol);
        let blength = match block_size {
            Some(b) if b > 0 => {
                if b > max_blen {
                    return Err(SumHeadError::Invalid("block size above protocol maximum"));
                }
                b
            }
            _ => auto_block_len(len, max_blen),
        };
        let csum_length: i32 = if redo {
            SUM_LENGTH as i32
        } else {
            SHORT_SUM_LENGTH as i32
        };
        let max_s2 = (SUM_LENGTH as i32).min(i32::try_from(digest_len).unwrap_or(i32::MAX));
        let s2_len = if protocol < 27 {
            csum_length
        } else if redo {
            max_s2
        } else {
            let mut b = BLOCKSUM_BIAS;
            let mut l = len;
            loop {
                l >>= 1;
                if l == 0 {
                    break;
                }
                b += 2;
            }
            let mut c = blength;
            loop {
                c >>= 1;
                if c == 0 || b == 0 {
                    break;
                }
                b -= 1;
            }
            // Add a bit, subtract the 32 bits of the rolling sum, round up
            // (C division truncates toward zero, as Rust's does).
            ((b + 1 - 32 + 7) / 8).max(csum_length).min(max_s2)
        };
        let blen = i64::from(blength);
        let remainder = len % blen;
        let count = len / blen + i64::from(remainder != 0);
        let count = i32::try_from(count).map_err(|_| SumHeadError::TooLarge("block count"))?;
        Ok(Self {
            count: count as u32,
            block_len: blength,
            s2_len: s2_len.max(0) as u32,
            remainder: remainder as u32,
        })
    }

    /// The block length `sum_sizes_sqroot` picks for a basis of
    /// `file_len` bytes when the client gives no `-B`: 700 up to 490 000
    /// bytes, then about the square root, rounded down to a multiple of 8
    /// and capped at the protocol maximum.
    pub fn default_block_len(file_len: u64, protocol: u32) -> u32 {
        let len = i64::try_from(file_len).unwrap_or(i64::MAX);
        auto_block_len(len, max_block_len(protocol))
    }

    /// Length of block `i` (the last one may be short).
    pub fn block_len_of(&self, i: u32) -> u32 {
        if self.remainder != 0 && i.checked_add(1) == Some(self.count) {
            self.remainder
        } else {
            self.block_len
        }
    }

    /// Total bytes the blocks cover.
    pub fn basis_len(&self) -> u64 {
        let full = u64::from(self.count) * u64::from(self.block_len);
        if self.count > 0 && self.remainder != 0 {
            full - u64::from(self.block_len - self.remainder.min(self.block_len))
        } else {
            full
        }
    }

    /// Number of bytes `encode` writes at `protocol`.
    pub fn encoded_len(protocol: u32) -> usize {
        if protocol >= 27 {
            16
        } else {
            12
        }
    }

    /// `write_sum_head`.
    pub fn encode(&self, protocol: u32, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.count.to_le_bytes());
        out.extend_from_slice(&self.block_len.to_le_bytes());
        if protocol >= 27 {
            out.extend_from_slice(&self.s2_len.to_le_bytes());
        }
        out.extend_from_slice(&self.remainder.to_le_bytes());
    }

    /// `read_sum_head` over a [`Reader`]: the whole header (12 or 16
    /// bytes) or "incomplete", then the validation of [`Self::decode`]; a
    /// refused field is [`CodecError::OutOfRange`] with the words
    /// [`SumHeadError::Invalid`] would carry. `digest_len` is the
    /// negotiated `xfer_sum_len`.
    pub fn from_reader(r: &mut Reader<'_>, protocol: u32, digest_len: usize) -> Step<Self> {
        let mut f = r.sub(Self::encoded_len(protocol))?;
        let count = f.i32()?;
        let blength = f.i32()?;
        // Before protocol 27 there is no s2length field: it is csum_length.
        let (s2, remainder) = if protocol >= 27 {
            (f.i32()?, f.i32()?)
        } else {
            (SHORT_SUM_LENGTH as i32, f.i32()?)
        };
        Self::validate(count, blength, s2, remainder, protocol, digest_len)
            .map_err(|e| CodecError::OutOfRange(e.words()).into())
    }

    /// `read_sum_head` from a buffer: the header and the bytes consumed.
    /// `digest_len` is the negotiated `xfer_sum_len`.
    pub fn decode(
        buf: &[u8],
        protocol: u32,
        digest_len: usize,
    ) -> Result<(Self, usize), SumHeadError> {
        match complete(buf, |r| Self::from_reader(r, protocol, digest_len)) {
            Ok(Decoded::Complete { value, consumed }) => Ok((value, consumed)),
            Ok(Decoded::Incomplete { .. }) => Err(SumHeadError::Incomplete("sum head")),
            Err(e) => Err(SumHeadError::from_codec(e)),
        }
    }

    #[cfg(test)]
    /// `read_sum_head` from a stream (the bridge over
    /// [`Self::from_reader`]; the stream's errors are kept as they are).
    pub fn read_from(
        r: &mut impl Read,
        protocol: u32,
        digest_len: usize,
    ) -> Result<Self, SumHeadReadError> {
        let mut held = Vec::new();
        read_exact_via(r, &mut held, |x| Self::from_reader(x, protocol, digest_len)).map_err(|e| {
            match e {
                StreamError::Io(e) => SumHeadReadError::Io(e),
                StreamError::Invalid(e) => SumHeadReadError::Invalid(SumHeadError::from_codec(e)),
            }
        })
    }

    fn validate(
        count: i32,
        blength: i32,
        s2: i32,
        remainder: i32,
        protocol: u32,
        digest_len: usize,
    ) -> Result<Self, SumHeadError> {
        let count = u32::try_from(count).map_err(|_| SumHeadError::Invalid("negative count"))?;
        if count > MAX_SUM_COUNT {
            return Err(SumHeadError::Invalid("count above our limit"));
        }
        let block_len =
            u32::try_from(blength).map_err(|_| SumHeadError::Invalid("negative block length"))?;
        if block_len > max_block_len(protocol) {
            return Err(SumHeadError::Invalid("block length above protocol maximum"));
        }
        if count > 0 && block_len == 0 {
            return Err(SumHeadError::Invalid("zero block length with blocks"));
        }
        let s2_len = u32::try_from(s2).map_err(|_| SumHeadError::Invalid("negative s2length"))?;
        if s2_len as usize > digest_len.min(super::strong::MAX_DIGEST_LEN) {
            return Err(SumHeadError::Invalid("s2length above digest length"));
        }
        let remainder =
            u32::try_from(remainder).map_err(|_| SumHeadError::Invalid("negative remainder"))?;
        if remainder > block_len {
            return Err(SumHeadError::Invalid("remainder above block length"));
        }
        Ok(Self {
            count,
            block_len,
            s2_len,
            remainder,
        })
    }
}

/// The square-root sizing of `sum_sizes_sqroot` for files above 490 000 bytes.
fn auto_block_len(len: i64, max_blen: u32) -> u32 {
    let bs = i64::from(BLOCK_SIZE);
    if len <= bs * bs {
        return BLOCK_SIZE;
    }
    // c = 2^(floor(log4(len))) roughly: one doubling per two bits of len.
    let mut c: i64 = 1;
    let mut l = len;
    loop {
        l >>= 2;
        if l == 0 {
            break;
        }
        c <<= 1;
    }
    if c >= i64::from(max_blen) {
        return max_blen;
    }
    let mut blength: i64 = 0;
    loop {
        blength |= c;
        if len < blength * blength {
            blength &= !c;
        }
        c >>= 1;
        if c < 8 {
            break;
        }
    }
    blength.max(bs) as u32
}
