//! The driver's side of the link: it puts the client's bytes in, takes
//! whole frames out, and tells the role the time and whether the
//! connection went idle (rsync's `io.c` reads and writes, with the
//! system calls left to the driver). All protocols 27 to 32.

use std::time::{Duration, Instant};

use super::{Link, INBOX_MAX};

impl Link {
    /// Takes as many of the client's bytes as the inbox has room for;
    /// returns how many it took.
    pub fn push_input(&self, bytes: &[u8]) -> usize {
        let mut s = self.0.borrow_mut();
        let unread = s.unread_total();
        let n = bytes.len().min(INBOX_MAX.saturating_sub(unread));
        s.raw.extend_from_slice(bytes.get(..n).unwrap_or_default());
        s.bytes_in += n as u64;
        n
    }

    /// The client closed its side.
    pub fn push_eof(&self) {
        self.0.borrow_mut().eof = true;
    }

    /// Whether the client has closed its side.
    pub fn is_eof(&self) -> bool {
        self.0.borrow().eof
    }

    /// Moves at most `max` bytes of the framed output into `buf` (a frame
    /// may be split; the client joins the pieces); returns how many.
    pub fn take_output_max(&self, buf: &mut Vec<u8>, max: usize) -> usize {
        let mut s = self.0.borrow_mut();
        let ready = s.open.unwrap_or(s.out.len());
        if ready <= max {
            drop(s);
            return self.take_output(buf);
        }
        buf.extend_from_slice(s.out.get(..max).unwrap_or_default());
        s.out.drain(..max);
        if let Some(at) = s.open.as_mut() {
            *at = at.saturating_sub(max);
        }
        s.bytes_out += max as u64;
        max
    }

    /// The client's `--bwlimit`, in bytes a second, if it gave one.
    pub fn rate_limit(&self) -> Option<u64> {
        self.0.borrow().rate_limit
    }

    /// Moves the framed output into `buf`; returns how many bytes.
    pub fn take_output(&self, buf: &mut Vec<u8>) -> usize {
        let mut s = self.0.borrow_mut();
        if let Some(at) = s.open {
            // The frame being filled stays: only whole frames go out.
            if buf.is_empty() {
                std::mem::swap(buf, &mut s.out);
                s.out.extend_from_slice(buf.get(at..).unwrap_or_default());
                buf.truncate(at);
            } else {
                buf.extend_from_slice(s.out.get(..at).unwrap_or_default());
                s.out.drain(..at);
            }
            s.open = Some(0);
            s.bytes_out += at as u64;
            return at;
        }
        let n = s.out.len();
        if buf.is_empty() {
            std::mem::swap(buf, &mut s.out);
        } else {
            buf.append(&mut s.out);
        }
        s.bytes_out += n as u64;
        n
    }

    /// The driver asked for output and found none (`true`), or took some:
    /// whether the role's next `KICK_AT` bytes should leave at once.
    pub fn set_idle(&self, idle: bool) {
        self.0.borrow_mut().kick_armed = idle;
    }

    /// Whether the role paused so that its first bytes after an idle
    /// spell go out now (`KICK_AT`).
    pub fn kicked(&self) -> bool {
        self.0.borrow().kicked
    }

    /// The driver has the kicked bytes: the role may go on.
    pub fn clear_kick(&self) {
        self.0.borrow_mut().kicked = false;
    }

    /// Whether framed output waits to be taken.
    pub fn has_output(&self) -> bool {
        let s = self.0.borrow();
        match s.open {
            Some(at) => at > 0,
            None => !s.out.is_empty(),
        }
    }

    /// Whether the inbox has room for more input.
    pub fn wants_input(&self) -> bool {
        let s = self.0.borrow();
        !s.eof && s.unread_total() < INBOX_MAX
    }

    /// The setup is over: from here on bytes count towards the totals a
    /// sender reports (rsync counts only what passes through its buffered
    /// I/O, which starts with the filter list; read-ahead not yet taken
    /// is not counted yet).
    pub fn start_counting(&self) {
        let mut s = self.0.borrow_mut();
        let unread = s.unread_total() as u64;
        s.base = (
            s.bytes_in.saturating_sub(unread),
            s.bytes_out + s.out.len() as u64,
        );
    }

    /// Bytes read and written since [`Self::start_counting`], framing
    /// included.
    pub fn counted(&self) -> (u64, u64) {
        let base = self.0.borrow().base;
        (
            self.bytes_in().saturating_sub(base.0),
            self.bytes_out().saturating_sub(base.1),
        )
    }

    /// Counts bytes that moved before the link took over the connection
    /// (a handshake run outside it), so the totals cover the session.
    pub fn add_counts(&self, bytes_in: u64, bytes_out: u64) {
        let mut s = self.0.borrow_mut();
        s.bytes_in += bytes_in;
        s.bytes_out += bytes_out;
    }

    /// Tells the role the time (the machine does, at every event).
    pub fn set_now(&self, now: Instant) {
        self.0.borrow_mut().now = Some(now);
    }

    /// The idle limit the role asked for, if any.
    pub fn idle_limit(&self) -> Option<Duration> {
        self.0.borrow().idle_limit
    }
}
