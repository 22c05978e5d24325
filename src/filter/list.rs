//! The ordered filter list and rsync's matching rules (`check_filter()` and
//! `rule_matches()` in exclude.c); identical for protocols 27 to 32.
//!
//! First matching rule wins. A pattern without a `/` (a trailing one does
//! not count) and without `**` is matched against the last path component;
//! otherwise against the whole path: a leading `/` anchors it at the
//! transfer root, an unanchored one with inner slashes matches the same
//! number of trailing components, and an unanchored one with `**` may start
//! after any slash. A trailing `/` restricts to directories, and `dir/***`
//! also matches `dir` itself. Side handling replaces upstream's "elide"
//! bookkeeping: a rule with neither `s` nor `r` affects both sides (sender
//! only under --delete-excluded); `x` rules never match file names; `p`
//! rules are skipped when the caller says the directory is being deleted.

use super::load::{self, Entry, LoadCtx, RuleSeq};
use super::rule::{parse_wire_rule, Rule, RuleKind};
use super::wildmatch::Start;
use super::{Decision, FilterError, Side};

/// Upper bound on rules held by one list, including merge-file contents.
pub const MAX_RULES: usize = 100_000;

/// An ordered list of filter rules (rsync's `filter_list`).
#[derive(Clone)]
pub struct FilterList {
    pub(crate) entries: RuleSeq,
    pub(crate) protocol: u32,
    pub(crate) delete_excluded: bool,
    pub(crate) abs_prefix: Vec<u8>,
    pub(crate) received: usize,
    /// Rules skipped because they name a merge file outside the root.
    pub(crate) skipped: usize,
}

/// One name being checked.
struct Query<'a> {
    path: &'a [u8],
    is_dir: bool,
    side: Side,
    ignore_perishable: bool,
    delete_excluded: bool,
    abs_prefix: &'a [u8],
}

impl FilterList {
    /// An empty list for a connection speaking `protocol`.
    pub fn new(protocol: u32) -> Self {
        FilterList {
            entries: RuleSeq::default(),
            protocol,
            delete_excluded: false,
            abs_prefix: Vec::new(),
            received: 0,
            skipped: 0,
        }
    }

    /// Rules skipped so far because they name a merge file that is not
    /// beneath the root (the caller warns the client once).
    pub fn skipped_rules(&self) -> usize {
        self.skipped
    }

    /// Parse and append one rule in wire form.
    pub fn push_wire_rule(&mut self, text: &[u8]) -> Result<(), FilterError> {
        let rule = parse_wire_rule(text, self.protocol)?;
        self.push_rule(rule)
    }

    /// Append a parsed rule: `!` clears, `-C` expands to the CVS defaults,
    /// `e` adds the self-exclude, a repeated dir-merge name is dropped, and a
    /// `.` merge stays pending until [`FilterList::resolve_merges`] (or the
    /// first [`super::FilterStack::enter_dir`]) supplies a reader.
    pub fn push_rule(&mut self, rule: Rule) -> Result<(), FilterError> {
        self.received += 1;
        if self.received > MAX_RULES {
            return Err(FilterError::TooManyRules);
        }
        let mut ctx = LoadCtx::new(self, self.entries.entries.len(), None, None);
        let mut cut = false;
        load::add_rule(&mut self.entries, &mut cut, rule, &mut ctx, false)
    }

    /// Read every pending `.` merge file through `read_file` (given a name
    /// relative to the transfer root) and splice its rules in place.
    pub fn resolve_merges(
        &mut self,
        read_file: &mut dyn FnMut(&[u8]) -> Option<Vec<u8>>,
    ) -> Result<(), FilterError> {
        let mut ctx = LoadCtx::new(self, self.entries.entries.len(), Some(read_file), None);
        let r = load::resolve_pending(&mut self.entries, &mut ctx);
        self.skipped += ctx.skipped;
        r
    }

    /// --delete-excluded: rules without `s`/`r` become sender-only.
    pub fn set_delete_excluded(&mut self, on: bool) {
        self.delete_excluded = on;
    }

    /// Path of the transfer root below the confined root (no leading or
    /// trailing slash), used by rules with the `/` modifier. Empty (the
    /// default) makes those rules see paths relative to the transfer root.
    pub fn set_abs_prefix(&mut self, prefix: &[u8]) {
        self.abs_prefix = prefix.to_vec();
    }

    /// Protocol version the list was built for.
    pub fn protocol(&self) -> u32 {
        self.protocol
    }

    /// No rules at all (rsync skips filtering when the list head is NULL).
    pub fn is_empty(&self) -> bool {
        self.entries.entries.is_empty()
    }

    /// Top-level entries (rules, merges, dir-merges).
    pub fn len(&self) -> usize {
        self.entries.entries.len()
    }

    /// Whether any dir-merge rule needs a [`super::FilterStack`] walk.
    pub fn has_dir_merges(&self) -> bool {
        self.entries.has_dir_merges()
    }

    /// The top-level rules, in order (dir-merge and pending merge rules
    /// included as themselves).
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.entries.entries.iter().map(|e| match e {
            Entry::Rule(r) | Entry::Merge(r) => r,
            Entry::DirMerge(d) => &d.rule,
        })
    }

    /// Sender-side decision (hide/show) for `path`, relative to the transfer
    /// root without a leading slash.
    pub fn check(&self, path: &[u8], is_dir: bool) -> Decision {
        self.check_side(Side::Sender, path, is_dir, false)
    }

    /// Receiver-side decision for deletion: `Exclude` means protected.
    /// `ignore_perishable` is set while deleting inside a doomed directory.
    pub fn check_receiver(&self, path: &[u8], is_dir: bool, ignore_perishable: bool) -> Decision {
        self.check_side(Side::Receiver, path, is_dir, ignore_perishable)
    }

    /// Decision for `path` as seen by `side`.
    pub fn check_side(
        &self,
        side: Side,
        path: &[u8],
        is_dir: bool,
        ignore_perishable: bool,
    ) -> Decision {
        let q = Query {
            path,
            is_dir,
            side,
            ignore_perishable,
            delete_excluded: self.delete_excluded,
            abs_prefix: &self.abs_prefix,
        };
        check_entries(&self.entries.entries, &q)
    }
}

impl std::fmt::Debug for FilterList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FilterList")
            .field("protocol", &self.protocol)
            .field("delete_excluded", &self.delete_excluded)
            .field("rules", &self.entries.entries)
            .finish()
    }
}

fn check_entries(entries: &[Entry], q: &Query<'_>) -> Decision {
    for e in entries {
        match e {
            Entry::Rule(r) => {
                if applies(r, q) && rule_matches(r, q) {
                    return if r.is_include() {
                        Decision::Include
                    } else {
                        Decision::Exclude
                    };
                }
            }
            Entry::Merge(_) => {}
            Entry::DirMerge(dm) => {
                if q.ignore_perishable && dm.rule.mods.perishable {
                    continue;
                }
                for frame in dm.frames.iter().rev() {
                    let d = check_entries(&frame.seq.entries, q);
                    if d != Decision::Neither {
                        return d;
                    }
                    if frame.cut || dm.rule.mods.no_inherit {
                        break;
                    }
                }
            }
        }
    }
    Decision::Neither
}

/// Is the rule relevant to this side and situation at all?
fn applies(r: &Rule, q: &Query<'_>) -> bool {
    if r.mods.xattr || (q.ignore_perishable && r.mods.perishable) {
        return false;
    }
    let (sender, receiver) = if r.mods.sender || r.mods.receiver {
        (r.mods.sender, r.mods.receiver)
    } else if q.delete_excluded {
        (true, false)
    } else {
        (true, true)
    };
    match q.side {
        Side::Sender => sender,
        Side::Receiver => receiver,
    }
}

/// rsync's `rule_matches()`: true when the rule takes effect for the name.
fn rule_matches(r: &Rule, q: &Query<'_>) -> bool {
    if q.path.is_empty() || !matches!(r.kind, RuleKind::Include | RuleKind::Exclude) {
        return false;
    }
    if r.dir_only && !q.is_dir {
        return r.mods.negate;
    }
    raw_match(r, q) != r.mods.negate
}

fn raw_match(r: &Rule, q: &Query<'_>) -> bool {
    let m = &r.matcher;
    // The string matched: the last component for slash-free patterns, else
    // the whole path, with the upstream prefixes/suffix when they apply.
    let buf: Vec<u8>;
    let text: &[u8] = if m.slash_cnt == 0 && !m.wild2 {
        q.path.rsplit(|&b| b == b'/').next().unwrap_or(q.path)
    } else {
        let abs = r.mods.abs_path && !q.abs_prefix.is_empty();
        let suffix = q.is_dir && m.wild3_suffix;
        if !abs && !m.wild2_prefix && !suffix {
            q.path
        } else {
            let mut v = Vec::with_capacity(q.path.len() + q.abs_prefix.len() + 2);
            if abs {
                v.extend_from_slice(q.abs_prefix);
                v.push(b'/');
            } else if m.wild2_prefix {
                v.push(b'/');
            }
            v.extend_from_slice(q.path);
            if suffix {
                v.push(b'/');
            }
            buf = v;
            &buf
        }
    };
    let mut subject = text;
    if let Some(dir) = r.anchor_dir.as_deref() {
        match subject.strip_prefix(dir).and_then(|s| s.strip_prefix(b"/")) {
            Some(rest) => subject = rest,
            None => return false,
        }
    }
    let (pat, anchored) = match r.pattern.strip_prefix(b"/") {
        Some(p) => (p, true),
        None => (r.pattern.as_slice(), false),
    };
    let trailing = if !anchored && m.slash_cnt > 0 && !m.wild2 {
        match trailing_elements(subject, m.slash_cnt + 1) {
            Some(t) => Some(t),
            None => return false,
        }
    } else {
        None
    };
    let any_slash = !anchored && m.wild2 && !m.wild2_prefix;
    let subject = trailing.unwrap_or(subject);
    match &m.compiled {
        // Compiled without the anchoring slash (see `Matcher::new`).
        Some(c) => c.matches(
            subject,
            if any_slash {
                Start::AnySlash
            } else {
                Start::Anchored
            },
        ),
        None => subject == pat,
    }
}

/// The last `count` slash-separated elements of `s`, or `None` when `s` has
/// fewer than `count` elements.
fn trailing_elements(s: &[u8], count: usize) -> Option<&[u8]> {
    let mut left = count;
    for (i, &b) in s.iter().enumerate().rev() {
        if b == b'/' {
            left -= 1;
            if left == 0 {
                return s.get(i + 1..);
            }
        }
    }
    (left == 1).then_some(s)
}

#[cfg(test)]
#[path = "list_tests.rs"]
mod tests;
