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

use std::io::Read;

use crate::wire::{read_via, Reader, Step, WireError};

/// The access time differs (`--atimes`).
pub const REPORT_ATIME: u16 = 1 << 0;
/// The checksum (or, for a symlink, the target) differs.
pub const REPORT_CHANGE: u16 = 1 << 1;
/// The size differs.
pub const REPORT_SIZE: u16 = 1 << 2;
/// The modification time differs.
pub const REPORT_TIME: u16 = 1 << 3;
/// The permissions differ.
pub const REPORT_PERMS: u16 = 1 << 4;
/// The owner differs.
pub const REPORT_OWNER: u16 = 1 << 5;
/// The group differs.
pub const REPORT_GROUP: u16 = 1 << 6;
/// The ACL differs.
pub const REPORT_ACL: u16 = 1 << 7;
/// The extended attributes differ.
pub const REPORT_XATTR: u16 = 1 << 8;
/// A basis-type byte follows the flags.
pub const BASIS_TYPE_FOLLOWS: u16 = 1 << 11;
/// A name (a hard link's or a basis's) follows the flags.
pub const XNAME_FOLLOWS: u16 = 1 << 12;
/// The entry is new.
pub const IS_NEW: u16 = 1 << 13;
/// The receiver changed the entry itself (created it, linked it).
pub const LOCAL_CHANGE: u16 = 1 << 14;
/// The receiver asks for the file's data.
pub const TRANSFER: u16 = 1 << 15;
/// Flags that make an item worth reporting.
pub const SIGNIFICANT: u16 = !(BASIS_TYPE_FOLLOWS | XNAME_FOLLOWS | LOCAL_CHANGE);

/// Longest basis name accepted after [`XNAME_FOLLOWS`].
pub const MAX_XNAME: usize = 4096;

/// What follows a file index: its item flags, basis type and basis name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemHeader {
    /// The item flags; [`TRANSFER`] before protocol 29.
    pub iflags: u16,
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
    pub fn decode_flags(r: &mut Reader<'_>, protocol: u32) -> Step<u16> {
        if protocol >= 29 {
            r.u16()
        } else {
            Ok(TRANSFER)
        }
    }

    /// The rest of a header whose flags are `iflags`.
    pub fn decode_after(r: &mut Reader<'_>, iflags: u16) -> Step<Self> {
        let basis_type = Self::decode_basis_type(r, iflags)?;
        let xname = Self::decode_xname(r, iflags)?;
        Ok(Self {
            iflags,
            basis_type,
            xname,
        })
    }

    /// The basis-type byte, if the flags announce one.
    pub fn decode_basis_type(r: &mut Reader<'_>, iflags: u16) -> Step<Option<u8>> {
        if iflags & BASIS_TYPE_FOLLOWS != 0 {
            r.u8().map(Some)
        } else {
            Ok(None)
        }
    }

    /// The basis name, if the flags announce one.
    pub fn decode_xname(r: &mut Reader<'_>, iflags: u16) -> Step<Option<Vec<u8>>> {
        if iflags & XNAME_FOLLOWS != 0 {
            r.vstring(MAX_XNAME, "basis name").map(Some)
        } else {
            Ok(None)
        }
    }

    /// Reads a whole header from a blocking stream (the bridge, until
    /// the roles are sans-IO).
    pub fn read(r: &mut impl Read, protocol: u32) -> Result<Self, WireError> {
        let iflags = Self::read_flags(r, protocol)?;
        Self::read_after(r, iflags)
    }

    /// Reads the item flags from a blocking stream.
    pub fn read_flags(r: &mut impl Read, protocol: u32) -> Result<u16, WireError> {
        read_via(r, "item flags", |x| Self::decode_flags(x, protocol))
    }

    /// Reads the rest of a header whose flags are `iflags`, each field
    /// named in the error when the stream ends inside it.
    pub fn read_after(r: &mut impl Read, iflags: u16) -> Result<Self, WireError> {
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
