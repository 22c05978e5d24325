//! Extended attributes (rsync's `xattrs.c`, with its `sys_lgetxattr`,
//! `sys_llistxattr`, `sys_lsetxattr` and `sys_lremovexattr`). POSIX ACLs
//! are the xattrs `system.posix_acl_access` and
//! `system.posix_acl_default`; their binary form is in
//! [`crate::meta::acl`].
//!
//! Written only through a descriptor opened beneath the root
//! ([`MetaMut`]). Read either through such a descriptor ([`MetaFd`]) or,
//! where nothing else needs the file open, by one name in a directory
//! opened beneath the root ([`MetaAt`]): that directory is made the
//! working directory and the name, a single component, is looked up
//! without following a final symlink. No path is resolved, nothing is
//! opened (so a device or FIFO is never opened), and Landlock, which
//! checks each open by walking up to `/`, is not asked. The kernel's
//! `getxattrat` would do the same without the working directory; it is
//! new (6.13) and has no safe wrapper yet.
//!
//! Only regular files and directories are opened for this: a device is
//! never opened (opening one can have side effects), and Linux keeps no
//! `user.` attributes on symlinks, FIFOs or sockets.

use std::io;
use std::sync::Mutex;

use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{AtFlags, OFlags, XattrFlags};
use rustix::io::Errno;

use super::meta::{statx_at, FileType, Meta};
use super::{open_beneath, Handle, RelPath, Root};

/// Reading an entry's attributes, by descriptor or by name.
pub trait Attrs {
    /// The names of the attributes, without their NUL; none where the
    /// file system has no xattrs.
    fn names(&self) -> io::Result<Vec<Vec<u8>>>;

    /// The value of attribute `name`; `None` when it has none.
    fn get(&self, name: &[u8]) -> io::Result<Option<Vec<u8>>>;
}

/// An open file or directory whose attributes can be read (and, through
/// [`super::Writer`], written).
pub struct MetaFd(pub(super) OwnedFd);

/// Largest value read back (the kernel's own limit is 64 KiB).
const MAX_VALUE: usize = 1 << 20;

impl Attrs for MetaFd {
    fn names(&self) -> io::Result<Vec<Vec<u8>>> {
        list(&self.0)
    }

    fn get(&self, name: &[u8]) -> io::Result<Option<Vec<u8>>> {
        get(&self.0, name)
    }
}

/// One name in a directory beneath the root, whose attributes are read
/// without opening it (see the module's doc). Whatever holds the name
/// when it is read is what is read, as with rsync's own reads by path.
pub struct MetaAt<'a> {
    dir: Handle<'a>,
    name: &'a [u8],
}

/// The working directory is the process's: one read at a time changes
/// it and resolves its name in it.
static WORKING_DIR: Mutex<()> = Mutex::new(());

impl MetaAt<'_> {
    /// `read` on this entry's name, with its directory as the working
    /// directory.
    fn in_dir<T>(&self, read: impl FnOnce(&[u8]) -> io::Result<T>) -> io::Result<T> {
        let _held = WORKING_DIR.lock().unwrap_or_else(|p| p.into_inner());
        rustix::process::fchdir(&self.dir)?;
        read(self.name)
    }
}

impl Attrs for MetaAt<'_> {
    fn names(&self) -> io::Result<Vec<Vec<u8>>> {
        self.in_dir(|name| list_with(|buf| rustix::fs::llistxattr(name, buf)))
    }

    fn get(&self, attr: &[u8]) -> io::Result<Option<Vec<u8>>> {
        self.in_dir(|name| get_with(|buf| rustix::fs::lgetxattr(name, attr, buf)))
    }
}

impl Root {
    /// `path`'s attributes, read by its name in its directory (see
    /// [`MetaAt`]); opens only that directory, and only when it is not
    /// the last one asked for.
    pub fn meta_at<'a>(&'a self, path: &'a RelPath) -> io::Result<MetaAt<'a>> {
        let (dir, name) = self.split(path)?;
        Ok(MetaAt { dir, name })
    }

    /// [`Self::meta_at`] when `path` is a regular file or a directory
    /// (a symlink is not followed); `None` for any other type.
    pub fn meta_at_file_or_dir<'a>(&'a self, path: &'a RelPath) -> io::Result<Option<MetaAt<'a>>> {
        let (dir, name) = self.split(path)?;
        let m = statx_at(&dir, name, AtFlags::SYMLINK_NOFOLLOW)?;
        Ok((m.is_file() || m.is_dir()).then_some(MetaAt { dir, name }))
    }
}

/// Opens `name` in an open directory, a regular file or a directory that
/// is not a symlink, for its attributes, with the metadata of what was
/// opened; `None` for any other type.
pub(super) fn open_meta_in<D: AsFd>(dir: D, name: &[u8]) -> io::Result<Option<(MetaFd, Meta)>> {
    let pre = statx_at(&dir, name, AtFlags::SYMLINK_NOFOLLOW)?;
    if !pre.is_dir() && !pre.is_file() {
        return Ok(None);
    }
    open_meta_as(dir, name, pre.file_type)
}

/// Opens `name`, a directory or regular file as `want` says, and checks
/// that what was opened is one.
fn open_meta_as<D: AsFd>(
    dir: D,
    name: &[u8],
    want: FileType,
) -> io::Result<Option<(MetaFd, Meta)>> {
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
    Ok(Some((MetaFd(fd), post)))
}

/// Attribute names of `fd`.
pub(crate) fn list<F: AsFd>(fd: F) -> io::Result<Vec<Vec<u8>>> {
    list_with(|buf| rustix::fs::flistxattr(&fd, buf))
}

/// The value of `name` on `fd`; `None` when there is none.
pub(crate) fn get<F: AsFd>(fd: F, name: &[u8]) -> io::Result<Option<Vec<u8>>> {
    get_with(|buf| rustix::fs::fgetxattr(&fd, name, buf))
}

/// The names `read` lists into its buffer, which grows while it is too
/// small, up to [`MAX_VALUE`].
fn list_with(read: impl Fn(&mut [u8]) -> rustix::io::Result<usize>) -> io::Result<Vec<Vec<u8>>> {
    let mut buf = vec![0u8; 1024];
    loop {
        match read(&mut buf[..]) {
            Ok(n) => {
                let used = buf.get(..n).unwrap_or_default();
                return Ok(used
                    .split(|&b| b == 0)
                    .filter(|s| !s.is_empty())
                    .map(<[u8]>::to_vec)
                    .collect());
            }
            Err(Errno::NOTSUP) => return Ok(Vec::new()),
            Err(Errno::RANGE) if buf.len() < MAX_VALUE => buf.resize(buf.len() * 4, 0),
            Err(e) => return Err(e.into()),
        }
    }
}

/// The value `read` puts into its buffer, which grows while it is too
/// small, up to [`MAX_VALUE`]; `None` when there is none.
fn get_with(read: impl Fn(&mut [u8]) -> rustix::io::Result<usize>) -> io::Result<Option<Vec<u8>>> {
    let mut buf = vec![0u8; 256];
    loop {
        match read(&mut buf[..]) {
            Ok(n) => {
                buf.truncate(n);
                return Ok(Some(buf));
            }
            Err(Errno::NODATA | Errno::NOTSUP) => return Ok(None),
            Err(Errno::RANGE) if buf.len() < MAX_VALUE => buf.resize(buf.len() * 4, 0),
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
