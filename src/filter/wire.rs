//! Receiving the client's filter list, mirroring rsync's `recv_filter_list()`
//! and the server half of `-C` handling (exclude.c), protocols 27 to 32.
//!
//! Wire format: repeated little-endian int32 length + rule text, ended by a
//! zero length. Protocol < 29 rules use the old `+ `/`- ` prefix form. The
//! length is validated before anything is allocated: at most
//! [`MAX_RULE_LEN`] bytes per rule, [`MAX_RULES`](super::MAX_RULES) rules and
//! [`MAX_WIRE_BYTES`] bytes of rule text in total.
//!
//! [`RuleDecoder`] decodes one record from bytes (or says "incomplete");
//! [`recv_filter_list`] runs it over a blocking stream.

#[cfg(test)]
use std::io::Read;

use super::list::FilterList;
use super::rule::{parse_rule, Template};
use super::{FilterError, Side};
#[cfg(test)]
use crate::wire::{read_exact_via, StreamError};
use crate::wire::{CodecError, Reader, Step};

/// Longest rule accepted on the wire.
pub const MAX_RULE_LEN: usize = 4096;
/// Total rule text accepted on the wire.
pub const MAX_WIRE_BYTES: usize = 16 << 20;

/// The default CVS ignore list (rsync.1, `--cvs-exclude`).
pub const DEFAULT_CVS_IGNORE: &[&[u8]] = &[
    b"RCS",
    b"SCCS",
    b"CVS",
    b"CVS.adm",
    b"RCSLOG",
    b"cvslog.*",
    b"tags",
    b"TAGS",
    b".make.state",
    b".nse_depinfo",
    b"*~",
    b"#*",
    b".#*",
    b",*",
    b"_$*",
    b"*$",
    b"*.old",
    b"*.bak",
    b"*.BAK",
    b"*.orig",
    b"*.rej",
    b".del-*",
    b"*.a",
    b"*.olb",
    b"*.o",
    b"*.obj",
    b"*.so",
    b"*.exe",
    b"*.Z",
    b"*.elc",
    b"*.ln",
    b"core",
    b".svn/",
    b".git/",
    b".hg/",
    b".bzr/",
];

/// Whether the client sends a filter list to a server acting as `side`
/// (rsync: always to a sender; to a receiver with -m, or with a delete mode
/// unless --delete-excluded on protocol < 29).
pub fn list_expected(
    side: Side,
    protocol: u32,
    delete_mode: bool,
    delete_excluded: bool,
    prune_empty_dirs: bool,
) -> bool {
    match side {
        Side::Sender => true,
        Side::Receiver => prune_empty_dirs || (delete_mode && (!delete_excluded || protocol >= 29)),
    }
}

/// What a too-long rule is reported as ([`FilterError::RuleTooLong`]).
const WHAT_RULE: &str = "a filter rule";
/// What too much rule text is reported as ([`FilterError::TooManyRules`]).
const WHAT_TOTAL: &str = "the filter rules";

/// Decoder of the filter list's records: an int32 length, then that many
/// bytes of rule text; a zero length ends the list. It counts the rule text
/// received so far, which changes only when a whole record was decoded.
#[derive(Debug, Clone, Default)]
pub struct RuleDecoder {
    total: usize,
}

impl RuleDecoder {
    /// A decoder at the start of a list.
    pub fn new() -> Self {
        Self::default()
    }

    /// One record: the rule text, or `None` at the end of the list. A
    /// negative length, a rule longer than [`MAX_RULE_LEN`] or more than
    /// [`MAX_WIRE_BYTES`] of rule text in all is refused before the text
    /// itself is looked at (see [`FilterError::from_codec`]).
    pub fn decode<'a>(&mut self, r: &mut Reader<'a>) -> Step<Option<&'a [u8]>> {
        let len = r.i32()?;
        if len == 0 {
            return Ok(None);
        }
        let len = usize::try_from(len).map_err(|_| CodecError::OutOfRange(WHAT_RULE))?;
        if len > MAX_RULE_LEN {
            return Err(CodecError::TooLong(WHAT_RULE).into());
        }
        let total = self.total.saturating_add(len);
        if total > MAX_WIRE_BYTES {
            return Err(CodecError::TooLong(WHAT_TOTAL).into());
        }
        let text = r.take(len)?;
        self.total = total;
        Ok(Some(text))
    }
}

impl FilterError {
    /// The error for what [`RuleDecoder::decode`] refused.
    pub fn from_codec(e: CodecError) -> Self {
        match e {
            CodecError::TooLong(WHAT_TOTAL) => FilterError::TooManyRules,
            CodecError::TooLong(_) => FilterError::RuleTooLong,
            _ => FilterError::BadLength,
        }
    }
}

#[cfg(test)]
/// Read the client's rules until the zero-length terminator (the bridge
/// over [`RuleDecoder`] for a blocking stream; the stream's errors are
/// kept as they are).
pub fn recv_filter_list(r: &mut impl Read, protocol: u32) -> Result<FilterList, FilterError> {
    let mut list = FilterList::new(protocol);
    let mut dec = RuleDecoder::new();
    let mut held = Vec::new();
    loop {
        let rule = read_exact_via(r, &mut held, |x| {
            dec.decode(x).map(|t| t.map(<[u8]>::to_vec))
        })
        .map_err(|e| match e {
            StreamError::Io(e) => FilterError::Io(e),
            StreamError::Invalid(e) => FilterError::from_codec(e),
        })?;
        let Some(rule) = rule else {
            break;
        };
        match list.push_wire_rule(&rule) {
            // A merge rule naming a file outside the root is skipped, not
            // the whole transfer (rsync 3.5 `--confine-root`).
            Err(FilterError::UnsafeMergeName) => list.skipped += 1,
            r => r?,
        }
    }
    Ok(list)
}

impl FilterList {
    /// What an rsync server adds after receiving the list when it was
    /// started with `-C`: `:C` (per-directory .cvsignore) for a sender, or
    /// for a receiver on protocol < 29, then `-C` (the default list) for a
    /// sender. A receiver on protocol >= 29 got both from the client.
    pub fn add_server_cvs_rules(&mut self, side: Side) -> Result<(), FilterError> {
        let t = Template::default();
        if side == Side::Sender || self.protocol < 29 {
            self.push_rule(parse_rule(b":C", &t, false)?)?;
        }
        if side == Side::Sender {
            self.push_rule(parse_rule(b"-C", &t, false)?)?;
        }
        Ok(())
    }
}

/// Encode rules as the client would send them (tests and tools).
pub fn encode_rules<'a>(rules: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for r in rules {
        let len = i32::try_from(r.len()).unwrap_or(i32::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(r);
    }
    out.extend_from_slice(&0i32.to_le_bytes());
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#[path = "wire_tests.rs"]
mod tests;
