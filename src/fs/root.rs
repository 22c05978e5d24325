//! The root directory handle and the read-side operations on client names.
//!
//! Mirrors what upstream rsync's sender and generator do with `do_lstat()`,
//! `do_stat()`, `do_readlink()` and `do_open()` (syscall.c), for protocols
//! 27-32, but every lookup happens beneath [`Root`]'s directory fd with
//! `RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS` (see [`crate::fs`]).

use super::meta::{statx_at, statx_fd, Meta};
use super::{
    not_regular, open_beneath, open_beneath_with, open_listed_regular_at, open_regular_at,
    open_regular_meta_at, Dir, Handle, RelPath,
};
use crate::policy::LogFilePermit;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{AtFlags, OFlags, ResolveFlags, CWD};
use rustix::io::Errno;
use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// The confinement root: one directory fd beneath which every client name
/// is resolved.
///
/// It remembers the last parent directory it resolved, since a file list
/// visits a directory's entries one after the other: their lookups then
/// start from that directory's handle instead of walking the path again.
/// The handle was resolved beneath the root; a directory moved away later
/// by someone else still gives access only to what is beneath it. A
/// [`super::Writer`] forgets it whenever a change it makes may change
/// where that path leads: every `rmdir`, every rename but a temporary
/// regular file's, and, when a symlink was followed on the way to it,
/// every unlink and rename. So a name never resolves through a directory
/// or symlink this session removed, moved or replaced.
#[derive(Debug)]
pub struct Root {
    fd: OwnedFd,
    slash: bool,
    parent: Mutex<Option<Remembered>>,
    /// A snapshot being made (`-snapshot`): its files may share their
    /// inodes with earlier snapshots, so a [`super::Writer`] copies a
    /// shared object before it changes it in place (see `guard`).
    cow: bool,
}

/// The last parent directory resolved.
#[derive(Debug)]
struct Remembered {
    path: Vec<u8>,
    fd: Arc<OwnedFd>,
    /// A symlink was followed on the way to it.
    linked: bool,
}

impl Root {
    /// Open the operator-chosen directory. This is the one place a server
    /// path string is resolved normally (symlinks in it are followed).
    pub fn open(path: &Path) -> io::Result<Root> {
        let fd = rustix::fs::openat(
            CWD,
            path,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )?;
        let me = statx_fd(&fd)?;
        let slash = match statx_at(CWD, c"/", AtFlags::empty()) {
            Ok(s) => s.same_file(&me),
            Err(_) => false,
        };
        Ok(Root {
            fd,
            slash,
            parent: Mutex::new(None),
            cow: false,
        })
    }

    /// A root at directory `path` beneath this one (no symlink followed
    /// in any component); `cow` marks a snapshot being made.
    pub(crate) fn sub_root(&self, path: &[u8], cow: bool) -> io::Result<Root> {
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW;
        let fd = open_beneath(self.fd(), path, flags, 0)?;
        Ok(Root {
            fd,
            slash: false,
            parent: Mutex::new(None),
            cow,
        })
    }

    /// Whether this root is a snapshot being made (see [`Self::sub_root`]).
    pub(crate) fn is_cow(&self) -> bool {
        self.cow
    }

    /// Takes rrsync's single-run lock: an exclusive, non-blocking `flock`
    /// on the root directory. `Ok(None)` when another session holds it;
    /// filesystems without `flock` on directories proceed unlocked, as
    /// rrsync does. The lock lasts as long as the returned handle.
    pub fn try_lock(&self) -> io::Result<Option<OwnedFd>> {
        let fd = rustix::fs::openat(
            &self.fd,
            ".",
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )?;
        match rustix::fs::flock(&fd, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => Ok(Some(fd)),
            Err(rustix::io::Errno::WOULDBLOCK) => Ok(None),
            Err(_) => Ok(Some(fd)),
        }
    }

    /// True when the root is the system's `/` (confinement is then moot).
    pub fn is_slash(&self) -> bool {
        self.slash
    }

    /// Duplicate the handle (e.g. for another thread).
    pub fn try_clone(&self) -> io::Result<Root> {
        let fd = rustix::io::fcntl_dupfd_cloexec(&self.fd, 0)?;
        Ok(Root {
            fd,
            slash: self.slash,
            parent: Mutex::new(None),
            cow: self.cow,
        })
    }

    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The bytes to hand to `openat2(root, …)` for `path` (`.` for the root).
    pub(crate) fn lookup_bytes(path: &RelPath) -> &[u8] {
        if path.is_root() {
            b"."
        } else {
            path.as_bytes()
        }
    }

    /// Resolve the directory containing `path`'s final component and return
    /// it with that component. For the root itself, `(root, ".")`.
    pub(crate) fn split<'a>(&'a self, path: &'a RelPath) -> io::Result<(Handle<'a>, &'a [u8])> {
        match path.split_last() {
            None => Ok((Handle::Borrowed(self.fd()), b".")),
            Some((parent, name)) => Ok((self.open_parent(parent)?, name)),
        }
    }

    /// `O_PATH` fd of a directory path (all components followed beneath),
    /// the remembered one when it is the same path.
    pub(crate) fn open_parent<'a>(&'a self, parent: &[u8]) -> io::Result<Handle<'a>> {
        if parent.is_empty() {
            return Ok(Handle::Borrowed(self.fd()));
        }
        let mut last = self.parent.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(r) = last.as_ref().filter(|r| r.path.as_slice() == parent) {
            return Ok(Handle::Shared(Arc::clone(&r.fd)));
        }
        // Without symlinks first: a path that follows none is changed by
        // no rename of a file and no unlink (see [`Self::forget_linked_parent`]).
        let flags = OFlags::PATH | OFlags::DIRECTORY;
        let plain = open_beneath_with(self.fd(), parent, flags, 0, ResolveFlags::NO_SYMLINKS);
        let (fd, linked) = match plain {
            Ok(fd) => (fd, false),
            Err(e) if e.raw_os_error() == Some(Errno::LOOP.raw_os_error()) => {
                (open_beneath(self.fd(), parent, flags, 0)?, true)
            }
            Err(e) => return Err(e),
        };
        let fd = Arc::new(fd);
        *last = Some(Remembered {
            path: parent.to_vec(),
            fd: Arc::clone(&fd),
            linked,
        });
        Ok(Handle::Shared(fd))
    }

    /// Forgets the remembered parent directory: a directory was renamed
    /// or removed.
    pub(crate) fn forget_parent(&self) {
        *self.parent.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Forgets the remembered parent directory if a symlink was followed
    /// on the way to it: a name was unlinked, or a regular file renamed
    /// over one, and that may have been the symlink. A path that follows
    /// no symlink leads through directories only, which neither can
    /// remove or replace.
    pub(crate) fn forget_linked_parent(&self) {
        let mut last = self.parent.lock().unwrap_or_else(|p| p.into_inner());
        if last.as_ref().is_some_and(|r| r.linked) {
            *last = None;
        }
    }

    /// `O_PATH` fd of `path` itself, following a final symlink only if it
    /// stays beneath the root.
    pub(crate) fn open_path_follow(&self, path: &RelPath) -> io::Result<OwnedFd> {
        open_beneath(self.fd(), Self::lookup_bytes(path), OFlags::PATH, 0)
    }

    /// Metadata of `path` itself (a final symlink is not followed).
    pub fn lstat(&self, path: &RelPath) -> io::Result<Meta> {
        let (dir, name) = self.split(path)?;
        statx_at(&dir, name, AtFlags::SYMLINK_NOFOLLOW)
    }

    /// Metadata of what `path` names, following symlinks as long as the
    /// resolution stays beneath the root (else `EXDEV`).
    pub fn stat(&self, path: &RelPath) -> io::Result<Meta> {
        statx_fd(self.open_path_follow(path)?)
    }

    /// Target of the symlink `path`.
    pub fn read_link(&self, path: &RelPath) -> io::Result<Vec<u8>> {
        let (dir, name) = self.split(path)?;
        read_link_in(&dir, name)
    }

    /// Open a regular file for reading. A final symlink is refused (`ELOOP`),
    /// as is anything that is not a regular file.
    pub fn open_file(&self, path: &RelPath) -> io::Result<File> {
        let (dir, name) = self.split(path)?;
        open_regular_at(&dir, name, OFlags::RDONLY)
    }

    /// The sender's open of a file it listed, and the generator's of a
    /// file it has just found regular: [`Self::open_read`] without the
    /// look before the open (see [`super::open_listed_regular_at`]), with
    /// the open file's size from the `fstat` that confirms it is a
    /// regular file.
    pub fn open_source(&self, path: &RelPath, noatime: bool) -> io::Result<(File, u64)> {
        let (dir, name) = self.split(path)?;
        let open = |flags| open_listed_regular_at(&dir, name, flags);
        with_noatime(noatime, open).map(|(f, m)| (f, m.size))
    }

    /// [`Self::open_file`] for reading a file's data (a basis file),
    /// with its size from the `fstat` that confirms it is a regular file:
    /// `noatime` (`--open-noatime`) adds `O_NOATIME`, so that reading the
    /// file leaves its access time alone. Where the kernel refuses the
    /// flag (a file this process does not own, without `CAP_FOWNER`), the
    /// file is opened without it, where rsync would fail to read it.
    pub fn open_read(&self, path: &RelPath, noatime: bool) -> io::Result<(File, u64)> {
        let (dir, name) = self.split(path)?;
        let open = |flags| open_regular_meta_at(&dir, name, flags);
        with_noatime(noatime, open).map(|(f, m)| (f, m.size))
    }

    /// Open the client's `--log-file` for appending, creating it (0644, as
    /// rsync's `fopen(.., "a")` under its 022 umask) if it is missing. The
    /// name resolves beneath the root; a final symlink, a directory, a
    /// FIFO or a device is refused, and nothing but regular files is ever
    /// opened. Only a session that holds the permit gets here.
    pub fn open_log(&self, path: &RelPath, _: &LogFilePermit) -> io::Result<File> {
        let (dir, name) = self.split(path)?;
        match statx_at(&dir, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(m) if !m.is_file() => return Err(not_regular(m.file_type)),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let flags = OFlags::WRONLY
            | OFlags::APPEND
            | OFlags::CREATE
            | OFlags::NOFOLLOW
            | OFlags::NOCTTY
            | OFlags::NONBLOCK;
        let fd = open_beneath(&dir, name, flags, 0o644)?;
        let m = statx_fd(&fd)?;
        if !m.is_file() {
            return Err(not_regular(m.file_type));
        }
        Ok(File::from(fd))
    }

    /// Open a directory for listing. A final symlink is refused.
    pub fn open_dir(&self, path: &RelPath) -> io::Result<Dir> {
        Dir::open_in(self.fd(), Self::lookup_bytes(path), false)
    }

    /// Open a directory for listing, following a final symlink if it stays
    /// beneath the root (rsync's `src/link/` trailing-slash case).
    pub fn open_dir_follow(&self, path: &RelPath) -> io::Result<Dir> {
        Dir::open_in(self.fd(), Self::lookup_bytes(path), true)
    }
}

/// `readlinkat(dir, name)` returning the raw target bytes.
pub(crate) fn read_link_in<Fd: AsFd>(dir: Fd, name: &[u8]) -> io::Result<Vec<u8>> {
    let target = rustix::fs::readlinkat(dir, name, Vec::new())?;
    Ok(target.into_bytes())
}

/// Opens for reading with `open`, with `O_NOATIME` when `noatime` and
/// the kernel allows it (`EPERM` on a file of another owner), else
/// without.
fn with_noatime<T>(noatime: bool, open: impl Fn(OFlags) -> io::Result<T>) -> io::Result<T> {
    if !noatime {
        return open(OFlags::RDONLY);
    }
    match open(OFlags::RDONLY | OFlags::NOATIME) {
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::PERM.raw_os_error()) => {
            open(OFlags::RDONLY)
        }
        r => r,
    }
}
