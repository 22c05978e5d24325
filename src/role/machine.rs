//! A session as a state machine with quinn-proto's outside: bytes and
//! time go in, bytes and deadlines come out, and nothing inside does I/O
//! or reads a clock (rsync's `io.c` `check_timeout()` for the deadlines;
//! all protocols 27 to 32).
//!
//! The session itself is an `async fn` over a [`Link`]; the compiler
//! turns it into the state machine, so the code keeps rsync's order of
//! events. [`Machine`] polls it with a no-op waker whenever something
//! moved: input arrived, output was taken, or time passed. A poll that
//! cannot go on returns at once; there is no executor, no thread and no
//! wake-up to miss, because the machine polls after every event.
//!
//! The deadlines are those of rsync's `--timeout`, counted from the last
//! byte that moved:
//! - a session waiting for input gives up when no byte has moved either
//!   way for the idle limit (a generator still sending keeps the
//!   receiver's read alive);
//! - output the client does not take gives up when no byte of it has
//!   moved for the limit, however much the client sends;
//! - after the session has finished, its last bytes get [`DRAIN`];
//! - the time the role spends working between events is not the
//!   client's silence: the deadlines move on by it, and output begins to
//!   wait when it appears.
//!
//! Under the client's `--bwlimit` the machine paces what it hands out
//! ([`super::pace`]); a pause is a deadline of its own, not an idle one.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use super::link::Link;
use super::pace::Pacer;
use crate::audit::Transfer;

/// The idle limit until the session sets its own.
pub const START_LIMIT: Duration = Duration::from_secs(60);
/// How long a finished session's last bytes may take to leave.
pub const DRAIN: Duration = Duration::from_secs(5);

/// How a session ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// rsync's exit code.
    pub code: i32,
    /// What moved, for the audit line.
    pub transfer: Transfer,
    /// Why the session timed out, if it did (for the operator's log).
    pub timed_out: Option<String>,
    /// The refusal the client was sent, if the session was refused.
    pub refused: Option<String>,
    /// Lines for the operator's stderr: what the client could not be
    /// told inside the protocol.
    pub stderr: Vec<String>,
    /// After its last bytes, the session still reads and drops what the
    /// client sends, until the client closes or [`DRAIN`] is over, so
    /// that the client reads our error before it fails on a broken pipe.
    pub linger: bool,
}

type Task<'a> = Pin<Box<dyn Future<Output = Outcome> + 'a>>;

/// A running session.
pub struct Machine<'a> {
    link: Link,
    task: Option<Task<'a>>,
    outcome: Option<Outcome>,
    /// When a byte last moved either way.
    last_io: Instant,
    /// When output last moved, or began to wait.
    last_out: Instant,
    /// When the session finished.
    finished_at: Option<Instant>,
    /// The finished session's drain time is over.
    drain_over: bool,
    /// What `--bwlimit` still allows.
    pacer: Pacer,
}

impl<'a> Machine<'a> {
    /// Starts `session` on a fresh link at time `now`.
    pub fn new<F>(now: Instant, session: impl FnOnce(Link) -> F) -> Self
    where
        F: Future<Output = Outcome> + 'a,
    {
        let link = Link::new();
        link.set_now(now);
        let task: Task<'a> = Box::pin(session(link.clone()));
        let mut m = Machine {
            link,
            task: Some(task),
            outcome: None,
            last_io: now,
            last_out: now,
            finished_at: None,
            drain_over: false,
            pacer: Pacer::default(),
        };
        m.drive(now);
        m
    }

    /// Takes the client's bytes; returns how many were taken. Bytes not
    /// taken must be offered again later (the inbox is full).
    pub fn handle_input(&mut self, now: Instant, bytes: &[u8]) -> usize {
        if self.outcome.is_some() {
            // A finished session reads and drops what still comes.
            return bytes.len();
        }
        let n = self.link.push_input(bytes);
        if n > 0 {
            self.last_io = now;
        }
        self.drive(now);
        n
    }

    /// The client closed its side.
    pub fn handle_eof(&mut self, now: Instant) {
        self.link.push_eof();
        self.drive(now);
    }

    /// Moves the bytes ready for the client into `buf`; returns how many.
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut Vec<u8>) -> usize {
        if self.pacer.allowance(self.link.rate_limit(), now) == 0 {
            // A `--bwlimit` pause: nothing leaves until it is over.
            return 0;
        }
        let mut n = self.take(now, buf);
        if self.link.kicked() {
            if n > 0 {
                // The role paused so that these bytes leave first: it
                // goes on at the next call (`poll_timeout` is due now).
                return n;
            }
            self.link.clear_kick();
            self.drive(now);
            n = self.take(now, buf);
        } else {
            self.link.set_idle(n == 0);
        }
        if n > 0 {
            // Room in the outbox may let the session go on.
            self.drive(now);
        }
        n
    }

    fn take(&mut self, now: Instant, buf: &mut Vec<u8>) -> usize {
        let rate = self.link.rate_limit();
        let n = match self.pacer.allowance(rate, now) {
            usize::MAX => self.link.take_output(buf),
            max => self.link.take_output_max(buf, max),
        };
        self.pacer.sent(rate, n, now);
        if n > 0 {
            self.last_io = now;
            self.last_out = now;
            self.link.note_sent(now);
        }
        n
    }

    /// The bytes given by [`Self::poll_transmit`] were only partly
    /// written: the driver keeps the rest. Marks that output moved.
    pub fn handle_written(&mut self, now: Instant) {
        self.last_io = now;
        self.last_out = now;
        self.link.note_sent(now);
    }

    /// Whether the session wants more input now.
    pub fn wants_input(&self) -> bool {
        (self.outcome.is_none() && self.link.wants_input()) || self.lingering()
    }

    /// The session has ended and drops input until the client closes or
    /// its drain time is over.
    fn lingering(&self) -> bool {
        self.outcome.as_ref().is_some_and(|o| o.linger) && !self.drain_over && !self.link.is_eof()
    }

    /// The role paused so that its first bytes leave at once, and the
    /// driver has taken them: it may go on.
    fn resumable(&self) -> bool {
        self.link.kicked() && !self.link.has_output()
    }

    /// When [`Self::handle_timeout`] must be called next: a deadline, or
    /// the end of a `--bwlimit` pause while output waits.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let deadline = self.deadline();
        match self.pacer.resume_at().filter(|_| self.link.has_output()) {
            Some(t) => Some(deadline.map_or(t, |d| d.min(t))),
            None => deadline,
        }
    }

    /// The next deadline: the role's pause for its first bytes, the end
    /// of the drain, or the idle limit.
    fn deadline(&self) -> Option<Instant> {
        if self.resumable() {
            // The role waited only for its first bytes to be taken.
            return Some(self.last_out);
        }
        if let Some(t) = self.finished_at {
            return (!self.drain_over).then_some(t + DRAIN);
        }
        let limit = self.link.idle_limit().unwrap_or(START_LIMIT);
        let read = self.last_io + limit;
        if self.link.has_output() {
            Some(read.min(self.last_out + limit))
        } else {
            Some(read)
        }
    }

    /// Gives up if a deadline has passed: the session ends with rsync's
    /// timeout code, 30. `pending_output` says whether the driver still
    /// holds bytes the client has not taken.
    pub fn handle_timeout(&mut self, now: Instant, pending_output: bool) {
        self.pacer.wake(now);
        if self.resumable() {
            self.link.clear_kick();
            self.drive(now);
            return;
        }
        let Some(deadline) = self.deadline() else {
            return;
        };
        if now < deadline {
            return;
        }
        if self.finished_at.is_some() {
            // The drain is over; whatever did not leave is dropped.
            self.drain_over = true;
            return;
        }
        if let Some(code) = self.link.quiet_end() {
            // A refusal waiting for the client's goodbye: the reason is
            // out, so the session just ends with the refusal's code.
            self.task = None;
            self.outcome = Some(Outcome {
                code,
                ..Outcome::default()
            });
            self.drain_over = true;
            return;
        }
        let limit = self.link.idle_limit().unwrap_or(START_LIMIT).as_secs();
        let why = if pending_output || self.link.has_output() {
            format!("timeout: the client read nothing for {limit} seconds")
        } else {
            format!("timeout: no data from the client for {limit} seconds")
        };
        // Dropping the task runs its clean-ups (temporary files). The
        // client hears why, if it still reads: the driver makes one last
        // attempt to send without waiting.
        self.task = None;
        self.link.fail(&why, crate::error::code::TIMEOUT);
        let transfer = Transfer {
            bytes_in: self.link.bytes_in(),
            bytes_out: self.link.bytes_out(),
            ..Transfer::default()
        };
        self.outcome = Some(Outcome {
            code: crate::error::code::TIMEOUT,
            transfer,
            timed_out: Some(why),
            ..Outcome::default()
        });
        // Nothing more is sent; the driver stops.
        self.drain_over = true;
    }

    /// How the session ended, once it has.
    pub fn outcome(&self) -> Option<&Outcome> {
        self.outcome.as_ref()
    }

    /// Whether the driver is done: the session has ended and its last
    /// bytes are out (`driver_pending`: the driver still holds some), or
    /// their drain time is over.
    pub fn is_done(&self, driver_pending: bool) -> bool {
        self.outcome.is_some()
            && (self.drain_over
                || (!driver_pending && !self.link.has_output() && !self.lingering()))
    }

    /// The link, for tests and for the driver's counters.
    pub fn link(&self) -> &Link {
        &self.link
    }

    fn drive(&mut self, now: Instant) {
        let Some(task) = self.task.as_mut() else {
            return;
        };
        self.link.set_now(now);
        let mut cx = Context::from_waker(Waker::noop());
        let waiting = self.link.has_output();
        let polled = task.as_mut().poll(&mut cx);
        // The time the role spent working (on the link's clock, where the
        // driver gave one) is not the client's silence: the deadlines
        // move on by it, and output that was not waiting before begins
        // to wait only now.
        let spent = self
            .link
            .now()
            .map_or(Duration::ZERO, |t| t.saturating_duration_since(now));
        self.last_io += spent;
        self.last_out = match !waiting && self.link.has_output() {
            true => now + spent,
            false => self.last_out + spent,
        };
        if let Poll::Ready(outcome) = polled {
            self.task = None;
            self.link.flush();
            self.outcome = Some(outcome);
            self.finished_at = Some(now + spent);
            self.last_out = now + spent;
        }
    }
}

#[cfg(test)]
#[path = "machine_tests.rs"]
mod tests;
