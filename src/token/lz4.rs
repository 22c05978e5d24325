//! lz4-compressed tokens: `token.c send_compressed_token` /
//! `recv_compressed_token` under `SUPPORT_LZ4`, protocols 31–32 (`lz4` is
//! offered by rsync ≥ 3.2.0 via negotiation, or asked for with
//! `--compress-choice=lz4`).
//!
//! Literal data is cut into pieces of at most 16383 input bytes, and each
//! piece is compressed on its own as one LZ4 block (no dictionary, no
//! state between pieces or files). A piece travels as
//! `DEFLATED_DATA | len >> 8`, `len & 0xff`, then the block; when a block
//! would be longer than 16383 bytes (incompressible data grows a little)
//! the sender halves the input and tries again, as rsync does. Block
//! matches use the run coding of [`super::runs`]; `END_FLAG` ends each
//! file.
//!
//! rsync's sender, after a literal-only call, compresses an empty input
//! before the next token (a leftover of the zstd code's flush), and its
//! receiver would take the empty result for the end of the file. We never
//! send that empty piece, and a piece that decompresses to nothing is
//! skipped rather than read as an end.
//!
//! The receiver decompresses into a buffer of rsync's size
//! (`LZ4_compressBound(CHUNK_SIZE)`); a block that would decompress to more
//! is an error, so a small input cannot make the decoder allocate more.

use super::runs::{
    deflated, RunDecoder, RunEncoder, DEFLATED_DATA, END_FLAG, END_OF_FILE, LITERAL_ONLY,
    MAX_DATA_COUNT,
};
use super::{Ev, TokenCodecError, TokenError, CHUNK_SIZE};
use crate::wire::{CodecError, Reader, Step};

/// The receiver's buffer: `LZ4_compressBound(CHUNK_SIZE)`, rsync's size.
pub const OUT_CHUNK: usize = CHUNK_SIZE + CHUNK_SIZE / 255 + 16;

/// Sender side.
pub struct Lz4Encoder {
    runs: RunEncoder,
    obuf: Vec<u8>,
}

impl Default for Lz4Encoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Lz4Encoder {
    /// A session's encoder.
    pub fn new() -> Self {
        Self {
            runs: RunEncoder::new(),
            obuf: vec![0u8; lz4_flex::block::get_maximum_output_size(MAX_DATA_COUNT)],
        }
    }

    /// Literal data (rsync's token -2).
    pub fn literal(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<(), TokenError> {
        if data.is_empty() {
            return Ok(());
        }
        self.runs.step(LITERAL_ONLY, true, out);
        self.compress(data, out)
    }

    /// A match of block `index`.
    pub fn block(&mut self, index: u32, out: &mut Vec<u8>) {
        self.runs.step(i64::from(index), false, out);
    }

    /// End of the file.
    pub fn end(&mut self, out: &mut Vec<u8>) {
        self.runs.step(END_OF_FILE, false, out);
        out.push(END_FLAG);
    }

    /// Compresses `data` into pieces whose blocks fit the 14-bit length.
    fn compress(&mut self, mut data: &[u8], out: &mut Vec<u8>) -> Result<(), TokenError> {
        let mut take = data.len().min(MAX_DATA_COUNT);
        while !data.is_empty() {
            let (piece, rest) = data.split_at(take.min(data.len()));
            let n = lz4_flex::block::compress_into(piece, &mut self.obuf)
                .map_err(|_| TokenCodecError::Compression("lz4 compression failed"))?;
            if n > MAX_DATA_COUNT {
                // Grew past what a piece can say: half as much input.
                take = (take / 2).max(1);
                continue;
            }
            out.push(DEFLATED_DATA + (n >> 8) as u8);
            out.push(n as u8);
            out.extend_from_slice(self.obuf.get(..n).unwrap_or_default());
            data = rest;
            take = data.len().min(MAX_DATA_COUNT);
        }
        Ok(())
    }
}

/// Receiver side.
pub struct Lz4Decoder {
    runs: RunDecoder,
    dbuf: Vec<u8>,
    #[cfg(test)]
    /// Bytes the stream bridge read but the decoder has not used.
    held: Vec<u8>,
}

impl Default for Lz4Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Lz4Decoder {
    /// A session's decoder.
    pub fn new() -> Self {
        Self {
            runs: RunDecoder::default(),
            dbuf: vec![0u8; OUT_CHUNK],
            #[cfg(test)]
            held: Vec::new(),
        }
    }

    /// One step: an event, `None` for a piece that decompressed to
    /// nothing, or "incomplete" with nothing changed.
    fn step(&mut self, r: &mut Reader<'_>, count: u32) -> Step<Option<Ev>> {
        if self.runs.running() {
            return Ok(Some(Ev::Block(self.runs.next_in_run(count)?)));
        }
        let flag = r.u8()?;
        if flag & 0xc0 == DEFLATED_DATA {
            let piece = deflated(r, flag)?;
            let n = lz4_flex::block::decompress_into(piece, &mut self.dbuf)
                .map_err(|_| CodecError::Compression("lz4 block does not decompress"))?;
            return Ok((n > 0).then_some(Ev::Literal(n)));
        }
        if flag == END_FLAG {
            self.runs.reset();
            return Ok(Some(Ev::End));
        }
        Ok(Some(Ev::Block(self.runs.token(flag, r, count)?)))
    }
}

impl super::Buffered for Lz4Decoder {
    fn step(&mut self, r: &mut Reader<'_>, count: u32) -> Step<Option<Ev>> {
        Lz4Decoder::step(self, r, count)
    }

    fn out(&self) -> &[u8] {
        &self.dbuf
    }

    #[cfg(test)]
    fn held(&mut self) -> &mut Vec<u8> {
        &mut self.held
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#[path = "lz4_tests.rs"]
mod tests;
