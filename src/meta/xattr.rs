//! Extended attributes as rsync moves them (`xattrs.c`), protocols 30 to
//! 32.
//!
//! A file's attributes travel as a list sorted by name. A value longer
//! than 32 bytes travels abbreviated, as its MD5 sum; the receiving side
//! compares that with what it has, and asks for the values it lacks after
//! the file's item flags (a request of relative positions ended by 0),
//! which the sending side answers when it echoes those flags. Each side
//! keeps a table of the lists sent so far; a list equal to one already
//! sent travels as its index.
//!
//! Which names travel: never `system.` ones (ACLs travel on their own);
//! `user.rsync.%…` only with `-XX`. Which names we store: only `user.`
//! ones, also when running as root: rsync as root would also write
//! `trusted.` and `security.` attributes, and a `security.capability`
//! from a client is a privilege on this host.

use crate::checksum::md::Md5;

use crate::wire::{put_varint, CodecError, Fail, Reader, Step};

/// Values longer than this travel as their sum.
pub const MAX_FULL_DATUM: usize = 32;
/// The sum of an abbreviated value (MD5, at protocols 30 and up).
pub const SUM_LEN: usize = 16;
/// Most attributes in one list (rsync's cap).
const MAX_COUNT: usize = 65536;
/// Longest name, with its NUL (Linux's own limit is 255 bytes).
const MAX_NAME: usize = 256;
/// Largest value accepted (Linux's own limit is 64 KiB).
pub const MAX_VALUE: usize = 1 << 20;

const USER: &[u8] = b"user.";

/// What an attribute list costs in memory, for the session's budget:
/// names, values (or their sums) and each item's bookkeeping.
pub fn heap_size(list: &[Xattr]) -> u64 {
    list.iter().fold(super::ITEM_OVERHEAD, |n, x| {
        let v = match &x.value {
            Value::Full(v) => v.len(),
            Value::Sum { .. } => SUM_LEN,
        };
        n.saturating_add(super::ITEM_OVERHEAD + (x.name.len() + v) as u64)
    })
}
const SYSTEM: &[u8] = b"system.";
const RSYNC: &[u8] = b"user.rsync.";
const RSYNC_PCT: &[u8] = b"user.rsync.%";

/// Where an abbreviated value stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Abbrev {
    /// Not asked for (yet).
    Pending,
    /// To be asked for with the file's item flags.
    Wanted,
    /// Asked for, or not needed.
    Done,
}

/// A value, whole or as its sum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// The value itself.
    Full(Vec<u8>),
    /// A long value's length and MD5 sum.
    Sum {
        /// The value's length.
        len: usize,
        /// Its MD5 sum.
        sum: [u8; SUM_LEN],
        /// Whether it is to be asked for.
        state: Abbrev,
    },
}

/// One attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Xattr {
    /// The name, without its NUL.
    pub name: Vec<u8>,
    /// The value.
    pub value: Value,
    /// Its position (from 1) in the sender's list, for requests.
    pub num: u32,
}

impl Xattr {
    /// An attribute read from a file: values longer than
    /// [`MAX_FULL_DATUM`] are kept as their sum.
    pub fn local(name: Vec<u8>, value: Vec<u8>) -> Xattr {
        let value = if value.len() > MAX_FULL_DATUM {
            Value::Sum {
                len: value.len(),
                sum: md5(&value),
                state: Abbrev::Pending,
            }
        } else {
            Value::Full(value)
        };
        Xattr {
            name,
            value,
            num: 0,
        }
    }

    /// Whether `self` (the sender's) and `local` hold the same value.
    pub fn same_value(&self, local: &Xattr) -> bool {
        match (&self.value, &local.value) {
            (Value::Full(a), Value::Full(b)) => a == b,
            (Value::Sum { len, sum, .. }, Value::Sum { len: l, sum: s, .. }) => {
                len == l && sum == s
            }
            (Value::Full(a), Value::Sum { len, sum, .. })
            | (Value::Sum { len, sum, .. }, Value::Full(a)) => {
                a.len() == *len && a.len() > MAX_FULL_DATUM && md5(a) == *sum
            }
        }
    }
}

/// The MD5 sum of a value.
pub fn md5(v: &[u8]) -> [u8; SUM_LEN] {
    let mut h = Md5::new();
    h.update(v);
    h.finalize()
}

/// Which attribute names travel and which are kept (`rsync_xal_get`,
/// `send_xattr`, `receive_xattr`), for `-X` given `xattrs` times.
///
/// A name travels unless it is a `system.` one; `user.rsync.%…` names
/// only with `-XX`. We keep only `user.` names. Under `--fake-super` a
/// name from another namespace is kept as `user.rsync.NAME` and travels
/// back as `NAME`, and the names in which fake-super records its own
/// state (`%stat`, `%aacl`, `%dacl`) neither travel nor are compared nor
/// removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Naming {
    /// `-X` count.
    pub xattrs: u8,
    /// `--fake-super` on this side.
    pub fake_super: bool,
}

/// Fake-super's own records.
const FAKE_OWN: [&[u8]; 3] = [b"stat", b"aacl", b"dacl"];

impl Naming {
    /// Whether a `user.rsync.%…` name (or any other) may be used at all.
    fn percent_ok(&self, name: &[u8]) -> bool {
        let Some(rest) = name.strip_prefix(RSYNC_PCT) else {
            return true;
        };
        self.xattrs >= 2 && !(self.fake_super && FAKE_OWN.contains(&rest))
    }

    /// The name under which a sending side sends its attribute `local`,
    /// if it sends it.
    pub fn to_wire(&self, local: &[u8]) -> Option<Vec<u8>> {
        if local.starts_with(SYSTEM) || !self.percent_ok(local) {
            return None;
        }
        match local.strip_prefix(RSYNC) {
            Some(rest) if self.fake_super && !rest.starts_with(b"%") => Some(rest.to_vec()),
            _ => Some(local.to_vec()),
        }
    }

    /// The name a sending side reads for `wire`, one it sent.
    pub fn from_wire_sent(&self, wire: &[u8]) -> Vec<u8> {
        if self.fake_super && !wire.starts_with(USER) {
            [RSYNC, wire].concat()
        } else {
            wire.to_vec()
        }
    }

    /// The name under which a receiving side keeps attribute `wire`, if
    /// it keeps it.
    pub fn to_local(&self, wire: &[u8]) -> Option<Vec<u8>> {
        let local = if wire.starts_with(USER) {
            wire.to_vec()
        } else if self.fake_super {
            [RSYNC, wire].concat()
        } else {
            return None;
        };
        self.percent_ok(&local).then_some(local)
    }

    /// Whether a receiving side compares, sets and removes its attribute
    /// `local`.
    pub fn ours(&self, local: &[u8]) -> bool {
        local.starts_with(USER) && self.percent_ok(local)
    }
}

/// Sorts a list by name and numbers it from 1, as a sending side does.
pub fn sort_and_number(list: &mut [Xattr]) {
    list.sort_by(|a, b| a.name.cmp(&b.name));
    for (i, x) in list.iter_mut().enumerate() {
        x.num = i as u32 + 1;
    }
}

/// Appends a list's literal form (after the index 0 that announces it).
pub fn encode(list: &[Xattr], out: &mut Vec<u8>) {
    put_varint(out, list.len() as i32);
    for x in list {
        put_varint(out, x.name.len() as i32 + 1);
        match &x.value {
            Value::Full(v) => {
                put_varint(out, v.len() as i32);
                out.extend_from_slice(&x.name);
                out.push(0);
                out.extend_from_slice(v);
            }
            Value::Sum { len, sum, .. } => {
                put_varint(out, *len as i32);
                out.extend_from_slice(&x.name);
                out.push(0);
                out.extend_from_slice(sum);
            }
        }
    }
}

/// Decodes a literal list (`receive_xattr` after its index 0), keeping
/// the names `keep` gives a local name for, under that name; each keeps
/// its position in the sent list.
pub fn decode(
    r: &mut Reader<'_>,
    keep: &dyn Fn(&[u8]) -> Option<Vec<u8>>,
) -> Step<Vec<Xattr>, XattrError> {
    let count = r.varint("an xattr count")?;
    let count = usize::try_from(count)
        .ok()
        .filter(|&c| c <= MAX_COUNT)
        .ok_or(Fail::Invalid(XattrError::Count(count)))?;
    let mut list = Vec::new();
    for num in 1..=count {
        let name_len = r.varint("an xattr name length")?;
        let name_len = usize::try_from(name_len)
            .ok()
            .filter(|&n| (1..=MAX_NAME).contains(&n))
            .ok_or(Fail::Invalid(XattrError::NameLen(name_len)))?;
        let len = value_len(r.varint("an xattr value length")?)?;
        let raw = r.take(name_len)?;
        let Some((&0, name)) = raw.split_last() else {
            return Err(Fail::Invalid(XattrError::NoNul));
        };
        let value = if len > MAX_FULL_DATUM {
            Value::Sum {
                len,
                sum: r.array::<SUM_LEN>()?,
                state: Abbrev::Pending,
            }
        } else {
            Value::Full(r.take(len)?.to_vec())
        };
        if name.contains(&0) {
            continue;
        }
        let Some(name) = keep(name) else {
            continue;
        };
        list.push(Xattr {
            name,
            value,
            num: num as u32,
        });
    }
    list.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(list)
}

fn value_len(v: i32) -> Result<usize, Fail<XattrError>> {
    usize::try_from(v)
        .ok()
        .filter(|&n| n <= MAX_VALUE)
        .ok_or(Fail::Invalid(XattrError::ValueLen(v)))
}

/// Marks the sender's abbreviated values that `local` lacks as wanted,
/// and says whether the two lists differ (`xattr_diff` with `find_all`).
pub fn diff(sent: &mut [Xattr], local: &[Xattr]) -> bool {
    let mut differs = sent.len() != local.len();
    for x in sent.iter_mut() {
        let same = local
            .binary_search_by(|l| l.name.as_slice().cmp(&x.name))
            .ok()
            .and_then(|i| local.get(i))
            .is_some_and(|l| x.same_value(l));
        if !same {
            differs = true;
            if let Value::Sum { state, .. } = &mut x.value {
                if *state == Abbrev::Pending {
                    *state = Abbrev::Wanted;
                }
            }
        }
    }
    differs
}

/// The generator's request for the wanted values, or with `send` false
/// only their marking as done (`send_xattr_request` with no file name).
pub fn request(sent: &mut [Xattr], send: bool, out: &mut Vec<u8>) {
    let mut prior = 0u32;
    for x in sent.iter_mut() {
        let Value::Sum { state, .. } = &mut x.value else {
            continue;
        };
        match *state {
            Abbrev::Pending => *state = Abbrev::Done,
            Abbrev::Wanted if send => {
                *state = Abbrev::Done;
                put_varint(out, x.num.wrapping_sub(prior) as i32);
                prior = x.num;
            }
            _ => {}
        }
    }
    if send {
        out.push(0);
    }
}

/// Reads a request's next relative position; `None` at its end.
pub fn decode_request_step(r: &mut Reader<'_>) -> Step<Option<i32>> {
    let v = r.varint("an xattr request")?;
    Ok((v != 0).then_some(v))
}

/// Reads one requested value (its length, then the bytes).
pub fn decode_value(r: &mut Reader<'_>) -> Step<Vec<u8>, XattrError> {
    let len = value_len(r.varint("an xattr value length")?)?;
    Ok(r.take(len)?.to_vec())
}

/// A malformed attribute list or request from the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum XattrError {
    /// The stream itself.
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// A negative or too large count.
    #[error("xattr count {0} out of range")]
    Count(i32),
    /// A bad name length.
    #[error("xattr name length {0} out of range")]
    NameLen(i32),
    /// A bad value length.
    #[error("xattr value length {0} out of range")]
    ValueLen(i32),
    /// A name without its NUL.
    #[error("Invalid xattr name received (missing trailing \\0).")]
    NoNul,
    /// An index beyond the lists received so far.
    #[error("receive_xattr: xa index {0} out of range")]
    Index(i32),
    /// A request for a value that is not abbreviated or not there.
    #[error("could not find xattr #{0}")]
    Request(i32),
}

impl From<Fail> for Fail<XattrError> {
    fn from(f: Fail) -> Self {
        f.lift()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#[path = "xattr_tests.rs"]
mod tests;
