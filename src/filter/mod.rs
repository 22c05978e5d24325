//! Filter rules: rsync's include/exclude/filter machinery (exclude.c and
//! lib/wildmatch.c) for the server side, protocols 27 to 32.
//!
//! - [`RuleDecoder`] decodes the client's rules (int32 length + text,
//!   zero-terminated; old `+ `/`- ` form before protocol 29) from bytes.
//! - [`FilterList::check`] / [`FilterList::check_receiver`] apply them with
//!   rsync's first-match-wins semantics.
//! - [`FilterStack`] adds per-directory merge files (`: .rsync-filter`,
//!   `-F`, `:C` .cvsignore) as the caller's directory walk enters and leaves
//!   directories; files are read only through the caller's callback.
//! - [`wildmatch`] is the pattern matcher, linear in text x pattern length.
//!
//! Trailing backslash (cf. the 1-byte overflow upstream had there): rules
//! are owned byte vectors here, so no out-of-bounds access is possible. In a
//! literal pattern (no `*?[`) the backslash is an ordinary byte, as upstream;
//! in a wildcard pattern a lone trailing `\` matches a literal `\` (upstream
//! never matches such a pattern). Rules ending in `\` are accepted.
//!
//! Errors never include rule text: a merge file is chosen by the peer, and
//! echoing its lines would turn the parser into a file-reading oracle.

mod list;
mod load;
mod rule;
mod stack;
mod wildmatch;
mod wire;

pub use list::{FilterList, MAX_RULES};
pub use load::{MAX_MERGE_DEPTH, MAX_MERGE_FILE};
pub use rule::{parse_wire_rule, Modifiers, Rule, RuleKind, MAX_PATTERN_LEN};
pub use stack::FilterStack;
pub use wildmatch::wildmatch;
#[cfg(test)]
pub use wire::recv_filter_list;
pub use wire::{
    encode_rules, list_expected, RuleDecoder, DEFAULT_CVS_IGNORE, MAX_RULE_LEN, MAX_WIRE_BYTES,
};

/// Outcome of checking one name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// An include (show/risk) rule matched first.
    Include,
    /// An exclude (hide/protect) rule matched first.
    Exclude,
    /// No rule matched: the name is included by default.
    Neither,
}

impl Decision {
    /// True for [`Decision::Exclude`].
    pub fn is_excluded(self) -> bool {
        self == Decision::Exclude
    }
}

/// Which side of the transfer a check is made for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Building the file list (hide/show rules).
    Sender,
    /// Deciding deletions (protect/risk rules).
    Receiver,
}

/// Filter errors. None of them carries rule text (see the module docs).
#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    #[error("I/O error while reading the filter list: {0}")]
    Io(#[from] std::io::Error),
    #[error("negative filter rule length")]
    BadLength,
    #[error("filter rule longer than {MAX_RULE_LEN} bytes")]
    RuleTooLong,
    #[error("filter pattern of {MAX_PATTERN_LEN} bytes or more")]
    PatternTooLong,
    #[error("too many filter rules (limit {MAX_RULES} rules, {MAX_WIRE_BYTES} bytes)")]
    TooManyRules,
    #[error("filter rule contains a NUL byte")]
    NulByte,
    #[error("unknown filter rule")]
    UnknownRule,
    #[error("invalid modifier in filter rule")]
    InvalidModifier,
    #[error("'!' rule has trailing characters")]
    ClearTrailing,
    #[error("unexpected end of filter rule")]
    UnexpectedEnd,
    #[error("specified-side merge file contains specified-side filter")]
    SideConflict,
    #[error("merge-file name must be one path component, optionally after a leading '/'")]
    UnsafeMergeName,
    #[error("merge file not found")]
    MergeFileMissing,
    #[error("merge file larger than {MAX_MERGE_FILE} bytes")]
    MergeFileTooLarge,
    #[error("merge files nested deeper than {MAX_MERGE_DEPTH}")]
    MergeDepth,
    #[error("invalid directory sequence for per-directory filters")]
    BadDir,
    #[error("filter stack unusable after an earlier error")]
    Poisoned,
}
