//! The role a permit allows, after the start: the sender for a
//! [`SendPermit`] (the client pulls, `do_server_sender`), the receiver
//! for a [`ReceivePermit`] (the client pushes, `do_server_recv`), each
//! with the client's filter rules read first when rsync sends them
//! (`recv_filter_list`).

use super::options::{
    check_temp_dir, files_from, flist_options, recv_options, seed_first, walk_options, SenderFilter,
};
use super::Started;
use crate::audit::Transfer;
use crate::checksum::StrongKind;
use crate::error::Error;
use crate::policy::{Grant, ReceivePermit, SendPermit};
use crate::proto::{self, CompatFlags};
use crate::role::log_file::ItemLog;
use crate::role::receiver::{self, ReceiverConfig};
use crate::role::sender::{self, SenderConfig, WalkOptions};
use crate::role::{reads, Link, Outcome};

/// Starts the session and runs its role to the end.
pub(super) async fn run(link: &Link, grant: &Grant, started: &Started, seed: i32) -> Outcome {
    let o = grant.options();
    let log_failure = started.log_failure.as_deref();
    let sink = started.log.as_deref();
    let mut t = Transfer::default();
    let (who, sending) = match grant {
        Grant::Send(_) => ("sender", true),
        Grant::Receive(_) => ("receiver", false),
    };
    link.set_who(who);
    let hs = match super::start::start(link, o, seed, log_failure).await {
        Ok(hs) => hs,
        Err(outcome) => return outcome,
    };
    let log = ItemLog::new(sink, sending, o.times, hs.protocol);
    if let Some(code) = needs_protocol(link, o, hs.protocol) {
        return Outcome {
            code,
            linger: true,
            ..Outcome::default()
        };
    }
    let result = match grant {
        Grant::Send(permit) => sender_session(link, started, permit, &hs, log)
            .await
            .map(|st| {
                t.files_sent = st.files_sent;
                st.io_error
            }),
        Grant::Receive(permit) => {
            receiver_session(link, started, permit, &hs, log)
                .await
                .map(|st| {
                    t.files_received = st.files_received;
                    t.deleted = st.deleted;
                    t.added = st.added;
                    t.changed = st.changed;
                    t.bytes_written = st.bytes_written;
                    st.io_error
                })
        }
    };
    // A session that ends on an error lingers, reading and dropping what
    // the client still sends, so that a client in the middle of writing
    // reads the error instead of failing on a broken pipe.
    let result = result.and_then(|io_error| publish(started, &mut t).map(|()| io_error));
    let (code, linger) = match result {
        Ok(io_error) => (crate::error::finished(io_error), false),
        Err(e) => {
            let code = e.exit_code();
            link.fail(&e.to_string(), code);
            (code, true)
        }
    };
    t.bytes_in = link.bytes_in();
    t.bytes_out = link.bytes_out();
    Outcome {
        code,
        transfer: t,
        linger,
        ..Outcome::default()
    }
}

/// Under `-snapshot`, a push that got to its end (whatever files the
/// client could not send keep their previous version) becomes the newest
/// snapshot; one that failed stays `.partial` for the next to resume.
fn publish(started: &Started, t: &mut Transfer) -> Result<(), Error> {
    let Some(pending) = started.snapshot.as_ref() else {
        return Ok(());
    };
    let name = pending.publish().map_err(|e| {
        Error::FileIo(format!(
            "cannot publish the snapshot: {}",
            crate::role::text::strerror(&e)
        ))
    })?;
    t.snapshot = Some(name);
    Ok(())
}

/// What the negotiated protocol cannot carry (`setup_protocol` in
/// `compat.c`), in rsync's order: ACLs and xattrs need 30; `--fuzzy`, an
/// alternate directory with `--inplace`, more than one alternate
/// directory and `--prune-empty-dirs` need 29. The session ends with
/// rsync's words and code 2. Access times need 28: the flag that says
/// "the same as the previous entry's" does not fit protocol 27's one-byte
/// flags (a stock pair hangs there).
fn needs_protocol(link: &Link, o: &crate::cli::Options, protocol: u32) -> Option<i32> {
    let n = |name: &str, min: u32| format!("{name} requires protocol {min} or higher");
    let alt = match o.alt_dest.first() {
        Some((crate::cli::AltDest::Compare, _)) => "--compare-dest",
        Some((crate::cli::AltDest::Copy, _)) => "--copy-dest",
        _ => "--link-dest",
    };
    let checks = [
        (o.acls, 30, n("--acls", 30)),
        (o.xattrs > 0, 30, n("--xattrs", 30)),
        (o.fuzzy > 0, 29, n("--fuzzy", 29)),
        (
            !o.alt_dest.is_empty() && (o.inplace || o.append > 0),
            29,
            n(&format!("{alt} with --inplace"), 29),
        ),
        (
            o.alt_dest.len() > 1,
            29,
            format!("Using more than one {alt} option requires protocol 29 or higher"),
        ),
        (o.prune_empty_dirs, 29, n("--prune-empty-dirs", 29)),
        (o.atimes > 0, 28, n("--atimes", 28)),
    ];
    let (_, _, what) = checks
        .into_iter()
        .find(|(on, min, _)| *on && protocol < *min)?;
    let e = crate::error::Error::Protocol(format!("{what} (negotiated {protocol})."));
    let code = e.exit_code();
    link.fail(&e.to_string(), code);
    Some(code)
}

/// The checksum a name chose, or the protocol's default.
fn checksum(name: &Option<String>, protocol: u32) -> Result<StrongKind, Error> {
    match name {
        Some(n) => StrongKind::from_name(n, protocol),
        None => StrongKind::implied(protocol),
    }
    .ok_or_else(|| Error::Unsupported("unsupported checksum choice".into()))
}

async fn sender_session(
    link: &Link,
    started: &Started,
    permit: &SendPermit,
    hs: &proto::Negotiated,
    log: ItemLog<'_>,
) -> Result<sender::SendStats, Error> {
    let o = permit.options();
    let p = hs.protocol;
    let xfer_kind = checksum(&hs.xfer_checksum, p)?;
    let file_kind = checksum(&hs.file_checksum, p)?;
    link.start_counting();
    let mut rules = reads::filter_list(link, p).await?;
    reads::warn_skipped_rules(link, rules.skipped_rules());
    if o.cvs_exclude {
        rules.add_server_cvs_rules(crate::filter::Side::Sender)?;
    }
    let mut filter = SenderFilter(crate::filter::FilterStack::new(rules));
    let mut tokens = crate::token::TokenEncoder::new(hs.compression, o.compress_level)
        .map_err(|e| Error::Unsupported(e.to_string()))?;
    tokens.set_protocol(p);
    let cfg = SenderConfig {
        root: &started.root,
        paths: permit
            .paths()
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect(),
        walk: WalkOptions {
            hlink_every_file: p < 28,
            // From protocol 30 rsync's sender lists a relative path's
            // parents even under --no-implied-dirs, flagged as having no
            // content (the client then leaves them alone); a 3.x client
            // refuses a path whose parents are missing.
            implied_dirs: o.implied_dirs || p >= 30,
            divert: hs.compat.contains(CompatFlags::INC_RECURSE),
            ..walk_options(o)
        },
        flist: flist_options(o, hs, file_kind),
        xfer_kind,
        file_kind,
        seed: hs.seed,
        proper_seed_order: seed_first(hs),
        dry_run: o.dry_run,
        noatime: o.open_noatime || o.atimes > 1,
        inplace: o.inplace,
        append: super::options::append_mode(o.append, p),
        remove: permit.remove_permit(),
        verbose: o.verbose,
        files_from: files_from(o),
        ignore_errors: o.ignore_errors,
        deleting: o.delete || o.delete_during || o.delete_delay,
        id0_names: hs.compat.contains(CompatFlags::ID0_NAMES),
        tokens,
        log,
    };
    Ok(sender::run(link, p, cfg, &mut filter).await?)
}

async fn receiver_session(
    link: &Link,
    started: &Started,
    permit: &ReceivePermit,
    hs: &proto::Negotiated,
    log: ItemLog<'_>,
) -> Result<receiver::RecvStats, Error> {
    let o = permit.options();
    let p = hs.protocol;
    let xfer_kind = checksum(&hs.xfer_checksum, p)?;
    let file_kind = checksum(&hs.file_checksum, p)?;
    let delete_mode =
        o.delete || o.delete_before || o.delete_during || o.delete_after || o.delete_delay;
    let filter = if crate::filter::list_expected(
        crate::filter::Side::Receiver,
        p,
        delete_mode,
        o.delete_excluded,
        o.prune_empty_dirs,
    ) {
        let mut f = reads::filter_list(link, p).await?;
        reads::warn_skipped_rules(link, f.skipped_rules());
        if o.cvs_exclude {
            f.add_server_cvs_rules(crate::filter::Side::Receiver)?;
        }
        Some(f)
    } else {
        None
    };
    let root = &started.root;
    let opts = recv_options(o, delete_mode, p)
        .and_then(|x| check_temp_dir(root, x))
        .map_err(Error::Usage)?;
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
        limits: permit.limits(),
        log,
    };
    receiver::run(link, cfg, p).await
}
