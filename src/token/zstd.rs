//! zstd-compressed tokens: `token.c send_zstd_token` / `recv_zstd_token`,
//! protocols 31–32 (`zstd` is offered by rsync ≥ 3.2.0 via negotiation).
//!
//! Literal data goes through one zstd stream that lives for the whole
//! session (never reset between files). Compressed output travels in pieces
//! of at most 16383 bytes, each `DEFLATED_DATA | len >> 8`, `len & 0xff`,
//! then the bytes. The stream is flushed (`ZSTD_e_flush`) whenever a block
//! token or the end of a file follows data, so the receiver can rebuild
//! everything up to that token. Block matches use the run coding of
//! [`super::runs`]; `END_FLAG` ends each file.
//!
//! The decoder hands out at most [`OUT_CHUNK`] decompressed bytes per call
//! and keeps the rest inside zstd, so a small input cannot make it allocate
//! more (the decompression-bomb class of CVE-2026-43618).
//!
//! Its [`Buffered::decode`](super::Buffered::decode) decodes from bytes: a
//! compressed piece enters the decompressor only once all of it has
//! arrived.

use ::zstd::zstd_safe::{
    self, zstd_sys::ZSTD_EndDirective, CCtx, CParameter, DCtx, InBuffer, OutBuffer,
};

use super::runs::{
    deflated, RunDecoder, RunEncoder, DEFLATED_DATA, END_FLAG, END_OF_FILE, LITERAL_ONLY,
    MAX_DATA_COUNT,
};
use super::{Ev, TokenCodecError, TokenError};
use crate::wire::{CodecError, Reader, Step};

/// `ZSTD_CLEVEL_DEFAULT`, rsync's level when none is given.
pub const DEFAULT_LEVEL: i32 = 3;
/// Largest piece of decompressed data returned per call.
pub const OUT_CHUNK: usize = 128 * 1024;

fn zerr(code: usize) -> TokenCodecError {
    TokenCodecError::Compression(zstd_safe::get_error_name(code))
}

/// Sender side.
pub struct ZstdEncoder {
    cctx: CCtx<'static>,
    runs: RunEncoder,
    flush_pending: bool,
    obuf: Vec<u8>,
}

impl ZstdEncoder {
    /// A session's encoder. `level` 0 means the default; others are clamped
    /// to zstd's range as `init_compression_level` does.
    pub fn new(level: i32) -> Result<Self, TokenError> {
        let level = if level == 0 { DEFAULT_LEVEL } else { level };
        let level = level.clamp(zstd_safe::min_c_level(), zstd_safe::max_c_level());
        let mut cctx = CCtx::create();
        cctx.set_parameter(CParameter::CompressionLevel(level))
            .map_err(zerr)?;
        Ok(Self {
            cctx,
            runs: RunEncoder::new(),
            flush_pending: false,
            obuf: vec![0u8; MAX_DATA_COUNT],
        })
    }

    /// Literal data (rsync's token -2: compressed without flushing).
    pub fn literal(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<(), TokenError> {
        if data.is_empty() {
            return Ok(());
        }
        self.send(LITERAL_ONLY, data, out)
    }

    /// A match of block `index`.
    pub fn block(&mut self, index: u32, out: &mut Vec<u8>) -> Result<(), TokenError> {
        self.send(i64::from(index), &[], out)
    }

    /// End of the file.
    pub fn end(&mut self, out: &mut Vec<u8>) -> Result<(), TokenError> {
        self.send(END_OF_FILE, &[], out)
    }

    fn send(&mut self, token: i64, data: &[u8], out: &mut Vec<u8>) -> Result<(), TokenError> {
        if self.runs.at_file_start() {
            self.flush_pending = false;
        }
        self.runs.step(token, !data.is_empty(), out);
        if !data.is_empty() || self.flush_pending {
            let op = if token == LITERAL_ONLY {
                ZSTD_EndDirective::ZSTD_e_continue
            } else {
                ZSTD_EndDirective::ZSTD_e_flush
            };
            self.compress(data, op, out)?;
            self.flush_pending = token == LITERAL_ONLY;
        }
        if token == END_OF_FILE {
            out.push(END_FLAG);
        }
        Ok(())
    }

    fn compress(
        &mut self,
        data: &[u8],
        op: ZSTD_EndDirective,
        out: &mut Vec<u8>,
    ) -> Result<(), TokenError> {
        let mut input = InBuffer::around(data);
        loop {
            let mut ob = OutBuffer::around(&mut self.obuf[..]);
            let left = self
                .cctx
                .compress_stream2(&mut ob, &mut input, op)
                .map_err(zerr)?;
            let n = ob.pos();
            if n > 0 {
                out.push(DEFLATED_DATA + (n >> 8) as u8);
                out.push(n as u8);
                out.extend_from_slice(self.obuf.get(..n).unwrap_or_default());
            }
            let finished = match op {
                ZSTD_EndDirective::ZSTD_e_continue => input.pos == data.len(),
                _ => left == 0 && input.pos == data.len(),
            };
            if finished {
                return Ok(());
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    Inflating,
}

/// Receiver side.
pub struct ZstdDecoder {
    dctx: DCtx<'static>,
    state: State,
    runs: RunDecoder,
    /// The compressed piece being decompressed.
    cbuf: Vec<u8>,
    cpos: usize,
    dbuf: Vec<u8>,
    #[cfg(test)]
    /// Bytes the stream bridge read but the decoder has not used.
    held: Vec<u8>,
}

impl Default for ZstdDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl ZstdDecoder {
    /// A session's decoder.
    pub fn new() -> Self {
        Self {
            dctx: DCtx::create(),
            state: State::Idle,
            runs: RunDecoder::default(),
            cbuf: Vec::with_capacity(MAX_DATA_COUNT),
            cpos: 0,
            dbuf: vec![0u8; OUT_CHUNK],
            #[cfg(test)]
            held: Vec::new(),
        }
    }

    /// One step: an event, `None` when decompression made progress
    /// without output, or "incomplete" with nothing changed.
    fn step(&mut self, r: &mut Reader<'_>, count: u32) -> Step<Option<Ev>> {
        if self.runs.running() {
            return Ok(Some(Ev::Block(self.runs.next_in_run(count)?)));
        }
        if self.state == State::Inflating {
            return self.inflate();
        }
        let flag = r.u8()?;
        if flag & 0xc0 == DEFLATED_DATA {
            let piece = deflated(r, flag)?;
            self.cbuf.clear();
            self.cbuf.extend_from_slice(piece);
            self.cpos = 0;
            self.state = State::Inflating;
            return self.inflate();
        }
        if flag == END_FLAG {
            self.runs.reset();
            return Ok(Some(Ev::End));
        }
        Ok(Some(Ev::Block(self.runs.token(flag, r, count)?)))
    }

    /// Decompress what is buffered into `dbuf`: the bytes produced as a
    /// literal, or `None` if there were none.
    fn inflate(&mut self) -> Step<Option<Ev>> {
        let src = self.cbuf.get(self.cpos..).unwrap_or_default();
        let mut input = InBuffer::around(src);
        let mut ob = OutBuffer::around(&mut self.dbuf[..]);
        self.dctx
            .decompress_stream(&mut ob, &mut input)
            .map_err(|c| CodecError::from(zerr(c)))?;
        let n = ob.pos();
        if n == 0 && input.pos == 0 && !src.is_empty() {
            return Err(CodecError::Compression("decompressor made no progress").into());
        }
        self.cpos += input.pos;
        // Input used up and output not full: zstd holds nothing more for us.
        if self.cpos >= self.cbuf.len() && n < OUT_CHUNK {
            self.state = State::Idle;
        }
        Ok((n > 0).then_some(Ev::Literal(n)))
    }
}

impl super::Buffered for ZstdDecoder {
    fn step(&mut self, r: &mut Reader<'_>, count: u32) -> Step<Option<Ev>> {
        ZstdDecoder::step(self, r, count)
    }

    fn out(&self) -> &[u8] {
        &self.dbuf
    }

    #[cfg(test)]
    fn held(&mut self) -> &mut Vec<u8> {
        &mut self.held
    }
}
