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
    /// `--append`: how much of each requested file the client was told
    /// the destination already has (absent: nothing).
    append_at: std::collections::HashMap<usize, u64>,
}

impl Requests {
    /// All `n` files undecided.
    pub(crate) fn new(n: usize) -> Self {
        Self {
            state: std::iter::repeat_n(Decision::Pending, n).collect(),
            base: 0,
            closed: false,
            append_at: std::collections::HashMap::new(),
        }
    }

    /// The generator asked for file `i`.
    pub(crate) fn requested(&mut self, i: usize) {
        if let Some(s) = self.slot(i) {
            *s = Decision::Requested;
        }
    }

    /// The generator's append-mode header for file `i` covered `len`
    /// bytes of the destination: the receiver writes after them.
    pub(crate) fn append_at(&mut self, i: usize, len: u64) {
        if len > 0 {
            self.append_at.insert(i, len);
        } else {
            self.append_at.remove(&i);
        }
    }

    /// Where the receiver appends the data of file `i` (0: from the start).
    pub(crate) fn append_offset(&self, i: usize) -> u64 {
        self.append_at.get(&i).copied().unwrap_or(0)
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
        if k >= self.state.len() {
            self.state.resize(k + 1, Decision::Pending);
        }
        self.state.get_mut(k)
    }

    /// Forgets the decisions below `end` (their lists were freed; the
    /// client may no longer name them).
    pub(crate) fn forget_below(&mut self, end: usize) {
        while self.base < end && self.state.pop_front().is_some() {
            self.base += 1;
        }
        self.append_at.retain(|&i, _| i >= end);
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
}
