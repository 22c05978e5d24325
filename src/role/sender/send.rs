//! The sender's request loop (`send_files` in `sender.c`,
//! `read_ndx_and_attrs` in `rsync.c`) and the end of the run
//! (`handle_stats` and `read_final_goodbye` in `main.c`), protocols 27 to
//! 32, over a [`Link`](crate::role::Link).
//!
//! For each request: the index is checked against the list, the item flags
//! and optional basis type and name are read, and for a transfer the block
//! sums are read and validated before a byte of the file is matched. The
//! file is then searched a buffer at a time; between buffers the sender
//! waits for room in its outbox, so a slow client holds it back instead
//! of letting its output grow.

use super::inc::{Incremental, LOOKAHEAD};
use super::lists::Lists;
use super::walk::Item;
use super::{SendError, SenderCtx};
use crate::flist::item::{self, ItemFlags, ItemHeader};
use crate::role::reads;
use crate::wire::{put_u16, put_varint, put_varlong30, put_vstring, Step};
use crate::wire::{MsgCode, NDX_DEL_STATS, NDX_DONE};

/// One decoded request.
pub(super) struct Request {
    pub(super) ndx: i32,
    pub(super) iflags: ItemFlags,
    pub(super) basis_type: Option<u8>,
    pub(super) xname: Option<Vec<u8>>,
}

/// Runs the request loop until the client's last `NDX_DONE`. Under
/// incremental recursion sub-lists go out between requests, and each
/// `NDX_DONE` before the last list's frees the oldest list.
pub(super) async fn send_files(
    ctx: &mut SenderCtx<'_>,
    lists: &mut Lists,
    mut inc: Option<&mut Incremental<'_>>,
) -> Result<(), SendError> {
    let max_phase = if ctx.protocol >= 29 { 2 } else { 1 };
    let mut phase = 0;
    let start_io_error = ctx.io_error;
    loop {
        if let Some(inc) = inc.as_deref_mut() {
            inc.fill(ctx, lists, LOOKAHEAD).await?;
        }
        let req = read_request(ctx, lists).await?;
        super::remove::confirmed(ctx, lists)?;
        let Some(req) = req else {
            if inc.is_some() && lists.free_first() && !lists.is_empty() {
                ctx.write_ndx(NDX_DONE);
                ctx.link.flush();
                continue;
            }
            phase += 1;
            if phase > max_phase {
                break;
            }
            ctx.write_ndx(NDX_DONE);
            ctx.link.flush();
            continue;
        };
        lists.touch(req.ndx);
        if let Some(inc) = inc.as_deref_mut() {
            inc.fill(ctx, lists, LOOKAHEAD).await?;
        }
        let Some(item) = lists.get(req.ndx) else {
            return Err(protocol(format!("invalid file index {} received", req.ndx)));
        };
        serve(ctx, &req, item, phase).await?;
    }
    if ctx.io_error != start_io_error && ctx.protocol >= 30 {
        ctx.link.msg_int(MsgCode::IoError, ctx.io_error.bits());
    }
    ctx.write_ndx(NDX_DONE);
    ctx.link.flush();
    Ok(())
}

/// Answers one request: the echo of its header, or the file's data.
async fn serve(
    ctx: &mut SenderCtx<'_>,
    req: &Request,
    item: &Item,
    phase: u32,
) -> Result<(), SendError> {
    if !req.iflags.intersects(item::TRANSFER) {
        write_attrs(ctx, req, item);
        if !ctx.dry_run {
            ctx.log.item(req.iflags, &item.entry, req.xname.as_deref());
        }
        return Ok(());
    }
    if !item.entry.is_file() {
        return Err(protocol(format!(
            "received request to transfer non-regular file: {}",
            req.ndx
        )));
    }
    if phase == 2 {
        return Err(protocol("got transfer request in phase 2".into()));
    }
    if ctx.dry_run {
        write_attrs(ctx, req, item);
        return Ok(());
    }
    // As rsync's sender (`FLAG_FILE_SENT`), `--append` holds for the
    // first request of a file; a redo is a whole inplace transfer. Under
    // incremental recursion a redo can come before the phase ends.
    let first = ctx.append == 0 || ctx.appended.insert(req.ndx);
    let append = if first { ctx.append } else { 0 };
    super::data::send_one(ctx, req, item, append).await
}

pub(super) fn protocol(msg: String) -> SendError {
    SendError::Protocol(msg)
}

/// Reads the next request; `None` is `NDX_DONE`. Everything answered so
/// far goes out before the link waits for the client.
async fn read_request(
    ctx: &mut SenderCtx<'_>,
    lists: &Lists,
) -> Result<Option<Request>, SendError> {
    let p = ctx.protocol;
    let len = lists.total();
    loop {
        let ndx = reads::ndx(ctx.link, &mut ctx.ndx_in).await?;
        if ndx == NDX_DONE {
            return Ok(None);
        }
        if ndx == NDX_DEL_STATS {
            relay_del_stats(ctx).await?;
            continue;
        }
        if ndx < 0 {
            return Err(protocol(format!("invalid file index {ndx} received")));
        }
        // The flags come first: the keep-alive and the range check
        // below go before the basis type and name are read.
        let iflags = ctx
            .link
            .read("the item flags", |r| ItemHeader::decode_flags(r, p))
            .await?;
        // Protocol-29 keep-alive: an index one past the end flagged
        // IS_NEW. The client's generator sends it while it works, and its
        // receiver hears from us only if we answer with one of ours (as
        // rsync's sender does, once half the `--timeout` has passed).
        if p < 30 && ndx as u64 == len && iflags == item::IS_NEW {
            ctx.link.keep_alive().await;
            continue;
        }
        if lists.get(ndx).is_none() {
            return Err(protocol(format!(
                "invalid file index {ndx} received (list has {len})"
            )));
        }
        let h = ctx
            .link
            .read("the item header", |r| ItemHeader::decode_after(r, iflags))
            .await?;
        if ctx.meta.carries_request(h.iflags) && !ctx.dry_run {
            read_xattr_request(ctx, lists, ndx).await?;
        }
        return Ok(Some(Request {
            ndx,
            iflags: h.iflags,
            basis_type: h.basis_type,
            xname: h.xname,
        }));
    }
}

/// The client's request for long attribute values of entry `i`
/// (`recv_xattr_request`): relative positions, ended by 0.
async fn read_xattr_request(
    ctx: &mut SenderCtx<'_>,
    lists: &Lists,
    ndx: i32,
) -> Result<(), SendError> {
    let Some(item) = lists.get(ndx) else {
        return Ok(());
    };
    let mut num = 0i32;
    loop {
        let rel = ctx
            .link
            .read("an xattr request", crate::meta::xattr::decode_request_step)
            .await?;
        let Some(rel) = rel else {
            return Ok(());
        };
        num = num
            .checked_add(rel)
            .ok_or_else(|| protocol("xattr rel_pos accumulation overflow [sender]".into()))?;
        ctx.meta.want(&item.entry, num).map_err(protocol)?;
    }
}

/// Deletion statistics from the client's generator, echoed back as
/// `read_del_stats`/`write_del_stats` do for a server sender.
async fn relay_del_stats(ctx: &mut SenderCtx<'_>) -> Result<(), SendError> {
    let vals = ctx
        .link
        .read("deletion statistics", |r| -> Step<[i32; 5]> {
            let mut v = [0i32; 5];
            for x in &mut v {
                *x = r.varint("deletion statistics")?;
            }
            Ok(v)
        })
        .await?;
    if vals.iter().any(|&v| v < 0) {
        return Err(protocol("invalid deletion statistics".into()));
    }
    ctx.write_ndx(NDX_DEL_STATS);
    let mut out = Vec::with_capacity(25);
    for v in vals {
        put_varint(&mut out, v);
    }
    ctx.link.write(&out);
    Ok(())
}

/// `write_ndx_and_attrs`: echoes the request header, with the long
/// attribute values the client asked for.
pub(super) fn write_attrs(ctx: &mut SenderCtx<'_>, req: &Request, item: &Item) {
    ctx.write_ndx(req.ndx);
    if ctx.protocol < 29 {
        return;
    }
    let mut out = ctx.take_scratch();
    put_u16(&mut out, req.iflags.bits());
    if let Some(t) = req.basis_type {
        out.push(t);
    }
    if let Some(x) = &req.xname {
        // The client's own name came in a vstring of at most `MAX_XNAME`
        // bytes, so it fits in one; were it not to, the name is left out
        // rather than cut.
        let before = out.len();
        if put_vstring(&mut out, x).is_err() {
            out.truncate(before);
        }
    }
    if ctx.meta.carries_request(req.iflags) && !ctx.dry_run {
        let mut errors = Vec::new();
        ctx.meta.answer(ctx.root, item, &mut out, &mut errors);
        for e in errors {
            ctx.link.error(&e);
            ctx.io_error.insert(crate::error::IoErrors::GENERAL);
        }
    }
    ctx.write_scratch(out);
}

/// Sends the statistics (`handle_stats` for a server sender).
pub(super) fn send_stats(ctx: &mut SenderCtx<'_>, total_size: u64, build_ms: u64, xfer_ms: u64) {
    let p = ctx.protocol;
    ctx.link.flush();
    let (read, written) = ctx.link.counted();
    let (read, written) = (read as i64, written as i64);
    let mut out = Vec::new();
    put_varlong30(&mut out, read, 3, p);
    put_varlong30(&mut out, written, 3, p);
    put_varlong30(&mut out, total_size as i64, 3, p);
    if p >= 29 {
        put_varlong30(&mut out, build_ms as i64, 3, p);
        put_varlong30(&mut out, xfer_ms as i64, 3, p);
    }
    ctx.link.write(&out);
    let totals = crate::role::log_file::totals(written as u64, read as u64, total_size);
    ctx.log.line(&totals);
    ctx.link.flush();
}

/// `read_final_goodbye` for a sender; confirmations that came with it
/// are acted on (`--remove-source-files`).
pub(super) async fn final_goodbye(ctx: &mut SenderCtx<'_>, lists: &Lists) -> Result<(), SendError> {
    let mut n = read_goodbye_ndx(ctx).await?;
    super::remove::confirmed(ctx, lists)?;
    if ctx.protocol >= 31 && n == NDX_DONE {
        ctx.write_ndx(NDX_DONE);
        ctx.link.flush();
        n = read_goodbye_ndx(ctx).await?;
        super::remove::confirmed(ctx, lists)?;
    }
    if n != NDX_DONE {
        return Err(protocol(format!("invalid packet at end of run ({n})")));
    }
    Ok(())
}

async fn read_goodbye_ndx(ctx: &mut SenderCtx<'_>) -> Result<i32, SendError> {
    if ctx.protocol < 29 {
        let n = ctx.link.read("the final goodbye", |r| r.i32()).await?;
        return Ok(n);
    }
    loop {
        let n = reads::ndx(ctx.link, &mut ctx.ndx_in).await?;
        if n == NDX_DEL_STATS {
            relay_del_stats(ctx).await?;
            continue;
        }
        return Ok(n);
    }
}
