//! A role's own work on a fake clock: the time it spends is not the
//! client's silence, and with the client's `--timeout` it sends
//! keep-alives while it works (rsync's `maybe_send_keepalive`). In
//! process, no sleeps: the role moves the clock itself.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::Cell;
use std::time::{Duration, Instant};

use crate::role::link::Link;
use crate::role::machine::{Machine, Outcome};

thread_local! {
    static CLOCK: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// The fake clock the link reads.
fn clock() -> Instant {
    CLOCK.with(|c| c.get()).expect("clock set")
}

fn set_clock(t: Instant) {
    CLOCK.with(|c| c.set(Some(t)));
}

fn advance(by: Duration) {
    set_clock(clock() + by);
}

fn done(code: i32) -> Outcome {
    Outcome {
        code,
        ..Outcome::default()
    }
}

/// Reads a byte, works `steps` steps of `each` (calling the keep-alive
/// hook after each), writes `ok`, then reads another byte.
async fn worker(
    link: Link,
    timeout: Option<u32>,
    mux: bool,
    steps: u32,
    each: Duration,
) -> Outcome {
    link.set_clock(clock);
    link.set_idle_limit(Duration::from_secs(2));
    if let Some(t) = timeout {
        link.set_keepalive(t);
    }
    link.set_multiplexed_out(mux);
    if link.read("a byte", |r| r.array::<1>()).await.is_err() {
        return done(12);
    }
    for _ in 0..steps {
        advance(each);
        link.keep_alive().await;
    }
    link.write(b"ok");
    link.flush();
    match link.read("a byte", |r| r.array::<1>()).await {
        Ok(_) => done(0),
        Err(_) => done(12),
    }
}

/// Runs the worker to the point where it waits for its second byte;
/// returns the machine and every output chunk taken.
fn run(timeout: Option<u32>, mux: bool) -> (Machine<'static>, Vec<Vec<u8>>) {
    let t0 = Instant::now();
    set_clock(t0);
    let each = Duration::from_millis(300);
    let mut m = Machine::new(t0, move |l| worker(l, timeout, mux, 10, each));
    m.handle_input(t0, b"!");
    let mut chunks = Vec::new();
    for _ in 0..100 {
        // As the pump does: the deadlines are looked at once the role
        // has given control back, before its output is taken.
        let now = clock();
        m.handle_timeout(now, false);
        assert!(m.outcome().is_none(), "timed out while the role worked");
        let mut out = Vec::new();
        if m.poll_transmit(now, &mut out) > 0 {
            chunks.push(out);
        }
        if chunks.last().is_some_and(|c| c.ends_with(b"ok")) {
            break;
        }
    }
    (m, chunks)
}

/// The role worked for 3 s against a 2 s limit and then waits for
/// input: the limit counts from when it stopped working.
#[test]
fn the_time_a_role_works_is_not_the_clients_silence() {
    let (mut m, chunks) = run(None, false);
    assert_eq!(chunks.concat(), b"ok");
    let stopped = clock();
    m.handle_timeout(stopped, false);
    assert!(m.outcome().is_none(), "timed out for our own work");
    m.handle_timeout(stopped + Duration::from_millis(1999), false);
    assert!(m.outcome().is_none());
    m.handle_timeout(stopped + Duration::from_secs(2), false);
    assert_eq!(m.outcome().map(|o| o.code), Some(30));
}

/// With the client's `--timeout` (here 2 s: a keep-alive after 1 s of
/// quiet), 3 s of work send empty data frames as they go, each taken
/// before the role goes on; without it, or unmultiplexed, none.
#[test]
fn a_working_role_sends_keep_alives_with_the_clients_timeout() {
    let (mut m, chunks) = run(Some(2), true);
    let keepalive = [0u8, 0, 0, 7];
    let (last, before) = chunks.split_last().unwrap();
    assert!(before.len() >= 2, "keep-alives: {chunks:?}");
    assert!(
        before.iter().all(|c| c.as_slice() == keepalive),
        "{chunks:?}"
    );
    assert!(last.ends_with(b"ok"));
    m.handle_input(clock(), &[7, 0, 0, 7, 1]);
    assert_eq!(m.outcome().map(|o| o.code), Some(0));

    for (timeout, mux) in [(None, true), (Some(2), false)] {
        let (_, chunks) = run(timeout, mux);
        assert_eq!(chunks.len(), 1, "{timeout:?} {mux}: {chunks:?}");
    }
}

/// Output that appears after a long quiet spell (the client streaming
/// its file list for longer than the limit) begins to wait when it
/// appears: the driver's look at the deadlines before it has taken the
/// bytes does not end the session.
#[test]
fn output_begins_to_wait_when_it_appears() {
    let t0 = Instant::now();
    let mut m = Machine::new(t0, |l: Link| async move {
        l.set_idle_limit(Duration::from_secs(2));
        for _ in 0..5 {
            if l.read("a byte", |r| r.array::<1>()).await.is_err() {
                return done(12);
            }
        }
        l.write(b"ok");
        l.flush();
        match l.read("a byte", |r| r.array::<1>()).await {
            Ok(_) => done(0),
            Err(_) => done(12),
        }
    });
    let mut out = Vec::new();
    assert_eq!(m.poll_transmit(t0, &mut out), 0);
    for s in 1..=5 {
        let t = t0 + Duration::from_secs(s);
        m.handle_input(t, b"x");
        m.handle_timeout(t, false);
        assert!(m.outcome().is_none(), "timed out at {s} s");
    }
    assert_eq!(m.poll_transmit(t0 + Duration::from_secs(5), &mut out), 2);
}
