//! The server side of the handshake as a state machine without I/O
//! (rsync's `compat.c` `setup_protocol` and `negotiate_the_strings`, for
//! protocols 27 to 32), with quinn-proto's outside: the client's bytes go
//! in through [`ServerHandshake::handle_input`], ours come out of
//! [`ServerHandshake::poll_transmit`], and nothing inside reads a stream,
//! writes one or reads a clock. The seed used when the client sets none
//! (rsync mixes the time with the process id) comes in as an argument.
//!
//! The order of events is the stream version's:
//! 1. we send our version, and wait for the client's;
//! 2. we send the compat flags (protocol 30 and later) and, with the `v`
//!    capability, our checksum and compression name lists, and wait for
//!    the client's lists;
//! 3. we send the checksum seed, and the handshake is over.
//!
//! Each step's bytes are one transmit, which the stream bridge writes
//! and then flushes before it waits for the client, so the bytes on the
//! wire and the points where they are flushed are the same as before the
//! handshake lost its streams. A transmit may be empty (step 2 before
//! protocol 30 without lists): it is still a flush point.

use std::collections::VecDeque;

use super::{
    choose, split_choice, Capabilities, CompatFlags, Compression, HandshakeError, HandshakeRequest,
    Negotiated, CHECKSUM_NAMES, COMPRESS_NAMES, MAX_NSTR, PROTOCOL_MAX, PROTOCOL_MIN,
};
use crate::wire::{put_i32, put_varint, put_vstring, Fail, Reader, Step, WireError};

/// What the handshake waits for.
#[derive(Debug)]
enum State {
    /// The client's 32-bit version.
    Version,
    /// The client's checksum list.
    ChecksumList(Agreed),
    /// The client's compression list, after the checksum choice.
    CompressList(Agreed, Checksums),
    /// Over: the session was returned, or the handshake failed.
    Over,
}

/// What the version exchange settled.
#[derive(Debug, Clone)]
struct Agreed {
    protocol: u32,
    compat: CompatFlags,
    caps: Capabilities,
    want_comp_list: bool,
}

/// The transfer and whole-file checksum names.
type Checksums = (Option<String>, Option<String>);

/// The server side of one handshake.
#[derive(Debug)]
pub struct ServerHandshake {
    req: HandshakeRequest,
    seed: i32,
    state: State,
    transmit: VecDeque<Vec<u8>>,
    needed: usize,
    /// A refusal's handshake: after the version nothing more is read (the
    /// client's lists are never needed), so a client that goes silent
    /// still gets the reason.
    write_only: bool,
}

impl ServerHandshake {
    /// A handshake for `req`, with our version ready to send. The seed
    /// is the client's `--checksum-seed`, or `default_seed` without one.
    pub fn new(req: &HandshakeRequest, default_seed: i32) -> Self {
        let mut out = Vec::new();
        put_i32(&mut out, PROTOCOL_MAX as i32);
        Self {
            req: req.clone(),
            seed: req.checksum_seed.map(|s| s as i32).unwrap_or(default_seed),
            state: State::Version,
            transmit: VecDeque::from([out]),
            needed: 4,
            write_only: false,
        }
    }

    /// The handshake a refusal speaks: what `new` sends, the client's
    /// version the only thing read. The lists the client sends are left
    /// unread; the choices in the result are the defaults.
    pub fn for_refusal(req: &HandshakeRequest, default_seed: i32) -> Self {
        Self {
            write_only: true,
            ..Self::new(req, default_seed)
        }
    }

    /// The next bytes to send, which the caller sends and flushes before
    /// it waits for more input; `None` when nothing waits. Bytes queued
    /// before a failure are still given, in order.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.pop_front()
    }

    /// Takes the client's bytes received so far (those a previous call
    /// did not use, followed by any new ones): how many it used, and the
    /// session once the handshake is over. Bytes after the handshake are
    /// not used; they belong to the session. Once the handshake is over,
    /// or has failed, nothing more is used.
    pub fn handle_input(
        &mut self,
        bytes: &[u8],
    ) -> Result<(usize, Option<Negotiated>), HandshakeError> {
        let mut r = Reader::new(bytes);
        loop {
            let before = r.used();
            match self.step(&mut r) {
                Ok(Some(session)) => return Ok((r.used(), Some(session))),
                Ok(None) if matches!(self.state, State::Over) => return Ok((r.used(), None)),
                Ok(None) => {}
                Err(Fail::Incomplete { needed }) => {
                    self.needed = needed.max(1);
                    return Ok((before, None));
                }
                Err(Fail::Invalid(e)) => {
                    self.state = State::Over;
                    return Err(e);
                }
            }
        }
    }

    /// The input ended: the error, naming what the handshake waited for.
    pub fn handle_eof(&mut self) -> HandshakeError {
        let what = self.waiting_for().unwrap_or("the handshake");
        self.state = State::Over;
        HandshakeError::Wire(WireError::Truncated(what))
    }

    /// What the handshake waits for, if it is not over.
    pub fn waiting_for(&self) -> Option<&'static str> {
        match self.state {
            State::Version => Some("the protocol version"),
            State::ChecksumList(_) => Some("the checksum list"),
            State::CompressList(..) => Some("the compression list"),
            State::Over => None,
        }
    }

    /// A lower bound on the bytes the next value still needs, after
    /// [`Self::handle_input`] said it needs more: exactly what a blocking
    /// caller may read without taking a byte of what follows.
    pub fn needed(&self) -> usize {
        self.needed
    }

    /// Whether the handshake is over (done or failed).
    pub fn is_over(&self) -> bool {
        matches!(self.state, State::Over)
    }

    /// One value from the client, and what it leads to. The state
    /// changes only when a value was used.
    fn step(&mut self, r: &mut Reader<'_>) -> Step<Option<Negotiated>, HandshakeError> {
        match &self.state {
            State::Version => {
                let remote = r.i32().map_err(lift)?;
                let agreed = self.agree(remote)?;
                self.after_version(agreed)
            }
            State::ChecksumList(agreed) => {
                let theirs = r.vstring(MAX_NSTR, "the checksum list").map_err(lift)?;
                let pick = choose(CHECKSUM_NAMES, &theirs).ok_or_else(|| {
                    negotiation(format!(
                        "Failed to negotiate a checksum choice (client offered: {})",
                        String::from_utf8_lossy(&theirs)
                    ))
                })?;
                let agreed = agreed.clone();
                let sums = (Some(pick.to_string()), Some(pick.to_string()));
                self.after_checksums(agreed, sums)
            }
            State::CompressList(agreed, sums) => {
                let theirs = r.vstring(MAX_NSTR, "the compression list").map_err(lift)?;
                let pick = choose(COMPRESS_NAMES, &theirs).ok_or_else(|| {
                    negotiation(format!(
                        "Failed to negotiate a compress choice (client offered: {})",
                        String::from_utf8_lossy(&theirs)
                    ))
                })?;
                let compression = Compression::from_name(pick).unwrap_or(Compression::None);
                let (agreed, sums) = (agreed.clone(), sums.clone());
                Ok(Some(self.finish(agreed, sums, compression)))
            }
            State::Over => Ok(None),
        }
    }

    /// Checks the client's version and settles the compat flags.
    fn agree(&self, remote: i32) -> Result<Agreed, HandshakeError> {
        if remote < PROTOCOL_MIN as i32 {
            return Err(HandshakeError::Version(remote));
        }
        let protocol = (remote as u32).min(PROTOCOL_MAX);
        let caps = Capabilities::parse(self.req.capabilities.as_deref().unwrap_or(""));
        let compat = CompatFlags::for_client(protocol, &caps, self.req.allow_inc_recurse);
        let negotiate = compat.contains(CompatFlags::VARINT_FLIST_FLAGS);
        Ok(Agreed {
            protocol,
            compat,
            caps,
            want_comp_list: negotiate && self.req.compress && self.req.compress_choice.is_none(),
        })
    }

    /// Queues the compat flags and our lists; waits for the client's.
    fn after_version(&mut self, agreed: Agreed) -> Step<Option<Negotiated>, HandshakeError> {
        let negotiate = agreed.compat.contains(CompatFlags::VARINT_FLIST_FLAGS);
        let want_csum_list = negotiate && self.req.checksum_choice.is_none();
        let mut out = Vec::new();
        if agreed.protocol >= 30 {
            if agreed.caps.legacy_varint_byte() {
                out.push(agreed.compat.bits() as u8);
            } else {
                put_varint(&mut out, agreed.compat.bits() as i32);
            }
        }
        if want_csum_list {
            put_vstring(&mut out, CHECKSUM_NAMES.join(" ").as_bytes()).map_err(wire)?;
        }
        if agreed.want_comp_list {
            put_vstring(&mut out, COMPRESS_NAMES.join(" ").as_bytes()).map_err(wire)?;
        }
        self.transmit.push_back(out);
        if self.write_only {
            return Ok(Some(self.finish(agreed, (None, None), Compression::None)));
        }
        if want_csum_list {
            self.state = State::ChecksumList(agreed);
            return Ok(None);
        }
        let sums = split_choice(self.req.checksum_choice.as_deref());
        self.after_checksums(agreed, sums)
    }

    /// Waits for the client's compression list, or settles without it.
    fn after_checksums(
        &mut self,
        agreed: Agreed,
        sums: Checksums,
    ) -> Step<Option<Negotiated>, HandshakeError> {
        if agreed.want_comp_list {
            self.state = State::CompressList(agreed, sums);
            return Ok(None);
        }
        let compression =
            Compression::from_request(self.req.compress, self.req.compress_choice.as_deref())
                .map_err(negotiation)?;
        Ok(Some(self.finish(agreed, sums, compression)))
    }

    /// Queues the seed; the handshake is over.
    fn finish(&mut self, agreed: Agreed, sums: Checksums, compression: Compression) -> Negotiated {
        let mut out = Vec::new();
        put_i32(&mut out, self.seed);
        self.transmit.push_back(out);
        self.state = State::Over;
        Negotiated {
            protocol: agreed.protocol,
            compat: agreed.compat,
            caps: agreed.caps,
            xfer_checksum: sums.0,
            file_checksum: sums.1,
            compression,
            seed: self.seed,
        }
    }
}

/// A codec failure as a handshake failure.
fn lift(f: Fail) -> Fail<HandshakeError> {
    match f {
        Fail::Incomplete { needed } => Fail::Incomplete { needed },
        Fail::Invalid(e) => Fail::Invalid(HandshakeError::Wire(e.into())),
    }
}

fn wire(e: crate::wire::CodecError) -> Fail<HandshakeError> {
    Fail::Invalid(HandshakeError::Wire(e.into()))
}

fn negotiation(msg: String) -> Fail<HandshakeError> {
    Fail::Invalid(HandshakeError::Negotiation(msg))
}

impl From<HandshakeError> for Fail<HandshakeError> {
    fn from(e: HandshakeError) -> Self {
        Fail::Invalid(e)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#[path = "handshake_tests.rs"]
mod tests;
