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

use std::io::{self, Read, Seek, SeekFrom};

use super::inc::{Incremental, LOOKAHEAD};
use super::lists::Lists;
use super::walk::Item;
use super::{SendError, SenderCtx};
use crate::checksum::{Digest, SumHead, SumHeadError};
use crate::delta::{BlockSum, Matcher, Search, Signature, Token};
use crate::flist::item::{self, ItemFlags, ItemHeader, FNAMECMP_FNAME};
use crate::role::reads;
use crate::role::text::quoted;
use crate::wire::{put_u16, put_varint, put_varlong30, put_vstring, Fail, Reader, Step};
use crate::wire::{MsgCode, WireError, NDX_DEL_STATS, NDX_DONE};

/// One decoded request.
struct Request {
    ndx: i32,
    iflags: ItemFlags,
    basis_type: Option<u8>,
    xname: Option<Vec<u8>>,
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
    send_one(ctx, req, item, append).await
}

fn protocol(msg: String) -> SendError {
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
        // Protocol-29 keep-alive: an index one past the end flagged IS_NEW.
        if p < 30 && ndx as u64 == len && iflags == item::IS_NEW {
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
fn write_attrs(ctx: &mut SenderCtx<'_>, req: &Request, item: &Item) {
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

/// A failed read of block sums: the client's own exit code when it sent
/// its exit message meanwhile (the client's error is the one to report),
/// else a protocol error.
fn sums_failed(e: WireError, what: &str) -> SendError {
    match e {
        WireError::PeerExit(code) => SendError::Wire(WireError::PeerExit(code)),
        e => SendError::Protocol(format!("{what}: {e}")),
    }
}

/// Decodes as many of the `count` blocks as the bytes hold, after those
/// already in `blocks`: `true` once all are in. "Incomplete" only when
/// not one more block is there, so each call makes progress.
fn more_blocks(
    r: &mut Reader<'_>,
    blocks: &mut Vec<BlockSum>,
    count: usize,
    s2_len: usize,
) -> Step<bool> {
    while blocks.len() < count {
        match BlockSum::decode(r, s2_len) {
            Ok(b) => blocks.push(b),
            Err(Fail::Incomplete { needed }) if r.used() == 0 => {
                return Err(Fail::Incomplete { needed })
            }
            Err(Fail::Incomplete { .. }) => return Ok(false),
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// The block sums for one file; in append mode only the header, whose
/// blocks describe how much of the file the client already has.
async fn read_sums(ctx: &mut SenderCtx<'_>, append: bool) -> Result<Signature, SendError> {
    let (p, digest_len) = (ctx.protocol, ctx.xfer_kind.digest_len());
    let head = ctx
        .link
        .read("block sums", |r| SumHead::from_reader(r, p, digest_len))
        .await
        .map_err(|e| match e {
            // The header's own refusal, in `SumHeadError`'s words.
            WireError::OutOfRange(w) => SendError::Protocol(format!(
                "invalid block-sum header: {}",
                SumHeadError::Invalid(w)
            )),
            e => sums_failed(e, "invalid block-sum header"),
        })?;
    if append {
        return Ok(Signature::from_blocks(head, Vec::new()));
    }
    let (count, s2) = (head.count as usize, head.s2_len as usize);
    // Reserved as they arrive: a lying count cannot force an allocation.
    let mut blocks = Vec::with_capacity(count.min(1 << 16));
    while !ctx
        .link
        .read("block sums", |r| more_blocks(r, &mut blocks, count, s2))
        .await
        .map_err(|e| sums_failed(e, "reading block sums failed"))?
    {}
    Ok(Signature::from_blocks(head, blocks))
}

/// Reads the sums for one file and sends its delta; `append` is the
/// `--append` mode in force for this request (0 for none).
async fn send_one(
    ctx: &mut SenderCtx<'_>,
    req: &Request,
    item: &Item,
    append: u8,
) -> Result<(), SendError> {
    let sig = read_sums(ctx, append > 0).await?;
    let Some((mut file, len)) = open_source(ctx, req, item) else {
        return Ok(());
    };
    if append > 0 && len < item.entry.size {
        // The file shrank since it was listed: appending would be wrong.
        let name = quoted(&item.entry.name);
        ctx.link
            .warning(&format!("skipped diminished file: {name}"));
        if ctx.protocol >= 30 {
            ctx.link.msg_int(MsgCode::NoSend, req.ndx);
        }
        return Ok(());
    }
    write_attrs(ctx, req, item);
    let mut hb = ctx.take_scratch();
    sig.head.encode(ctx.protocol, &mut hb);
    ctx.write_scratch(hb);
    let digest_len = ctx.xfer_kind.digest_len();
    let streamed = if append > 0 {
        let empty = Signature::from_blocks(crate::checksum::SumHead::EMPTY, Vec::new());
        let matcher = Matcher::new(&empty, ctx.xfer_kind, ctx.seed, ctx.proper_seed_order);
        let skip = sig.head.basis_len().min(len);
        append_file(ctx, &matcher, &mut file, skip, len, append == 2).await?
    } else {
        let mut matcher = Matcher::new(&sig, ctx.xfer_kind, ctx.seed, ctx.proper_seed_order);
        // The client rewrites its basis in place (`updating_basis_file`):
        // only blocks at or after the current offset are still intact there.
        matcher.set_inplace(ctx.inplace && req.basis_type.is_none_or(|t| t == FNAMECMP_FNAME));
        let search = matcher.search_reusing(len, &mut ctx.spare);
        stream_file(ctx, search, &mut file).await?
    };
    let sum = match streamed {
        Ok(d) => d,
        Err(e) => {
            // A read error mid-file: finish the stream with what we have and
            // a checksum that cannot match, so the receiver redoes the file.
            ctx.io_error.insert(crate::error::IoErrors::GENERAL);
            ctx.link.rsyserr(
                &format!("read errors mapping {}", quoted(&item.entry.name)),
                &e,
            );
            Digest::from_slice(&vec![0u8; digest_len.max(1)])
        }
    };
    let mut buf = ctx.take_scratch();
    ctx.tokens.end(&mut buf).map_err(token_failed)?;
    // The sum in `digest_len` bytes: cut, or padded with zeros.
    let d = sum.as_bytes();
    buf.extend_from_slice(d.get(..digest_len).unwrap_or(d));
    buf.resize(buf.len() + digest_len.saturating_sub(d.len()), 0);
    ctx.write_scratch(buf);
    ctx.stats.files_sent += 1;
    ctx.log.item(req.iflags, &item.entry, None);
    Ok(())
}

/// Opens the file to send; on failure tells the client (`MSG_NO_SEND`
/// from protocol 30) and returns `None`.
fn open_source(
    ctx: &mut SenderCtx<'_>,
    req: &Request,
    item: &Item,
) -> Option<(std::fs::File, u64)> {
    match ctx.root.open_source(&item.path, ctx.noatime) {
        Ok(f) => Some(f),
        Err(e) => {
            let name = quoted(&item.entry.name);
            if e.kind() == io::ErrorKind::NotFound {
                ctx.io_error.insert(crate::error::IoErrors::VANISHED);
                ctx.link.warning(&format!("file has vanished: {name}"));
            } else {
                ctx.io_error.insert(crate::error::IoErrors::GENERAL);
                ctx.link
                    .rsyserr(&format!("send_files failed to open {name}"), &e);
            }
            if ctx.protocol >= 30 {
                ctx.link.msg_int(MsgCode::NoSend, req.ndx);
            }
            None
        }
    }
}

/// `--append` (`match_sums` in append mode): the first `skip` bytes, which
/// the client has, are not sent; with `verify` they still go into the
/// whole-file checksum, so that the client checks the whole file. The rest
/// is literal data.
async fn append_file(
    ctx: &mut SenderCtx<'_>,
    matcher: &Matcher<'_>,
    file: &mut std::fs::File,
    skip: u64,
    len: u64,
    verify: bool,
) -> Result<io::Result<Digest>, SendError> {
    let mut search = matcher.search_reusing(len - skip, &mut ctx.spare);
    if verify {
        if let Err(e) = hash_prefix(&mut search, file, skip) {
            return Ok(Err(e));
        }
    } else if let Err(e) = file.seek(SeekFrom::Start(skip)) {
        return Ok(Err(e));
    }
    stream_file(ctx, search, file).await
}

/// Feeds the first `skip` bytes of `file` to the whole-file checksum only.
fn hash_prefix(search: &mut Search<'_>, file: &mut std::fs::File, skip: u64) -> io::Result<()> {
    let mut buf = crate::iobuf::IoBuf::zeroed(256 * 1024);
    let mut left = skip;
    while left > 0 {
        let want = left.min(buf.len() as u64) as usize;
        let chunk = buf.get_mut(..want).unwrap_or_default();
        match file.read(chunk) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                search.hash_only(chunk.get(..n).unwrap_or_default());
                left -= n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn token_failed(e: crate::token::TokenError) -> SendError {
    SendError::Io(io::Error::other(e))
}

/// Bytes of a file searched between two hand-overs of the tokens found.
const HAND_OVER_EVERY: usize = 1 << 20;

/// Searches the rest of `file` (as long as `search` expects) and sends their tokens, a buffer at a
/// time, waiting for room in the outbox between buffers. The outer error
/// ends the session; the inner one is the file's read error, which only
/// spoils this file.
async fn stream_file(
    ctx: &mut SenderCtx<'_>,
    mut search: Search<'_>,
    file: &mut std::fs::File,
) -> Result<io::Result<Digest>, SendError> {
    let mut scratch = ctx.take_scratch();
    let mut literal = 0u64;
    let mut failed = None;
    let mut searched = 0usize;
    let link = ctx.link;
    while !search.is_complete() {
        let n = match file.read(search.space()) {
            Ok(0) => {
                failed = Some(io::Error::from(io::ErrorKind::UnexpectedEof));
                break;
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                failed = Some(e);
                break;
            }
        };
        let tokens = &mut ctx.tokens;
        let mut put = |b: &[u8]| link.write(b);
        let mut sink = |t: Token<'_>| -> io::Result<()> {
            match t {
                Token::Literal(d) => {
                    literal += d.len() as u64;
                    tokens.literal_to(d, &mut scratch, &mut put)
                }
                Token::Block(i, data) => {
                    scratch.clear();
                    let r = tokens.block(i, data, &mut scratch);
                    put(&scratch);
                    r
                }
            }
            .map_err(io::Error::other)
        };
        search.commit(n, &mut sink).map_err(SendError::Io)?;
        searched += n;
        if !link.has_room() {
            link.room().await;
            searched = 0;
        } else if searched >= HAND_OVER_EVERY {
            // Few tokens for much data (a delta): they leave now, so the
            // client rebuilds the file while we search the rest.
            link.hand_over().await;
            searched = 0;
        }
    }
    ctx.stats.literal += literal;
    ctx.scratch = scratch;
    Ok(match failed {
        Some(e) => Err(e),
        None => search.finish_into(&mut ctx.spare),
    })
}

/// Sends the statistics (`handle_stats` for a server sender).
pub(super) fn send_stats(ctx: &mut SenderCtx<'_>, total_size: u64, build_ms: u64, xfer_ms: u64) {
    let p = ctx.protocol;
    ctx.link.flush();
    let read = ctx.link.bytes_in() as i64;
    let written = ctx.link.bytes_out() as i64;
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
