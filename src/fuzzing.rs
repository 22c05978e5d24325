//! Entry points for the fuzz targets in `fuzz/` and for the stable
//! "fuzz smoke" property tests in `protocol-tests/adversarial/`.
//!
//! Not an API: like rustls' internal `fuzzing` module, each function takes
//! arbitrary bytes, drives one decoder that reads peer-controlled input
//! (the same decoders a session uses on the client's bytes), and returns
//! normally whatever the input is. A panic, an abort on allocation, or a
//! hang here is a bug in the decoder. Inputs whose first bytes select
//! options (protocol 27..=32, compat flags, checksum length) let one target
//! cover every wire variant. Mirrors no rsync function; see the decoders.

use crate::checksum::{checksum1, StrongKind, SumHead};
use crate::delta::{BlockSum, Matcher, Signature, Token};
use crate::flist::{FlistDecoder, FlistLimits, FlistOptions, IdListsDecoder};
use crate::proto::{Compression, HandshakeRequest};
use crate::token::{TokenDecoder, TokenEvent};
use crate::wire::{complete, Decoded, Deframer, NdxDecoder, Reader};

/// Most decoding steps per input, so a target never loops for long.
const MAX_STEPS: usize = 1 << 16;
/// Most decompressed bytes a token target accepts before it stops.
const MAX_OUTPUT: u64 = 64 << 20;

/// Splits off a selector byte; empty input selects 0.
fn split(data: &[u8]) -> (u8, &[u8]) {
    match data.split_first() {
        Some((b, rest)) => (*b, rest),
        None => (0, data),
    }
}

/// Protocol 27..=32 from a selector byte.
fn protocol_of(sel: u8) -> u32 {
    27 + u32::from(sel % 6)
}

/// Integers: varint, varlong (each minimum width), varlong30, longint,
/// int32, vstring, one after another until the input ends, straight over
/// the bytes. A value cut by the end of the input must say "incomplete".
pub fn varint(data: &[u8]) {
    let (sel, rest) = split(data);
    let mut r = Reader::new(rest);
    for step in 0..MAX_STEPS {
        let res = match (usize::from(sel) + step) % 6 {
            0 => r.varint("x").map(|_| ()),
            1 => r.varlong((step % 9) as u8, "x").map(|_| ()),
            2 => r.varlong30(3, protocol_of(sel), "x").map(|_| ()),
            3 => r.longint().map(|_| ()),
            4 => r.i32().map(|_| ()),
            _ => r.vstring(1024, "x").map(|_| ()),
        };
        if res.is_err() || r.remaining() == 0 {
            return;
        }
    }
}

/// The deframer: data frames, messages, unknown codes, huge lengths, in
/// pieces of the sizes the first byte selects.
pub fn mux(data: &[u8]) {
    let (sel, rest) = split(data);
    let step = usize::from(sel % 16) + 1;
    let mut d = Deframer::new();
    d.set_multiplexed(true);
    let mut held = Vec::new();
    for chunk in rest.chunks(step).take(MAX_STEPS) {
        held.extend_from_slice(chunk);
        let mut used = 0;
        loop {
            match d.next(held.get(used..).unwrap_or_default()) {
                Ok(Decoded::Complete { consumed, .. }) if consumed > 0 => used += consumed,
                Ok(_) => break,
                Err(_) => return,
            }
        }
        held.drain(..used);
    }
}

/// File indexes for the protocol the first byte selects, straight over
/// the bytes.
pub fn ndx(data: &[u8]) {
    let (sel, rest) = split(data);
    let mut d = NdxDecoder::new(protocol_of(sel));
    let mut r = Reader::new(rest);
    for _ in 0..MAX_STEPS {
        if d.decode(&mut r).is_err() {
            return;
        }
    }
}

/// The options a file-list input selects: two bytes of switches.
fn flist_options(a: u8, b: u8) -> FlistOptions {
    let protocol = protocol_of(a);
    FlistOptions {
        protocol,
        varint_flags: protocol >= 30 && a & 0x08 != 0,
        preserve_uid: a & 0x10 != 0,
        preserve_gid: a & 0x20 != 0,
        preserve_links: a & 0x40 != 0,
        preserve_devices: a & 0x80 != 0,
        preserve_specials: b & 0x01 != 0,
        preserve_hard_links: b & 0x02 != 0,
        checksum_len: (b & 0x04 != 0).then_some(16),
        numeric_ids: b & 0x08 != 0,
        inc_recurse: false,
        safe_flist: b & 0x10 != 0,
        preserve_atimes: b & 0x80 != 0,
        meta: crate::meta::MetaOpts {
            acls: protocol >= 30 && b & 0x20 != 0,
            xattrs: u8::from(protocol >= 30 && b & 0x40 != 0),
            optim: false,
            fake_super: false,
        },
    }
}

/// Most input bytes decoded a byte at a time as well (each byte re-runs
/// the decoder over the entry it is in).
const MAX_BYTEWISE: usize = 16 << 10;

/// A whole received file list (`recv_file_list`) and the id lists after
/// it, straight over the bytes. With the `0x40` switch, the same bytes
/// arrive one at a time as well, and must decode to the same entries and
/// end (or fail) at the same place.
#[allow(clippy::panic)] // the assertion is the point of a fuzz target
pub fn flist(data: &[u8]) {
    let (a, rest) = split(data);
    let (b, rest) = split(rest);
    let opts = flist_options(a, b);
    let limits = FlistLimits {
        max_entries: 100_000,
        max_path: 4096,
        ..FlistLimits::default()
    };
    // Every step that returns a value used at least one byte, so each
    // loop ends with the input.
    let mut r = Reader::new(rest);
    let mut dec = FlistDecoder::new(opts, limits);
    let whole = loop {
        match dec.decode_entry(&mut r) {
            Ok(Some(_)) => {}
            Ok(None) => break Some(r.used()),
            Err(_) => break None,
        }
    };
    if whole.is_some() {
        let mut ids = IdListsDecoder::new(&opts, b & 0x20 != 0);
        while let Ok(None) = ids.decode(&mut r) {}
    }
    if b & 0x40 != 0 && rest.len() <= MAX_BYTEWISE {
        let (entries, _) = dec.finish();
        let mut dec = FlistDecoder::new(opts, limits);
        let bytewise = bytewise_entries(&mut dec, rest);
        let (again, _) = dec.finish();
        if bytewise != whole || again != entries {
            panic!("the file list decodes differently a byte at a time");
        }
    }
}

/// Feeds `bytes` to `dec` one at a time, re-running it after every
/// "incomplete"; the bytes the list used when its end marker arrived.
fn bytewise_entries(dec: &mut FlistDecoder, bytes: &[u8]) -> Option<usize> {
    let mut start = 0;
    for end in 0..=bytes.len() {
        loop {
            let buf = bytes.get(start..end).unwrap_or_default();
            match complete(buf, |r| dec.decode_entry(r)) {
                Ok(Decoded::Complete {
                    value: Some(_),
                    consumed,
                }) => start += consumed,
                Ok(Decoded::Complete {
                    value: None,
                    consumed,
                }) => return Some(start + consumed),
                Ok(Decoded::Incomplete { .. }) => break,
                Err(_) => return None,
            }
        }
    }
    None
}

/// The strong checksum the first byte selects.
fn kind_of(sel: u8) -> StrongKind {
    let names = ["md4", "md5", "xxh64", "xxh3", "xxh128", "none"];
    let name = names
        .get(usize::from(sel) % names.len())
        .copied()
        .unwrap_or("md5");
    StrongKind::from_name(name, 31).unwrap_or(StrongKind::Md5)
}

/// A sum header and its block sums, as the sender reads them from a
/// pulling client, then a match run of a small file against those sums.
pub fn sum_head(data: &[u8]) {
    let (sel, rest) = split(data);
    let protocol = protocol_of(sel);
    let kind = kind_of(sel >> 3);
    let mut r = Reader::new(rest);
    let Ok(head) = SumHead::from_reader(&mut r, protocol, kind.digest_len()) else {
        return;
    };
    let mut blocks = Vec::new();
    for _ in 0..head.count {
        match BlockSum::decode(&mut r, head.s2_len as usize) {
            Ok(b) => blocks.push(b),
            Err(_) => return,
        }
    }
    let sig = Signature::from_blocks(head, blocks);
    // The file is built from the input so blocks can match it.
    let mut file = r.rest().to_vec();
    file.extend_from_slice(&[0u8; 1024]);
    let m = Matcher::new(&sig, kind, 7, sel & 1 != 0);
    let mut sink = |_t: Token<'_>| Ok(());
    let mut search = m.search(file.len() as u64);
    let mut rest = &file[..];
    while let Ok(n) = search.feed(rest, &mut sink) {
        if n == 0 {
            break;
        }
        rest = rest.get(n..).unwrap_or_default();
    }
    let _ = search.finish();
    let _ = checksum1(&file);
}

/// A token stream for `c`, decoded straight from the bytes; the first
/// byte is the block count (0..=127) and the protocol.
#[allow(clippy::panic)] // the assertion is the point of a fuzz target
fn tokens(c: Compression, data: &[u8]) {
    let (sel, rest) = split(data);
    let Ok(mut d) = TokenDecoder::new(c) else {
        return;
    };
    d.set_protocol(if sel & 0x80 != 0 { 30 } else { 31 });
    let count = u32::from(sel & 0x7F);
    let mut r = Reader::new(rest);
    let mut out = 0u64;
    let basis = [0x5Au8; 700];
    for _ in 0..MAX_STEPS {
        let block = match d.decode(&mut r, count) {
            Ok(Some(TokenEvent::Literal(l))) => {
                out += l.len() as u64;
                if out > MAX_OUTPUT {
                    return;
                }
                false
            }
            Ok(Some(TokenEvent::Block(i))) => {
                if i >= count {
                    panic!("token decoder returned block {i} of {count}");
                }
                true
            }
            // Next file: the stream state carries over, as in a session.
            // `None`: a piece was used without output yet.
            Ok(Some(TokenEvent::End) | None) => false,
            // Invalid, or cut by the end of the input.
            Err(_) => return,
        };
        if block && d.see_block(&basis).is_err() {
            return;
        }
    }
}

/// Plain tokens (`simple_recv_token`).
pub fn token_plain(data: &[u8]) {
    tokens(Compression::None, data);
}

/// zstd tokens (`recv_zstd_token`).
pub fn token_zstd(data: &[u8]) {
    tokens(Compression::Zstd, data);
}

/// lz4 tokens (`recv_compressed_token`).
pub fn token_lz4(data: &[u8]) {
    tokens(Compression::Lz4, data);
}

/// zlib (`-z`) and zlibx tokens (`recv_deflated_token`); the first byte's
/// low bit picks which, the rest as in [`tokens`].
pub fn token_zlib(data: &[u8]) {
    let (sel, rest) = split(data);
    let c = if sel & 1 == 0 {
        Compression::Zlib
    } else {
        Compression::ZlibX
    };
    tokens(c, rest);
}

/// The records of a filter list decoded straight from the bytes
/// ([`RuleDecoder`](crate::filter::RuleDecoder)) and parsed as
/// `recv_filter_list` does; `None` if the list is refused or cut.
fn filter_list(data: &[u8], protocol: u32) -> Option<crate::filter::FilterList> {
    let mut dec = crate::filter::RuleDecoder::new();
    let mut list = crate::filter::FilterList::new(protocol);
    let mut r = Reader::new(data);
    for _ in 0..MAX_STEPS {
        match dec.decode(&mut r).ok()? {
            Some(text) => match list.push_wire_rule(text) {
                Ok(()) | Err(crate::filter::FilterError::UnsafeMergeName) => {}
                Err(_) => return None,
            },
            None => return Some(list),
        }
    }
    None
}

/// The client's filter list (as `recv_filter_list` reads it), then rule
/// checks on a few names, then `wildmatch` on the input split at its first
/// NUL.
pub fn filter_rules(data: &[u8]) {
    let (sel, rest) = split(data);
    let protocol = protocol_of(sel);
    if let Some(list) = filter_list(rest, protocol) {
        for name in [&b"a"[..], b"a/b/c", b"x.o", b".rsync-filter", b"dir/sub/"] {
            let _ = list.check(name, sel & 1 != 0);
            let _ = list.check_receiver(name, sel & 2 != 0, sel & 4 != 0);
        }
    }
    for line in rest.split(|&b| b == b'\n').take(64) {
        if let Ok(rule) = crate::filter::parse_wire_rule(line, protocol) {
            let mut l = crate::filter::FilterList::new(protocol);
            if l.push_rule(rule).is_ok() {
                let _ = l.check(line, false);
            }
        }
    }
    let mut parts = rest.splitn(2, |&b| b == 0);
    if let (Some(p), Some(t)) = (parts.next(), parts.next()) {
        if p.len() <= 4096 && t.len() <= 4096 {
            let _ = crate::filter::wildmatch(p, t);
        }
    }
}

/// `SSH_ORIGINAL_COMMAND` (`rrsync`'s parsing), then the policy check
/// under `-ro` and `-wo` for whatever parses.
pub fn forced_command(data: &[u8]) {
    let cmd = String::from_utf8_lossy(data);
    if let Ok(crate::cli::Request::Rsync(args)) = crate::cli::parse_original_command(&cmd) {
        authorize_all(args);
    }
}

/// A server argument vector, words separated by NUL.
pub fn server_args(data: &[u8]) {
    let words: Vec<String> = data
        .split(|&b| b == 0)
        .take(crate::cli::MAX_WORDS)
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect();
    if let Ok(args) = crate::cli::parse_server_argv(&words) {
        authorize_all(args);
    }
}

/// Secluded (`-s`) arguments read from the input after `--server -s`
/// (or `--server --sender -s` when the first byte is odd).
pub fn secluded_args(data: &[u8]) {
    let (sel, rest) = split(data);
    let mut head = vec!["--server".to_string()];
    if sel & 1 != 0 {
        head.push("--sender".into());
    }
    head.push("-s".into());
    let Ok(first) = crate::cli::parse_server_argv(&head) else {
        return;
    };
    if let Ok((words, _)) = crate::cli::decode_secluded_args(rest) {
        if let Ok(args) = crate::cli::complete_secluded(first, &words) {
            authorize_all(args);
        }
    }
}

/// The policy decision for `args` under each mode (no filesystem access:
/// the root named here is never opened by `authorize`).
fn authorize_all(args: crate::cli::ServerArgs) {
    for mode in ["-ro", "-wo", "-munge"] {
        let argv: Vec<std::ffi::OsString> = vec![mode.into(), "/nonexistent/rrsync-fuzz".into()];
        if let Ok(crate::cli::Invocation::Forced(flags)) =
            crate::cli::parse_args_with_home(&argv, None)
        {
            let _ = crate::policy::authorize(&flags, args.clone());
        }
    }
}

/// The server handshake fed from the input; the first byte's bits pick
/// the capability letters and options the client's command line had.
pub fn handshake(data: &[u8]) {
    let (sel, rest) = split(data);
    let caps = match sel & 3 {
        0 => None,
        1 => Some("LsfxCIvu".to_string()),
        2 => Some("LsfxCIVu".to_string()),
        _ => Some("fxC".to_string()),
    };
    let req = HandshakeRequest {
        capabilities: caps,
        checksum_choice: (sel & 4 != 0).then(|| "md5".into()),
        compress: sel & 8 != 0,
        compress_choice: (sel & 16 != 0).then(|| "zstd".into()),
        checksum_seed: (sel & 32 != 0).then_some(7),
        allow_inc_recurse: sel & 64 != 0,
    };
    let mut hs = crate::proto::ServerHandshake::new(&req, 0);
    let mut held: &[u8] = rest;
    while let Ok((used, None)) = hs.handle_input(held) {
        while hs.poll_transmit().is_some() {}
        if used == 0 || hs.is_over() {
            break;
        }
        held = held.get(used..).unwrap_or_default();
    }
}

/// ACLs and attribute lists as they follow file-list entries (`-A`,
/// `-X`, `-XX`), one after another into the same tables, indexes and
/// literals alike, for entries of the types the first byte selects; then
/// the answers to requests for long values.
pub fn meta(data: &[u8]) {
    use crate::meta::{xattr, MetaOpts, Tables};
    let (sel, rest) = split(data);
    let opts = MetaOpts {
        acls: sel & 1 != 0,
        xattrs: (sel >> 1) & 3,
        optim: false,
        fake_super: sel & 0x80 != 0,
    };
    let modes = [0o100644, 0o040755, 0o120777, 0o020644];
    // A small budget, so that running out of it is explored too.
    let mut tables = Tables::with_budget(1 << 16);
    let mut r = Reader::new(rest);
    for step in 0..MAX_STEPS {
        let mode = modes[(usize::from(sel >> 3) + step) % modes.len()];
        match tables.decode(&mut r, opts, mode) {
            Ok(got) => {
                if tables.commit(got).is_err() {
                    break;
                }
            }
            Err(_) => break,
        }
        if r.remaining() == 0 {
            return;
        }
    }
    for _ in 0..MAX_STEPS {
        match xattr::decode_request_step(&mut r) {
            Ok(Some(_)) => {
                if xattr::decode_value(&mut r).is_err() {
                    return;
                }
            }
            _ => return,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::flist::{FileEntry, FlistEncoder};

    /// A list the byte-at-a-time switch accepts, cut at every byte and
    /// with every byte flipped: the target returns normally.
    #[test]
    fn flist_target_agrees_with_itself_byte_by_byte() {
        // Protocol 32, varint flags, -o -g -l --devices; --specials -H,
        // safe list, the byte-at-a-time switch.
        let (a, b) = (
            5 | 0x08 | 0x10 | 0x20 | 0x40 | 0x80,
            0x01 | 0x02 | 0x10 | 0x40,
        );
        let opts = flist_options(a, b);
        let mut enc = FlistEncoder::new(opts);
        let mut input = vec![a, b];
        let mut d = FileEntry::new(b".".to_vec(), 0o040755);
        d.mtime = 1;
        let mut f = FileEntry::new(b"dir/file".to_vec(), 0o100644);
        f.size = 1234;
        f.hlink = Some((1, 2));
        let mut g = f.clone();
        g.name = b"dir/file2".to_vec();
        g.hlink_first = Some(1);
        let mut l = FileEntry::new(b"link".to_vec(), 0o120777);
        l.link_target = Some(b"dir/file".to_vec());
        let mut c = FileEntry::new(b"null".to_vec(), 0o020666);
        c.rdev = (1, 3);
        for e in [d, f, g, l, c] {
            enc.encode(&e, &mut input, &mut |_| None, &mut |_| None);
        }
        enc.end(&mut input, 3);
        enc.uids.encode(&mut input, 32, None);
        enc.gids.encode(&mut input, 32, None);
        flist(&input);
        for cut in 2..input.len() {
            flist(&input[..cut]);
            let mut bad = input.clone();
            bad[cut] ^= 0xFF;
            flist(&bad);
        }
    }
}
