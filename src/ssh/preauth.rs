//! Limits on connections that have not authenticated yet, the way
//! OpenSSH's sshd limits them (`should_drop_connection` and
//! `drop_connection` in `sshd.c`, `srclimit.c`):
//!
//! - `MaxStartups start:rate:full`: below `start` unauthenticated
//!   connections every new one is taken; from `start` on, a new one is
//!   dropped with a probability rising linearly from `rate`% to 100% at
//!   `full` (random early drop), so a flood cannot hold every slot and
//!   fresh clients keep a chance;
//! - `PerSourceMaxStartups`: at most `per_source` unauthenticated
//!   connections from one address (an IPv6 client counts per /64), so one
//!   host cannot fill the table at all;
//! - a dropped connection gets sshd's `Not allowed at this time` line,
//!   and the operator's log gets one line for the first drop and then at
//!   most one summary every [`LOG_EVERY`], so that a flood cannot flood
//!   the log.
//!
//! A [`Slot`] is held from accept until authentication succeeds (or the
//! connection ends). Independent of the rsync protocol.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// sshd's `MaxStartups` and `PerSourceMaxStartups`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Startups {
    /// Unauthenticated connections taken without a drop.
    pub start: usize,
    /// Drop probability, in percent, at `start`.
    pub rate: u32,
    /// Unauthenticated connections at most.
    pub full: usize,
    /// Unauthenticated connections from one source at most.
    pub per_source: usize,
}

impl Default for Startups {
    /// `20:30:100`, with a per-source limit of 8: sshd's `10:30:100`
    /// with a later start, since one `serve` process holds a pre-auth
    /// connection for far less than sshd's forked child, and one host
    /// may start eight transfers at once.
    fn default() -> Startups {
        Startups {
            start: 20,
            rate: 30,
            full: 100,
            per_source: 8,
        }
    }
}

impl Startups {
    /// Parses `start:rate:full` (or a single `full`, which drops nothing
    /// early, as sshd reads `MaxStartups N`), keeping `per_source`.
    pub fn parse(s: &str, per_source: usize) -> Option<Startups> {
        let n: Vec<usize> = s
            .split(':')
            .map(|w| w.parse::<usize>().ok())
            .collect::<Option<_>>()?;
        let (start, rate, full) = match n.as_slice() {
            [full] => (*full, 100, *full),
            [start, rate, full] => (*start, *rate, *full),
            _ => return None,
        };
        let rate = u32::try_from(rate).ok().filter(|r| (1..=100).contains(r))?;
        (start >= 1 && start <= full).then_some(Startups {
            start,
            rate,
            full,
            per_source,
        })
    }

    /// sshd's `should_drop_connection`: whether a new connection, with
    /// `startups` unauthenticated ones already open, is dropped; `roll`
    /// is a random number in `0..100`.
    pub fn early_drop(&self, startups: usize, roll: u32) -> bool {
        if startups < self.start {
            return false;
        }
        if startups >= self.full || self.rate >= 100 {
            return true;
        }
        let span = (self.full - self.start) as u64;
        let p = u64::from(100 - self.rate) * (startups - self.start) as u64 / span
            + u64::from(self.rate);
        u64::from(roll) < p
    }
}

/// Why a connection was dropped before its SSH handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    /// Its source already has `per_source` unauthenticated connections.
    PerSource,
    /// Random early drop, or `full` reached.
    MaxStartups,
}

/// The unauthenticated connections now open.
#[derive(Debug)]
pub struct PreAuth {
    limits: Startups,
    state: Mutex<State>,
    log: Mutex<DropLog>,
}

#[derive(Debug, Default)]
struct State {
    total: usize,
    by_source: HashMap<IpAddr, usize>,
}

/// One unauthenticated connection; dropping it frees its place.
#[derive(Debug)]
pub struct Slot {
    pre: Arc<PreAuth>,
    source: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut s) = self.pre.state.lock() {
            s.total = s.total.saturating_sub(1);
            if let Some(n) = s.by_source.get_mut(&self.source) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    s.by_source.remove(&self.source);
                }
            }
        }
    }
}

/// The address a per-source limit counts: IPv4 (also when mapped into
/// IPv6) as is, IPv6 by its /64.
pub fn source_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut seg = v6.segments();
                seg.iter_mut().skip(4).for_each(|s| *s = 0);
                IpAddr::V6(seg.into())
            }
        },
    }
}

impl PreAuth {
    /// An empty table with these limits.
    pub fn new(limits: Startups) -> Arc<PreAuth> {
        Arc::new(PreAuth {
            limits,
            state: Mutex::default(),
            log: Mutex::default(),
        })
    }

    /// Takes a place for a connection from `ip`, or says why not; `roll`
    /// is a random number in `0..100` for the early drop.
    pub fn admit(self: &Arc<Self>, ip: IpAddr, roll: u32) -> Result<Slot, Dropped> {
        let source = source_of(ip);
        let mut s = self.state.lock().map_err(|_| Dropped::MaxStartups)?;
        if s.by_source.get(&source).copied().unwrap_or(0) >= self.limits.per_source {
            return Err(Dropped::PerSource);
        }
        if self.limits.early_drop(s.total, roll) {
            return Err(Dropped::MaxStartups);
        }
        s.total += 1;
        *s.by_source.entry(source).or_insert(0) += 1;
        Ok(Slot {
            pre: self.clone(),
            source,
        })
    }

    /// Unauthenticated connections open now.
    pub fn open(&self) -> usize {
        self.state.lock().map(|s| s.total).unwrap_or(0)
    }

    /// Notes a drop; returns the line to log, if one is due now.
    pub fn note_drop(&self, why: Dropped, from: &str, now: Instant) -> Option<String> {
        let mut l = self.log.lock().ok()?;
        l.note(why, from, now)
    }
}

/// How often, at most, drops are summarized in the log.
pub const LOG_EVERY: Duration = Duration::from_secs(10);

#[derive(Debug, Default)]
struct DropLog {
    last: Option<Instant>,
    per_source: u64,
    startups: u64,
}

impl DropLog {
    fn note(&mut self, why: Dropped, from: &str, now: Instant) -> Option<String> {
        match why {
            Dropped::PerSource => self.per_source += 1,
            Dropped::MaxStartups => self.startups += 1,
        }
        if self.last.is_some_and(|t| now.duration_since(t) < LOG_EVERY) {
            return None;
        }
        let line = format!(
            "dropped {} connection(s) before authentication ({} over the per-source limit, \
             {} by max-startups); the last from {from}",
            self.per_source + self.startups,
            self.per_source,
            self.startups
        );
        *self = DropLog {
            last: Some(now),
            ..DropLog::default()
        };
        Some(line)
    }
}

/// A random number in `0..100` for the early drop (std's per-process
/// random hash keys; this needs to be unpredictable, not secret).
pub fn roll() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    static COUNT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    (h.finish() % 100) as u32
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn early_drop_is_sshds() {
        let l = Startups::parse("10:30:100", 4).unwrap();
        assert!(!l.early_drop(9, 0));
        // At start: rate% (30) of the rolls drop.
        assert!(l.early_drop(10, 29) && !l.early_drop(10, 30));
        // Halfway: 30 + 70 * 45 / 90 = 65.
        assert!(l.early_drop(55, 64) && !l.early_drop(55, 65));
        assert!(l.early_drop(100, 99) && l.early_drop(500, 99));
        assert_eq!(Startups::parse("20:30:100", 8), Some(Startups::default()));
        let all = Startups::parse("5", 4).unwrap();
        assert!(!all.early_drop(4, 0) && all.early_drop(5, 99));
        for bad in [
            "",
            "0",
            "10:0:100",
            "10:101:100",
            "20:30:10",
            "1:2",
            "a:b:c",
        ] {
            assert!(Startups::parse(bad, 4).is_none(), "{bad}");
        }
    }

    #[test]
    fn per_source_and_total() {
        let pre = PreAuth::new(Startups {
            start: 3,
            rate: 100,
            full: 3,
            per_source: 2,
        });
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "::ffff:127.0.0.2".parse().unwrap();
        let s1 = pre.admit(a, 99).unwrap();
        let _s2 = pre.admit(a, 99).unwrap();
        assert_eq!(pre.admit(a, 99).unwrap_err(), Dropped::PerSource);
        let _s3 = pre.admit(b, 99).unwrap();
        assert_eq!(
            pre.admit("127.0.0.3".parse().unwrap(), 99).unwrap_err(),
            Dropped::MaxStartups
        );
        drop(s1);
        assert_eq!(pre.open(), 2);
        assert!(pre.admit(a, 99).is_ok());
        let v6 = |s: &str| source_of(s.parse().unwrap());
        assert_eq!(v6("2001:db8::1"), v6("2001:db8::ffff:2"));
        assert_ne!(v6("2001:db8::1"), v6("2001:db8:0:1::1"));
    }

    #[test]
    fn drops_are_summarized() {
        let pre = PreAuth::new(Startups::default());
        let t = Instant::now();
        assert!(pre.note_drop(Dropped::PerSource, "a", t).is_some());
        assert!(pre.note_drop(Dropped::PerSource, "a", t).is_none());
        assert!(pre.note_drop(Dropped::MaxStartups, "b", t).is_none());
        let line = pre
            .note_drop(Dropped::PerSource, "c", t + LOG_EVERY)
            .unwrap();
        assert!(line.starts_with("dropped 3 connection(s)"), "{line}");
        assert!(line.contains("(2 over the per-source limit, 1 by max-startups)"));
    }
}
