//! The receiving session's output, shared by the generator thread (which
//! sends requests) and the receiver thread (which sends errors and
//! `MSG_SUCCESS`), as rsync's two processes share one socket.

use crate::error::IoErrors;
use std::io::{self, BufWriter, Write};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::role::conn::strerror;
use crate::wire::{MsgCode, MuxWriter, NdxEncoder};

/// The writer half of a connection.
pub struct Out<W: Write> {
    /// Framed output.
    pub w: MuxWriter<BufWriter<W>>,
    /// Index encoder.
    pub ndx: NdxEncoder,
    /// rsync's `io_error` bits (a transfer error, the deletion limit).
    pub io_error: IoErrors,
}

/// Shared handle to [`Out`].
pub struct Shared<W: Write>(Arc<Mutex<Out<W>>>);

impl<W: Write> Clone for Shared<W> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<W: Write> Shared<W> {
    /// Wraps the writer half.
    pub fn new(out: Out<W>) -> Self {
        Self(Arc::new(Mutex::new(out)))
    }

    /// Locks the writer; a poisoned lock (a panicked thread) is an error.
    pub fn lock(&self) -> io::Result<MutexGuard<'_, Out<W>>> {
        self.0
            .lock()
            .map_err(|_| io::Error::other("output lock poisoned"))
    }

    /// Sends `rsync: [who] WHAT: ERR (N)` as a transfer error.
    pub fn rsyserr(&self, who: &str, what: &str, err: &io::Error) -> io::Result<()> {
        self.add_io_error(IoErrors::GENERAL);
        let line = format!(
            "rsync: [{who}] {what}: {} ({})\n",
            strerror(err),
            err.raw_os_error().unwrap_or(0)
        );
        self.lock()?.w.send_msg(MsgCode::ErrorXfer, line.as_bytes())
    }

    /// Sends a transfer error line as is.
    pub fn error_xfer(&self, line: &str) -> io::Result<()> {
        self.add_io_error(IoErrors::GENERAL);
        self.lock()?
            .w
            .send_msg(MsgCode::ErrorXfer, format!("{line}\n").as_bytes())
    }

    /// Sends a warning line as is.
    pub fn warning(&self, line: &str) -> io::Result<()> {
        self.lock()?
            .w
            .send_msg(MsgCode::Warning, format!("{line}\n").as_bytes())
    }

    /// Sends an int32 message.
    pub fn msg_int(&self, code: MsgCode, v: i32) -> io::Result<()> {
        self.lock()?.w.send_msg_int(code, v)
    }

    /// Sends a message with a payload.
    pub fn msg(&self, code: MsgCode, payload: &[u8]) -> io::Result<()> {
        self.lock()?.w.send_msg(code, payload)
    }

    /// Records `bits` in the session's `io_error`.
    pub fn add_io_error(&self, bits: IoErrors) {
        if let Ok(mut o) = self.0.lock() {
            o.io_error.insert(bits);
        }
    }

    /// The session's `io_error` bits.
    pub fn io_error(&self) -> IoErrors {
        self.0.lock().map_or(IoErrors::GENERAL, |o| o.io_error)
    }

    /// Flushes to the client.
    pub fn flush(&self) -> io::Result<()> {
        self.lock()?.w.flush()
    }
}

impl<W: Write> Out<W> {
    /// Appends an index.
    pub fn put_ndx(&mut self, ndx: i32) -> io::Result<()> {
        let mut b = Vec::with_capacity(6);
        self.ndx.put(&mut b, ndx);
        self.w.write_all(&b)
    }
}
