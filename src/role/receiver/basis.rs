//! Choosing and describing the basis of a file the generator requests
//! (`recv_generator`, `try_dests_reg` and `generate_and_send_sums` in
//! `generator.c`): the quick check, `-c` whole-file sums, the alternate
//! `--*-dest` directories, the `--partial-dir` file, and the block sums
//! sent to the client.
//!
//! The block sums are the only bytes of an existing file a receiving
//! session shows the client, so they are where `-wo` and `-blind` hold
//! ([`BlockSums`], see `docs/security/woleak.md`): under `-wo` a sum never
//! covers fewer bytes than rsync's own default block for that file, the
//! redo phase sends none, and a basis the client could not overwrite
//! (an alternate directory's file, anything under `-no-overwrite`) gets
//! none; under `-blind` no basis gets any and `-c` compares no contents.

use super::attrs;
use super::ReceiverConfig;
use crate::checksum::SumHead;
use crate::delta::generate_signature;
use crate::flist::FileEntry;
use crate::fs::{Meta, RelPath, Writer};
use crate::policy::BlockSums;

/// `--link-dest`, `--copy-dest`, `--compare-dest` (`try_dests_reg`),
/// by rsync's match levels: a file there with the same contents and the
/// same attributes (level 3) is linked or taken as is, or copied for
/// `--copy-dest`; one with the same contents only (level 2) is copied,
/// whatever the kind, and given the sender's attributes, since a link
/// would share the other directory's; otherwise the first one present
/// is the basis.
pub(crate) fn alt_dest(
    cfg: &ReceiverConfig<'_>,
    w: &Writer<'_>,
    e: &FileEntry,
    path: &RelPath,
) -> AltOutcome {
    use crate::cli::AltDest;
    let mut basis = None;
    let mut same: Option<(RelPath, crate::flist::item::ItemFlags)> = None;
    for (i, (kind, dir)) in cfg.opts.alt_dest.iter().enumerate() {
        let Ok(alt) = RelPath::new(&[dir.as_bytes(), b"/", &e.name].concat()) else {
            continue;
        };
        let Some(m) = cfg.root.lstat(&alt).ok().filter(Meta::is_file) else {
            continue;
        };
        if basis.is_none() {
            basis = Some((i as u8, alt.clone()));
        }
        if !quick_check(cfg, e, &alt, &m, false) {
            continue;
        }
        let diff = attrs::changes(&cfg.opts, e, &m);
        let exact = diff.is_empty();
        if exact && *kind != AltDest::Copy && !cfg.opts.dry_run {
            let done = match kind {
                AltDest::Link => w.hard_link(&alt, path).is_ok(),
                _ => true,
            };
            if done {
                return AltOutcome::Done(*kind);
            }
        }
        if exact || same.is_none() {
            same = Some((alt, diff));
        }
        if exact {
            break;
        }
    }
    if let (Some((alt, diff)), false) = (same, cfg.opts.dry_run) {
        if copy_file(cfg, w, &alt, path, e).is_ok() {
            return AltOutcome::Copied { diff };
        }
    }
    basis.map_or(AltOutcome::None, |(i, p)| AltOutcome::Basis(i, p))
}

/// Quick check of the destination file itself: size and mtime (or
/// checksum with `-c`).
pub(crate) fn up_to_date(
    cfg: &ReceiverConfig<'_>,
    e: &FileEntry,
    path: &RelPath,
    m: &Meta,
) -> bool {
    quick_check(cfg, e, path, m, true)
}

/// The quick check of `path`; `own` is false for a file in an alternate
/// directory. With `-c` the answer tells the client whether the whole
/// file equals its own, so a file it may not learn sums of (see
/// [`may_sum`]) is never compared: it is never up to date.
fn quick_check(
    cfg: &ReceiverConfig<'_>,
    e: &FileEntry,
    path: &RelPath,
    m: &Meta,
    own: bool,
) -> bool {
    let o = &cfg.opts;
    if o.ignore_times || m.size != e.size {
        return false;
    }
    if o.checksum {
        return may_compare(cfg, own)
            && file_sum(cfg, path, m.size)
                .is_some_and(|s| Some(s.as_slice()) == e.checksum.as_deref());
    }
    o.size_only || !super::attrs::mtime_differs(o, (e.mtime, e.mtime_nsec), m)
}

/// Whether `-c` may compare a file's contents with the client's.
fn may_compare(cfg: &ReceiverConfig<'_>, own: bool) -> bool {
    match cfg.sums {
        BlockSums::AsAsked => true,
        BlockSums::Coarse => own,
        BlockSums::Blind => false,
    }
}

/// The `-B` to size the sums of a `len`-byte basis with, or `None` when
/// the client may see no sums of it: `fnamecmp` is the basis type (`None`
/// for the destination file itself). Under `-wo` only the file the client
/// is replacing, or its own partial file, qualifies, and only outside the
/// redo phase (whose full-length strong sums a client can provoke with a
/// wrong file checksum); its blocks are at least rsync's default length.
fn may_sum(
    cfg: &ReceiverConfig<'_>,
    protocol: u32,
    len: u64,
    fnamecmp: Option<u8>,
    redo: bool,
) -> Option<Option<u32>> {
    let asked = cfg.opts.block_size.filter(|&b| b > 0);
    match cfg.sums {
        BlockSums::AsAsked => Some(asked),
        BlockSums::Blind => None,
        BlockSums::Coarse => {
            let replaced = matches!(fnamecmp, None | Some(FNAMECMP_PARTIAL_DIR));
            if redo || !replaced || cfg.overwrite.is_none() {
                return None;
            }
            let floor = SumHead::default_block_len(len, protocol);
            Some(Some(asked.map_or(floor, |b| b.max(floor))))
        }
    }
}

/// Opens basis file `path` for reading, a regular file beneath the root
/// (`do_open_checklinks`): with `--open-noatime` its access time stays.
pub(crate) fn read_basis(cfg: &ReceiverConfig<'_>, path: &RelPath) -> Option<(std::fs::File, u64)> {
    cfg.root.open_read(path, cfg.opts.noatime).ok()
}

/// The `-c` sum of the destination file `path`, which the generator has
/// just found to be a regular file of `len` bytes: no second look before
/// the open, only the `fstat` after it.
fn file_sum(cfg: &ReceiverConfig<'_>, path: &RelPath, len: u64) -> Option<Vec<u8>> {
    let (f, _) = cfg.root.open_source(path, cfg.opts.noatime).ok()?;
    let sum = crate::checksum::file_sum(cfg.file_kind, f, len).ok()?;
    Some(sum.as_bytes().to_vec())
}

/// Block sums of `basis` (of basis type `fnamecmp`, `None` for the
/// destination itself), or an empty header. Returns the header sent. In
/// append mode (`append` above 0, never in the redo phase) only the
/// header goes out; the length its blocks cover is where the client's
/// data starts.
pub(crate) fn sums(
    cfg: &ReceiverConfig<'_>,
    protocol: u32,
    basis: Option<(&RelPath, Option<u8>)>,
    redo: bool,
    append: u8,
    out: &mut Vec<u8>,
) -> SumHead {
    if append > 0 && !redo {
        let head = append_head(cfg, protocol, basis, append);
        head.encode(protocol, out);
        return head;
    }
    let p = protocol;
    let kind = cfg.xfer_kind;
    let (file, len) = match basis.and_then(|(b, _)| read_basis(cfg, b)) {
        Some((f, len)) => (Some(f), len),
        None => (None, 0),
    };
    let fnamecmp = basis.and_then(|(_, t)| t);
    let head = match (&file, may_sum(cfg, p, len, fnamecmp, redo)) {
        (Some(_), Some(bs)) if len > 0 => {
            SumHead::for_file(len, p, bs, kind.digest_len(), redo).unwrap_or(SumHead::EMPTY)
        }
        _ => SumHead::EMPTY,
    };
    let mut sums = Vec::new();
    let ok = match file {
        Some(mut f) if head.count > 0 => generate_signature(
            &mut f,
            &head,
            kind,
            cfg.seed,
            cfg.proper_seed_order,
            &mut |w, s| {
                sums.extend_from_slice(&w.to_le_bytes());
                sums.extend_from_slice(s);
            },
        )
        .is_ok(),
        _ => true,
    };
    let head = if ok { head } else { SumHead::EMPTY };
    head.encode(p, out);
    if ok && head.count > 0 {
        out.extend_from_slice(&sums);
    }
    head
}

/// `generate_and_send_sums` in append mode: a header whose blocks cover
/// the destination file (never another basis), and no sums. What it
/// shows the client is the file's length, which a normal header shows
/// too; under `-blind` it is empty. Under `-wo` with `--append-verify`
/// it is empty as well: the verdict on a checksum over a prefix the
/// client did not send would tell it whether that prefix equals its own
/// guess, so the whole file is sent and verified instead.
fn append_head(
    cfg: &ReceiverConfig<'_>,
    protocol: u32,
    basis: Option<(&RelPath, Option<u8>)>,
    append: u8,
) -> SumHead {
    let Some((path, None)) = basis else {
        return SumHead::EMPTY;
    };
    if append == 2 && cfg.sums == BlockSums::Coarse {
        return SumHead::EMPTY;
    }
    let len = cfg
        .root
        .lstat(path)
        .ok()
        .filter(Meta::is_file)
        .map_or(0, |m| m.size);
    match may_sum(cfg, protocol, len, None, false) {
        Some(bs) if len > 0 => {
            SumHead::for_file(len, protocol, bs, cfg.xfer_kind.digest_len(), false)
                .unwrap_or(SumHead::EMPTY)
        }
        _ => SumHead::EMPTY,
    }
}

pub(crate) use crate::flist::item::FNAMECMP_PARTIAL_DIR;

/// Where `--partial-dir` keeps an interrupted file: the directory is
/// relative to the file's own directory, as in rsync. A partial directory
/// of `.` would name the file itself, so it names nothing.
pub(crate) fn partial_path(cfg: &ReceiverConfig<'_>, path: &RelPath) -> Option<RelPath> {
    let pd = cfg.opts.partial_dir.as_ref().filter(|d| !d.is_root())?;
    let dir = path.parent().unwrap_or_else(RelPath::root);
    let name = path.file_name()?;
    let joined = if dir.is_root() {
        pd.as_bytes().to_vec()
    } else {
        [dir.as_bytes(), b"/", pd.as_bytes()].concat()
    };
    RelPath::new(&[&joined[..], b"/", name].concat()).ok()
}

/// What the alternate directories offered.
pub(crate) enum AltOutcome {
    /// Nothing usable.
    None,
    /// Linked, or found identical (`--compare-dest`), at match level 3.
    Done(crate::cli::AltDest),
    /// Copied from a file with the same contents; `diff`: how its
    /// attributes differed (none at match level 3).
    Copied { diff: crate::flist::item::ItemFlags },
    /// Use this file (alternate directory `i`) as the basis.
    Basis(u8, RelPath),
}

/// `--copy-dest`: a local copy through a temporary file, put in place
/// only where no name exists.
fn copy_file(
    cfg: &ReceiverConfig<'_>,
    w: &Writer<'_>,
    from: &RelPath,
    to: &RelPath,
    e: &FileEntry,
) -> std::io::Result<()> {
    let (mut src, _) = cfg.root.open_read(from, cfg.opts.noatime)?;
    let dir = to.parent().unwrap_or_else(RelPath::root);
    let (mut f, tmp) = w.create_temp(&dir, to.file_name().unwrap_or(b"f"), 0o600)?;
    let r =
        std::io::copy(&mut src, &mut f).and_then(|_| attrs::apply_fd(&cfg.opts, w, e, &f, None));
    let r = r.and_then(|()| w.place(&tmp, to, None));
    if r.is_err() {
        let _ = w.remove(&tmp, None);
    }
    r
}

/// The first alternate directory holding an exact copy (same quick check
/// and same attributes) of `e` as a regular file or, for symlinks, a
/// symlink with the same target (`try_dests_reg`/`try_dests_non` at match
/// level 3).
pub(crate) fn exact_alt(
    cfg: &ReceiverConfig<'_>,
    e: &FileEntry,
    target: Option<&[u8]>,
) -> Option<(crate::cli::AltDest, RelPath, Meta)> {
    for (kind, dir) in &cfg.opts.alt_dest {
        let Ok(alt) = RelPath::new(&[dir.as_bytes(), b"/", &e.name].concat()) else {
            continue;
        };
        let Ok(m) = cfg.root.lstat(&alt) else {
            continue;
        };
        let same = match target {
            Some(t) => m.is_symlink() && cfg.root.read_link(&alt).ok().as_deref() == Some(t),
            None => {
                m.is_file()
                    && quick_check(cfg, e, &alt, &m, false)
                    && attrs::changes(&cfg.opts, e, &m).is_empty()
            }
        };
        if same {
            return Some((*kind, alt, m));
        }
    }
    None
}

/// Whether a `--link-dest` directory holds `name` as the very file `m`
/// describes (a hard-link member whose leader came from there).
pub(crate) fn link_dest_holds(cfg: &ReceiverConfig<'_>, name: &[u8], m: &Meta) -> bool {
    cfg.opts.alt_dest.iter().any(|(kind, dir)| {
        *kind == crate::cli::AltDest::Link
            && RelPath::new(&[dir.as_bytes(), b"/", name].concat())
                .ok()
                .and_then(|alt| cfg.root.lstat(&alt).ok())
                .is_some_and(|am| am.same_file(m))
    })
}

/// The first directory of that name in the `--*-dest` directories.
pub(crate) fn alt_dir_meta(cfg: &ReceiverConfig<'_>, name: &[u8]) -> Option<Meta> {
    cfg.opts.alt_dest.iter().find_map(|(_, dir)| {
        let alt = RelPath::new(&[dir.as_bytes(), b"/", name].concat()).ok()?;
        cfg.root.lstat(&alt).ok().filter(Meta::is_dir)
    })
}
