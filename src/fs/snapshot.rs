//! Server-made snapshots (`-snapshot`, ours; rsync has no counterpart:
//! its `--link-dest` is the client's choice). Every protocol, 27-32.
//!
//! Layout beneath the served directory `DIR`:
//!
//! - `DIR/.snapshots/<UTC time>` — one complete tree per successful push,
//!   named like `2026-12-04T221503Z` (`-2`, `-3` when one second holds
//!   several);
//! - `DIR/latest` — a relative symlink to the newest one;
//! - `DIR/.snapshots/.partial` — the push in progress, or the remains of
//!   one that failed, which the next push resumes.
//!
//! [`begin`] takes an exclusive lock on `.snapshots` (one push at a time),
//! then fills `.partial` from the snapshot `latest` names: directories,
//! symlinks and nodes are made anew, regular files become hard links
//! (a file that has reached its link limit is copied). The session then
//! gets `.partial` as its [`Root`], marked copy-on-write (see `cow`): the
//! client sees an ordinary destination holding the previous snapshot,
//! deletes and replaces in it, and cannot name anything outside it.
//! [`Pending::publish`] flushes the file system, renames `.partial` to
//! its dated name and switches `latest` with one `rename`, so a reader
//! sees the old snapshot or the new one and never a mix.

use std::io;

use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{AtFlags, FlockOperation, OFlags};
use rustix::io::Errno;

use super::meta::{statx_at, FileType, Meta};
use super::{open_beneath, write, Dir, RelPath, Root, DEFAULT_MAX_ENTRIES};

/// The directory holding the snapshots, beneath the served directory.
pub const SNAPSHOTS: &str = ".snapshots";
/// The symlink to the newest snapshot.
pub const LATEST: &str = "latest";
/// The snapshot in progress, inside [`SNAPSHOTS`].
pub const PARTIAL: &str = ".partial";
const LATEST_NEW: &[u8] = b".latest.new";

/// Why a snapshot push cannot start or finish. The texts name no server
/// path.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Another push holds the lock.
    #[error("another push is making a snapshot of this directory; try again later")]
    Busy,
    /// `latest` is there but is not a link to a snapshot.
    #[error("`latest` is not a link to a snapshot; the operator must repair it")]
    BadLatest,
    /// A system call failed.
    #[error("cannot prepare the snapshot: {0}")]
    Io(#[from] io::Error),
}

/// Whether `name` is a snapshot's name: `YYYY-MM-DDTHHMMSSZ`, maybe
/// followed by `-N`.
pub fn is_snapshot_name(name: &str) -> bool {
    snapshot_time(name).is_some()
}

/// The time a snapshot's name gives (UTC), if it is one.
pub fn snapshot_time(name: &str) -> Option<jiff::Timestamp> {
    let (stamp, suffix) = (name.get(..18)?, name.get(18..)?);
    let suffix_ok = suffix.is_empty()
        || suffix
            .strip_prefix('-')
            .is_some_and(|n| !n.is_empty() && n.len() < 6 && n.bytes().all(|b| b.is_ascii_digit()));
    if !suffix_ok {
        return None;
    }
    let t = jiff::fmt::strtime::parse("%Y-%m-%dT%H%M%SZ", stamp).ok()?;
    let dt = t.to_datetime().ok()?;
    jiff::tz::TimeZone::UTC.to_timestamp(dt).ok()
}

/// The name of a snapshot begun at `now`.
pub fn name_at(now: jiff::Timestamp) -> String {
    now.to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .strftime("%Y-%m-%dT%H%M%SZ")
        .to_string()
}

/// A snapshot being made: the lock, and what [`Self::publish`] needs.
#[derive(Debug)]
pub struct Pending {
    top: Root,
    snaps: OwnedFd,
    partial: OwnedFd,
    name: String,
    previous: Option<String>,
}

/// Locks `top/.snapshots`, fills `.partial` from `latest` and returns
/// its copy-on-write root with what publishing needs. `now` names the
/// snapshot.
pub fn begin(top: Root, now: jiff::Timestamp) -> Result<(Root, Pending), SnapshotError> {
    mkdir_there(top.fd(), SNAPSHOTS)?;
    let dir_flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW;
    let snaps = open_beneath(top.fd(), SNAPSHOTS.as_bytes(), dir_flags, 0)?;
    match rustix::fs::flock(&snaps, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => {}
        Err(Errno::WOULDBLOCK) => return Err(SnapshotError::Busy),
        Err(e) => return Err(io::Error::from(e).into()),
    }
    let previous = previous(&top, &snaps)?;
    mkdir_there(snaps.as_fd(), PARTIAL)?;
    let partial_path = format!("{SNAPSHOTS}/{PARTIAL}");
    let root = top.sub_root(partial_path.as_bytes(), true)?;
    if let Some(prev) = &previous {
        let from = top.sub_root(format!("{SNAPSHOTS}/{prev}").as_bytes(), false)?;
        fill(&from, &root)?;
    }
    let partial = open_beneath(&snaps, PARTIAL.as_bytes(), dir_flags, 0)?;
    let pending = Pending {
        top,
        snaps,
        partial,
        name: name_at(now),
        previous,
    };
    Ok((root, pending))
}

/// `mkdir`, where an existing name is no error (a later open checks it
/// is a directory, and not a symlink).
fn mkdir_there(dir: BorrowedFd<'_>, name: &str) -> io::Result<()> {
    match write::mkdir(dir, name.as_bytes(), 0o755) {
        Err(e) if e.raw_os_error() == Some(Errno::EXIST.raw_os_error()) => Ok(()),
        r => r,
    }
}

/// The snapshot `latest` names, checked: `None` when there is no
/// `latest` yet (the first push) or its snapshot is gone.
fn previous<F: AsFd>(top: &Root, snaps: F) -> Result<Option<String>, SnapshotError> {
    let target = match super::root::read_link_in(top.fd(), LATEST.as_bytes()) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(Errno::INVAL.raw_os_error()) => {
            return Err(SnapshotError::BadLatest)
        }
        Err(e) => return Err(e.into()),
    };
    let name = std::str::from_utf8(&target)
        .ok()
        .and_then(|t| t.strip_prefix(SNAPSHOTS)?.strip_prefix('/'))
        .filter(|n| is_snapshot_name(n))
        .ok_or(SnapshotError::BadLatest)?;
    match statx_at(snaps.as_fd(), name.as_bytes(), AtFlags::SYMLINK_NOFOLLOW) {
        Ok(m) if m.is_dir() => Ok(Some(name.to_string())),
        Ok(_) => Err(SnapshotError::BadLatest),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

impl Pending {
    /// The name the snapshot will have (before a same-second suffix).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The snapshot this one started from.
    pub fn previous(&self) -> Option<&str> {
        self.previous.as_deref()
    }

    /// Makes the snapshot durable and visible: `syncfs`, `.partial`
    /// renamed to its dated name (never over another), then `latest`
    /// switched in one rename. Returns the name it got.
    pub fn publish(&self) -> io::Result<String> {
        rustix::fs::syncfs(&self.partial)?;
        let mut name = self.name.clone();
        let mut n = 1;
        loop {
            match write::rename(
                &self.snaps,
                PARTIAL.as_bytes(),
                &self.snaps,
                name.as_bytes(),
                true,
            ) {
                Err(e) if e.raw_os_error() == Some(Errno::EXIST.raw_os_error()) && n < 1000 => {
                    n += 1;
                    name = format!("{}-{n}", self.name);
                }
                r => break r?,
            }
        }
        rustix::fs::fsync(&self.snaps)?;
        let top = self.top.fd();
        match write::unlink(top, LATEST_NEW) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let target = format!("{SNAPSHOTS}/{name}");
        write::symlink(target.as_bytes(), top, LATEST_NEW)?;
        write::rename(top, LATEST_NEW, top, LATEST.as_bytes(), false)?;
        let flags = OFlags::RDONLY | OFlags::DIRECTORY;
        rustix::fs::fsync(open_beneath(top, b".", flags, 0)?)?;
        Ok(name)
    }
}

/// Makes `into` hold what `from` holds without touching what `into`
/// already has (a resumed push keeps what it wrote): missing directories,
/// symlinks and nodes are made, missing files hard-linked. Directory
/// attributes are set last, deepest first, since every new entry changes
/// its directory's times.
pub(crate) fn fill(from: &Root, into: &Root) -> io::Result<()> {
    let mut stack = vec![RelPath::root()];
    let mut dirs: Vec<(RelPath, Meta)> = Vec::new();
    while let Some(rel) = stack.pop() {
        let src = from.open_dir(&rel)?;
        let dst = into.open_dir(&rel)?;
        dirs.push((rel.clone(), src.meta()?));
        // Entry by entry as the directory is read: a large directory's
        // names are never held at once.
        src.each_entry(DEFAULT_MAX_ENTRIES, |name| {
            let m = match src.lstat_at(name) {
                Ok(m) => m,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(e),
            };
            if fill_one(&src, &dst, name, &m)? {
                stack.push(rel.join(name)?);
            }
            Ok(())
        })?;
    }
    for (rel, m) in dirs.iter().rev() {
        let d = into.open_dir(rel)?;
        let s = from.open_dir(rel)?;
        copy_xattrs(&s, &d);
        let _ = rustix::fs::fchown(
            &d,
            Some(rustix::fs::Uid::from_raw(m.uid)),
            Some(rustix::fs::Gid::from_raw(m.gid)),
        );
        rustix::fs::fchmod(&d, rustix::fs::Mode::from_raw_mode(m.perms()))?;
        let ts = rustix::fs::Timestamps {
            last_access: timespec(m.atime_sec, m.atime_nsec),
            last_modification: timespec(m.mtime_sec, m.mtime_nsec),
        };
        rustix::fs::futimens(&d, &ts)?;
    }
    Ok(())
}

fn timespec(sec: i64, nsec: u32) -> rustix::fs::Timespec {
    rustix::fs::Timespec {
        tv_sec: sec,
        tv_nsec: nsec.into(),
    }
}

/// One entry of [`fill`]; true when it is a directory to descend into.
fn fill_one(src: &Dir, dst: &Dir, name: &[u8], m: &Meta) -> io::Result<bool> {
    let exists = |e: &io::Error| e.raw_os_error() == Some(Errno::EXIST.raw_os_error());
    let r = match m.file_type {
        FileType::Dir => match write::mkdir(dst, name, 0o700) {
            Err(e) if exists(&e) => return Ok(dst.lstat_at(name).is_ok_and(|d| d.is_dir())),
            r => return r.map(|()| true),
        },
        FileType::File => match write::hard_link(src, name, dst, name) {
            Err(e) if e.raw_os_error() == Some(Errno::MLINK.raw_os_error()) => {
                copy_to(src.as_fd(), name, dst.as_fd(), m)
            }
            r => r,
        },
        FileType::Symlink => {
            let target = src.read_link_at(name)?;
            write::symlink(&target, dst, name).and_then(|()| same_attrs(dst, name, m))
        }
        kind => match write::mknod(dst, name, kind, m.perms(), (m.rdev_major, m.rdev_minor)) {
            Err(e) if e.raw_os_error() == Some(Errno::PERM.raw_os_error()) => {
                write::hard_link(src, name, dst, name)
            }
            r => r.and_then(|()| same_attrs(dst, name, m)),
        },
    };
    match r {
        Err(e) if exists(&e) => Ok(false),
        r => r.map(|()| false),
    }
}

/// Owner (where this process may give it) and times of a new symlink or
/// node; a node's mode too.
fn same_attrs(dst: &Dir, name: &[u8], m: &Meta) -> io::Result<()> {
    let _ = write::chown(dst, name, Some(m.uid), Some(m.gid));
    if !m.is_symlink() {
        write::chmod(dst, name, m.perms())?;
    }
    let mtime = Some((m.mtime_sec, m.mtime_nsec));
    write::set_times(dst, name, mtime, Some((m.atime_sec, m.atime_nsec)))
}

/// A copy of regular file `name` from `src` at the same name in `dst`
/// (for a file that has as many links as its file system allows).
fn copy_to(src: BorrowedFd<'_>, name: &[u8], dst: BorrowedFd<'_>, m: &Meta) -> io::Result<()> {
    let tmp = super::cow::copy_file(src, name, dst, m)?;
    let r =
        super::cow::finish(dst, &tmp, m).and_then(|()| write::rename(dst, &tmp, dst, name, true));
    if r.is_err() {
        let _ = write::unlink(dst, &tmp);
    }
    r
}

/// Extended attributes (and so ACLs) of a directory, best effort.
fn copy_xattrs(from: &Dir, to: &Dir) {
    let Ok(names) = super::xattr::list(from) else {
        return;
    };
    for n in names {
        if let Ok(Some(v)) = super::xattr::get(from, &n) {
            let _ = super::xattr::set(to, &n, &v);
        }
    }
}

/// The snapshots beneath `top/.snapshots`, by name (oldest first), and
/// the one `latest` names.
pub fn list(top: &Root) -> io::Result<(Vec<String>, Option<String>)> {
    let snaps = match top.open_dir(&RelPath::new(SNAPSHOTS.as_bytes())?) {
        Ok(d) => d,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((Vec::new(), None)),
        Err(e) => return Err(e),
    };
    let mut names: Vec<String> = snaps
        .read_entries(DEFAULT_MAX_ENTRIES)?
        .into_iter()
        .filter_map(|n| String::from_utf8(n).ok())
        .filter(|n| is_snapshot_name(n))
        .filter(|n| snaps.lstat_at(n.as_bytes()).is_ok_and(|m| m.is_dir()))
        .collect();
    names.sort_by_key(|n| (snapshot_time(n), n.len(), n.clone()));
    let latest = match previous(top, &snaps) {
        Ok(p) => p,
        Err(SnapshotError::Io(e)) => return Err(e),
        Err(_) => None,
    };
    Ok((names, latest))
}

/// Removes snapshot `name` (the operator's `prune`): it is renamed to a
/// hidden name first, so that no reader finds it half removed, then
/// removed entry by entry without following any symlink.
pub fn remove(top: &Root, name: &str) -> io::Result<()> {
    if !is_snapshot_name(name) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a snapshot name",
        ));
    }
    let snaps = open_beneath(
        top.fd(),
        SNAPSHOTS.as_bytes(),
        OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW,
        0,
    )?;
    let hidden = format!(".removing-{name}");
    write::rename(&snaps, name.as_bytes(), &snaps, hidden.as_bytes(), true)?;
    remove_tree(top, &format!("{SNAPSHOTS}/{hidden}"))
}

/// Removes directory `path` beneath `top` and everything in it; a
/// symlink is removed, never followed.
fn remove_tree(top: &Root, path: &str) -> io::Result<()> {
    let base = RelPath::new(path.as_bytes())?;
    let mut stack = vec![base.clone()];
    let mut dirs = Vec::new();
    while let Some(rel) = stack.pop() {
        let d = top.open_dir(&rel)?;
        for name in d.read_entries(DEFAULT_MAX_ENTRIES)? {
            match d.lstat_at(&name) {
                Ok(m) if m.is_dir() => stack.push(rel.join(&name)?),
                Ok(_) => write::unlink(&d, &name)?,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        dirs.push(rel);
    }
    for rel in dirs.iter().rev() {
        let (parent, name) = top.split(rel)?;
        write::rmdir(&parent, name)?;
    }
    Ok(())
}
