//! Extended attributes, read and written through file descriptors opened
//! beneath the root, never through a path (what rsync's `xattrs.c` does
//! with `sys_flistxattr`, `sys_fgetxattr`, `sys_fsetxattr` and
//! `sys_fremovexattr` on a held fd). POSIX ACLs are the xattrs
//! `system.posix_acl_access` and `system.posix_acl_default`; their binary
//! form is in [`crate::meta::acl`].
//!
//! Only regular files and directories are opened for this: a device is
//! never opened (opening one can have side effects), and Linux keeps no
//! `user.` attributes on symlinks, FIFOs or sockets.

use std::io;

use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{AtFlags, OFlags, XattrFlags};
use rustix::io::Errno;

use super::meta::{statx_at, FileType};
use super::{open_beneath, RelPath, Root};

/// An open file or directory whose attributes can be read (and, through
/// [`super::Writer`], written).
pub struct MetaFd(pub(super) OwnedFd);

/// Largest value read back (the kernel's own limit is 64 KiB).
const MAX_VALUE: usize = 1 << 20;

impl MetaFd {
    /// The names of the attributes, without their NUL; none where the
    /// file system has no xattrs.
    pub fn names(&self) -> io::Result<Vec<Vec<u8>>> {
        list(&self.0)
    }

    /// The value of attribute `name`; `None` when it has none.
    pub fn get(&self, name: &[u8]) -> io::Result<Option<Vec<u8>>> {
        get(&self.0, name)
    }
}

impl Root {
    /// Opens `path`, a regular file or a directory that is not a symlink,
    /// for reading its attributes; `None` for any other type.
    pub fn open_meta(&self, path: &RelPath) -> io::Result<Option<MetaFd>> {
        let (dir, name) = self.split(path)?;
        open_meta_in(&dir, name)
    }

    /// [`Self::open_meta`] for an entry just listed as a directory
    /// (`dir`) or a regular file: no second look before the open. The
    /// open cannot block (`O_DIRECTORY`, or `O_NONBLOCK`), and whatever
    /// else took the name since the walk looked gives `None` after it
    /// (only root can put a device node beneath the root).
    pub fn open_meta_listed(&self, path: &RelPath, dir: bool) -> io::Result<Option<MetaFd>> {
        let (d, name) = self.split(path)?;
        let want = match dir {
            true => FileType::Dir,
            false => FileType::File,
        };
        open_meta_as(&d, name, want)
    }
}

/// [`Root::open_meta`] on a name in an open directory.
pub(super) fn open_meta_in<D: AsFd>(dir: D, name: &[u8]) -> io::Result<Option<MetaFd>> {
    let pre = statx_at(&dir, name, AtFlags::SYMLINK_NOFOLLOW)?;
    if !pre.is_dir() && !pre.is_file() {
        return Ok(None);
    }
    open_meta_as(dir, name, pre.file_type)
}

/// Opens `name`, a directory or regular file as `want` says, and checks
/// that what was opened is one.
fn open_meta_as<D: AsFd>(dir: D, name: &[u8], want: FileType) -> io::Result<Option<MetaFd>> {
    let extra = match want {
        FileType::Dir => OFlags::DIRECTORY,
        _ => OFlags::NONBLOCK,
    };
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NOCTTY | extra;
    let fd = open_beneath(&dir, name, flags, 0)?;
    let post = super::meta::statx_fd(&fd)?;
    if post.file_type != want {
        return Ok(None);
    }
    Ok(Some(MetaFd(fd)))
}

/// Attribute names of `fd`.
pub(crate) fn list<F: AsFd>(fd: F) -> io::Result<Vec<Vec<u8>>> {
    let mut buf = vec![0u8; 1024];
    loop {
        match rustix::fs::flistxattr(&fd, &mut buf[..]) {
            Ok(n) => {
                let used = buf.get(..n).unwrap_or_default();
                return Ok(used
                    .split(|&b| b == 0)
                    .filter(|s| !s.is_empty())
                    .map(<[u8]>::to_vec)
                    .collect());
            }
            Err(Errno::NOTSUP) => return Ok(Vec::new()),
            Err(Errno::RANGE) if buf.len() < MAX_VALUE => {
                let want = rustix::fs::flistxattr_query(&fd)?;
                buf.resize(want.max(buf.len() * 2).min(MAX_VALUE), 0);
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// The value of `name` on `fd`; `None` when there is none.
pub(crate) fn get<F: AsFd>(fd: F, name: &[u8]) -> io::Result<Option<Vec<u8>>> {
    let mut buf = vec![0u8; 256];
    loop {
        match rustix::fs::fgetxattr(&fd, name, &mut buf[..]) {
            Ok(n) => {
                buf.truncate(n);
                return Ok(Some(buf));
            }
            Err(Errno::NODATA | Errno::NOTSUP) => return Ok(None),
            Err(Errno::RANGE) if buf.len() < MAX_VALUE => {
                let want = rustix::fs::fgetxattr_query(&fd, name)?;
                buf.resize(want.max(buf.len() * 2).min(MAX_VALUE), 0);
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Sets `name` to `value` on `fd`.
pub(super) fn set<F: AsFd>(fd: F, name: &[u8], value: &[u8]) -> io::Result<()> {
    Ok(rustix::fs::fsetxattr(
        &fd,
        name,
        value,
        XattrFlags::empty(),
    )?)
}

/// Removes `name` from `fd`; one that is not there is no error.
pub(super) fn remove<F: AsFd>(fd: F, name: &[u8]) -> io::Result<()> {
    match rustix::fs::fremovexattr(&fd, name) {
        Ok(()) | Err(Errno::NODATA) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// An open file or directory whose attributes this session may change:
/// only [`super::Writer`] makes one, after the same checks as for its
/// mode or times.
pub struct MetaMut(pub(super) MetaFd);

impl MetaMut {
    /// For reading what is there.
    pub fn reader(&self) -> &MetaFd {
        &self.0
    }

    /// Sets attribute `name` to `value`.
    pub fn set(&self, name: &[u8], value: &[u8]) -> io::Result<()> {
        set(&self.0 .0, name, value)
    }

    /// Removes attribute `name` (one that is not there is no error).
    pub fn remove(&self, name: &[u8]) -> io::Result<()> {
        remove(&self.0 .0, name)
    }
}

impl MetaMut {
    /// Sets the permission bits (`--fake-super` keeps the rest in an
    /// attribute).
    pub fn chmod(&self, mode: u32) -> io::Result<()> {
        Ok(rustix::fs::fchmod(
            &self.0 .0,
            rustix::fs::Mode::from_raw_mode(mode & 0o7777),
        )?)
    }
}
