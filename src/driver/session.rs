//! One authorised session: root, handshake, multiplexing, filter rules,
//! then the role the permit allows (`start_server` in `main.c`).

use std::io::{Read, Write};

use crate::audit::Transfer;
use crate::checksum::StrongKind;
use crate::cli::{Options, WrapperFlags};
use crate::error::Error;
use crate::flist::FlistOptions;
use crate::fs::Root;
use crate::policy::{Grant, ReceivePermit, SendPermit};
use crate::proto::{self, CompatFlags, HandshakeRequest};
use crate::role::receiver::{self, DeleteWhen, ReceiverConfig, RecvOptions};
use crate::role::sender::{self, SenderConfig, WalkOptions};
use crate::role::{Conn, Link, Machine, Outcome};
use crate::wire::MsgCode;
use std::time::{Duration, Instant};

use super::deadline::{IdleClock, DEFAULT_IDLE_TIMEOUT};
use super::transfer_log::LogFile;
use crate::role::log_file::ItemLog;

/// Memory budget for a session's file list when the client sets no
/// `--max-alloc` (rsync's default is also 1 GiB).
pub const DEFAULT_MAX_ALLOC: u64 = 1 << 30;

/// Most file-list entries a budget allows: about 1 KiB per entry covers
/// the entry, its name and the copies made while sorting.
pub fn max_entries(o: &Options) -> usize {
    let budget = o.max_alloc.unwrap_or(DEFAULT_MAX_ALLOC);
    usize::try_from(budget / 1024)
        .unwrap_or(usize::MAX)
        .clamp(1_000, 50_000_000)
}

/// Runs an authorised session; returns the exit code and what it moved.
/// A session that `clock` ended exits with rsync's `RERR_TIMEOUT`.
pub fn run<R: Read, W: Write + Send + 'static>(
    flags: &WrapperFlags,
    session: Grant,
    r: R,
    w: W,
    clock: &IdleClock,
) -> (i32, Transfer) {
    let (code, t) = run_session(flags, session, r, w, clock);
    if clock.expired().is_some() {
        return (super::timed_out(clock), t);
    }
    (code, t)
}

fn run_session<R: Read, W: Write + Send + 'static>(
    flags: &WrapperFlags,
    session: Grant,
    r: R,
    w: W,
    clock: &IdleClock,
) -> (i32, Transfer) {
    let listener = super::Listener::of_options(session.options());
    let root = match Root::open(&flags.root) {
        Ok(root) => root,
        Err(e) => {
            let msg = format!(
                "cannot open the served directory: {}",
                crate::role::conn::strerror(&e)
            );
            let (mut r, mut w) = (r, w);
            let code = Error::Start(msg.clone()).exit_code();
            let code = super::refuse_to(listener, &mut r, &mut w, &msg, code, clock);
            return (code, Transfer::default());
        }
    };
    let _lock = if flags.no_lock {
        None
    } else {
        match root.try_lock() {
            Ok(Some(fd)) => Some(fd),
            Ok(None) | Err(_) => {
                let (mut r, mut w) = (r, w);
                let msg = "Another instance of rrsync is already accessing this directory.";
                let code = Error::Start(msg.into()).exit_code();
                let code = super::refuse_to(listener, &mut r, &mut w, msg, code, clock);
                return (code, Transfer::default());
            }
        }
    };
    // Everything outside the root the session needs is read now: the id
    // tables, the client's log file and the local time zone. Then the
    // session gives up the rest of the filesystem.
    crate::flist::IdNames::system();
    let log = LogFile::open(&root, &session);
    let writable = matches!(session, Grant::Receive(_));
    crate::sandbox::restrict_to(&root, writable);
    match session {
        Grant::Send(permit) => run_sender(&root, &permit, &log, r, w, clock),
        Grant::Receive(permit) => run_receiver(&root, &permit, &log, r, w, clock),
    }
}

/// Runs a role, an `async fn` over a [`Link`], on the streams the
/// handshake used: a bridge while the request and the handshake are
/// still read outside the machine. The link counts the bytes moved so
/// far, frames its output, splits its input from protocol 30 on and
/// keeps the session's idle limit; the streams keep their own deadlines.
fn run_on_streams<'a, R: Read, W: Write, F>(
    conn: Conn<R, W>,
    o: &Options,
    role: impl FnOnce(Link) -> F,
) -> Outcome
where
    F: std::future::Future<Output = Outcome> + 'a,
{
    let p = conn.protocol;
    let counts = (conn.r.bytes_read(), conn.w.bytes_written());
    let Ok((held, mut r, mut w)) = conn.into_raw() else {
        return Outcome {
            code: crate::error::code::STREAM_IO,
            ..Outcome::default()
        };
    };
    let secs = o
        .timeout
        .filter(|&t| t > 0)
        .map_or(DEFAULT_IDLE_TIMEOUT, u64::from);
    let mut machine = Machine::new(Instant::now(), |link| {
        link.add_counts(counts.0, counts.1);
        link.set_multiplexed_out(true);
        link.set_multiplexed_in(p >= 30);
        link.set_idle_limit(Duration::from_secs(secs));
        role(link)
    });
    super::pump::run_streams(&mut machine, held, &mut r, &mut w)
}

fn handshake_request(o: &Options) -> HandshakeRequest {
    let compress_choice = o
        .compress_choice
        .clone()
        .or_else(|| o.new_compress.then(|| "zlibx".to_string()))
        .or_else(|| o.old_compress.then(|| "zlib".to_string()));
    HandshakeRequest {
        capabilities: o.capabilities.clone(),
        checksum_choice: o.checksum_choice.clone(),
        compress: o.compress > 0 || compress_choice.is_some(),
        compress_choice,
        checksum_seed: o.checksum_seed,
    }
}

fn run_sender<R: Read, W: Write>(
    root: &Root,
    permit: &SendPermit,
    log: &LogFile,
    r: R,
    w: W,
    clock: &IdleClock,
) -> (i32, Transfer) {
    let mut conn = Conn::new(r, w);
    let hs = match start(&mut conn, permit.options(), "sender", log, clock) {
        Ok(hs) => hs,
        Err(code) => return (code, Transfer::default()),
    };
    let items = ItemLog::new(log.sink(), true, permit.options().times, hs.protocol);
    let result = sender_session(root, permit, &hs, items, &mut conn);
    let mut t = Transfer {
        bytes_in: conn.r.bytes_read(),
        bytes_out: conn.w.bytes_written(),
        ..Transfer::default()
    };
    match result {
        Ok(stats) => {
            t.files_sent = stats.files_sent;
            (crate::error::finished(stats.io_error), t)
        }
        Err(e) => {
            // After a deadline the client hears why (if it still reads);
            // the write cannot wait, the clock has tripped.
            let e = match clock.expired() {
                Some(why) => Error::Timeout(why),
                None => e,
            };
            let (msg, code) = (e.to_string(), e.exit_code());
            let _ = conn.error(&msg);
            let _ = conn.w.send_msg_int(MsgCode::ErrorExit, code);
            let _ = conn.flush();
            (code, t)
        }
    }
}

fn sender_session<R: Read, W: Write>(
    root: &Root,
    permit: &SendPermit,
    hs: &proto::Negotiated,
    log: ItemLog<'_>,
    conn: &mut Conn<R, W>,
) -> Result<sender::SendStats, Error> {
    let o = permit.options();
    let p = hs.protocol;
    let resolve = |name: &Option<String>| match name {
        Some(n) => StrongKind::from_name(n, p),
        None => StrongKind::implied(p),
    };
    let unsupported = || Error::Unsupported("unsupported checksum choice".into());
    let xfer_kind = resolve(&hs.xfer_checksum).ok_or_else(unsupported)?;
    let file_kind = resolve(&hs.file_checksum).ok_or_else(unsupported)?;
    let rules = crate::filter::recv_filter_list(&mut conn.r, p)?;
    super::warn_skipped_rules(conn, rules.skipped_rules())?;
    let mut filter = SenderFilter(crate::filter::FilterStack::new(rules));
    let mut tokens = crate::token::TokenEncoder::new(hs.compression, o.compress_level)
        .map_err(|e| Error::Unsupported(e.to_string()))?;
    tokens.set_protocol(p);
    let cfg = SenderConfig {
        root,
        paths: permit
            .paths()
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect(),
        walk: WalkOptions {
            hlink_every_file: p < 28,
            ..walk_options(o)
        },
        flist: flist_options(o, hs, file_kind),
        xfer_kind,
        file_kind,
        seed: hs.seed,
        proper_seed_order: seed_first(hs),
        dry_run: o.dry_run,
        inplace: o.inplace,
        files_from: files_from(o),
        ignore_errors: o.ignore_errors,
        id0_names: hs.compat.contains(CompatFlags::ID0_NAMES),
        tokens,
        log,
    };
    Ok(sender::run(conn, cfg, &mut filter)?)
}

fn walk_options(o: &Options) -> WalkOptions {
    let files_from = o.files_from.is_some();
    WalkOptions {
        recursive: o.recursive,
        dirs: o.dirs || o.list_only || files_from,
        relative: o.relative || files_from,
        implied_dirs: o.implied_dirs,
        links: o.links,
        devices: o.devices,
        specials: o.specials,
        one_file_system: o.one_file_system > 0,
        hard_links: o.hard_links > 0,
        hlink_every_file: false,
        max_entries: max_entries(o),
        munge_links: o.munge_links,
    }
}

fn flist_options(o: &Options, hs: &proto::Negotiated, file_kind: StrongKind) -> FlistOptions {
    let p = hs.protocol;
    FlistOptions {
        protocol: p,
        varint_flags: hs.compat.contains(CompatFlags::VARINT_FLIST_FLAGS),
        preserve_uid: o.owner,
        preserve_gid: o.group,
        preserve_links: o.links,
        preserve_devices: o.devices,
        preserve_specials: o.specials,
        preserve_hard_links: o.hard_links > 0,
        checksum_len: o.checksum.then(|| file_kind.digest_len()),
        numeric_ids: o.numeric_ids,
        inc_recurse: false,
        safe_flist: hs.compat.contains(CompatFlags::SAFE_FLIST) || p >= 31,
    }
}

fn files_from(o: &Options) -> Option<Option<Vec<u8>>> {
    o.files_from.as_ref().map(|f| {
        if f == "-" {
            None
        } else {
            Some(f.as_bytes().to_vec())
        }
    })
}

/// The client's rules as the sender's walk consults them. A per-directory
/// merge file that cannot be loaded excludes everything beneath it rather
/// than silently widening the transfer.
struct SenderFilter(crate::filter::FilterStack);

impl sender::Exclude for SenderFilter {
    fn excluded(&mut self, path: &[u8], is_dir: bool) -> bool {
        self.0.is_poisoned() || self.0.check(path, is_dir).is_excluded()
    }

    fn enter_dir(&mut self, path: &[u8], read: &mut dyn FnMut(&[u8]) -> Option<Vec<u8>>) {
        let _ = self.0.enter_dir(path, read);
    }

    fn leave_dir(&mut self) {
        self.0.leave_dir();
    }

    fn skipped_rules(&self) -> usize {
        self.0.list().skipped_rules()
    }
}

/// Handshake and multiplexing for either role; then the clock moves
/// from the start limit to the transfer's.
fn start<R: Read, W: Write>(
    conn: &mut Conn<R, W>,
    o: &Options,
    who: &'static str,
    log: &LogFile,
    clock: &IdleClock,
) -> Result<proto::Negotiated, i32> {
    conn.who = who;
    let hs = match proto::server_handshake(&mut conn.r, &mut conn.w, &handshake_request(o)) {
        Ok(s) => s,
        Err(e) => {
            // Multiplexing is not on yet: stderr is the only channel the
            // client (and, under sshd, the operator's log) reads now. A
            // deadline is reported by the caller.
            if clock.expired().is_none() {
                eprintln!("rrsync-rs: {}", crate::audit::escape(&e.to_string()));
            }
            let _ = conn.flush();
            return Err(crate::error::exit_code(e));
        }
    };
    conn.set_protocol(hs.protocol);
    if conn.w.set_multiplexed(true).is_err() {
        return Err(crate::error::code::STREAM_IO);
    }
    conn.r.set_multiplexed(hs.protocol >= 30);
    clock.set(o.timeout, DEFAULT_IDLE_TIMEOUT);
    if let Some([why, ignoring]) = log.failure() {
        // rsync says this from `[server]`, before it knows its role; it
        // is not a transfer error and the session goes on.
        let line = format!("rsync: [server] {why}\n");
        let _ = conn.w.send_msg(MsgCode::Error, line.as_bytes());
        let _ = conn.info(ignoring);
    }
    Ok(hs)
}

fn run_receiver<R: Read, W: Write + Send + 'static>(
    root: &Root,
    permit: &ReceivePermit,
    log: &LogFile,
    r: R,
    w: W,
    clock: &IdleClock,
) -> (i32, Transfer) {
    let o = permit.options();
    let mut conn = Conn::new(r, w);
    let hs = match start(&mut conn, o, "receiver", log, clock) {
        Ok(hs) => hs,
        Err(code) => return (code, Transfer::default()),
    };
    let outcome = run_on_streams(conn, o, |link| async move {
        link.set_who("receiver");
        receiver_session(&link, root, permit, log, &hs).await
    });
    (outcome.code, outcome.transfer)
}

/// The receiving session over the link: the filter list, the option
/// checks, then the receiver (`do_server_recv` in `main.c`).
async fn receiver_session(
    link: &Link,
    root: &Root,
    permit: &ReceivePermit,
    log: &LogFile,
    hs: &proto::Negotiated,
) -> Outcome {
    let o = permit.options();
    let p = hs.protocol;
    let failed = |e: Error| {
        let code = e.exit_code();
        link.fail(&e.to_string(), code);
        Outcome {
            code,
            ..Outcome::default()
        }
    };
    let resolve = |name: &Option<String>| match name {
        Some(n) => StrongKind::from_name(n, p),
        None => StrongKind::implied(p),
    };
    let (Some(xfer_kind), Some(file_kind)) =
        (resolve(&hs.xfer_checksum), resolve(&hs.file_checksum))
    else {
        return failed(Error::Unsupported("unsupported checksum choice".into()));
    };
    let delete_mode =
        o.delete || o.delete_before || o.delete_during || o.delete_after || o.delete_delay;
    let filter = if crate::filter::list_expected(
        crate::filter::Side::Receiver,
        p,
        delete_mode,
        o.delete_excluded,
        o.prune_empty_dirs,
    ) {
        match crate::role::reads::filter_list(link, p).await {
            Ok(f) => {
                crate::role::reads::warn_skipped_rules(link, f.skipped_rules());
                Some(f)
            }
            Err(e) => return failed(e),
        }
    } else {
        None
    };
    let opts = match recv_options(o, delete_mode, p).and_then(|x| check_temp_dir(root, x)) {
        Ok(x) => x,
        Err(msg) => return failed(Error::Usage(msg)),
    };
    let cfg = ReceiverConfig {
        root,
        dest: permit
            .paths()
            .first()
            .map(|s| s.as_bytes().to_vec())
            .unwrap_or_default(),
        opts,
        flist: flist_options(o, hs, file_kind),
        xfer_kind,
        file_kind,
        seed: hs.seed,
        proper_seed_order: seed_first(hs),
        compression: crate::token::effective_compression(hs.compression, o.compress_level),
        id0_names: hs.compat.contains(CompatFlags::ID0_NAMES),
        filter,
        delete: permit.delete_permit(),
        overwrite: permit.overwrite_permit(),
        sums: permit.block_sums(),
        log: ItemLog::new(log.sink(), false, o.times, p),
    };
    match receiver::run(link, cfg, p).await {
        Ok(st) => Outcome {
            code: crate::error::finished(st.io_error),
            transfer: Transfer {
                files_received: st.files_received,
                deleted: st.deleted,
                bytes_in: link.bytes_in(),
                bytes_out: link.bytes_out(),
                ..Transfer::default()
            },
            ..Outcome::default()
        },
        Err(e) => Outcome {
            code: e.exit_code(),
            ..Outcome::default()
        },
    }
}

fn rel(s: &str) -> Result<crate::fs::RelPath, String> {
    crate::fs::RelPath::new(s.as_bytes()).map_err(|e| format!("invalid directory argument: {e}"))
}

fn recv_options(o: &Options, delete_mode: bool, protocol: u32) -> Result<RecvOptions, String> {
    let alt_dest = o
        .alt_dest
        .iter()
        .map(|(k, d)| rel(d).map(|p| (*k, p)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RecvOptions {
        verbose: o.verbose,
        max_entries: max_entries(o),
        itemize: o.log_format.as_deref().is_some_and(|f| f.contains("%i")),
        perms: o.perms,
        executability: o.executability,
        times: o.times,
        omit_dir_times: o.omit_dir_times,
        omit_link_times: o.omit_link_times,
        owner: o.owner,
        group: o.group,
        links: o.links,
        hard_links: o.hard_links > 0,
        checksum: o.checksum,
        ignore_times: o.ignore_times,
        size_only: o.size_only,
        update: o.update,
        ignore_existing: o.ignore_existing,
        existing: o.existing,
        whole_file: o.whole_file == Some(true),
        dry_run: o.dry_run,
        inplace: o.inplace,
        partial: o.partial || o.partial_dir.is_some(),
        backup: o.backup,
        backup_dir: o.backup_dir.as_deref().map(rel).transpose()?,
        suffix: o.suffix.clone().unwrap_or_default().into_bytes(),
        alt_dest,
        mkpath: o.mkpath,
        temp_dir: o.temp_dir.as_deref().map(rel).transpose()?,
        partial_dir: o.partial_dir.as_deref().map(rel).transpose()?,
        delay_updates: o.delay_updates,
        min_size: o.min_size,
        max_size: o.max_size,
        block_size: o.block_size,
        modify_window: i64::from(o.modify_window.unwrap_or(0).max(0)),
        delete: delete_mode,
        delete_when: DeleteWhen::choose(
            o.delete_before,
            o.delete_during,
            o.delete_after || o.delete_delay,
            protocol,
        ),
        delete_excluded: o.delete_excluded,
        max_delete: o.max_delete,
        remove_source_files: o.remove_source_files,
        numeric_ids: o.numeric_ids,
        munge_links: o.munge_links,
        am_root: rustix::process::geteuid().is_root(),
    })
}

/// Whether the seed goes before the data in MD5 block sums. rsync's
/// built-in MD5 puts it first only with `CF_CHKSUM_SEED_FIX`, but an MD5
/// chosen by name goes through OpenSSL in the distributions' builds, which
/// always put it first (`get_checksum2` in `checksum.c`).
fn seed_first(hs: &proto::Negotiated) -> bool {
    hs.compat.contains(CompatFlags::CHKSUM_SEED_FIX) || hs.xfer_checksum.as_deref() == Some("md5")
}

/// `--temp-dir` must name an existing directory, checked before anything
/// is transferred as rsync's `do_recv` does.
fn check_temp_dir(root: &Root, o: RecvOptions) -> Result<RecvOptions, String> {
    if let Some(t) = &o.temp_dir {
        if !root.stat(t).is_ok_and(|m| m.is_dir()) {
            return Err(format!(
                "The temp-dir does not exist or is not a directory: {t}"
            ));
        }
    }
    Ok(o)
}
