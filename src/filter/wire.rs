//! Receiving the client's filter list, mirroring rsync's `recv_filter_list()`
//! and the server half of `-C` handling (exclude.c), protocols 27 to 32.
//!
//! Wire format: repeated little-endian int32 length + rule text, ended by a
//! zero length. Protocol < 29 rules use the old `+ `/`- ` prefix form. The
//! length is validated before anything is allocated: at most
//! [`MAX_RULE_LEN`] bytes per rule, [`MAX_RULES`](super::MAX_RULES) rules and
//! [`MAX_WIRE_BYTES`] bytes of rule text in total.

use std::io::Read;

use super::list::FilterList;
use super::rule::{parse_rule, Template};
use super::{FilterError, Side};

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

/// Read the client's rules until the zero-length terminator.
pub fn recv_filter_list(r: &mut impl Read, protocol: u32) -> Result<FilterList, FilterError> {
    let mut list = FilterList::new(protocol);
    let mut total = 0usize;
    loop {
        let mut b = [0u8; 4];
        r.read_exact(&mut b)?;
        let len = i32::from_le_bytes(b);
        if len == 0 {
            break;
        }
        let len = usize::try_from(len).map_err(|_| FilterError::BadLength)?;
        if len > MAX_RULE_LEN {
            return Err(FilterError::RuleTooLong);
        }
        total += len;
        if total > MAX_WIRE_BYTES {
            return Err(FilterError::TooManyRules);
        }
        let mut buf = vec![0u8; len];
        r.read_exact(&mut buf)?;
        match list.push_wire_rule(&buf) {
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
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::filter::{Decision, MAX_RULES};

    #[test]
    fn reads_until_terminator() {
        let bytes = encode_rules([&b"- *.o"[..], b"+ /keep/", b": /.rsync-filter"]);
        let list = recv_filter_list(&mut &bytes[..], 31).unwrap();
        assert_eq!(list.len(), 3);
        assert!(list.has_dir_merges());
        assert_eq!(list.check(b"a/x.o", false), Decision::Exclude);
        assert_eq!(list.check(b"keep", true), Decision::Include);
    }

    #[test]
    fn empty_list() {
        let bytes = 0i32.to_le_bytes();
        let list = recv_filter_list(&mut &bytes[..], 30).unwrap();
        assert!(list.is_empty());
    }

    #[test]
    fn length_checked_before_allocation() {
        let mut bytes = (i32::MAX).to_le_bytes().to_vec();
        bytes.extend_from_slice(b"x");
        assert!(matches!(
            recv_filter_list(&mut &bytes[..], 31),
            Err(FilterError::RuleTooLong)
        ));
        let bytes = (-5i32).to_le_bytes();
        assert!(matches!(
            recv_filter_list(&mut &bytes[..], 31),
            Err(FilterError::BadLength)
        ));
        let mut bytes = 4097i32.to_le_bytes().to_vec();
        bytes.extend_from_slice(&[b'a'; 4097]);
        assert!(matches!(
            recv_filter_list(&mut &bytes[..], 31),
            Err(FilterError::RuleTooLong)
        ));
        let ok = [b'a'; 4095];
        let bytes = encode_rules([&ok[..]]);
        assert!(recv_filter_list(&mut &bytes[..], 28).is_ok());
    }

    #[test]
    fn truncated_input_is_io_error() {
        let mut bytes = 10i32.to_le_bytes().to_vec();
        bytes.extend_from_slice(b"- a");
        assert!(matches!(
            recv_filter_list(&mut &bytes[..], 31),
            Err(FilterError::Io(_))
        ));
        assert!(matches!(
            recv_filter_list(&mut &b"\x05\0"[..], 31),
            Err(FilterError::Io(_))
        ));
    }

    #[test]
    fn rule_count_capped() {
        let mut bytes = Vec::new();
        for _ in 0..=MAX_RULES {
            bytes.extend_from_slice(&1i32.to_le_bytes());
            bytes.push(b'x');
        }
        bytes.extend_from_slice(&0i32.to_le_bytes());
        assert!(matches!(
            recv_filter_list(&mut &bytes[..], 28),
            Err(FilterError::TooManyRules)
        ));
    }

    #[test]
    fn old_protocol_forms() {
        let bytes = encode_rules([&b"- - weird"[..], b"+ *.c", b"*.o", b"!", b"core"]);
        let list = recv_filter_list(&mut &bytes[..], 28).unwrap();
        // "!" cleared the first three; only "core" (an exclude) remains.
        assert_eq!(list.len(), 1);
        assert_eq!(list.check(b"core", false), Decision::Exclude);
        assert_eq!(list.check(b"x.o", false), Decision::Neither);
        let bytes = encode_rules([&b"- - weird"[..], b"+ *.c", b"*.o"]);
        let list = recv_filter_list(&mut &bytes[..], 27).unwrap();
        assert_eq!(list.check(b"- weird", false), Decision::Exclude);
        assert_eq!(list.check(b"a.c", false), Decision::Include);
        assert_eq!(list.check(b"a.o", false), Decision::Exclude);
        // Modern prefixes are plain patterns to an old-protocol parser.
        let bytes = encode_rules([&b"-/ x"[..]]);
        let list = recv_filter_list(&mut &bytes[..], 28).unwrap();
        assert_eq!(list.check(b"-/ x", false), Decision::Exclude);
        assert_eq!(list.check(b"x", false), Decision::Neither);
    }

    #[test]
    fn server_cvs_rules() {
        let mut list = FilterList::new(31);
        list.add_server_cvs_rules(Side::Sender).unwrap();
        assert!(list.has_dir_merges());
        assert_eq!(list.check(b"src/x.o", false), Decision::Exclude);
        assert_eq!(list.check(b".git", true), Decision::Exclude);
        assert_eq!(list.check(b".git", false), Decision::Neither);
        // Perishable from protocol 30: ignored inside a doomed directory.
        assert_eq!(list.check_receiver(b"x.o", false, true), Decision::Neither);
        let mut old = FilterList::new(29);
        old.add_server_cvs_rules(Side::Sender).unwrap();
        assert_eq!(old.check_receiver(b"x.o", false, true), Decision::Exclude);
        let mut recv = FilterList::new(31);
        recv.add_server_cvs_rules(Side::Receiver).unwrap();
        assert!(recv.is_empty());
        let mut recv = FilterList::new(28);
        recv.add_server_cvs_rules(Side::Receiver).unwrap();
        assert!(recv.has_dir_merges());
        assert_eq!(recv.check(b"x.o", false), Decision::Neither);
    }

    #[test]
    fn expected() {
        assert!(list_expected(Side::Sender, 27, false, false, false));
        assert!(!list_expected(Side::Receiver, 31, false, false, false));
        assert!(list_expected(Side::Receiver, 31, true, true, false));
        assert!(!list_expected(Side::Receiver, 28, true, true, false));
        assert!(list_expected(Side::Receiver, 28, true, false, false));
        assert!(list_expected(Side::Receiver, 28, false, false, true));
    }
}
