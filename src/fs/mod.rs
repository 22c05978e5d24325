//! The confined file system: every syscall on a client-supplied name.
//!
//! Upstream rsync confines a daemon module with `chroot()` or, since 3.2.x,
//! with careful `secure_relative_open()`; `rrsync` relies on rsync's
//! `--munge-links`/`sanitize_paths`. Here confinement is by construction and
//! independent of the protocol version (27-32): one directory fd is the root
//! ([`Root`]), every client name is a validated [`RelPath`], and each lookup
//! is `openat2(root, …, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)`. Symlinks
//! inside the tree may be followed in intermediate components; anything
//! escaping (absolute symlinks, `..` above the root, magic links) fails with
//! `EXDEV`/`ELOOP`. Operations acting on a name itself (lstat, readlink,
//! unlink, rename, symlink, link, chown, utimes without follow) resolve the
//! *parent* directory that way and then call the `*at` syscall on
//! `(parent_fd, final_name)` without following the final component.
//!
//! Reading goes through [`Root`]; every change to the tree goes through
//! [`Writer`], the only holder of the write-side syscalls (private to this
//! module), which enforces `-no-del` and `-no-overwrite` (see `guard`).
//! The one exception is the client's `--log-file`, which
//! [`Root::open_log`] opens for appending only with the policy's
//! `LogFilePermit` (never under `-ro` or `-no-overwrite`).
//!
//! No code path turns a client name into a path resolved from `/`.
//! The only absolute path ever built is `/proc/self/fd/N` in [`Writer::chmod`]
//! (how glibc implements `fchmodat(AT_SYMLINK_NOFOLLOW)`), which names an
//! already-confined `O_PATH` fd.
//!
//! Requires Linux >= 5.8 (`openat2`, `utimensat(AT_EMPTY_PATH)`).

mod cow;
mod dir;
mod guard;
mod meta;
mod path;
mod quota;
mod root;
pub mod snapshot;
mod write;
mod xattr;
pub use write::temp_name;

#[cfg(test)]
mod place_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod xattr_tests;

pub use dir::{Dir, Names, DEFAULT_MAX_ENTRIES};
pub use guard::{is_denied, Denied, Writer};
pub use meta::{FileType, Meta};
pub use path::{check_name, plain_components, PathError, RelPath, MAX_NAME_LEN, MAX_PATH_LEN};
pub use quota::Quota;
pub use root::Root;
pub use xattr::{Attrs, MetaAt, MetaFd, MetaMut};

use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{Mode, OFlags, ResolveFlags};
use rustix::io::Errno;
use std::fs::File;
use std::io;

/// Resolution flags for every lookup of a client name.
const RESOLVE: ResolveFlags = ResolveFlags::BENEATH.union(ResolveFlags::NO_MAGICLINKS);

/// `openat2` under [`RESOLVE`], retrying the `EAGAIN` the kernel returns
/// when a concurrent rename or mount might have raced the lookup.
pub(crate) fn open_beneath<Fd: AsFd>(
    dirfd: Fd,
    name: &[u8],
    flags: OFlags,
    mode: u32,
) -> io::Result<OwnedFd> {
    open_beneath_with(dirfd, name, flags, mode, ResolveFlags::empty())
}

/// [`open_beneath`] with more resolve flags than [`RESOLVE`].
pub(crate) fn open_beneath_with<Fd: AsFd>(
    dirfd: Fd,
    name: &[u8],
    flags: OFlags,
    mode: u32,
    more: ResolveFlags,
) -> io::Result<OwnedFd> {
    let dirfd = dirfd.as_fd();
    let mut tries = 0;
    loop {
        match rustix::fs::openat2(
            dirfd,
            name,
            flags | OFlags::CLOEXEC,
            Mode::from_raw_mode(mode),
            RESOLVE | more,
        ) {
            Err(Errno::AGAIN) if tries < 16 => tries += 1,
            Err(Errno::INTR) => {}
            r => return r.map_err(io::Error::from),
        }
    }
}

/// A directory fd that is either the root's own or freshly opened.
pub(crate) enum Handle<'a> {
    Borrowed(BorrowedFd<'a>),
    /// The root's remembered parent directory (see `Root::open_parent`).
    Shared(std::sync::Arc<OwnedFd>),
}

impl AsFd for Handle<'_> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Handle::Borrowed(fd) => *fd,
            Handle::Shared(fd) => fd.as_fd(),
        }
    }
}

/// The error for "this object is not a regular file".
pub(crate) fn not_regular(ft: FileType) -> io::Error {
    match ft {
        FileType::Dir => Errno::ISDIR.into(),
        FileType::Symlink => Errno::LOOP.into(),
        _ => io::Error::new(io::ErrorKind::InvalidInput, "not a regular file"),
    }
}

/// Open `name` in `dirfd` as a regular file without following a final
/// symlink and without blocking on FIFOs or opening devices in the normal
/// case: a pre-check refuses non-files, `O_NONBLOCK` keeps a raced-in FIFO
/// from hanging, and an `fstat` afterwards confirms the result.
pub(crate) fn open_regular_at<Fd: AsFd>(
    dirfd: Fd,
    name: &[u8],
    access: OFlags,
) -> io::Result<File> {
    open_regular_meta_at(dirfd, name, access).map(|(f, _)| f)
}

/// [`open_regular_at`], with the open file's attributes (its `fstat`).
///
/// The descriptor keeps `O_NONBLOCK`: it is a regular file, on which
/// Linux ignores the flag (open(2)), so clearing it would cost two
/// system calls per file for nothing.
pub(crate) fn open_regular_meta_at<Fd: AsFd>(
    dirfd: Fd,
    name: &[u8],
    access: OFlags,
) -> io::Result<(File, meta::Meta)> {
    let dirfd = dirfd.as_fd();
    let pre = meta::statx_at(dirfd, name, rustix::fs::AtFlags::SYMLINK_NOFOLLOW)?;
    if !pre.is_file() {
        return Err(not_regular(pre.file_type));
    }
    open_listed_regular_at(dirfd, name, access)
}

/// [`open_regular_meta_at`] for a name the walk has just listed as a
/// regular file: no second look before the open, only the `fstat` after
/// it refuses anything else. Between the walk and the open only what can
/// make a device node beneath the root (root itself) could have one
/// opened; a FIFO opens at once under `O_NONBLOCK` and is refused.
pub(crate) fn open_listed_regular_at<Fd: AsFd>(
    dirfd: Fd,
    name: &[u8],
    access: OFlags,
) -> io::Result<(File, meta::Meta)> {
    let flags = access | OFlags::NOFOLLOW | OFlags::NOCTTY | OFlags::NONBLOCK;
    let fd = open_beneath(dirfd.as_fd(), name, flags, 0)?;
    let post = meta::statx_fd(&fd)?;
    if !post.is_file() {
        return Err(not_regular(post.file_type));
    }
    Ok((File::from(fd), post))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod snapshot_tests;
