//! Incremental recursion as the sender (`send_extra_file_list` and
//! `send1extra` in rsync's `flist.c`), protocol 30 and later with
//! `CF_INC_RECURSE`.
//!
//! The first list holds the sources, their directories listed but not
//! entered. Each directory then gets a sub-list of its own, possibly
//! empty: the index `NDX_FLIST_OFFSET - n` (`n` numbers the directories
//! in the order the client received them), the entries, and the end of
//! list. Sub-lists go depth first: a directory's first child, else its
//! next sibling, else back up. After the last one comes `NDX_FLIST_EOF`.
//! The sender keeps at least [`LOOKAHEAD`] entries listed ahead of the
//! client's current list, so memory holds a window of the tree, not all
//! of it.

use super::flist_out::{report_notes, ListWriter};
use super::lists::Lists;
use super::walk::{Item, Walker};
use super::{SendError, SenderCtx};
use crate::error::IoErrors;
use crate::wire::{MsgCode, NDX_FLIST_EOF, NDX_FLIST_OFFSET};

/// Entries kept listed ahead of the client's current list (rsync's
/// `MIN_FILECNT_LOOKAHEAD`). Stock lists up to 10,000 ahead while idle
/// (`MAX_FILECNT_LOOKAHEAD`); our entries are larger than its packed
/// ones, and the client still has a thousand or more queued whenever it
/// asks, so we do not: a 1,000,000-file pull then peaks below stock's
/// memory (7.0 against 7.4 MiB; with 2,000 while idle, 7.7).
pub(super) const LOOKAHEAD: u64 = 1000;

/// The walk still to be sent, as sub-lists.
pub(super) struct Incremental<'a> {
    walker: Walker<'a>,
    writer: ListWriter<'a>,
    /// Directory numbers whose sub-lists are due, the next one last.
    due: Vec<u32>,
    /// `NDX_FLIST_EOF` was sent.
    eof: bool,
    /// Total size of the files and links in the sub-lists.
    pub(super) total_size: u64,
    /// `--delete-during` (or `-delay`) on the client: a sub-list that
    /// cannot carry its error bits must not be sent.
    deleting: bool,
}

impl<'a> Incremental<'a> {
    pub(super) fn new(walker: Walker<'a>, writer: ListWriter<'a>, deleting: bool) -> Self {
        Self {
            walker,
            writer,
            due: Vec::new(),
            eof: false,
            total_size: 0,
            deleting,
        }
    }

    /// Numbers the directories of a list just sent (it starts at
    /// `start`), in list order, and queues their sub-lists. `.` is
    /// numbered but has none: its contents were in the same list.
    pub(super) fn add_dirs(&mut self, lists: &mut Lists, items: &[Item]) {
        let mut kids = Vec::new();
        for it in items.iter().filter(|i| i.entry.is_dir()) {
            let n = lists.add_dir(it.clone());
            if it.entry.name == b"." {
                continue;
            }
            kids.push(n);
        }
        self.due.extend(kids.into_iter().rev());
    }

    /// After the first list: the end at once when no directory needs a
    /// sub-list, or one sub-list when the list holds a single entry
    /// (the client reads it before it starts, `recv_additional_file_list`).
    pub(super) async fn after_first(
        &mut self,
        ctx: &mut SenderCtx<'_>,
        lists: &mut Lists,
        first_len: usize,
    ) -> Result<(), SendError> {
        if self.due.is_empty() || first_len == 1 {
            self.send_one(ctx, lists).await?;
        }
        Ok(())
    }

    /// Sends sub-lists until `at_least` entries are listed after the
    /// client's current list, or none are left.
    pub(super) async fn fill(
        &mut self,
        ctx: &mut SenderCtx<'_>,
        lists: &mut Lists,
        at_least: u64,
    ) -> Result<(), SendError> {
        while !self.eof && lists.lookahead() < at_least {
            self.send_one(ctx, lists).await?;
        }
        Ok(())
    }

    /// Sends the next sub-list, or `NDX_FLIST_EOF` when none is due.
    async fn send_one(
        &mut self,
        ctx: &mut SenderCtx<'_>,
        lists: &mut Lists,
    ) -> Result<(), SendError> {
        if self.eof {
            return Ok(());
        }
        let Some(n) = self.due.pop() else {
            ctx.write_ndx(NDX_FLIST_EOF);
            self.eof = true;
            return Ok(());
        };
        let Some(dir) = lists.dir(n) else {
            return Err(SendError::Protocol(format!("directory {n} is gone")));
        };
        ctx.write_ndx(NDX_FLIST_OFFSET - i32::try_from(n).unwrap_or(i32::MAX));
        let content = dir.entry.flags.content_dir;
        self.walker
            .scan_sub_list(&dir.base, &dir.entry.name, content);
        while self.walker.step() {
            ctx.link.keep_alive().await;
        }
        let walk = self.walker.take();
        let before = ctx.io_error;
        ctx.io_error.insert(walk.io_error);
        report_notes(ctx.link, walk.notes);
        if walk.overflow {
            ctx.link.error("file list too long for this server");
            ctx.io_error.insert(IoErrors::GENERAL);
        }
        let mut items = walk.items;
        self.writer
            .prepare(ctx.link, &mut items, lists.next_start())
            .await;
        let (size, mut out) = self
            .writer
            .encode(ctx.link, &mut items, &mut ctx.meta, &mut ctx.io_error)
            .await;
        self.total_size += size;
        let changed = ctx.io_error != before && !self.writer.ignore_errors;
        let report = if changed && self.writer.safe_flist() {
            ctx.io_error.bits()
        } else {
            0
        };
        if changed && !self.writer.safe_flist() && self.deleting {
            // An older receiver would delete on a list it cannot know is
            // incomplete (`fatal_unsafe_io_error`).
            return Err(SendError::Refused(
                "FATAL I/O ERROR: dying to avoid a --delete-during issue with a pre-3.0.7 receiver."
                    .into(),
            ));
        }
        self.writer.end(&mut out, report);
        ctx.link.write(&out);
        if changed && ctx.protocol == 30 && report == 0 {
            ctx.link.msg_int(MsgCode::IoError, ctx.io_error.bits());
        }
        self.add_dirs(lists, &items);
        lists.add(items, Some(n));
        Ok(())
    }
}
