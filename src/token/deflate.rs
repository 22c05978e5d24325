//! Deflate-compressed tokens, sender side: `token.c send_deflated_token`,
//! protocols 27–32, for both `zlib` (`CPRES_ZLIB`, what every `-z` client
//! without negotiation uses, e.g. rsync 2.6.9 at protocol 29) and `zlibx`
//! (`CPRES_ZLIBX`, rsync ≥ 3.1.1 by negotiation).
//!
//! Each file gets a fresh raw deflate stream (window bits 15, memLevel 8,
//! default strategy; `deflateReset` at the first token of a file). Literal
//! data is compressed; before each block token and at the end of the file
//! the stream is sync-flushed and the flush's empty stored block trailer
//! `00 00 ff ff` is stripped (the receiver puts it back). Compressed bytes
//! travel in pieces of at most 16383 bytes, each `DEFLATED_DATA | len >> 8`,
//! `len & 0xff`. Block matches use the run coding of [`super::runs`];
//! `END_FLAG` ends each file.
//!
//! For `zlib` the matched block's bytes also go into the compressor's
//! history, so later literals may refer to them. rsync does this with the
//! bundled zlib's `Z_INSERT_ONLY`; here `deflateSetDictionary`, which raw
//! deflate accepts at any point where no input is pending (always true
//! after a sync flush), does the same: the window gains the bytes without
//! any output. Blocks longer than 0xffff are fed in 0xffff pieces, as the
//! receiver's `see_deflate_token` does; before protocol 31 every piece
//! restarts at the block's first byte (rsync's "data-duplicating bug"),
//! and we reproduce that so both sides' histories agree.

use flate2::{Compress, Compression, FlushCompress};

use super::runs::RunEncoder;
use super::runs::{DEFLATED_DATA, END_FLAG, END_OF_FILE, LITERAL_ONLY, MAX_DATA_COUNT};
use super::{TokenCodecError, TokenError};

/// rsync's level for zlib when none is given (`Z_DEFAULT_COMPRESSION`).
pub const DEFAULT_LEVEL: i32 = 6;
/// The largest piece of a matched block fed into the history at once.
pub(crate) const MAX_FEED: usize = 0xffff;
/// The tail every sync flush ends with (an empty stored block's lengths).
pub(crate) const SYNC_TRAILER: [u8; 4] = [0, 0, 0xff, 0xff];
/// The first protocol that advances through a long block while feeding it.
pub(crate) const FEED_FIX_PROTOCOL: u32 = 31;
/// Scratch output per compressor call.
const OBUF_SIZE: usize = 64 * 1024;

/// The level rsync's `init_compression_level` settles on for zlib: -1
/// (`Z_DEFAULT_COMPRESSION`) and "not given" mean 6; others are clamped to
/// 1..=9. Level 0 turns compression off, which [`super::TokenEncoder::new`]
/// handles before getting here.
pub fn effective_level(level: Option<i32>) -> u32 {
    match level {
        None | Some(-1) => DEFAULT_LEVEL as u32,
        Some(l) => l.clamp(1, 9) as u32,
    }
}

fn cerr(_: flate2::CompressError) -> TokenError {
    TokenCodecError::Compression("deflate failed").into()
}

/// Sender side.
pub struct DeflateEncoder {
    z: Compress,
    /// `CPRES_ZLIB`: feed matched blocks into the history.
    feed: bool,
    protocol: u32,
    runs: RunEncoder,
    flush_pending: bool,
    obuf: Vec<u8>,
    zout: Vec<u8>,
}

impl DeflateEncoder {
    /// A session's encoder; `feed` selects `zlib` over `zlibx`; `level` as
    /// [`effective_level`] returns it.
    pub fn new(feed: bool, level: u32) -> Self {
        Self {
            z: Compress::new(Compression::new(level.clamp(1, 9)), false),
            feed,
            protocol: FEED_FIX_PROTOCOL,
            runs: RunEncoder::new(),
            flush_pending: false,
            obuf: vec![0u8; OBUF_SIZE],
            zout: Vec::new(),
        }
    }

    /// The session's protocol version (only matters below 31, see above).
    pub fn set_protocol(&mut self, protocol: u32) {
        self.protocol = protocol;
    }

    /// Literal data (rsync's token -2: compressed without flushing).
    pub fn literal(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<(), TokenError> {
        if data.is_empty() {
            return Ok(());
        }
        self.send(LITERAL_ONLY, data, out)?;
        Ok(())
    }

    /// A match of block `index` whose bytes are `data`.
    pub fn block(&mut self, index: u32, data: &[u8], out: &mut Vec<u8>) -> Result<(), TokenError> {
        self.send(i64::from(index), &[], out)?;
        if self.feed {
            self.insert(data)?;
        }
        Ok(())
    }

    /// End of the file.
    pub fn end(&mut self, out: &mut Vec<u8>) -> Result<(), TokenError> {
        self.send(END_OF_FILE, &[], out)?;
        out.push(END_FLAG);
        Ok(())
    }

    fn send(&mut self, token: i64, data: &[u8], out: &mut Vec<u8>) -> Result<(), TokenError> {
        if self.runs.at_file_start() {
            self.z.reset();
            self.flush_pending = false;
        }
        self.runs.step(token, !data.is_empty(), out);
        if !data.is_empty() || self.flush_pending {
            let flush = token != LITERAL_ONLY;
            self.compress(data, flush)?;
            if flush {
                // Strip the sync flush's `00 00 ff ff`.
                let keep = self
                    .zout
                    .len()
                    .checked_sub(SYNC_TRAILER.len())
                    .filter(|&k| self.zout.get(k..) == Some(&SYNC_TRAILER[..]))
                    .ok_or(TokenCodecError::Compression("sync flush without trailer"))?;
                self.zout.truncate(keep);
            }
            for piece in self.zout.chunks(MAX_DATA_COUNT) {
                out.push(DEFLATED_DATA + (piece.len() >> 8) as u8);
                out.push(piece.len() as u8);
                out.extend_from_slice(piece);
            }
            self.zout.clear();
            self.flush_pending = token == LITERAL_ONLY;
        }
        Ok(())
    }

    /// Run the compressor over `data` (sync-flushing if `flush`), collecting
    /// its output in `zout`.
    fn compress(&mut self, mut data: &[u8], flush: bool) -> Result<(), TokenError> {
        let mode = if flush {
            FlushCompress::Sync
        } else {
            FlushCompress::None
        };
        loop {
            let (in0, out0) = (self.z.total_in(), self.z.total_out());
            self.z.compress(data, &mut self.obuf, mode).map_err(cerr)?;
            let used = usize::try_from(self.z.total_in() - in0).unwrap_or(usize::MAX);
            let made = usize::try_from(self.z.total_out() - out0).unwrap_or(usize::MAX);
            self.zout
                .extend_from_slice(self.obuf.get(..made).unwrap_or_default());
            data = data.get(used..).unwrap_or_default();
            // Done once all input is in and the compressor had room to spare
            // (zlib's `avail_out != 0` after the call).
            if data.is_empty() && made < self.obuf.len() {
                return Ok(());
            }
            if used == 0 && made == 0 {
                return Err(TokenCodecError::Compression("deflate made no progress").into());
            }
        }
    }

    /// `Z_INSERT_ONLY`: add a matched block to the history, no output.
    fn insert(&mut self, data: &[u8]) -> Result<(), TokenError> {
        let mut rest = data;
        let mut left = data.len();
        while left > 0 {
            let n = left.min(MAX_FEED);
            let piece = rest.get(..n).unwrap_or_default();
            self.z.set_dictionary(piece).map_err(cerr)?;
            left -= n;
            if self.protocol >= FEED_FIX_PROTOCOL {
                rest = rest.get(n..).unwrap_or_default();
            }
        }
        Ok(())
    }
}
