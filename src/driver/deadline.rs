//! The deadline of one session: an idle clock shared by the session's
//! reader and writer (rsync's `--timeout`, `io.c` `check_timeout()` and
//! `set_io_timeout()`; every protocol, 27-32).
//!
//! Every wait for the client goes through [`IdleClock::wait`], in every
//! state of the session: the `-s` arguments, the handshake, a refusal and
//! its drain, the file list, the transfer and the goodbye. The limit moves
//! with the session ([`IdleClock::set`]): the client's `--timeout` as soon
//! as it is known, otherwise [`DEFAULT_START_TIMEOUT`] until the handshake
//! is done and [`DEFAULT_IDLE_TIMEOUT`] after it.
//!
//! - A read gives up when neither direction has moved a byte for the
//!   limit, as rsync's does (`MAX(last_io_in, last_io_out)`): a generator
//!   still sending checksums keeps the receiver's read alive.
//! - A write gives up when it alone has moved nothing for the limit: a
//!   client that keeps sending but never reads cannot hold us.
//! - Once one wait has given up the clock is tripped: no later wait on
//!   either side waits at all, so the error path (a last error frame, the
//!   flush on drop) cannot block either, and the session reports
//!   `timeout: ...` with rsync's exit code 30.

use std::io;
use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Instant;

use rustix::event::{poll, PollFd, PollFlags};

/// Silence tolerated until the handshake is done, when the client asked
/// for no `--timeout`.
pub const DEFAULT_START_TIMEOUT: u64 = 60;
/// Silence tolerated after the handshake, when the client asked for no
/// `--timeout`.
pub const DEFAULT_IDLE_TIMEOUT: u64 = 3600;
/// Longest single `poll`, so that a wait notices promptly when the other
/// side of the session has tripped the clock.
const SLICE_MS: u64 = 1000;

/// Which way a wait goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Waiting for the client's data.
    Read,
    /// Waiting for the client to take ours.
    Write,
}

/// The idle limit of one session; clones share it (the reader's and the
/// writer's copy of one session).
#[derive(Debug, Clone)]
pub struct IdleClock(Arc<State>);

#[derive(Debug)]
struct State {
    base: Instant,
    /// The limit, in seconds (at least 1).
    limit: AtomicU64,
    /// When a byte last moved either way, in milliseconds since `base`.
    last_io: AtomicU64,
    /// 0 until a wait gives up; then 1 (read) or 2 (write).
    tripped: AtomicU8,
    /// The limit that was exceeded, for the message.
    tripped_after: AtomicU64,
}

impl IdleClock {
    /// A clock with a limit of `secs` seconds.
    pub fn new(secs: u64) -> Self {
        Self(Arc::new(State {
            base: Instant::now(),
            limit: AtomicU64::new(secs.max(1)),
            last_io: AtomicU64::new(0),
            tripped: AtomicU8::new(0),
            tripped_after: AtomicU64::new(0),
        }))
    }

    /// Sets the limit: the client's `--timeout` if it gave one (`Some`
    /// and non-zero), else `default`.
    pub fn set(&self, client: Option<u32>, default: u64) {
        let secs = client.filter(|&t| t > 0).map_or(default, u64::from);
        self.0.limit.store(secs.max(1), Ordering::Relaxed);
    }

    /// Lowers the limit to at most `secs` (never raises it).
    pub fn cap(&self, secs: u64) {
        self.0.limit.fetch_min(secs.max(1), Ordering::Relaxed);
    }

    /// The limit now, in seconds.
    pub fn limit(&self) -> u64 {
        self.0.limit.load(Ordering::Relaxed)
    }

    /// Records that bytes moved.
    pub fn progress(&self) {
        self.0.last_io.store(self.now_ms(), Ordering::Relaxed);
    }

    /// The message of the wait that gave up, if one did.
    pub fn expired(&self) -> Option<String> {
        let secs = self.0.tripped_after.load(Ordering::Relaxed);
        match self.0.tripped.load(Ordering::Relaxed) {
            1 => Some(format!(
                "timeout: no data from the client for {secs} seconds"
            )),
            2 => Some(format!(
                "timeout: the client read nothing for {secs} seconds"
            )),
            _ => None,
        }
    }

    /// Waits until `fd` is ready for `side`, or fails with `TimedOut` at
    /// the deadline (at once if the clock has already tripped).
    pub fn wait(&self, fd: BorrowedFd<'_>, side: Side) -> io::Result<()> {
        let flags = match side {
            Side::Read => PollFlags::IN,
            Side::Write => PollFlags::OUT,
        };
        let start = self.now_ms();
        loop {
            let slice = if self.expired().is_some() {
                0
            } else {
                let from = match side {
                    Side::Read => start.max(self.0.last_io.load(Ordering::Relaxed)),
                    Side::Write => start,
                };
                let end = from.saturating_add(self.limit().saturating_mul(1000));
                match end.checked_sub(self.now_ms()).filter(|&left| left > 0) {
                    Some(left) => left.min(SLICE_MS),
                    None => {
                        self.trip(side);
                        0
                    }
                }
            };
            if poll_once(fd, flags, slice)? {
                return Ok(());
            }
            if slice == 0 {
                return Err(self.error());
            }
        }
    }

    fn trip(&self, side: Side) {
        let code = match side {
            Side::Read => 1,
            Side::Write => 2,
        };
        if self
            .0
            .tripped
            .compare_exchange(0, code, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
        {
            self.0.tripped_after.store(self.limit(), Ordering::Relaxed);
        }
    }

    fn error(&self) -> io::Error {
        let msg = self.expired().unwrap_or_else(|| "timeout".to_string());
        io::Error::new(io::ErrorKind::TimedOut, msg)
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.0.base.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

/// One `poll` of `fd` for `flags`, up to `ms`; whether it is ready (a
/// hang-up or an error counts: the read or write then reports it).
fn poll_once(fd: BorrowedFd<'_>, flags: PollFlags, ms: u64) -> io::Result<bool> {
    let ts = rustix::time::Timespec {
        tv_sec: i64::try_from(ms / 1000).unwrap_or(0),
        tv_nsec: i64::try_from((ms % 1000) * 1_000_000).unwrap_or(0),
    };
    let mut fds = [PollFd::new(&fd, flags)];
    match poll(&mut fds, Some(&ts)) {
        Ok(n) => Ok(n > 0),
        Err(rustix::io::Errno::INTR) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn client_timeout_wins_over_default() {
        let c = IdleClock::new(DEFAULT_START_TIMEOUT);
        c.set(None, DEFAULT_IDLE_TIMEOUT);
        assert_eq!(c.limit(), DEFAULT_IDLE_TIMEOUT);
        c.set(Some(0), 7);
        assert_eq!(c.limit(), 7);
        c.set(Some(3), DEFAULT_IDLE_TIMEOUT);
        assert_eq!(c.limit(), 3);
        c.cap(5);
        assert_eq!(c.limit(), 3);
        c.cap(2);
        assert_eq!(c.limit(), 2);
    }

    #[test]
    fn silent_pipe_trips_both_sides() {
        let (rd, wr) = std::io::pipe().unwrap();
        let c = IdleClock::new(1);
        let e = c.wait(rd.as_fd(), Side::Read).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        assert_eq!(
            e.to_string(),
            "timeout: no data from the client for 1 seconds"
        );
        // Tripped: a writable end is still ready, a silent one fails at once.
        c.wait(wr.as_fd(), Side::Write).unwrap();
        let t = Instant::now();
        assert!(c.wait(rd.as_fd(), Side::Read).is_err());
        assert!(t.elapsed().as_millis() < 500);
    }
}
