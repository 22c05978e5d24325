//! The item flags (`ITEM_*` in rsync's `rsync.h`) that travel with a file
//! index from protocol 29 on: what the receiver's generator found
//! different, and whether it asks for the data. One home for the bits
//! that the sender, the receiver and the `--log-file` lines read.

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
