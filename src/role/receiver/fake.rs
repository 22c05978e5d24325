//! `--fake-super` on the receiving side (`set_stat_xattr`, and
//! `do_symlink`/`do_mknod` creating regular files), protocols 27 to 32:
//! owners, set-id bits and file types the server does not apply are kept
//! in `user.rsync.%stat` (see [`crate::meta::fake`]). Every write goes
//! through the session's [`Writer`], so the modes' permits hold as for
//! real attributes.

use std::io::{self, Write};

use super::attrs::wanted_mode;
use super::generator::show;
use super::out::Outbox;
use super::ReceiverConfig;
use crate::flist::{FileEntry, FileKind};
use crate::fs::{Attrs, Meta, MetaMut, RelPath, Writer};
use crate::meta::fake::{real_mode, FakeStat, STAT};

/// What `path`, a regular file or directory as the caller has seen,
/// records, if anything (read by name, without opening it).
pub(crate) fn stored(cfg: &ReceiverConfig<'_>, path: &RelPath) -> Option<FakeStat> {
    let at = cfg.root.meta_at(path).ok()?;
    FakeStat::parse(&at.get(STAT).ok().flatten()?)
}

/// `m` as the generator compares it: the recorded permission bits, owner
/// and group in place of the real ones (`x_lstat`).
pub(crate) fn overlay(cfg: &ReceiverConfig<'_>, path: &RelPath, mut m: Meta) -> Meta {
    if m.is_file() || m.is_dir() {
        if let Some(s) = stored(cfg, path) {
            if s.mode & 0o170000 == m.mode & 0o170000 {
                m.mode = s.mode;
                m.uid = s.uid;
                m.gid = s.gid;
            }
        }
    }
    m
}

/// What should be recorded for `e` on a file whose real state is `real`.
fn wanted(cfg: &ReceiverConfig<'_>, e: &FileEntry, real: &Meta, recorded: Option<u32>) -> FakeStat {
    let o = &cfg.opts;
    let perms = wanted_mode(o, e, recorded.or(Some(real.mode)))
        .unwrap_or(recorded.unwrap_or(real.mode) & 0o7777);
    let device = e.kind() == FileKind::Device;
    FakeStat {
        mode: (e.mode & 0o170000) | perms,
        rdev: if device { e.rdev } else { (0, 0) },
        uid: if o.owner { e.uid } else { real.uid },
        gid: if o.group { e.gid } else { real.gid },
    }
}

/// Gives `target` (whose real state is `real`) the mode and record that
/// entry `e` asks for.
pub(crate) fn store(
    cfg: &ReceiverConfig<'_>,
    e: &FileEntry,
    target: &MetaMut,
    real: &Meta,
) -> io::Result<()> {
    let had = target.reader().get(STAT)?.and_then(|v| FakeStat::parse(&v));
    let want = wanted(cfg, e, real, had.map(|s| s.mode));
    let mode = real_mode(want.mode, real.is_dir());
    if real.mode & 0o7777 != mode {
        target.chmod(mode)?;
    }
    let plain = (real.mode & 0o170000) | mode == want.mode
        && want.rdev == (0, 0)
        && want.uid == real.uid
        && want.gid == real.gid;
    if plain {
        if had.is_some() {
            target.remove(STAT)?;
        }
    } else if had != Some(want) {
        target.set(STAT, &want.encode())?;
    }
    Ok(())
}

/// [`store`] on the entry at `path` itself; nothing changes on an entry
/// this session may not change.
pub(crate) fn apply_path(
    cfg: &ReceiverConfig<'_>,
    w: &Writer<'_>,
    e: &FileEntry,
    path: &RelPath,
    out: &Outbox<'_>,
) {
    let Ok(Some((target, real))) = w.open_meta(path, cfg.overwrite.as_ref()) else {
        return;
    };
    if let Err(err) = store(cfg, e, &target, &real) {
        out.rsyserr(
            "generator",
            &format!(
                "failed to write xattr {} for \"{}\"",
                show(STAT),
                show(&e.name)
            ),
            &err,
        );
    }
}

/// The content a fake-super stand-in holds: a symlink's target, else
/// nothing.
pub(crate) fn content(cfg: &ReceiverConfig<'_>, e: &FileEntry) -> Vec<u8> {
    match e.kind() {
        FileKind::Symlink => {
            super::attrs::stored_target(&cfg.opts, e.link_target.as_deref().unwrap_or(&[]))
        }
        _ => Vec::new(),
    }
}

/// Whether the regular file at `path` already stands for `e`: the same
/// record of its type and the same content.
pub(crate) fn stands_for(cfg: &ReceiverConfig<'_>, e: &FileEntry, path: &RelPath) -> bool {
    let Some(s) = stored(cfg, path) else {
        return false;
    };
    if s.mode & 0o170000 != e.mode & 0o170000 || (e.kind() == FileKind::Device && s.rdev != e.rdev)
    {
        return false;
    }
    let want = content(cfg, e);
    let Ok(mut f) = cfg.root.open_file(path) else {
        return false;
    };
    let mut have = Vec::new();
    let limit = want.len() as u64 + 1;
    std::io::Read::read_to_end(&mut std::io::Read::take(&mut f, limit), &mut have).is_ok()
        && have == want
}

/// Creates the stand-in for a symlink, device or special file `e` at
/// `path` (replacing what is there with `replace`, which needs the
/// overwrite permit), then records what it stands for.
pub(crate) fn make(
    cfg: &ReceiverConfig<'_>,
    w: &Writer<'_>,
    e: &FileEntry,
    path: &RelPath,
    replace: bool,
) -> io::Result<()> {
    let permit = cfg.overwrite.as_ref();
    if replace && permit.is_none() {
        return Err(io::Error::from(io::ErrorKind::AlreadyExists));
    }
    let dir = path.parent().unwrap_or_else(RelPath::root);
    let base = path.file_name().unwrap_or(b"node");
    let (mut f, tmp) = w.create_temp(&dir, base, 0o600)?;
    let written = f.write_all(&content(cfg, e));
    let placed = written.and_then(|()| w.place(&tmp, path, if replace { permit } else { None }));
    if let Err(err) = placed {
        let _ = w.remove(&tmp, None);
        return Err(err);
    }
    let (target, real) = w.meta_of(&f, path, permit)?;
    store(cfg, e, &target, &real)
}
