//! Which files the generator asked the client for (rsync keeps this in
//! the generator's own process; `recv_files` in `receiver.c` trusts the
//! sender, we do not; protocols 27 to 32).
//!
//! The receiver only accepts data for a file the generator requested: a
//! client cannot make us write a file the generator decided to leave alone
//! (for instance one `--ignore-existing` skips). Data for a file the
//! generator has not reached yet waits until the generator has decided on
//! it, so its directory exists before data for it is written, however
//! early the client sends.
//!
//! The sender echoes each request's basis type and block-sum header
//! before the data (`write_ndx_and_attrs`, `write_sum_head`). The
//! receiver works from what the generator asked ([`Asked`]) and refuses
//! an echo that differs: a header with smaller blocks than the generator
//! sent, or another basis, would let a client copy pieces of a file it
//! may not read and learn from the file checksum's verdict whether it
//! guessed them.

use crate::checksum::SumHead;

/// The generator's decision on one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Not reached yet.
    Pending,
    /// Asked for.
    Requested,
    /// Left alone.
    Skipped,
}

/// Per-file decisions, owned by the session's one task.
pub(crate) struct Requests {
    /// Decisions from index `base` on (those below were for lists both
    /// sides freed).
    state: std::collections::VecDeque<Decision>,
    base: usize,
    /// The generator walked the whole list: every file not asked for by
    /// now is left alone.
    closed: bool,
    /// The basis type and header sent with each request the receiver has
    /// not taken yet (only where they are not the default), in 24 bytes
    /// an entry: a push may have thousands in flight.
    asked: std::collections::HashMap<u32, (Option<u8>, SumHead)>,
    /// The rarer rest: `--append`'s offset and a fuzzy basis's name.
    asked_more: std::collections::HashMap<u32, (u64, Option<Vec<u8>>)>,
}

/// What the generator sent the client with one transfer request. The
/// default, no basis and an empty header (a new file), takes no room.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Asked {
    /// The basis type (`None`: the destination itself); on the wire from
    /// protocol 29.
    pub(crate) basis_type: Option<u8>,
    /// The block-sum header sent.
    pub(crate) head: SumHead,
    /// `--append`: how much of the file the client was told the
    /// destination already has (0: nothing).
    pub(crate) append_at: u64,
    /// A `--fuzzy` basis: its name in the file's directory.
    pub(crate) fuzzy: Option<Vec<u8>>,
}

impl Requests {
    /// All `n` files undecided.
    pub(crate) fn new(n: usize) -> Self {
        Self {
            state: std::iter::repeat_n(Decision::Pending, n).collect(),
            base: 0,
            closed: false,
            asked: std::collections::HashMap::new(),
            asked_more: std::collections::HashMap::new(),
        }
    }

    /// The generator asked for file `i`.
    pub(crate) fn requested(&mut self, i: usize) {
        if let Some(s) = self.slot(i) {
            *s = Decision::Requested;
        }
    }

    /// What the generator sent with its request for file `i`.
    pub(crate) fn asked(&mut self, i: usize, a: Asked) {
        // File indexes travel as 32-bit integers: every one fits.
        let Ok(k) = u32::try_from(i) else {
            return;
        };
        self.asked.remove(&k);
        self.asked_more.remove(&k);
        if (a.basis_type, a.head) != (None, SumHead::EMPTY) {
            self.asked.insert(k, (a.basis_type, a.head));
        }
        if (a.append_at, &a.fuzzy) != (0, &None) {
            self.asked_more.insert(k, (a.append_at, a.fuzzy));
        }
    }

    /// What the generator sent with its latest request for file `i`, for
    /// the receiver, once: a redo request records its own.
    pub(crate) fn take_asked(&mut self, i: usize) -> Asked {
        let Ok(k) = u32::try_from(i) else {
            return Asked::default();
        };
        let (basis_type, head) = self.asked.remove(&k).unwrap_or_default();
        let (append_at, fuzzy) = self.asked_more.remove(&k).unwrap_or_default();
        Asked {
            basis_type,
            head,
            append_at,
            fuzzy,
        }
    }

    /// The generator is done with file `i`; not requested unless it was.
    pub(crate) fn settle(&mut self, i: usize) {
        if let Some(s) = self.slot(i).filter(|s| **s == Decision::Pending) {
            *s = Decision::Skipped;
        }
    }

    /// The generator walked the list: every undecided file is not
    /// requested.
    /// The decision on index `i`, made room for (lists arrive as the
    /// transfer goes on); `None` for an index already forgotten.
    fn slot(&mut self, i: usize) -> Option<&mut Decision> {
        let k = i.checked_sub(self.base)?;
        // The walk settles indexes in order: mostly one more.
        while self.state.len() <= k {
            self.state.push_back(Decision::Pending);
        }
        self.state.get_mut(k)
    }

    /// Forgets the decisions below `end` (their lists were freed; the
    /// client may no longer name them).
    pub(crate) fn forget_below(&mut self, end: usize) {
        while self.base < end && self.state.pop_front().is_some() {
            self.base += 1;
        }
        let keep = |i: u32| usize::try_from(i).is_ok_and(|i| i >= end);
        self.asked.retain(|&i, _| keep(i));
        self.asked_more.retain(|&i, _| keep(i));
    }

    pub(crate) fn close(&mut self) {
        self.closed = true;
    }

    /// The decision on file `i`: `None` while the generator has not
    /// reached it.
    pub(crate) fn decision(&self, i: usize) -> Option<bool> {
        let k = i.checked_sub(self.base);
        match k.and_then(|k| self.state.get(k)).copied() {
            Some(Decision::Requested) => Some(true),
            Some(Decision::Pending) | None if !self.closed => None,
            _ => Some(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions() {
        let mut r = Requests::new(3);
        assert_eq!(r.decision(0), None);
        r.requested(0);
        r.settle(0);
        r.settle(1);
        assert_eq!(r.decision(0), Some(true));
        assert_eq!(r.decision(1), Some(false));
        assert_eq!(r.decision(2), None);
        r.close();
        assert_eq!(r.decision(2), Some(false));
        assert_eq!(r.decision(9), Some(false));
        r.forget_below(2);
        assert_eq!(r.decision(0), Some(false));
        assert_eq!(r.decision(2), Some(false));
    }

    #[test]
    fn asked_round_trips_once_and_the_default_takes_no_room() {
        let mut r = Requests::new(4);
        let head = SumHead {
            count: 3,
            block_len: 700,
            s2_len: 2,
            remainder: 600,
        };
        let a = Asked {
            basis_type: Some(0x83),
            head,
            append_at: 0,
            fuzzy: Some(b"app.log.1".to_vec()),
        };
        r.asked(1, a.clone());
        r.asked(2, Asked::default());
        assert_eq!((r.asked.len(), r.asked_more.len()), (1, 1));
        assert_eq!(r.take_asked(1), a);
        assert_eq!(r.take_asked(1), Asked::default());
        // A later request for the same file replaces the record whole.
        r.asked(3, a);
        r.asked(
            3,
            Asked {
                head,
                ..Asked::default()
            },
        );
        assert_eq!(
            r.take_asked(3),
            Asked {
                head,
                ..Asked::default()
            }
        );
        r.asked(
            3,
            Asked {
                append_at: 9,
                ..Asked::default()
            },
        );
        r.forget_below(4);
        assert!(r.asked.is_empty() && r.asked_more.is_empty());
    }
}
