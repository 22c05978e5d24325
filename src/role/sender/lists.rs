//! The sender's live file lists and the index space they share
//! (`flist_new`, `flist_for_ndx` and `flist_free` in rsync's `flist.c`
//! and `rsync.c`), all protocols.
//!
//! Without incremental recursion there is one list, from index 0. With it
//! (protocol 30 and later) the first list starts at 1 and each sub-list
//! at the previous list's start plus its length plus one: the slot just
//! before a list names its parent directory, which the client itemizes
//! through it. A list is freed when the client says it is done with it,
//! so only the lists in flight are held.

use std::collections::{HashMap, VecDeque};

use super::walk::Item;

/// One file list as sent.
pub(super) struct List {
    /// Its first index.
    pub(super) start: i32,
    /// Its entries, in the order the client numbers them.
    pub(super) items: Vec<Item>,
    /// The directory number of its parent (the slot `start - 1`).
    pub(super) parent: Option<u32>,
    /// Files in all lists sent before it.
    before: u64,
}

/// The lists in flight.
#[derive(Default)]
pub(super) struct Lists {
    lists: VecDeque<List>,
    /// The directories whose lists are not yet freed, by the number the
    /// client gives them (their order of arrival, `dir_flist`). Boxed:
    /// the table's slots stay small, so growing it for a thousand
    /// directories does not copy a thousand entries.
    dirs: HashMap<u32, Box<Item>>,
    /// The next directory number.
    next_dir: u32,
    /// The next list's first index.
    next_start: i32,
    /// Entries in every list sent so far.
    sent: u64,
    /// The first index of the list of the client's latest request.
    current: i32,
}

impl Lists {
    /// An empty set whose first list will start at index 1.
    pub(super) fn incremental() -> Self {
        Self {
            next_start: 1,
            current: 1,
            ..Self::default()
        }
    }

    /// Appends a list; returns its first index.
    pub(super) fn add(&mut self, items: Vec<Item>, parent: Option<u32>) -> i32 {
        let start = self.next_start;
        let len = i32::try_from(items.len()).unwrap_or(i32::MAX);
        self.next_start = start.saturating_add(len).saturating_add(1);
        let before = self.sent;
        self.sent += items.len() as u64;
        self.lists.push_back(List {
            start,
            items,
            parent,
            before,
        });
        start
    }

    /// The first index of the next list.
    pub(super) fn next_start(&self) -> i32 {
        self.next_start
    }

    /// Numbers a directory as the client does and keeps it until its own
    /// list is freed.
    pub(super) fn add_dir(&mut self, item: Item) -> u32 {
        let n = self.next_dir;
        self.next_dir += 1;
        self.dirs.insert(n, Box::new(item));
        n
    }

    /// A numbered directory whose list is not freed yet.
    pub(super) fn dir(&self, n: u32) -> Option<&Item> {
        self.dirs.get(&n).map(|b| &**b)
    }

    /// The entry at `ndx`, or the parent directory of the list whose
    /// start is `ndx + 1`; `None` when no live list holds it.
    pub(super) fn get(&self, ndx: i32) -> Option<&Item> {
        let l = self.list_for(ndx)?;
        if ndx < l.start {
            return self.dirs.get(&l.parent?).map(|b| &**b);
        }
        l.items.get(usize::try_from(ndx - l.start).ok()?)
    }

    fn list_for(&self, ndx: i32) -> Option<&List> {
        let at = self.lists.partition_point(|l| l.start - 1 <= ndx);
        let l = self.lists.get(at.checked_sub(1)?)?;
        (i64::from(ndx) < i64::from(l.start) + l.items.len() as i64).then_some(l)
    }

    /// The client asked about `ndx`: its list becomes the current one.
    pub(super) fn touch(&mut self, ndx: i32) {
        if let Some(start) = self.list_for(ndx).map(|l| l.start) {
            self.current = start;
        }
    }

    /// Entries in the lists after the current one (rsync's
    /// `file_total - file_old_total`): how far the client can look ahead.
    pub(super) fn lookahead(&self) -> u64 {
        let at = self.lists.partition_point(|l| l.start < self.current);
        let cur = self.lists.get(at).or(self.lists.back());
        match cur {
            Some(l) => self.sent - l.before - l.items.len() as u64,
            None => 0,
        }
    }

    /// Frees the oldest list and its parent directory; `false` when none
    /// was left.
    pub(super) fn free_first(&mut self) -> bool {
        let Some(l) = self.lists.pop_front() else {
            return false;
        };
        if let Some(p) = l.parent {
            self.dirs.remove(&p);
        }
        true
    }

    /// Whether any list is still in flight.
    pub(super) fn is_empty(&self) -> bool {
        self.lists.is_empty()
    }

    /// Entries listed in the whole session.
    pub(super) fn total(&self) -> u64 {
        self.sent
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flist::FileEntry;
    use crate::fs::RelPath;

    fn item(name: &str) -> Item {
        Item {
            entry: FileEntry::new(name.as_bytes().to_vec(), 0o100644),
            base: std::rc::Rc::new(RelPath::root()),
        }
    }

    fn names(l: &Lists, range: std::ops::Range<i32>) -> Vec<Option<String>> {
        range
            .map(|n| {
                l.get(n)
                    .map(|i| String::from_utf8_lossy(&i.entry.name).into_owned())
            })
            .collect()
    }

    #[test]
    fn a_whole_list_starts_at_zero() {
        let mut l = Lists::default();
        l.add(vec![item("a"), item("b")], None);
        assert_eq!(
            names(&l, -1..3),
            [None, Some("a".into()), Some("b".into()), None]
        );
    }

    #[test]
    fn sub_lists_leave_a_slot_for_their_parent() {
        let mut l = Lists::incremental();
        let d = l.add_dir(item("d"));
        assert_eq!(l.add(vec![item("d"), item("f")], None), 1);
        assert_eq!(l.add(vec![item("d/x")], Some(d)), 4);
        // 0: no parent for the first list; 3: the slot naming "d".
        assert_eq!(
            names(&l, 0..6),
            [
                None,
                Some("d".into()),
                Some("f".into()),
                Some("d".into()),
                Some("d/x".into()),
                None
            ]
        );
        assert_eq!(l.lookahead(), 1);
        l.touch(4);
        assert_eq!(l.lookahead(), 0);
        assert!(l.free_first());
        assert_eq!(
            names(&l, 1..5),
            [None, None, Some("d".into()), Some("d/x".into())]
        );
        assert!(l.free_first());
        assert_eq!(l.get(3).map(|i| i.entry.name.clone()), None);
        assert!(l.is_empty() && !l.free_first());
        assert_eq!(l.total(), 3);
    }
}
