//! The file list: entries, their wire encoding and their order.
//!
//! Mirrors rsync's `flist.c`: `send_file_entry`/`recv_file_entry` for the
//! per-entry encoding (protocols 27 to 32: byte or 16-bit flags before the
//! `v` capability, varint flags with it; nanosecond mtimes from 31; varint
//! ids with inline names from 30), `write_end_of_flist`, `send_id_lists`
//! and the receiver's id mapping in `uidlist.c`, and `f_name_cmp`, the
//! order both sides sort the list in.

mod decode;
mod decode_fields;
mod decode_ids;
mod encode;
mod entry;
mod idmap;
mod ids;
pub mod item;
mod sort;

pub use decode::{FlistDecoder, FlistError, FlistLimits, InlineName};
#[cfg(test)]
pub use decode_ids::read_id_lists;
pub use decode_ids::{IdListsDecoder, IdNameList};
pub use encode::FlistEncoder;
pub use entry::{EntryFlags, FileEntry, FileKind, FlistOptions};
pub use idmap::{IdMap, NameMap};
pub use ids::{IdList, IdNames};
pub use sort::{cmp_in_dir, f_name_cmp, permute, sort_entries, sort_stable_by};

/// `XMIT_*` bits of an entry's flags word (`rsync.h`).
pub mod xmit {
    /// Top-level directory of the transfer.
    pub const TOP_DIR: u32 = 1 << 0;
    /// Same mode as the previous entry.
    pub const SAME_MODE: u32 = 1 << 1;
    /// Protocols < 28: same rdev as the previous entry.
    pub const SAME_RDEV_PRE28: u32 = 1 << 2;
    /// Protocols >= 28: a second flags byte follows.
    pub const EXTENDED_FLAGS: u32 = 1 << 2;
    /// Same uid as the previous entry.
    pub const SAME_UID: u32 = 1 << 3;
    /// Same gid as the previous entry.
    pub const SAME_GID: u32 = 1 << 4;
    /// The name shares a prefix with the previous one.
    pub const SAME_NAME: u32 = 1 << 5;
    /// The name suffix length is a varint/int rather than a byte.
    pub const LONG_NAME: u32 = 1 << 6;
    /// Same mtime as the previous entry.
    pub const SAME_TIME: u32 = 1 << 7;
    /// Devices: same major as the previous device.
    pub const SAME_RDEV_MAJOR: u32 = 1 << 8;
    /// Directories (protocol >= 30): no content is sent for it.
    pub const NO_CONTENT_DIR: u32 = 1 << 8;
    /// Hard-linked (non-directory).
    pub const HLINKED: u32 = 1 << 9;
    /// Protocols 28-29: same device number as the previous hard link.
    pub const SAME_DEV_PRE30: u32 = 1 << 10;
    /// Protocol >= 30: the user name follows the uid.
    pub const USER_NAME_FOLLOWS: u32 = 1 << 10;
    /// Protocols 28-29: the rdev minor fits in a byte.
    pub const RDEV_MINOR_8_PRE30: u32 = 1 << 11;
    /// Protocol >= 30: the group name follows the gid.
    pub const GROUP_NAME_FOLLOWS: u32 = 1 << 11;
    /// Protocol >= 30: first of a hard-link group.
    pub const HLINK_FIRST: u32 = 1 << 12;
    /// End-of-list marker carrying an I/O error (safe file lists).
    pub const IO_ERROR_ENDLIST: u32 = 1 << 12;
    /// Protocol >= 31: mtime nanoseconds follow.
    pub const MOD_NSEC: u32 = 1 << 13;
    /// Same atime as the previous entry (`--atimes`).
    pub const SAME_ATIME: u32 = 1 << 14;
    /// crtime equals mtime (`--crtimes`).
    pub const CRTIME_EQ_MTIME: u32 = 1 << 17;
}
