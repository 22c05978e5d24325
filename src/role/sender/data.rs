//! One requested file's data (`send_files` from `receive_sums` on, in
//! `sender.c`; `match_sums` in `match.c`), protocols 27 to 32: the client's
//! block sums are read and checked before the file is opened, then the
//! file is searched a buffer at a time and its tokens and whole-file
//! checksum sent, or with `--append` only what follows the client's
//! length.

use std::io::{self, Read, Seek, SeekFrom};

use super::send::{write_attrs, Request};
use super::walk::Item;
use super::{SendError, SenderCtx};
use crate::checksum::{Digest, SumHead, SumHeadError};
use crate::delta::{BlockSum, Matcher, Search, Signature, Token};
use crate::flist::item::FNAMECMP_FNAME;
use crate::role::text::quoted;
use crate::wire::{Fail, MsgCode, Reader, Step, WireError};

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
pub(super) async fn send_one(
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
    let opened = item.path().map_err(io::Error::from);
    match opened.and_then(|p| ctx.root.open_source(&p, ctx.noatime)) {
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
