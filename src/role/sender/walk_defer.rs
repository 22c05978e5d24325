//! `-R` sources under incremental recursion (`send_implied_dirs` and the
//! relative names `send1extra` lists, in rsync's `flist.c`), protocol 30
//! and later: every list may hold only one level of the tree (the client
//! checks each entry's directory against the list's parent), so a source
//! `a/b/c` is listed as the implied directory `a` in the first list,
//! `a/b` in `a`'s sub-list, and `c` itself in `a/b`'s.

use super::super::args::JoinRel;
use super::{EntryFlags, NameType, RelPath, Walker};

/// A source argument waiting for its next parent's sub-list.
#[derive(Debug)]
pub(super) struct Deferred {
    arg: Vec<u8>,
    base: RelPath,
    name: Vec<u8>,
    nt: NameType,
}

impl Walker<'_> {
    /// Lists the first component of `name` as an implied directory and
    /// keeps the argument for that directory's sub-list.
    pub(super) fn defer(&mut self, arg: &[u8], base: RelPath, name: Vec<u8>, nt: NameType) {
        let first = name
            .split(|&b| b == b'/')
            .next()
            .unwrap_or_default()
            .to_vec();
        self.defer_under(
            first,
            Deferred {
                arg: arg.to_vec(),
                base,
                name,
                nt,
            },
        );
    }

    /// Lists the implied directory `dir` (once) and parks `d` under it.
    fn defer_under(&mut self, dir: Vec<u8>, d: Deferred) {
        if self.implied_seen.insert(dir.clone()) && !self.push_implied(&d.base, &dir) {
            return;
        }
        self.deferred.entry(dir).or_default().push(d);
    }

    /// Lists `prefix` beneath `base` as an implied directory; `false`
    /// when it is not a directory (the argument is then dropped).
    pub(super) fn push_implied(&mut self, base: &RelPath, prefix: &[u8]) -> bool {
        let Ok(path) = base.join_rel(prefix) else {
            return false;
        };
        match self.root.stat(&path) {
            Ok(m) if m.is_dir() => {
                let flags = EntryFlags {
                    implied_dir: true,
                    ..EntryFlags::default()
                };
                self.push(prefix.to_vec(), &std::rc::Rc::new(base.clone()), &m, flags);
                true
            }
            Ok(_) => false,
            Err(e) => {
                self.bad_arg(prefix, e);
                false
            }
        }
    }

    /// In directory `dir`'s sub-list: the next level of each argument
    /// parked under it, the argument itself when it is that level.
    pub(super) fn resume_deferred(&mut self, dir: &[u8]) {
        let Some(waiting) = self.deferred.remove(dir) else {
            return;
        };
        for d in waiting {
            let rest = d.name.get(dir.len() + 1..).unwrap_or_default();
            let next_len = rest.iter().position(|&b| b == b'/');
            match next_len {
                Some(n) => {
                    let next = d.name.get(..dir.len() + 1 + n).unwrap_or_default().to_vec();
                    self.defer_under(next, d);
                }
                None => {
                    let Ok(path) = d.base.join_rel(&d.name) else {
                        continue;
                    };
                    self.add_parsed(&d.arg, &d.base, &path, d.name, d.nt);
                }
            }
        }
    }
}
