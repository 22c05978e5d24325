//! Hard-link groups on the generator side, as rsync's generator walks
//! them (`match_gnums`, `hard_link_check`, `skip_hard_link` and
//! `finish_hard_link` in `hlink.c`), protocols 27 to 32, with or without
//! incremental recursion.
//!
//! A group's members are met in list order. The first member that can be
//! put in place is: one already there and up to date, or one that must
//! be transferred because it exists and differs, or, when every member so
//! far is missing, the last member the generator knows of (under
//! incremental recursion, the last one in the lists it has read). Missing
//! members before it are deferred; members met while it is on the way
//! wait for it; once it is in place, all of them, and every later member,
//! become hard links to it. A member skipped while it was the last known
//! hands that role back to the latest deferred member.
//!
//! Pure bookkeeping: the generator acts on what these calls return.

use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;

use crate::flist::FileEntry;

/// What the generator does on meeting a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Turn {
    /// The group is in place: link the member to this entry's name.
    Link(Rc<FileEntry>),
    /// A member is on the way: this one waits for it.
    Wait,
    /// Handle it as a file; `last` says whether it is the last member
    /// known, which a missing member must be to be transferred.
    Go { last: bool },
}

#[derive(Debug)]
enum State {
    /// Nothing in place yet; the deferred members.
    Open(Vec<usize>),
    /// The member being transferred and those waiting for it.
    Sent(usize, Vec<usize>),
    /// In place, under this entry's name.
    Done(Rc<FileEntry>),
}

#[derive(Debug)]
struct Group {
    /// The last member known.
    last: usize,
    state: State,
}

/// Every group met, by group number.
#[derive(Debug, Default)]
pub(crate) struct Groups {
    map: HashMap<u32, Group>,
    /// Members deferred or waiting, to be linked or handled again: the
    /// list holding one is not finished before.
    held: BTreeSet<usize>,
    /// The member that took the latest turn.
    turned: Option<usize>,
}

impl Groups {
    /// Member `ndx` of group `g` is now known to the generator (lists
    /// are seen in order, so it is the last known).
    pub(crate) fn see(&mut self, g: u32, ndx: usize) {
        let group = self.map.entry(g).or_insert(Group {
            last: ndx,
            state: State::Open(Vec::new()),
        });
        group.last = group.last.max(ndx);
    }

    /// The generator meets member `ndx` of group `g`.
    pub(crate) fn turn(&mut self, g: u32, ndx: usize) -> Turn {
        self.held.remove(&ndx);
        self.turned = Some(ndx);
        let Some(group) = self.map.get_mut(&g) else {
            return Turn::Go { last: true };
        };
        match &mut group.state {
            State::Done(e) => Turn::Link(Rc::clone(e)),
            State::Sent(_, waiting) => {
                waiting.push(ndx);
                self.held.insert(ndx);
                Turn::Wait
            }
            State::Open(_) => Turn::Go {
                last: ndx >= group.last,
            },
        }
    }

    /// Missing member `ndx`, not the last known, waits for a later one.
    pub(crate) fn defer(&mut self, g: u32, ndx: usize) {
        if let Some(State::Open(deferred)) = self.map.get_mut(&g).map(|x| &mut x.state) {
            deferred.push(ndx);
            self.held.insert(ndx);
        }
    }

    /// Member `ndx` was requested: the others wait for it.
    pub(crate) fn sent(&mut self, g: u32, ndx: usize) {
        if let Some(group) = self.map.get_mut(&g) {
            if let State::Open(deferred) = &mut group.state {
                let deferred = std::mem::take(deferred);
                group.state = State::Sent(ndx, deferred);
            }
        }
    }

    /// `leader` (member `ndx`) is in place, found so or arrived: returns
    /// the members to link to it now.
    pub(crate) fn placed(&mut self, g: u32, ndx: usize, leader: Rc<FileEntry>) -> Vec<usize> {
        let Some(group) = self.map.get_mut(&g) else {
            return Vec::new();
        };
        let held = match &mut group.state {
            State::Open(held) => std::mem::take(held),
            State::Sent(s, held) if *s == ndx => std::mem::take(held),
            _ => return Vec::new(),
        };
        group.state = State::Done(leader);
        held
    }

    /// Member `ndx`, requested earlier, arrived (or was given up).
    pub(crate) fn arrived(&mut self, g: u32, ndx: usize, e: Rc<FileEntry>) -> Vec<usize> {
        match self.map.get(&g).map(|x| &x.state) {
            Some(State::Sent(s, _)) if *s == ndx => self.placed(g, ndx, e),
            _ => Vec::new(),
        }
    }

    /// Member `ndx` was skipped. When it was the last known, the latest
    /// deferred member takes that role and is returned, to be handled
    /// again.
    pub(crate) fn skipped(&mut self, g: u32, ndx: usize) -> Option<usize> {
        let group = self.map.get_mut(&g)?;
        let State::Open(deferred) = &mut group.state else {
            return None;
        };
        if ndx < group.last {
            return None;
        }
        let next = deferred.pop()?;
        group.last = next;
        Some(next)
    }

    /// The group's member in place, if there is one.
    pub(crate) fn leader(&self, g: u32) -> Option<Rc<FileEntry>> {
        match self.map.get(&g).map(|x| &x.state) {
            Some(State::Done(e)) => Some(Rc::clone(e)),
            _ => None,
        }
    }

    /// Whether member `ndx` took the latest turn.
    pub(crate) fn turned(&self, ndx: usize) -> bool {
        self.turned == Some(ndx)
    }

    /// Member `ndx` is linked (or given up): no longer held.
    pub(crate) fn release(&mut self, ndx: usize) {
        self.held.remove(&ndx);
    }

    /// Whether a member below `end` is still held.
    pub(crate) fn holds_below(&self, end: usize) -> bool {
        self.held.range(..end).next().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(name: &str) -> Rc<FileEntry> {
        Rc::new(FileEntry::new(name.as_bytes().to_vec(), 0o100644))
    }

    #[test]
    fn missing_members_wait_for_the_last_known() {
        let mut g = Groups::default();
        g.see(7, 1);
        g.see(7, 4);
        assert_eq!(g.turn(7, 1), Turn::Go { last: false });
        g.defer(7, 1);
        assert!(g.holds_below(2));
        // A later list brings another member before the generator
        // reaches the second one: the second is no longer the last.
        g.see(7, 9);
        assert_eq!(g.turn(7, 4), Turn::Go { last: false });
        g.defer(7, 4);
        assert_eq!(g.turn(7, 9), Turn::Go { last: true });
        g.sent(7, 9);
        assert!(g.arrived(7, 8, e("x")).is_empty());
        assert_eq!(g.arrived(7, 9, e("c")), vec![1, 4]);
        assert_eq!(g.leader(7).map(|x| x.name.clone()), Some(b"c".to_vec()));
        g.release(1);
        g.release(4);
        assert!(!g.holds_below(100));
    }

    #[test]
    fn a_member_in_place_leads_and_later_ones_link_at_once() {
        let mut g = Groups::default();
        for n in [2, 3, 5] {
            g.see(2, n);
        }
        assert_eq!(g.turn(2, 2), Turn::Go { last: false });
        g.defer(2, 2);
        assert_eq!(g.turn(2, 3), Turn::Go { last: false });
        assert_eq!(g.placed(2, 3, e("b")), vec![2]);
        assert_eq!(g.turn(2, 5), Turn::Link(e("b")));
    }

    #[test]
    fn members_met_while_one_is_on_the_way_wait() {
        let mut g = Groups::default();
        g.see(1, 1);
        g.see(1, 2);
        assert_eq!(g.turn(1, 1), Turn::Go { last: false });
        g.sent(1, 1);
        assert_eq!(g.turn(1, 2), Turn::Wait);
        assert!(g.holds_below(3));
        assert_eq!(g.arrived(1, 1, e("a")), vec![2]);
    }

    #[test]
    fn skipping_the_last_hands_its_role_back() {
        let mut g = Groups::default();
        for n in [1, 2, 3] {
            g.see(3, n);
        }
        g.defer(3, 1);
        g.defer(3, 2);
        assert_eq!(g.skipped(3, 3), Some(2));
        assert_eq!(g.turn(3, 2), Turn::Go { last: true });
        // A skipped member that is not the last changes nothing.
        assert_eq!(g.skipped(3, 1), None);
    }
}
