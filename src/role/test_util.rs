//! What the roles' in-process tests share: a scratch directory, a clock
//! on which every look takes a second, and the frames of a multiplexed
//! stream (rsync's `MSG_DATA` frames, protocols 23 and later).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::Cell;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A fresh directory beneath the system's temporary one, removed when
/// dropped.
pub(crate) struct Scratch(pub PathBuf);

impl Scratch {
    /// A new empty directory, its name starting with `what`.
    pub(crate) fn new(what: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "rrsync-{what}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }

    /// The names in the directory, sorted.
    pub(crate) fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

thread_local! {
    static TICK: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// A clock on which every look takes a second.
pub(crate) fn ticking() -> Instant {
    TICK.with(|c| {
        let t = c.get().unwrap_or_else(Instant::now) + Duration::from_secs(1);
        c.set(Some(t));
        t
    })
}

/// The frames of a multiplexed stream: how many are empty `MSG_DATA`
/// frames (keep-alives), and the data of all of them.
pub(crate) fn read_frames(out: &[u8]) -> (usize, Vec<u8>) {
    let (mut empty, mut data) = (0, Vec::new());
    let mut rest = out;
    while let Some((tag, body)) = rest.split_first_chunk::<4>() {
        let tag = u32::from_le_bytes(*tag);
        let len = (tag & 0xff_ffff) as usize;
        let (payload, after) = body.split_at(len);
        if tag >> 24 == 7 {
            empty += usize::from(len == 0);
            data.extend_from_slice(payload);
        }
        rest = after;
    }
    (empty, data)
}

/// When `on`, gives `link` the client's `--timeout=2` (a keep-alive once
/// a second has passed without output) on the [`ticking`] clock.
pub(crate) fn keepalive_on_ticking_clock(link: &crate::role::Link, on: bool) {
    if on {
        link.set_clock(ticking);
        link.set_keepalive(2);
    }
}
