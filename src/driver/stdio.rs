//! Standard input and output as blocking byte streams.
//!
//! sshd and rsync's own `-e` pipes may hand us non-blocking descriptors
//! (rsync sets `O_NONBLOCK` on its side, and some shells share the file
//! description). The roles expect blocking reads and writes, so we clear
//! the flag, and if something sets it again a would-block result waits in
//! `poll` instead of failing the transfer.

use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::atomic::{AtomicU64, Ordering};

use rustix::event::{poll, PollFd, PollFlags};
use rustix::fs::{fcntl_getfl, fcntl_setfl, OFlags};

/// Clears `O_NONBLOCK` on `fd`, ignoring failures (the wrappers cope).
pub fn make_blocking(fd: BorrowedFd<'_>) {
    if let Ok(fl) = fcntl_getfl(fd) {
        if fl.contains(OFlags::NONBLOCK) {
            let _ = fcntl_setfl(fd, fl - OFlags::NONBLOCK);
        }
    }
}

/// Seconds of silence from the client after which a read fails; 0 is none.
static IDLE_SECS: AtomicU64 = AtomicU64::new(0);

/// Sets the idle time-out for reads from the client: the client's
/// `--timeout`, or the server default.
pub fn set_idle_timeout(secs: u64) {
    IDLE_SECS.store(secs, Ordering::Relaxed);
}

/// Waits until `fd` is readable, failing after the idle time-out.
fn wait_readable(fd: BorrowedFd<'_>) -> io::Result<()> {
    let secs = IDLE_SECS.load(Ordering::Relaxed);
    if secs == 0 {
        return Ok(());
    }
    let ts = rustix::time::Timespec {
        tv_sec: secs as i64,
        tv_nsec: 0,
    };
    let mut fds = [PollFd::new(&fd, PollFlags::IN)];
    match poll(&mut fds, Some(&ts)) {
        Ok(0) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("timeout: no data from the client for {secs} seconds"),
        )),
        Ok(_) | Err(rustix::io::Errno::INTR) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

fn wait(fd: BorrowedFd<'_>, flags: PollFlags) -> io::Result<()> {
    let mut fds = [PollFd::new(&fd, flags)];
    match poll(&mut fds, None) {
        Ok(_) | Err(rustix::io::Errno::INTR) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// A reader that waits instead of returning `WouldBlock`.
pub struct Blocking<T>(pub T);

impl<T: Read + AsFd> Read for Blocking<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        wait_readable(self.0.as_fd())?;
        loop {
            match self.0.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    wait(self.0.as_fd(), PollFlags::IN)?
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => return r,
            }
        }
    }
}

impl<T: Write + AsFd> Write for Blocking<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        loop {
            match self.0.write(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    wait(self.0.as_fd(), PollFlags::OUT)?
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => return r,
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        loop {
            match self.0.flush() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    wait(self.0.as_fd(), PollFlags::OUT)?
                }
                r => return r,
            }
        }
    }
}
