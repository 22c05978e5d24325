//! Refusals delivered inside the protocol, the way rsync's
//! `support/deny-rsync` does it, so that a stock client prints our reason
//! instead of "connection unexpectedly closed" or a complaint about the
//! protocol version (every client, protocols 27 to 32).
//!
//! The refusal speaks the client's own handshake (`compat.c`
//! `setup_protocol`): our version, the compat flags from protocol 30 and,
//! when the client's `-e` letters ask, the checksum and compression name
//! lists, then the seed; so a client whose options need protocol 30
//! (`-A`, `-X`) reads the refusal and not its own complaint about the
//! version. Then an error line and an exit message, multiplexed. What the
//! client reads at that moment depends on what it asked for
//! ([`Listener`]): a pushing client with a remote `--files-from` below
//! protocol 31 first reads the raw name list (`main.c client_run()`), and
//! a daemon client over a remote shell (`rsync --server --daemon`) reads
//! `@RSYNCD:` text lines (`clientserver.c start_inband_exchange()`).
//! Afterwards the session drops what the client still sends until it
//! closes or a few seconds pass, so that a client busy writing (a push
//! sending its file list) reads the reason before the connection closes.

use std::time::Duration;

use super::Listener;
use crate::proto::{Compression, HandshakeRequest};
use crate::role::machine::DRAIN;
use crate::role::{Link, Outcome};
use crate::wire::{MsgCode, WireError};

/// Delivers `msg` the way `listener` reads it; the session ends with
/// `code`. A refusal the client does not take is told to the operator.
pub(super) async fn deliver(link: &Link, listener: &Listener, msg: &str, code: i32) -> Outcome {
    let sent = match listener {
        Listener::Stderr => false,
        Listener::Daemon => {
            link.write(format!("@RSYNCD: 31.0\n@ERROR: {msg}\n").as_bytes());
            link.flush();
            true
        }
        Listener::Protocol {
            raw_files_from,
            handshake,
        } => protocol(link, handshake, msg, code, *raw_files_from).await,
    };
    let linger = *listener != Listener::Stderr;
    if linger {
        cap_limit(link, DRAIN);
    }
    Outcome {
        code,
        stderr: if sent {
            Vec::new()
        } else {
            vec![msg.to_string()]
        },
        linger,
        ..Outcome::default()
    }
}

/// Lowers the idle limit to at most `cap`.
fn cap_limit(link: &Link, cap: Duration) {
    let limit = link.idle_limit().map_or(cap, |l| l.min(cap));
    link.set_idle_limit(limit);
}

/// The request as the refusal's handshake uses it: a compression name we
/// do not know sends no list either way, so it stands as `none` rather
/// than failing the handshake that carries the reason.
fn tolerant(req: &HandshakeRequest) -> HandshakeRequest {
    let mut req = req.clone();
    if let Some(c) = &req.compress_choice {
        if !c.eq_ignore_ascii_case("auto") && Compression::from_name(c).is_none() {
            req.compress_choice = Some("none".into());
        }
    }
    req
}

/// The refusal for an rsync client: whether the client was there to
/// read it.
async fn protocol(
    link: &Link,
    req: &HandshakeRequest,
    msg: &str,
    code: i32,
    raw_files_from: bool,
) -> bool {
    let req = tolerant(req);
    let Ok(hs) = super::start::refusal_handshake(link, &req).await else {
        return false;
    };
    // The name lists the client sends after our compat flags were not
    // waited for; they are read (and dropped) once the reason is out.
    let negotiate = hs
        .compat
        .contains(crate::proto::CompatFlags::VARINT_FLIST_FLAGS);
    let lists = usize::from(negotiate && req.checksum_choice.is_none())
        + usize::from(negotiate && req.compress && req.compress_choice.is_none());
    if raw_files_from && hs.protocol < 31 {
        // An empty name ends the list (io.c `read_line()` with
        // RL_EOL_NULLS); the client then sends an empty file list and
        // reads multiplexed messages again. From protocol 31 the list
        // comes multiplexed, and our messages come first.
        link.write(b"\0");
    }
    link.set_protocol(hs.protocol);
    link.set_multiplexed_out(true);
    link.msg(
        MsgCode::Error,
        format!("rsync: [server] {msg}\n").as_bytes(),
    );
    link.msg_int(MsgCode::ErrorExit, code);
    link.flush();
    // The reason is out: from here on the client gets a few seconds, and
    // their end is no error.
    cap_limit(link, DRAIN);
    link.set_quiet_end(code);
    if hs.protocol >= 31 {
        exit_exchange(link, lists).await;
    }
    true
}

/// From protocol 31 a client that reads our exit message answers with its
/// own and waits for our empty one before it goes (`io.c read_a_msg()`,
/// `cleanup.c`): without it the client's receiver finds the pipe to its
/// generator closed and adds a "Broken pipe" line under our reason. What
/// the client sends meanwhile is dropped.
async fn exit_exchange(link: &Link, lists: usize) {
    for _ in 0..lists {
        let list = link.read("the client's name list", |r| {
            r.vstring(crate::proto::MAX_NSTR, "a name list").map(|_| ())
        });
        if list.await.is_err() {
            return;
        }
    }
    link.set_multiplexed_in(true);
    let drop_all =
        |r: &mut crate::wire::Reader<'_>| -> crate::wire::Step<(), crate::wire::CodecError> {
            let n = r.rest().len();
            if n == 0 {
                return Err(crate::wire::Fail::Incomplete { needed: 1 });
            }
            r.take(n).map(|_| ())
        };
    loop {
        match link.read("the client's exit message", drop_all).await {
            Ok(()) => {}
            Err(WireError::PeerExit(_)) => {
                link.msg(MsgCode::ErrorExit, &[]);
                link.flush();
                return;
            }
            Err(_) => return,
        }
    }
}
