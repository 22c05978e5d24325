//! Standard input and output as byte streams that never wait past the
//! session's deadline ([`super::deadline::IdleClock`]).
//!
//! Like rsync's server (`main.c` sets `O_NONBLOCK` on its input and
//! output), we make both descriptors non-blocking, so that no `read(2)`
//! or `write(2)` can sleep in the kernel: every wait happens in `poll`,
//! bounded by the clock. `O_NONBLOCK` belongs to the open file
//! description, which other processes may share:
//! - sshd, rsync's `-e` child (a socket pair) and the test harness hand us
//!   pipes or sockets made for this process alone (a shell that `exec`s us
//!   hands its own over); stdin and stdout may be one socket, which is
//!   fine, both are ours;
//! - stderr is never touched, but if it is the same pipe, socket or
//!   terminal as stdin or stdout (`2>&1`, a terminal), a non-blocking
//!   description would make our error lines fail with `EAGAIN`. Then the
//!   descriptors stay blocking, every read and write waits in `poll`
//!   first, and a write is at most `PIPE_BUF` bytes, which a pipe or
//!   socket that polls writable takes without sleeping.
//!
//! The flags are restored when the session ends ([`NonBlocking`]).

use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::fs::{fcntl_getfl, fcntl_setfl, fstat, OFlags};

use super::deadline::{IdleClock, Side};

/// The largest write when the descriptor stays blocking (`PIPE_BUF`).
const BLOCKING_CHUNK: usize = 4096;

/// `O_NONBLOCK` set on stdin and stdout for one session, cleared again
/// on drop where we set it.
pub struct NonBlocking {
    changed: Vec<(OwnedFd, OFlags)>,
    on: bool,
}

impl NonBlocking {
    /// Sets `O_NONBLOCK` on `input` and `output` unless `stderr` is the
    /// same file as one of them (see the module text).
    pub fn set(input: BorrowedFd<'_>, output: BorrowedFd<'_>, stderr: BorrowedFd<'_>) -> Self {
        let mut me = NonBlocking {
            changed: Vec::new(),
            on: false,
        };
        if same_file(input, stderr) || same_file(output, stderr) {
            return me;
        }
        me.on = true;
        for fd in [input, output] {
            match fcntl_getfl(fd) {
                Ok(fl) if fl.contains(OFlags::NONBLOCK) => {}
                Ok(fl) => {
                    let saved = fd.try_clone_to_owned();
                    match (fcntl_setfl(fd, fl | OFlags::NONBLOCK), saved) {
                        (Ok(()), Ok(saved)) => me.changed.push((saved, fl)),
                        (Ok(()), Err(_)) => {}
                        (Err(_), _) => me.on = false,
                    }
                }
                Err(_) => me.on = false,
            }
        }
        me
    }

    /// Whether both descriptors are non-blocking now.
    pub fn is_on(&self) -> bool {
        self.on
    }
}

impl Drop for NonBlocking {
    fn drop(&mut self) {
        for (fd, fl) in &self.changed {
            let _ = fcntl_setfl(fd, *fl);
        }
    }
}

/// Whether two descriptors are the same file (pipe, socket, terminal).
fn same_file(a: BorrowedFd<'_>, b: BorrowedFd<'_>) -> bool {
    match (fstat(a), fstat(b)) {
        (Ok(x), Ok(y)) => x.st_dev == y.st_dev && x.st_ino == y.st_ino,
        _ => false,
    }
}

/// A stream whose every wait is bounded by the session's clock.
pub struct Blocking<T> {
    inner: T,
    clock: IdleClock,
    /// The descriptor is non-blocking: try first, poll on `EAGAIN`.
    nonblocking: bool,
}

impl<T> Blocking<T> {
    /// Wraps `inner`; `nonblocking` says whether its descriptor has
    /// `O_NONBLOCK` (see [`NonBlocking::is_on`]).
    pub fn new(inner: T, clock: IdleClock, nonblocking: bool) -> Self {
        Blocking {
            inner,
            clock,
            nonblocking,
        }
    }
}

impl<T: Read + AsFd> Read for Blocking<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.nonblocking {
            self.clock.wait(self.inner.as_fd(), Side::Read)?;
        }
        loop {
            match self.inner.read(buf) {
                Ok(n) => {
                    self.clock.progress();
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.clock.wait(self.inner.as_fd(), Side::Read)?
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

impl<T: Write + AsFd> Write for Blocking<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let buf = if self.nonblocking {
            buf
        } else {
            self.clock.wait(self.inner.as_fd(), Side::Write)?;
            buf.get(..BLOCKING_CHUNK).unwrap_or(buf)
        };
        loop {
            match self.inner.write(buf) {
                Ok(n) => {
                    self.clock.progress();
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.clock.wait(self.inner.as_fd(), Side::Write)?
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        loop {
            match self.inner.flush() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.clock.wait(self.inner.as_fd(), Side::Write)?
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => return r,
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    /// A client that never reads: both modes give up at the deadline
    /// instead of sleeping in write(2).
    #[test]
    fn writes_to_a_full_pipe_give_up() {
        for nonblocking in [true, false] {
            let (rd, wr) = std::io::pipe().unwrap();
            let stderr = std::io::stderr();
            let nb = if nonblocking {
                let nb = NonBlocking::set(rd.as_fd(), wr.as_fd(), stderr.as_fd());
                assert!(nb.is_on());
                Some(nb)
            } else {
                None
            };
            let clock = IdleClock::new(1);
            let mut w = Blocking::new(wr, clock.clone(), nonblocking);
            let e = w.write_all(&vec![7u8; 1 << 20]).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::TimedOut, "{nonblocking}");
            assert_eq!(
                clock.expired().as_deref(),
                Some("timeout: the client read nothing for 1 seconds")
            );
            drop(nb);
            let fl = fcntl_getfl(rd.as_fd()).unwrap();
            assert!(!fl.contains(OFlags::NONBLOCK), "flags restored");
        }
    }

    #[test]
    fn reads_from_a_silent_pipe_give_up() {
        for nonblocking in [true, false] {
            let (rd, wr) = std::io::pipe().unwrap();
            let stderr = std::io::stderr();
            let _nb = NonBlocking::set(rd.as_fd(), wr.as_fd(), stderr.as_fd());
            let clock = IdleClock::new(1);
            let mut r = Blocking::new(rd, clock.clone(), nonblocking);
            let e = r.read(&mut [0u8; 16]).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::TimedOut);
            drop(wr);
        }
    }

    #[test]
    fn stderr_on_the_same_pipe_keeps_it_blocking() {
        let (rd, wr) = std::io::pipe().unwrap();
        let nb = NonBlocking::set(rd.as_fd(), wr.as_fd(), wr.as_fd());
        assert!(!nb.is_on());
        assert!(!fcntl_getfl(wr.as_fd()).unwrap().contains(OFlags::NONBLOCK));
    }
}
