//! The item flags (`ITEM_*` in rsync's `rsync.h`) that travel with a file
//! index from protocol 29 on: what the receiver's generator found
//! different, and whether it asks for the data. One home for the bits
//! that the sender, the receiver and the `--log-file` lines read.
//!
//! [`ItemHeader`] decodes what follows a file index, as rsync's `rsync.c`
//! `read_ndx_and_attrs` reads it (protocols 27 to 32): the item flags
//! (from protocol 29; before that every index is a transfer and nothing
//! follows it), a basis-type byte if [`BASIS_TYPE_FOLLOWS`], and a basis
//! name if [`XNAME_FOLLOWS`]. Both roles read it: the sender after each
//! request's index, the receiver after each file's. The file index and
//! its checks stay with the roles.

#[cfg(test)]
use std::io::Read;

#[cfg(test)]
use crate::wire::{read_via, WireError};
use crate::wire::{Reader, Step};

/// The 16 item-flag bits that travel on the wire. rsync keeps more bits
/// above these in memory (`ITEM_MISSING_DATA` and others) that never
/// travel; the type holds only what the wire can carry, so none is cut
/// off silently.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ItemFlags(u16);

impl ItemFlags {
    /// No flag.
    pub const EMPTY: ItemFlags = ItemFlags(0);

    /// Flags as they arrived.
    pub const fn from_wire(bits: u16) -> ItemFlags {
        ItemFlags(bits)
    }

    /// The bits as they travel.
    pub const fn bits(self) -> u16 {
        self.0
    }

    /// Whether any bit of `other` is set.
    pub const fn intersects(self, other: ItemFlags) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether every bit of `other` is set.
    pub const fn contains(self, other: ItemFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// No bit set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The bits of `self` that are also in `other`.
    pub const fn and(self, other: ItemFlags) -> ItemFlags {
        ItemFlags(self.0 & other.0)
    }

    /// The bits of both.
    pub const fn union(self, other: ItemFlags) -> ItemFlags {
        ItemFlags(self.0 | other.0)
    }

    /// `self` without the bits of `other`.
    pub const fn without(self, other: ItemFlags) -> ItemFlags {
        ItemFlags(self.0 & !other.0)
    }
}

impl std::ops::BitOr for ItemFlags {
    type Output = ItemFlags;
    fn bitor(self, other: ItemFlags) -> ItemFlags {
        ItemFlags(self.0 | other.0)
    }
}

impl std::ops::BitOrAssign for ItemFlags {
    fn bitor_assign(&mut self, other: ItemFlags) {
        self.0 |= other.0;
    }
}

/// The access time differs (`--atimes`).
pub const REPORT_ATIME: ItemFlags = ItemFlags(1 << 0);
/// The checksum (or, for a symlink, the target) differs.
pub const REPORT_CHANGE: ItemFlags = ItemFlags(1 << 1);
/// The size differs.
pub const REPORT_SIZE: ItemFlags = ItemFlags(1 << 2);
/// The modification time differs.
pub const REPORT_TIME: ItemFlags = ItemFlags(1 << 3);
/// The permissions differ.
pub const REPORT_PERMS: ItemFlags = ItemFlags(1 << 4);
/// The owner differs.
pub const REPORT_OWNER: ItemFlags = ItemFlags(1 << 5);
/// The group differs.
pub const REPORT_GROUP: ItemFlags = ItemFlags(1 << 6);
/// The ACL differs.
pub const REPORT_ACL: ItemFlags = ItemFlags(1 << 7);
/// The extended attributes differ.
pub const REPORT_XATTR: ItemFlags = ItemFlags(1 << 8);
/// A basis-type byte follows the flags.
pub const BASIS_TYPE_FOLLOWS: ItemFlags = ItemFlags(1 << 11);
/// A name (a hard link's or a basis's) follows the flags.
pub const XNAME_FOLLOWS: ItemFlags = ItemFlags(1 << 12);
/// The entry is new.
pub const IS_NEW: ItemFlags = ItemFlags(1 << 13);
/// The receiver changed the entry itself (created it, linked it).
pub const LOCAL_CHANGE: ItemFlags = ItemFlags(1 << 14);
/// The receiver asks for the file's data.
pub const TRANSFER: ItemFlags = ItemFlags(1 << 15);
/// Flags that make an item worth reporting.
pub const SIGNIFICANT: ItemFlags =
    ItemFlags(!(BASIS_TYPE_FOLLOWS.0 | XNAME_FOLLOWS.0 | LOCAL_CHANGE.0));

/// Basis type `FNAMECMP_FNAME`: the basis is the destination file itself.
pub const FNAMECMP_FNAME: u8 = 0x80;
/// Basis type `FNAMECMP_PARTIAL_DIR`: the basis is the file kept in the
/// `--partial-dir`.
pub const FNAMECMP_PARTIAL_DIR: u8 = 0x81;

/// Longest basis name accepted after [`XNAME_FOLLOWS`].
pub const MAX_XNAME: usize = 4096;

/// What follows a file index: its item flags, basis type and basis name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemHeader {
    /// The item flags; [`TRANSFER`] before protocol 29.
    pub iflags: ItemFlags,
    /// The basis type, when [`BASIS_TYPE_FOLLOWS`].
    pub basis_type: Option<u8>,
    /// The basis (or hard link's) name, when [`XNAME_FOLLOWS`].
    pub xname: Option<Vec<u8>>,
}

impl ItemHeader {
    /// Decodes a whole header at `protocol`.
    pub fn decode(r: &mut Reader<'_>, protocol: u32) -> Step<Self> {
        let iflags = Self::decode_flags(r, protocol)?;
        Self::decode_after(r, iflags)
    }

    /// The item flags alone: two bytes from protocol 29, none before
    /// (then the index asks for a transfer, and rsync's local
    /// `ITEM_MISSING_DATA` bit, which 16 bits cannot hold, is not kept).
    pub fn decode_flags(r: &mut Reader<'_>, protocol: u32) -> Step<ItemFlags> {
        if protocol >= 29 {
            r.u16().map(ItemFlags::from_wire)
        } else {
            Ok(TRANSFER)
        }
    }

    /// The rest of a header whose flags are `iflags`.
    pub fn decode_after(r: &mut Reader<'_>, iflags: ItemFlags) -> Step<Self> {
        let basis_type = Self::decode_basis_type(r, iflags)?;
        let xname = Self::decode_xname(r, iflags)?;
        Ok(Self {
            iflags,
            basis_type,
            xname,
        })
    }

    /// The basis-type byte, if the flags announce one.
    pub fn decode_basis_type(r: &mut Reader<'_>, iflags: ItemFlags) -> Step<Option<u8>> {
        if iflags.intersects(BASIS_TYPE_FOLLOWS) {
            r.u8().map(Some)
        } else {
            Ok(None)
        }
    }

    /// The basis name, if the flags announce one.
    pub fn decode_xname(r: &mut Reader<'_>, iflags: ItemFlags) -> Step<Option<Vec<u8>>> {
        if iflags.intersects(XNAME_FOLLOWS) {
            r.vstring(MAX_XNAME, "basis name").map(Some)
        } else {
            Ok(None)
        }
    }

    #[cfg(test)]
    /// Reads a whole header from a blocking stream (the bridge, until
    /// the roles are sans-IO).
    pub fn read(r: &mut impl Read, protocol: u32) -> Result<Self, WireError> {
        let iflags = Self::read_flags(r, protocol)?;
        Self::read_after(r, iflags)
    }

    #[cfg(test)]
    /// Reads the item flags from a blocking stream.
    pub fn read_flags(r: &mut impl Read, protocol: u32) -> Result<ItemFlags, WireError> {
        read_via(r, "item flags", |x| Self::decode_flags(x, protocol))
    }

    #[cfg(test)]
    /// Reads the rest of a header whose flags are `iflags`, each field
    /// named in the error when the stream ends inside it.
    pub fn read_after(r: &mut impl Read, iflags: ItemFlags) -> Result<Self, WireError> {
        let basis_type =
            read_via::<_, _, WireError>(r, "basis type", |x| Self::decode_basis_type(x, iflags))?;
        let xname =
            read_via::<_, _, WireError>(r, "basis name", |x| Self::decode_xname(x, iflags))?;
        Ok(Self {
            iflags,
            basis_type,
            xname,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#[path = "item_tests.rs"]
mod tests;
