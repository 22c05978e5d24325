//! Which files the generator asked the client for.
//!
//! The receiver only accepts data for a file the generator requested: a
//! client cannot make us write a file the generator decided to leave alone
//! (for instance one `--ignore-existing` skips). The receiver also waits
//! until the generator has decided on a file, so its directory exists
//! before data for it is written, however early the client sends.

use std::sync::{Condvar, Mutex};

const PENDING: u8 = 0;
const REQUESTED: u8 = 1;
const SKIPPED: u8 = 2;

/// Per-file decisions shared by the generator and the receiver threads.
pub(crate) struct Requests {
    state: Mutex<Vec<u8>>,
    cv: Condvar,
}

impl Requests {
    /// All `n` files undecided.
    pub(crate) fn new(n: usize) -> Self {
        Self {
            state: Mutex::new(vec![PENDING; n]),
            cv: Condvar::new(),
        }
    }

    fn update(&self, f: impl FnOnce(&mut Vec<u8>)) {
        if let Ok(mut v) = self.state.lock() {
            f(&mut v);
        }
        self.cv.notify_all();
    }

    /// The generator asked for file `i`.
    pub(crate) fn requested(&self, i: usize) {
        self.update(|v| {
            if let Some(s) = v.get_mut(i) {
                *s = REQUESTED;
            }
        });
    }

    /// The generator is done with file `i`; not requested unless it was.
    pub(crate) fn settle(&self, i: usize) {
        self.update(|v| {
            if let Some(s) = v.get_mut(i).filter(|s| **s == PENDING) {
                *s = SKIPPED;
            }
        });
    }

    /// The generator stopped: every undecided file is not requested.
    pub(crate) fn close(&self) {
        self.update(|v| {
            v.iter_mut()
                .filter(|s| **s == PENDING)
                .for_each(|s| *s = SKIPPED)
        });
    }

    /// Waits for the decision on file `i`; whether it was requested.
    pub(crate) fn wait(&self, i: usize) -> bool {
        let Ok(mut v) = self.state.lock() else {
            return false;
        };
        loop {
            match v.get(i).copied() {
                Some(PENDING) => match self.cv.wait(v) {
                    Ok(g) => v = g,
                    Err(_) => return false,
                },
                s => return s == Some(REQUESTED),
            }
        }
    }
}
