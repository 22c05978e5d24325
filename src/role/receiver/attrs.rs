//! File attributes on the receiving side (`set_file_attrs` in `rsync.c`,
//! `itemize` in `generator.c`): item flags for what differs, and applying
//! mode, times and ownership beneath the root.

use crate::flist::item::ItemFlags;
use std::fs::File;
use std::io;

use super::out::Outbox;
use super::{ReceiverConfig, RecvOptions};
use crate::flist::{FileEntry, FileKind};
use crate::fs::{Meta, RelPath, Writer};

pub(crate) use crate::flist::item;

/// Prefix `--munge-links` puts before a stored symlink target.
pub(crate) const MUNGE_PREFIX: &[u8] = b"/rsyncd-munged/";

/// The attribute differences between the sender's entry and a local file.
pub(crate) fn changes(o: &RecvOptions, e: &FileEntry, m: &Meta) -> ItemFlags {
    let mut f = ItemFlags::EMPTY;
    let kind = e.kind();
    let keep_time = o.times
        && match kind {
            FileKind::Dir => !o.omit_dir_times,
            FileKind::Symlink => !o.omit_link_times,
            _ => true,
        };
    if keep_time && mtime_differs(o, (e.mtime, e.mtime_nsec), m) {
        f |= item::REPORT_TIME;
    }
    if kind != FileKind::Symlink {
        let perms = o.perms && (m.mode & 0o7777) != (e.mode & 0o7777);
        let exec = !o.perms && o.executability && ((m.mode & 0o111 == 0) != (e.mode & 0o111 == 0));
        if perms || exec {
            f |= item::REPORT_PERMS;
        }
    }
    let has_atime = kind != FileKind::Dir && kind != FileKind::Symlink;
    if o.atimes && has_atime && m.atime_sec != e.atime {
        f |= item::REPORT_ATIME;
    }
    if o.owner && o.am_root && m.uid != e.uid {
        f |= item::REPORT_OWNER;
    }
    if o.group && m.gid != e.gid {
        f |= item::REPORT_GROUP;
    }
    f
}

/// The symlink target as stored, munged under `-munge`.
pub(crate) fn stored_target(o: &RecvOptions, target: &[u8]) -> Vec<u8> {
    if o.munge_links {
        let mut v = MUNGE_PREFIX.to_vec();
        v.extend_from_slice(target);
        v
    } else {
        target.to_vec()
    }
}

/// Creates the symlink at `path`; with `replace`, what is there is
/// replaced through a temporary symlink and one rename, which needs the
/// overwrite permit.
pub(crate) fn place_symlink(
    cfg: &ReceiverConfig<'_>,
    w: &Writer<'_>,
    path: &RelPath,
    target: &[u8],
    replace: bool,
) -> io::Result<()> {
    if !replace {
        return w.symlink(target, path);
    }
    let Some(permit) = cfg.overwrite.as_ref() else {
        return Err(io::Error::from(io::ErrorKind::AlreadyExists));
    };
    let dir = path.parent().unwrap_or_else(RelPath::root);
    let base = path.file_name().unwrap_or(b"link");
    for attempt in 0..100u32 {
        let t = dir
            .join(&crate::fs::temp_name(base, attempt))
            .map_err(io::Error::from)?;
        match w.symlink(target, &t) {
            Ok(()) => {
                let r = w.place(&t, path, Some(permit));
                if r.is_err() {
                    let _ = w.remove(&t, None);
                }
                return r;
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::from(io::ErrorKind::AlreadyExists))
}

/// The permission bits a file or directory gets.
pub(crate) fn wanted_mode(o: &RecvOptions, e: &FileEntry, existing: Option<u32>) -> Option<u32> {
    let m = e.mode & 0o7777;
    if o.perms {
        return Some(m);
    }
    match existing {
        Some(old) if o.executability && e.kind() == FileKind::File => {
            let x = if m & 0o111 != 0 {
                (old & 0o7777) | ((old & 0o444) >> 2)
            } else {
                old & 0o7777 & !0o111
            };
            Some(x)
        }
        Some(_) => None,
        // New files: the sender's bits limited by a 022 umask, as rsync
        // does with the default umask.
        None => Some(m & !0o022 & 0o777),
    }
}

/// Applies mode, ownership and times to `path` (directories, symlinks,
/// unchanged files). Failures are reported, not fatal; on an entry this
/// session did not create, nothing changes without the overwrite permit.
///
/// Returns the entry's attributes as looked at again after a change of
/// owner cleared its set-id bits, as rsync's `set_file_attrs` does, whose
/// caller itemizes with them (`p` for the bits, no `o`); `None` when
/// there was no second look.
pub(crate) fn apply_path(
    cfg: &ReceiverConfig<'_>,
    w: &Writer<'_>,
    e: &FileEntry,
    path: &RelPath,
    out: &Outbox<'_>,
    is_link: bool,
) -> Option<Meta> {
    let cur = w.root().lstat(path).ok();
    apply_seen(cfg, w, e, path, out, is_link, cur)
}

/// [`apply_path`] with the entry's attributes as the caller has just
/// looked at them (`None`: it is not there). The look only decides what
/// to change; every change still goes through the writer's permits.
pub(crate) fn apply_seen(
    cfg: &ReceiverConfig<'_>,
    w: &Writer<'_>,
    e: &FileEntry,
    path: &RelPath,
    out: &Outbox<'_>,
    is_link: bool,
    cur: Option<Meta>,
) -> Option<Meta> {
    let o = &cfg.opts;
    let permit = cfg.overwrite.as_ref();
    if is_link {
        let stale = |m: &Meta| mtime_differs(o, (e.mtime, e.mtime_nsec), m);
        let mt = o.times && !o.omit_link_times && cur.as_ref().is_none_or(stale);
        let mt = mt.then_some((e.mtime, e.mtime_nsec));
        let at = atime_to_set(o, e, cur.as_ref());
        if mt.is_some() || at.is_some() {
            let _ = w.set_times(path, mt, at, permit);
        }
        if let Some((uid, gid)) = owners_to_set(o, e, cur.as_ref()) {
            let _ = w.chown(path, uid, gid, permit);
        }
        return None;
    }
    if o.fake_super {
        super::fake::apply_path(cfg, w, e, path, out);
    }
    let mut cur = cur;
    let mut again = None;
    if let Some((uid, gid)) = owners_to_set(o, e, cur.as_ref()).filter(|_| !o.fake_super) {
        let _ = w.chown(path, uid, gid, permit);
        if cur.as_ref().is_some_and(|m| m.mode & 0o6000 != 0) {
            // The kernel clears set-id bits on a change of owner: the
            // mode below compares with what is there now.
            cur = w.root().lstat(path).ok();
            again = cur;
        }
    }
    let mode = wanted_mode(o, e, cur.as_ref().map(|m| m.mode)).filter(|_| !o.fake_super);
    if let Some(mode) = mode {
        if cur.as_ref().is_none_or(|m| m.mode & 0o7777 != mode) {
            match w.chmod(path, mode, permit) {
                Err(err) if !crate::fs::is_denied(&err) => {
                    out.rsyserr(
                        "generator",
                        &format!(
                            "failed to set permissions on \"{}\"",
                            super::generator::show(&e.name)
                        ),
                        &err,
                    );
                }
                _ => {}
            }
        }
    }
    if e.kind() != FileKind::File {
        return again;
    }
    // An unchanged file's time: to the nanosecond the client sent (none
    // before protocol 31) when `-c` compared its contents, else as the
    // quick check compares (rsync's `maybe_ATTRS_ACCURATE_TIME`).
    let t = (e.mtime, e.mtime_nsec);
    let stale = |m: &Meta| match o.checksum {
        true => (m.mtime_sec, m.mtime_nsec) != t,
        false => mtime_differs(o, t, m),
    };
    let mt = o.times && cur.as_ref().is_none_or(stale);
    let mt = mt.then_some(t);
    let at = atime_to_set(o, e, cur.as_ref());
    if mt.is_some() || at.is_some() {
        let _ = w.set_times(path, mt, at, permit);
    }
    again
}

/// The owner and group to give an existing entry, each only where it
/// differs from `cur` (rsync's `change_uid`/`change_gid`): the owner only
/// as root, the group as anyone. `None` when nothing changes, so an
/// unchanged entry's `ctime` stays as it is.
fn owners_to_set(
    o: &RecvOptions,
    e: &FileEntry,
    cur: Option<&Meta>,
) -> Option<(Option<u32>, Option<u32>)> {
    let uid = (o.owner && o.am_root).then_some(e.uid);
    let uid = uid.filter(|u| cur.is_none_or(|m| m.uid != *u));
    let gid = o.group.then_some(e.gid);
    let gid = gid.filter(|g| cur.is_none_or(|m| m.gid != *g));
    (uid.is_some() || gid.is_some()).then_some((uid, gid))
}

/// The access time to give `e` (`--atimes`, never to a directory), in
/// whole seconds as rsync sets it: `None` when it is off or `cur`, the
/// entry as it is, already has it.
pub(crate) fn atime_to_set(
    o: &RecvOptions,
    e: &FileEntry,
    cur: Option<&Meta>,
) -> Option<(i64, u32)> {
    let wanted = o.atimes && e.kind() != FileKind::Dir;
    (wanted && cur.is_none_or(|m| m.atime_sec != e.atime)).then_some((e.atime, 0))
}

/// [`changes`] plus `REPORT_SIZE` when the sizes differ: the item flags
/// of a regular file about to be transferred against `m`. Without `-t`
/// the file gets the time of the transfer, which rsync reports as a time
/// change (`T`).
pub(crate) fn changes_with_size(o: &RecvOptions, e: &FileEntry, m: &Meta) -> ItemFlags {
    let mut f = changes(o, e, m);
    if m.size != e.size {
        f |= item::REPORT_SIZE;
    }
    if !o.times {
        f |= item::REPORT_TIME;
    }
    f
}

/// rsync's `same_time`: with `--modify-window` 0 the seconds are equal,
/// with a negative window the nanoseconds too, with a positive one the
/// seconds are at most that far apart. The client's nanoseconds are 0
/// before protocol 31, where none travel.
pub(crate) fn same_time(o: &RecvOptions, a: (i64, u32), b: (i64, u32)) -> bool {
    match o.modify_window {
        0 => a.0 == b.0,
        w if w < 0 => a == b,
        w => a.0.abs_diff(b.0) <= w.unsigned_abs(),
    }
}

/// rsync's `mtime_differs`: whether `m`'s time is not the client's `t`,
/// as the quick check, the items and the directory touch-ups compare.
pub(crate) fn mtime_differs(o: &RecvOptions, t: (i64, u32), m: &Meta) -> bool {
    !same_time(o, (m.mtime_sec, m.mtime_nsec), t)
}

/// Applies attributes to a freshly written file before it is renamed in
/// (or, with `--inplace`, to the file opened for update).
pub(crate) fn apply_fd(
    o: &RecvOptions,
    w: &Writer<'_>,
    e: &FileEntry,
    f: &File,
    existing_mode: Option<u32>,
) -> io::Result<()> {
    if o.fake_super {
        // The owner and the bits the file does not get are recorded by
        // the receiver once the file is written (`fake::store`).
    } else if o.am_root && (o.owner || o.group) {
        let _ = w.chown_fd(f, o.owner.then_some(e.uid), o.group.then_some(e.gid));
    } else if o.group {
        let _ = w.chown_fd(f, None, Some(e.gid));
    }
    let mode = wanted_mode(o, e, existing_mode)
        .or(existing_mode.map(|m| m & 0o7777))
        .unwrap_or(0o644);
    let mode = if o.fake_super {
        crate::meta::fake::real_mode(mode, false)
    } else {
        mode
    };
    w.chmod_fd(f, mode)?;
    let mt = o.times.then_some((e.mtime, e.mtime_nsec));
    let at = atime_to_set(o, e, None);
    if mt.is_some() || at.is_some() {
        w.set_times_fd(f, mt, at)?;
    }
    Ok(())
}
