//! Sorting one received list (`flist_sort_and_clean` in `flist.c`) and
//! matching its hard-link groups (`match_hard_links` in `hlink.c`),
//! protocols 27 to 32: the entries are put in rsync's list order in
//! place, a repeated name is marked inactive, and each follower of a
//! group learns the member it is linked to, within the list or, under
//! incremental recursion, in an earlier one.

use crate::flist::{f_name_cmp, FileEntry};

use super::lists::Inc;

/// What sorting one list found, by sorted position: whether each entry
/// is active, the member it links to and its hard-link group number
/// (rsync's `F_HL_GNUM`, the wire index of the group's first member in
/// received order).
pub(super) struct Marks {
    pub(super) active: Vec<bool>,
    pub(super) leaders: Vec<Option<usize>>,
    pub(super) gnums: Vec<Option<u32>>,
}

/// Sorts one list in place and marks duplicates and hard-link leaders.
/// `start` is the list's first wire index; `inc` knows earlier groups.
/// Only index vectors are allocated: a list's entries are never copied
/// into a second list.
pub(super) fn sort_one(
    entries: &mut [FileEntry],
    protocol: u32,
    hard_links: bool,
    start: usize,
    inc: Option<&Inc>,
) -> Marks {
    // Remember each entry's received position: hard-link references use it.
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by(|&a, &b| match (entries.get(a), entries.get(b)) {
        (Some(x), Some(y)) => f_name_cmp(x, y, protocol),
        _ => std::cmp::Ordering::Equal,
    });
    let mut pos_of = vec![0usize; entries.len()];
    for (sorted, &orig) in order.iter().enumerate() {
        if let Some(p) = pos_of.get_mut(orig) {
            *p = sorted;
        }
    }
    let gnums: Vec<Option<u32>> = order
        .iter()
        .map(
            |&orig| match entries.get(orig).map(|e| (e.hlink_first, e.hlink)) {
                _ if !hard_links || protocol < 30 => None,
                Some((Some(f), _)) => Some(f),
                Some((None, Some(_))) => u32::try_from(start + orig).ok(),
                _ => None,
            },
        )
        .collect();
    permute(entries, &order);
    let mut active = vec![true; entries.len()];
    for i in 1..entries.len() {
        if let (Some(a), Some(b)) = (entries.get(i - 1), entries.get(i)) {
            if a.name == b.name {
                if let Some(x) = active.get_mut(i) {
                    *x = false;
                }
            }
        }
    }
    let leaders = hard_link_leaders(entries, &pos_of, protocol, hard_links, start, inc);
    Marks {
        active,
        leaders,
        gnums,
    }
}

/// Reorders `v` in place so that position `k` holds what was at
/// `order[k]` (`order` is a permutation), one cycle at a time.
fn permute<T>(v: &mut [T], order: &[usize]) {
    let mut done = vec![false; v.len()];
    for k in 0..v.len() {
        let mut j = k;
        while done.get(j) == Some(&false) {
            if let Some(d) = done.get_mut(j) {
                *d = true;
            }
            let Some(&next) = order.get(j) else { break };
            if next == k {
                break;
            }
            v.swap(j, next);
            j = next;
        }
    }
}

/// For each follower of a hard-link group, the wire index of the member
/// it links to: the last member in sorted order within the list, or,
/// for a group begun in an earlier list, the member transferred there.
fn hard_link_leaders(
    sorted: &[FileEntry],
    pos_of: &[usize],
    protocol: u32,
    on: bool,
    start: usize,
    inc: Option<&Inc>,
) -> Vec<Option<usize>> {
    let mut out = vec![None; sorted.len()];
    if !on {
        return out;
    }
    // Group members by their link identity; rsync transfers the last
    // member in sorted order and links the others to it.
    let mut last: std::collections::HashMap<(u64, u64), usize> = std::collections::HashMap::new();
    let keys: Vec<Option<(u64, u64)>> = sorted
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let key = if protocol >= 30 {
                match e.hlink_first.map(|f| f as usize) {
                    Some(f) if f < start => Some((1, f as u64)),
                    Some(f) => pos_of.get(f - start).map(|&p| (0, p as u64)),
                    None => e.hlink.map(|_| (0, i as u64)),
                }
            } else {
                e.hlink
            };
            key.filter(|_| e.is_file())
        })
        .collect();
    for (i, k) in keys.iter().enumerate() {
        match (k, inc) {
            (Some((1, g)), Some(inc)) => {
                let prior = u32::try_from(*g).ok().and_then(|g| inc.groups_done.get(&g));
                if let (Some(slot), Some(&p)) = (out.get_mut(i), prior) {
                    *slot = Some(p);
                }
            }
            (Some(k), _) => {
                last.insert(*k, i);
            }
            _ => {}
        }
    }
    for (i, k) in keys.iter().enumerate() {
        if let Some(&l) = k.as_ref().and_then(|k| last.get(k)) {
            if l != i {
                if let Some(slot) = out.get_mut(i) {
                    *slot = Some(l + start);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::permute;

    #[test]
    fn permute_follows_every_cycle() {
        let mut v = vec!['a', 'b', 'c', 'd', 'e'];
        permute(&mut v, &[2, 0, 1, 4, 3]);
        assert_eq!(v, vec!['c', 'a', 'b', 'e', 'd']);
        let mut w = vec![1, 2, 3];
        permute(&mut w, &[0, 1, 2]);
        assert_eq!(w, vec![1, 2, 3]);
    }
}
