//! The token stream that carries a file's delta: `token.c send_token`,
//! `recv_token`, `see_token`, protocols 27–32. It runs inside the
//! multiplexed data channel, so these codecs see plain bytes.
//!
//! - [`plain`]: no compression (`simple_send_token`, `simple_recv_token`).
//! - [`zstd`]: `-zz`/`--compress-choice=zstd` (`send_zstd_token`,
//!   `recv_zstd_token`): one zstd stream for the whole session, flushed at
//!   each block token and at the end of each file.
//!
//! - [`deflate`] / [`inflate`]: `-z` (`zlib`, `CPRES_ZLIB`, the only choice
//!   below protocol 30) and `zlibx` (`send_deflated_token`,
//!   `recv_deflated_token`, `see_deflate_token`): one raw deflate stream per
//!   file; for `zlib` matched blocks also enter the dictionary on both sides.
//!
//! - [`lz4`]: `--compress-choice=lz4` (`send_compressed_token`,
//!   `recv_compressed_token`): each literal piece an LZ4 block of its own.
//!
//! Each decoder has a `decode` over a [`Reader`] that returns the next
//! event or "incomplete" and commits its state (a compressed piece goes
//! into the decompressor) only once a whole record is in the bytes; the
//! `next` over an `impl Read` is a bridge over it.
//!
//! After [`TokenEncoder::end`] the caller writes the file's strong checksum
//! (`match_sums`), which is not part of the token stream.

pub mod deflate;
pub mod inflate;
pub mod lz4;
pub mod plain;
mod runs;
pub mod zstd;

#[cfg(test)]
mod deflate_tests;
#[cfg(test)]
mod slice_tests;
#[cfg(test)]
mod tests;

use std::io;
#[cfg(test)]
use std::io::Read;

#[cfg(test)]
use crate::wire::{read_exact_via, StreamError};
use crate::wire::{CodecError, Fail, Reader, Step};

pub use deflate::DeflateEncoder;
pub use inflate::InflateDecoder;
pub use lz4::{Lz4Decoder, Lz4Encoder};
pub use plain::{PlainDecoder, PlainEncoder};
pub use zstd::{ZstdDecoder, ZstdEncoder};

/// `CHUNK_SIZE`: the largest literal piece plain tokens carry.
pub const CHUNK_SIZE: usize = 32 * 1024;

/// One decoded event of a file's token stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenEvent<'a> {
    /// Literal bytes (at most [`CHUNK_SIZE`] plain, or one decompressed piece).
    Literal(&'a [u8]),
    /// Copy basis block `i` (already checked against the block count).
    Block(u32),
    /// End of this file's tokens; the file checksum follows.
    End,
}

/// A malformed token stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenCodecError {
    /// A block index at or beyond the sum head's count.
    #[error("invalid block index {index} (count={count})")]
    BlockIndex {
        /// The index received.
        index: u32,
        /// The number of blocks.
        count: u32,
    },
    /// A flag byte or token number that rsync never sends.
    #[error("invalid token: {0}")]
    BadToken(&'static str),
    /// The compressor or decompressor failed.
    #[error("compression error: {0}")]
    Compression(&'static str),
}

/// Reading or writing tokens failed.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The underlying stream failed or ended.
    #[error("token stream I/O: {0}")]
    Io(#[from] io::Error),
    /// The peer sent something invalid.
    #[error(transparent)]
    Codec(#[from] TokenCodecError),
}

/// Check a block index against the header's count.
pub(crate) fn check_index(index: i64, count: u32) -> Result<u32, TokenCodecError> {
    match u32::try_from(index) {
        Ok(i) if i < count => Ok(i),
        _ => Err(TokenCodecError::BlockIndex {
            index: u32::try_from(index).unwrap_or(u32::MAX),
            count,
        }),
    }
}

impl From<TokenCodecError> for CodecError {
    fn from(e: TokenCodecError) -> Self {
        match e {
            TokenCodecError::BlockIndex { index, count } => CodecError::BlockIndex { index, count },
            TokenCodecError::BadToken(w) => CodecError::BadToken(w),
            TokenCodecError::Compression(w) => CodecError::Compression(w),
        }
    }
}

impl From<TokenCodecError> for Fail {
    fn from(e: TokenCodecError) -> Self {
        Fail::Invalid(e.into())
    }
}

impl From<CodecError> for TokenCodecError {
    fn from(e: CodecError) -> Self {
        match e {
            CodecError::BlockIndex { index, count } => TokenCodecError::BlockIndex { index, count },
            CodecError::Compression(w) => TokenCodecError::Compression(w),
            CodecError::BadToken(w)
            | CodecError::OutOfRange(w)
            | CodecError::TooLong(w)
            | CodecError::Trailing(w) => TokenCodecError::BadToken(w),
            CodecError::UnexpectedMessage(_) => TokenCodecError::BadToken("message code"),
        }
    }
}

/// What one step of a token decoder made, before it is lent out as a
/// [`TokenEvent`]: literal bytes are counted, not borrowed, so a bridge
/// can loop over steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ev {
    /// The first `n` bytes of the decoder's output buffer.
    Literal(usize),
    /// Copy basis block `i`.
    Block(u32),
    /// End of this file's tokens.
    End,
}

impl Ev {
    /// The event, its literal bytes lent from `out`.
    pub(crate) fn lend(self, out: &[u8]) -> TokenEvent<'_> {
        match self {
            Ev::Literal(n) => TokenEvent::Literal(out.get(..n).unwrap_or_default()),
            Ev::Block(i) => TokenEvent::Block(i),
            Ev::End => TokenEvent::End,
        }
    }
}

/// A decoder that decompresses into a buffer of its own (zlib, zstd,
/// lz4): [`Self::decode`] and the stream bridge [`Self::next`] are the
/// same for each.
pub trait Buffered {
    /// One step: an event, `None` when bytes were used without one, or
    /// "incomplete" with nothing changed.
    #[doc(hidden)]
    fn step(&mut self, r: &mut Reader<'_>, count: u32) -> Step<Option<Ev>>;

    /// The buffer literal events lend from.
    #[doc(hidden)]
    fn out(&self) -> &[u8];

    /// Bytes the stream bridge read but the decoder has not used.
    #[cfg(test)]
    #[doc(hidden)]
    fn held(&mut self) -> &mut Vec<u8>;

    /// The next event decoded from `r`, or "incomplete" (see
    /// [`TokenDecoder::decode`]); block indexes must be below `count`.
    fn decode(&mut self, r: &mut Reader<'_>, count: u32) -> Step<Option<TokenEvent<'_>>> {
        let ev = self.step(r, count)?;
        Ok(ev.map(|e| e.lend(self.out())))
    }

    /// The next event read from a blocking stream (the bridge over
    /// [`Self::decode`]); block indexes must be below `count`.
    #[cfg(test)]
    fn next(&mut self, r: &mut impl Read, count: u32) -> Result<TokenEvent<'_>, TokenError> {
        let mut held = std::mem::take(self.held());
        let ev = read_event(r, &mut held, |x| self.step(x, count));
        *self.held() = held;
        Ok(ev?.lend(self.out()))
    }
}

#[cfg(test)]
/// Runs a decoder's step over a blocking stream until it gives an event:
/// the bridge behind the `impl Read` entry points. It reads exactly the
/// bytes the step asks for; bytes read but not yet used (a flag byte a
/// step looked at) stay in `held` for the next call.
pub(crate) fn read_event(
    r: &mut impl Read,
    held: &mut Vec<u8>,
    mut step: impl FnMut(&mut Reader<'_>) -> Step<Option<Ev>>,
) -> Result<Ev, TokenError> {
    loop {
        match read_exact_via(r, held, &mut step) {
            Ok(Some(ev)) => return Ok(ev),
            // A record was used up without an event: step again.
            Ok(None) => {}
            Err(StreamError::Io(e)) => return Err(TokenError::Io(e)),
            Err(StreamError::Invalid(e)) => return Err(TokenError::Codec(e.into())),
        }
    }
}

/// The sender's token codec for a session (state persists across files).
pub enum TokenEncoder {
    /// No compression.
    Plain(PlainEncoder),
    /// zstd.
    Zstd(Box<ZstdEncoder>),
    /// zlib / zlibx.
    Deflate(Box<DeflateEncoder>),
    /// lz4.
    Lz4(Box<Lz4Encoder>),
}

/// The compression actually used, as rsync's `init_compression_level`
/// settles it: `--compress-level=0` turns zlib and zlibx off (both sides
/// apply this, so the receiver must use it for its decoder too).
pub fn effective_compression(
    c: crate::proto::Compression,
    level: Option<i32>,
) -> crate::proto::Compression {
    use crate::proto::Compression as C;
    match c {
        C::Zlib | C::ZlibX if level == Some(0) => C::None,
        c => c,
    }
}

impl From<TokenError> for io::Error {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Io(e) => e,
            TokenError::Codec(c) => io::Error::new(io::ErrorKind::InvalidData, c),
        }
    }
}

impl TokenEncoder {
    /// The session's encoder for the negotiated compression; `level` is the
    /// client's `--compress-level` (zstd default 3 when absent or 0; zlib
    /// default 6, and 0 means no compression, see
    /// [`effective_compression`]). Call [`Self::set_protocol`] too.
    pub fn new(c: crate::proto::Compression, level: Option<i32>) -> Result<Self, TokenError> {
        use crate::proto::Compression as C;
        match effective_compression(c, level) {
            C::None => Ok(Self::Plain(PlainEncoder)),
            C::Zstd => Ok(Self::Zstd(Box::new(ZstdEncoder::new(level.unwrap_or(0))?))),
            c @ (C::Zlib | C::ZlibX) => Ok(Self::Deflate(Box::new(DeflateEncoder::new(
                c == C::Zlib,
                deflate::effective_level(level),
            )))),
            C::Lz4 => Ok(Self::Lz4(Box::default())),
        }
    }

    /// The session's protocol version (zlib feeds long blocks differently
    /// below 31).
    pub fn set_protocol(&mut self, protocol: u32) {
        if let Self::Deflate(e) = self {
            e.set_protocol(protocol);
        }
    }

    /// Literal data (any length).
    pub fn literal(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<(), TokenError> {
        match self {
            Self::Plain(e) => {
                e.literal(data, out);
                Ok(())
            }
            Self::Zstd(e) => e.literal(data, out),
            Self::Deflate(e) => e.literal(data, out),
            Self::Lz4(e) => e.literal(data, out),
        }
    }

    /// [`Self::literal`], handing the bytes to `put`: uncompressed data
    /// goes to `put` straight from `data`, compressed data through
    /// `scratch`.
    pub fn literal_to(
        &mut self,
        data: &[u8],
        scratch: &mut Vec<u8>,
        put: &mut impl FnMut(&[u8]),
    ) -> Result<(), TokenError> {
        if let Self::Plain(e) = self {
            e.literal_to(data, put);
            return Ok(());
        }
        scratch.clear();
        self.literal(data, scratch)?;
        put(scratch);
        Ok(())
    }

    /// A match of basis block `index`; `data` is the matched bytes (zlib
    /// adds them to its history).
    pub fn block(&mut self, index: u32, data: &[u8], out: &mut Vec<u8>) -> Result<(), TokenError> {
        match self {
            Self::Plain(e) => {
                e.block(index, out);
                Ok(())
            }
            Self::Zstd(e) => e.block(index, out),
            Self::Deflate(e) => e.block(index, data, out),
            Self::Lz4(e) => {
                e.block(index, out);
                Ok(())
            }
        }
    }

    /// End of the file's tokens.
    pub fn end(&mut self, out: &mut Vec<u8>) -> Result<(), TokenError> {
        match self {
            Self::Plain(e) => {
                e.end(out);
                Ok(())
            }
            Self::Zstd(e) => e.end(out),
            Self::Deflate(e) => e.end(out),
            Self::Lz4(e) => {
                e.end(out);
                Ok(())
            }
        }
    }
}

/// The receiver's token codec for a session.
pub enum TokenDecoder {
    /// No compression.
    Plain(PlainDecoder),
    /// zstd.
    Zstd(Box<ZstdDecoder>),
    /// zlib / zlibx.
    Deflate(Box<InflateDecoder>),
    /// lz4.
    Lz4(Box<Lz4Decoder>),
}

impl TokenDecoder {
    /// The session's decoder for the compression in use (pass it through
    /// [`effective_compression`] first). Call [`Self::set_protocol`] too.
    pub fn new(c: crate::proto::Compression) -> Result<Self, TokenError> {
        use crate::proto::Compression as C;
        match c {
            C::None => Ok(Self::Plain(PlainDecoder::new())),
            C::Zstd => Ok(Self::Zstd(Box::default())),
            C::Zlib | C::ZlibX => Ok(Self::Deflate(Box::new(InflateDecoder::new(c == C::Zlib)))),
            C::Lz4 => Ok(Self::Lz4(Box::default())),
        }
    }

    /// The session's protocol version (zlib feeds long blocks differently
    /// below 31).
    pub fn set_protocol(&mut self, protocol: u32) {
        if let Self::Deflate(d) = self {
            d.set_protocol(protocol);
        }
    }

    #[cfg(test)]
    /// The next event read from a blocking stream (the bridge over
    /// [`Self::decode`]); block indexes are checked against `count`.
    pub fn next<'a>(
        &'a mut self,
        r: &mut impl Read,
        count: u32,
    ) -> Result<TokenEvent<'a>, TokenError> {
        match self {
            Self::Plain(d) => d.next(r, count),
            Self::Zstd(d) => d.next(r, count),
            Self::Deflate(d) => d.next(r, count),
            Self::Lz4(d) => d.next(r, count),
        }
    }

    /// The next event decoded from `r`, or "incomplete"; block indexes are
    /// checked against `count`. `Ok(None)` means bytes were used (a
    /// compressed piece that gave no output yet) without an event: run it
    /// again on the bytes after them. The decoder's state changes only when
    /// it returns `Ok`, so after "incomplete" it can run again on the same
    /// bytes once more have arrived.
    pub fn decode<'s, 'a: 's>(
        &'s mut self,
        r: &mut Reader<'a>,
        count: u32,
    ) -> Step<Option<TokenEvent<'s>>> {
        match self {
            Self::Plain(d) => d.decode(r, count),
            Self::Zstd(d) => d.decode(r, count),
            Self::Deflate(d) => d.decode(r, count),
            Self::Lz4(d) => d.decode(r, count),
        }
    }

    /// `see_token`: show the decoder the basis data of the block just
    /// returned. Call it after every [`TokenEvent::Block`] (the zlib codec
    /// adds the bytes to its history; the others ignore them).
    pub fn see_block(&mut self, data: &[u8]) -> Result<(), TokenError> {
        match self {
            Self::Deflate(d) => d.see_block(data),
            Self::Plain(_) | Self::Zstd(_) | Self::Lz4(_) => Ok(()),
        }
    }
}
