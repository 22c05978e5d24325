//! The start of an authorised session: the handshake (`compat.c`
//! `setup_protocol`, run by [`ServerHandshake`] over the link), then
//! multiplexing (`io_start_multiplex_out` always, `_in` from protocol
//! 30), then the transfer's idle limit (rsync's `--timeout`, else ours).

use std::time::Duration;

use crate::cli::Options;
use crate::proto::{HandshakeError, HandshakeRequest, Negotiated, ServerHandshake};
use crate::role::link::ReadError;
use crate::role::{Link, Outcome};
use crate::wire::Fail;

/// The idle limit after the handshake when the client sets no
/// `--timeout`.
pub const DEFAULT_IDLE: Duration = Duration::from_secs(3600);

impl ReadError for HandshakeError {
    type Out = HandshakeError;
}

/// Handshake and multiplexing for either role. A failed handshake is
/// told on stderr (multiplexing is not on yet: it is the only channel
/// the client, and under sshd the operator's log, reads now).
pub(super) async fn start(
    link: &Link,
    o: &Options,
    seed: i32,
    log_failure: Option<&str>,
) -> Result<Negotiated, Outcome> {
    let hs = match handshake(link, &request(o), seed).await {
        Ok(hs) => hs,
        Err(e) => {
            let line = e.to_string();
            return Err(Outcome {
                code: crate::error::exit_code(e),
                stderr: vec![line],
                ..Outcome::default()
            });
        }
    };
    link.set_protocol(hs.protocol);
    link.set_multiplexed_out(true);
    // A sender also reads framed input below protocol 30 when the client
    // confirms each file (`need_messages_from_generator`).
    link.set_multiplexed_in(hs.protocol >= 30 || (o.sender && o.remove_source_files));
    super::set_limit(link, o.timeout, DEFAULT_IDLE);
    if let Some(why) = log_failure {
        // rsync says this from `[server]`, before it knows its role; it
        // is not a transfer error and the session goes on.
        link.error_going_on(&format!("rsync: [server] {why}"));
        link.info("Ignoring \"log file\" setting.");
    }
    Ok(hs)
}

/// What the handshake needs from the client's options.
pub(super) fn request(o: &Options) -> HandshakeRequest {
    let compress_choice = o
        .compress_choice
        .clone()
        .or_else(|| o.new_compress.then(|| "zlibx".to_string()))
        .or_else(|| o.old_compress.then(|| "zlib".to_string()));
    HandshakeRequest {
        capabilities: o.capabilities.clone(),
        checksum_choice: o.checksum_choice.clone(),
        compress: o.compress > 0 || compress_choice.is_some(),
        compress_choice,
        checksum_seed: o.checksum_seed,
        allow_inc_recurse: allow_inc_recurse(o),
    }
}

/// Whether this session can run with incremental recursion (rsync's
/// `set_allow_inc_recurse`): it needs `-r`, and a receiver declines it
/// when deletions or updates must wait for the whole list
/// (`--delete-before`, `--delete-after`, `--delay-updates`, `-m`).
/// [`SENDER_INC_RECURSE`] and [`RECEIVER_INC_RECURSE`] say which of our
/// roles implement it.
fn allow_inc_recurse(o: &Options) -> bool {
    if !o.recursive {
        return false;
    }
    if o.sender {
        return SENDER_INC_RECURSE;
    }
    RECEIVER_INC_RECURSE
        && !(o.delete_before || o.delete_after || o.delay_updates || o.prune_empty_dirs)
}

/// Our sender sends incremental sub-lists.
pub const SENDER_INC_RECURSE: bool = true;
/// Our receiver accepts incremental sub-lists.
pub const RECEIVER_INC_RECURSE: bool = true;

/// Runs [`ServerHandshake`] over the link: each of its transmits goes
/// out before the link waits for the client's next value.
pub async fn handshake(
    link: &Link,
    req: &HandshakeRequest,
    seed: i32,
) -> Result<Negotiated, HandshakeError> {
    run_handshake(link, ServerHandshake::new(req, seed)).await
}

/// The handshake a refusal speaks: only the client's version is read.
pub(super) async fn refusal_handshake(
    link: &Link,
    req: &HandshakeRequest,
) -> Result<Negotiated, HandshakeError> {
    run_handshake(link, ServerHandshake::for_refusal(req, 0)).await
}

async fn run_handshake(link: &Link, mut hs: ServerHandshake) -> Result<Negotiated, HandshakeError> {
    loop {
        while let Some(out) = hs.poll_transmit() {
            link.write(&out);
        }
        link.flush();
        let what = hs.waiting_for().unwrap_or("the handshake");
        let step = link
            .read(what, |r| {
                let (used, session) = hs.handle_input(r.rest()).map_err(Fail::Invalid)?;
                if used == 0 && session.is_none() && !hs.is_over() {
                    return Err(Fail::Incomplete {
                        needed: hs.needed(),
                    });
                }
                r.take(used)
                    .map_err(|f| f.map(|e| HandshakeError::Wire(e.into())))?;
                Ok(session)
            })
            .await;
        if step.is_err() || matches!(step, Ok(Some(_))) || hs.is_over() {
            // What was queued before the end or a failure goes out too.
            while let Some(out) = hs.poll_transmit() {
                link.write(&out);
            }
            link.flush();
        }
        match step? {
            Some(session) => return Ok(session),
            None if hs.is_over() => return Err(hs.handle_eof()),
            None => {}
        }
    }
}
