//! Copy before change, for a snapshot being made (`-snapshot`, ours; no
//! rsync counterpart, for every protocol 27-32).
//!
//! A new snapshot starts as hard links to the previous one's files, as
//! rsync's `--link-dest` makes them. Replacing such a file is safe (the
//! rename gives the new snapshot a new inode and leaves the old one
//! alone), but changing it in place — its mode, owner, times, extended
//! attributes or ACLs — would change every snapshot that shares it.
//! [`unshare`] therefore gives a name whose object has other names a
//! private copy first: the contents, owner, mode, attributes and times go
//! into a temporary file beside it, which is renamed over the name. The
//! [`super::Writer`] calls it before every in-place change when its root
//! is a snapshot, so no code path can skip it.

use std::io;

use rustix::fd::{AsFd, BorrowedFd};
use rustix::fs::{AtFlags, OFlags};

use super::meta::{statx_at, FileType, Meta};
use super::{open_regular_at, write};

/// Gives `(dir, name)` an object of its own when it shares one (more
/// than one hard link). Directories never share theirs.
/// The copy counts against the session's `quota` like any file it
/// writes.
pub(super) fn unshare<D: AsFd>(dir: D, name: &[u8], quota: &super::Quota) -> io::Result<()> {
    let dir = dir.as_fd();
    let m = statx_at(dir, name, AtFlags::SYMLINK_NOFOLLOW)?;
    if m.is_dir() || m.nlink <= 1 {
        return Ok(());
    }
    quota.charge_name()?;
    quota.charge_bytes(m.size)?;
    let tmp = match m.file_type {
        FileType::File => copy_file(dir, name, dir, &m)?,
        FileType::Symlink => {
            let target = super::root::read_link_in(dir, name)?;
            let ((), tmp) = write::with_temp_name(name, |t| write::symlink(&target, dir, t))?;
            tmp
        }
        kind => {
            let rdev = (m.rdev_major, m.rdev_minor);
            let make = |t: &[u8]| write::mknod(dir, t, kind, m.perms(), rdev);
            write::with_temp_name(name, make)?.1
        }
    };
    let r = finish(dir, &tmp, &m).and_then(|()| write::rename(dir, &tmp, dir, name, false));
    if r.is_err() {
        let _ = write::unlink(dir, &tmp);
    }
    r
}

/// A copy of the regular file `name` in `from` (contents and extended
/// attributes, which hold its ACLs) under a temporary name in `to`;
/// returns that name.
pub(super) fn copy_file(
    from: BorrowedFd<'_>,
    name: &[u8],
    to: BorrowedFd<'_>,
    m: &Meta,
) -> io::Result<Vec<u8>> {
    let mut src = open_regular_at(from, name, OFlags::RDONLY)?;
    let (mut dst, tmp) = write::create_temp(to, name, 0o600)?;
    let copied = io::copy(&mut src, &mut dst).and_then(|n| {
        if n == m.size {
            Ok(())
        } else {
            Err(io::Error::other("the file changed while it was copied"))
        }
    });
    let r = copied.and_then(|()| {
        for attr in super::xattr::list(&src)? {
            if let Some(v) = super::xattr::get(&src, &attr)? {
                // An attribute this process may not set (`trusted.*`
                // without privilege) is left behind, as `cp -a` does.
                let _ = super::xattr::set(&dst, &attr, &v);
            }
        }
        Ok(())
    });
    if let Err(e) = r {
        let _ = write::unlink(to, &tmp);
        return Err(e);
    }
    Ok(tmp)
}

/// Owner, mode and times of the copy `tmp`, from `m` (owner first: a
/// change of owner clears the set-id bits). A foreign owner that this
/// process may not give is left as it is, as rsync does without root.
pub(super) fn finish(dir: BorrowedFd<'_>, tmp: &[u8], m: &Meta) -> io::Result<()> {
    let _ = write::chown(dir, tmp, Some(m.uid), Some(m.gid));
    if m.file_type != FileType::Symlink {
        write::chmod(dir, tmp, m.perms())?;
    }
    let mtime = Some((m.mtime_sec, m.mtime_nsec));
    let atime = Some((m.atime_sec, m.atime_nsec));
    write::set_times(dir, tmp, mtime, atime)
}
