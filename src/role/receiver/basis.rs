//! Choosing and describing the basis of a file the generator requests
//! (`recv_generator`, `try_dests_reg` and `generate_and_send_sums` in
//! `generator.c`): the quick check, `-c` whole-file sums, the alternate
//! `--*-dest` directories, the `--partial-dir` file, and the block sums
//! sent to the client.

use std::io::Read;

use super::attrs;
use super::ReceiverConfig;
use crate::checksum::{FileHasher, StrongKind, SumHead};
use crate::delta::generate_signature;
use crate::flist::FileEntry;
use crate::fs::{Meta, RelPath, Writer};

/// `--link-dest`, `--copy-dest`, `--compare-dest` (`try_dests_reg`):
/// an identical file in one of the directories is linked, copied or
/// taken as is; otherwise the first one present becomes the basis.
pub(crate) fn alt_dest(
    cfg: &ReceiverConfig<'_>,
    w: &Writer<'_>,
    e: &FileEntry,
    path: &RelPath,
) -> AltOutcome {
    use crate::cli::AltDest;
    let mut basis = None;
    for (i, (kind, dir)) in cfg.opts.alt_dest.iter().enumerate() {
        let Ok(alt) = RelPath::new(&[dir.as_bytes(), b"/", &e.name].concat()) else {
            continue;
        };
        let Some(m) = cfg.root.lstat(&alt).ok().filter(Meta::is_file) else {
            continue;
        };
        if up_to_date(cfg, e, &alt, &m) && !cfg.opts.dry_run {
            let done = match kind {
                AltDest::Compare => true,
                AltDest::Link => w.hard_link(&alt, path).is_ok(),
                AltDest::Copy => copy_file(cfg, w, &alt, path, e).is_ok(),
            };
            if done {
                return AltOutcome::Done;
            }
        }
        if basis.is_none() {
            basis = Some((i as u8, alt));
        }
    }
    basis.map_or(AltOutcome::None, |(i, p)| AltOutcome::Basis(i, p))
}

/// Quick check: size and mtime (or checksum with `-c`).
pub(crate) fn up_to_date(
    cfg: &ReceiverConfig<'_>,
    e: &FileEntry,
    path: &RelPath,
    m: &Meta,
) -> bool {
    let o = &cfg.opts;
    if o.ignore_times || m.size != e.size {
        return false;
    }
    if o.checksum {
        return file_sum(cfg, path).is_some_and(|s| Some(s.as_slice()) == e.checksum.as_deref());
    }
    o.size_only || (m.mtime_sec - e.mtime).abs() <= o.modify_window
}

fn file_sum(cfg: &ReceiverConfig<'_>, path: &RelPath) -> Option<Vec<u8>> {
    let kind = match cfg.file_kind {
        StrongKind::Md4Old => StrongKind::Md4,
        k => k,
    };
    let mut f = cfg.root.open_file(path).ok()?;
    let mut h = FileHasher::new(kind, 0);
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => h.update(buf.get(..n)?),
            Err(_) => return None,
        }
    }
    Some(h.finish().as_bytes().to_vec())
}

/// Block sums of `basis`, or an empty header.
pub(crate) fn sums(
    cfg: &ReceiverConfig<'_>,
    protocol: u32,
    basis: Option<&RelPath>,
    redo: bool,
    out: &mut Vec<u8>,
) {
    let p = protocol;
    let kind = cfg.xfer_kind;
    let file = basis.and_then(|b| cfg.root.open_file(b).ok());
    let len = file
        .as_ref()
        .and_then(|f| f.metadata().ok())
        .map_or(0, |m| m.len());
    let head = match (&file, len) {
        (Some(_), l) if l > 0 => {
            SumHead::for_file(l, p, cfg.opts.block_size, kind.digest_len(), redo)
                .unwrap_or(SumHead::EMPTY)
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
}

/// `FNAMECMP_PARTIAL_DIR`: the basis is the partial file.
pub(crate) const FNAMECMP_PARTIAL_DIR: u8 = 0x81;

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
    /// The file was linked, copied or found identical.
    Done,
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
    let mut src = cfg.root.open_file(from)?;
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
                m.is_file() && up_to_date(cfg, e, &alt, &m) && attrs::changes(&cfg.opts, e, &m) == 0
            }
        };
        if same {
            return Some((*kind, alt, m));
        }
    }
    None
}

/// The first directory of that name in the `--*-dest` directories.
pub(crate) fn alt_dir_meta(cfg: &ReceiverConfig<'_>, name: &[u8]) -> Option<Meta> {
    cfg.opts.alt_dest.iter().find_map(|(_, dir)| {
        let alt = RelPath::new(&[dir.as_bytes(), b"/", name].concat()).ok()?;
        cfg.root.lstat(&alt).ok().filter(Meta::is_dir)
    })
}
