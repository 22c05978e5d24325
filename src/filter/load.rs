//! Adding rules to lists and reading merge files, mirroring rsync's
//! `parse_filter_str()`, `parse_filter_file()`, `push_local_filters()` and
//! `pop_local_filters()` (exclude.c); the same for protocols 27 to 32.
//!
//! This module performs no I/O: every merge file is obtained through the
//! caller's `read_file` callback, given only a validated single-component
//! name, which the caller resolves in the directory being entered. A
//! dir-merge rule keeps one frame per directory entered; checks consult the
//! newest frame first and fall back to older ones unless the rule has `n` or
//! a frame held a `!`. A `.` merge met inside a per-directory file is read
//! in that directory too (upstream reads it relative to its working
//! directory, the transfer root).

use super::list::{FilterList, MAX_RULES};
use super::rule::{parse_rule, Modifiers, Rule, RuleKind, Template};
use super::wire::DEFAULT_CVS_IGNORE;
use super::FilterError;

/// Nesting limit for merge files (rsync's MAX_MERGE_DEPTH).
pub const MAX_MERGE_DEPTH: usize = 32;
/// Largest merge file accepted.
pub const MAX_MERGE_FILE: usize = 1 << 20;
/// Live dir-merge rules allowed at once (upstream has no limit; each one
/// costs a file lookup per directory).
pub const MAX_DIR_MERGES: usize = 256;
/// Longer lines in a merge file are discarded, as upstream does.
const MAX_LINE: usize = 4096 + 1024 - 1;

/// The file reader supplied by the caller.
pub(crate) type ReadFile<'a> = &'a mut dyn FnMut(&[u8]) -> Option<Vec<u8>>;

/// One element of a rule list.
#[derive(Clone, Debug)]
pub(crate) enum Entry {
    Rule(Rule),
    /// A `.` merge not yet read.
    Merge(Rule),
    DirMerge(Box<DirMerge>),
}

/// A dir-merge rule and its per-directory rule frames (oldest first).
#[derive(Clone, Debug)]
pub(crate) struct DirMerge {
    pub(crate) rule: Rule,
    pub(crate) frames: Vec<Frame>,
}

/// Rules read from one directory's merge file.
#[derive(Clone, Debug, Default)]
pub(crate) struct Frame {
    pub(crate) seq: RuleSeq,
    /// A `!` was read: rules inherited from parent directories are dropped.
    pub(crate) cut: bool,
}

/// An ordered run of entries that also indexes its merge entries, so that
/// directory changes visit only dir-merge rules, never every rule.
#[derive(Clone, Debug, Default)]
pub(crate) struct RuleSeq {
    pub(crate) entries: Vec<Entry>,
    merges: Vec<usize>,
}

impl RuleSeq {
    pub(crate) fn push(&mut self, e: Entry) {
        if !matches!(e, Entry::Rule(_)) {
            self.merges.push(self.entries.len());
        }
        self.entries.push(e);
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.merges.clear();
    }

    pub(crate) fn has_dir_merges(&self) -> bool {
        self.dir_merges().next().is_some()
    }

    fn dir_merges(&self) -> impl Iterator<Item = &DirMerge> {
        self.merges
            .iter()
            .filter_map(|&i| match self.entries.get(i) {
                Some(Entry::DirMerge(dm)) => Some(&**dm),
                _ => None,
            })
    }

    /// Apply `f` to every dir-merge entry, in order.
    fn each_dir_merge<E>(
        &mut self,
        mut f: impl FnMut(&mut DirMerge) -> Result<(), E>,
    ) -> Result<(), E> {
        for &i in &self.merges {
            if let Some(Entry::DirMerge(dm)) = self.entries.get_mut(i) {
                f(dm)?;
            }
        }
        Ok(())
    }
}

/// State threaded through rule loading.
pub(crate) struct LoadCtx<'a> {
    reader: Option<ReadFile<'a>>,
    /// The directory being entered (relative to the root), if any.
    dir: Option<&'a [u8]>,
    depth: usize,
    protocol: u32,
    /// Names of the live dir-merge rules (a repeated name is ignored).
    active: Vec<Vec<u8>>,
    budget: usize,
    /// Rules skipped because their merge file is not beneath the root.
    pub(crate) skipped: usize,
}

impl<'a> LoadCtx<'a> {
    /// `held`: rules already held by the list and its frames.
    pub(crate) fn new(
        list: &FilterList,
        held: usize,
        reader: Option<ReadFile<'a>>,
        dir: Option<&'a [u8]>,
    ) -> Self {
        let mut active = Vec::new();
        collect_active(&list.entries, &mut active);
        LoadCtx {
            reader,
            dir,
            depth: 0,
            protocol: list.protocol,
            active,
            budget: MAX_RULES.saturating_sub(held),
            skipped: 0,
        }
    }

    /// Rules that may still be added.
    pub(crate) fn budget(&self) -> usize {
        self.budget
    }

    fn take(&mut self, n: usize) -> Result<(), FilterError> {
        self.budget = self
            .budget
            .checked_sub(n)
            .ok_or(FilterError::TooManyRules)?;
        Ok(())
    }

    fn read(&mut self, path: &[u8]) -> Result<Option<Vec<u8>>, FilterError> {
        let Some(reader) = self.reader.as_mut() else {
            return Ok(None);
        };
        match reader(path) {
            Some(c) if c.len() > MAX_MERGE_FILE => Err(FilterError::MergeFileTooLarge),
            other => Ok(other),
        }
    }
}

fn collect_active(seq: &RuleSeq, out: &mut Vec<Vec<u8>>) {
    for dm in seq.dir_merges() {
        out.push(dm.rule.pattern.clone());
        for f in &dm.frames {
            collect_active(&f.seq, out);
        }
    }
}

/// Add one parsed rule to `entries`. `per_dir` marks rules read from a
/// dir-merge file, whose `/`-anchored patterns are relative to its directory.
pub(crate) fn add_rule(
    entries: &mut RuleSeq,
    cut: &mut bool,
    mut rule: Rule,
    ctx: &mut LoadCtx<'_>,
    per_dir: bool,
) -> Result<(), FilterError> {
    ctx.take(1)?;
    match rule.kind {
        RuleKind::Clear => {
            entries.clear();
            *cut = true;
        }
        RuleKind::Include | RuleKind::Exclude if rule.mods.cvs => {
            // `-C`: the default CVS ignore list, in place (perishable from
            // protocol 30 on), each inheriting the -C rule's modifiers.
            let mut t = Template::from_merge(&rule);
            t.mods.perishable |= ctx.protocol >= 30;
            t.mods.default_include = rule.is_include();
            ctx.take(DEFAULT_CVS_IGNORE.len())?;
            for name in DEFAULT_CVS_IGNORE {
                entries.push(Entry::Rule(parse_rule(name, &t, false)?));
            }
        }
        RuleKind::Include | RuleKind::Exclude => {
            if per_dir && rule.pattern.starts_with(b"/") && !rule.mods.abs_path {
                rule.anchor_dir = ctx.dir.filter(|d| !d.is_empty()).map(<[u8]>::to_vec);
            }
            entries.push(Entry::Rule(rule));
        }
        RuleKind::Merge | RuleKind::DirMerge => {
            if rule.mods.exclude_self {
                entries.push(Entry::Rule(Rule::new(
                    RuleKind::Exclude,
                    &rule.pattern,
                    Modifiers::default(),
                )));
                rule.mods.exclude_self = false;
            }
            if rule.kind == RuleKind::Merge {
                if ctx.reader.is_some() {
                    read_merge(entries, cut, &rule, ctx)?;
                } else {
                    entries.push(Entry::Merge(rule));
                }
                return Ok(());
            }
            if ctx.active.contains(&rule.pattern) {
                return Ok(());
            }
            if ctx.active.len() >= MAX_DIR_MERGES {
                return Err(FilterError::TooManyRules);
            }
            ctx.active.push(rule.pattern.clone());
            let mut dm = DirMerge {
                rule,
                frames: Vec::new(),
            };
            if ctx.dir.is_some() {
                let frame = build_frame(&dm.rule, ctx)?;
                dm.frames.push(frame);
            }
            entries.push(Entry::DirMerge(Box::new(dm)));
        }
    }
    Ok(())
}

/// Read a `.` merge file now. One that cannot be read beneath the root
/// (missing, or a symlink out, which the caller's confined reader refuses)
/// is skipped and counted, as upstream drops a peer's merge rule whose
/// file does not open under `--confine-root` (no XFLG_FATAL_ERRORS for
/// rules that arrive over the wire). Its anchored rules stay root-anchored.
fn read_merge(
    entries: &mut RuleSeq,
    cut: &mut bool,
    rule: &Rule,
    ctx: &mut LoadCtx<'_>,
) -> Result<(), FilterError> {
    if ctx.depth >= MAX_MERGE_DEPTH {
        return Err(FilterError::MergeDepth);
    }
    let Some(content) = ctx.read(&rule.pattern)? else {
        ctx.skipped += 1;
        return Ok(());
    };
    ctx.depth += 1;
    let r = parse_content(
        entries,
        cut,
        &content,
        &Template::from_merge(rule),
        ctx,
        false,
    );
    ctx.depth -= 1;
    r
}

/// Read `rule`'s file in the directory being entered (absent = empty frame).
fn build_frame(rule: &Rule, ctx: &mut LoadCtx<'_>) -> Result<Frame, FilterError> {
    let mut frame = Frame::default();
    if ctx.depth >= MAX_MERGE_DEPTH {
        return Err(FilterError::MergeDepth);
    }
    if let Some(content) = ctx.read(&rule.pattern)? {
        ctx.depth += 1;
        let r = parse_content(
            &mut frame.seq,
            &mut frame.cut,
            &content,
            &Template::from_merge(rule),
            ctx,
            true,
        );
        ctx.depth -= 1;
        r?;
    }
    Ok(frame)
}

/// Parse merge-file text: lines (CR, LF or CRLF; blank lines and `#`/`;`
/// comments skipped) or, with `w`, whitespace-separated words.
fn parse_content(
    entries: &mut RuleSeq,
    cut: &mut bool,
    content: &[u8],
    t: &Template,
    ctx: &mut LoadCtx<'_>,
    per_dir: bool,
) -> Result<(), FilterError> {
    let word_split = t.mods.word_split;
    let pieces = content.split(|&b| {
        if word_split {
            matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
        } else {
            b == b'\n' || b == b'\r'
        }
    });
    for piece in pieces {
        // C strings end at a NUL: so does a line here.
        let piece = piece.split(|&b| b == 0).next().unwrap_or(&[]);
        if piece.is_empty() || piece.len() > MAX_LINE {
            continue;
        }
        if !word_split && matches!(piece.first(), Some(b'#' | b';')) {
            continue;
        }
        match parse_rule(piece, t, false) {
            Ok(rule) => add_rule(entries, cut, rule, ctx, per_dir)?,
            Err(FilterError::PatternTooLong) => continue,
            // A merge rule naming a file outside the root: skipped.
            Err(FilterError::UnsafeMergeName) => ctx.skipped += 1,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Splice pending `.` merges of a top-level list in place.
pub(crate) fn resolve_pending(
    entries: &mut RuleSeq,
    ctx: &mut LoadCtx<'_>,
) -> Result<(), FilterError> {
    if !entries
        .merges
        .iter()
        .any(|&i| matches!(entries.entries.get(i), Some(Entry::Merge(_))))
    {
        return Ok(());
    }
    let old = std::mem::take(entries);
    let mut cut = false;
    for e in old.entries {
        match e {
            Entry::Merge(rule) => read_merge(entries, &mut cut, &rule, ctx)?,
            other => entries.push(other),
        }
    }
    Ok(())
}

/// Push one frame on every live dir-merge rule for the directory in `ctx`.
pub(crate) fn enter(seq: &mut RuleSeq, ctx: &mut LoadCtx<'_>) -> Result<(), FilterError> {
    if ctx.dir.is_none() {
        return Ok(());
    }
    seq.each_dir_merge(|dm| {
        for f in dm.frames.iter_mut() {
            enter(&mut f.seq, ctx)?;
        }
        let frame = build_frame(&dm.rule, ctx)?;
        dm.frames.push(frame);
        Ok(())
    })
}

/// Pop the newest frame of every live dir-merge rule.
pub(crate) fn leave(seq: &mut RuleSeq) {
    let _ = seq.each_dir_merge(|dm| -> Result<(), ()> {
        dm.frames.pop();
        for f in dm.frames.iter_mut() {
            leave(&mut f.seq);
        }
        Ok(())
    });
}
