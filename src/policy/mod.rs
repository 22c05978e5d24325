//! Policy: which requests a restricted server accepts, after rrsync's
//! option tables and checks (`support/rrsync` `main()` and
//! `validated_arg()`, `packaging/cull-options`, rsync 3.5.0), for every
//! protocol version (27-32).
//!
//! [`authorize`] is the only way to obtain a [`SendPermit`] or a
//! [`ReceivePermit`]: a read-only server can never hold a receive permit
//! and a write-only server never a send permit. Permits carry the options
//! with the operator's forced settings applied (`-munge` sets
//! `--munge-links`, `-no-overwrite` sets `--ignore-existing`) and every
//! path normalised beneath the root (see the `paths` submodule).
//!
//! Error texts never include the server's root path.

mod paths;

use std::path::{Component, Path};

use crate::cli::{snippet, Options, ServerArgs, WrapperFlags};

pub use crate::cli::Mode;

/// Why a request was refused. The texts are rrsync's own where rrsync has
/// one (`support/rrsync` `die()` calls), so that scripts and people who
/// know rrsync find the same lines; options are named the way the client
/// spelled them (`-b`, not `--backup`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// A pull from a `-wo` server.
    #[error("reading from write-only server is not allowed")]
    SendFromWriteOnly,
    /// A push to a `-ro` server.
    #[error("sending to read-only server is not allowed")]
    ReceiveIntoReadOnly,
    /// An option this server's configuration refuses (as the client
    /// spelled it).
    #[error("option {0} has been disabled on this server.")]
    Refused(String),
    /// An option this implementation does not support (as spelled).
    #[error("option {0} is not supported by this server")]
    Unsupported(String),
    /// A path or option value with a `..` component; the text names the
    /// option (or `arg` for a transfer path), as rrsync does, never a
    /// server path.
    #[error("do not use .. in {0} (anchor the path at the root of your restricted dir)")]
    DotDot(String),
    /// A directory option that resolves outside the root.
    #[error("{0} points outside the restricted directory")]
    Outside(String),
    /// `--files-from=FILE` (not `-`) on a `-wo` server.
    #[error("a write-only server cannot read a remote --files-from path")]
    WriteOnlyFilesFrom,
}

/// An authorised request.
#[derive(Debug)]
pub enum Grant {
    /// The server sends (client pull).
    Send(SendPermit),
    /// The server receives (client push).
    Receive(ReceivePermit),
}

impl Grant {
    /// The options, with forced settings applied and values normalised.
    pub fn options(&self) -> &Options {
        match self {
            Grant::Send(p) => p.options(),
            Grant::Receive(p) => p.options(),
        }
    }

    /// The client's `--log-file` (normalised beneath the root) with the
    /// permit to open it; `None` when it asked for none. [`authorize`]
    /// refused the option where the key may not write it.
    pub fn log_file(&self) -> Option<(&str, LogFilePermit)> {
        let o = self.options();
        o.log_file.as_deref().map(|p| (p, LogFilePermit(())))
    }
}

/// Permission to send: only [`authorize`] builds one, never for `-wo`.
#[derive(Debug)]
pub struct SendPermit {
    args: ServerArgs,
    /// Neither `-ro` nor `-no-del`: `--remove-source-files` may remove.
    may_remove: bool,
}

impl SendPermit {
    /// The options, with forced settings applied and values normalised.
    pub fn options(&self) -> &Options {
        &self.args.options
    }
    /// The normalised source paths (relative to the root).
    pub fn paths(&self) -> &[String] {
        &self.args.paths
    }
    /// Whether symlink targets are munged (`-munge` or `--munge-links`).
    pub fn munge_links(&self) -> bool {
        self.args.options.munge_links
    }
    /// The deletion capability for `--remove-source-files`: only when the
    /// client asked for it and the key is neither `-ro` nor `-no-del`
    /// ([`authorize`] refuses the option there; this holds regardless).
    pub fn remove_permit(&self) -> Option<DeletePermit> {
        (self.may_remove && self.args.options.remove_source_files).then_some(DeletePermit(()))
    }
}

/// Proof that a session may make a name that existed before it
/// disappear (delete it, or move it away). Only a [`ReceivePermit`]
/// without `-no-del`, or a [`SendPermit`] for `--remove-source-files`
/// without `-ro` or `-no-del`, hands one out, and [`crate::fs::Writer`], the only
/// way to remove or move a name, asks for it unless the session created
/// that name itself: under `-no-del` there is no value of this type, so
/// no code path removes a pre-existing name.
#[derive(Debug)]
pub struct DeletePermit(());

/// Proof that a receiving session may change an entry that existed before
/// it: replace or rewrite its contents, change its mode, owner, group or
/// times, or retarget a symlink. [`crate::fs::Writer`] asks for it for
/// every such change to a name the session did not create; without it
/// (`-no-overwrite`) new files go into place with `RENAME_NOREPLACE`.
#[derive(Debug)]
pub struct OverwritePermit(());

#[cfg(test)]
impl DeletePermit {
    /// A permit for unit tests of the writer.
    pub(crate) fn for_tests() -> Self {
        DeletePermit(())
    }
}

#[cfg(test)]
impl OverwritePermit {
    /// A permit for unit tests of the writer.
    pub(crate) fn for_tests() -> Self {
        OverwritePermit(())
    }
}

/// Proof that the session may append to the client's `--log-file`
/// beneath the root, as rrsync allows for a key that is neither `-ro` (it
/// never writes) nor `-no-overwrite` (an append changes an existing
/// file). Only [`authorize`] issues one; [`crate::fs::Root::open_log`]
/// asks for it.
#[derive(Debug)]
pub struct LogFilePermit(());

/// What a receiving session may reveal of existing files through the
/// block sums it sends the client (`generate_and_send_sums`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BlockSums {
    /// As rsync does: the client may read the root anyway.
    #[default]
    AsAsked,
    /// `-wo`: never finer than rsync's default block length for the file
    /// (a larger `-B` is kept), none in the redo phase, and none for a
    /// basis the client could not overwrite.
    Coarse,
    /// `-blind`: none at all, and `-c` compares no contents.
    Blind,
}

/// Permission to receive: only [`authorize`] builds one, never for `-ro`.
#[derive(Debug)]
pub struct ReceivePermit {
    args: ServerArgs,
    may_delete: bool,
    may_overwrite: bool,
    sums: BlockSums,
    limits: crate::cli::Limits,
}

impl ReceivePermit {
    /// The options, with forced settings applied and values normalised.
    pub fn options(&self) -> &Options {
        &self.args.options
    }
    /// The normalised destination path(s) (relative to the root).
    pub fn paths(&self) -> &[String] {
        &self.args.paths
    }
    /// False under `-no-del`: delete nothing, not even a directory in the
    /// way of a file.
    pub fn may_delete(&self) -> bool {
        self.may_delete
    }
    /// False under `-no-overwrite`: never replace or modify an existing
    /// file (`ignore_existing` is also forced on in [`Self::options`]).
    pub fn may_overwrite(&self) -> bool {
        self.may_overwrite
    }
    /// Whether stored symlinks are munged (`-munge` or `--munge-links`).
    pub fn munge_links(&self) -> bool {
        self.args.options.munge_links
    }
    /// How much the block sums may reveal (`-wo`, `-blind`).
    pub fn block_sums(&self) -> BlockSums {
        self.sums
    }
    /// The deletion capability, absent under `-no-del`.
    pub fn delete_permit(&self) -> Option<DeletePermit> {
        self.may_delete.then_some(DeletePermit(()))
    }
    /// What one push may add (`-max-bytes`, `-max-files`).
    pub fn limits(&self) -> crate::cli::Limits {
        self.limits
    }
    /// The overwrite capability, absent under `-no-overwrite`.
    pub fn overwrite_permit(&self) -> Option<OverwritePermit> {
        self.may_overwrite.then_some(OverwritePermit(()))
    }
}

/// Checks a parsed request against the operator's flags.
///
/// With `-s`, call this only on the result of
/// [`crate::cli::complete_secluded`]: the options read from stdin must be
/// checked too.
pub fn authorize(flags: &WrapperFlags, mut args: ServerArgs) -> Result<Grant, PolicyError> {
    let sender = args.sender;
    match (flags.mode, sender) {
        (Mode::WriteOnly, true) => return Err(PolicyError::SendFromWriteOnly),
        (Mode::ReadOnly, false) => return Err(PolicyError::ReceiveIntoReadOnly),
        _ => {}
    }
    let restricted = !is_filesystem_root(&flags.root);
    check_options(flags, restricted, &args.options)?;
    args.options.sender = sender;
    normalize_all(&mut args)?;

    let o = &mut args.options;
    if flags.munge {
        o.munge_links = true;
    }
    if flags.no_overwrite {
        o.ignore_existing = true;
    }
    Ok(if sender {
        Grant::Send(SendPermit {
            args,
            may_remove: flags.mode != Mode::ReadOnly && !flags.no_del && !flags.snapshot,
        })
    } else {
        Grant::Receive(ReceivePermit {
            args,
            may_delete: !flags.no_del,
            may_overwrite: !flags.no_overwrite,
            sums: match (flags.blind, flags.mode) {
                (true, _) => BlockSums::Blind,
                (false, Mode::WriteOnly) => BlockSums::Coarse,
                (false, _) => BlockSums::AsAsked,
            },
            limits: flags.limits,
        })
    })
}

/// `/` (however spelled: `//`, `/.`).
fn is_filesystem_root(p: &Path) -> bool {
    p.has_root()
        && p.components()
            .all(|c| matches!(c, Component::RootDir | Component::CurDir))
}

/// `Err(make(spelling))` when `cond` holds: the option `name` as the
/// client wrote it.
fn deny(
    cond: bool,
    o: &Options,
    name: &str,
    make: fn(String) -> PolicyError,
) -> Result<(), PolicyError> {
    if cond {
        Err(make(o.spelling(name)))
    } else {
        Ok(())
    }
}

fn check_options(flags: &WrapperFlags, restricted: bool, o: &Options) -> Result<(), PolicyError> {
    let refuse_if = |cond: bool, name: &str| deny(cond, o, name, PolicyError::Refused);
    let unsupported_if = |cond: bool, name: &str| deny(cond, o, name, PolicyError::Unsupported);
    // rrsync refuses these everywhere.
    refuse_if(o.daemon, "--daemon")?;
    refuse_if(o.debug.is_some(), "--debug")?;
    refuse_if(o.copy_devices, "--copy-devices")?;
    refuse_if(o.write_devices, "--write-devices")?;
    refuse_if(o.no_munge_links, "--no-munge-links")?;
    // A server never takes part in a batch: refused before the protocol
    // starts, rather than a session that waits for what never comes.
    refuse_if(o.only_write_batch.is_some(), "--only-write-batch")?;
    refuse_if(o.batch.is_some(), o.batch.unwrap_or_default())?;
    // rrsync allows --log-file beneath the root, except for a key that
    // never writes (-ro) or never changes an existing file (-no-overwrite:
    // the log is appended to).
    refuse_if(
        o.log_file.is_some() && (flags.mode == Mode::ReadOnly || flags.no_overwrite),
        "--log-file",
    )?;
    // Not implemented here.
    unsupported_if(o.iconv.is_some(), "--iconv")?;
    unsupported_if(o.crtimes, "--crtimes")?;
    // Following symlinks could leave a restricted root.
    if restricted {
        refuse_if(o.copy_links, "--copy-links")?;
        refuse_if(o.copy_dirlinks, "--copy-dirlinks")?;
        refuse_if(o.keep_dirlinks, "--keep-dirlinks")?;
        refuse_if(o.copy_unsafe_links, "--copy-unsafe-links")?;
    }
    if flags.no_del {
        refuse_if(o.delete_before, "--delete-before")?;
        refuse_if(o.delete_during, "--delete-during")?;
        refuse_if(o.delete_delay, "--delete-delay")?;
        refuse_if(o.delete_after, "--delete-after")?;
        refuse_if(o.delete_excluded, "--delete-excluded")?;
        refuse_if(o.delete, "--delete")?;
        refuse_if(o.delete_missing_args, "--delete-missing-args")?;
        refuse_if(o.remove_source_files, "--remove-source-files")?;
    }
    if flags.no_overwrite {
        refuse_if(o.inplace, "--inplace")?;
        refuse_if(o.append > 0, "--append")?;
        refuse_if(o.backup_dir.is_some(), "--backup-dir")?;
        refuse_if(o.backup, "--backup")?;
        refuse_if(o.partial_dir.is_some(), "--partial-dir")?;
        refuse_if(o.delay_updates, "--delay-updates")?;
    }
    if flags.snapshot {
        check_snapshot_options(o)?;
    }
    if flags.mode == Mode::WriteOnly && o.files_from.as_deref().is_some_and(|f| f != "-") {
        return Err(PolicyError::WriteOnlyFilesFrom);
    }
    Ok(())
}

/// `-snapshot`: a push lands in a new snapshot whose unchanged files are
/// hard links into earlier ones, so nothing may write a file in place
/// (`--inplace`, `--append`); the server links against the previous
/// snapshot itself (the `--*-dest` options could only name directories
/// inside the new one); and no session may change a name outside the new
/// snapshot (a pull's `--remove-source-files`, any `--log-file`).
fn check_snapshot_options(o: &Options) -> Result<(), PolicyError> {
    let refuse_if = |cond: bool, name: &str| deny(cond, o, name, PolicyError::Refused);
    refuse_if(o.inplace, "--inplace")?;
    refuse_if(o.append > 0, "--append")?;
    refuse_if(o.remove_source_files, "--remove-source-files")?;
    refuse_if(o.log_file.is_some(), "--log-file")?;
    if let Some((kind, _)) = o.alt_dest.first() {
        return Err(PolicyError::Refused(o.spelling(kind.option_name())));
    }
    Ok(())
}

/// Normalises the paths and every path-valued option in place.
fn normalize_all(args: &mut ServerArgs) -> Result<(), PolicyError> {
    for p in &mut args.paths {
        *p = paths::normalize(p).map_err(|()| PolicyError::DotDot("arg".into()))?;
    }
    let dest = args.paths.first().cloned().unwrap_or_else(|| ".".into());
    let temp_dir = args.options.spelling("--temp-dir");
    let o = &mut args.options;
    if o.sender {
        normalize_opt(&mut o.backup_dir, "--backup-dir")?;
        normalize_opt(&mut o.temp_dir, &temp_dir)?;
        for (kind, dir) in &mut o.alt_dest {
            *dir = normalize_value(dir, kind.option_name())?;
        }
    } else {
        // A receiver resolves these as rsync does: relative to the
        // destination directory, and never outside the root.
        resolve_opt(&dest, &mut o.backup_dir, "--backup-dir")?;
        resolve_opt(&dest, &mut o.temp_dir, "--temp-dir")?;
        for (kind, dir) in &mut o.alt_dest {
            let v = paths::resolve_under(&dest, dir);
            *dir = v.map_err(|()| {
                PolicyError::Outside(format!("{}={}", kind.option_name(), snippet(dir)))
            })?;
        }
    }
    normalize_opt(&mut o.partial_dir, "--partial-dir")?;
    normalize_opt(&mut o.log_file, "--log-file")?;
    if o.files_from.as_deref() != Some("-") {
        normalize_opt(&mut o.files_from, "--files-from")?;
    }
    Ok(())
}

fn resolve_opt(dest: &str, v: &mut Option<String>, name: &str) -> Result<(), PolicyError> {
    if let Some(s) = v {
        *s = paths::resolve_under(dest, s)
            .map_err(|()| PolicyError::Outside(format!("{name}={}", snippet(s))))?;
    }
    Ok(())
}

fn normalize_opt(v: &mut Option<String>, name: &str) -> Result<(), PolicyError> {
    if let Some(s) = v {
        *s = normalize_value(s, name)?;
    }
    Ok(())
}

fn normalize_value(v: &str, name: &str) -> Result<String, PolicyError> {
    paths::normalize(v).map_err(|()| PolicyError::DotDot(name.to_string()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
