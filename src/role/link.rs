//! The connection as a role sees it: an in-memory inbox and outbox, with
//! no I/O behind them (rsync's `io.c` buffers, without the `read(2)` and
//! `write(2)`; all protocols 27 to 32).
//!
//! The driver puts the client's bytes in ([`Link::push_input`]) and takes
//! ours out ([`Link::take_output`]); the role, an `async fn`, awaits what
//! it needs:
//! - [`Link::read`] runs a decoder over the data received so far and waits
//!   while the decoder says "incomplete". Out-of-band messages are split
//!   off as the bytes arrive (`read_a_msg`); the client's exit message
//!   ends any read that cannot be satisfied with its code.
//! - [`Link::write`] buffers data, framed as `MSG_DATA` once multiplexing
//!   is on; [`Link::msg`] sends a message after the data before it.
//! - [`Link::room`] waits while the outbox holds more than its watermark,
//!   so a role never produces more than the client has room to take.
//!   After the driver found nothing to send, it also pauses once at
//!   8 KiB: those bytes leave before the role goes on, so the client
//!   hears of its first file before the role has produced a quarter
//!   megabyte (the machine resumes the role once they are taken).
//!
//! Waiting is cooperative: a future that cannot go on returns `Pending`,
//! and the [`super::machine::Machine`] polls it again when bytes move.
//! Before a read waits, the data buffered so far is framed for sending,
//! as rsync flushes its output before it blocks on input.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::Poll;
use std::time::{Duration, Instant};

#[path = "link_buffers.rs"]
mod buffers;
#[path = "link_driver.rs"]
mod driver;
#[path = "link_keepalive.rs"]
mod keepalive;
#[path = "link_lines.rs"]
mod lines;

use crate::flist::FlistError;
use crate::wire::{
    put_frame, CodecError, Deframer, Fail, MsgCode, PeerMessage, Reader, Step, WireError,
};

/// Data is framed in chunks of this size (rsync's 32 KiB io buffer).
const DATA_CHUNK: usize = 32 * 1024;
/// The outbox size above which [`Link::room`] waits. The role runs only
/// when the driver asks for output, so this is the batch the client
/// waits for while the role works: near the socket's own buffer, the
/// role fills the next batch while the client reads the last. At 256 KiB
/// a pull of 10,000 small files took 1.12× stock's wall; at 64 KiB 0.94×.
const WATERMARK: usize = 64 * 1024;
/// Output that goes out at once when the driver has nothing to write: a
/// role that starts producing after a pause pauses here once, so the
/// client has its first bytes while the role goes on.
const KICK_AT: usize = 8 * 1024;
/// Most unread input data held before the link stops taking more.
const INBOX_MAX: usize = 4 * 1024 * 1024;
/// Most out-of-band messages kept before the oldest are dropped.
const MAX_MESSAGES: usize = 64;

/// A decoder's error, and the error a read through the link returns for
/// it: the decoder's error, or how the link ended the read (the client's
/// exit message, the end of input, a broken frame) as a [`WireError`].
pub trait ReadError: Sized {
    /// What [`Link::read`] returns for a decoder failing with `Self`.
    type Out: From<Self> + From<WireError>;
}

impl ReadError for CodecError {
    type Out = WireError;
}

impl ReadError for FlistError {
    type Out = FlistError;
}

/// A role's connection; clones share it.
#[derive(Clone, Default)]
pub struct Link(Rc<RefCell<State>>);

#[derive(Default)]
struct State {
    /// Received bytes not yet split into data and messages, from
    /// `raw_pos`.
    raw: Vec<u8>,
    raw_pos: usize,
    deframer: Deframer,
    /// Received data; `pos` bytes of it are used.
    data: Vec<u8>,
    pos: usize,
    messages: VecDeque<PeerMessage>,
    /// `MSG_SUCCESS` indexes kept apart for `--remove-source-files`, at
    /// most `success_cap` of them (0: treated as other messages).
    successes: VecDeque<i32>,
    success_cap: usize,
    /// The client's exit message, once it arrived.
    peer_exit: Option<i32>,
    /// The input broke (a bad frame); later reads fail with it.
    broken: Option<CodecError>,
    eof: bool,
    /// Bytes ready for the wire.
    out: Vec<u8>,
    /// Where the data frame being filled starts in `out` (its header is
    /// written when it is closed): data goes into `out` once, framed in
    /// place.
    open: Option<usize>,
    mux_out: bool,
    /// Input is split into frames.
    mux_in: bool,
    bytes_in: u64,
    bytes_out: u64,
    /// The counts when the protocol's setup was over (`counted`).
    base: (u64, u64),
    idle_limit: Option<Duration>,
    /// The client's `--bwlimit`, in bytes a second.
    rate_limit: Option<u64>,
    /// The time the machine last passed in.
    now: Option<Instant>,
    /// The driver's clock, for a role that measures how long a step of
    /// its own took (rsync's file-list times); `now` without one.
    clock: Option<fn() -> Instant>,
    /// Our role's name in error lines: `sender`, `receiver`, `generator`.
    who: &'static str,
    /// The protocol the handshake settled, once known: it decides which
    /// message tags may go out (see [`Link::set_protocol`]).
    protocol: Option<u32>,
    /// An idle timeout ends the session quietly with this code (a
    /// refusal already told the client why).
    quiet_end: Option<i32>,
    /// The driver found nothing to send when it last asked: the next
    /// [`KICK_AT`] bytes go out before the role goes on.
    kick_armed: bool,
    /// The role paused for that; the machine resumes it once the driver
    /// has taken the bytes.
    kicked: bool,
    /// When keep-alives go out.
    keepalive: keepalive::KeepAlive,
}

/// The tag `code` travels as at `protocol` (see [`Link::set_protocol`]).
fn wire_tag(protocol: Option<u32>, code: MsgCode) -> MsgCode {
    match (protocol, code) {
        (Some(p), MsgCode::Error) if p < 30 => MsgCode::ErrorXfer,
        (Some(p), MsgCode::Warning) if p < 30 => MsgCode::Info,
        _ => code,
    }
}

impl Link {
    /// A link with nothing in it, unmultiplexed both ways.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes one value from the data received so far, waiting while
    /// the decoder needs more. `what` names the value in the error when
    /// the connection closes inside it. The error is the decoder's own
    /// error's [`ReadError::Out`]: a [`WireError`] for the integer
    /// decoders, a [`FlistError`] for the file list.
    pub async fn read<T, E: ReadError>(
        &self,
        what: &'static str,
        mut decode: impl FnMut(&mut Reader<'_>) -> Step<T, E>,
    ) -> Result<T, E::Out> {
        poll_fn(|_| self.try_read(what, &mut decode)).await
    }

    fn try_read<T, E: ReadError>(
        &self,
        what: &'static str,
        decode: &mut impl FnMut(&mut Reader<'_>) -> Step<T, E>,
    ) -> Poll<Result<T, E::Out>> {
        match self.try_decode(&mut *decode) {
            Ok(Some(v)) => return Poll::Ready(Ok(v)),
            Err(e) => return Poll::Ready(Err(e)),
            Ok(None) => {}
        }
        let mut s = self.0.borrow_mut();
        if let Some(code) = s.peer_exit {
            Poll::Ready(Err(WireError::PeerExit(code).into()))
        } else if let Some(e) = s.broken {
            Poll::Ready(Err(WireError::from(e).into()))
        } else if s.eof {
            Poll::Ready(Err(WireError::Truncated(what).into()))
        } else {
            s.frame_pending();
            Poll::Pending
        }
    }

    /// Runs a decoder on the data received so far without waiting:
    /// `None` if it is incomplete.
    pub fn try_decode<T, E: ReadError>(
        &self,
        decode: impl FnMut(&mut Reader<'_>) -> Step<T, E>,
    ) -> Result<Option<T>, E::Out> {
        let mut decode = decode;
        let mut s = self.0.borrow_mut();
        loop {
            let mut r = Reader::new(s.data.get(s.pos..).unwrap_or_default());
            match decode(&mut r) {
                Ok(v) => {
                    s.pos += r.used();
                    s.compact();
                    return Ok(Some(v));
                }
                Err(Fail::Invalid(e)) => return Err(e.into()),
                Err(Fail::Incomplete { .. }) if s.deframe_one() => {}
                Err(Fail::Incomplete { .. }) => return Ok(None),
            }
        }
    }

    /// Bytes received and not yet used, framed or not.
    pub fn unread(&self) -> usize {
        self.0.borrow().unread_total()
    }

    /// The time: the driver's clock if it gave one, else the time of the
    /// event being handled.
    pub fn now(&self) -> Option<Instant> {
        let s = self.0.borrow();
        s.clock.map(|c| c()).or(s.now)
    }

    /// Gives the role the driver's clock (tests give none, or a fake).
    pub fn set_clock(&self, clock: fn() -> Instant) {
        self.0.borrow_mut().clock = Some(clock);
    }

    /// Waits until the outbox is below its watermark. Once after an idle
    /// spell of the driver it also pauses at [`KICK_AT`] bytes, so that
    /// they leave before the role goes on.
    pub async fn room(&self) {
        poll_fn(|_| {
            let mut s = self.0.borrow_mut();
            if s.has_room() {
                Poll::Ready(())
            } else {
                s.wait_for_room();
                Poll::Pending
            }
        })
        .await
    }

    /// Hands what the role wrote so far to the driver and goes on once
    /// the driver has taken it (at once when there is nothing). A role
    /// that works long between small writes, as a delta search over a
    /// large file does, lets its output leave as it goes, so the client
    /// works alongside instead of after it.
    pub async fn hand_over(&self) {
        let mut asked = false;
        poll_fn(|_| {
            let mut s = self.0.borrow_mut();
            if asked {
                return if s.kicked {
                    Poll::Pending
                } else {
                    Poll::Ready(())
                };
            }
            s.frame_pending();
            if s.out.is_empty() {
                return Poll::Ready(());
            }
            asked = true;
            s.kicked = true;
            Poll::Pending
        })
        .await
    }

    /// Whether [`Self::room`] would go on at once.
    pub fn has_room(&self) -> bool {
        self.0.borrow().has_room()
    }

    /// Appends data to the stream.
    pub fn write(&self, bytes: &[u8]) {
        let mut s = self.0.borrow_mut();
        if !s.mux_out {
            s.out.extend_from_slice(bytes);
            return;
        }
        let mut rest = bytes;
        while !rest.is_empty() {
            let start = match s.open {
                Some(at) => at,
                None => {
                    let at = s.out.len();
                    s.out.extend_from_slice(&[0; 4]);
                    s.open = Some(at);
                    at
                }
            };
            let room = DATA_CHUNK.saturating_sub(s.out.len() - start - 4);
            let (now, later) = rest.split_at(room.min(rest.len()));
            s.out.extend_from_slice(now);
            rest = later;
            if s.out.len() - start - 4 >= DATA_CHUNK {
                s.frame_pending();
            }
        }
    }

    /// Sends an out-of-band message. Like rsync's `send_msg`, whose
    /// message buffer is written before the data buffer, it goes ahead
    /// of the data written since the last flush (the frame being
    /// filled), and after everything flushed before. Without multiplexing
    /// there is no channel for it and it is dropped, as rsync does before
    /// the handshake ends.
    pub fn msg(&self, code: MsgCode, payload: &[u8]) {
        let mut s = self.0.borrow_mut();
        if !s.mux_out {
            return;
        }
        let code = wire_tag(s.protocol, code);
        let mut frame = Vec::with_capacity(4 + payload.len());
        put_frame(&mut frame, code, payload);
        match s.open {
            Some(at) if at <= s.out.len() => {
                s.out.splice(at..at, frame.iter().copied());
                s.open = Some(at + frame.len());
            }
            _ => s.out.extend_from_slice(&frame),
        }
    }

    /// The protocol the handshake settled. Below 30 an error line goes
    /// out as `MSG_ERROR_XFER` and a warning as `MSG_INFO`, as rsync's
    /// `rwrite` sends them: a client before 3.0 reads no other text tag,
    /// and ends on an unknown one ("unexpected tag 3") without printing
    /// it. The exit message still goes at every protocol, unlike rsync's
    /// (31 and later): a 3.x client forced lower ends at once with our
    /// code rather than on the closed connection, and a 2.6 client, which
    /// reads it as an unexpected tag, has printed the line before it.
    pub fn set_protocol(&self, protocol: u32) {
        self.0.borrow_mut().protocol = Some(protocol);
    }

    /// The protocol the handshake settled, once known.
    pub fn protocol(&self) -> Option<u32> {
        self.0.borrow().protocol
    }

    /// Sends an int32 message such as `MSG_IO_ERROR` or `MSG_ERROR_EXIT`.
    pub fn msg_int(&self, code: MsgCode, v: i32) {
        self.msg(code, &v.to_le_bytes());
    }

    /// Frames the data written so far, so the driver can send it.
    pub fn flush(&self) {
        self.0.borrow_mut().frame_pending();
    }

    /// Frames our output from now on (rsync's `io_start_multiplex_out`).
    pub fn set_multiplexed_out(&self, on: bool) {
        let mut s = self.0.borrow_mut();
        s.frame_pending();
        s.mux_out = on;
    }

    /// Splits the client's input into frames from now on
    /// (`io_start_multiplex_in`, protocol 30 and later).
    pub fn set_multiplexed_in(&self, on: bool) {
        let mut s = self.0.borrow_mut();
        if on && !s.mux_in {
            // Input split off unframed but not yet used was read ahead of
            // the switch: it is raw input, to be split into frames now.
            let s = &mut *s;
            let unread = s.data.split_off(s.pos);
            s.data.clear();
            s.pos = 0;
            let rest = s.raw.split_off(s.raw_pos);
            s.raw = unread;
            s.raw.extend_from_slice(&rest);
            s.raw_pos = 0;
        }
        s.mux_in = on;
        s.deframer.set_multiplexed(on);
    }

    /// Sets the session's idle limit (the client's `--timeout`, or ours).
    pub fn set_idle_limit(&self, limit: Duration) {
        self.0.borrow_mut().idle_limit = Some(limit);
    }

    /// Limits what we send to `rate` bytes a second (the client's
    /// `--bwlimit`; `None` or 0: no limit). The machine keeps to it.
    pub fn set_rate_limit(&self, rate: Option<u64>) {
        self.0.borrow_mut().rate_limit = rate.filter(|&r| r > 0);
    }

    /// From now on an idle timeout ends the session quietly with `code`
    /// (a refusal that already told the client why).
    pub fn set_quiet_end(&self, code: i32) {
        self.0.borrow_mut().quiet_end = Some(code);
    }

    /// The code set by [`Self::set_quiet_end`].
    pub fn quiet_end(&self) -> Option<i32> {
        self.0.borrow().quiet_end
    }

    /// Keeps up to `cap` of the client's `MSG_SUCCESS` indexes for
    /// [`Self::take_successes`] (a sender under `--remove-source-files`:
    /// the client confirms each file it received, and a burst of them can
    /// come between two reads). Beyond `cap` they are dropped.
    pub fn keep_successes(&self, cap: usize) {
        self.0.borrow_mut().success_cap = cap;
    }

    /// The `MSG_SUCCESS` indexes received so far, oldest first.
    pub fn take_successes(&self) -> Vec<i32> {
        self.0.borrow_mut().successes.drain(..).collect()
    }

    /// Whether the client's input is split into frames.
    pub fn multiplexed_in(&self) -> bool {
        self.0.borrow().mux_in
    }

    /// The out-of-band messages received so far, oldest first.
    pub fn take_messages(&self) -> Vec<PeerMessage> {
        self.0.borrow_mut().messages.drain(..).collect()
    }

    /// Bytes received so far, framing included.
    pub fn bytes_in(&self) -> u64 {
        self.0.borrow().bytes_in
    }

    /// Bytes handed to the driver so far, framing included.
    pub fn bytes_out(&self) -> u64 {
        let s = self.0.borrow();
        s.bytes_out + s.out.len() as u64
    }

    /// Whether no more input can arrive: the client closed its side, sent
    /// its exit message, or broke the framing. A read that is still
    /// incomplete then fails at once.
    pub fn input_ended(&self) -> bool {
        let s = self.0.borrow();
        s.eof || s.peer_exit.is_some() || s.broken.is_some()
    }

    /// Waits until either more input has arrived or the outbox is below
    /// its watermark (or the input has ended): for a role with two things
    /// to do, one needing input and one needing room, which must not wait
    /// for one alone while the other could let the client go on. Before it
    /// waits, the data buffered so far is framed for sending.
    pub async fn wait_input_or_room(&self) {
        let mut seen = None;
        poll_fn(|_| {
            let mut s = self.0.borrow_mut();
            let start = *seen.get_or_insert(s.bytes_in);
            let ended = s.eof || s.peer_exit.is_some() || s.broken.is_some();
            if ended || s.bytes_in != start || s.has_room() {
                Poll::Ready(())
            } else {
                s.wait_for_room();
                Poll::Pending
            }
        })
        .await
    }
}

#[cfg(test)]
#[path = "link_tags_tests.rs"]
mod tags_tests;
