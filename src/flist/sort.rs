//! The file-list order (`f_name_cmp` in `flist.c`).
//!
//! Both sides sort the list the same way and address files by their index
//! in it. From protocol 29, within a directory the non-directories come
//! first, then the directories, each directory compared as its name plus a
//! `/` and followed by its contents; the top directory `.` sorts first.
//! Before 29, entries compare as plain path strings.

use std::cmp::Ordering;

use super::entry::FileEntry;

/// One path segment with its class: leaves sort before directories.
#[derive(PartialEq, Eq, PartialOrd, Ord, Clone, Copy)]
enum Class {
    Item,
    Path,
}

/// Compares two entries as rsync's `f_name_cmp` does.
pub fn f_name_cmp(a: &FileEntry, b: &FileEntry, protocol: u32) -> Ordering {
    if protocol < 29 {
        return plain_key(a).cmp(plain_key(b));
    }
    if !a.is_dir() && !b.is_dir() && a.name != b"." && b.name != b"." {
        if let Some(o) = same_dir_leaves(&a.name, &b.name) {
            return o;
        }
    }
    let mut sa = segments(a);
    let mut sb = segments(b);
    loop {
        match (sa.next(), sb.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some((ca, ta, da)), Some((cb, tb, db))) => {
                let ord = ca.cmp(&cb).then_with(|| cmp_seg(ta, da, tb, db));
                if ord != Ordering::Equal {
                    return ord;
                }
            }
        }
    }
}

/// Two leaves in one directory, the comparison the sort makes most:
/// when every `/` of both names lies in their common prefix, their last
/// segments are both leaves of one directory, and the names' bytes order
/// them. `None` otherwise.
fn same_dir_leaves(a: &[u8], b: &[u8]) -> Option<Ordering> {
    let p = common_prefix(a, b);
    let (ta, tb) = (a.get(p..)?, b.get(p..)?);
    (!ta.contains(&b'/') && !tb.contains(&b'/')).then(|| ta.cmp(tb))
}

/// The length of the longest common prefix of `a` and `b`, eight bytes
/// at a time: names of one directory share its path, which the sort
/// would otherwise step over byte by byte in every comparison.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let mut n = 0;
    for (x, y) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        let word = |c: &[u8]| u64::from_le_bytes(c.try_into().unwrap_or_default());
        let diff = word(x) ^ word(y);
        if diff != 0 {
            return n + (diff.trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    let (ta, tb) = (
        a.get(n..).unwrap_or_default(),
        b.get(n..).unwrap_or_default(),
    );
    n + ta.iter().zip(tb).take_while(|(x, y)| x == y).count()
}

/// Byte comparison of two segments, each possibly followed by a `/`
/// (segments hold no `/` themselves), without building either.
fn cmp_seg(a: &[u8], a_slash: bool, b: &[u8], b_slash: bool) -> Ordering {
    let n = a.len().min(b.len());
    let (pa, ra) = a.split_at(n);
    let (pb, rb) = b.split_at(n);
    match pa.cmp(pb) {
        Ordering::Equal => {}
        o => return o,
    }
    // One is a prefix of the other: what follows it decides.
    let next = |rest: &[u8], slash: bool| rest.first().copied().or(slash.then_some(b'/'));
    next(ra, a_slash).cmp(&next(rb, b_slash))
}

/// Before protocol 29 even `.` compares as itself, so `-x` sorts before it.
fn plain_key(e: &FileEntry) -> &[u8] {
    &e.name
}

/// The segments of an entry: intermediate directories and directory
/// entries are `Path` with a trailing slash, leaves are `Item`; `.` is an
/// empty `Item`. Nothing is allocated: the sort compares n log n pairs.
fn segments(e: &FileEntry) -> impl Iterator<Item = (Class, &[u8], bool)> {
    let is_dot = e.name == b".";
    let is_dir = e.is_dir();
    let name: &[u8] = if is_dot { b"" } else { &e.name };
    let mut parts = name.split(|&c| c == b'/').peekable();
    std::iter::from_fn(move || {
        let p = parts.next()?;
        let last = parts.peek().is_none();
        Some(if is_dot || (last && !is_dir) {
            (Class::Item, p, false)
        } else {
            (Class::Path, p, true)
        })
    })
}

/// The order of two names in one directory (protocol 29 on): files
/// before directories, each by its bytes, a directory's with its `/`.
pub fn cmp_in_dir(a: &[u8], a_dir: bool, b: &[u8], b_dir: bool) -> Ordering {
    a_dir.cmp(&b_dir).then_with(|| cmp_seg(a, a_dir, b, b_dir))
}

/// Sorts a list in place.
pub fn sort_entries(list: &mut [FileEntry], protocol: u32) {
    list.sort_by(|a, b| f_name_cmp(a, b, protocol));
}

/// Sorts `v` stably by `cmp` through a permutation of indexes: the
/// scratch space is a word an element, where sorting the elements
/// themselves would copy half of a list of large entries aside.
pub fn sort_stable_by<T>(v: &mut [T], mut cmp: impl FnMut(&T, &T) -> Ordering) {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&a, &b| match (v.get(a), v.get(b)) {
        (Some(x), Some(y)) => cmp(x, y),
        _ => Ordering::Equal,
    });
    permute(v, &order);
}

/// Reorders `v` in place so that position `k` holds what was at
/// `order[k]` (`order` is a permutation), one cycle at a time.
pub fn permute<T>(v: &mut [T], order: &[usize]) {
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

#[cfg(test)]
mod tests {
    #[test]
    fn permute_follows_every_cycle() {
        let mut v = vec!['a', 'b', 'c', 'd', 'e'];
        super::permute(&mut v, &[2, 0, 1, 4, 3]);
        assert_eq!(v, vec!['c', 'a', 'b', 'e', 'd']);
        let mut w = vec![1, 2, 3];
        super::permute(&mut w, &[0, 1, 2]);
        assert_eq!(w, vec![1, 2, 3]);
    }

    #[test]
    fn the_index_sort_is_stable() {
        let mut v = vec![(2, 'a'), (1, 'b'), (2, 'c'), (1, 'd'), (0, 'e')];
        super::sort_stable_by(&mut v, |x, y| x.0.cmp(&y.0));
        assert_eq!(v, vec![(0, 'e'), (1, 'b'), (1, 'd'), (2, 'a'), (2, 'c')]);
    }

    use super::*;

    fn e(name: &str, dir: bool) -> FileEntry {
        FileEntry::new(
            name.as_bytes().to_vec(),
            if dir { 0o040755 } else { 0o100644 },
        )
    }

    #[test]
    fn files_before_dirs_and_dir_before_contents() {
        let mut v = vec![
            e("b", true),
            e("b/x", false),
            e("a.txt", false),
            e("a", true),
            e("a/z", false),
            e("a.b", true),
            e(".", true),
            e("c", false),
        ];
        sort_entries(&mut v, 31);
        let names: Vec<_> = v
            .iter()
            .map(|x| String::from_utf8_lossy(&x.name).into_owned())
            .collect();
        assert_eq!(names, [".", "a.txt", "c", "a.b", "a", "a/z", "b", "b/x"]);
    }

    #[test]
    fn old_protocol_is_plain() {
        let mut v = vec![
            e("b", true),
            e("a.txt", false),
            e("a", true),
            e(".", true),
            e("a/z", false),
            e("-rf", false),
        ];
        sort_entries(&mut v, 28);
        let names: Vec<_> = v
            .iter()
            .map(|x| String::from_utf8_lossy(&x.name).into_owned())
            .collect();
        assert_eq!(names, ["-rf", ".", "a", "a.txt", "a/z", "b"]);
    }

    /// The comparison spelled out: each segment as its class and its bytes
    /// with the slash appended, compared as whole vectors.
    fn reference(a: &FileEntry, b: &FileEntry) -> Ordering {
        let key = |e: &FileEntry| -> Vec<(Class, Vec<u8>)> {
            if e.name == b"." {
                return vec![(Class::Item, Vec::new())];
            }
            let parts: Vec<&[u8]> = e.name.split(|&c| c == b'/').collect();
            let n = parts.len();
            parts
                .into_iter()
                .enumerate()
                .map(|(i, p)| {
                    if i + 1 == n && !e.is_dir() {
                        (Class::Item, p.to_vec())
                    } else {
                        (Class::Path, [p, b"/"].concat())
                    }
                })
                .collect()
        };
        key(a).cmp(&key(b))
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_the_spelled_out_comparison(
            a in "[a-c./_-]{1,4}(/[a-c._-]{1,3}){0,3}",
            b in "[a-c./_-]{1,4}(/[a-c._-]{1,3}){0,3}",
            da: bool,
            db: bool,
        ) {
            let x = e(&a, da);
            let y = e(&b, db);
            proptest::prop_assert_eq!(f_name_cmp(&x, &y, 31), reference(&x, &y));
        }

        #[test]
        fn common_prefix_counts_the_equal_bytes(
            shared in proptest::collection::vec(0u8..3, 0..30),
            a in proptest::collection::vec(0u8..3, 0..20),
            b in proptest::collection::vec(0u8..3, 0..20),
        ) {
            let (a, b) = ([&shared[..], &a].concat(), [&shared[..], &b].concat());
            let want = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
            proptest::prop_assert_eq!(common_prefix(&a, &b), want);
        }

        /// The walk orders a directory's entries with `cmp_in_dir`, which
        /// must agree with the list's order for siblings.
        #[test]
        fn siblings_order_as_the_list_does(
            p in "(d/)?",
            a in "[a-c._-]{1,4}",
            b in "[a-c._-]{1,4}",
            da: bool,
            db: bool,
        ) {
            // (A directory never lists `.` or `..`.)
            proptest::prop_assume!(![".", ".."].contains(&a.as_str()));
            proptest::prop_assume!(![".", ".."].contains(&b.as_str()));
            let x = e(&format!("{p}{a}"), da);
            let y = e(&format!("{p}{b}"), db);
            let got = cmp_in_dir(a.as_bytes(), da, b.as_bytes(), db);
            proptest::prop_assert_eq!(got, f_name_cmp(&x, &y, 31));
        }
    }
}
