//! Multiplexed I/O (`send_msg` and `read_a_msg` in `io.c`).
//!
//! From protocol 23 the server's output, and from protocol 30 the client's
//! input to the server, is a sequence of frames: a little-endian u32 whose
//! high byte is `7 + code` and whose low 24 bits are the payload length.
//! Code 0 carries the data stream; the others carry messages (errors, info
//! lines, statistics, keep-alives) that the peer handles out of band.

use super::{CodecError, Decoded, Fail, Reader};

/// Offset added to a message code in the frame header (`MPLEX_BASE`).
const MPLEX_BASE: u32 = 7;
/// Largest payload a frame can declare (24 bits).
pub const MAX_FRAME: usize = 0x00FF_FFFF;
/// Largest non-data message we accept from a peer.
const MAX_MSG: usize = 4096;

/// Message codes (`enum msgcode` in `rsync.h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum MsgCode {
    /// The data stream.
    Data = 0,
    /// A transfer error, counted against the exit code.
    ErrorXfer = 1,
    /// An informational line.
    Info = 2,
    /// A fatal error line.
    Error = 3,
    /// A warning line.
    Warning = 4,
    /// Input/output error flags (int32).
    IoError = 22,
    /// Keep-alive.
    Noop = 42,
    /// The peer is exiting with the given code.
    ErrorExit = 86,
    /// A file was transferred successfully (int32 ndx).
    Success = 100,
    /// A file was deleted (name).
    Deleted = 101,
    /// The sender could not open a file (int32 ndx).
    NoSend = 102,
}

impl TryFrom<u8> for MsgCode {
    type Error = CodecError;

    /// The code of a frame header, or the header's code as an error.
    fn try_from(c: u8) -> Result<Self, CodecError> {
        Ok(match c {
            0 => MsgCode::Data,
            1 => MsgCode::ErrorXfer,
            2 => MsgCode::Info,
            3 => MsgCode::Error,
            4 => MsgCode::Warning,
            22 => MsgCode::IoError,
            42 => MsgCode::Noop,
            86 => MsgCode::ErrorExit,
            100 => MsgCode::Success,
            101 => MsgCode::Deleted,
            102 => MsgCode::NoSend,
            other => return Err(CodecError::UnexpectedMessage(other)),
        })
    }
}

/// An out-of-band message received from the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerMessage {
    /// A text line (info, warning, error) the peer wants logged.
    Text(u8, Vec<u8>),
    /// Input/output error flags.
    IoError(i32),
    /// `MSG_SUCCESS` for an index.
    Success(i32),
    /// `MSG_NO_SEND` for an index.
    NoSend(i32),
    /// `MSG_DELETED` with a name.
    Deleted(Vec<u8>),
    /// `MSG_ERROR_EXIT`: the peer is exiting with this code.
    Exit(i32),
}

/// The message of a frame with `code` and `payload` (`read_a_msg`);
/// `None` for a keep-alive.
fn parse_message(code: u8, payload: &[u8]) -> Result<Option<PeerMessage>, CodecError> {
    let int = |what: &'static str| -> Result<i32, CodecError> {
        <[u8; 4]>::try_from(payload)
            .map(i32::from_le_bytes)
            .map_err(|_| CodecError::OutOfRange(what))
    };
    let msg = match MsgCode::try_from(code) {
        Ok(MsgCode::ErrorXfer | MsgCode::Info | MsgCode::Error | MsgCode::Warning) => {
            PeerMessage::Text(code, payload.to_vec())
        }
        // rsync's other text codes (MSG_ERROR_SOCKET, MSG_LOG, MSG_CLIENT,
        // MSG_ERROR_UTF8) are logged like the rest.
        Err(_) if (5..=8).contains(&code) => PeerMessage::Text(code, payload.to_vec()),
        Ok(MsgCode::IoError) => PeerMessage::IoError(int("an io_error message")?),
        Ok(MsgCode::Noop) if payload.is_empty() => return Ok(None),
        Ok(MsgCode::ErrorExit) if payload.is_empty() => PeerMessage::Exit(0),
        Ok(MsgCode::ErrorExit) => PeerMessage::Exit(int("an exit message")?),
        Ok(MsgCode::Success) => PeerMessage::Success(int("a success message")?),
        Ok(MsgCode::Deleted) => PeerMessage::Deleted(payload.to_vec()),
        Ok(MsgCode::NoSend) => PeerMessage::NoSend(int("a no_send message")?),
        _ => return Err(CodecError::UnexpectedMessage(code)),
    };
    Ok(Some(msg))
}

/// What the deframer found next in the peer's bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// Data of the stream: all or part of one data frame's payload.
    Data(&'a [u8]),
    /// An out-of-band message.
    Message(PeerMessage),
}

/// Splits the peer's bytes into data and messages, without I/O
/// (`read_a_msg` in `io.c`). A data frame is delivered as its bytes
/// arrive; a message only once all of it is there. Before
/// multiplexing is switched on, every byte is data.
#[derive(Debug, Default)]
pub struct Deframer {
    multiplexed: bool,
    /// Bytes of the current data frame not yet delivered.
    remaining: usize,
}

impl Deframer {
    /// A deframer that starts unmultiplexed (the handshake is raw).
    pub fn new() -> Self {
        Self::default()
    }

    /// Turns demultiplexing on or off; the rest of a current data frame
    /// is still delivered first.
    pub fn set_multiplexed(&mut self, on: bool) {
        self.multiplexed = on;
    }

    /// The next piece of `buf`: data, a message, or "incomplete". A frame
    /// header with an empty data payload or a keep-alive is used up and
    /// reported as empty data.
    pub fn next<'b>(&mut self, buf: &'b [u8]) -> Result<Decoded<Frame<'b>>, CodecError> {
        if !self.multiplexed || self.remaining > 0 {
            let n = if self.multiplexed {
                self.remaining.min(buf.len())
            } else {
                buf.len()
            };
            if n == 0 {
                return Ok(Decoded::Incomplete { needed: 1 });
            }
            if self.multiplexed {
                self.remaining -= n;
            }
            let data = buf.get(..n).unwrap_or_default();
            return Ok(Decoded::Complete {
                value: Frame::Data(data),
                consumed: n,
            });
        }
        let mut r = Reader::new(buf);
        let header = match r.array::<4>() {
            Ok(h) => u32::from_le_bytes(h),
            Err(Fail::Incomplete { needed }) => return Ok(Decoded::Incomplete { needed }),
            Err(Fail::Invalid(e)) => return Err(e),
        };
        let len = (header & 0x00FF_FFFF) as usize;
        let code = (header >> 24)
            .checked_sub(MPLEX_BASE)
            .and_then(|c| u8::try_from(c).ok())
            .ok_or(CodecError::UnexpectedMessage(0xFF))?;
        if code == MsgCode::Data as u8 {
            self.remaining = len;
            return Ok(Decoded::Complete {
                value: Frame::Data(&[]),
                consumed: 4,
            });
        }
        if len > MAX_MSG {
            return Err(CodecError::TooLong("a multiplexed message"));
        }
        let payload = match r.take(len) {
            Ok(p) => p,
            Err(Fail::Incomplete { needed }) => return Ok(Decoded::Incomplete { needed }),
            Err(Fail::Invalid(e)) => return Err(e),
        };
        let value = match parse_message(code, payload)? {
            Some(m) => Frame::Message(m),
            None => Frame::Data(&[]),
        };
        Ok(Decoded::Complete {
            value,
            consumed: 4 + len,
        })
    }
}

/// Appends one frame per at most [`MAX_FRAME`] bytes of `payload` (one
/// empty frame for an empty payload), as `send_msg` does.
pub fn put_frame(out: &mut Vec<u8>, code: MsgCode, payload: &[u8]) {
    for chunk in payload
        .chunks(MAX_FRAME)
        .chain(payload.is_empty().then_some(&[][..]))
    {
        out.extend_from_slice(&frame_head(code, chunk.len()));
        out.extend_from_slice(chunk);
    }
}

/// The 4-byte header of a frame of `len` bytes (at most [`MAX_FRAME`]).
pub fn frame_head(code: MsgCode, len: usize) -> [u8; 4] {
    let tag = ((MPLEX_BASE + u32::from(code as u8)) << 24) | (len & MAX_FRAME) as u32;
    tag.to_le_bytes()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn deframe_all(chunks: &[&[u8]]) -> Result<(Vec<u8>, Vec<PeerMessage>), CodecError> {
        let mut d = Deframer::new();
        d.set_multiplexed(true);
        let (mut data, mut msgs, mut held) = (Vec::new(), Vec::new(), Vec::new());
        for c in chunks {
            held.extend_from_slice(c);
            let mut used = 0;
            while let Decoded::Complete { value, consumed } = d.next(&held[used..])? {
                match value {
                    Frame::Data(b) => data.extend_from_slice(b),
                    Frame::Message(m) => msgs.push(m),
                }
                used += consumed;
            }
            held.drain(..used);
        }
        Ok((data, msgs))
    }

    fn sample() -> Vec<u8> {
        let mut s = Vec::new();
        put_frame(&mut s, MsgCode::Data, b"abcdef");
        put_frame(&mut s, MsgCode::Noop, b"");
        put_frame(&mut s, MsgCode::Info, b"hi\n");
        put_frame(&mut s, MsgCode::Data, b"");
        put_frame(&mut s, MsgCode::IoError, &1i32.to_le_bytes());
        put_frame(&mut s, MsgCode::Data, b"gh");
        put_frame(&mut s, MsgCode::ErrorExit, &23i32.to_le_bytes());
        s
    }

    #[test]
    fn any_split_gives_the_same_data_and_messages() {
        let s = sample();
        let want = (
            b"abcdefgh".to_vec(),
            vec![
                PeerMessage::Text(2, b"hi\n".to_vec()),
                PeerMessage::IoError(1),
                PeerMessage::Exit(23),
            ],
        );
        assert_eq!(deframe_all(&[&s]).unwrap(), want);
        for step in 1..s.len() {
            let chunks: Vec<&[u8]> = s.chunks(step).collect();
            assert_eq!(deframe_all(&chunks).unwrap(), want, "step {step}");
        }
        for cut in 1..s.len() {
            assert_eq!(
                deframe_all(&[&s[..cut], &s[cut..]]).unwrap(),
                want,
                "cut {cut}"
            );
        }
    }

    #[test]
    fn the_deframer_refuses_what_the_reader_refuses() {
        let mut d = Deframer::new();
        d.set_multiplexed(true);
        assert_eq!(
            d.next(&[0, 0, 0, 7 + 50]),
            Err(CodecError::UnexpectedMessage(50))
        );
        assert_eq!(
            d.next(&[0xFF, 0xFF, 0xFF, 7 + 2]),
            Err(CodecError::TooLong("a multiplexed message"))
        );
        assert_eq!(
            d.next(&[0, 0, 0, 3]),
            Err(CodecError::UnexpectedMessage(0xFF))
        );
        assert_eq!(
            d.next(&[2, 0, 0, 7 + 86, 1, 2]),
            Err(CodecError::OutOfRange("an exit message"))
        );
        assert_eq!(
            d.next(&[4, 0, 0, 7 + 86, 1]),
            Ok(Decoded::Incomplete { needed: 3 })
        );
    }

    #[test]
    fn msg_codes_round_trip() {
        for c in 0..=255u8 {
            if let Ok(m) = MsgCode::try_from(c) {
                assert_eq!(m as u8, c);
            }
        }
        assert_eq!(MsgCode::try_from(5), Err(CodecError::UnexpectedMessage(5)));
    }
}
