//! From source arguments to the file list on the wire: `--files-from`
//! names, the walk, sorting, hard-link groups, `-c` sums, the encoding,
//! the id lists and the error word (`send_file_list` in `flist.c`).

use std::io::Read;

use super::walk::{Item, Walk, WalkNote, Walker};
use super::{SendError, SenderConfig};
use crate::checksum::StrongKind;
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

/// A walker over the root with every source listed: the first list's
/// entries are taken from it; under incremental recursion it goes on to
/// list each directory's sub-list. Between directories it sends the
/// client keep-alives when it has been quiet for a while: a whole list
/// of a large tree takes longer than a client's `--timeout`.
pub(super) async fn walk_sources<'a>(
    link: &Link,
    cfg: &SenderConfig<'a>,
    names: &[Vec<u8>],
    filter: &'a mut dyn super::Exclude,
) -> Walker<'a> {
    let mut walker = Walker::new(cfg.root, cfg.walk, filter);
    let dot: &[Vec<u8>] = &[b".".to_vec()];
    let names = if names.is_empty() && (cfg.walk.recursive || cfg.walk.dirs) {
        dot
    } else {
        names
    };
    for n in names {
        walker.add_source(n);
        while walker.step() {
            link.keep_alive().await;
        }
    }
    walker
}

/// Encodes lists with the state that runs from one list to the next:
/// the previous entry, the ids already named, the first of each
/// hard-link group.
pub(super) struct ListWriter<'a> {
    root: &'a crate::fs::Root,
    opts: crate::flist::FlistOptions,
    fake_super: bool,
    file_kind: StrongKind,
    /// `--open-noatime`: the `-c` reads leave access times alone too.
    noatime: bool,
    pub(super) ignore_errors: bool,
    id0_names: bool,
    enc: FlistEncoder,
    /// The index of the first entry of each hard-link group.
    hlinks: std::collections::HashMap<(u64, u64), u32>,
}

impl<'a> ListWriter<'a> {
    pub(super) fn new(cfg: &SenderConfig<'a>) -> Self {
        Self {
            root: cfg.root,
            opts: cfg.flist,
            fake_super: cfg.walk.fake_super,
            file_kind: cfg.file_kind,
            noatime: cfg.noatime,
            ignore_errors: cfg.ignore_errors,
            id0_names: cfg.id0_names,
            enc: FlistEncoder::new(cfg.flist),
            hlinks: std::collections::HashMap::new(),
        }
    }

    /// The ACL and attribute tables for the session.
    pub(super) fn meta_out(&self) -> super::meta_out::MetaOut {
        super::meta_out::MetaOut::new(self.opts.meta, self.fake_super)
    }

    /// Whether the end of a list may carry the error bits (a safe file
    /// list, `CF_SAFE_FLIST` or protocol 31).
    pub(super) fn safe_flist(&self) -> bool {
        self.opts.safe_flist
    }

    /// Sorts a list that will start at index `start`, drops duplicate
    /// names, marks hard links and adds `-c` sums.
    pub(super) async fn prepare(&mut self, link: &Link, items: &mut Vec<Item>, start: i32) {
        let p = self.opts.protocol;
        crate::flist::sort_stable_by(items, |a, b| f_name_cmp(&a.entry, &b.entry, p));
        items.dedup_by(|b, a| a.entry.name == b.entry.name && a.entry.is_dir() == b.entry.is_dir());
        if p >= 30 {
            mark_hard_links(&mut self.hlinks, items, start);
        }
        self.enc.set_list_start(u32::try_from(start).unwrap_or(0));
        if self.opts.checksum_len.is_some() {
            add_checksums(link, self.root, (self.file_kind, self.noatime), items).await;
        }
    }

    /// Whether ids are named after the list (not inline, not numeric).
    fn id_lists(&self) -> (bool, bool) {
        let acls = self.opts.meta.acls;
        let names = !self.opts.numeric_ids && !self.opts.inc_recurse;
        (
            names && (self.opts.preserve_uid || acls),
            names && (self.opts.preserve_gid || acls),
        )
    }

    /// Encodes every entry, writing as it goes; returns the total size
    /// of the files and links, and what is left to write.
    pub(super) async fn encode(
        &mut self,
        link: &Link,
        items: &mut [Item],
        meta: &mut super::meta_out::MetaOut,
        io_error: &mut IoErrors,
    ) -> (u64, Vec<u8>) {
        let named = !self.opts.numeric_ids;
        let mut out = Vec::with_capacity(64 * 1024);
        let mut total_size = 0u64;
        for it in items.iter_mut() {
            let (user, group) = (
                &mut |u| named.then(|| IdNames::system().user(u)).flatten(),
                &mut |g| named.then(|| IdNames::system().group(g)).flatten(),
            );
            self.enc.encode(&it.entry, &mut out, user, group);
            if self.opts.meta.any() {
                let ids = named.then(IdNames::system);
                if let Err(e) = meta.encode(self.root, it, &mut self.enc, ids, &mut out) {
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
        (total_size, out)
    }

    /// Ends a list (`write_end_of_flist`), with the error bits when
    /// `report` is not 0.
    pub(super) fn end(&self, out: &mut Vec<u8>, report: i32) {
        self.enc.end(out, report);
    }
}

/// Sorts, encodes and sends the first (or only) list; reports the
/// walk's problems.
pub(super) async fn send_list(
    link: &Link,
    cfg: &SenderConfig<'_>,
    w: &mut ListWriter<'_>,
    walk: Walk,
    start: i32,
) -> Result<Listed, SendError> {
    let p = cfg.flist.protocol;
    let mut items = walk.items;
    let mut io_error = walk.io_error;
    report_notes(link, walk.notes);
    if walk.overflow {
        link.error("file list too long for this server");
        io_error.insert(IoErrors::GENERAL);
    }
    w.prepare(link, &mut items, start).await;
    let mut meta = w.meta_out();
    let (total_size, mut out) = w.encode(link, &mut items, &mut meta, &mut io_error).await;
    let report = if !io_error.is_empty() && !cfg.ignore_errors && cfg.flist.safe_flist {
        io_error.bits()
    } else {
        0
    };
    w.end(&mut out, report);
    let (send_uids, send_gids) = w.id_lists();
    if send_uids || send_gids {
        let ids = IdNames::system();
        let id0 = |s: Option<Vec<u8>>| s.unwrap_or_default();
        let caps_id0 = cfg.flist.varint_flags && p >= 30 && id0_names(w);
        if send_uids {
            w.enc
                .uids
                .encode(&mut out, p, caps_id0.then(|| id0(ids.user(0))).as_deref());
        }
        if send_gids {
            w.enc
                .gids
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

/// Tells the client what the walk met.
pub(super) fn report_notes(link: &Link, notes: Vec<WalkNote>) {
    for note in notes {
        match note {
            WalkNote::Error(what, e) => link.rsyserr(&what, &e),
            WalkNote::Info(line) => link.info(&line),
        }
    }
}

/// Whether the names of id 0 travel (`CF_ID0_NAMES`).
fn id0_names(w: &ListWriter<'_>) -> bool {
    w.id0_names
}

/// Links later members of each hard-link group to the first, by index:
/// `first` runs across lists, so a later list can name an earlier one's
/// entry (protocol 30 and later).
fn mark_hard_links(
    first: &mut std::collections::HashMap<(u64, u64), u32>,
    items: &mut [Item],
    start: i32,
) {
    let start = u32::try_from(start).unwrap_or(0);
    for (i, it) in items.iter_mut().enumerate() {
        if let Some(key) = it.entry.hlink {
            match first.get(&key) {
                Some(&f) => it.entry.hlink_first = Some(f),
                None => {
                    first.insert(key, start + i as u32);
                }
            }
        }
    }
}

/// Whole-file checksums for `-c` (`file_checksum`: no seed), of each
/// file's first `size` bytes as the walk saw them. A file that cannot be
/// read gets no sum, which the list sends as zeros. Reading a large tree
/// takes a while, so the client gets keep-alives between files.
async fn add_checksums(
    link: &Link,
    root: &crate::fs::Root,
    how: (StrongKind, bool),
    items: &mut [Item],
) {
    let (file_kind, noatime) = how;
    for it in items.iter_mut().filter(|i| i.entry.is_file()) {
        let sum = it
            .path()
            .map_err(std::io::Error::from)
            .and_then(|p| root.open_source(&p, noatime))
            .and_then(|(f, _)| crate::checksum::file_sum(file_kind, f, it.entry.size));
        it.entry.checksum = sum.ok().map(|s| s.as_bytes().to_vec());
        link.keep_alive().await;
    }
}
