//! Sorting one received list (`flist_sort_and_clean` in `flist.c`) and
//! naming its hard-link groups (`match_hard_links` in `hlink.c`),
//! protocols 27 to 32: the entries are put in rsync's list order in
//! place, a repeated name is marked inactive, and each entry linked with
//! others gets its group's number, which the generator's
//! [`super::groups::Groups`] work from (for regular files).

use std::borrow::Borrow;
use std::collections::HashMap;

use crate::flist::{f_name_cmp, permute, FileEntry};

/// What sorting one list found, by sorted position: whether each entry
/// is active, and the hard-link group of each linked entry: from
/// protocol 30 rsync's `F_HL_GNUM` (the wire index of the group's first
/// member in received order), before it a number for each device and
/// inode pair.
pub(super) struct Marks {
    pub(super) active: Vec<bool>,
    pub(super) groups: Vec<Option<u32>>,
}

/// Sorts one list in place and marks duplicates and hard-link groups.
/// `start` is the list's first wire index. Only index vectors are
/// allocated: a list's entries are never copied into a second list, and
/// held behind pointers (as the receiver holds them) only the pointers
/// move.
pub(super) fn sort_one<E: Borrow<FileEntry>>(
    entries: &mut [E],
    protocol: u32,
    hard_links: bool,
    start: usize,
) -> Marks {
    // Remember each entry's received position: hard-link references use it.
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by(|&a, &b| match (entries.get(a), entries.get(b)) {
        (Some(x), Some(y)) => f_name_cmp(x.borrow(), y.borrow(), protocol),
        _ => std::cmp::Ordering::Equal,
    });
    let mut groups: Vec<Option<u32>> = order
        .iter()
        .map(|&orig| {
            match entries
                .get(orig)
                .map(|e| (e.borrow().hlink_first, e.borrow().hlink))
            {
                _ if !hard_links || protocol < 30 => None,
                Some((Some(f), _)) => Some(f),
                Some((None, Some(_))) => u32::try_from(start + orig).ok(),
                _ => None,
            }
        })
        .collect();
    permute(entries, &order);
    if hard_links && protocol < 30 {
        groups = device_inode_groups(entries);
    }
    let mut active = vec![true; entries.len()];
    for i in 1..entries.len() {
        if let (Some(a), Some(b)) = (entries.get(i - 1), entries.get(i)) {
            if a.borrow().name == b.borrow().name {
                if let Some(x) = active.get_mut(i) {
                    *x = false;
                }
            }
        }
    }
    Marks { active, groups }
}

/// A group of one in a whole list is no group (`match_gnums` clears its
/// flags): under protocol 27 every regular file comes with its device
/// and inode.
pub(super) fn drop_singletons(groups: &mut [Option<u32>]) {
    let mut count: HashMap<u32, u32> = HashMap::new();
    for g in groups.iter().flatten() {
        *count.entry(*g).or_default() += 1;
    }
    for g in groups.iter_mut() {
        if g.is_some_and(|g| count.get(&g) == Some(&1)) {
            *g = None;
        }
    }
}

/// Before protocol 30 a linked entry carries its device and inode: each
/// pair is one group, numbered in list order.
fn device_inode_groups<E: Borrow<FileEntry>>(sorted: &[E]) -> Vec<Option<u32>> {
    let mut ids: HashMap<(u64, u64), u32> = HashMap::new();
    sorted
        .iter()
        .map(|e| {
            let key = e.borrow().hlink?;
            let next = u32::try_from(ids.len()).ok()?;
            Some(*ids.entry(key).or_insert(next))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str) -> FileEntry {
        FileEntry::new(name.as_bytes().to_vec(), 0o100644)
    }

    fn names(v: &[FileEntry]) -> Vec<&[u8]> {
        v.iter().map(|e| e.name.as_slice()).collect()
    }

    /// Out of order: sorted, a repeated name marked, and each linked
    /// entry's group named by its received index, wherever it lands.
    #[test]
    fn an_unsorted_list_is_sorted_and_keeps_its_groups() {
        let mut v = vec![file("a"), file("c"), file("b"), file("a")];
        v[1].hlink = Some((1, 9));
        v[2].hlink_first = Some(11);
        let m = sort_one(&mut v, 31, true, 10);
        assert_eq!(names(&v), [b"a", b"a", b"b", b"c"]);
        assert_eq!(m.active, [true, false, true, true]);
        assert_eq!(m.groups, [None, None, Some(11), Some(11)]);
    }

    fn entry(name: &str, dir: bool, orig: usize, link: Option<u32>) -> FileEntry {
        let mode = if dir { 0o040755 } else { 0o100644 };
        let mut e = FileEntry::new(name.as_bytes().to_vec(), mode);
        // The received position, to follow each entry through the sort.
        e.uid = orig as u32;
        match link {
            Some(0) => e.hlink = Some((1, orig as u64)),
            Some(f) => e.hlink_first = Some(f),
            None => {}
        }
        e
    }

    proptest::proptest! {
        /// Any list ends in the order a plain stable sort by `f_name_cmp`
        /// gives, each name after its first is inactive, and (protocol 30
        /// on) each linked entry names its group by a received index,
        /// wherever it lands.
        #[test]
        fn sorting_agrees_with_a_plain_stable_sort(
            raw in proptest::collection::vec(
                ("[ab.]{1,2}(/[ab]{1,2})?", proptest::bool::ANY, proptest::option::of(0u32..3)),
                0..14,
            ),
            protocol in 28u32..=31,
        ) {
            let start = 5;
            let mut v: Vec<FileEntry> = raw
                .iter()
                .enumerate()
                .map(|(i, (n, d, l))| entry(n, *d, i, *l))
                .collect();
            let mut plain = v.clone();
            plain.sort_by(|a, b| f_name_cmp(a, b, protocol));
            let want: Vec<(Vec<u8>, u32)> = plain.iter().map(|e| (e.name.clone(), e.uid)).collect();
            let m = sort_one(&mut v, protocol, true, start);
            let got: Vec<(Vec<u8>, u32)> = v.iter().map(|e| (e.name.clone(), e.uid)).collect();
            proptest::prop_assert_eq!(got, want);
            for (i, e) in v.iter().enumerate() {
                let repeat = i > 0 && v[i - 1].name == e.name;
                proptest::prop_assert_eq!(m.active[i], !repeat);
                if protocol >= 30 {
                    let group = match (e.hlink_first, e.hlink) {
                        (Some(f), _) => Some(f),
                        (None, Some(_)) => Some(start as u32 + e.uid),
                        _ => None,
                    };
                    proptest::prop_assert_eq!(m.groups[i], group);
                }
            }
        }
    }

    /// In order: left in order, with the same marks.
    #[test]
    fn a_sorted_list_stays_as_it_is() {
        let mut v = vec![file("a"), file("a"), file("b"), file("c")];
        v[3].hlink = Some((1, 9));
        v[2].hlink_first = Some(13);
        let m = sort_one(&mut v, 31, true, 10);
        assert_eq!(names(&v), [b"a", b"a", b"b", b"c"]);
        assert_eq!(m.active, [true, false, true, true]);
        assert_eq!(m.groups, [None, None, Some(13), Some(13)]);
    }
}
