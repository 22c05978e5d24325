//! The stdio pump: moves bytes between two descriptors and a
//! [`Machine`], and tells it the time. It knows nothing of the protocol
//! (rsync's `io.c` `perform_io()` select loop, without the protocol).
//!
//! One `poll(2)` waits for whichever of input and output the machine can
//! use, bounded by the machine's deadline ([`Machine::poll_timeout`]).
//! Input is offered to the machine as it arrives; bytes the machine does
//! not take (its inbox is full) are kept and offered again, and no more
//! are read until they are taken. Output is written as the descriptor
//! takes it. With blocking descriptors (see [`super::stdio::NonBlocking`])
//! every read and write follows a `poll` that said it would not wait, and
//! a write is at most `PIPE_BUF` bytes.

use std::io;
use std::os::fd::BorrowedFd;
use std::time::Instant;

use rustix::event::{poll, PollFd, PollFlags};
use rustix::time::Timespec;

use crate::iobuf::IoBuf;
use crate::role::{Machine, Outcome};

/// Bytes read per `read(2)`.
const READ_CHUNK: usize = 256 * 1024;
/// The largest write when the descriptor is blocking (`PIPE_BUF`).
const BLOCKING_CHUNK: usize = 4096;

/// Runs `machine` to its end over `input` and `output`.
pub fn run(
    machine: &mut Machine<'_>,
    input: BorrowedFd<'_>,
    output: BorrowedFd<'_>,
    nonblocking: bool,
) -> Outcome {
    let mut p = Pump {
        inbuf: Vec::new(),
        rbuf: IoBuf::zeroed(READ_CHUNK),
        outbuf: Vec::new(),
        outpos: 0,
        eof: false,
        out_broken: false,
        nonblocking,
    };
    loop {
        let now = Instant::now();
        p.take_output(machine, now);
        if machine.is_done(p.pending()) {
            break;
        }
        if let Some(o) = machine.outcome() {
            if o.timed_out.is_some() {
                // One last attempt, without waiting, so that a client
                // that still reads hears why.
                let _ = p.write(output, now, machine, 0);
                break;
            }
        }
        let want_in = !p.eof && p.inbuf.is_empty() && machine.wants_input();
        let want_out = p.pending();
        let wait_ms = machine
            .poll_timeout()
            .map(|t| t.saturating_duration_since(now).as_millis())
            .map_or(-1, |ms| i32::try_from(ms).unwrap_or(i32::MAX));
        match p.wait(input, output, want_in, want_out, wait_ms) {
            Ok((readable, writable)) => {
                let now = Instant::now();
                if writable && p.write(output, now, machine, 1).is_err() {
                    // The client stopped reading for good: what we still
                    // produce is dropped, and the session ends when it
                    // next waits for input that cannot come.
                    p.out_broken = true;
                    p.outbuf.clear();
                    p.outpos = 0;
                }
                if readable {
                    p.read(input, now, machine);
                }
                p.offer(machine, now);
                machine.handle_timeout(Instant::now(), p.pending());
            }
            Err(_) => {
                // The descriptors are gone: the machine sees the end.
                p.eof = true;
                machine.handle_eof(Instant::now());
                machine.handle_timeout(Instant::now() + crate::role::machine::DRAIN, true);
            }
        }
    }
    machine.outcome().cloned().unwrap_or_default()
}

struct Pump {
    /// Input the machine has not taken yet.
    inbuf: Vec<u8>,
    /// Where `read(2)` puts the input.
    rbuf: IoBuf,
    /// Output not yet written, from `outpos`.
    outbuf: Vec<u8>,
    outpos: usize,
    eof: bool,
    /// The output descriptor failed; output is dropped.
    out_broken: bool,
    nonblocking: bool,
}

impl Pump {
    fn pending(&self) -> bool {
        self.outpos < self.outbuf.len()
    }

    fn take_output(&mut self, m: &mut Machine<'_>, now: Instant) {
        if !self.pending() {
            self.outbuf.clear();
            self.outpos = 0;
            m.poll_transmit(now, &mut self.outbuf);
            if self.out_broken {
                self.outbuf.clear();
            }
        }
    }

    fn wait(
        &self,
        input: BorrowedFd<'_>,
        output: BorrowedFd<'_>,
        want_in: bool,
        want_out: bool,
        wait_ms: i32,
    ) -> io::Result<(bool, bool)> {
        let mut fds = Vec::with_capacity(2);
        if want_in {
            fds.push(PollFd::new(&input, PollFlags::IN));
        }
        if want_out {
            fds.push(PollFd::new(&output, PollFlags::OUT));
        }
        let timeout = (wait_ms >= 0).then(|| Timespec {
            tv_sec: i64::from(wait_ms / 1000),
            tv_nsec: i64::from(wait_ms % 1000) * 1_000_000,
        });
        loop {
            match poll(&mut fds, timeout.as_ref()) {
                Ok(_) => break,
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        let ready = |fd: Option<&PollFd<'_>>| fd.is_some_and(|f| !f.revents().is_empty());
        let (r, w) = match (want_in, want_out) {
            (true, true) => (ready(fds.first()), ready(fds.get(1))),
            (true, false) => (ready(fds.first()), false),
            (false, true) => (false, ready(fds.first())),
            (false, false) => (false, false),
        };
        Ok((r, w))
    }

    /// Reads what is there into `inbuf`.
    fn read(&mut self, input: BorrowedFd<'_>, now: Instant, m: &mut Machine<'_>) {
        loop {
            match rustix::io::read(input, &mut *self.rbuf) {
                Ok(0) => {
                    self.eof = true;
                    m.handle_eof(now);
                }
                Ok(n) => {
                    // Offered at once; only what the machine does not take
                    // is kept (one copy fewer on the way in).
                    let got = self.rbuf.get(..n).unwrap_or_default();
                    let taken = if self.inbuf.is_empty() {
                        m.handle_input(now, got)
                    } else {
                        0
                    };
                    self.inbuf
                        .extend_from_slice(got.get(taken..).unwrap_or_default());
                }
                Err(rustix::io::Errno::INTR) => continue,
                Err(rustix::io::Errno::AGAIN) => {}
                Err(_) => {
                    self.eof = true;
                    m.handle_eof(now);
                }
            }
            return;
        }
    }

    /// Offers the kept input to the machine.
    fn offer(&mut self, m: &mut Machine<'_>, now: Instant) {
        if self.inbuf.is_empty() {
            return;
        }
        let n = m.handle_input(now, &self.inbuf);
        self.inbuf.drain(..n.min(self.inbuf.len()));
    }

    /// Writes pending output, up to `rounds` times while the descriptor
    /// takes it without waiting.
    fn write(
        &mut self,
        output: BorrowedFd<'_>,
        now: Instant,
        m: &mut Machine<'_>,
        rounds: usize,
    ) -> io::Result<()> {
        for _ in 0..rounds.max(1) {
            let rest = self.outbuf.get(self.outpos..).unwrap_or_default();
            if rest.is_empty() {
                return Ok(());
            }
            if !self.nonblocking && rounds == 0 {
                // A blocking descriptor is written only when poll says it
                // will not wait.
                let mut fds = [PollFd::new(&output, PollFlags::OUT)];
                let zero = Timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                };
                if poll(&mut fds, Some(&zero)).unwrap_or(0) == 0 {
                    return Ok(());
                }
            }
            let chunk = if self.nonblocking {
                rest
            } else {
                rest.get(..BLOCKING_CHUNK).unwrap_or(rest)
            };
            match rustix::io::write(output, chunk) {
                Ok(n) => {
                    self.outpos += n;
                    m.handle_written(now);
                }
                Err(rustix::io::Errno::INTR) => {}
                Err(rustix::io::Errno::AGAIN) => return Ok(()),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "pump_tests.rs"]
mod tests;
