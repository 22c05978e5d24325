//! The raw write-side syscalls, private to [`crate::fs`].
//!
//! Mirrors upstream rsync's `do_mkdir()`, `do_mkstemp()`, `do_rename()`,
//! `do_unlink()`, `do_rmdir()`, `do_symlink()`, `do_link()`, `do_mknod()`,
//! `set_times()`/`do_utimensat()`, `do_chmod()` and `do_lchown()`
//! (syscall.c, rsync.c) for protocols 27-32. Each acts on
//! `(parent_fd, name)`, a directory already resolved beneath the root and
//! one final component that is never followed (see [`crate::fs`]). Nothing
//! outside this module tree can call them: the receiver reaches them only
//! through [`super::Writer`], which decides whether a name may change.

use super::meta::{statx_fd, FileType};
use super::{check_name, open_beneath, open_regular_at};
use rustix::fd::{AsFd, AsRawFd};
use rustix::fs::{AtFlags, Mode, OFlags, Timespec, Timestamps, CWD, UTIME_OMIT};
use rustix::io::Errno;
use std::fs::File;
use std::hash::{BuildHasher, Hasher};
use std::io;

/// How many random names [`create_temp`] tries before giving up.
const TEMP_TRIES: u32 = 100;

fn perm(mode: u32) -> Mode {
    Mode::from_raw_mode(mode & 0o7777)
}

fn timespec((sec, nsec): (i64, u32)) -> Timespec {
    Timespec {
        tv_sec: sec,
        tv_nsec: nsec.into(),
    }
}

/// The times to set; `None` leaves one as it is (`UTIME_OMIT`).
fn timestamps(mtime: Option<(i64, u32)>, atime: Option<(i64, u32)>) -> Timestamps {
    let or_omit = |t: Option<(i64, u32)>| match t {
        Some(t) => timespec(t),
        None => Timespec {
            tv_sec: 0,
            tv_nsec: UTIME_OMIT,
        },
    };
    Timestamps {
        last_access: or_omit(atime),
        last_modification: or_omit(mtime),
    }
}

fn uid_gid(
    uid: Option<u32>,
    gid: Option<u32>,
) -> io::Result<(Option<rustix::fs::Uid>, Option<rustix::fs::Gid>)> {
    if uid == Some(u32::MAX) || gid == Some(u32::MAX) {
        return Err(Errno::INVAL.into());
    }
    Ok((
        uid.map(rustix::fs::Uid::from_raw),
        gid.map(rustix::fs::Gid::from_raw),
    ))
}

/// `.{base}.XXXXXX`, with `base` cut so the whole name fits `NAME_MAX`:
/// the name of a temporary file or link beside `base` (rsync's
/// `get_tmpname`); the process id and the time make it unlikely to exist.
pub fn temp_name(base: &[u8], attempt: u32) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(attempt);
    h.write_u32(pid());
    if let Ok(d) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(d.as_nanos());
    }
    let mut v = h.finish();
    let keep = base.len().min(super::MAX_NAME_LEN - 8);
    let mut name = Vec::with_capacity(keep + 8);
    name.push(b'.');
    name.extend_from_slice(base.get(..keep).unwrap_or(base));
    name.push(b'.');
    for _ in 0..6 {
        let i = (v % ALPHABET.len() as u64) as usize;
        name.push(ALPHABET.get(i).copied().unwrap_or(b'X'));
        v /= ALPHABET.len() as u64;
    }
    name
}

/// This process's id, asked of the kernel once.
fn pid() -> u32 {
    static PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *PID.get_or_init(std::process::id)
}

/// `mkdirat(dir, name, mode)`.
pub(super) fn mkdir<D: AsFd>(dir: D, name: &[u8], mode: u32) -> io::Result<()> {
    Ok(rustix::fs::mkdirat(dir, name, perm(mode))?)
}

/// Tries random names `.{base}.XXXXXX` in `dir` until `make` does not
/// fail with `EEXIST`; returns what it made and the name.
pub(super) fn with_temp_name<T>(
    base: &[u8],
    mut make: impl FnMut(&[u8]) -> io::Result<T>,
) -> io::Result<(T, Vec<u8>)> {
    let base = check_name(base)?;
    for attempt in 0..TEMP_TRIES {
        let name = temp_name(base, attempt);
        match make(&name) {
            Ok(t) => return Ok((t, name)),
            Err(e) if e.raw_os_error() == Some(Errno::EXIST.raw_os_error()) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(Errno::EXIST.into())
}

/// Create `.{base}.XXXXXX` in `dir` with `O_CREAT|O_EXCL|O_NOFOLLOW`,
/// opened read-write. Returns the file and its name.
pub(super) fn create_temp<D: AsFd>(dir: D, base: &[u8], mode: u32) -> io::Result<(File, Vec<u8>)> {
    let flags = OFlags::RDWR | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::NOCTTY;
    let dir = dir.as_fd();
    with_temp_name(base, |name| {
        open_beneath(dir, name, flags, mode & 0o7777).map(File::from)
    })
}

/// Hard link `(edir, ename)` to a fresh `.{base}.XXXXXX` in `ndir`;
/// returns the new name.
pub(super) fn link_temp<E: AsFd, N: AsFd>(
    edir: E,
    ename: &[u8],
    ndir: N,
    base: &[u8],
) -> io::Result<Vec<u8>> {
    let (edir, ndir) = (edir.as_fd(), ndir.as_fd());
    with_temp_name(base, |name| hard_link(edir, ename, ndir, name)).map(|((), n)| n)
}

/// `renameat2`; neither final component is followed. With `noreplace`
/// it fails with `EEXIST` instead of replacing an existing `to`.
pub(super) fn rename<F: AsFd, T: AsFd>(
    fdir: F,
    fname: &[u8],
    tdir: T,
    tname: &[u8],
    noreplace: bool,
) -> io::Result<()> {
    let flags = if noreplace {
        rustix::fs::RenameFlags::NOREPLACE
    } else {
        rustix::fs::RenameFlags::empty()
    };
    Ok(rustix::fs::renameat_with(fdir, fname, tdir, tname, flags)?)
}

/// Remove a non-directory.
pub(super) fn unlink<D: AsFd>(dir: D, name: &[u8]) -> io::Result<()> {
    Ok(rustix::fs::unlinkat(dir, name, AtFlags::empty())?)
}

/// Remove an empty directory.
pub(super) fn rmdir<D: AsFd>(dir: D, name: &[u8]) -> io::Result<()> {
    Ok(rustix::fs::unlinkat(dir, name, AtFlags::REMOVEDIR)?)
}

/// Create symlink `name` with contents `target` (stored verbatim; it is
/// never followed by this module when it escapes).
pub(super) fn symlink<D: AsFd>(target: &[u8], dir: D, name: &[u8]) -> io::Result<()> {
    if target.is_empty() || target.contains(&0) {
        return Err(Errno::INVAL.into());
    }
    Ok(rustix::fs::symlinkat(target, dir, name)?)
}

/// Hard link `(ndir, nname)` to `(edir, ename)` (a symlink is linked, not
/// followed).
pub(super) fn hard_link<E: AsFd, N: AsFd>(
    edir: E,
    ename: &[u8],
    ndir: N,
    nname: &[u8],
) -> io::Result<()> {
    Ok(rustix::fs::linkat(
        edir,
        ename,
        ndir,
        nname,
        AtFlags::empty(),
    )?)
}

/// Create a device, FIFO or socket node (rsync `-D`/`--specials`).
pub(super) fn mknod<D: AsFd>(
    dir: D,
    name: &[u8],
    kind: FileType,
    mode: u32,
    rdev: (u32, u32),
) -> io::Result<()> {
    let ft = match kind {
        FileType::CharDev => rustix::fs::FileType::CharacterDevice,
        FileType::BlockDev => rustix::fs::FileType::BlockDevice,
        FileType::Fifo => rustix::fs::FileType::Fifo,
        FileType::Socket => rustix::fs::FileType::Socket,
        _ => return Err(Errno::INVAL.into()),
    };
    let dev = rustix::fs::makedev(rdev.0, rdev.1);
    Ok(rustix::fs::mknodat(dir, name, ft, perm(mode), dev)?)
}

/// Set the mtime and the atime of `name` itself, each if given
/// (`AT_SYMLINK_NOFOLLOW`: a symlink's own times).
pub(super) fn set_times<D: AsFd>(
    dir: D,
    name: &[u8],
    mtime: Option<(i64, u32)>,
    atime: Option<(i64, u32)>,
) -> io::Result<()> {
    let ts = timestamps(mtime, atime);
    Ok(rustix::fs::utimensat(
        dir,
        name,
        &ts,
        AtFlags::SYMLINK_NOFOLLOW,
    )?)
}

/// `futimens` on an open file.
pub(super) fn set_times_fd(
    file: &File,
    mtime: Option<(i64, u32)>,
    atime: Option<(i64, u32)>,
) -> io::Result<()> {
    Ok(rustix::fs::futimens(file, &timestamps(mtime, atime))?)
}

/// Set permission bits (`mode & 0o7777`) of `name` itself. Symlinks are
/// refused with `EOPNOTSUPP` (Linux cannot chmod a symlink).
pub(super) fn chmod<D: AsFd>(dir: D, name: &[u8], mode: u32) -> io::Result<()> {
    let dir = dir.as_fd();
    let fd = open_beneath(dir, name, OFlags::PATH | OFlags::NOFOLLOW, 0)?;
    let meta = statx_fd(&fd)?;
    if meta.is_symlink() {
        return Err(Errno::OPNOTSUPP.into());
    }
    // The fd pins the inode; its /proc magic link is not a client name.
    let proc_path = format!("/proc/self/fd/{}", fd.as_raw_fd());
    match rustix::fs::chmodat(CWD, proc_path.as_str(), perm(mode), AtFlags::empty()) {
        Err(Errno::NOENT) if meta.is_file() || meta.is_dir() => {
            // No /proc: reopen readable (not following) and fchmod.
            let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY;
            let rfd = open_beneath(dir, name, flags, 0)?;
            if !statx_fd(&rfd)?.same_file(&meta) {
                return Err(Errno::AGAIN.into());
            }
            Ok(rustix::fs::fchmod(&rfd, perm(mode))?)
        }
        r => Ok(r?),
    }
}

/// `fchmod` on an open file.
pub(super) fn chmod_fd(file: &File, mode: u32) -> io::Result<()> {
    Ok(rustix::fs::fchmod(file, perm(mode))?)
}

/// Change owner and/or group of `name` itself (`AT_SYMLINK_NOFOLLOW`).
pub(super) fn chown<D: AsFd>(
    dir: D,
    name: &[u8],
    uid: Option<u32>,
    gid: Option<u32>,
) -> io::Result<()> {
    let (u, g) = uid_gid(uid, gid)?;
    Ok(rustix::fs::chownat(
        dir,
        name,
        u,
        g,
        AtFlags::SYMLINK_NOFOLLOW,
    )?)
}

/// `fchown` on an open file.
pub(super) fn chown_fd(file: &File, uid: Option<u32>, gid: Option<u32>) -> io::Result<()> {
    let (u, g) = uid_gid(uid, gid)?;
    Ok(rustix::fs::fchown(file.as_fd(), u, g)?)
}

/// Open an existing regular file for writing in place (`--inplace`):
/// `O_WRONLY|O_NOFOLLOW`, no truncation, regular files only.
pub(super) fn open_existing_for_write<D: AsFd>(dir: D, name: &[u8]) -> io::Result<File> {
    open_regular_at(dir, name, OFlags::WRONLY)
}
