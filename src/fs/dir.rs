//! Directory handles for walking a tree without re-resolving long paths.
//!
//! Mirrors upstream rsync's `send_directory()` (flist.c): read the names in
//! a directory, then `lstat` / `readlink` / open each entry, for protocols
//! 27-32. Every method here takes a single entry name (checked with
//! [`check_name`]) and acts on `(dir_fd, name)` without following a final
//! symlink, so a directory swapped for a symlink during the walk makes
//! [`Dir::open_dir_at`] fail instead of leaving the tree.

use super::meta::{statx_at, statx_fd, Meta};
use super::root::read_link_in;
use super::{check_name, open_beneath, open_regular_at};
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{AtFlags, OFlags};
use std::ffi::CStr;
use std::fs::File;
use std::io;

/// A sensible cap for [`Dir::read_entries`].
pub const DEFAULT_MAX_ENTRIES: usize = 10_000_000;

/// A directory's names, end to end in one buffer, each followed by a
/// NUL, in the order read.
#[derive(Debug, Default)]
pub struct Names {
    buf: Vec<u8>,
    /// Where each name ends in `buf`: the index of its NUL.
    ends: Vec<usize>,
}

impl Names {
    /// Bytes held, used or not: what keeping it for reuse would keep.
    pub fn held(&self) -> usize {
        self.buf.capacity().saturating_add(
            self.ends
                .capacity()
                .saturating_mul(std::mem::size_of::<usize>()),
        )
    }

    /// How many names there are.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The `i`th name.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let (start, end) = self.span(i)?;
        self.buf.get(start..end)
    }

    /// The `i`th name with the NUL after it, for a system call to take as
    /// it is rather than copy to add one.
    pub fn get_c(&self, i: usize) -> Option<&CStr> {
        let (start, end) = self.span(i)?;
        CStr::from_bytes_with_nul(self.buf.get(start..=end)?).ok()
    }

    /// Where the `i`th name starts and ends (at its NUL) in `buf`.
    fn span(&self, i: usize) -> Option<(usize, usize)> {
        let end = *self.ends.get(i)?;
        let start = match i.checked_sub(1) {
            Some(p) => self.ends.get(p)?.checked_add(1)?,
            None => 0,
        };
        Some((start, end))
    }
}

/// An open directory (readable fd, `O_DIRECTORY`).
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
}

impl Dir {
    /// Open `name` (a validated relative path or single name) beneath
    /// `dirfd` as a readable directory. `follow` allows a final symlink
    /// (still beneath `dirfd`).
    pub(crate) fn open_in(dirfd: BorrowedFd<'_>, name: &[u8], follow: bool) -> io::Result<Dir> {
        let mut flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOCTTY;
        if !follow {
            flags |= OFlags::NOFOLLOW;
        }
        Ok(Dir {
            fd: open_beneath(dirfd, name, flags, 0)?,
        })
    }

    /// [`Dir::read_entries`] into one buffer, with no allocation per
    /// name: into `names`, emptied first. A walk passes the buffers of the
    /// directory it left, so that reading the next one does not grow new
    /// ones from nothing.
    pub fn read_names_into(&self, max: usize, names: &mut Names) -> io::Result<()> {
        names.buf.clear();
        names.ends.clear();
        self.each_entry(max, |name| {
            names.buf.extend_from_slice(name);
            names.ends.push(names.buf.len());
            names.buf.push(0);
            Ok(())
        })
    }

    /// Names in the directory, without `.` and `..`, in kernel order.
    /// Fails with an error once more than `max` names are seen.
    pub fn read_entries(&self, max: usize) -> io::Result<Vec<Vec<u8>>> {
        let mut names = Vec::new();
        self.each_entry(max, |name| {
            names.push(name.to_vec());
            Ok(())
        })?;
        Ok(names)
    }

    /// Calls `each` with every name in the directory, without `.` and
    /// `..`, in kernel order, as it is read: nothing is kept. Fails with
    /// an error once more than `max` names are seen, or with the first
    /// error `each` returns. The read moves the descriptor's position, so
    /// one directory is read by one caller at a time (`each` may look at
    /// its entries, not read it again).
    pub fn each_entry(
        &self,
        max: usize,
        mut each: impl FnMut(&[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        // Back to the first entry (`rewinddir`), so that each call reads
        // them all: a second descriptor would cost an open and a close,
        // and could fail at the open-file limit after the directory was
        // opened, where rsync only ever fails at `opendir`. The entries
        // are read in 32 KiB batches, as rsync's `readdir` does, into a
        // buffer on the stack.
        rustix::fs::seek(&self.fd, rustix::fs::SeekFrom::Start(0))?;
        let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 32 * 1024];
        let mut dir = rustix::fs::RawDir::new(&self.fd, &mut buf);
        let mut seen = 0usize;
        while let Some(entry) = dir.next() {
            let entry = entry?;
            let name = entry.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            if seen >= max {
                return Err(io::Error::other(format!(
                    "directory has more than {max} entries"
                )));
            }
            seen += 1;
            each(name)?;
        }
        Ok(())
    }

    /// Metadata of the directory itself.
    pub fn meta(&self) -> io::Result<Meta> {
        statx_fd(&self.fd)
    }

    /// Metadata of entry `name` (not following a symlink).
    pub fn lstat_at(&self, name: &[u8]) -> io::Result<Meta> {
        let name = check_name(name)?;
        statx_at(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW)
    }

    /// [`Dir::lstat_at`] of a name that carries its NUL ([`Names::get_c`]).
    pub fn lstat_c(&self, name: &CStr) -> io::Result<Meta> {
        check_name(name.to_bytes())?;
        statx_at(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW)
    }

    /// Open entry `name` as a regular file for reading (symlinks refused).
    pub fn open_file_at(&self, name: &[u8]) -> io::Result<File> {
        let name = check_name(name)?;
        open_regular_at(&self.fd, name, OFlags::RDONLY)
    }

    /// Target of the symlink entry `name`.
    pub fn read_link_at(&self, name: &[u8]) -> io::Result<Vec<u8>> {
        let name = check_name(name)?;
        read_link_in(&self.fd, name)
    }

    /// Open entry `name` as a directory; a symlink fails (`ELOOP`/`ENOTDIR`).
    pub fn open_dir_at(&self, name: &[u8]) -> io::Result<Dir> {
        let name = check_name(name)?;
        Dir::open_in(self.fd.as_fd(), name, false)
    }
}

impl AsFd for Dir {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
