//! `--bwlimit` on a fake clock: the pacer's account, and a session's
//! output through the machine taking as long as the rate says.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use super::Pacer;
use crate::role::link::Link;
use crate::role::machine::{Machine, Outcome};

const KIB: u64 = 1024;

#[test]
fn no_limit_allows_everything_and_never_pauses() {
    let t0 = Instant::now();
    let mut p = Pacer::default();
    assert_eq!(p.allowance(None, t0), usize::MAX);
    p.sent(None, 1 << 30, t0);
    assert_eq!(p.resume_at(), None);
    assert_eq!(p.allowance(Some(0), t0), usize::MAX);
}

#[test]
fn writes_are_an_eighth_of_a_second_and_at_least_512_bytes() {
    let t0 = Instant::now();
    let p = Pacer::default();
    assert_eq!(p.allowance(Some(800 * KIB), t0), 100 * 1024);
    assert_eq!(p.allowance(Some(KIB), t0), 512);
}

#[test]
fn a_tenth_of_a_second_owed_is_paid_with_a_pause() {
    let t0 = Instant::now();
    let rate = 100 * KIB;
    let mut p = Pacer::default();
    // 9 KiB is 90 ms worth: no pause yet.
    p.sent(Some(rate), 9 * 1024, t0);
    assert_eq!(p.resume_at(), None);
    // 2 KiB more at the same instant: 110 ms owed.
    p.sent(Some(rate), 2 * 1024, t0);
    let until = p.resume_at().unwrap();
    assert_eq!(until - t0, Duration::from_millis(110));
    assert_eq!(p.allowance(Some(rate), t0 + Duration::from_millis(109)), 0);
    assert!(p.allowance(Some(rate), until) > 0);
    p.wake(until - Duration::from_millis(1));
    assert_eq!(p.resume_at(), Some(until));
    p.wake(until);
    assert_eq!(p.resume_at(), None);
}

#[test]
fn time_that_passed_pays_what_was_owed() {
    let t0 = Instant::now();
    let rate = 100 * KIB;
    let mut p = Pacer::default();
    p.sent(Some(rate), 9 * 1024, t0);
    // 50 ms later half of it is paid: 4.5 + 4 KiB owed, 85 ms.
    p.sent(Some(rate), 4 * 1024, t0 + Duration::from_millis(50));
    assert_eq!(p.resume_at(), None);
}

/// A session that sends `total` bytes under `rate` bytes a second.
async fn sender(link: Link, total: usize, rate: Option<u64>) -> Outcome {
    link.set_rate_limit(rate);
    link.set_idle_limit(Duration::from_secs(1));
    let chunk = vec![7u8; 16 * 1024];
    let mut sent = 0;
    while sent < total {
        link.room().await;
        link.write(&chunk);
        sent += chunk.len();
    }
    link.flush();
    Outcome::default()
}

/// What [`drain`] saw.
#[derive(Debug, PartialEq)]
struct Drained {
    bytes: usize,
    took: Duration,
    code: Option<i32>,
    /// The most handed out at once.
    largest: usize,
}

/// Drives `m` as the pump does, the client taking every byte at once:
/// time moves only when the machine has nothing to hand out.
fn drain(mut m: Machine<'_>, t0: Instant) -> Drained {
    let (mut t, mut out, mut largest) = (t0, Vec::new(), 0);
    for _ in 0..1_000_000 {
        let n = m.poll_transmit(t, &mut out);
        largest = largest.max(n);
        if n > 0 {
            continue;
        }
        if m.is_done(false) {
            break;
        }
        let next = m.poll_timeout().expect("a deadline");
        t = t.max(next);
        m.handle_timeout(t, false);
    }
    Drained {
        bytes: out.len(),
        took: t - t0,
        code: m.outcome().map(|o| o.code),
        largest,
    }
}

#[test]
fn output_takes_as_long_as_the_rate_says() {
    let t0 = Instant::now();
    let total = 1 << 20;
    let m = Machine::new(t0, |l| sender(l, total, Some(256 * KIB)));
    let Drained {
        bytes,
        took,
        code,
        largest,
    } = drain(m, t0);
    assert_eq!(bytes, total);
    assert_eq!(code, Some(0), "pauses are not idleness");
    assert_eq!(largest, 32 * 1024, "an eighth of a second's worth at most");
    // 4 s at 256 KiB/s, less what the last tenth of a second left owed.
    assert!(
        took >= Duration::from_millis(3_850) && took <= Duration::from_secs(4),
        "took {took:?}"
    );
}

#[test]
fn without_a_limit_no_time_passes() {
    let t0 = Instant::now();
    let m = Machine::new(t0, |l| sender(l, 1 << 20, None));
    let d = drain(m, t0);
    assert_eq!(
        (d.bytes, d.took, d.code),
        (1 << 20, Duration::ZERO, Some(0))
    );
}

#[test]
fn a_pause_that_is_over_is_no_longer_a_deadline() {
    // Output waits (the driver has not asked for it since the pause
    // ended): the next deadline is the idle limit, not a time already
    // past, which would make the driver spin.
    let t0 = Instant::now();
    let mut m = Machine::new(t0, |l| sender(l, 1 << 20, Some(256 * KIB)));
    let mut out = Vec::new();
    while m.poll_transmit(t0, &mut out) > 0 {}
    let resume = m.poll_timeout().expect("the pause's end");
    assert!(resume > t0 && resume < t0 + Duration::from_secs(1));
    m.handle_timeout(resume, false);
    assert!(m.poll_timeout().expect("the idle limit") > resume);
}
