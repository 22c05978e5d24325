//! The sender's request loop (`send_files` in `sender.c`,
//! `read_ndx_and_attrs` in `rsync.c`) and the end of the run
//! (`handle_stats` and `read_final_goodbye` in `main.c`).
//!
//! For each request: the index is checked against the list, the item flags
//! and optional basis type and name are read, and for a transfer the block
//! sums are read and validated before a byte of the file is matched.

use std::io::{self, Read, Write};

use super::walk::Item;
use super::{SendError, SenderCtx};
use crate::checksum::SumHead;
use crate::delta::{Matcher, Signature, Token};
use crate::role::conn::quoted;
use crate::wire::{get_varint, put_u16, put_varint, put_varlong30, put_vstring};
use crate::wire::{MsgCode, WireError, NDX_DEL_STATS, NDX_DONE};

use crate::flist::item::{self, ItemFlags, ItemHeader};

/// `FNAMECMP_FNAME`: the basis is the destination file itself.
const FNAMECMP_FNAME: u8 = 0x80;

/// One decoded request.
struct Request {
    ndx: i32,
    iflags: ItemFlags,
    basis_type: Option<u8>,
    xname: Option<Vec<u8>>,
}

/// Runs the request loop until the client's last `NDX_DONE`.
pub(super) fn send_files<R: Read, W: Write>(
    ctx: &mut SenderCtx<'_, R, W>,
    items: &[Item],
) -> Result<(), SendError> {
    let max_phase = if ctx.conn.protocol >= 29 { 2 } else { 1 };
    let mut phase = 0;
    let start_io_error = ctx.io_error;
    loop {
        let Some(req) = read_request(ctx, items.len())? else {
            phase += 1;
            if phase > max_phase {
                break;
            }
            ctx.conn.write_ndx(NDX_DONE)?;
            ctx.conn.flush()?;
            continue;
        };
        let idx = req.ndx as usize;
        let Some(item) = items.get(idx) else {
            return Err(SendError::Protocol(format!(
                "invalid file index {} received",
                req.ndx
            )));
        };
        if !req.iflags.intersects(item::TRANSFER) {
            write_attrs(ctx, &req)?;
            if !ctx.dry_run {
                ctx.log.item(req.iflags, &item.entry, req.xname.as_deref());
            }
            continue;
        }
        if !item.entry.is_file() {
            return Err(SendError::Protocol(format!(
                "received request to transfer non-regular file: {}",
                req.ndx
            )));
        }
        if phase == 2 {
            return Err(SendError::Protocol(
                "got transfer request in phase 2".into(),
            ));
        }
        if ctx.dry_run {
            write_attrs(ctx, &req)?;
            continue;
        }
        send_one(ctx, &req, item)?;
    }
    if ctx.io_error != start_io_error && ctx.conn.protocol >= 30 {
        ctx.conn
            .w
            .send_msg_int(MsgCode::IoError, ctx.io_error.bits())?;
    }
    ctx.conn.write_ndx(NDX_DONE)?;
    ctx.conn.flush()?;
    Ok(())
}

/// Reads the next request; `None` is `NDX_DONE`.
fn read_request<R: Read, W: Write>(
    ctx: &mut SenderCtx<'_, R, W>,
    len: usize,
) -> Result<Option<Request>, SendError> {
    let p = ctx.conn.protocol;
    // Everything answered so far goes out before we wait for the client,
    // as rsync flushes before it blocks on input.
    ctx.conn.flush()?;
    loop {
        let ndx = ctx.conn.read_ndx()?;
        if ndx == NDX_DONE {
            return Ok(None);
        }
        if ndx == NDX_DEL_STATS {
            relay_del_stats(ctx)?;
            continue;
        }
        if ndx < 0 {
            return Err(SendError::Protocol(format!(
                "invalid file index {ndx} received"
            )));
        }
        // The flags come first: the keep-alive and the range check
        // below go before the basis type and name are read.
        let iflags = ItemHeader::read_flags(&mut ctx.conn.r, p)?;
        // Protocol-29 keep-alive: an index one past the end flagged IS_NEW.
        if p < 30 && ndx as usize == len && iflags == item::IS_NEW {
            continue;
        }
        if ndx as usize >= len {
            return Err(SendError::Protocol(format!(
                "invalid file index {ndx} received (list has {len})"
            )));
        }
        let h = ItemHeader::read_after(&mut ctx.conn.r, iflags)?;
        return Ok(Some(Request {
            ndx,
            iflags: h.iflags,
            basis_type: h.basis_type,
            xname: h.xname,
        }));
    }
}

/// Deletion statistics from the client's generator, echoed back as
/// `read_del_stats`/`write_del_stats` do for a server sender.
fn relay_del_stats<R: Read, W: Write>(ctx: &mut SenderCtx<'_, R, W>) -> Result<(), SendError> {
    let mut out = Vec::new();
    let mut vals = [0i32; 5];
    for v in &mut vals {
        *v = get_varint(&mut ctx.conn.r, "deletion statistics")?;
        if *v < 0 {
            return Err(SendError::Protocol("invalid deletion statistics".into()));
        }
    }
    ctx.conn.ndx_out.put(&mut out, NDX_DEL_STATS);
    for v in vals {
        put_varint(&mut out, v);
    }
    ctx.conn.w.write_all(&out)?;
    Ok(())
}

/// `write_ndx_and_attrs`: echoes the request header.
fn write_attrs<R: Read, W: Write>(ctx: &mut SenderCtx<'_, R, W>, req: &Request) -> io::Result<()> {
    ctx.conn.write_ndx(req.ndx)?;
    if ctx.conn.protocol < 29 {
        return Ok(());
    }
    let mut out = Vec::new();
    put_u16(&mut out, req.iflags.bits());
    if let Some(t) = req.basis_type {
        out.push(t);
    }
    if let Some(x) = &req.xname {
        // The client's own name came in a vstring: it fits in one.
        put_vstring(&mut out, x).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    }
    ctx.conn.w.write_all(&out)
}

/// A failed read of block sums: the client's own exit code when it sent
/// its exit message meanwhile (the client's error is the one to report),
/// else a protocol error.
fn sums_failed(e: &io::Error, what: &str) -> SendError {
    match WireError::from_io(e, "block sums") {
        WireError::PeerExit(code) => SendError::Wire(WireError::PeerExit(code)),
        _ => SendError::Protocol(format!("{what}: {e}")),
    }
}

/// Reads the sums for one file and sends its delta.
fn send_one<R: Read, W: Write>(
    ctx: &mut SenderCtx<'_, R, W>,
    req: &Request,
    item: &Item,
) -> Result<(), SendError> {
    let p = ctx.conn.protocol;
    let digest_len = ctx.xfer_kind.digest_len();
    let head = SumHead::read_from(&mut ctx.conn.r, p, digest_len).map_err(|e| match e {
        crate::checksum::SumHeadReadError::Io(io) => sums_failed(&io, "invalid block-sum header"),
        e => SendError::Protocol(format!("invalid block-sum header: {e}")),
    })?;
    let sig = Signature::read_blocks(head, &mut ctx.conn.r)
        .map_err(|e| sums_failed(&e, "reading block sums failed"))?;
    let mut file = match ctx.root.open_file(&item.path) {
        Ok(f) => f,
        Err(e) => {
            let name = quoted(&item.entry.name);
            if e.kind() == io::ErrorKind::NotFound {
                ctx.io_error.insert(crate::error::IoErrors::VANISHED);
                ctx.conn.warning(&format!("file has vanished: {name}"))?;
            } else {
                ctx.io_error.insert(crate::error::IoErrors::GENERAL);
                ctx.conn
                    .rsyserr(&format!("send_files failed to open {name}"), &e)?;
            }
            if p >= 30 {
                ctx.conn.w.send_msg_int(MsgCode::NoSend, req.ndx)?;
            }
            return Ok(());
        }
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(item.entry.size);
    write_attrs(ctx, req)?;
    let mut hb = Vec::with_capacity(16);
    head.encode(p, &mut hb);
    ctx.conn.w.write_all(&hb)?;
    let mut matcher = Matcher::new(&sig, ctx.xfer_kind, ctx.seed, ctx.proper_seed_order);
    // The client rewrites its basis in place (`updating_basis_file`):
    // only blocks at or after the current offset are still intact there.
    matcher.set_inplace(ctx.inplace && req.basis_type.is_none_or(|t| t == FNAMECMP_FNAME));
    let conn = &mut ctx.conn;
    let tokens = &mut ctx.tokens;
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut literal = 0u64;
    let mut sink = |t: Token<'_>| -> io::Result<()> {
        match t {
            Token::Literal(d) => {
                literal += d.len() as u64;
                tokens.literal(d, &mut buf)
            }
            Token::Block(i, data) => tokens.block(i, data, &mut buf),
        }
        .map_err(io::Error::other)?;
        if buf.len() >= 32 * 1024 {
            conn.w.write_all(&buf)?;
            buf.clear();
        }
        Ok(())
    };
    let result = matcher.run(&mut (&mut file).take(len), len, &mut sink);
    let sum = match result {
        Ok(d) => d,
        Err(e) => {
            // A read error mid-file: finish the stream with what we have and
            // a checksum that cannot match, so the receiver redoes the file.
            ctx.io_error.insert(crate::error::IoErrors::GENERAL);
            ctx.conn.rsyserr(
                &format!("read errors mapping {}", quoted(&item.entry.name)),
                &e,
            )?;
            crate::checksum::Digest::from_slice(&vec![0u8; digest_len.max(1)])
        }
    };
    ctx.tokens.end(&mut buf).map_err(io::Error::other)?;
    let mut d = sum.as_bytes().to_vec();
    d.resize(digest_len, 0);
    buf.extend_from_slice(&d);
    ctx.conn.w.write_all(&buf)?;
    ctx.stats.literal += literal;
    ctx.stats.files_sent += 1;
    ctx.log.item(req.iflags, &item.entry, None);
    Ok(())
}

/// Sends the statistics (`handle_stats` for a server sender).
pub(super) fn send_stats<R: Read, W: Write>(
    ctx: &mut SenderCtx<'_, R, W>,
    total_size: u64,
    build_ms: u64,
    xfer_ms: u64,
) -> io::Result<()> {
    let p = ctx.conn.protocol;
    let mut out = Vec::new();
    ctx.conn.w.flush()?;
    let read = ctx.conn.r.bytes_read() as i64;
    let written = ctx.conn.w.bytes_written() as i64;
    put_varlong30(&mut out, read, 3, p);
    put_varlong30(&mut out, written, 3, p);
    put_varlong30(&mut out, total_size as i64, 3, p);
    if p >= 29 {
        put_varlong30(&mut out, build_ms as i64, 3, p);
        put_varlong30(&mut out, xfer_ms as i64, 3, p);
    }
    ctx.conn.w.write_all(&out)?;
    let totals = crate::role::log_file::totals(written as u64, read as u64, total_size);
    ctx.log.line(&totals);
    ctx.conn.flush()
}

/// `read_final_goodbye` for a sender.
pub(super) fn final_goodbye<R: Read, W: Write>(
    ctx: &mut SenderCtx<'_, R, W>,
) -> Result<(), SendError> {
    let p = ctx.conn.protocol;
    let mut n = read_goodbye_ndx(ctx)?;
    if p >= 31 && n == NDX_DONE {
        ctx.conn.write_ndx(NDX_DONE)?;
        ctx.conn.flush()?;
        n = read_goodbye_ndx(ctx)?;
    }
    if n != NDX_DONE {
        return Err(SendError::Protocol(format!(
            "invalid packet at end of run ({n})"
        )));
    }
    Ok(())
}

fn read_goodbye_ndx<R: Read, W: Write>(ctx: &mut SenderCtx<'_, R, W>) -> Result<i32, SendError> {
    if ctx.conn.protocol < 29 {
        return Ok(crate::wire::get_i32(&mut ctx.conn.r, "the final goodbye")?);
    }
    loop {
        let n = ctx.conn.read_ndx()?;
        if n == NDX_DEL_STATS {
            relay_del_stats(ctx)?;
            continue;
        }
        return Ok(n);
    }
}
