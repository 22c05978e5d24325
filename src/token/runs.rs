//! Block-match run coding shared by the compressed token codecs
//! (`token.c send_zstd_token` / `send_deflated_token` run logic,
//! `recv_compressed_token_num` / `recv_compressed_token_run`), protocols
//! 27–32.
//!
//! Consecutive matched blocks travel as runs. A run starting `r` after the
//! end of the previous run (0 ≤ r ≤ 63) is one byte, `TOKEN_REL + r` (or
//! `TOKENRUN_REL + r`); otherwise `TOKEN_LONG`/`TOKENRUN_LONG` and an int32
//! absolute index. A run flag is followed by a 16-bit little-endian count of
//! further blocks. Run positions restart at 0 for each file.

use super::check_index;
use crate::wire::{CodecError, Reader, Step};

pub(crate) const END_FLAG: u8 = 0;
pub(crate) const TOKEN_LONG: u8 = 0x20;
pub(crate) const TOKENRUN_LONG: u8 = 0x21;
pub(crate) const DEFLATED_DATA: u8 = 0x40;
pub(crate) const TOKEN_REL: u8 = 0x80;
pub(crate) const TOKENRUN_REL: u8 = 0xc0;
/// Largest compressed piece: a 14-bit length.
pub(crate) const MAX_DATA_COUNT: usize = 16383;
/// `MAX_TOKEN_INDEX`.
const MAX_TOKEN_INDEX: i64 = 0x7fff_fffe;

/// Token value meaning "literal data only" (rsync's -2).
pub(crate) const LITERAL_ONLY: i64 = -2;
/// Token value meaning "end of file" (rsync's -1).
pub(crate) const END_OF_FILE: i64 = -1;

/// The payload of a `DEFLATED_DATA` record whose flag byte `flag` was just
/// taken (a 14-bit length: the flag's low 6 bits, then a byte), all of it
/// or "incomplete".
pub(crate) fn deflated<'a>(r: &mut Reader<'a>, flag: u8) -> Step<&'a [u8]> {
    let n = (usize::from(flag & 0x3f) << 8) | usize::from(r.u8()?);
    if n > MAX_DATA_COUNT {
        return Err(CodecError::BadToken("data length").into());
    }
    r.take(n)
}

/// The sender's run state (`last_token`, `run_start`, `last_run_end`).
#[derive(Debug)]
pub(crate) struct RunEncoder {
    last_token: i64,
    run_start: i64,
    last_run_end: i64,
}

impl RunEncoder {
    pub(crate) fn new() -> Self {
        Self {
            last_token: END_OF_FILE,
            run_start: 0,
            last_run_end: 0,
        }
    }

    /// Account for a call with `token` (a block index, `LITERAL_ONLY` or
    /// `END_OF_FILE`) preceded by literal data if `has_data`; writes the
    /// previous run when it ends here.
    pub(crate) fn step(&mut self, token: i64, has_data: bool, out: &mut Vec<u8>) {
        if self.last_token == END_OF_FILE {
            self.last_run_end = 0;
            self.run_start = token;
        } else if self.last_token == LITERAL_ONLY {
            self.run_start = token;
        } else if has_data || token != self.last_token + 1 || token >= self.run_start + 65536 {
            let r = self.run_start - self.last_run_end;
            let n = self.last_token - self.run_start;
            if (0..=63).contains(&r) {
                out.push(if n == 0 { TOKEN_REL } else { TOKENRUN_REL } + r as u8);
            } else {
                out.push(if n == 0 { TOKEN_LONG } else { TOKENRUN_LONG });
                out.extend_from_slice(&(self.run_start as i32).to_le_bytes());
            }
            if n != 0 {
                out.push(n as u8);
                out.push((n >> 8) as u8);
            }
            self.last_run_end = self.last_token;
            self.run_start = token;
        }
        self.last_token = token;
    }

    /// Whether the file ended (the next call starts a new file).
    pub(crate) fn at_file_start(&self) -> bool {
        self.last_token == END_OF_FILE
    }
}

/// The receiver's run state (`rx_token`, `rx_run`).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct RunDecoder {
    rx_token: i64,
    rx_run: i64,
}

impl RunDecoder {
    /// A new file: relative tokens count from 0.
    pub(crate) fn reset(&mut self) {
        self.rx_token = 0;
        self.rx_run = 0;
    }

    /// Whether a run is still being handed out.
    pub(crate) fn running(&self) -> bool {
        self.rx_run > 0
    }

    /// Decode the token number introduced by `flag` (not data, not end),
    /// which was just taken from `r`. The run state changes only when a
    /// whole token was decoded.
    pub(crate) fn token(&mut self, flag: u8, r: &mut Reader<'_>, count: u32) -> Step<u32> {
        let bad = |w| CodecError::BadToken(w).into();
        let mut rx_token = self.rx_token;
        let mut rx_run = self.rx_run;
        if flag & TOKEN_REL != 0 {
            rx_token += i64::from(flag & 0x3f);
        } else if flag == TOKEN_LONG || flag == TOKENRUN_LONG {
            let t = i64::from(r.i32()?);
            if t < 0 {
                return Err(bad("negative token number"));
            }
            rx_token = t;
        } else {
            return Err(bad("unknown flag byte"));
        }
        if rx_token > MAX_TOKEN_INDEX {
            return Err(bad("token number overflow"));
        }
        let is_run = if flag & TOKEN_REL != 0 {
            flag & 0x40 != 0
        } else {
            flag & 1 != 0
        };
        if is_run {
            let run = i64::from(u16::from_le_bytes(r.array()?));
            if run == 0 || rx_token > MAX_TOKEN_INDEX - run {
                return Err(bad("invalid run length"));
            }
            rx_run = run;
        }
        let index = check_index(rx_token, count)?;
        self.rx_token = rx_token;
        self.rx_run = rx_run;
        Ok(index)
    }

    /// The next block of a run in progress.
    pub(crate) fn next_in_run(&mut self, count: u32) -> Step<u32> {
        if self.rx_run <= 0 || self.rx_token >= MAX_TOKEN_INDEX {
            return Err(CodecError::BadToken("run overflow").into());
        }
        let index = check_index(self.rx_token + 1, count)?;
        self.rx_token += 1;
        self.rx_run -= 1;
        Ok(index)
    }
}
