//! Filter-rule parsing, mirroring rsync's `parse_rule_tok()` in exclude.c.
//!
//! Accepted syntax (protocol 29 and later, and in merge files): a short rule
//! letter (`+ - . : H S P R !`) or a long name (`include`, `exclude`, `merge`,
//! `dir-merge`, `hide`, `show`, `protect`, `risk`, `clear`), an optional `,`,
//! modifiers (`/ ! C s r p x`, plus `- + e n w` on merge rules), then one
//! space or `_` and the pattern. Protocol 27 and 28 peers send the old form:
//! an optional `- ` or `+ ` prefix (otherwise the text is an exclude pattern)
//! and a lone `!` clears the list; modifiers do not exist there.
//!
//! Merge-file names are confined: a single path component, optionally with a
//! leading `/` (meaning the transfer root); `..`, `.` and inner slashes are
//! refused. Error values never carry rule text, so a rule read from a file the
//! peer named cannot be echoed back.

use super::wildmatch::Compiled;
use super::FilterError;

/// Longest pattern accepted (rsync's MAXPATHLEN).
pub const MAX_PATTERN_LEN: usize = 4096;

/// What a rule does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleKind {
    /// `+` / `include` (also `S`, `R`).
    Include,
    /// `-` / `exclude` (also `H`, `P`).
    Exclude,
    /// `!` / `clear`: drop the rules gathered so far in the current list.
    Clear,
    /// `.` / `merge`: read more rules from a named file once.
    Merge,
    /// `:` / `dir-merge`: read a named file in every directory walked.
    DirMerge,
}

/// Rule modifiers (see rsync.1 "FILTER RULE MODIFIERS").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Modifiers {
    /// `/`: match against the absolute (root-prefixed) path.
    pub abs_path: bool,
    /// `!`: the rule applies when the pattern does NOT match.
    pub negate: bool,
    /// `C`: CVS mode (`-C` inserts the default CVS excludes, `:C` reads .cvsignore).
    pub cvs: bool,
    /// `s`, `H`, `S`: affects the sending side.
    pub sender: bool,
    /// `r`, `P`, `R`: affects the receiving side.
    pub receiver: bool,
    /// `p`: ignored inside directories that are being deleted.
    pub perishable: bool,
    /// `x`: applies to xattr names only (never to file names).
    pub xattr: bool,
    /// `e` (merge rules): also exclude the merge file itself.
    pub exclude_self: bool,
    /// `n` (merge rules): rules are not inherited by subdirectories.
    pub no_inherit: bool,
    /// `w` (merge rules): the file is split on whitespace, not lines.
    pub word_split: bool,
    /// `-`/`+` (merge rules): lines are bare patterns, no rule prefixes.
    pub no_prefixes: bool,
    /// With `no_prefixes`: the bare patterns are includes (`+`).
    pub default_include: bool,
}

/// Derived matching data for an include/exclude pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Matcher {
    pub(crate) wild: bool,
    pub(crate) wild2: bool,
    pub(crate) wild2_prefix: bool,
    pub(crate) wild3_suffix: bool,
    pub(crate) slash_cnt: usize,
    pub(crate) compiled: Option<Compiled>,
}

impl Matcher {
    fn new(pattern: &[u8]) -> Self {
        let wild = pattern.iter().any(|b| matches!(b, b'*' | b'[' | b'?'));
        let wild2 = wild && pattern.windows(2).any(|w| w == b"**");
        Matcher {
            wild,
            wild2,
            wild2_prefix: wild2 && pattern.starts_with(b"**"),
            wild3_suffix: wild2 && pattern.ends_with(b"***"),
            slash_cnt: pattern.iter().filter(|&&b| b == b'/').count(),
            compiled: wild.then(|| Compiled::new(pattern.strip_prefix(b"/").unwrap_or(pattern))),
        }
    }
}

/// One parsed filter rule.
#[derive(Clone, PartialEq, Eq)]
pub struct Rule {
    /// Rule type.
    pub kind: RuleKind,
    /// Pattern (trailing `/` removed when `dir_only`), or merge-file name
    /// (without the leading `/`; see `rooted`).
    pub pattern: Vec<u8>,
    /// Modifiers.
    pub mods: Modifiers,
    /// The pattern ended in `/`: matches directories only.
    pub dir_only: bool,
    /// Merge rules: the name was written with a leading `/`.
    pub rooted: bool,
    pub(crate) matcher: Matcher,
    /// Per-directory anchoring: a `/`-anchored rule read from a dir-merge
    /// file matches relative to that file's directory (relative to the root).
    pub(crate) anchor_dir: Option<Vec<u8>>,
}

/// Defaults a merge rule hands to the rules read from its file.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Template {
    pub(crate) mods: Modifiers,
}

impl Template {
    pub(crate) fn from_merge(rule: &Rule) -> Self {
        Template { mods: rule.mods }
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Match a long rule name at the start of `s`. Returns the index of the last
/// byte consumed (the modifier scan starts after it), or `None`.
fn long_name(s: &[u8], name: &[u8]) -> Option<usize> {
    if !s.starts_with(name) {
        return None;
    }
    match s.get(name.len()) {
        None => Some(name.len() - 1),
        Some(&c) if is_space(c) || c == b'_' => Some(name.len() - 1),
        Some(b',') => Some(name.len()),
        Some(_) => None,
    }
}

/// Validate a merge-file name: one component, optional leading `/`.
/// Returns (name, rooted).
fn merge_name(pat: &[u8]) -> Result<(Vec<u8>, bool), FilterError> {
    if pat.is_empty() {
        return Ok((b".cvsignore".to_vec(), false));
    }
    let (rooted, name) = match pat.strip_prefix(b"/") {
        Some(rest) => (true, rest),
        None => (false, pat),
    };
    if name.is_empty() || name == b"." || name == b".." || name.contains(&b'/') {
        return Err(FilterError::UnsafeMergeName);
    }
    Ok((name.to_vec(), rooted))
}

impl Rule {
    /// Build an include/exclude rule from a pattern (a trailing `/` makes it
    /// directory-only).
    pub fn new(kind: RuleKind, pattern: &[u8], mods: Modifiers) -> Self {
        let mut pat = pattern;
        let mut dir_only = false;
        if matches!(kind, RuleKind::Include | RuleKind::Exclude) && pat.len() > 1 {
            if let Some(stripped) = pat.strip_suffix(b"/") {
                pat = stripped;
                dir_only = true;
            }
        }
        Rule {
            kind,
            pattern: pat.to_vec(),
            mods,
            dir_only,
            rooted: false,
            matcher: Matcher::new(pat),
            anchor_dir: None,
        }
    }

    /// Is this rule an include (for include/exclude kinds)?
    pub fn is_include(&self) -> bool {
        self.kind == RuleKind::Include
    }

    /// Short-form prefix as rsync prints it (e.g. `-/ `, `:n- `, `+ `).
    pub fn prefix(&self) -> String {
        let mut p = String::new();
        p.push(match self.kind {
            RuleKind::Include => '+',
            RuleKind::Exclude => '-',
            RuleKind::Clear => '!',
            RuleKind::Merge => '.',
            RuleKind::DirMerge => ':',
        });
        let m = &self.mods;
        let flags = [
            (m.abs_path, '/'),
            (m.negate, '!'),
            (m.cvs, 'C'),
            (m.no_inherit && !m.cvs, 'n'),
            (m.word_split && !m.cvs, 'w'),
            (m.no_prefixes && !m.cvs && !m.default_include, '-'),
            (m.no_prefixes && !m.cvs && m.default_include, '+'),
            (m.exclude_self, 'e'),
            (m.xattr, 'x'),
            (m.sender, 's'),
            (m.receiver, 'r'),
            (m.perishable, 'p'),
        ];
        p.extend(flags.iter().filter(|f| f.0).map(|f| f.1));
        if self.kind != RuleKind::Clear {
            p.push(' ');
        }
        p
    }
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = self.prefix();
        if self.rooted {
            s.push('/');
        }
        s.push_str(
            &String::from_utf8_lossy(&self.pattern)
                .escape_debug()
                .to_string(),
        );
        if self.dir_only {
            s.push('/');
        }
        if let Some(d) = &self.anchor_dir {
            s.push_str(&format!(" [in {:?}]", String::from_utf8_lossy(d)));
        }
        f.write_str(&s)
    }
}

/// Parse one rule received on the wire (rsync's `recv_filter_list()`):
/// protocol < 29 uses the old `+ `/`- ` prefixes only.
pub fn parse_wire_rule(text: &[u8], protocol: u32) -> Result<Rule, FilterError> {
    if text.contains(&0) {
        return Err(FilterError::NulByte);
    }
    parse_rule(text, &Template::default(), protocol < 29)
}

/// Parse one rule with a merge template (`Template::default()` for none).
pub(crate) fn parse_rule(s: &[u8], t: &Template, old_prefixes: bool) -> Result<Rule, FilterError> {
    let tm = &t.mods;
    let mut mods = Modifiers {
        abs_path: tm.abs_path,
        negate: tm.negate,
        perishable: tm.perishable,
        ..Modifiers::default()
    };
    let mut include = tm.no_prefixes && tm.default_include;
    let mut clear = false;
    let mut merge: Option<RuleKind> = None;
    let mut pos = 0usize; // start of the pattern
    let full_syntax = !tm.no_prefixes && !old_prefixes;
    if tm.no_prefixes {
        clear = s.first() == Some(&b'!') && tm.cvs;
    } else if old_prefixes {
        if s.starts_with(b"- ") {
            pos = 2;
        } else if s.starts_with(b"+ ") {
            include = true;
            pos = 2;
        } else {
            clear = s.first() == Some(&b'!');
        }
    } else {
        let first = *s.first().ok_or(FilterError::UnexpectedEnd)?;
        const LONG: &[(&[u8], u8)] = &[
            (b"clear", b'!'),
            (b"dir-merge", b':'),
            (b"exclude", b'-'),
            (b"hide", b'H'),
            (b"include", b'+'),
            (b"merge", b'.'),
            (b"protect", b'P'),
            (b"risk", b'R'),
            (b"show", b'S'),
        ];
        let (ch, last) = match LONG.iter().find(|(n, _)| n.first() == Some(&first)) {
            Some(&(name, ch)) => (ch, long_name(s, name).ok_or(FilterError::UnknownRule)?),
            None => (first, usize::from(s.get(1) == Some(&b','))),
        };
        let mut side_prefix = false;
        match ch {
            b':' => merge = Some(RuleKind::DirMerge),
            b'.' => merge = Some(RuleKind::Merge),
            b'+' => include = true,
            b'-' => {}
            b'S' | b'H' => {
                include = ch == b'S';
                mods.sender = true;
                side_prefix = true;
            }
            b'R' | b'P' => {
                include = ch == b'R';
                mods.receiver = true;
                side_prefix = true;
            }
            b'!' => clear = true,
            _ => return Err(FilterError::UnknownRule),
        }
        let mut i = last + 1;
        if !clear {
            while let Some(&c) = s.get(i) {
                if c == b' ' || c == b'_' {
                    break;
                }
                let is_merge = merge.is_some();
                match c {
                    b'-' | b'+' if is_merge && !mods.no_prefixes => {
                        mods.no_prefixes = true;
                        mods.default_include = c == b'+';
                    }
                    b'/' => mods.abs_path = true,
                    b'!' if !is_merge => mods.negate = true,
                    b'C' if !mods.no_prefixes && !side_prefix => {
                        mods.no_prefixes = true;
                        mods.word_split = true;
                        mods.no_inherit = true;
                        mods.cvs = true;
                    }
                    b'e' if is_merge => mods.exclude_self = true,
                    b'n' if is_merge => mods.no_inherit = true,
                    b'w' if is_merge => mods.word_split = true,
                    b'p' => mods.perishable = true,
                    b'r' if !side_prefix => mods.receiver = true,
                    b's' if !side_prefix => mods.sender = true,
                    b'x' => mods.xattr = true,
                    _ => return Err(FilterError::InvalidModifier),
                }
                i += 1;
            }
        }
        // Skip the one separator (or, for a clear rule, the byte after it).
        pos = if i < s.len() { i + 1 } else { s.len() };
        if clear {
            pos = last + 1;
        }
    }
    if tm.sender || tm.receiver {
        if mods.sender || mods.receiver {
            return Err(FilterError::SideConflict);
        }
        mods.sender = tm.sender;
        mods.receiver = tm.receiver;
    }
    let pat = s.get(pos..).unwrap_or(&[]);
    if clear {
        if full_syntax && !pat.is_empty() {
            return Err(FilterError::ClearTrailing);
        }
        if pat.len() <= 1 {
            return Ok(Rule::new(RuleKind::Clear, b"", mods));
        }
    } else if pat.is_empty() && !mods.cvs {
        return Err(FilterError::UnexpectedEnd);
    }
    if pat.len() >= MAX_PATTERN_LEN {
        return Err(FilterError::PatternTooLong);
    }
    if let Some(kind) = merge {
        let (name, rooted) = merge_name(pat)?;
        let mut r = Rule::new(kind, &name, mods);
        r.rooted = rooted;
        return Ok(r);
    }
    let kind = if include {
        RuleKind::Include
    } else {
        RuleKind::Exclude
    };
    Ok(Rule::new(kind, pat, mods))
}

#[cfg(test)]
#[path = "rule_tests.rs"]
mod tests;
