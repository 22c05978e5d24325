//! Protocol set-up: version exchange, compat flags and name negotiation.
//!
//! Mirrors `setup_protocol` and `negotiate_the_strings` in rsync's
//! `compat.c`. Both sides send a 32-bit version and use the lower one; we
//! speak 27 to 32. From protocol 30 the server decides the compat flags from
//! the client's `-e.` capability letters and sends them as a varint (a byte
//! for the pre-release `V` letter). With the `v` letter both sides then
//! exchange checksum and compression name lists, and each picks its own
//! most preferred name the peer also offers. Last the server sends the
//! 32-bit checksum seed.
//!
//! [`ServerHandshake`] is the handshake without I/O; the session runs it
//! over its link (`session::start`). The tests keep a blocking bridge
//! over it, `server_handshake`, to compare it with the stream function
//! it replaced.

mod compat;
mod handshake;
mod negotiate;

pub use compat::{Capabilities, CompatFlags};
pub use handshake::ServerHandshake;
pub use negotiate::{choose, Compression, NameList, CHECKSUM_NAMES, COMPRESS_NAMES};

#[cfg(test)]
use std::io::{Read, Write};

use crate::wire::WireError;

/// The newest protocol we speak.
pub const PROTOCOL_MAX: u32 = 32;
/// The oldest protocol we speak (OpenBSD's openrsync).
pub const PROTOCOL_MIN: u32 = 27;
/// Longest negotiation string accepted (`MAX_NSTR_STRLEN`).
pub const MAX_NSTR: usize = 1024;

/// What the client asked for, as far as the handshake is concerned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HandshakeRequest {
    /// Letters after `-e.`; `None` for clients that sent no `-e`.
    pub capabilities: Option<String>,
    /// `--checksum-choice`, if given.
    pub checksum_choice: Option<String>,
    /// `-z` was given.
    pub compress: bool,
    /// `--compress-choice`, `--new-compress` (zlibx) or `--old-compress` (zlib).
    pub compress_choice: Option<String>,
    /// `--checksum-seed`, if given.
    pub checksum_seed: Option<u32>,
    /// Our side can run this session with incremental recursion
    /// (`set_allow_inc_recurse`); it is used when the client also sent
    /// `i`.
    pub allow_inc_recurse: bool,
}

/// The outcome of the handshake: everything later stages depend on.
#[derive(Debug, Clone)]
pub struct Negotiated {
    /// The protocol version in use.
    pub protocol: u32,
    /// The compat flags we sent (empty before protocol 30).
    pub compat: CompatFlags,
    /// The client's capability letters.
    pub caps: Capabilities,
    /// Transfer checksum name; `None` means the protocol's implied default.
    pub xfer_checksum: Option<String>,
    /// Whole-file (`-c`) checksum name; `None` as above.
    pub file_checksum: Option<String>,
    /// The compression in use.
    pub compression: Compression,
    /// The checksum seed.
    pub seed: i32,
}

/// Why the handshake failed.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    /// The wire broke or carried garbage.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// Writing failed.
    #[error("write failed: {0}")]
    Io(#[from] std::io::Error),
    /// The client speaks a protocol we do not.
    #[error("protocol version {0} is not supported by this server (it speaks {PROTOCOL_MIN} to {PROTOCOL_MAX})")]
    Version(i32),
    /// No common checksum or compression.
    #[error("{0}")]
    Negotiation(String),
}

/// Runs the server side of the handshake on a raw (unmultiplexed) stream
/// (tests only): the blocking bridge over [`ServerHandshake`]. Each of its transmits is
/// written and flushed before the next read, and each read takes exactly
/// the bytes the handshake still needs, so nothing the session reads
/// next is taken here.
#[cfg(test)]
pub fn server_handshake(
    r: &mut impl Read,
    w: &mut impl Write,
    req: &HandshakeRequest,
) -> Result<Negotiated, HandshakeError> {
    let seed = req.checksum_seed.map_or_else(default_seed, |s| s as i32);
    let mut hs = ServerHandshake::new(req, seed);
    let mut held = Vec::new();
    loop {
        let step = hs.handle_input(&held);
        // What was queued before a failure goes out first, as it did
        // when the writes came before the reads that failed.
        while let Some(out) = hs.poll_transmit() {
            w.write_all(&out)?;
            w.flush()?;
        }
        let (used, session) = step?;
        held.drain(..used.min(held.len()));
        if let Some(session) = session {
            return Ok(session);
        }
        let Some(what) = hs.waiting_for() else {
            return Err(hs.handle_eof());
        };
        let len = held.len();
        held.resize(len + hs.needed(), 0);
        r.read_exact(held.get_mut(len..).unwrap_or_default())
            .map_err(|e| WireError::from_io(&e, what))?;
    }
}

/// Splits `--checksum-choice=XFER[,FILE]`; `auto` means the implied default.
fn split_choice(choice: Option<&str>) -> (Option<String>, Option<String>) {
    let norm = |s: &str| (!s.eq_ignore_ascii_case("auto")).then(|| s.to_ascii_lowercase());
    match choice {
        None => (None, None),
        Some(c) => match c.split_once(',') {
            Some((x, f)) => (norm(x), norm(f)),
            None => (norm(c), norm(c)),
        },
    }
}

/// rsync's default seed: the time mixed with the process id.
#[cfg(test)]
fn default_seed() -> i32 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0) as i32;
    t ^ ((std::process::id() as i32) << 6)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
