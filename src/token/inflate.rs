//! Deflate-compressed tokens, receiver side: `token.c recv_deflated_token`
//! and `see_deflate_token`, protocols 27–32, for `zlib` (`CPRES_ZLIB`) and
//! `zlibx` (`CPRES_ZLIBX`). The wire format is described in
//! [`super::deflate`].
//!
//! Each file has its own raw inflate stream (`inflateReset` after
//! `END_FLAG`). Compressed pieces are inflated as they come, each once all
//! of it has arrived ([`Buffered::decode`](super::Buffered::decode) says
//! "incomplete" until then);
//! when a token or the end follows data, any output zlib still holds is
//! handed out, then, once the whole token has arrived, the stripped
//! `00 00 ff ff` is fed back in. rsync checks with
//! `inflateSyncPoint` that the stream stopped exactly after a stored-block
//! header; we instead require that the trailer is consumed whole without
//! producing output, which fails for a stream that lost sync.
//!
//! For `zlib`, [`InflateDecoder::see_block`] puts each matched block's bytes
//! into the inflater's history by feeding it fake stored blocks of at most
//! 0xffff bytes (before protocol 31 each piece restarts at the block's first
//! byte, mirroring the sender).
//!
//! Every call inflates into a fixed [`OUT_CHUNK`]-byte buffer and returns
//! at most that much, so a small input cannot make us allocate more (the
//! decompression-bomb class); token counters are 64-bit and range-checked
//! (CVE-2026-43618 was a counter overflow in `recv_deflated_token`).

use flate2::{Decompress, FlushDecompress, Status};

use super::deflate::{FEED_FIX_PROTOCOL, MAX_FEED, SYNC_TRAILER};
use super::runs::{deflated, RunDecoder, DEFLATED_DATA, END_FLAG, MAX_DATA_COUNT};
use super::{Ev, TokenCodecError, TokenError, CHUNK_SIZE};
use crate::wire::{Fail, Reader, Step};

/// Largest piece of decompressed data returned per call.
pub const OUT_CHUNK: usize = CHUNK_SIZE;

fn bad(what: &'static str) -> TokenCodecError {
    TokenCodecError::Compression(what)
}

/// `recv_state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between tokens, nothing buffered.
    Idle,
    /// Inflating a compressed piece.
    Inflating,
    /// A piece was used up; zlib may still hold output.
    Inflated,
}

/// Receiver side.
pub struct InflateDecoder {
    z: Decompress,
    /// `CPRES_ZLIB`: matched blocks go into the history.
    feed: bool,
    protocol: u32,
    state: State,
    runs: RunDecoder,
    /// The compressed piece being inflated.
    cbuf: Vec<u8>,
    cpos: usize,
    dbuf: Vec<u8>,
    #[cfg(test)]
    /// Bytes the stream bridge read but the decoder has not used.
    held: Vec<u8>,
}

impl InflateDecoder {
    /// A session's decoder; `feed` selects `zlib` over `zlibx`.
    pub fn new(feed: bool) -> Self {
        Self {
            z: Decompress::new(false),
            feed,
            protocol: FEED_FIX_PROTOCOL,
            state: State::Idle,
            runs: RunDecoder::default(),
            cbuf: Vec::with_capacity(MAX_DATA_COUNT),
            cpos: 0,
            dbuf: vec![0u8; OUT_CHUNK],
            #[cfg(test)]
            held: Vec::new(),
        }
    }

    /// The session's protocol version (only matters below 31).
    pub fn set_protocol(&mut self, protocol: u32) {
        self.protocol = protocol;
    }

    /// One step: an event, `None` when inflating made progress without
    /// output, or "incomplete" with nothing changed.
    fn step(&mut self, r: &mut Reader<'_>, count: u32) -> Step<Option<Ev>> {
        if self.runs.running() {
            return Ok(Some(Ev::Block(self.runs.next_in_run(count)?)));
        }
        if self.state == State::Inflating {
            return Ok(self.inflate_piece()?);
        }
        // Look at the flag without using it: after a piece, zlib may
        // still hold output to hand out before the token it introduces.
        let flag = r.clone().u8()?;
        if flag & 0xc0 == DEFLATED_DATA {
            r.u8()?;
            let piece = deflated(r, flag)?;
            self.cbuf.clear();
            self.cbuf.extend_from_slice(piece);
            self.cpos = 0;
            self.state = State::Inflating;
            return Ok(self.inflate_piece()?);
        }
        if self.state == State::Inflated {
            // With no input this changes nothing when it makes nothing,
            // so it may run again on the same bytes.
            let n = self.drain()?;
            if n > 0 {
                return Ok(Some(Ev::Literal(n)));
            }
        }
        r.u8()?;
        // The whole token first, on a copy of the run state: the trailer
        // goes back into zlib only once it has all arrived.
        let mut runs = self.runs;
        let token = if flag == END_FLAG {
            Ok(Ev::End)
        } else {
            runs.token(flag, r, count).map(Ev::Block)
        };
        if matches!(token, Err(Fail::Incomplete { .. })) {
            return token.map(Some);
        }
        if self.state == State::Inflated {
            self.restore_trailer()?;
            self.state = State::Idle;
        }
        let ev = token?;
        self.runs = runs;
        if ev == Ev::End {
            // The next file starts a new stream.
            self.z.reset(false);
            self.runs.reset();
        }
        Ok(Some(ev))
    }

    /// One inflate call over the buffered piece (`Z_NO_FLUSH`): the bytes
    /// made as a literal, or `None`.
    fn inflate_piece(&mut self) -> Result<Option<Ev>, TokenCodecError> {
        let src = self.cbuf.get(self.cpos..).unwrap_or_default();
        let (used, made, status) = run(&mut self.z, src, &mut self.dbuf, FlushDecompress::None)?;
        if status != Status::Ok || (used == 0 && made == 0) {
            return Err(bad("inflate failed"));
        }
        self.cpos += used;
        if self.cpos >= self.cbuf.len() {
            self.state = State::Inflated;
        }
        Ok((made > 0).then_some(Ev::Literal(made)))
    }

    /// Output zlib still holds after the last piece (`Z_SYNC_FLUSH`, no
    /// input); 0 when there is none.
    fn drain(&mut self) -> Result<usize, TokenCodecError> {
        let (_, made, status) = run(&mut self.z, &[], &mut self.dbuf, FlushDecompress::Sync)?;
        match status {
            Status::Ok | Status::BufError => Ok(made),
            Status::StreamEnd => Err(bad("inflate flush failed")),
        }
    }

    /// Feed back the stripped `00 00 ff ff`: it must complete the empty
    /// stored block the sender's flush started.
    fn restore_trailer(&mut self) -> Result<(), TokenCodecError> {
        let (used, made, status) = run(
            &mut self.z,
            &SYNC_TRAILER,
            &mut self.dbuf,
            FlushDecompress::Sync,
        )?;
        if status != Status::Ok || used != SYNC_TRAILER.len() || made != 0 {
            return Err(bad("decompressor lost sync"));
        }
        Ok(())
    }

    /// `see_deflate_token`: put a matched block's bytes into the inflater's
    /// history (zlib only; a no-op for zlibx). Call it after every
    /// [`TokenEvent::Block`] with the basis block's data.
    pub fn see_block(&mut self, data: &[u8]) -> Result<(), TokenError> {
        if !self.feed {
            return Ok(());
        }
        let mut rest = data;
        let mut left = data.len();
        while left > 0 {
            let n = left.min(MAX_FEED);
            let [lo, hi] = (n as u16).to_le_bytes();
            self.feed_stored(&[0, lo, hi, !lo, !hi])?;
            self.feed_stored(rest.get(..n).unwrap_or_default())?;
            left -= n;
            if self.protocol >= FEED_FIX_PROTOCOL {
                rest = rest.get(n..).unwrap_or_default();
            }
        }
        Ok(())
    }

    /// Inflate `input` completely, discarding the output.
    fn feed_stored(&mut self, mut input: &[u8]) -> Result<(), TokenCodecError> {
        loop {
            let (used, made, status) =
                run(&mut self.z, input, &mut self.dbuf, FlushDecompress::Sync)?;
            if status == Status::StreamEnd {
                return Err(bad("inflate (token) failed"));
            }
            input = input.get(used..).unwrap_or_default();
            if input.is_empty() && made < self.dbuf.len() {
                return Ok(());
            }
            if used == 0 && made == 0 {
                return Err(bad("inflate (token) made no progress"));
            }
        }
    }
}

/// One `inflate` call: (bytes used, bytes made, status).
fn run(
    z: &mut Decompress,
    input: &[u8],
    output: &mut [u8],
    flush: FlushDecompress,
) -> Result<(usize, usize, Status), TokenCodecError> {
    let (in0, out0) = (z.total_in(), z.total_out());
    let status = z
        .decompress(input, output, flush)
        .map_err(|_| bad("inflate failed"))?;
    let used = usize::try_from(z.total_in() - in0).unwrap_or(usize::MAX);
    let made = usize::try_from(z.total_out() - out0).unwrap_or(usize::MAX);
    Ok((used, made, status))
}

impl super::Buffered for InflateDecoder {
    fn step(&mut self, r: &mut Reader<'_>, count: u32) -> Step<Option<Ev>> {
        InflateDecoder::step(self, r, count)
    }

    fn out(&self) -> &[u8] {
        &self.dbuf
    }

    #[cfg(test)]
    fn held(&mut self) -> &mut Vec<u8> {
        &mut self.held
    }
}
