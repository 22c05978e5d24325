//! The connection a role talks through: the demultiplexed input, the
//! multiplexed output and the file-index codecs, plus rsync-style error
//! lines (`rsyserr` and `rprintf` in `log.c`).

use std::io::{self, BufReader, BufWriter, Read, Write};

use crate::wire::{MsgCode, MuxReader, MuxWriter, NdxDecoder, NdxEncoder, WireError};

/// A server connection after the handshake.
pub struct Conn<R: Read, W: Write> {
    /// Input from the client.
    pub r: MuxReader<BufReader<R>>,
    /// Output to the client.
    pub w: MuxWriter<BufWriter<W>>,
    /// The negotiated protocol.
    pub protocol: u32,
    /// Index decoder for the client's requests.
    pub ndx_in: NdxDecoder,
    /// Index encoder for our replies.
    pub ndx_out: NdxEncoder,
    /// Our role's name in messages: `sender`, `receiver` or `generator`.
    pub who: &'static str,
}

impl<R: Read, W: Write> Conn<R, W> {
    /// Wraps raw streams; framing is switched on by the caller.
    pub fn new(r: R, w: W) -> Self {
        Self {
            r: MuxReader::new(BufReader::with_capacity(256 * 1024, r)),
            // Small, like rsync's 32 KiB output buffer: the client's receiver
            // starts on the first tokens sooner and the pipeline stays full
            // (a 256 KiB buffer left it idle, 1.25x stock's delta time).
            w: MuxWriter::new(BufWriter::with_capacity(32 * 1024, w)),
            protocol: 0,
            ndx_in: NdxDecoder::new(0),
            ndx_out: NdxEncoder::new(0),
            who: "server",
        }
    }

    /// Takes the connection apart between two frames: the bytes read
    /// ahead but not used, and the raw streams, with every byte written
    /// so far flushed.
    pub fn into_raw(self) -> io::Result<(Vec<u8>, R, W)> {
        let r = self.r.into_inner();
        let held = r.buffer().to_vec();
        let w = self
            .w
            .into_inner()?
            .into_inner()
            .map_err(|e| e.into_error())?;
        Ok((held, r.into_inner(), w))
    }

    /// Sets the protocol once the handshake has chosen it.
    pub fn set_protocol(&mut self, protocol: u32) {
        self.protocol = protocol;
        self.ndx_in = NdxDecoder::new(protocol);
        self.ndx_out = NdxEncoder::new(protocol);
    }

    /// Reads the next file index.
    pub fn read_ndx(&mut self) -> Result<i32, WireError> {
        self.ndx_in.get(&mut self.r)
    }

    /// Writes a file index.
    pub fn write_ndx(&mut self, ndx: i32) -> io::Result<()> {
        let mut b = Vec::with_capacity(6);
        self.ndx_out.put(&mut b, ndx);
        self.w.write_all(&b)
    }

    /// Sends `rsync: [who] MSG: STRERROR (ERRNO)` as a transfer error,
    /// the line stock rsync prints for a failed system call.
    pub fn rsyserr(&mut self, what: &str, err: &io::Error) -> io::Result<()> {
        let line = format!(
            "rsync: [{}] {what}: {} ({})\n",
            self.who,
            strerror(err),
            err.raw_os_error().unwrap_or(0)
        );
        self.w.send_msg(MsgCode::ErrorXfer, line.as_bytes())
    }

    /// Sends a fatal error line: `rsync: [who] MSG`.
    pub fn error(&mut self, msg: &str) -> io::Result<()> {
        let line = format!("rsync: [{}] {msg}\n", self.who);
        self.w.send_msg(MsgCode::Error, line.as_bytes())
    }

    /// Sends a warning line as is.
    pub fn warning(&mut self, msg: &str) -> io::Result<()> {
        self.w
            .send_msg(MsgCode::Warning, format!("{msg}\n").as_bytes())
    }

    /// Sends an informational line as is.
    pub fn info(&mut self, msg: &str) -> io::Result<()> {
        self.w
            .send_msg(MsgCode::Info, format!("{msg}\n").as_bytes())
    }

    /// Flushes everything to the client.
    pub fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

pub use super::text::{quoted, strerror, ESCAPE_TEXT, SYMLINK_TEXT};
