//! Write-side operations for the receiver role.
//!
//! Mirrors upstream rsync's `do_mkdir()`, `do_mkstemp()`, `do_rename()`,
//! `do_unlink()`, `do_rmdir()`, `do_symlink()`, `do_link()`, `do_mknod()`,
//! `set_times()`/`do_utimensat()`, `do_chmod()` and `do_lchown()`
//! (syscall.c, rsync.c) for protocols 27-32, each resolving the parent
//! directory beneath the root and then acting on `(parent_fd, name)`
//! without following the final component (see [`crate::fs`]).

use super::meta::{statx_fd, FileType};
use super::{check_name, open_beneath, open_regular_at, RelPath, Root};
use rustix::fd::{AsFd, AsRawFd};
use rustix::fs::{AtFlags, Mode, OFlags, Timespec, Timestamps, CWD, UTIME_OMIT};
use rustix::io::Errno;
use std::fs::File;
use std::hash::{BuildHasher, Hasher};
use std::io;

/// How many random names [`Root::create_temp`] tries before giving up.
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

fn timestamps(mtime: (i64, u32), atime: Option<(i64, u32)>) -> Timestamps {
    let last_access = match atime {
        Some(t) => timespec(t),
        None => Timespec {
            tv_sec: 0,
            tv_nsec: UTIME_OMIT,
        },
    };
    Timestamps {
        last_access,
        last_modification: timespec(mtime),
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

/// `.{base}.XXXXXX`, with `base` cut so the whole name fits `NAME_MAX`.
fn temp_name(base: &[u8], attempt: u32) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(attempt);
    h.write_u32(std::process::id());
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

impl Root {
    /// `mkdirat(parent, name, mode)`.
    pub fn mkdir(&self, path: &RelPath, mode: u32) -> io::Result<()> {
        let (dir, name) = self.split(path)?;
        Ok(rustix::fs::mkdirat(&dir, name, perm(mode))?)
    }

    /// Create `.{base_name}.XXXXXX` in directory `dir` with
    /// `O_CREAT|O_EXCL|O_NOFOLLOW`, opened read-write. Returns the file and
    /// the temporary name (a single component inside `dir`).
    pub fn create_temp(
        &self,
        dir: &RelPath,
        base_name: &[u8],
        mode: u32,
    ) -> io::Result<(File, Vec<u8>)> {
        let base = check_name(base_name)?;
        let dirfd = self.open_parent(dir.as_bytes())?;
        let flags =
            OFlags::RDWR | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::NOCTTY;
        for attempt in 0..TEMP_TRIES {
            let name = temp_name(base, attempt);
            match open_beneath(&dirfd, &name, flags, mode & 0o7777) {
                Ok(fd) => return Ok((File::from(fd), name)),
                Err(e) if e.raw_os_error() == Some(Errno::EXIST.raw_os_error()) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(Errno::EXIST.into())
    }

    /// `renameat(from_parent, from_name, to_parent, to_name)`; neither final
    /// component is followed. Replaces `to` atomically if it exists.
    pub fn rename(&self, from: &RelPath, to: &RelPath) -> io::Result<()> {
        let (fdir, fname) = self.split(from)?;
        let (tdir, tname) = self.split(to)?;
        Ok(rustix::fs::renameat(&fdir, fname, &tdir, tname)?)
    }

    /// Like [`Root::rename`] but fails with `EEXIST` instead of replacing
    /// an existing `to` (`renameat2(RENAME_NOREPLACE)`): the primitive that
    /// makes `-no-overwrite` hold even against a hostile client.
    pub fn rename_noreplace(&self, from: &RelPath, to: &RelPath) -> io::Result<()> {
        let (fdir, fname) = self.split(from)?;
        let (tdir, tname) = self.split(to)?;
        Ok(rustix::fs::renameat_with(
            &fdir,
            fname,
            &tdir,
            tname,
            rustix::fs::RenameFlags::NOREPLACE,
        )?)
    }

    /// Remove a non-directory.
    pub fn unlink(&self, path: &RelPath) -> io::Result<()> {
        let (dir, name) = self.split(path)?;
        Ok(rustix::fs::unlinkat(&dir, name, AtFlags::empty())?)
    }

    /// Remove an empty directory.
    pub fn rmdir(&self, path: &RelPath) -> io::Result<()> {
        let (dir, name) = self.split(path)?;
        Ok(rustix::fs::unlinkat(&dir, name, AtFlags::REMOVEDIR)?)
    }

    /// Create symlink `at` with contents `target` (stored verbatim; it is
    /// never followed by this module when it escapes).
    pub fn symlink(&self, target: &[u8], at: &RelPath) -> io::Result<()> {
        if target.is_empty() || target.contains(&0) {
            return Err(Errno::INVAL.into());
        }
        let (dir, name) = self.split(at)?;
        Ok(rustix::fs::symlinkat(target, &dir, name)?)
    }

    /// Hard link `new` to `existing` (a symlink is linked, not followed).
    pub fn hard_link(&self, existing: &RelPath, new: &RelPath) -> io::Result<()> {
        let (edir, ename) = self.split(existing)?;
        let (ndir, nname) = self.split(new)?;
        Ok(rustix::fs::linkat(
            &edir,
            ename,
            &ndir,
            nname,
            AtFlags::empty(),
        )?)
    }

    /// Create a device, FIFO or socket node (rsync `-D`/`--specials`).
    pub fn mknod(
        &self,
        path: &RelPath,
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
        let (dir, name) = self.split(path)?;
        Ok(rustix::fs::mknodat(&dir, name, ft, perm(mode), dev)?)
    }

    /// Set mtime (and atime, else left unchanged). With `follow`, a final
    /// symlink is followed only if it stays beneath the root; without, the
    /// link itself is changed (`AT_SYMLINK_NOFOLLOW`).
    pub fn set_times(
        &self,
        path: &RelPath,
        mtime: (i64, u32),
        atime: Option<(i64, u32)>,
        follow: bool,
    ) -> io::Result<()> {
        let ts = timestamps(mtime, atime);
        if follow {
            let fd = self.open_path_follow(path)?;
            Ok(rustix::fs::utimensat(&fd, "", &ts, AtFlags::EMPTY_PATH)?)
        } else {
            let (dir, name) = self.split(path)?;
            Ok(rustix::fs::utimensat(
                &dir,
                name,
                &ts,
                AtFlags::SYMLINK_NOFOLLOW,
            )?)
        }
    }

    /// `futimens` on an open file.
    pub fn set_times_fd(
        file: &File,
        mtime: (i64, u32),
        atime: Option<(i64, u32)>,
    ) -> io::Result<()> {
        Ok(rustix::fs::futimens(file, &timestamps(mtime, atime))?)
    }

    /// Set permission bits (`mode & 0o7777`) of `path` itself. Symlinks are
    /// refused with `EOPNOTSUPP` (Linux cannot chmod a symlink).
    pub fn chmod(&self, path: &RelPath, mode: u32) -> io::Result<()> {
        let (dir, name) = self.split(path)?;
        let fd = open_beneath(&dir, name, OFlags::PATH | OFlags::NOFOLLOW, 0)?;
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
                let rfd = open_beneath(&dir, name, flags, 0)?;
                if !statx_fd(&rfd)?.same_file(&meta) {
                    return Err(Errno::AGAIN.into());
                }
                Ok(rustix::fs::fchmod(&rfd, perm(mode))?)
            }
            r => Ok(r?),
        }
    }

    /// `fchmod` on an open file.
    pub fn chmod_fd(file: &File, mode: u32) -> io::Result<()> {
        Ok(rustix::fs::fchmod(file, perm(mode))?)
    }

    /// Change owner and/or group of `path` itself (`AT_SYMLINK_NOFOLLOW`).
    pub fn chown(&self, path: &RelPath, uid: Option<u32>, gid: Option<u32>) -> io::Result<()> {
        let (u, g) = uid_gid(uid, gid)?;
        let (dir, name) = self.split(path)?;
        Ok(rustix::fs::chownat(
            &dir,
            name,
            u,
            g,
            AtFlags::SYMLINK_NOFOLLOW,
        )?)
    }

    /// `fchown` on an open file.
    pub fn chown_fd(file: &File, uid: Option<u32>, gid: Option<u32>) -> io::Result<()> {
        let (u, g) = uid_gid(uid, gid)?;
        Ok(rustix::fs::fchown(file.as_fd(), u, g)?)
    }

    /// Open an existing regular file for writing in place (`--inplace`):
    /// `O_WRONLY|O_NOFOLLOW`, no truncation, regular files only.
    pub fn open_existing_for_write(&self, path: &RelPath) -> io::Result<File> {
        let (dir, name) = self.split(path)?;
        open_regular_at(&dir, name, OFlags::WRONLY)
    }
}
