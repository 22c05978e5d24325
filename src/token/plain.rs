//! Uncompressed tokens: `token.c simple_send_token` / `simple_recv_token`,
//! all protocols.
//!
//! Each literal piece is an int32 length `n > 0` and `n` bytes (we send at
//! most `CHUNK_SIZE` per piece); block `i` is the int32 `-(i+1)`; 0 ends the
//! file. Like rsync we accept longer literal runs from peers (some use 64 KiB
//! blocks) and hand them out `CHUNK_SIZE` bytes at a time.

use std::io::Read;

use super::{check_index, read_i32, TokenError, TokenEvent, CHUNK_SIZE};

/// Sender side.
#[derive(Clone, Copy, Debug, Default)]
pub struct PlainEncoder;

impl PlainEncoder {
    /// Literal data, in `CHUNK_SIZE` pieces.
    pub fn literal(&mut self, data: &[u8], out: &mut Vec<u8>) {
        for piece in data.chunks(CHUNK_SIZE) {
            out.extend_from_slice(&(piece.len() as i32).to_le_bytes());
            out.extend_from_slice(piece);
        }
    }

    /// Block `index` as `-(index+1)`.
    pub fn block(&mut self, index: u32, out: &mut Vec<u8>) {
        let v = -(i64::from(index) + 1);
        out.extend_from_slice(&(v as i32).to_le_bytes());
    }

    /// The end marker, int32 0.
    pub fn end(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(&0i32.to_le_bytes());
    }
}

/// Receiver side.
#[derive(Debug)]
pub struct PlainDecoder {
    residue: usize,
    buf: Vec<u8>,
}

impl Default for PlainDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl PlainDecoder {
    /// A decoder with a `CHUNK_SIZE` buffer.
    pub fn new() -> Self {
        Self {
            residue: 0,
            buf: vec![0u8; CHUNK_SIZE],
        }
    }

    /// The next event; block indexes must be below `count`.
    pub fn next<'a>(
        &'a mut self,
        r: &mut impl Read,
        count: u32,
    ) -> Result<TokenEvent<'a>, TokenError> {
        if self.residue == 0 {
            let i = read_i32(r)?;
            if i == 0 {
                return Ok(TokenEvent::End);
            }
            if i < 0 {
                let index = check_index(-(i64::from(i) + 1), count)?;
                return Ok(TokenEvent::Block(index));
            }
            self.residue = i as usize;
        }
        let n = self.residue.min(CHUNK_SIZE);
        let dst = self.buf.get_mut(..n).unwrap_or_default();
        r.read_exact(dst)?;
        self.residue -= n;
        Ok(TokenEvent::Literal(dst))
    }
}
