//! Validated client-relative paths.
//!
//! Mirrors the name sanitising upstream rsync does on paths received from a
//! client (`sanitize_path()` / `clean_fname()` with `--safe-links`-style
//! rejection of `..`), for all protocol versions (27-32). Unlike upstream we
//! *reject* `..`, absolute paths and NUL instead of rewriting them: a
//! [`RelPath`] can only be built through [`RelPath::new`], so every syscall in
//! [`crate::fs`] receives a name that is relative, `..`-free and bounded.
//!
//! Names are raw bytes: Unix file names need not be UTF-8.

use std::fmt;

/// Longest accepted path, in bytes (Linux `PATH_MAX`).
pub const MAX_PATH_LEN: usize = 4096;
/// Longest accepted single component, in bytes (Linux `NAME_MAX`).
pub const MAX_NAME_LEN: usize = 255;

/// Why a client-supplied name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// The name contains a NUL byte.
    #[error("path contains a NUL byte")]
    Nul,
    /// The name starts with `/`.
    #[error("absolute path not allowed")]
    Absolute,
    /// A component is `..`.
    #[error("path component \"..\" not allowed")]
    DotDot,
    /// The whole path is longer than [`MAX_PATH_LEN`].
    #[error("path longer than {MAX_PATH_LEN} bytes")]
    TooLong,
    /// One component is longer than [`MAX_NAME_LEN`].
    #[error("path component longer than {MAX_NAME_LEN} bytes")]
    ComponentTooLong,
    /// A single file name was expected but the bytes are empty, `.`, `..`
    /// or contain `/`.
    #[error("not a single file name")]
    NotAName,
}

impl From<PathError> for std::io::Error {
    fn from(e: PathError) -> Self {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, e)
    }
}

/// A relative path beneath the root: no NUL, no leading `/`, no `..`, no
/// `.` or empty components (they are normalized away), bounded length.
///
/// The empty path means the root directory itself.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct RelPath {
    /// Normalized bytes: components joined by single `/`, no leading or
    /// trailing slash.
    bytes: Vec<u8>,
    /// Whether the client's spelling ended in `/` (rsync gives that meaning
    /// for source arguments: "the contents of").
    trailing_slash: bool,
}

impl RelPath {
    /// Validate and normalize a client-supplied path.
    ///
    /// `""`, `"."`, `"./"` all mean the root. `a//b/./c/` becomes `a/b/c`
    /// with [`RelPath::had_trailing_slash`] set.
    pub fn new(raw: &[u8]) -> Result<RelPath, PathError> {
        Self::from_buf(raw.to_vec())
    }

    /// [`Self::new`] of the bytes in `buf`, in its allocation when they
    /// are already in normal form (what a file list brings). A caller
    /// that makes a path per entry takes each one's buffer back with
    /// [`Self::into_bytes`], and allocates once.
    pub fn from_buf(buf: Vec<u8>) -> Result<RelPath, PathError> {
        if scan(&buf)? {
            return Ok(RelPath {
                bytes: buf,
                trailing_slash: false,
            });
        }
        let mut bytes = Vec::with_capacity(buf.len());
        for comp in buf.split(|&b| b == b'/') {
            if comp != b"" && comp != b"." {
                if !bytes.is_empty() {
                    bytes.push(b'/');
                }
                bytes.extend_from_slice(comp);
            }
        }
        Ok(RelPath {
            bytes,
            trailing_slash: buf.last() == Some(&b'/'),
        })
    }

    /// The path's buffer, for [`Self::from_buf`] to use again.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// The root directory itself.
    pub fn root() -> RelPath {
        RelPath::default()
    }

    /// Normalized bytes (empty for the root).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// True for the root directory itself.
    pub fn is_root(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Whether the original spelling ended in `/`.
    pub fn had_trailing_slash(&self) -> bool {
        self.trailing_slash
    }

    /// Components, each a non-empty name other than `.` and `..`.
    pub fn components(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.bytes.split(|&b| b == b'/').filter(|c| !c.is_empty())
    }

    /// The containing directory, or `None` for the root.
    pub fn parent(&self) -> Option<RelPath> {
        if self.is_root() {
            return None;
        }
        let bytes = match self.bytes.iter().rposition(|&b| b == b'/') {
            Some(i) => self.bytes.get(..i).unwrap_or_default().to_vec(),
            None => Vec::new(),
        };
        Some(RelPath {
            bytes,
            trailing_slash: false,
        })
    }

    /// The last component, or `None` for the root.
    pub fn file_name(&self) -> Option<&[u8]> {
        if self.is_root() {
            return None;
        }
        match self.bytes.iter().rposition(|&b| b == b'/') {
            Some(i) => self.bytes.get(i + 1..),
            None => Some(&self.bytes),
        }
    }

    /// Split into (parent bytes, final name); `None` for the root.
    pub(crate) fn split_last(&self) -> Option<(&[u8], &[u8])> {
        if self.is_root() {
            return None;
        }
        match self.bytes.iter().rposition(|&b| b == b'/') {
            Some(i) => Some((self.bytes.get(..i)?, self.bytes.get(i + 1..)?)),
            None => Some((&[], &self.bytes)),
        }
    }

    /// Append a relative path (one name or several components), validating
    /// it with the same rules as [`RelPath::new`].
    pub fn join(&self, name: &[u8]) -> Result<RelPath, PathError> {
        // A directory entry's name, one plain component, needs no parsing:
        // the walk joins one per file listed.
        match check_name(name) {
            Ok(name) => self.append(name, false),
            Err(_) => self.join_parsed(name),
        }
    }

    /// [`Self::join`] through [`RelPath::new`], for any `name`.
    pub(crate) fn join_parsed(&self, name: &[u8]) -> Result<RelPath, PathError> {
        let tail = RelPath::new(name)?;
        if tail.is_root() {
            return Ok(RelPath {
                bytes: self.bytes.clone(),
                trailing_slash: tail.trailing_slash || self.trailing_slash,
            });
        }
        if self.is_root() {
            return Ok(tail);
        }
        self.append(&tail.bytes, tail.trailing_slash)
    }

    /// Whether [`Self::join`] of a directory entry's `name` stays within
    /// [`MAX_PATH_LEN`], without making the path.
    pub fn can_join(&self, name: &[u8]) -> bool {
        self.joined_len(name) <= MAX_PATH_LEN
    }

    /// The length of this path, `/` and `tail`.
    fn joined_len(&self, tail: &[u8]) -> usize {
        match self.is_root() {
            true => tail.len(),
            false => self.bytes.len() + 1 + tail.len(),
        }
    }

    /// This path, `/` and the normalized, non-empty `tail`.
    fn append(&self, tail: &[u8], trailing_slash: bool) -> Result<RelPath, PathError> {
        let len = self.joined_len(tail);
        if len > MAX_PATH_LEN {
            return Err(PathError::TooLong);
        }
        let mut bytes = Vec::with_capacity(len);
        if !self.is_root() {
            bytes.extend_from_slice(&self.bytes);
            bytes.push(b'/');
        }
        bytes.extend_from_slice(tail);
        Ok(RelPath {
            bytes,
            trailing_slash,
        })
    }
}

impl fmt::Debug for RelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RelPath({:?})", String::from_utf8_lossy(&self.bytes))
    }
}

impl fmt::Display for RelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_root() {
            f.write_str(".")
        } else {
            f.write_str(&String::from_utf8_lossy(&self.bytes))
        }
    }
}

/// Checks a client-supplied path against [`RelPath::new`]'s rules, and
/// says whether it is already in normal form: no empty or `.`
/// component, so no trailing `/` either.
fn scan(raw: &[u8]) -> Result<bool, PathError> {
    // The common case, a name already in normal form, in one pass; the
    // rest (and every refusal) takes the slower look below.
    let fits = |longest| raw.len() <= MAX_PATH_LEN && longest <= MAX_NAME_LEN;
    if plain_components(raw).is_some_and(fits) {
        return Ok(true);
    }
    if raw.contains(&0) {
        return Err(PathError::Nul);
    }
    if raw.first() == Some(&b'/') {
        return Err(PathError::Absolute);
    }
    if raw.len() > MAX_PATH_LEN {
        return Err(PathError::TooLong);
    }
    let mut normal = true;
    for comp in raw.split(|&b| b == b'/') {
        match comp {
            b"" | b"." => normal = false,
            b".." => return Err(PathError::DotDot),
            c if c.len() > MAX_NAME_LEN => return Err(PathError::ComponentTooLong),
            _ => {}
        }
    }
    Ok(normal)
}

/// One pass over a `/`-separated name: the length of its longest
/// component if every component is a plain name (not empty, `.` or `..`,
/// no NUL byte), so the name is relative, without a trailing `/`, and
/// `..`-free; else `None`.
pub fn plain_components(s: &[u8]) -> Option<usize> {
    // `len` bytes in the current component, `dots` of them dots: the
    // component is `.` or `..` exactly when the two are equal and below 3.
    let (mut len, mut dots, mut longest) = (0usize, 0usize, 0usize);
    let plain = |len: usize, dots: usize| len != 0 && !(dots == len && len <= 2);
    for &b in s {
        match b {
            0 => return None,
            b'/' => {
                if !plain(len, dots) {
                    return None;
                }
                longest = longest.max(len);
                (len, dots) = (0, 0);
            }
            b'.' => (len, dots) = (len + 1, dots + 1),
            _ => len += 1,
        }
    }
    plain(len, dots).then_some(longest.max(len))
}

/// Check that `name` is one directory entry name: non-empty, no `/`, no NUL,
/// not `.` or `..`, at most [`MAX_NAME_LEN`] bytes.
pub fn check_name(name: &[u8]) -> Result<&[u8], PathError> {
    if name.contains(&0) {
        return Err(PathError::Nul);
    }
    if name.is_empty() || name == b"." || name == b".." || name.contains(&b'/') {
        return Err(PathError::NotAName);
    }
    if name.len() > MAX_NAME_LEN {
        return Err(PathError::ComponentTooLong);
    }
    Ok(name)
}
