//! Uncompressed tokens: `token.c simple_send_token` / `simple_recv_token`,
//! all protocols.
//!
//! Each literal piece is an int32 length `n > 0` and `n` bytes (we send at
//! most `CHUNK_SIZE` per piece); block `i` is the int32 `-(i+1)`; 0 ends the
//! file. Like rsync we accept longer literal runs from peers (some use 64 KiB
//! blocks) and hand them out `CHUNK_SIZE` bytes at a time.
//!
//! [`PlainDecoder::decode`] decodes from bytes; [`PlainDecoder::next`] is
//! its bridge over a blocking stream.

#[cfg(test)]
use std::io::Read;

#[cfg(test)]
use super::read_event;
#[cfg(test)]
use super::TokenError;
use super::{check_index, Ev, TokenEvent, CHUNK_SIZE};
use crate::wire::{Reader, Step};

/// Sender side.
#[derive(Clone, Copy, Debug, Default)]
pub struct PlainEncoder;

impl PlainEncoder {
    /// Literal data, in `CHUNK_SIZE` pieces.
    pub fn literal(&mut self, data: &[u8], out: &mut Vec<u8>) {
        self.literal_to(data, &mut |b| out.extend_from_slice(b));
    }

    /// [`Self::literal`], handing each length and piece to `put` as they
    /// are: the data is not copied here.
    pub fn literal_to(&mut self, data: &[u8], put: &mut impl FnMut(&[u8])) {
        for piece in data.chunks(CHUNK_SIZE) {
            put(&(piece.len() as i32).to_le_bytes());
            put(piece);
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
    /// Bytes of the current literal run not yet handed out.
    residue: usize,
    #[cfg(test)]
    /// The piece the stream bridge handed out last.
    buf: Vec<u8>,
    #[cfg(test)]
    /// Bytes the stream bridge read but the decoder has not used.
    held: Vec<u8>,
}

impl Default for PlainDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl PlainDecoder {
    /// A decoder at the start of a file's tokens.
    pub fn new() -> Self {
        Self {
            residue: 0,
            #[cfg(test)]
            buf: Vec::with_capacity(CHUNK_SIZE),
            #[cfg(test)]
            held: Vec::new(),
        }
    }

    /// The next event decoded from `r`, or "incomplete" (see
    /// [`TokenDecoder::decode`](super::TokenDecoder::decode)): a literal
    /// piece needs its length (if it starts a run) and all its bytes, at
    /// most `CHUNK_SIZE`, in `r`. Block indexes must be below `count`.
    /// The literal piece is lent straight from `r`'s bytes: nothing is
    /// copied here.
    pub fn decode<'s, 'a: 's>(
        &'s mut self,
        r: &mut Reader<'a>,
        count: u32,
    ) -> Step<Option<TokenEvent<'s>>> {
        let run = match self.run_start(r, count)? {
            Ok(run) => run,
            Err(ev) => return Ok(Some(ev.lend(&[]))),
        };
        let n = run.min(CHUNK_SIZE);
        let piece = r.take(n)?;
        self.residue = run - n;
        Ok(Some(TokenEvent::Literal(piece)))
    }

    /// The length of the literal run the next piece belongs to, or the
    /// block or end event that comes instead. State is unchanged.
    fn run_start(&self, r: &mut Reader<'_>, count: u32) -> Step<Result<usize, Ev>> {
        if self.residue != 0 {
            return Ok(Ok(self.residue));
        }
        let i = r.i32()?;
        if i == 0 {
            return Ok(Err(Ev::End));
        }
        if i < 0 {
            let index = check_index(-(i64::from(i) + 1), count)?;
            return Ok(Err(Ev::Block(index)));
        }
        Ok(Ok(i as usize))
    }

    #[cfg(test)]
    /// The next event read from a blocking stream (the bridge over
    /// [`Self::decode`]); block indexes must be below `count`.
    pub fn next<'a>(
        &'a mut self,
        r: &mut impl Read,
        count: u32,
    ) -> Result<TokenEvent<'a>, TokenError> {
        let mut held = std::mem::take(&mut self.held);
        let ev = read_event(r, &mut held, |x| self.step(x, count).map(Some));
        self.held = held;
        Ok(ev?.lend(&self.buf))
    }

    #[cfg(test)]
    fn step(&mut self, r: &mut Reader<'_>, count: u32) -> Step<Ev> {
        let run = match self.run_start(r, count)? {
            Ok(run) => run,
            Err(ev) => return Ok(ev),
        };
        let n = run.min(CHUNK_SIZE);
        let piece = r.take(n)?;
        self.buf.clear();
        self.buf.extend_from_slice(piece);
        self.residue = run - n;
        Ok(Ev::Literal(n))
    }
}
