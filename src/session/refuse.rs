//! Refusals delivered inside the protocol, the way rsync's
//! `support/deny-rsync` does it, so that a stock client prints our reason
//! instead of "connection unexpectedly closed" (every client, protocols
//! 27 to 32).
//!
//! We announce protocol 29 (so no compat flags or name lists follow),
//! read the client's version, send a zero seed, then an error line and an
//! exit message. What the client reads at that moment depends on what it
//! asked for ([`Listener`]): a pushing client with a remote
//! `--files-from` first reads the raw name list (`main.c client_run()`,
//! `flist.c send_file_list()` below protocol 31), and a daemon client over
//! a remote shell (`rsync --server --daemon`) reads `@RSYNCD:` text lines
//! (`clientserver.c start_inband_exchange()`). Afterwards the session
//! drains what the client still sends for a few seconds.

use std::time::Duration;

use super::Listener;
use crate::role::machine::DRAIN;
use crate::role::{Link, Outcome};
use crate::wire::{put_i32, MsgCode};

/// Delivers `msg` the way `listener` reads it; the session ends with
/// `code`. A refusal the client does not take is told to the operator.
pub(super) async fn deliver(link: &Link, listener: Listener, msg: &str, code: i32) -> Outcome {
    let sent = match listener {
        Listener::Stderr => false,
        Listener::Daemon => {
            link.write(format!("@RSYNCD: 31.0\n@ERROR: {msg}\n").as_bytes());
            link.flush();
            true
        }
        Listener::Protocol { raw_files_from } => protocol(link, msg, code, raw_files_from).await,
    };
    if listener != Listener::Stderr {
        cap_limit(link, DRAIN);
    }
    Outcome {
        code,
        stderr: if sent {
            Vec::new()
        } else {
            vec![msg.to_string()]
        },
        linger: listener != Listener::Stderr,
        ..Outcome::default()
    }
}

/// Lowers the idle limit to at most `cap`.
fn cap_limit(link: &Link, cap: Duration) {
    let limit = link.idle_limit().map_or(cap, |l| l.min(cap));
    link.set_idle_limit(limit);
}

/// The refusal for an rsync client: whether the client was there to
/// read it.
async fn protocol(link: &Link, msg: &str, code: i32, raw_files_from: bool) -> bool {
    let mut out = Vec::with_capacity(4);
    put_i32(&mut out, 29);
    link.write(&out);
    if link
        .read("the protocol version", |r| r.i32())
        .await
        .is_err()
    {
        return false;
    }
    link.write(&0i32.to_le_bytes());
    if raw_files_from {
        // An empty name ends the list (io.c `read_line()` with
        // RL_EOL_NULLS); the client then sends an empty file list and
        // reads multiplexed messages again.
        link.write(b"\0");
    }
    link.set_multiplexed_out(true);
    link.msg(
        MsgCode::Error,
        format!("rsync: [server] {msg}\n").as_bytes(),
    );
    link.msg_int(MsgCode::ErrorExit, code);
    link.flush();
    true
}
