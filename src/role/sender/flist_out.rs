//! From source arguments to the file list on the wire: `--files-from`
//! names, the walk, sorting, hard-link groups, `-c` sums, the encoding,
//! the id lists and the error word (`send_file_list` in `flist.c`).

use std::io::Read;

use super::walk::{Item, Walk, WalkNote, Walker};
use super::{SendError, SenderConfig};
use crate::checksum::{FileHasher, StrongKind};
use crate::error::IoErrors;
use crate::flist::{f_name_cmp, FlistEncoder, IdNames};
use crate::role::Link;
use crate::wire::{put_i32, Fail, MsgCode, Reader, Step};

/// Most names accepted from a `--files-from` list.
const MAX_FILES_FROM: usize = 1_000_000;
/// Longest name accepted from a `--files-from` list.
const MAX_NAME: usize = 4096;

/// The list as sent.
pub(super) struct Listed {
    pub(super) items: Vec<Item>,
    pub(super) io_error: IoErrors,
    pub(super) total_size: u64,
    /// The ACLs and attribute lists sent.
    pub(super) meta: super::meta_out::MetaOut,
}

/// The source arguments: the client's paths, or with `--files-from` the
/// listed names, each below the first path.
pub(super) async fn source_names(
    link: &Link,
    protocol: u32,
    cfg: &SenderConfig<'_>,
) -> Result<Vec<Vec<u8>>, SendError> {
    let Some(ff) = &cfg.files_from else {
        return Ok(super::glob::expand_sources(cfg.root, &cfg.paths));
    };
    let names = match ff {
        None => read_names_from_link(link, protocol).await?,
        Some(path) => read_names_from_file(cfg, path)?,
    };
    let base = cfg.paths.first().cloned().unwrap_or_else(|| b".".to_vec());
    Ok(names.into_iter().map(|n| under_base(&base, &n)).collect())
}

/// `base/./name`, so that `-R` keeps only `name` on the wire.
fn under_base(base: &[u8], name: &[u8]) -> Vec<u8> {
    let name: &[u8] = {
        let mut n = name;
        while let Some(rest) = n.strip_prefix(b"/") {
            n = rest;
        }
        n
    };
    let mut v = base.to_vec();
    while v.ends_with(b"/") {
        v.pop();
    }
    if v.is_empty() {
        v.push(b'.');
    }
    v.extend_from_slice(b"/./");
    v.extend_from_slice(name);
    v
}

/// Names sent by the client, NUL-terminated, ended by an empty name.
/// Before protocol 31 they travel outside the multiplexing.
async fn read_names_from_link(link: &Link, protocol: u32) -> Result<Vec<Vec<u8>>, SendError> {
    let raw = protocol < 31;
    let was_mux = link.multiplexed_in();
    if raw {
        link.set_multiplexed_in(false);
    }
    let mut names = Vec::new();
    loop {
        let name = link
            .read("the files-from list", |r| one_name(r, names.len()))
            .await
            .map_err(|e| match e {
                crate::wire::WireError::TooLong(TOO_MANY) => SendError::Refused(format!(
                    "--files-from list has more than {MAX_FILES_FROM} names"
                )),
                crate::wire::WireError::TooLong(w) => SendError::Refused(w.to_string()),
                e => SendError::Wire(e),
            })?;
        let Some(name) = name else {
            break;
        };
        names.push(name);
    }
    if raw && was_mux {
        link.set_multiplexed_in(true);
    }
    Ok(names)
}

/// One NUL-terminated name; `None` for the empty name that ends the list.
fn one_name(r: &mut Reader<'_>, have: usize) -> Step<Option<Vec<u8>>> {
    let rest = r.rest();
    let Some(end) = rest.iter().take(MAX_NAME + 1).position(|&b| b == 0) else {
        if rest.len() > MAX_NAME {
            return Err(crate::wire::CodecError::TooLong(TOO_LONG).into());
        }
        return Err(Fail::Incomplete { needed: 1 });
    };
    let name = r.take(end + 1)?.get(..end).unwrap_or_default();
    if name.is_empty() {
        return Ok(None);
    }
    if have >= MAX_FILES_FROM {
        return Err(crate::wire::CodecError::TooLong(TOO_MANY).into());
    }
    Ok(Some(name.to_vec()))
}

const TOO_LONG: &str = "over-long name in --files-from list";
const TOO_MANY: &str = "too many names in --files-from list";

/// Names from a file beneath the root: lines (or NUL-separated with
/// `--from0`), blank lines and `#`/`;` comments skipped.
fn read_names_from_file(cfg: &SenderConfig<'_>, path: &[u8]) -> Result<Vec<Vec<u8>>, SendError> {
    let rel = crate::fs::RelPath::new(path)
        .map_err(|e| SendError::Refused(format!("--files-from: {e}")))?;
    let mut f = cfg.root.open_file(&rel).map_err(|e| {
        SendError::Refused(format!(
            "failed to open files-from file {}: {}",
            String::from_utf8_lossy(path),
            crate::role::text::strerror(&e)
        ))
    })?;
    let mut data = Vec::new();
    Read::by_ref(&mut f).take(64 << 20).read_to_end(&mut data)?;
    let sep = |b: &u8| *b == 0 || *b == b'\n' || *b == b'\r';
    Ok(data
        .split(sep)
        .filter(|l| !l.is_empty() && !l.starts_with(b"#") && !l.starts_with(b";"))
        .take(MAX_FILES_FROM)
        .map(<[u8]>::to_vec)
        .collect())
}

/// Walks every source.
pub(super) fn walk_sources(
    cfg: &SenderConfig<'_>,
    names: &[Vec<u8>],
    filter: &mut dyn super::Exclude,
) -> Walk {
    let mut walker = Walker::new(cfg.root, cfg.walk, filter);
    if names.is_empty() && (cfg.walk.recursive || cfg.walk.dirs) {
        walker.add_source(b".");
    }
    for n in names {
        walker.add_source(n);
    }
    walker.finish()
}

/// Sorts, encodes and sends the list; reports the walk's problems.
pub(super) async fn send_list(
    link: &Link,
    p: u32,
    cfg: &SenderConfig<'_>,
    walk: Walk,
) -> Result<Listed, SendError> {
    let mut items = walk.items;
    items.sort_by(|a, b| f_name_cmp(&a.entry, &b.entry, p));
    items.dedup_by(|b, a| a.entry.name == b.entry.name && a.entry.is_dir() == b.entry.is_dir());
    mark_hard_links(&mut items, p);
    let mut io_error = walk.io_error;
    for note in walk.notes {
        match note {
            WalkNote::Error(what, e) => link.rsyserr(&what, &e),
            WalkNote::Info(line) => link.info(&line),
        }
    }
    if walk.overflow {
        link.error("file list too long for this server");
        io_error.insert(IoErrors::GENERAL);
    }
    if cfg.flist.checksum_len.is_some() {
        add_checksums(cfg, &mut items);
    }
    let acls = cfg.flist.meta.acls;
    let (send_uids, send_gids) = (
        cfg.flist.preserve_uid || acls,
        cfg.flist.preserve_gid || acls,
    );
    let names = (send_uids || send_gids) && !cfg.flist.numeric_ids;
    let none = IdNames::default();
    let ids = if names { IdNames::system() } else { &none };
    let mut enc = FlistEncoder::new(cfg.flist);
    let mut meta = super::meta_out::MetaOut::new(cfg.flist.meta, cfg.walk.fake_super);
    let mut out = Vec::with_capacity(64 * 1024);
    let mut total_size = 0u64;
    for it in &mut items {
        enc.encode(&it.entry, &mut out, &mut |u| ids.user(u), &mut |g| {
            ids.group(g)
        });
        if cfg.flist.meta.any() {
            let ids = (!cfg.flist.numeric_ids).then_some(ids);
            if let Err(e) = meta.encode(cfg.root, it, &mut enc, ids, &mut out) {
                let what = format!(
                    "get_xattr: failed on \"{}\"",
                    String::from_utf8_lossy(&it.entry.name)
                );
                link.rsyserr(&what, &e);
                io_error.insert(IoErrors::GENERAL);
            }
        }
        if it.entry.is_file() || it.entry.kind() == crate::flist::FileKind::Symlink {
            total_size += it.entry.size;
        }
        if out.len() >= 32 * 1024 {
            link.write(&out);
            out.clear();
            link.room().await;
        }
    }
    let report = if !io_error.is_empty() && !cfg.ignore_errors && cfg.flist.safe_flist {
        io_error.bits()
    } else {
        0
    };
    enc.end(&mut out, report);
    if names {
        let id0 = |s: Option<Vec<u8>>| s.unwrap_or_default();
        let caps_id0 = cfg.flist.varint_flags && cfg.flist.protocol >= 30 && id0_names(cfg);
        if send_uids {
            enc.uids
                .encode(&mut out, p, caps_id0.then(|| id0(ids.user(0))).as_deref());
        }
        if send_gids {
            enc.gids
                .encode(&mut out, p, caps_id0.then(|| id0(ids.group(0))).as_deref());
        }
    }
    if p < 30 {
        put_i32(
            &mut out,
            if cfg.ignore_errors {
                0
            } else {
                io_error.bits()
            },
        );
    }
    link.write(&out);
    if p >= 30 && !cfg.flist.safe_flist && !io_error.is_empty() && !cfg.ignore_errors {
        link.msg_int(MsgCode::IoError, io_error.bits());
    }
    link.flush();
    Ok(Listed {
        items,
        io_error,
        total_size,
        meta,
    })
}

/// Whether the names of id 0 travel (`CF_ID0_NAMES`).
fn id0_names(cfg: &SenderConfig<'_>) -> bool {
    cfg.id0_names
}

/// Links later members of each hard-link group to the first.
fn mark_hard_links(items: &mut [Item], protocol: u32) {
    if protocol < 30 {
        return;
    }
    let mut first: std::collections::HashMap<(u64, u64), u32> = std::collections::HashMap::new();
    for (i, it) in items.iter_mut().enumerate() {
        if let Some(key) = it.entry.hlink {
            match first.get(&key) {
                Some(&f) => it.entry.hlink_first = Some(f),
                None => {
                    first.insert(key, i as u32);
                }
            }
        }
    }
}

/// Whole-file checksums for `-c` (`file_checksum`: no seed).
fn add_checksums(cfg: &SenderConfig<'_>, items: &mut [Item]) {
    let kind = match cfg.file_kind {
        StrongKind::Md4Old => StrongKind::Md4,
        k => k,
    };
    let mut buf = vec![0u8; 256 * 1024];
    for it in items.iter_mut().filter(|i| i.entry.is_file()) {
        let Ok(mut f) = cfg.root.open_file(&it.path) else {
            continue;
        };
        let mut h = FileHasher::new(kind, 0);
        loop {
            match f.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => h.update(buf.get(..n).unwrap_or(&[])),
            }
        }
        it.entry.checksum = Some(h.finish().as_bytes().to_vec());
    }
}
