//! `--remove-source-files` on a pull (`successful_send` in `sender.c`),
//! protocols 27 to 32: the client confirms each file it has in place with
//! `MSG_SUCCESS` and the file's index, and the sender then removes its
//! copy, if it is still the file that was listed (same size and
//! modification time; otherwise rsync's "Skipping sender remove for
//! changed file"). Directories are never removed; symlinks are, as in
//! rsync. Every removal goes
//! through a [`Writer`] with the session's [`DeletePermit`], which only a
//! key without `-ro` and `-no-del` can hold.

use std::io;

use super::lists::Lists;
use super::walk::Item;
use super::{SendError, SenderCtx};
use crate::flist::FileKind;
use crate::fs::Writer;
use crate::policy::DeletePermit;
use crate::wire::MsgCode;

/// What a sender needs to remove confirmed files.
pub(crate) struct Remover<'a> {
    w: Writer<'a>,
    permit: DeletePermit,
    /// `-vv`: each removal is reported (`INFO_GTE(REMOVE, 1)`).
    verbose: bool,
}

impl<'a> Remover<'a> {
    pub(crate) fn new(root: &'a crate::fs::Root, permit: DeletePermit, verbose: u8) -> Self {
        Self {
            w: Writer::new(root),
            permit,
            verbose: verbose >= 2,
        }
    }
}

/// Acts on every confirmation received so far.
pub(super) fn confirmed(ctx: &mut SenderCtx<'_>, lists: &Lists) -> Result<(), SendError> {
    if ctx.remover.is_none() {
        return Ok(());
    }
    for ndx in ctx.link.take_successes() {
        let item = lists.get(ndx);
        let Some(item) = item else {
            return Err(SendError::Protocol(format!(
                "invalid file index {ndx} in a success message"
            )));
        };
        remove_sent(ctx, item);
    }
    Ok(())
}

/// Removes one confirmed file if it is still the one that was sent.
fn remove_sent(ctx: &mut SenderCtx<'_>, item: &Item) {
    let Some(r) = ctx.remover.as_ref() else {
        return;
    };
    // Directories stay; every other entry the client confirms goes (rsync
    // confirms symlinks and unchanged files too).
    if item.entry.is_dir() {
        return;
    }
    // rsync names the file as listed, without quotes.
    let name = String::from_utf8_lossy(&item.entry.name);
    let e = &item.entry;
    // Looked at again where the walk found it.
    let looked = item
        .path()
        .map_err(io::Error::from)
        .and_then(|p| Ok((ctx.root.lstat(&p)?, p)));
    let failed = match looked {
        Ok((m, path))
            if still_sent(
                (
                    FileKind::from_mode(m.mode) == Some(e.kind()),
                    m.size,
                    m.mtime_sec,
                    m.mtime_nsec,
                ),
                (e.size, e.mtime, e.mtime_nsec),
            ) =>
        {
            match r.w.remove(&path, Some(&r.permit)) {
                Ok(()) => {
                    if r.verbose {
                        ctx.link.info(&format!("sender removed {name}"));
                    }
                    return;
                }
                Err(er) => ("remove", er),
            }
        }
        Ok(_) => {
            let line = format!("ERROR: Skipping sender remove for changed file: {name}\n");
            ctx.link.msg(MsgCode::ErrorXfer, line.as_bytes());
            ctx.io_error.insert(crate::error::IoErrors::GENERAL);
            return;
        }
        Err(er) => ("re-lstat", er),
    };
    let (op, er) = failed;
    if er.kind() == io::ErrorKind::NotFound {
        ctx.link
            .info(&format!("sender file already removed: {name}"));
    } else {
        ctx.link
            .rsyserr_as("sender", &format!("sender failed to {op} {name}"), &er);
        ctx.io_error.insert(crate::error::IoErrors::GENERAL);
    }
}

/// Whether what is on disk now (of the listed type?, size, mtime seconds
/// and nanoseconds) is the entry that was listed: the same type, size
/// and modification time, to the nanosecond (our own walk read it,
/// so an unchanged file matches exactly).
fn still_sent(now: (bool, u64, i64, u32), listed: (u64, i64, u32)) -> bool {
    let (same_type, size, sec, nsec) = now;
    same_type && (size, sec, nsec) == listed
}

#[cfg(test)]
mod tests {
    use super::still_sent;

    #[test]
    fn a_changed_file_is_not_the_one_sent() {
        let listed = (3, 1_600_000_000, 5);
        assert!(still_sent((true, 3, 1_600_000_000, 5), listed));
        assert!(!still_sent((false, 3, 1_600_000_000, 5), listed));
        assert!(!still_sent((true, 4, 1_600_000_000, 5), listed));
        assert!(!still_sent((true, 3, 1_600_000_001, 5), listed));
        assert!(!still_sent((true, 3, 1_600_000_000, 6), listed));
    }
}
