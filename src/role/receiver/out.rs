//! The receiving session's writes, as the generator (requests, item
//! records, `NDX_DONE`, deletions) and the receiver (errors,
//! `MSG_SUCCESS`) make them on one connection, as rsync's two processes
//! share one socket (`write_ndx`, `send_msg`, `rsyserr` in `io.c` and
//! `log.c`; protocols 27 to 32).
//!
//! One task owns the session, so this is a plain view over the
//! [`Link`]: the file-index encoder, whose state follows every index
//! written, and rsync's `io_error` bits. Writes to the link cannot fail;
//! the link frames and buffers them.

use std::cell::{Cell, RefCell};
use std::io;

use crate::error::IoErrors;
use crate::role::Link;
use crate::wire::{MsgCode, NdxEncoder};

/// What the session writes, through the link.
pub(crate) struct Outbox<'l> {
    link: &'l Link,
    ndx: RefCell<NdxEncoder>,
    io_error: Cell<IoErrors>,
}

impl<'l> Outbox<'l> {
    /// Writes through `link`, encoding indexes with `ndx`.
    pub(crate) fn new(link: &'l Link, ndx: NdxEncoder) -> Self {
        Self {
            link,
            ndx: RefCell::new(ndx),
            io_error: Cell::new(IoErrors::NONE),
        }
    }

    /// Sends `rsync: [who] WHAT: ERR (N)` as a transfer error.
    pub(crate) fn rsyserr(&self, who: &str, what: &str, err: &io::Error) {
        self.add_io_error(IoErrors::GENERAL);
        self.link.rsyserr_as(who, what, err);
    }

    /// Sends a transfer error line as is.
    pub(crate) fn error_xfer(&self, line: &str) {
        self.add_io_error(IoErrors::GENERAL);
        self.link
            .msg(MsgCode::ErrorXfer, format!("{line}\n").as_bytes());
    }

    /// Sends a warning line as is.
    pub(crate) fn warning(&self, line: &str) {
        self.link.warning(line);
    }

    /// Sends an int32 message.
    pub(crate) fn msg_int(&self, code: MsgCode, v: i32) {
        self.link.msg_int(code, v);
    }

    /// Sends a message with a payload.
    pub(crate) fn msg(&self, code: MsgCode, payload: &[u8]) {
        self.link.msg(code, payload);
    }

    /// Records `bits` in the session's `io_error`.
    pub(crate) fn add_io_error(&self, bits: IoErrors) {
        let mut e = self.io_error.get();
        e.insert(bits);
        self.io_error.set(e);
    }

    /// The session's `io_error` bits.
    pub(crate) fn io_error(&self) -> IoErrors {
        self.io_error.get()
    }

    /// Frames what was written so far, so the driver can send it.
    pub(crate) fn flush(&self) {
        self.link.flush();
    }

    /// Appends data.
    pub(crate) fn write(&self, bytes: &[u8]) {
        self.link.write(bytes);
    }

    /// Appends an index.
    pub(crate) fn put_ndx(&self, ndx: i32) {
        let mut b = Vec::with_capacity(6);
        self.ndx.borrow_mut().put(&mut b, ndx);
        self.link.write(&b);
    }
}
