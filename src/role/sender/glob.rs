//! Server-side wildcard expansion of the client's source arguments.
//!
//! Mirrors what rsync does on the sending side when a client pulls
//! `host:'dir/*.txt'`: upstream's `glob_expand()` / `glob_match()`
//! (`util1.c`, used by `read_args()` for daemon and `--protect-args`
//! transfers) and rrsync's Python `glob.glob()` on each argument
//! (`support/rrsync`). Independent of the protocol version (27 to 32).
//!
//! Rules, per argument:
//! - Only an argument with an unescaped `*`, `?` or `[` is expanded; any
//!   other argument passes through untouched.
//! - Components are separated by `/`. The literal components before the
//!   first wildcard component are resolved with [`Root::open_dir_follow`]
//!   (in-tree symlinks allowed; `fs` refuses escapes). From there on every
//!   directory is entered with a no-follow handle ([`Dir::open_dir_at`]),
//!   so a symlink matched by a wildcard is never traversed.
//! - A wildcard component is matched with rsync's [`wildmatch`] against the
//!   entries of the current directory. As with `glob(3)` (and rrsync's
//!   Python glob), an entry starting with `.` matches only a pattern
//!   component that starts with `.`.
//! - A literal component after a wildcard has its backslashes removed and
//!   must exist (as with Python's glob); one that is not last must be a
//!   directory. `.` components are kept (they anchor `--relative`).
//! - A trailing `/` is kept on every result, and then only directories
//!   match (as upstream's `glob_match()` and `glob(3)` do).
//! - Results are sorted byte-wise per argument. An argument that matches
//!   nothing is kept unchanged, so the walk later reports
//!   `link_stat "dir/*.txt" failed: No such file or directory (2)`.
//! - The work is bounded: at most [`MAX_RESULTS`] names in all, arguments
//!   of at most [`MAX_COMPONENTS`] components, [`MAX_DIR_READS`] directory
//!   listings and [`MAX_ENTRIES`] names per directory.

use crate::filter::wildmatch;
use crate::fs::{Dir, RelPath, Root};

/// Most names produced by expansion, over all arguments.
pub(super) const MAX_RESULTS: usize = 100_000;
/// Arguments with more components are not expanded.
pub(super) const MAX_COMPONENTS: usize = 64;
/// Most directory listings read during expansion, over all arguments.
pub(super) const MAX_DIR_READS: usize = 100_000;
/// Most names read from one directory.
pub(super) const MAX_ENTRIES: usize = 1_000_000;

/// What expansion may still consume.
struct Budget {
    results: usize,
    dir_reads: usize,
}

/// Expands the wildcards in each source argument (see the module docs).
pub(super) fn expand_sources(root: &Root, args: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut budget = Budget {
        results: MAX_RESULTS,
        dir_reads: MAX_DIR_READS,
    };
    let mut out = Vec::with_capacity(args.len());
    for arg in args {
        match expand_one(root, arg, &mut budget) {
            Some(mut found) if !found.is_empty() => {
                found.sort();
                out.extend(found);
            }
            _ => out.push(arg.clone()),
        }
    }
    out
}

/// True if `comp` holds an unescaped `*`, `?` or `[`.
fn has_wild(comp: &[u8]) -> bool {
    let mut bytes = comp.iter();
    while let Some(&b) = bytes.next() {
        match b {
            b'\\' => {
                bytes.next();
            }
            b'*' | b'?' | b'[' => return true,
            _ => {}
        }
    }
    false
}

/// `comp` with each backslash escape replaced by the escaped byte (a lone
/// trailing backslash stands for itself, as in `wildmatch`).
fn unescape(comp: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(comp.len());
    let mut bytes = comp.iter();
    while let Some(&b) = bytes.next() {
        if b == b'\\' {
            out.push(bytes.next().copied().unwrap_or(b'\\'));
        } else {
            out.push(b);
        }
    }
    out
}

/// The matches of one argument, or `None` when it is not a pattern or
/// cannot be expanded.
fn expand_one(root: &Root, arg: &[u8], budget: &mut Budget) -> Option<Vec<Vec<u8>>> {
    let mut end = arg.len();
    while end > 0 && arg.get(end - 1) == Some(&b'/') {
        end -= 1;
    }
    let trimmed = arg.get(..end)?;
    if trimmed.is_empty() {
        return None;
    }
    let comps: Vec<&[u8]> = trimmed.split(|&b| b == b'/').collect();
    if comps.len() > MAX_COMPONENTS {
        return None;
    }
    let first_wild = comps.iter().position(|c| has_wild(c))?;
    let (literal, rest) = comps.split_at(first_wild);
    let mut prefix = Vec::with_capacity(arg.len());
    for c in literal {
        prefix.extend_from_slice(&unescape(c));
        prefix.push(b'/');
    }
    let start = RelPath::new(&prefix).ok()?;
    let dir = root.open_dir_follow(&start).ok()?;
    let mut exp = Expansion {
        budget,
        trailing: end < arg.len(),
        found: Vec::new(),
    };
    exp.descend(&dir, prefix, rest);
    Some(exp.found)
}

/// One argument's expansion in progress.
struct Expansion<'b> {
    budget: &'b mut Budget,
    trailing: bool,
    found: Vec<Vec<u8>>,
}

impl Expansion<'_> {
    /// Matches `rest` beneath `dir`, whose spelling (with a final `/`, or
    /// empty for the root) is `prefix`.
    fn descend(&mut self, dir: &Dir, prefix: Vec<u8>, rest: &[&[u8]]) {
        let Some((comp, tail)) = rest.split_first() else {
            return;
        };
        if has_wild(comp) {
            if self.budget.dir_reads == 0 {
                return;
            }
            self.budget.dir_reads -= 1;
            let Ok(mut names) = dir.read_entries(MAX_ENTRIES) else {
                return;
            };
            names.sort();
            let dot_ok = comp.first() == Some(&b'.');
            for name in names {
                if self.budget.results == 0 {
                    return;
                }
                if name.first() == Some(&b'.') && !dot_ok {
                    continue;
                }
                if wildmatch(comp, &name) {
                    self.visit(dir, &prefix, &name, tail);
                }
            }
            return;
        }
        let name = unescape(comp);
        if name.is_empty() || name == b"." {
            let mut path = prefix;
            path.extend_from_slice(&name);
            if tail.is_empty() {
                self.push(path);
            } else {
                path.push(b'/');
                self.descend(dir, path, tail);
            }
        } else {
            self.visit(dir, &prefix, &name, tail);
        }
    }

    /// Follows the entry `name` of `dir`: a result if `tail` is empty,
    /// else a directory (never a symlink) to descend into.
    fn visit(&mut self, dir: &Dir, prefix: &[u8], name: &[u8], tail: &[&[u8]]) {
        if self.budget.results == 0 {
            return;
        }
        let mut path = Vec::with_capacity(prefix.len() + name.len() + 1);
        path.extend_from_slice(prefix);
        path.extend_from_slice(name);
        if tail.is_empty() {
            match dir.lstat_at(name) {
                Ok(meta) if meta.is_dir() || !self.trailing => self.push(path),
                _ => {}
            }
            return;
        }
        let Ok(sub) = dir.open_dir_at(name) else {
            return;
        };
        path.push(b'/');
        self.descend(&sub, path, tail);
    }

    /// Records one result, restoring the argument's trailing slash.
    fn push(&mut self, mut path: Vec<u8>) {
        if self.budget.results == 0 {
            return;
        }
        self.budget.results -= 1;
        if self.trailing {
            path.push(b'/');
        }
        self.found.push(path);
    }
}

#[cfg(test)]
#[path = "glob_tests.rs"]
mod tests;
