//! `--fuzzy` (`-y`, protocol 29 and later): a file missing from the
//! destination takes a similar file in its directory as the basis of its
//! delta (`find_fuzzy` and its directory lists in rsync's `generator.c`,
//! `fuzzy_distance` and `find_filename_suffix` in `util1.c`). With `-yy`
//! the same directory in each alternate directory is looked at too.
//!
//! A candidate is a regular file of non-zero length that no request of
//! this session is about to change. One with the new file's size and
//! mtime wins at once; otherwise the nearest name wins, by an edit
//! distance that also weighs how far apart the changed bytes are, with
//! the suffixes' distance counted ten times over, and nothing further
//! than 25 edits apart. On a tie the later candidate wins, as in rsync.
//!
//! The generator offers a fuzzy basis only where the client may read the
//! tree (`BlockSums::AsAsked`): the basis's name goes to the client with
//! the request, so under `-wo` or `-blind` it would list the directory.

use super::Gen;
use crate::cli::AltDest;
use crate::flist::FileEntry;
use crate::fs::{Dir, RelPath, Root, DEFAULT_MAX_ENTRIES};
use crate::policy::BlockSums;

/// One edit, in `distance`'s units; below it, how far apart the bytes
/// were.
const UNIT: u32 = 1 << 16;

/// The first basis type of a fuzzy basis (`FNAMECMP_FUZZY`); `-yy`'s
/// alternate directories follow it.
pub(crate) const FNAMECMP_FUZZY: u8 = 0x83;

/// A candidate basis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cand {
    pub(crate) name: Vec<u8>,
    size: u64,
    mtime: i64,
    /// Asked for by this session: it is about to change.
    sent: bool,
}

impl Cand {
    pub(crate) fn new(name: Vec<u8>, size: u64, mtime: i64) -> Self {
        Cand {
            name,
            size,
            mtime,
            sent: false,
        }
    }
}

/// The candidates of one destination directory: one list for the
/// destination, then one per alternate directory under `-yy`.
pub(crate) struct FuzzyDir {
    /// The directory, relative to the destination (`.` for the top).
    pub(crate) dir: Vec<u8>,
    lists: Vec<Vec<Cand>>,
}

impl FuzzyDir {
    pub(crate) fn new(dir: Vec<u8>, lists: Vec<Vec<Cand>>) -> Self {
        FuzzyDir { dir, lists }
    }

    /// Reads `dirs` (the destination's directory, then its counterparts
    /// in the alternate directories) for candidates.
    pub(crate) fn read(root: &Root, dir: Vec<u8>, dirs: &[Option<RelPath>]) -> Self {
        let lists = dirs
            .iter()
            .map(|d| {
                let d = d.as_ref().and_then(|p| root.open_dir(p).ok());
                d.map(|d| candidates(&d)).unwrap_or_default()
            })
            .collect();
        FuzzyDir::new(dir, lists)
    }

    /// `name` in the destination's list is about to change: it is no
    /// basis for a later file.
    pub(crate) fn mark_sent(&mut self, name: &[u8]) {
        if let Some(c) = self
            .lists
            .first_mut()
            .and_then(|l| l.iter_mut().find(|c| c.name == name))
        {
            c.sent = true;
        }
    }

    /// The basis for the missing `e` (`base`: its last component): the
    /// list it was found in and its name.
    pub(crate) fn pick(&self, e: &FileEntry, base: &[u8]) -> Option<(usize, &[u8])> {
        let usable = |c: &&Cand| c.size > 0 && !c.sent;
        for (i, l) in self.lists.iter().enumerate() {
            if let Some(c) = l
                .iter()
                .filter(usable)
                .find(|c| c.size == e.size && c.mtime == e.mtime)
            {
                return Some((i, &c.name));
            }
        }
        let suf = suffix(base);
        let mut lowest = 25 * UNIT;
        let mut best = None;
        for (i, l) in self.lists.iter().enumerate() {
            for c in l.iter().filter(usable) {
                let mut d = distance(&c.name, base, lowest);
                if d < 0xFFFF_0000 {
                    let sd = distance(suffix(&c.name), suf, 0xFFFF_0000);
                    d = d.saturating_add(sd.saturating_mul(10));
                }
                if d <= lowest {
                    lowest = d;
                    best = Some((i, c.name.as_slice()));
                }
            }
        }
        best
    }
}

impl Gen<'_, '_> {
    /// A similar file to be the basis of the missing `e` (at `path`):
    /// its basis type, its path and its name in its directory.
    pub(super) fn fuzzy_basis(
        &mut self,
        e: &FileEntry,
        path: &RelPath,
    ) -> Option<(u8, RelPath, Vec<u8>)> {
        let o = &self.cfg.opts;
        // The basis's name goes to the client: only where it may read.
        let may = self.cfg.sums == BlockSums::AsAsked;
        if o.fuzzy == 0 || o.whole_file || self.protocol < 29 || !may {
            return None;
        }
        let (dir, base) = split(&e.name);
        if self.fuzzy.as_ref().is_none_or(|f| f.dir != dir) {
            let mut dirs = vec![Some(path.parent().unwrap_or_else(RelPath::root))];
            if o.fuzzy > 1 {
                for (_, alt) in &o.alt_dest {
                    dirs.push(RelPath::new(&in_alt(alt, dir, None)).ok());
                }
            }
            self.fuzzy = Some(FuzzyDir::read(self.cfg.root, dir.to_vec(), &dirs));
        }
        let (i, name) = self.fuzzy.as_ref()?.pick(e, base)?;
        let t = FNAMECMP_FUZZY.checked_add(u8::try_from(i).ok()?)?;
        let bp = basis_path(&o.alt_dest, path, &e.name, t, name)?;
        Some((t, bp, name.to_vec()))
    }

    /// The existing file of entry `e` is being asked for: it is no fuzzy
    /// basis for a later file in its directory.
    pub(super) fn fuzzy_changing(&mut self, e: &FileEntry) {
        let (dir, base) = split(&e.name);
        if let Some(f) = self.fuzzy.as_mut().filter(|f| f.dir == dir) {
            f.mark_sent(base);
        }
    }
}

/// A wire name's directory (`.` at the top) and last component.
fn split(name: &[u8]) -> (&[u8], &[u8]) {
    match name.iter().rposition(|&b| b == b'/') {
        Some(k) => (
            name.get(..k).unwrap_or_default(),
            name.get(k + 1..).unwrap_or_default(),
        ),
        None => (b".", name),
    }
}

/// `dir` (a wire directory) in the alternate directory `alt`, and `name`
/// in it.
fn in_alt(alt: &RelPath, dir: &[u8], name: Option<&[u8]>) -> Vec<u8> {
    let mut v = alt.as_bytes().to_vec();
    if dir != b"." {
        v.push(b'/');
        v.extend_from_slice(dir);
    }
    if let Some(n) = name {
        v.push(b'/');
        v.extend_from_slice(n);
    }
    v
}

/// Where the fuzzy basis `x` of basis type `t` is, for the file at `path`
/// (wire name `wire`): beside it, or (`-yy`) in an alternate directory.
pub(crate) fn basis_path(
    alts: &[(AltDest, RelPath)],
    path: &RelPath,
    wire: &[u8],
    t: u8,
    x: &[u8],
) -> Option<RelPath> {
    match t.checked_sub(FNAMECMP_FUZZY)? {
        0 => path.parent().unwrap_or_else(RelPath::root).join(x).ok(),
        n => {
            let (_, alt) = alts.get(usize::from(n) - 1)?;
            RelPath::new(&in_alt(alt, split(wire).0, Some(x))).ok()
        }
    }
}

/// The regular files of `d` with their sizes and mtimes.
fn candidates(d: &Dir) -> Vec<Cand> {
    let names = d.read_entries(DEFAULT_MAX_ENTRIES).unwrap_or_default();
    names
        .into_iter()
        .filter_map(|n| {
            let m = d.lstat_at(&n).ok().filter(|m| m.is_file())?;
            Some(Cand::new(n, m.size, m.mtime_sec))
        })
        .collect()
}

/// The suffix that says most about a name (`find_filename_suffix`):
/// leading dots are no suffix, a trailing `~` is passed over, and so are
/// `.bak`, `.old`, `.orig`, a `.~N~` backup number and an all-digit
/// suffix when an earlier one is found.
pub(crate) fn suffix(name: &[u8]) -> &[u8] {
    let start = name.iter().take_while(|&&b| b == b'.').count();
    let fn_ = name.get(start..).unwrap_or_default();
    let tilde = fn_.len() > 1 && fn_.last() == Some(&b'~');
    let mut len = if tilde { fn_.len() - 1 } else { fn_.len() };
    let mut found: &[u8] = b"";
    while len > 1 {
        let Some(dot) = fn_
            .get(1..len)
            .and_then(|s| s.iter().rposition(|&b| b == b'.'))
        else {
            break;
        };
        let dot = dot + 1;
        let s = fn_.get(dot..len).unwrap_or_default();
        len = dot;
        let word = s.get(1..).unwrap_or_default();
        // rsync compares these words with the rest of the whole name, so
        // only the last suffix (before any `~`) can be one of them.
        let rest = fn_.get(dot + 1..).unwrap_or_default();
        let skip = match s.len() {
            4 => rest == b"bak" || rest == b"old",
            5 => rest == b"orig",
            n => {
                n > 2
                    && tilde
                    && word.first() == Some(&b'~')
                    && word.get(1).is_some_and(u8::is_ascii_digit)
            }
        };
        if skip {
            continue;
        }
        found = s;
        if s.len() == 1 || !word.iter().all(u8::is_ascii_digit) {
            break;
        }
    }
    found
}

/// rsync's `fuzzy_distance`: a Levenshtein distance in [`UNIT`]s, each
/// edit also costing how far apart (a substitution) or how large (an
/// insertion or deletion) the bytes are. Above `upper` by the lengths
/// alone: `0xFFFF * UNIT + 1`.
pub(crate) fn distance(s1: &[u8], s2: &[u8], upper: u32) -> u32 {
    let gap = s1.len().abs_diff(s2.len());
    if u32::try_from(gap).map_or(true, |g| g.saturating_mul(UNIT) > upper) {
        return 0xFFFF * UNIT + 1;
    }
    if s1.is_empty() || s2.is_empty() {
        let s = if s1.is_empty() { s2 } else { s1 };
        // rsync adds the bytes as C `char`s: signed here.
        let cost: i64 = s.iter().map(|&b| i64::from(b as i8)).sum();
        let n = i64::try_from(s.len()).unwrap_or(i64::MAX);
        return (n * i64::from(UNIT) + cost).clamp(0, i64::from(u32::MAX)) as u32;
    }
    let u = |n: usize| {
        u32::try_from(n)
            .unwrap_or(u32::MAX / 2)
            .saturating_mul(UNIT)
    };
    let mut a: Vec<u32> = (1..=s2.len()).map(u).collect();
    for (i1, &c1) in s1.iter().enumerate() {
        let mut diag = u(i1);
        let mut above = u(i1 + 1);
        for (slot, &c2) in a.iter_mut().zip(s2) {
            let left = *slot;
            let cost = match i32::from(c1) - i32::from(c2) {
                0 => 0,
                d if d < 0 => UNIT + d.unsigned_abs(),
                d => UNIT + d.unsigned_abs(),
            };
            let diag_inc = diag.saturating_add(cost);
            let left_inc = left.saturating_add(UNIT + u32::from(c1));
            let above_inc = above.saturating_add(UNIT + u32::from(c2));
            above = if left < above {
                left_inc.min(diag_inc)
            } else {
                above_inc.min(diag_inc)
            };
            *slot = above;
            diag = left;
        }
    }
    a.last().copied().unwrap_or(0)
}

#[cfg(test)]
#[path = "fuzzy_tests.rs"]
mod tests;
