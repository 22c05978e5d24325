//! The generator's own lines to the client (rsync's `rprintf(FINFO…)`
//! and `FCLIENT` calls in `generator.c`, `rsync.c` and `hlink.c`), which
//! a pushing client prints: from `-vv` on, what was up to date or passed
//! over and why; below protocol 29, where no item record exists, the
//! names of what the server made (`-v`). Protocols 27 to 32.

use super::{show, Gen};
use crate::flist::item::ItemFlags;
use crate::flist::{FileEntry, FileKind};
use crate::fs::RelPath;
use crate::role::receiver::attrs::item;
use crate::role::receiver::out::Outbox;
use crate::role::receiver::ReceiverConfig;
use crate::role::receiver::RecvError;
use crate::wire::{put_u16, MsgCode};

/// `-vv`: how the files will travel, as rsync's generator says when it
/// starts (`DEBUG_GTE(FLIST, 1)`).
pub(super) fn starting(cfg: &ReceiverConfig<'_>, out: &Outbox<'_>) {
    if cfg.opts.verbose >= 2 {
        let whole = cfg.opts.whole_file && cfg.opts.append == 0;
        let how = if whole {
            "disabled for local transfer or --whole-file"
        } else {
            "enabled"
        };
        out.msg(
            MsgCode::Info,
            format!("delta-transmission {how}\n").as_bytes(),
        );
    }
}

impl Gen<'_, '_> {
    /// `--existing` passes over a new entry, with rsync's `-vv` line
    /// (none for what a directory not made would have held, nor twice
    /// for a directory under incremental recursion).
    pub(super) fn not_created(&self, e: &FileEntry, path: &RelPath, ndx: usize) {
        let early = e.is_dir() && self.list.is_inc() && !self.list.is_slot(ndx);
        if self.cfg.opts.verbose < 2 || early {
            return;
        }
        let parent_there = path
            .parent()
            .is_none_or(|p| self.cfg.root.lstat(&p).is_ok_and(|m| m.is_dir()));
        if parent_there {
            let what = if e.is_dir() { "directory" } else { "file" };
            let line = format!("not creating new {what} \"{}\"\n", show(&e.name));
            self.out.msg(MsgCode::Info, line.as_bytes());
        }
    }

    /// Below protocol 29 no item goes to the client: with `-v` the server
    /// names a directory it made or changed (`NAME/`) and a symlink it
    /// made (`NAME -> TARGET`) itself, as rsync's generator does with
    /// `code` set to `FINFO`. Regular files are named by the client.
    pub(super) fn old_name_line(&self, ndx: usize, iflags: ItemFlags) {
        let Some(e) = self.list.entries.get(ndx) else {
            return;
        };
        if self.cfg.opts.verbose == 0 {
            return;
        }
        let line = match e.kind() {
            FileKind::Dir if self.dir_attrs_set(iflags) => format!("{}/\n", show(&e.name)),
            FileKind::Symlink if iflags.contains(item::LOCAL_CHANGE) => {
                let target = e.link_target.as_deref().unwrap_or(&[]);
                format!("{} -> {}\n", show(&e.name), show(target))
            }
            _ => return,
        };
        self.out.msg(MsgCode::Info, line.as_bytes());
    }

    /// An entry of a kind not made is named, as rsync's generator names
    /// it from verbosity 0 on (`INFO_GTE(NONREG, 1)`), unless `-q`.
    pub(super) fn nonreg(&self, e: &FileEntry) {
        if !self.cfg.opts.quiet {
            let line = format!("skipping non-regular file \"{}\"\n", show(&e.name));
            self.out.msg(MsgCode::Info, line.as_bytes());
        }
    }

    /// A line rsync's generator gives from `-vv` on (`INFO_GTE(SKIP, 1)`):
    /// the entry's name and `what`.
    pub(super) fn info2(&self, e: &FileEntry, what: &str) {
        if self.cfg.opts.verbose >= 2 {
            let line = format!("{}{what}\n", show(&e.name));
            self.out.msg(MsgCode::Info, line.as_bytes());
        }
    }

    /// `-vv` without `-i`: an entry found up to date is named, with "is
    /// uptodate" unless its attributes were brought up to date
    /// (`set_file_attrs` with `ATTRS_REPORT`).
    pub(super) fn uptodate(&self, e: &FileEntry, updated: bool) {
        // Below protocol 29 the server's own lines stand in for items.
        if !self.cfg.opts.itemize || self.protocol < 29 {
            self.info2(e, if updated { "" } else { " is uptodate" });
        }
    }

    /// Whether rsync's `set_file_attrs` would have changed something on
    /// a directory with these item flags: a new one only gets its time
    /// (unless `-O`, which `--backup` implies) or what the flags report.
    fn dir_attrs_set(&self, iflags: ItemFlags) -> bool {
        let o = &self.cfg.opts;
        let reported =
            iflags.intersects(item::SIGNIFICANT.without(item::IS_NEW | item::LOCAL_CHANGE));
        reported || (iflags.contains(item::IS_NEW) && o.times && !o.omit_dir_times)
    }

    /// A file found in a `--link-dest` or `--compare-dest` directory at
    /// match level 3: an item only for `-vv -i` or `-ii` (a link's with an
    /// empty link name), and `-vv`'s "is uptodate".
    pub(super) fn alt_done(
        &self,
        ndx: usize,
        e: &FileEntry,
        kind: crate::cli::AltDest,
    ) -> Result<(), RecvError> {
        if kind != crate::cli::AltDest::Link {
            self.uptodate(e, false);
            return self.itemize(ndx, ItemFlags::EMPTY);
        }
        self.alt_matched(ndx, e, item::LOCAL_CHANGE, Some(b""))
    }

    /// A directory, symlink or linked file matched in an alternate
    /// directory (`try_dests_non`, and `try_dests_reg` for a link): an
    /// item `chg` (with `xname`, a link's empty name) only for `-i` with
    /// `-vv` or `-ii`, and `-vv`'s "is uptodate".
    pub(super) fn alt_matched(
        &self,
        ndx: usize,
        e: &FileEntry,
        chg: ItemFlags,
        xname: Option<&[u8]>,
    ) -> Result<(), RecvError> {
        let o = &self.cfg.opts;
        if self.protocol >= 29 && o.itemize && o.itemize_all {
            let mut b = Vec::new();
            let flags = if xname.is_some() {
                chg | item::XNAME_FOLLOWS
            } else {
                chg
            };
            put_u16(&mut b, flags.bits());
            if let Some(x) = xname {
                crate::wire::put_vstring(&mut b, x).map_err(crate::wire::WireError::from)?;
            }
            self.out.put_ndx(ndx as i32);
            self.out.write(&b);
        }
        if !o.itemize || self.protocol < 29 {
            let slash = if e.is_dir() { "/" } else { "" };
            self.info2(e, &format!("{slash} is uptodate"));
        }
        Ok(())
    }

    /// A file copied from an alternate directory (`try_a_copy`): itemized
    /// as a local change, with `-vv`'s "is uptodate" for an exact match,
    /// and below protocol 29 named with `-v` when only its contents
    /// matched.
    pub(super) fn alt_copied(
        &self,
        ndx: usize,
        e: &FileEntry,
        diff: ItemFlags,
    ) -> Result<(), RecvError> {
        let report = !self.cfg.opts.itemize || self.protocol < 29;
        if report && diff.is_empty() {
            self.info2(e, " is uptodate");
        } else if report && self.protocol < 29 && self.cfg.opts.verbose > 0 {
            let line = format!("{}\n", show(&e.name));
            self.out.msg(MsgCode::Info, line.as_bytes());
        }
        self.itemize(ndx, item::LOCAL_CHANGE | diff)
    }
}
