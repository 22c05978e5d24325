//! Source arguments as rsync's `send_file_list` reads them: the base
//! directory that is not sent, the name that is, and whether it names a
//! directory's contents (`dir/`, `dir/.`) — for plain and `-R` transfers.

use crate::fs::RelPath;

/// How a source argument names its file (`name_type` in `flist.c`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NameType {
    /// A name sent as such.
    Normal,
    /// A directory whose contents are listed under `.`.
    DotDir,
}

/// The argument as the client wrote it, for messages (no trailing `/.`).
pub(super) fn display_arg(arg: &[u8]) -> Vec<u8> {
    let mut v = arg.to_vec();
    while v.len() > 1 && v.ends_with(b"/") {
        v.pop();
    }
    if v.is_empty() {
        v.push(b'.');
    }
    v
}

/// Splits a non-relative argument into (base directory, wire name, type):
/// `dir/` lists `dir`'s contents as `.`, `dir/x` lists `x` from `dir`.
pub(super) fn split_plain(arg: &[u8]) -> (Vec<u8>, Vec<u8>, NameType) {
    let mut a = arg.to_vec();
    let mut nt = NameType::Normal;
    if a.is_empty() || a.ends_with(b"/") {
        if a == b"./" || a.is_empty() {
            a = b".".to_vec();
        } else {
            a.push(b'.');
        }
        nt = NameType::DotDir;
    } else if a == b"." || a.ends_with(b"/.") {
        nt = NameType::DotDir;
    }
    match a.iter().rposition(|&b| b == b'/') {
        Some(i) => {
            let (d, n) = a.split_at(i);
            (d.to_vec(), n.get(1..).unwrap_or(&[]).to_vec(), nt)
        }
        None => (Vec::new(), a, nt),
    }
}

/// Splits a `-R` argument: the part before a `/./` is the base and is not
/// sent; the rest keeps its full path.
pub(super) fn split_relative(arg: &[u8]) -> (Vec<u8>, Vec<u8>, NameType) {
    let (base, rest) = match find_sub(arg, b"/./") {
        Some(i) => (
            arg.get(..i).unwrap_or(&[]).to_vec(),
            arg.get(i + 3..).unwrap_or(&[]).to_vec(),
        ),
        None => (Vec::new(), arg.to_vec()),
    };
    let mut comps: Vec<&[u8]> = rest
        .split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .collect();
    if comps.is_empty() {
        comps.push(b".");
        return (base, b".".to_vec(), NameType::DotDir);
    }
    (base, comps.join(&b'/'), NameType::Normal)
}

fn find_sub(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

/// Joining a wire name (which may be `.`) onto a base.
pub(super) trait JoinRel {
    fn join_rel(&self, name: &[u8]) -> Result<RelPath, crate::fs::PathError>;
}

impl JoinRel for RelPath {
    fn join_rel(&self, name: &[u8]) -> Result<RelPath, crate::fs::PathError> {
        if name == b"." {
            return Ok(self.clone());
        }
        let mut v = self.as_bytes().to_vec();
        if !v.is_empty() && !self.is_root() {
            v.push(b'/');
        } else {
            v.clear();
        }
        v.extend_from_slice(name);
        RelPath::new(&v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_rsync() {
        assert_eq!(
            split_plain(b"dir/"),
            (b"dir".to_vec(), b".".to_vec(), NameType::DotDir)
        );
        assert_eq!(
            split_plain(b"dir"),
            (Vec::new(), b"dir".to_vec(), NameType::Normal)
        );
        assert_eq!(
            split_plain(b"a/b/c"),
            (b"a/b".to_vec(), b"c".to_vec(), NameType::Normal)
        );
        assert_eq!(
            split_plain(b"."),
            (Vec::new(), b".".to_vec(), NameType::DotDir)
        );
        assert_eq!(
            split_relative(b"a/./b/c"),
            (b"a".to_vec(), b"b/c".to_vec(), NameType::Normal)
        );
        assert_eq!(
            split_relative(b"a/b/"),
            (Vec::new(), b"a/b".to_vec(), NameType::Normal)
        );
    }
}
