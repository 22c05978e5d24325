//! Multiplexed I/O (`send_msg` and `read_a_msg` in `io.c`).
//!
//! From protocol 23 the server's output, and from protocol 30 the client's
//! input to the server, is a sequence of frames: a little-endian u32 whose
//! high byte is `7 + code` and whose low 24 bits are the payload length.
//! Code 0 carries the data stream; the others carry messages (errors, info
//! lines, statistics, keep-alives) that the peer handles out of band.

use std::io::{self, Read, Write};

use super::{get_i32, WireError};

/// Offset added to a message code in the frame header (`MPLEX_BASE`).
const MPLEX_BASE: u32 = 7;
/// Largest payload a frame can declare (24 bits).
pub const MAX_FRAME: usize = 0x00FF_FFFF;
/// Data is flushed in frames of at most this size.
const DATA_CHUNK: usize = 32 * 1024;
/// Largest non-data message we accept from a peer.
const MAX_MSG: usize = 4096;
/// Most out-of-band messages kept before the oldest are dropped.
const MAX_PENDING: usize = 64;

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

/// Reads the peer's stream, splitting off out-of-band messages.
#[derive(Debug)]
pub struct MuxReader<R> {
    inner: R,
    multiplexed: bool,
    remaining: usize,
    pending: Vec<PeerMessage>,
    bytes_read: u64,
}

impl<R: Read> MuxReader<R> {
    /// A reader that starts unmultiplexed (the handshake is raw).
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            multiplexed: false,
            remaining: 0,
            pending: Vec::new(),
            bytes_read: 0,
        }
    }

    /// Turns demultiplexing on or off. Bytes left in the current data frame
    /// are still delivered first.
    pub fn set_multiplexed(&mut self, on: bool) {
        self.multiplexed = on;
    }

    /// Messages received so far, oldest first.
    pub fn take_messages(&mut self) -> Vec<PeerMessage> {
        std::mem::take(&mut self.pending)
    }

    /// Total bytes read from the underlying stream.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    fn raw_exact(&mut self, buf: &mut [u8], what: &'static str) -> Result<(), WireError> {
        self.inner
            .read_exact(buf)
            .map_err(|e| WireError::from_io(&e, what))?;
        self.bytes_read += buf.len() as u64;
        Ok(())
    }

    /// Reads frame headers until a data frame with payload is current.
    fn next_data_frame(&mut self) -> Result<(), WireError> {
        while self.remaining == 0 {
            let mut h = [0u8; 4];
            self.raw_exact(&mut h, "a message header")?;
            let tag = u32::from_le_bytes(h);
            let len = (tag & 0x00FF_FFFF) as usize;
            let code = (tag >> 24)
                .checked_sub(MPLEX_BASE)
                .ok_or(WireError::UnexpectedMessage(0xFF))?;
            let code = u8::try_from(code).map_err(|_| WireError::UnexpectedMessage(0xFF))?;
            if code == MsgCode::Data as u8 {
                self.remaining = len;
                continue;
            }
            self.read_message(code, len)?;
        }
        Ok(())
    }

    fn read_message(&mut self, code: u8, len: usize) -> Result<(), WireError> {
        if len > MAX_MSG {
            return Err(WireError::TooLong("a multiplexed message"));
        }
        let mut payload = vec![0u8; len];
        self.raw_exact(&mut payload, "a message")?;
        let int = || {
            get_i32(&mut &payload[..], "a message")
                .ok()
                .filter(|_| len == 4)
        };
        let msg = match code {
            1..=8 => PeerMessage::Text(code, payload.clone()),
            22 => PeerMessage::IoError(int().ok_or(WireError::OutOfRange("an io_error message"))?),
            42 if len == 0 => return Ok(()),
            86 => {
                let code = if len == 0 {
                    0
                } else {
                    int().ok_or(WireError::OutOfRange("an exit message"))?
                };
                return Err(WireError::PeerExit(code));
            }
            100 => PeerMessage::Success(int().ok_or(WireError::OutOfRange("a success message"))?),
            101 => PeerMessage::Deleted(payload.clone()),
            102 => PeerMessage::NoSend(int().ok_or(WireError::OutOfRange("a no_send message"))?),
            other => return Err(WireError::UnexpectedMessage(other)),
        };
        if self.pending.len() >= MAX_PENDING {
            self.pending.remove(0);
        }
        self.pending.push(msg);
        Ok(())
    }
}

impl<R: Read> Read for MuxReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.remaining == 0 && self.multiplexed {
            self.next_data_frame().map_err(WireError::into_io)?;
        }
        let want = if self.remaining > 0 {
            buf.len().min(self.remaining)
        } else {
            buf.len()
        };
        let n = self.inner.read(buf.get_mut(..want).unwrap_or(&mut []))?;
        if n == 0 {
            return Err(WireError::Truncated("the data stream").into_io());
        }
        self.remaining = self.remaining.saturating_sub(n);
        self.bytes_read += n as u64;
        Ok(n)
    }
}

/// Writes the server's stream, framing data and messages.
#[derive(Debug)]
pub struct MuxWriter<W: Write> {
    inner: W,
    multiplexed: bool,
    buf: Vec<u8>,
    bytes_written: u64,
}

impl<W: Write> MuxWriter<W> {
    /// A writer that starts unmultiplexed (the handshake is raw).
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            multiplexed: false,
            buf: Vec::with_capacity(DATA_CHUNK * 2),
            bytes_written: 0,
        }
    }

    /// Turns framing on (or off) after flushing what is buffered.
    pub fn set_multiplexed(&mut self, on: bool) -> io::Result<()> {
        self.flush_data()?;
        self.multiplexed = on;
        Ok(())
    }

    /// Whether output is framed.
    pub fn is_multiplexed(&self) -> bool {
        self.multiplexed
    }

    /// Total bytes written to the underlying stream.
    pub fn bytes_written(&self) -> u64 {
        self.bytes_written
    }

    /// Sends an out-of-band message after the data buffered so far. Without
    /// multiplexing there is no channel for it and it is dropped.
    pub fn send_msg(&mut self, code: MsgCode, payload: &[u8]) -> io::Result<()> {
        self.flush_data()?;
        if !self.multiplexed {
            return Ok(());
        }
        for chunk in payload
            .chunks(MAX_FRAME)
            .chain(payload.is_empty().then_some(&[][..]))
        {
            self.frame(code as u8, chunk)?;
        }
        Ok(())
    }

    /// Sends an int32 message such as `MSG_IO_ERROR` or `MSG_NO_SEND`.
    pub fn send_msg_int(&mut self, code: MsgCode, v: i32) -> io::Result<()> {
        self.send_msg(code, &v.to_le_bytes())
    }

    fn frame(&mut self, code: u8, payload: &[u8]) -> io::Result<()> {
        let tag = ((MPLEX_BASE + u32::from(code)) << 24) | payload.len() as u32;
        self.inner.write_all(&tag.to_le_bytes())?;
        self.inner.write_all(payload)?;
        self.bytes_written += 4 + payload.len() as u64;
        Ok(())
    }

    fn flush_data(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let buf = std::mem::take(&mut self.buf);
        if self.multiplexed {
            for chunk in buf.chunks(DATA_CHUNK) {
                self.frame(MsgCode::Data as u8, chunk)?;
            }
        } else {
            self.inner.write_all(&buf)?;
            self.bytes_written += buf.len() as u64;
        }
        self.buf = buf;
        self.buf.clear();
        Ok(())
    }

    /// Gives back the underlying writer.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }
}

impl<W: Write> Write for MuxWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= DATA_CHUNK * 2 {
            self.flush_data()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_data()?;
        self.inner.flush()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn frames_data_and_messages() {
        let mut w = MuxWriter::new(Vec::new());
        w.write_all(b"raw").unwrap();
        w.set_multiplexed(true).unwrap();
        w.write_all(b"abc").unwrap();
        w.send_msg(MsgCode::Info, b"hi\n").unwrap();
        w.flush().unwrap();
        let out = w.get_mut().clone();
        assert_eq!(&out[..3], b"raw");
        assert_eq!(&out[3..7], &[3, 0, 0, 7]);
        assert_eq!(&out[7..10], b"abc");
        assert_eq!(&out[10..14], &[3, 0, 0, 9]);
        assert_eq!(&out[14..], b"hi\n");
    }

    #[test]
    fn reads_through_messages() {
        let mut s = Vec::new();
        s.extend_from_slice(&[2, 0, 0, 7]);
        s.extend_from_slice(b"ab");
        s.extend_from_slice(&[0, 0, 0, 49]); // NOOP
        s.extend_from_slice(&[4, 0, 0, 29]); // IO_ERROR
        s.extend_from_slice(&1i32.to_le_bytes());
        s.extend_from_slice(&[1, 0, 0, 7]);
        s.extend_from_slice(b"c");
        let mut r = MuxReader::new(&s[..]);
        r.set_multiplexed(true);
        let mut got = [0u8; 3];
        r.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"abc");
        assert_eq!(r.take_messages(), vec![PeerMessage::IoError(1)]);
    }

    #[test]
    fn rejects_unknown_and_huge() {
        let s = [0u8, 0, 0, 7 + 50];
        let mut r = MuxReader::new(&s[..]);
        r.set_multiplexed(true);
        assert!(r.read(&mut [0u8; 1]).is_err());
        let s = [0xFFu8, 0xFF, 0xFF, 7 + 2];
        let mut r = MuxReader::new(&s[..]);
        r.set_multiplexed(true);
        let e = r.read(&mut [0u8; 1]).unwrap_err();
        assert_eq!(
            WireError::from_io(&e, "x"),
            WireError::TooLong("a multiplexed message")
        );
    }
}
