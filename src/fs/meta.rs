//! File metadata as the rsync file list needs it.
//!
//! Mirrors the fields upstream rsync copies out of `struct stat` in
//! `make_file()` (mode, size, mtime with nanoseconds for protocol 31+,
//! atime for `--atimes`, uid, gid, rdev major/minor for devices, dev/ino
//! for `--hard-links`, nlink). Filled from `statx(2)` so the field widths do
//! not depend on the architecture.

use rustix::fd::AsFd;
use rustix::fs::{AtFlags, Statx, StatxFlags};
use std::io;

/// The kind of a directory entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileType {
    /// Regular file.
    File,
    /// Directory.
    Dir,
    /// Symbolic link.
    Symlink,
    /// Character device.
    CharDev,
    /// Block device.
    BlockDev,
    /// Named pipe.
    Fifo,
    /// Unix socket.
    Socket,
}

impl FileType {
    /// Classify the `S_IFMT` bits of a full `st_mode`.
    pub fn from_mode(mode: u32) -> Option<FileType> {
        match mode & 0o170000 {
            0o100000 => Some(FileType::File),
            0o040000 => Some(FileType::Dir),
            0o120000 => Some(FileType::Symlink),
            0o020000 => Some(FileType::CharDev),
            0o060000 => Some(FileType::BlockDev),
            0o010000 => Some(FileType::Fifo),
            0o140000 => Some(FileType::Socket),
            _ => None,
        }
    }

    /// The `S_IFMT` bits for this kind.
    pub fn mode_bits(self) -> u32 {
        match self {
            FileType::File => 0o100000,
            FileType::Dir => 0o040000,
            FileType::Symlink => 0o120000,
            FileType::CharDev => 0o020000,
            FileType::BlockDev => 0o060000,
            FileType::Fifo => 0o010000,
            FileType::Socket => 0o140000,
        }
    }
}

/// Metadata of one file system object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    /// Kind of object.
    pub file_type: FileType,
    /// Full `st_mode`: type bits plus permissions incl. setuid/setgid/sticky.
    pub mode: u32,
    /// Size in bytes (for symlinks: length of the target).
    pub size: u64,
    /// Modification time, seconds since the epoch.
    pub mtime_sec: i64,
    /// Modification time, nanoseconds part.
    pub mtime_nsec: u32,
    /// Access time, seconds since the epoch.
    pub atime_sec: i64,
    /// Access time, nanoseconds part.
    pub atime_nsec: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Device number major (devices only, else 0).
    pub rdev_major: u32,
    /// Device number minor (devices only, else 0).
    pub rdev_minor: u32,
    /// Containing device, as `makedev(major, minor)`.
    pub dev: u64,
    /// Inode number.
    pub ino: u64,
    /// Hard link count.
    pub nlink: u32,
}

impl Meta {
    /// Permission bits incl. setuid/setgid/sticky (`mode & 0o7777`).
    pub fn perms(&self) -> u32 {
        self.mode & 0o7777
    }

    /// True for a regular file.
    pub fn is_file(&self) -> bool {
        self.file_type == FileType::File
    }

    /// True for a directory.
    pub fn is_dir(&self) -> bool {
        self.file_type == FileType::Dir
    }

    /// True for a symbolic link.
    pub fn is_symlink(&self) -> bool {
        self.file_type == FileType::Symlink
    }

    /// The metadata of an open file.
    pub fn of_file(f: &std::fs::File) -> io::Result<Meta> {
        statx_fd(f)
    }

    /// Same inode on the same device.
    pub fn same_file(&self, other: &Meta) -> bool {
        self.dev == other.dev && self.ino == other.ino
    }

    pub(crate) fn from_statx(st: &Statx) -> io::Result<Meta> {
        let mode = u32::from(st.stx_mode);
        let file_type = FileType::from_mode(mode).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidData, "unknown file type in st_mode")
        })?;
        let nsec = |n: u32| n.min(999_999_999);
        Ok(Meta {
            file_type,
            mode,
            size: st.stx_size,
            mtime_sec: st.stx_mtime.tv_sec,
            mtime_nsec: nsec(st.stx_mtime.tv_nsec),
            atime_sec: st.stx_atime.tv_sec,
            atime_nsec: nsec(st.stx_atime.tv_nsec),
            uid: st.stx_uid,
            gid: st.stx_gid,
            rdev_major: st.stx_rdev_major,
            rdev_minor: st.stx_rdev_minor,
            dev: rustix::fs::makedev(st.stx_dev_major, st.stx_dev_minor),
            ino: st.stx_ino,
            nlink: st.stx_nlink,
        })
    }
}

/// `statx(dirfd, name, flags)` asking for the basic fields.
pub(crate) fn statx_at<Fd: AsFd, P: rustix::path::Arg>(
    dirfd: Fd,
    name: P,
    flags: AtFlags,
) -> io::Result<Meta> {
    let st = rustix::fs::statx(dirfd, name, flags, StatxFlags::BASIC_STATS)?;
    Meta::from_statx(&st)
}

/// Metadata of the object an fd refers to (works on `O_PATH` fds).
pub(crate) fn statx_fd<Fd: AsFd>(fd: Fd) -> io::Result<Meta> {
    statx_at(fd, c"", AtFlags::EMPTY_PATH | AtFlags::SYMLINK_NOFOLLOW)
}
