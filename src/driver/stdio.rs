//! Standard input and output made non-blocking for one session, so that
//! every wait happens in the [`super::pump`]'s `poll`, bounded by the
//! session's deadline.
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

use std::os::fd::{BorrowedFd, OwnedFd};

use rustix::fs::{fcntl_getfl, fcntl_setfl, fstat, OFlags};

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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn flags_are_restored_on_drop() {
        let (rd, wr) = std::io::pipe().unwrap();
        let stderr = std::io::stderr();
        let nb = NonBlocking::set(rd.as_fd(), wr.as_fd(), stderr.as_fd());
        assert!(nb.is_on());
        assert!(fcntl_getfl(rd.as_fd()).unwrap().contains(OFlags::NONBLOCK));
        drop(nb);
        assert!(!fcntl_getfl(rd.as_fd()).unwrap().contains(OFlags::NONBLOCK));
        assert!(!fcntl_getfl(wr.as_fd()).unwrap().contains(OFlags::NONBLOCK));
    }

    #[test]
    fn stderr_on_the_same_pipe_keeps_it_blocking() {
        let (rd, wr) = std::io::pipe().unwrap();
        let nb = NonBlocking::set(rd.as_fd(), wr.as_fd(), wr.as_fd());
        assert!(!nb.is_on());
        assert!(!fcntl_getfl(wr.as_fd()).unwrap().contains(OFlags::NONBLOCK));
    }
}
