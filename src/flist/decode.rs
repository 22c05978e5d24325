//! Decoding entries as `recv_file_entry` and `recv_file_list` do, with
//! every field validated before use: names must be relative and clean,
//! lengths and counts are capped, modes must be real file types, and a
//! hard-link reference needs `-H` and must point backwards. Protocols 27
//! to 32, as described in the [module](super) documentation.
//!
//! [`FlistDecoder::decode_entry`] is a slice decoder (the [`crate::wire`]
//! shape): it decodes one entry or the end marker from a [`Reader`], and
//! changes the decoder's state (the previous entry's values, the entries
//! so far) only when it returns, so it can run again on the same bytes
//! once more have arrived. [`FlistDecoder::read_list`] is the bridge for
//! callers that still read from a stream. The fields themselves are in
//! `decode_fields.rs`, the id lists after the list in `decode_ids.rs`.

#[cfg(test)]
use std::io::Read;

use super::entry::{FileEntry, FlistOptions};
use super::xmit;
use crate::fs::plain_components;
#[cfg(test)]
use crate::wire::read_via;
use crate::wire::{CodecError, Fail, Reader, Step, WireError};

/// Ceilings for a received list.
#[derive(Debug, Clone, Copy)]
pub struct FlistLimits {
    /// Most entries in one list.
    pub max_entries: usize,
    /// Most entries held at once, this list's and those of earlier lists
    /// the caller still holds (incremental recursion).
    pub max_held: usize,
    /// Longest path.
    pub max_path: usize,
    /// Most bytes the ACLs and attribute lists may take.
    pub max_meta: u64,
}

impl Default for FlistLimits {
    fn default() -> Self {
        Self {
            max_entries: 10_000_000,
            max_held: 10_000_000,
            max_path: 4096,
            max_meta: 1 << 29,
        }
    }
}

/// What can go wrong decoding a list.
#[derive(Debug, thiserror::Error)]
pub enum FlistError {
    /// The stream.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// A value the protocol forbids, with the offending name when known.
    #[error("{0}")]
    Invalid(String),
    /// The list would pass the session's memory budget.
    #[error("{0}")]
    Budget(String),
}

impl From<CodecError> for FlistError {
    fn from(e: CodecError) -> Self {
        FlistError::Wire(e.into())
    }
}

impl From<Fail> for Fail<FlistError> {
    fn from(f: Fail) -> Self {
        f.lift()
    }
}

impl From<FlistError> for Fail<FlistError> {
    fn from(e: FlistError) -> Self {
        Fail::Invalid(e)
    }
}

/// A step of the file-list decoders.
pub(super) type FStep<T> = Step<T, FlistError>;

/// Refuses with `msg`.
pub(super) fn bad<T>(msg: String) -> FStep<T> {
    Err(Fail::Invalid(FlistError::Invalid(msg)))
}

/// The values an entry may leave out because they equal the previous
/// entry's.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Prev {
    pub(super) mode: u32,
    pub(super) mtime: i64,
    pub(super) atime: i64,
    pub(super) uid: u32,
    pub(super) gid: u32,
    pub(super) rdev: (u32, u32),
    pub(super) rdev_major: u32,
    pub(super) dev: u64,
}

/// What a flags word announces.
enum Head {
    /// An entry with these flags.
    Entry(u32),
    /// The end of the list, with the sender's `io_error` when it sent one.
    End(Option<i32>),
}

/// A user or group name sent inline with its id (protocol 30+, under
/// incremental recursion).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InlineName {
    /// A uid and its name.
    User(u32, Vec<u8>),
    /// A gid and its name.
    Group(u32, Vec<u8>),
}

/// Decoder state for one list (the previous entry's values).
#[derive(Debug)]
pub struct FlistDecoder {
    pub(super) opts: FlistOptions,
    /// The wire index of this list's first entry (rsync's `ndx_start`):
    /// hard-link references below it name an earlier list.
    pub(super) ndx_start: u32,
    /// The names that came inline with ids, in wire order.
    pub names: Vec<InlineName>,
    /// Entries of earlier lists the caller still holds, for the ceiling
    /// on entries held at once. Each list handed over adds its entries; a
    /// caller that frees lists says how many it holds
    /// ([`Self::set_held`]), so the ceiling bounds what is in memory at
    /// once, not the tree.
    held: usize,
    pub(super) limits: FlistLimits,
    last_name: Vec<u8>,
    prev: Prev,
    pub(super) entries: Vec<FileEntry>,
    /// rsync's `io_error` reported by the sender.
    pub io_error: i32,
    /// The ACLs and attribute lists received so far.
    pub tables: crate::meta::Tables,
    /// Allocations of names no longer needed, to decode names into.
    spare_names: Vec<Vec<u8>>,
}

/// Most name allocations kept for reuse (about a list's worth).
const MAX_SPARE_NAMES: usize = 4096;
/// Longest name allocation kept for reuse: the kept ones take at most
/// 1 MiB.
const SPARE_NAME_CAP: usize = 256;

impl FlistDecoder {
    /// A decoder for one session's list.
    pub fn new(opts: FlistOptions, limits: FlistLimits) -> Self {
        Self {
            opts,
            limits,
            ndx_start: 0,
            names: Vec::new(),
            held: 0,
            last_name: Vec::new(),
            prev: Prev::default(),
            entries: Vec::new(),
            io_error: 0,
            tables: crate::meta::Tables::with_budget(limits.max_meta),
            spare_names: Vec::new(),
        }
    }

    /// How many entries of earlier lists the caller holds now (those it
    /// has not freed), in place of every entry handed over so far.
    pub fn set_held(&mut self, n: usize) {
        self.held = n;
    }

    /// The entries of earlier lists counted as held.
    pub fn held(&self) -> usize {
        self.held
    }

    /// Sets the wire index of the next entry's list start (rsync's
    /// `ndx_start`; 1 for the first list under incremental recursion).
    pub fn set_start(&mut self, start: u32) {
        self.ndx_start = start;
    }

    /// Hands over the list just decoded (wire order) and the names that
    /// came inline, and starts the next one at wire index `start`
    /// (incremental recursion). As in rsync, the previous entry's values
    /// carry over from list to list, and so do the ACL and attribute
    /// tables.
    pub fn next_list(&mut self, start: u32) -> (Vec<FileEntry>, Vec<InlineName>) {
        self.ndx_start = start;
        self.held = self.held.saturating_add(self.entries.len());
        (
            std::mem::take(&mut self.entries),
            std::mem::take(&mut self.names),
        )
    }

    /// Gives back the (emptied) vector a list was handed over in, so
    /// that the next list decodes into its allocation.
    pub fn recycle(&mut self, mut v: Vec<FileEntry>) {
        if self.entries.is_empty() {
            v.clear();
            self.entries = v;
        }
    }

    /// Gives back the allocations of names the caller no longer needs:
    /// the next names are decoded into them. Only short ones are kept,
    /// so that what is kept stays small whatever names came before.
    pub fn recycle_names(&mut self, names: impl IntoIterator<Item = Vec<u8>>) {
        let room = MAX_SPARE_NAMES.saturating_sub(self.spare_names.len());
        let short = names.into_iter().filter(|n| n.capacity() <= SPARE_NAME_CAP);
        self.spare_names.extend(short.take(room));
    }

    /// Decodes one entry, or the end marker (`None`, with the sender's
    /// `io_error` in [`Self::io_error`] when the marker carries one). The
    /// decoder keeps every entry it returned (later hard links refer to
    /// them); [`Self::finish`] hands them over.
    pub fn decode_entry(&mut self, r: &mut Reader<'_>) -> FStep<Option<FileEntry>> {
        Ok(if self.step(r)? {
            self.entries.last().cloned()
        } else {
            None
        })
    }

    /// [`Self::decode_entry`] without handing the entry out: `true` for
    /// an entry (kept for [`Self::finish`]), `false` at the end marker.
    pub fn decode_next(&mut self, r: &mut Reader<'_>) -> FStep<bool> {
        self.step(r)
    }

    /// The entries decoded so far, in wire order, and the `io_error`.
    pub fn finish(self) -> (Vec<FileEntry>, i32) {
        (self.entries, self.io_error)
    }

    #[cfg(test)]
    /// Reads the whole list up to its end marker, in wire order, from a
    /// blocking stream, reading exactly the bytes each entry needs.
    pub fn read_list(mut self, r: &mut impl Read) -> Result<(Vec<FileEntry>, i32), FlistError> {
        while read_via::<_, FlistError, FlistError>(r, "the file list", |x| self.step(x))? {}
        Ok(self.finish())
    }

    /// One entry (`true`, the entry pushed) or the end marker (`false`).
    /// Everything is computed into locals and committed at the end.
    fn step(&mut self, r: &mut Reader<'_>) -> FStep<bool> {
        let x = match self.decode_flags(r)? {
            Head::Entry(x) => x,
            Head::End(io_error) => {
                if let Some(e) = io_error {
                    self.io_error = e;
                }
                return Ok(false);
            }
        };
        let n = self.entries.len();
        if n >= self.limits.max_entries {
            return Err(Fail::Invalid(FlistError::Budget(format!(
                "file list has more than {} entries (see --max-alloc)",
                self.limits.max_entries
            ))));
        }
        if self.held.saturating_add(n) >= self.limits.max_held {
            return Err(Fail::Invalid(FlistError::Budget(format!(
                "file lists hold more than {} entries at once (see --max-alloc)",
                self.limits.max_held
            ))));
        }
        let buf = self.spare_names.pop().unwrap_or_default();
        let name = self.decode_name(r, x, buf)?;
        let mut prev = self.prev;
        let mut names = Vec::new();
        let mut e = self.decode_body(r, x, name, &mut prev, &mut names)?;
        if self.opts.meta.any() {
            let invalid =
                |m: crate::meta::MetaError| FlistError::Invalid(format!("{m} [receiver]"));
            let got = self
                .tables
                .decode(r, self.opts.meta, e.mode)
                .map_err(|f| f.map(invalid))?;
            e.meta = self
                .tables
                .commit(got)
                .map_err(|m| Fail::Invalid(FlistError::Budget(format!("{m} [receiver]"))))?;
        }
        self.prev = prev;
        self.names.append(&mut names);
        self.last_name.clone_from(&e.name);
        self.entries.push(e);
        Ok(true)
    }

    /// A flags word, or the end marker.
    fn decode_flags(&self, r: &mut Reader<'_>) -> FStep<Head> {
        if self.opts.varint_flags {
            let f = r.varint("file-list flags")?;
            if f == 0 {
                return Ok(Head::End(Some(r.varint("the io_error word")?)));
            }
            return Ok(Head::Entry(f as u32));
        }
        let mut f = u32::from(r.u8()?);
        if f == 0 {
            return Ok(Head::End(None));
        }
        if self.opts.protocol >= 28 && f & xmit::EXTENDED_FLAGS != 0 {
            f |= u32::from(r.u8()?) << 8;
            if f == xmit::EXTENDED_FLAGS | xmit::IO_ERROR_ENDLIST {
                if !self.opts.safe_flist {
                    return bad(format!("invalid file-list flag {f:#x}"));
                }
                return Ok(Head::End(Some(r.varint("the io_error word")?)));
            }
        }
        Ok(Head::Entry(f))
    }

    /// The name: a prefix of the previous name and a suffix, in `name`'s
    /// allocation.
    fn decode_name(&self, r: &mut Reader<'_>, x: u32, mut name: Vec<u8>) -> FStep<Vec<u8>> {
        let l1 = if x & xmit::SAME_NAME != 0 {
            usize::from(r.u8()?)
        } else {
            0
        };
        let l2 = if x & xmit::LONG_NAME != 0 {
            let v = if self.opts.protocol >= 30 {
                r.varint("a file name")?
            } else {
                r.i32()?
            };
            match usize::try_from(v) {
                Ok(v) => v,
                Err(_) => return bad("negative file-name length".into()),
            }
        } else {
            usize::from(r.u8()?)
        };
        if l1 > self.last_name.len() || l1.saturating_add(l2) >= self.limits.max_path {
            return bad(format!(
                "file name too long or malformed ({} + {l2} bytes)",
                l1
            ));
        }
        let suffix = r.take(l2)?;
        name.clear();
        name.reserve(l1 + l2);
        name.extend_from_slice(self.last_name.get(..l1).unwrap_or(&[]));
        name.extend_from_slice(suffix);
        check_new_name(&name, l1)?;
        Ok(name)
    }
}

/// [`check_name`] for a name whose first `known` bytes are those of the
/// previous name, which passed it: the components before the last `/` of
/// those bytes were checked then, so only what follows is scanned. A name
/// that fails the quick look gets the full check, which gives the reason.
fn check_new_name(name: &[u8], known: usize) -> Result<(), FlistError> {
    let head = name.get(..known).unwrap_or(&[]);
    let from = head.iter().rposition(|&b| b == b'/').map_or(0, |p| p + 1);
    let rest = name.get(from..).unwrap_or(&[]);
    // Scanned from the start, a leading `/` makes an empty first
    // component, refused as any empty one is.
    if plain_components(rest).is_some() {
        return Ok(());
    }
    check_name(name)
}

/// A received name must be relative and clean: no empty, `.` (except the
/// whole name) or `..` components, no NUL, no leading `/`.
fn check_name(name: &[u8]) -> Result<(), FlistError> {
    let bad = |why: &str| {
        Err(FlistError::Invalid(format!(
            "ABORTING due to unsafe pathname from sender ({why}): {}",
            String::from_utf8_lossy(name)
        )))
    };
    if name.is_empty() {
        return bad("empty");
    }
    if name.contains(&0) {
        return bad("NUL byte");
    }
    if name == b"." {
        return Ok(());
    }
    if name.starts_with(b"/") {
        return bad("absolute");
    }
    for c in name.split(|&b| b == b'/') {
        if c.is_empty() || c == b"." || c == b".." {
            return bad("bad component");
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#[path = "decode_tests.rs"]
mod tests;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#[path = "decode_oracle.rs"]
mod oracle;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#[path = "decode_slice_tests.rs"]
mod slice_tests;
