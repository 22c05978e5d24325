//! ACLs (`-A`) and extended attributes (`-X`): what follows a file-list
//! entry when they are on (`send_acl`/`send_xattr` after
//! `send_file_entry` in `flist.c`), the tables both sides keep of the ones
//! sent so far, and the wire forms in [`acl`] and [`xattr`]. rsync allows
//! both from protocol 30 on.
//!
//! An entry carries indexes into the session's [`Tables`]: its access ACL
//! (not for symlinks), a directory's default ACL, and its attribute list.
//! The sending side looks each new ACL or list up among those it sent
//! ([`SendTables`]) and sends an index when it finds it; the receiving
//! side appends every literal one it reads, so both tables stay in step.

pub mod acl;
pub mod fake;
pub mod xattr;

use std::collections::HashMap;

use crate::wire::{put_varint, Fail, Reader, Step};
use acl::{Acl, AclError, IdAccess};
use xattr::{Xattr, XattrError};

/// Whether ACLs and attributes travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MetaOpts {
    /// `-A`.
    pub acls: bool,
    /// `-X` count (2: also `user.rsync.%…` names).
    pub xattrs: u8,
    /// rsync's `want_xattr_optim` (protocol 31 and a client without
    /// `CF_AVOID_XATTR_OPTIM`): no request travels with a hard link's
    /// local change.
    pub optim: bool,
    /// `--fake-super` on this side (see [`xattr::Naming`]).
    pub fake_super: bool,
}

impl MetaOpts {
    /// Whether anything follows an entry.
    pub fn any(&self) -> bool {
        self.acls || self.xattrs > 0
    }

    /// Which attribute names travel and are kept.
    pub fn naming(&self) -> xattr::Naming {
        xattr::Naming {
            xattrs: self.xattrs,
            fake_super: self.fake_super,
        }
    }
}

/// One entry's indexes into the tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MetaRef {
    /// Its access ACL.
    pub acl: Option<u32>,
    /// A directory's default ACL.
    pub def_acl: Option<u32>,
    /// Its attribute list.
    pub xattr: Option<u32>,
}

/// The ACLs and attribute lists of one session, in the order sent.
///
/// A receiving side's tables grow with what the peer sends, so they are
/// held to a byte budget (a share of `--max-alloc`): each new ACL, list
/// and answered long value is counted, and the one that would pass the
/// budget ends the session instead of growing the process.
#[derive(Debug)]
pub struct Tables {
    /// Access ACLs (stripped of what the mode says).
    pub acc: Vec<Acl>,
    /// Default ACLs.
    pub def: Vec<Acl>,
    /// Attribute lists.
    pub xattrs: Vec<Vec<Xattr>>,
    /// Names that came with named ACL entries, for the receiver to
    /// take (incremental recursion).
    pub acl_names: Vec<acl::AclName>,
    /// Bytes the tables may hold.
    budget: u64,
    /// Bytes they hold (an estimate that counts names, values and each
    /// item's bookkeeping).
    used: u64,
}

impl Default for Tables {
    fn default() -> Self {
        Self::with_budget(u64::MAX)
    }
}

/// What one item costs beyond its bytes (its `Vec`s and fields).
const ITEM_OVERHEAD: u64 = 64;

impl Tables {
    /// Empty tables that may hold `budget` bytes.
    pub fn with_budget(budget: u64) -> Self {
        Self {
            acc: Vec::new(),
            def: Vec::new(),
            xattrs: Vec::new(),
            acl_names: Vec::new(),
            budget,
            used: 0,
        }
    }

    /// Bytes held so far.
    pub fn used(&self) -> u64 {
        self.used
    }

    /// Counts `n` more bytes, or fails when they would pass the budget.
    pub fn charge(&mut self, n: u64) -> Result<(), MetaError> {
        let total = self.used.saturating_add(n);
        if total > self.budget {
            return Err(MetaError::Budget(self.budget));
        }
        self.used = total;
        Ok(())
    }

    /// An entry's access ACL.
    pub fn acl(&self, r: &MetaRef) -> Option<&Acl> {
        r.acl.and_then(|i| self.acc.get(i as usize))
    }

    /// A directory entry's default ACL.
    pub fn def_acl(&self, r: &MetaRef) -> Option<&Acl> {
        r.def_acl.and_then(|i| self.def.get(i as usize))
    }

    /// An entry's attribute list (empty when it has none).
    pub fn xattrs(&self, r: &MetaRef) -> &[Xattr] {
        r.xattr
            .and_then(|i| self.xattrs.get(i as usize))
            .map_or(&[], Vec::as_slice)
    }

    /// An entry's attribute list, to mark or fill in.
    pub fn xattrs_mut(&mut self, r: &MetaRef) -> Option<&mut Vec<Xattr>> {
        r.xattr.and_then(|i| self.xattrs.get_mut(i as usize))
    }
}

/// The sending side's tables, with an index of what was sent.
#[derive(Debug, Default)]
pub struct SendTables {
    /// What was sent.
    pub tables: Tables,
    acc: HashMap<Acl, u32>,
    def: HashMap<Acl, u32>,
    lists: HashMap<Vec<u8>, u32>,
}

impl SendTables {
    /// Sends an ACL (`send_rsync_acl`): its index + 1 if sent before,
    /// else 0 and the ACL. `name` gives a named entry's name to send.
    pub fn send_acl(
        &mut self,
        acl: Acl,
        default: bool,
        out: &mut Vec<u8>,
        name: &mut dyn FnMut(&IdAccess) -> Option<Vec<u8>>,
    ) -> u32 {
        let (map, list) = if default {
            (&mut self.def, &mut self.tables.def)
        } else {
            (&mut self.acc, &mut self.tables.acc)
        };
        if let Some(&i) = map.get(&acl) {
            put_varint(out, i as i32 + 1);
            return i;
        }
        put_varint(out, 0);
        acl.encode(out, name);
        let i = list.len() as u32;
        map.insert(acl.clone(), i);
        list.push(acl);
        i
    }

    /// Sends an attribute list (`send_xattr`), sorted and numbered.
    pub fn send_xattrs(&mut self, mut list: Vec<Xattr>, out: &mut Vec<u8>) -> u32 {
        xattr::sort_and_number(&mut list);
        let mut lit = Vec::new();
        xattr::encode(&list, &mut lit);
        if let Some(&i) = self.lists.get(&lit) {
            put_varint(out, i as i32 + 1);
            return i;
        }
        put_varint(out, 0);
        out.extend_from_slice(&lit);
        let i = self.tables.xattrs.len() as u32;
        self.lists.insert(lit, i);
        self.tables.xattrs.push(list);
        i
    }
}

/// What a received entry's ACLs and attributes decoded to, before they
/// are committed to the tables.
#[derive(Debug, Default)]
pub struct Received {
    /// Names sent with named ACL entries.
    names: Vec<acl::AclName>,
    acl: Option<Ref<Acl>>,
    def_acl: Option<Ref<Acl>>,
    xattr: Option<Ref<Vec<Xattr>>>,
}

#[derive(Debug)]
enum Ref<T> {
    Index(u32),
    New(T),
}

/// A malformed ACL or attribute list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MetaError {
    /// An ACL.
    #[error(transparent)]
    Acl(#[from] AclError),
    /// An attribute list.
    #[error(transparent)]
    Xattr(#[from] XattrError),
    /// The peer's ACLs and attribute lists would pass the session's
    /// memory budget.
    #[error("ACLs and xattrs received exceed the memory budget of {0} bytes (see --max-alloc)")]
    Budget(u64),
}

impl From<Fail<AclError>> for Fail<MetaError> {
    fn from(f: Fail<AclError>) -> Self {
        f.map(MetaError::Acl)
    }
}

impl From<Fail<XattrError>> for Fail<MetaError> {
    fn from(f: Fail<XattrError>) -> Self {
        f.map(MetaError::Xattr)
    }
}

impl From<Fail> for Fail<MetaError> {
    fn from(f: Fail) -> Self {
        f.map(|c| MetaError::Acl(AclError::Codec(c)))
    }
}

impl Tables {
    /// Decodes what follows an entry of `mode` (`receive_acl`,
    /// `receive_xattr`); nothing changes until [`Self::commit`].
    pub fn decode(
        &self,
        r: &mut Reader<'_>,
        opts: MetaOpts,
        mode: u32,
    ) -> Step<Received, MetaError> {
        let mut got = Received::default();
        let kind = mode & 0o170000;
        if opts.acls && kind != 0o120000 {
            got.acl = Some(acl_ref(r, self.acc.len(), Some(mode), &mut got.names)?);
            if kind == 0o040000 {
                got.def_acl = Some(acl_ref(r, self.def.len(), None, &mut got.names)?);
            }
        }
        if opts.xattrs > 0 {
            let ndx = r.varint("an xattr index")?;
            got.xattr = Some(match index(ndx, self.xattrs.len()) {
                Some(Some(i)) => Ref::Index(i),
                Some(None) => Ref::New(xattr::decode(r, &|n| opts.naming().to_local(n))?),
                None => return Err(Fail::Invalid(XattrError::Index(ndx).into())),
            });
        }
        Ok(got)
    }

    /// Adds what [`Self::decode`] read, and returns the entry's indexes;
    /// fails, adding nothing, when the new items pass the budget.
    pub fn commit(&mut self, got: Received) -> Result<MetaRef, MetaError> {
        fn cost<T>(r: &Option<Ref<T>>, size: impl Fn(&T) -> u64) -> u64 {
            match r {
                Some(Ref::New(v)) => size(v),
                _ => 0,
            }
        }
        fn put<T>(r: Option<Ref<T>>, list: &mut Vec<T>) -> Option<u32> {
            Some(match r? {
                Ref::Index(i) => i,
                Ref::New(v) => {
                    list.push(v);
                    list.len() as u32 - 1
                }
            })
        }
        // Names sent with named ACL entries count too: they wait in
        // `acl_names` until a list takes them.
        let names: u64 = got
            .names
            .iter()
            .map(|n| ITEM_OVERHEAD + n.name.len() as u64)
            .sum();
        let n = cost(&got.acl, Acl::heap_size)
            .saturating_add(cost(&got.def_acl, Acl::heap_size))
            .saturating_add(cost(&got.xattr, |l| xattr::heap_size(l)))
            .saturating_add(names);
        self.charge(n)?;
        self.acl_names.extend(got.names);
        Ok(MetaRef {
            acl: put(got.acl, &mut self.acc),
            def_acl: put(got.def_acl, &mut self.def),
            xattr: put(got.xattr, &mut self.xattrs),
        })
    }

    /// Maps the ids of every named ACL entry (after the id lists, when
    /// ids travel with names: `match_acl_ids`).
    pub fn map_acl_ids(
        &mut self,
        user: &mut dyn FnMut(u32) -> u32,
        group: &mut dyn FnMut(u32) -> u32,
    ) {
        self.map_acl_ids_from((0, 0), user, group);
    }

    /// [`Self::map_acl_ids`] for the access and default ACLs from the
    /// given positions on (those a new sub-list brought).
    pub fn map_acl_ids_from(
        &mut self,
        from: (usize, usize),
        user: &mut dyn FnMut(u32) -> u32,
        group: &mut dyn FnMut(u32) -> u32,
    ) {
        let acc = self.acc.get_mut(from.0..).unwrap_or_default();
        let def = self.def.get_mut(from.1..).unwrap_or_default();
        for a in acc.iter_mut().chain(def.iter_mut()) {
            for n in &mut a.names {
                n.id = if n.is_user() { user(n.id) } else { group(n.id) };
            }
        }
    }
}

/// `Some(None)` for 0 (a literal follows), `Some(Some(i))` for index
/// `i + 1` within `len`, `None` beyond.
fn index(ndx: i32, len: usize) -> Option<Option<u32>> {
    match usize::try_from(ndx) {
        Ok(0) => Some(None),
        Ok(n) if n <= len => Some(Some(n as u32 - 1)),
        _ => None,
    }
}

fn acl_ref(
    r: &mut Reader<'_>,
    len: usize,
    mode: Option<u32>,
    names: &mut Vec<acl::AclName>,
) -> Step<Ref<Acl>, MetaError> {
    let ndx = r.varint("an ACL index")?;
    Ok(match index(ndx, len) {
        Some(Some(i)) => Ref::Index(i),
        Some(None) => Ref::New(Acl::decode_named(r, mode, names)?),
        None => return Err(Fail::Invalid(AclError::Index(ndx, len).into())),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#[path = "tables_tests.rs"]
mod tests;
