//! Keep-alives (rsync's `io.c` `maybe_send_keepalive`, all protocols 27
//! to 32): when the client gave `--timeout`, a role that works for a
//! while without sending anything (the generator passing over unchanged
//! files, its deletion passes) sends an empty `MSG_DATA` frame once half
//! the timeout has gone by without output, so that the client does not
//! take the quiet for a dead server. rsync 2.6 reads the empty frame as
//! well as 3.x does; nothing is sent without `--timeout`, as with rsync.
//! The sender calls it between the steps of its walk (each directory,
//! each batch of names), between `-c` sums, and in answer to a
//! protocol-29 client's keep-alive (`read_ndx_and_attrs`). Unlike rsync,
//! none is sent while a role only waits for the client (see
//! `docs/security/deadlines.md`).

use std::time::{Duration, Instant};

use super::Link;
use crate::wire::{frame_head, MsgCode};

/// The keep-alive state.
#[derive(Default)]
pub(super) struct KeepAlive {
    /// Half the client's `--timeout` (rsync's `allowed_lull`, which it
    /// compares in whole seconds, so that its keep-alives come sooner
    /// than the client's one-second checks); `None` without one.
    lull: Option<Duration>,
    /// When output last left (or a keep-alive was queued).
    last_sent: Option<Instant>,
}

impl Link {
    /// The client's `--timeout` in seconds: keep-alives go out after half
    /// of it without output.
    pub fn set_keepalive(&self, timeout_secs: u32) {
        let lull = Duration::from_millis(u64::from(timeout_secs) * 500);
        self.0.borrow_mut().keepalive.lull = Some(lull);
    }

    /// The lull after which a keep-alive goes out, if any.
    #[cfg(test)]
    pub fn keepalive_lull(&self) -> Option<Duration> {
        self.0.borrow().keepalive.lull
    }

    /// Output left at `now` (the machine says so).
    pub fn note_sent(&self, now: Instant) {
        self.0.borrow_mut().keepalive.last_sent = Some(now);
    }

    /// For a role's long loops, called once per step: once the lull has
    /// passed without output, sends a keep-alive and waits until the
    /// driver has taken it. A look at the clock is all it costs a step.
    pub async fn keep_alive(&self) {
        if self.keepalive_due() {
            self.hand_over().await;
        }
    }

    /// Queues a keep-alive if one is due; whether it did.
    fn keepalive_due(&self) -> bool {
        let mut s = self.0.borrow_mut();
        let Some(lull) = s.keepalive.lull else {
            return false;
        };
        if !s.mux_out {
            return false;
        }
        let Some(now) = s.clock.map(|c| c()).or(s.now) else {
            return false;
        };
        let Some(last) = s.keepalive.last_sent else {
            // The first look starts the count.
            s.keepalive.last_sent = Some(now);
            return false;
        };
        if now.saturating_duration_since(last) < lull {
            return false;
        }
        s.frame_pending();
        s.out.extend_from_slice(&frame_head(MsgCode::Data, 0));
        s.keepalive.last_sent = Some(now);
        true
    }
}

#[cfg(test)]
#[path = "keepalive_tests.rs"]
mod tests;
