//! The receiver's entries by wire index, freed list by list (rsync's
//! `flist_free` of the oldest list, protocols 30 to 32 under incremental
//! recursion; without it the one list lives for the whole session).
//!
//! Rows live in a queue whose front is the oldest live list: freeing a
//! list pops its rows, so memory follows the lists in flight, not the
//! tree. One kind of row outlives its list, as rsync keeps it: a
//! directory whose own sub-list has not come yet (rsync's `dir_flist`).

use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use crate::flist::FileEntry;

/// One wire index.
pub(crate) struct Row {
    pub(crate) e: Rc<FileEntry>,
    /// An entry to act on (not a duplicate, not an empty slot).
    pub(crate) active: bool,
    /// The slot before a sub-list, naming its parent directory.
    pub(crate) slot: bool,
    /// The hard-link group of a linked entry (`-H`).
    pub(crate) group: Option<u32>,
    /// Kept when its list is freed (see [`Table::keep`]).
    pub(crate) keep: bool,
}

/// Rows by wire index, from `base` on, plus the rows kept past their
/// list.
#[derive(Default)]
pub(crate) struct Table {
    base: usize,
    rows: VecDeque<Row>,
    kept: HashMap<usize, Row>,
    /// Entry allocations of freed rows, reused for the next ones: a
    /// list's worth of memory given back to the allocator and asked for
    /// again makes it trim and fault the heap list after list.
    spare: Vec<Rc<FileEntry>>,
    /// The names of the entries [`Self::wrap`] replaced, for the decoder
    /// to decode the next names into (at most one per spare allocation).
    names: Vec<Vec<u8>>,
}

/// Most spare allocations kept (about two lists in flight).
const MAX_SPARE: usize = 4096;

impl Table {
    /// One past the last index received.
    pub(crate) fn len(&self) -> usize {
        self.base + self.rows.len()
    }

    /// How many rows are held: live ones and those kept past their list.
    pub(crate) fn held(&self) -> usize {
        self.rows.len() + self.kept.len()
    }

    /// The first live index.
    pub(crate) fn base(&self) -> usize {
        self.base
    }

    /// Row `i`, if it is live or kept.
    pub(crate) fn row(&self, i: usize) -> Option<&Row> {
        match i.checked_sub(self.base) {
            Some(k) => self.rows.get(k),
            None => self.kept.get(&i),
        }
    }

    /// The entry at `i`.
    pub(crate) fn get(&self, i: usize) -> Option<Rc<FileEntry>> {
        self.row(i).map(|r| Rc::clone(&r.e))
    }

    /// Appends the row for index [`Self::len`].
    pub(crate) fn push(&mut self, row: Row) {
        self.rows.push_back(row);
    }

    /// `e` in an allocation of a freed row if there is one.
    pub(crate) fn wrap(&mut self, e: FileEntry) -> Rc<FileEntry> {
        if let Some(mut rc) = self.spare.pop() {
            if let Some(slot) = Rc::get_mut(&mut rc) {
                let old = std::mem::replace(slot, e);
                self.names.push(old.name);
                return rc;
            }
        }
        Rc::new(e)
    }

    /// The names [`Self::wrap`] set free since the last call.
    pub(crate) fn take_names(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.names)
    }

    /// Row `i`, if its list lives.
    fn live_mut(&mut self, i: usize) -> Option<&mut Row> {
        i.checked_sub(self.base).and_then(|k| self.rows.get_mut(k))
    }

    /// Row `i`, live, stays when its list is freed.
    pub(crate) fn keep(&mut self, i: usize) {
        if let Some(r) = self.live_mut(i) {
            r.keep = true;
        }
    }

    /// Row `i` is no longer needed past its list (a directory whose
    /// sub-list came).
    pub(crate) fn unkeep(&mut self, i: usize) {
        if let Some(r) = self.live_mut(i) {
            r.keep = false;
        } else if i < self.base {
            self.kept.remove(&i);
        }
    }

    /// Frees every row below `end`, but those to keep.
    pub(crate) fn free_below(&mut self, end: usize) {
        while self.base < end {
            let Some(row) = self.rows.pop_front() else {
                break;
            };
            if row.keep {
                self.kept.insert(self.base, row);
            } else if Rc::strong_count(&row.e) == 1 && self.spare.len() < MAX_SPARE {
                self.spare.push(row.e);
            }
            self.base += 1;
        }
    }

    /// The live rows with their indexes.
    pub(crate) fn live(&self) -> impl Iterator<Item = (usize, &Row)> {
        self.rows
            .iter()
            .enumerate()
            .map(|(k, r)| (self.base + k, r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &[u8]) -> Row {
        Row {
            e: Rc::new(FileEntry::new(name.to_vec(), 0o100644)),
            active: true,
            slot: false,
            group: None,
            keep: false,
        }
    }

    #[test]
    fn freed_rows_go_and_kept_rows_stay() {
        let mut t = Table::default();
        for n in [&b"a"[..], b"b", b"c", b"d"] {
            t.push(row(n));
        }
        t.keep(1);
        t.free_below(3);
        assert_eq!(t.len(), 4);
        assert!(t.get(0).is_none());
        assert_eq!(t.get(1).map(|e| e.name.clone()), Some(b"b".to_vec()));
        assert!(t.get(2).is_none());
        assert_eq!(t.get(3).map(|e| e.name.clone()), Some(b"d".to_vec()));
        t.unkeep(1);
        assert!(t.get(1).is_none());
        assert_eq!(t.live().count(), 1);
    }
}
