//! POSIX ACLs as rsync moves them (`acls.c`), protocols 30 to 32.
//!
//! An ACL travels as four optional permission entries (owner, owning
//! group, mask, other) and a list of named users and groups. The access
//! ACL leaves out what the file's mode already says (`rsync_acl_strip_perms`);
//! a directory's default ACL travels whole. Each side keeps a table of the
//! ACLs sent so far, one for access ACLs and one for default ACLs, and an
//! ACL equal to one already sent travels as its index in that table.
//!
//! On Linux an ACL is stored as the xattr `system.posix_acl_access` or
//! `system.posix_acl_default`: a version word (2) and 8-byte entries (tag,
//! permissions, id), sorted by tag and then id. [`Acl::from_xattr`] and
//! [`Acl::to_xattr`] convert between that and rsync's form.

use crate::wire::{put_varint, Fail, Reader, Step};

/// A permission entry that is absent.
pub const NO_ENTRY: u8 = 0x80;
/// Marks a named entry as a user (else a group).
pub const NAME_IS_USER: u32 = 1 << 31;

const XMIT_USER_OBJ: u8 = 1;
const XMIT_GROUP_OBJ: u8 = 2;
const XMIT_MASK_OBJ: u8 = 4;
const XMIT_OTHER_OBJ: u8 = 8;
const XMIT_NAME_LIST: u8 = 16;
const XFLAG_NAME_FOLLOWS: u32 = 1;
const XFLAG_NAME_IS_USER: u32 = 2;
/// Most named entries accepted in one ACL (rsync's cap).
const MAX_NAMES: usize = 65536;

/// The xattr of an access ACL.
pub const ACCESS_XATTR: &[u8] = b"system.posix_acl_access";
/// The xattr of a directory's default ACL.
pub const DEFAULT_XATTR: &[u8] = b"system.posix_acl_default";
/// Where `--fake-super` keeps an access ACL.
pub const FAKE_ACCESS_XATTR: &[u8] = b"user.rsync.%aacl";
/// Where `--fake-super` keeps a default ACL.
pub const FAKE_DEFAULT_XATTR: &[u8] = b"user.rsync.%dacl";

const TAG_USER_OBJ: u16 = 0x01;
const TAG_USER: u16 = 0x02;
const TAG_GROUP_OBJ: u16 = 0x04;
const TAG_GROUP: u16 = 0x08;
const TAG_MASK: u16 = 0x10;
const TAG_OTHER: u16 = 0x20;
const UNDEFINED_ID: u32 = u32::MAX;

/// One named entry: an id and its permission bits, with
/// [`NAME_IS_USER`] for a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IdAccess {
    /// The user or group id.
    pub id: u32,
    /// Permission bits (0 to 7), and [`NAME_IS_USER`].
    pub access: u32,
}

impl IdAccess {
    /// Whether this names a user.
    pub fn is_user(&self) -> bool {
        self.access & NAME_IS_USER != 0
    }
}

/// A name sent with a named ACL entry's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclName {
    /// A user's name (else a group's).
    pub user: bool,
    /// The sender's id.
    pub id: u32,
    /// The name.
    pub name: Vec<u8>,
}

/// An ACL in rsync's form; a permission entry is [`NO_ENTRY`] when absent.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Acl {
    /// Owner's permissions.
    pub user_obj: u8,
    /// Owning group's permissions.
    pub group_obj: u8,
    /// The mask.
    pub mask_obj: u8,
    /// Everyone else's permissions.
    pub other_obj: u8,
    /// Named users, then named groups, each by id.
    pub names: Vec<IdAccess>,
}

impl Default for Acl {
    fn default() -> Self {
        Self::EMPTY
    }
}

impl Acl {
    /// What the ACL costs in memory, for the session's budget.
    pub fn heap_size(&self) -> u64 {
        let per = std::mem::size_of::<IdAccess>() as u64;
        super::ITEM_OVERHEAD + per.saturating_mul(self.names.len() as u64)
    }

    /// No entries at all (a directory without a default ACL).
    pub const EMPTY: Acl = Acl {
        user_obj: NO_ENTRY,
        group_obj: NO_ENTRY,
        mask_obj: NO_ENTRY,
        other_obj: NO_ENTRY,
        names: Vec::new(),
    };

    /// The ACL a mode alone implies (`rsync_acl_fake_perms`).
    pub fn from_mode(mode: u32) -> Acl {
        Acl {
            user_obj: ((mode >> 6) & 7) as u8,
            group_obj: ((mode >> 3) & 7) as u8,
            other_obj: (mode & 7) as u8,
            ..Acl::EMPTY
        }
    }

    /// Parses a Linux ACL xattr value; `None` when it is malformed.
    pub fn from_xattr(v: &[u8]) -> Option<Acl> {
        let (head, body) = v.split_first_chunk::<4>()?;
        if u32::from_le_bytes(*head) != 2 || body.len() % 8 != 0 {
            return None;
        }
        let mut acl = Acl::EMPTY;
        for e in body.chunks_exact(8) {
            let tag = u16::from_le_bytes([*e.first()?, *e.get(1)?]);
            let perm = (u16::from_le_bytes([*e.get(2)?, *e.get(3)?]) & 7) as u8;
            let id = u32::from_le_bytes([*e.get(4)?, *e.get(5)?, *e.get(6)?, *e.get(7)?]);
            let slot = match tag {
                TAG_USER_OBJ => &mut acl.user_obj,
                TAG_GROUP_OBJ => &mut acl.group_obj,
                TAG_MASK => &mut acl.mask_obj,
                TAG_OTHER => &mut acl.other_obj,
                TAG_USER | TAG_GROUP => {
                    let user = if tag == TAG_USER { NAME_IS_USER } else { 0 };
                    acl.names.push(IdAccess {
                        id,
                        access: u32::from(perm) | user,
                    });
                    continue;
                }
                _ => continue,
            };
            if *slot == NO_ENTRY {
                *slot = perm;
            }
        }
        Some(acl)
    }

    /// The Linux xattr value of this ACL (`pack_smb_acl`): absent owner,
    /// group and other entries become 0, a mask only if there is one.
    pub fn to_xattr(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + 8 * (self.names.len() + 4));
        out.extend_from_slice(&2u32.to_le_bytes());
        let mut put = |tag: u16, perm: u8, id: u32| {
            out.extend_from_slice(&tag.to_le_bytes());
            out.extend_from_slice(&u16::from(perm & 7).to_le_bytes());
            out.extend_from_slice(&id.to_le_bytes());
        };
        let (mut users, mut groups): (Vec<&IdAccess>, Vec<&IdAccess>) =
            self.names.iter().partition(|n| n.is_user());
        users.sort_by_key(|n| n.id);
        groups.sort_by_key(|n| n.id);
        put(TAG_USER_OBJ, self.user_obj & !NO_ENTRY, UNDEFINED_ID);
        for n in users {
            put(TAG_USER, n.access as u8, n.id);
        }
        put(TAG_GROUP_OBJ, self.group_obj & !NO_ENTRY, UNDEFINED_ID);
        for n in groups {
            put(TAG_GROUP, n.access as u8, n.id);
        }
        if self.mask_obj != NO_ENTRY {
            put(TAG_MASK, self.mask_obj, UNDEFINED_ID);
        }
        put(TAG_OTHER, self.other_obj & !NO_ENTRY, UNDEFINED_ID);
        out
    }

    /// The `--fake-super` form (`user.rsync.%aacl`, `%dacl`): the four
    /// permission entries, then each named entry's id and access, all as
    /// little-endian 32-bit words.
    pub fn to_fake(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + 8 * self.names.len());
        for v in [self.user_obj, self.group_obj, self.mask_obj, self.other_obj] {
            out.extend_from_slice(&u32::from(v).to_le_bytes());
        }
        for n in &self.names {
            out.extend_from_slice(&n.id.to_le_bytes());
            out.extend_from_slice(&n.access.to_le_bytes());
        }
        out
    }

    /// Parses the `--fake-super` form; absent owner, group and other
    /// entries come from `mode`. `None` when it is malformed.
    pub fn from_fake(v: &[u8], mode: u32) -> Option<Acl> {
        if v.len() < 16 || !(v.len() - 16).is_multiple_of(8) {
            return None;
        }
        let word = |i: usize| -> Option<u32> {
            Some(u32::from_le_bytes(v.get(i..i + 4)?.try_into().ok()?))
        };
        let entry = |i: usize, from_mode: Option<u32>| -> Option<u8> {
            let w = u8::try_from(word(i)?).ok()?;
            Some(match from_mode {
                Some(m) if w == NO_ENTRY => (m & 7) as u8,
                _ => w,
            })
        };
        let mut a = Acl {
            user_obj: entry(0, Some(mode >> 6))?,
            group_obj: entry(4, Some(mode >> 3))?,
            mask_obj: entry(8, None)?,
            other_obj: entry(12, Some(mode))?,
            names: Vec::new(),
        };
        let mut i = 16;
        while i < v.len() {
            a.names.push(IdAccess {
                id: word(i)?,
                access: word(i + 4)?,
            });
            i += 8;
        }
        Some(a)
    }

    /// Leaves out what `mode` says (`rsync_acl_strip_perms`), for sending
    /// an access ACL.
    pub fn strip_perms(&mut self, mode: u32) {
        self.user_obj = NO_ENTRY;
        if self.mask_obj == NO_ENTRY {
            self.group_obj = NO_ENTRY;
        } else {
            let group = ((mode >> 3) & 7) as u8;
            if self.group_obj == group {
                self.group_obj = NO_ENTRY;
            }
            if !self.names.is_empty() && self.mask_obj == group {
                self.mask_obj = NO_ENTRY;
            }
        }
        self.other_obj = NO_ENTRY;
    }

    /// Whether a file's full access ACL (`self`) already carries what a
    /// received, stripped one says, given the mode the file will have
    /// (`rsync_acl_equal_enough`): the permission entries follow the mode.
    pub fn equal_enough(&self, sent: &Acl, mode: u32) -> bool {
        if (self.mask_obj ^ sent.mask_obj) & NO_ENTRY != 0 {
            return false;
        }
        if self.mask_obj != NO_ENTRY {
            let want = if sent.group_obj == NO_ENTRY {
                ((mode >> 3) & 7) as u8
            } else {
                sent.group_obj
            };
            if self.group_obj != want {
                return false;
            }
        }
        self.names == sent.names
    }

    /// The access ACL to store for a received one and the file's new mode
    /// (`pack_smb_acl` then `change_sacl_perms`): owner, other and the mask
    /// come from the mode, and so does the group entry unless one was sent.
    pub fn with_mode(&self, mode: u32) -> Acl {
        let group = ((mode >> 3) & 7) as u8;
        let mut a = self.clone();
        a.user_obj = ((mode >> 6) & 7) as u8;
        if a.group_obj == NO_ENTRY {
            a.group_obj = group;
        }
        if a.mask_obj != NO_ENTRY {
            a.mask_obj = group;
        }
        a.other_obj = (mode & 7) as u8;
        a
    }

    /// Appends this ACL's literal form (after the index 0 that announces
    /// it). `name` gives the name to send with a named entry, which rsync
    /// does only with incremental recursion.
    pub fn encode(&self, out: &mut Vec<u8>, name: &mut dyn FnMut(&IdAccess) -> Option<Vec<u8>>) {
        let mut flags = 0u8;
        for (v, f) in [
            (self.user_obj, XMIT_USER_OBJ),
            (self.group_obj, XMIT_GROUP_OBJ),
            (self.mask_obj, XMIT_MASK_OBJ),
            (self.other_obj, XMIT_OTHER_OBJ),
        ] {
            if v != NO_ENTRY {
                flags |= f;
            }
        }
        if !self.names.is_empty() {
            flags |= XMIT_NAME_LIST;
        }
        out.push(flags);
        for v in [self.user_obj, self.group_obj, self.mask_obj, self.other_obj] {
            if v != NO_ENTRY {
                put_varint(out, i32::from(v));
            }
        }
        if self.names.is_empty() {
            return;
        }
        put_varint(out, self.names.len() as i32);
        for n in &self.names {
            let mut bits = (n.access & !NAME_IS_USER) << 2;
            if n.is_user() {
                bits |= XFLAG_NAME_IS_USER;
            }
            put_varint(out, n.id as i32);
            match name(n).filter(|s| !s.is_empty() && s.len() <= 255) {
                Some(s) => {
                    put_varint(out, (bits | XFLAG_NAME_FOLLOWS) as i32);
                    out.push(s.len() as u8);
                    out.extend_from_slice(&s);
                }
                None => put_varint(out, bits as i32),
            }
        }
    }

    /// Decodes a literal ACL (`recv_rsync_acl` after its index 0). A mask
    /// is made up when named entries come without one, as rsync does: for
    /// an access ACL from `mode`, for a default ACL from the entries.
    pub fn decode(r: &mut Reader<'_>, access_mode: Option<u32>) -> Step<Acl, AclError> {
        Self::decode_named(r, access_mode, &mut Vec::new())
    }

    /// [`Self::decode`], keeping the names that come with named entries
    /// (under incremental recursion ids travel with their names, rsync's
    /// `recv_ida_entries`) in `names`.
    pub fn decode_named(
        r: &mut Reader<'_>,
        access_mode: Option<u32>,
        names: &mut Vec<AclName>,
    ) -> Step<Acl, AclError> {
        let flags = r.u8()?;
        let mut a = Acl::EMPTY;
        for (slot, f) in [
            (&mut a.user_obj, XMIT_USER_OBJ),
            (&mut a.group_obj, XMIT_GROUP_OBJ),
            (&mut a.mask_obj, XMIT_MASK_OBJ),
            (&mut a.other_obj, XMIT_OTHER_OBJ),
        ] {
            if flags & f != 0 {
                *slot = perm(r.varint("an ACL entry")?)?;
            }
        }
        let mut computed = 0u8;
        if flags & XMIT_NAME_LIST != 0 {
            let count = r.varint("an ACL count")?;
            let count = usize::try_from(count)
                .ok()
                .filter(|&c| c <= MAX_NAMES)
                .ok_or(Fail::Invalid(AclError::Count(count)))?;
            for _ in 0..count {
                let n = decode_name(r, names)?;
                computed |= n.access as u8;
                a.names.push(n);
            }
        }
        if !a.names.is_empty() && a.mask_obj == NO_ENTRY {
            a.mask_obj = match access_mode {
                Some(mode) => ((mode >> 3) & 7) as u8,
                None => (computed | (a.group_obj & !NO_ENTRY)) & 7,
            };
        }
        Ok(a)
    }
}

/// Reads one attribute of a file: its value, `None` when it has none.
pub type GetAttr<'a> = dyn Fn(&[u8]) -> std::io::Result<Option<Vec<u8>>> + 'a;

/// A file's ACLs as its attributes hold them: the access ACL (full, or
/// what `mode` says when it has none) and, for a directory, the default
/// ACL (empty when none). With `fake`, from `--fake-super`'s own
/// attributes, where none is an empty ACL. `get` reads one attribute.
pub fn read(get: &GetAttr<'_>, mode: u32, dir: bool, fake: bool) -> std::io::Result<(Acl, Acl)> {
    let parse = |v: Vec<u8>| {
        if fake {
            Acl::from_fake(&v, mode)
        } else {
            Acl::from_xattr(&v)
        }
    };
    let (acc_name, def_name) = if fake {
        (FAKE_ACCESS_XATTR, FAKE_DEFAULT_XATTR)
    } else {
        (ACCESS_XATTR, DEFAULT_XATTR)
    };
    let none = if fake {
        Acl::EMPTY
    } else {
        Acl::from_mode(mode)
    };
    let acc = get(acc_name)?.and_then(parse).unwrap_or(none);
    let def = if dir {
        get(def_name)?.and_then(parse).unwrap_or_default()
    } else {
        Acl::EMPTY
    };
    Ok((acc, def))
}

/// One named entry on the wire; a name that follows is read and dropped
/// (ids are mapped through the id lists).
fn decode_name(r: &mut Reader<'_>, names: &mut Vec<AclName>) -> Step<IdAccess, AclError> {
    let id = r.varint("an ACL id")? as u32;
    let v = r.varint("an ACL entry")? as u32;
    let access = v >> 2;
    if access & !7 != 0 {
        return Err(Fail::Invalid(AclError::Value(access)));
    }
    if v & XFLAG_NAME_FOLLOWS != 0 {
        let len = r.u8()?;
        let name = r.take(usize::from(len))?;
        names.push(AclName {
            user: v & XFLAG_NAME_IS_USER != 0,
            id,
            name: name.to_vec(),
        });
    }
    let user = if v & XFLAG_NAME_IS_USER != 0 {
        NAME_IS_USER
    } else {
        0
    };
    Ok(IdAccess {
        id,
        access: access | user,
    })
}

fn perm(v: i32) -> Result<u8, Fail<AclError>> {
    u8::try_from(v)
        .ok()
        .filter(|p| *p <= 7)
        .ok_or(Fail::Invalid(AclError::Value(v as u32)))
}

/// A malformed ACL from the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AclError {
    /// The stream itself.
    #[error(transparent)]
    Codec(#[from] crate::wire::CodecError),
    /// A permission value out of range.
    #[error("recv_acl_access: value out of range: {0:x}")]
    Value(u32),
    /// Too many or a negative count of named entries.
    #[error("ACL count {0} out of range")]
    Count(i32),
    /// An index beyond the ACLs received so far.
    #[error("recv_acl_index: ACL index {0} > {1}")]
    Index(i32, usize),
}

impl From<Fail> for Fail<AclError> {
    fn from(f: Fail) -> Self {
        f.lift()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#[path = "acl_tests.rs"]
mod tests;
