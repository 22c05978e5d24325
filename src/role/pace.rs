//! `--bwlimit`: the pace of what we send (`sleep_for_bwlimit` and
//! `bwlimit_writemax` in rsync's `io.c`; all protocols 27 to 32).
//!
//! The client passes its `--bwlimit=RATE` on to the server, and stock
//! rsync's server keeps to it in everything it writes: on a pull that is
//! the whole transfer. rsync writes at most an eighth of a second's
//! worth at a time (at least 512 bytes), counts what it wrote against the
//! time that passed, and once a tenth of a second or more is owed it
//! sleeps that long. The [`Pacer`] keeps the same account without
//! sleeping: the machine hands the driver no more than
//! [`Pacer::allowance`], and while a pause is due it names its end as a
//! deadline ([`Pacer::resume_at`]). Time only comes in as an argument.

use std::time::{Duration, Instant};

/// A debt at least this long is paid with a pause.
const PAUSE_AT: Duration = Duration::from_millis(100);
/// The smallest write under a limit (rsync's floor for
/// `bwlimit_writemax`).
const MIN_WRITE: u64 = 512;

/// The account of bytes sent under a rate limit.
#[derive(Debug, Default)]
pub(crate) struct Pacer {
    /// Bytes sent and not yet paid for by time passing.
    owed: u64,
    /// When `owed` was last brought up to date.
    since: Option<Instant>,
    /// The end of the pause under way.
    pause_until: Option<Instant>,
}

impl Pacer {
    /// How many bytes may leave at `now` under `rate` bytes a second
    /// (`None`: no limit): none during a pause, else an eighth of a
    /// second's worth.
    pub(crate) fn allowance(&self, rate: Option<u64>, now: Instant) -> usize {
        let Some(rate) = rate.filter(|&r| r > 0) else {
            return usize::MAX;
        };
        if self.pause_until.is_some_and(|t| now < t) {
            return 0;
        }
        usize::try_from((rate / 8).max(MIN_WRITE)).unwrap_or(usize::MAX)
    }

    /// Counts `n` bytes sent at `now`; a debt of a tenth of a second or
    /// more starts a pause as long as the debt.
    pub(crate) fn sent(&mut self, rate: Option<u64>, n: usize, now: Instant) {
        let Some(rate) = rate.filter(|&r| r > 0) else {
            return;
        };
        if n == 0 {
            return;
        }
        if let Some(since) = self.since {
            let paid =
                now.saturating_duration_since(since).as_micros() * u128::from(rate) / 1_000_000;
            self.owed = self
                .owed
                .saturating_sub(u64::try_from(paid).unwrap_or(u64::MAX));
        }
        self.owed = self.owed.saturating_add(n as u64);
        self.since = Some(now);
        let owed_for = Duration::from_micros(
            u64::try_from(u128::from(self.owed) * 1_000_000 / u128::from(rate)).unwrap_or(u64::MAX),
        );
        if owed_for >= PAUSE_AT {
            // The pause pays the whole debt, as rsync's sleep does.
            let until = now + owed_for;
            self.pause_until = Some(until);
            self.since = Some(until);
            self.owed = 0;
        }
    }

    /// The end of the pause under way, if one is.
    pub(crate) fn resume_at(&self) -> Option<Instant> {
        self.pause_until
    }

    /// Ends the pause once its time has come.
    pub(crate) fn wake(&mut self, now: Instant) {
        if self.pause_until.is_some_and(|t| now >= t) {
            self.pause_until = None;
        }
    }
}

#[cfg(test)]
#[path = "pace_tests.rs"]
mod tests;
