//! Deflate-compressed tokens, receiver side: `token.c recv_deflated_token`
//! and `see_deflate_token`, protocols 27–32, for `zlib` (`CPRES_ZLIB`) and
//! `zlibx` (`CPRES_ZLIBX`). The wire format is described in
//! [`super::deflate`].
//!
//! Each file has its own raw inflate stream (`inflateReset` after
//! `END_FLAG`). Compressed pieces are inflated as they come; when a token
//! or the end follows data, any output zlib still holds is handed out,
//! then the stripped `00 00 ff ff` is fed back in. rsync checks with
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

use std::io::Read;

use flate2::{Decompress, FlushDecompress, Status};

use super::deflate::{FEED_FIX_PROTOCOL, MAX_FEED, SYNC_TRAILER};
use super::runs::{read_deflated, RunDecoder, DEFLATED_DATA, END_FLAG, MAX_DATA_COUNT};
use super::{read_u8, TokenCodecError, TokenError, TokenEvent, CHUNK_SIZE};

/// Largest piece of decompressed data returned per call.
pub const OUT_CHUNK: usize = CHUNK_SIZE;

fn bad(what: &'static str) -> TokenError {
    TokenCodecError::Compression(what).into()
}

/// `recv_state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Start of a file: reset the inflater.
    Init,
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
    saved_flag: Option<u8>,
    runs: RunDecoder,
    cbuf: Vec<u8>,
    cpos: usize,
    clen: usize,
    dbuf: Vec<u8>,
}

impl InflateDecoder {
    /// A session's decoder; `feed` selects `zlib` over `zlibx`.
    pub fn new(feed: bool) -> Self {
        Self {
            z: Decompress::new(false),
            feed,
            protocol: FEED_FIX_PROTOCOL,
            state: State::Init,
            saved_flag: None,
            runs: RunDecoder::default(),
            cbuf: vec![0u8; MAX_DATA_COUNT],
            cpos: 0,
            clen: 0,
            dbuf: vec![0u8; OUT_CHUNK],
        }
    }

    /// The session's protocol version (only matters below 31).
    pub fn set_protocol(&mut self, protocol: u32) {
        self.protocol = protocol;
    }

    /// The next event; block indexes must be below `count`.
    pub fn next<'a>(
        &'a mut self,
        r: &mut impl Read,
        count: u32,
    ) -> Result<TokenEvent<'a>, TokenError> {
        loop {
            if self.runs.running() {
                return Ok(TokenEvent::Block(self.runs.next_in_run(count)?));
            }
            match self.state {
                State::Init => {
                    self.z.reset(false);
                    self.runs.reset();
                    self.state = State::Idle;
                }
                State::Idle | State::Inflated => {
                    let flag = match self.saved_flag.take() {
                        Some(f) => f,
                        None => read_u8(r)?,
                    };
                    if flag & 0xc0 == DEFLATED_DATA {
                        let n = read_deflated(r, flag, &mut self.cbuf)?;
                        self.cpos = 0;
                        self.clen = n;
                        self.state = State::Inflating;
                        continue;
                    }
                    if self.state == State::Inflated {
                        let n = self.drain()?;
                        if n > 0 {
                            self.saved_flag = Some(flag);
                            return Ok(self.literal(n));
                        }
                        self.restore_trailer()?;
                        self.state = State::Idle;
                    }
                    if flag == END_FLAG {
                        self.state = State::Init;
                        return Ok(TokenEvent::End);
                    }
                    return Ok(TokenEvent::Block(self.runs.token(flag, r, count)?));
                }
                State::Inflating => {
                    let n = self.inflate_piece()?;
                    if n > 0 {
                        return Ok(self.literal(n));
                    }
                }
            }
        }
    }

    fn literal(&self, n: usize) -> TokenEvent<'_> {
        TokenEvent::Literal(self.dbuf.get(..n).unwrap_or_default())
    }

    /// One inflate call over the buffered piece (`Z_NO_FLUSH`).
    fn inflate_piece(&mut self) -> Result<usize, TokenError> {
        let src = self.cbuf.get(self.cpos..self.clen).unwrap_or_default();
        let (used, made, status) = run(&mut self.z, src, &mut self.dbuf, FlushDecompress::None)?;
        if status != Status::Ok || (used == 0 && made == 0) {
            return Err(bad("inflate failed"));
        }
        self.cpos += used;
        if self.cpos >= self.clen {
            self.state = State::Inflated;
        }
        Ok(made)
    }

    /// Output zlib still holds after the last piece (`Z_SYNC_FLUSH`, no
    /// input); 0 when there is none.
    fn drain(&mut self) -> Result<usize, TokenError> {
        let (_, made, status) = run(&mut self.z, &[], &mut self.dbuf, FlushDecompress::Sync)?;
        match status {
            Status::Ok | Status::BufError => Ok(made),
            Status::StreamEnd => Err(bad("inflate flush failed")),
        }
    }

    /// Feed back the stripped `00 00 ff ff`: it must complete the empty
    /// stored block the sender's flush started.
    fn restore_trailer(&mut self) -> Result<(), TokenError> {
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
    fn feed_stored(&mut self, mut input: &[u8]) -> Result<(), TokenError> {
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
) -> Result<(usize, usize, Status), TokenError> {
    let (in0, out0) = (z.total_in(), z.total_out());
    let status = z
        .decompress(input, output, flush)
        .map_err(|_| bad("inflate failed"))?;
    let used = usize::try_from(z.total_in() - in0).unwrap_or(usize::MAX);
    let made = usize::try_from(z.total_out() - out0).unwrap_or(usize::MAX);
    Ok((used, made, status))
}
