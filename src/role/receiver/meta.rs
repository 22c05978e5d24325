//! ACLs and extended attributes on the receiving side, protocols 30 to
//! 32: what differs (the `ITEM_REPORT_ACL` and `ITEM_REPORT_XATTR` parts
//! of `itemize` in `generator.c`), the request for long attribute values
//! after the item flags (`send_xattr_request`), reading the client's
//! answer (`recv_xattr_request`), and applying both (`set_acl`,
//! `set_xattr`) through a file descriptor beneath the root.
//!
//! The generator applies what it can before the file's data or the
//! client's answer arrives; a long value it does not have yet is left for
//! the receiver, which fills the session's table in as values arrive (and
//! with local values found equal), as rsync's receiver does with its copy.

use std::io;

use super::attrs::item;
use super::generator::show;
use super::out::Outbox;
use super::{List, ReceiverConfig, RecvError};
use crate::flist::item::ItemFlags;
use crate::flist::{FileEntry, FileKind};
use crate::fs::{Attrs, MetaMut, RelPath};
use crate::meta::acl::{self, Acl};
use crate::meta::xattr::{self, Value, Xattr};
use crate::wire::{CodecError, Fail, Reader, Step};

/// Which side applies: the generator leaves long values it lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Generator,
    Receiver,
}

/// A file's current ACLs: access (full) and, for a directory, default.
fn local_acls(m: &impl Attrs, mode: u32, dir: bool, fake: bool) -> io::Result<(Acl, Acl)> {
    acl::read(&|n| m.get(n), mode, dir, fake)
}

/// A file's stored attributes, sorted, long values as their sums.
pub(crate) fn local_xattrs(m: &impl Attrs, naming: xattr::Naming) -> io::Result<Vec<Xattr>> {
    let mut list = Vec::new();
    for name in m.names()? {
        if !naming.ours(&name) {
            continue;
        }
        if let Some(v) = m.get(&name)? {
            list.push(Xattr::local(name, v));
        }
    }
    list.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(list)
}

/// Whether an entry carries ACLs at all (not symlinks, devices, specials).
fn has_acl(e: &FileEntry) -> bool {
    matches!(e.kind(), FileKind::File | FileKind::Dir)
}

/// The ACL and attribute item flags of entry `e` against what `path`
/// holds (`None`: nothing there yet), a regular file or directory as the
/// generator has just seen; its attributes are read by name, without
/// opening it. Long values the file lacks are marked to be asked for.
pub(crate) fn changes(
    cfg: &ReceiverConfig<'_>,
    list: &List,
    e: &FileEntry,
    path: Option<&RelPath>,
) -> ItemFlags {
    let m = cfg.flist.meta;
    let mut f = ItemFlags::EMPTY;
    let fd = path.and_then(|p| cfg.root.meta_at(p).ok());
    let mut tables = list.meta.borrow_mut();
    if m.acls && has_acl(e) {
        if let Some(fd) = fd.as_ref() {
            if acl_differs(&tables, e, fd, cfg.opts.fake_super).unwrap_or(true) {
                f |= item::REPORT_ACL;
            }
        }
    }
    if m.xattrs > 0 && matches!(e.kind(), FileKind::File | FileKind::Dir) {
        // Under -blind the client learns nothing of what values the server
        // holds: every value counts as missing, so the flags and the
        // request do not depend on them.
        let blind = cfg.sums == crate::policy::BlockSums::Blind;
        let local = match (path, fd.as_ref()) {
            (Some(_), Some(fd)) if !blind => local_xattrs(fd, m.naming()).unwrap_or_default(),
            _ => Vec::new(),
        };
        let differs = match tables.xattrs_mut(&e.meta) {
            Some(sent) => xattr::diff(sent, &local),
            None => !local.is_empty(),
        };
        if differs {
            f |= item::REPORT_XATTR;
        }
    }
    f
}

fn acl_differs(
    t: &crate::meta::Tables,
    e: &FileEntry,
    fd: &impl Attrs,
    fake: bool,
) -> io::Result<bool> {
    let (acc, def) = local_acls(fd, e.mode, e.is_dir(), fake)?;
    let acc_same = t
        .acl(&e.meta)
        .is_none_or(|sent| acc.equal_enough(sent, e.mode));
    let def_same = !e.is_dir() || t.def_acl(&e.meta).is_none_or(|sent| *sent == def);
    Ok(!(acc_same && def_same))
}

/// Whether a request for long values follows these item flags (and an
/// answer follows the client's echo of them).
pub(crate) fn carries_request(cfg: &ReceiverConfig<'_>, iflags: ItemFlags) -> bool {
    let m = cfg.flist.meta;
    m.xattrs > 0
        && !cfg.opts.dry_run
        && iflags.intersects(item::REPORT_XATTR)
        && !(m.optim && iflags.contains(item::XNAME_FOLLOWS.union(item::LOCAL_CHANGE)))
}

/// Appends the request for long values after an entry's item flags (or
/// only marks them done when the flags do not carry one).
pub(crate) fn request(
    cfg: &ReceiverConfig<'_>,
    list: &List,
    e: &FileEntry,
    iflags: ItemFlags,
    out: &mut Vec<u8>,
) {
    if cfg.flist.meta.xattrs == 0 || cfg.opts.dry_run {
        return;
    }
    if !iflags.intersects(item::REPORT_XATTR.union(item::TRANSFER)) {
        return;
    }
    let send = carries_request(cfg, iflags);
    let mut tables = list.meta.borrow_mut();
    match tables.xattrs_mut(&e.meta) {
        Some(sent) => xattr::request(sent, send, out),
        None if send => out.push(0),
        None => {}
    }
}

/// Decodes one step of the client's answer to a request: a relative
/// position and its value, or `None` at the 0 that ends it.
pub(crate) fn answer_step(r: &mut Reader<'_>) -> Step<Option<(i32, Vec<u8>)>> {
    let rel = r.varint("an xattr request")?;
    if rel == 0 {
        return Ok(None);
    }
    let len = r.varint("an xattr value length")?;
    let len = usize::try_from(len)
        .ok()
        .filter(|&n| n <= xattr::MAX_VALUE)
        .ok_or(Fail::Invalid(CodecError::TooLong("an xattr value")))?;
    Ok(Some((rel, r.take(len)?.to_vec())))
}

/// Puts one answered value in place of its sum in the table; `num` is
/// the position of the previous one.
pub(crate) fn answered(
    list: &List,
    e: &FileEntry,
    num: &mut i32,
    rel: i32,
    value: Vec<u8>,
) -> Result<(), RecvError> {
    let want = num.checked_add(rel).ok_or_else(|| {
        RecvError::Protocol(format!("xattr request overflow for {}", show(&e.name)))
    })?;
    let mut tables = list.meta.borrow_mut();
    let grows = (value.len() as u64).saturating_sub(xattr::SUM_LEN as u64);
    tables
        .charge(grows)
        .map_err(|m| RecvError::Budget(format!("{m} [receiver]")))?;
    let item = tables
        .xattrs_mut(&e.meta)
        .and_then(|l| l.iter_mut().find(|x| x.num as i32 == want))
        .filter(|x| matches!(x.value, Value::Sum { .. }));
    let Some(item) = item else {
        return Err(RecvError::Protocol(format!(
            "[receiver] could not find xattr #{want} for {}",
            show(&e.name)
        )));
    };
    item.value = Value::Full(value);
    *num = want;
    Ok(())
}

/// Where [`apply`] writes: the file, the file whose long values may be
/// reused, and the mode the file has or is about to have.
pub(crate) struct Target<'a> {
    pub(crate) fd: &'a MetaMut,
    pub(crate) basis: Basis<'a>,
    pub(crate) mode: u32,
}

/// The file whose long values a received list may leave out.
#[derive(Clone, Copy)]
pub(crate) enum Basis<'a> {
    /// The file being changed itself.
    Target,
    /// The file a received one replaces, at this path: looked at only
    /// when a value is left out (a new file's usually are not).
    Replaced(&'a crate::fs::Root, &'a RelPath),
}

/// Applies entry `e`'s ACLs and attributes to `target`, whose mode is
/// (or is about to be) `mode`. Long values come from the table or, when
/// only their sum is known, from `basis` if its value matches.
pub(crate) fn apply(
    cfg: &ReceiverConfig<'_>,
    list: &List,
    e: &FileEntry,
    t: Target<'_>,
    side: Side,
    out: &Outbox<'_>,
) {
    let Target {
        fd: target,
        basis,
        mode,
    } = t;
    let m = cfg.flist.meta;
    let who = if side == Side::Generator {
        "generator"
    } else {
        "receiver"
    };
    if m.acls && has_acl(e) {
        if let Err(err) = apply_acls(list, e, target, mode, cfg.opts.fake_super) {
            out.rsyserr(
                who,
                &format!("set_acl: failed on \"{}\"", show(&e.name)),
                &err,
            );
        }
    }
    if m.xattrs > 0 && matches!(e.kind(), FileKind::File | FileKind::Dir) {
        apply_xattrs(cfg, list, e, target, basis, side, out);
    }
}

/// Sets `e`'s ACLs on `target`: as the system's ACLs, or with
/// `--fake-super` in rsync's attributes of its own, as received.
fn apply_acls(
    list: &List,
    e: &FileEntry,
    target: &MetaMut,
    mode: u32,
    fake: bool,
) -> io::Result<()> {
    let tables = list.meta.borrow();
    let (acc, def) = local_acls(target.reader(), mode, e.is_dir(), fake)?;
    let (acc_name, def_name) = if fake {
        (acl::FAKE_ACCESS_XATTR, acl::FAKE_DEFAULT_XATTR)
    } else {
        (acl::ACCESS_XATTR, acl::DEFAULT_XATTR)
    };
    if let Some(sent) = tables.acl(&e.meta) {
        if !acc.equal_enough(sent, mode) {
            let v = if fake {
                sent.to_fake()
            } else {
                sent.with_mode(mode).to_xattr()
            };
            target.set(acc_name, &v)?;
        }
    }
    if let (true, Some(sent)) = (e.is_dir(), tables.def_acl(&e.meta)) {
        if *sent != def {
            if sent.user_obj == acl::NO_ENTRY {
                target.remove(def_name)?;
            } else if fake {
                target.set(def_name, &sent.to_fake())?;
            } else {
                target.set(def_name, &sent.to_xattr())?;
            }
        }
    }
    Ok(())
}

fn apply_xattrs(
    cfg: &ReceiverConfig<'_>,
    list: &List,
    e: &FileEntry,
    target: &MetaMut,
    basis: Basis<'_>,
    side: Side,
    out: &Outbox<'_>,
) {
    let naming = cfg.flist.meta.naming();
    let who = if side == Side::Generator {
        "generator"
    } else {
        "receiver"
    };
    let fail = |what: &str, err: &io::Error| {
        out.rsyserr(
            who,
            &format!("rsync_xal_set: {what} on \"{}\"", show(&e.name)),
            err,
        );
    };
    let current = target.reader().names().unwrap_or_default();
    let mut replaced: Option<Option<crate::fs::MetaAt<'_>>> = None;
    let mut local = |name: &[u8]| match basis {
        Basis::Target => target.reader().get(name).ok().flatten(),
        Basis::Replaced(root, path) => replaced
            .get_or_insert_with(|| root.meta_at_file_or_dir(path).ok().flatten())
            .as_ref()
            .and_then(|b| b.get(name).ok().flatten()),
    };
    let mut tables = list.meta.borrow_mut();
    let Some(sent) = tables.xattrs_mut(&e.meta) else {
        return;
    };
    for x in sent.iter_mut() {
        let value = match &x.value {
            Value::Full(v) => v.clone(),
            Value::Sum { len, sum, .. } => {
                match local(&x.name).filter(|v| v.len() == *len && xattr::md5(v) == *sum) {
                    Some(v) => {
                        if side == Side::Receiver {
                            x.value = Value::Full(v.clone());
                        }
                        v
                    }
                    None if side == Side::Generator => continue,
                    None => {
                        out.error_xfer(&format!(
                            "Missing abbreviated xattr value, {}, for {}",
                            show(&x.name),
                            show(&e.name)
                        ));
                        continue;
                    }
                }
            }
        };
        // A name the file does not list has no value to compare.
        let have = current
            .contains(&x.name)
            .then(|| target.reader().get(&x.name).ok().flatten())
            .flatten();
        if have.as_deref() != Some(value.as_slice()) {
            if let Err(err) = target.set(&x.name, &value) {
                fail(&format!("setxattr \"{}\" failed", show(&x.name)), &err);
            }
        }
    }
    for name in current {
        if naming.ours(&name) && !sent.iter().any(|x| x.name == name) {
            if let Err(err) = target.remove(&name) {
                fail(&format!("removexattr \"{}\" failed", show(&name)), &err);
            }
        }
    }
}

/// [`apply`] to the entry at `path` itself (a directory, an unchanged
/// file, or one whose long values just arrived), after its mode is set.
/// Nothing changes on an entry this session may not change.
pub(crate) fn apply_path(
    cfg: &ReceiverConfig<'_>,
    w: &crate::fs::Writer<'_>,
    list: &List,
    e: &FileEntry,
    path: &RelPath,
    side: Side,
    out: &Outbox<'_>,
) {
    if !cfg.flist.meta.any() || cfg.opts.dry_run {
        return;
    }
    let Ok(Some((target, now))) = w.open_meta(path, cfg.overwrite.as_ref()) else {
        return;
    };
    let t = Target {
        fd: &target,
        basis: Basis::Target,
        mode: now.mode,
    };
    apply(cfg, list, e, t, side, out);
}
