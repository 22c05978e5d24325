//! What a session needs from outside the protocol, for a session on this
//! process's standard input and output: the root and its lock, the id
//! tables, the client's `--log-file`, then Landlock (rrsync's start-up;
//! rsync's `main.c` opens its log file and changes to the module's
//! directory at the same point).

use crate::cli::WrapperFlags;
use crate::fs::Root;
use crate::policy::Grant;
use crate::session::{Host, Started};

use super::transfer_log::LogFile;

/// The host of a session run by this process.
pub struct StdHost<'a> {
    flags: &'a WrapperFlags,
}

impl<'a> StdHost<'a> {
    /// A host serving `flags.root`.
    pub fn new(flags: &'a WrapperFlags) -> Self {
        StdHost { flags }
    }
}

impl Host for StdHost<'_> {
    fn start(&self, grant: &Grant) -> Result<Started, String> {
        let top = Root::open(&self.flags.root).map_err(|e| {
            format!(
                "cannot open the served directory: {}",
                crate::role::text::strerror(&e)
            )
        })?;
        let guard = if self.flags.no_lock {
            None
        } else {
            match top.try_lock() {
                Ok(Some(fd)) => Some(fd),
                Ok(None) | Err(_) => {
                    return Err(
                        "Another instance of rrsync is already accessing this directory.".into(),
                    )
                }
            }
        };
        // A push under -snapshot goes into a new snapshot, which is its
        // root and all Landlock lets it reach; a thread started before
        // Landlock publishes it at the end (see `publish`).
        let (root, snapshot) = match grant {
            Grant::Receive(_) if self.flags.snapshot => {
                let (root, pending) = crate::fs::snapshot::begin(top, jiff::Timestamp::now())
                    .map_err(|e| match e {
                        crate::fs::snapshot::SnapshotError::Io(io) => format!(
                            "cannot prepare the snapshot: {}",
                            crate::role::text::strerror(&io)
                        ),
                        e => e.to_string(),
                    })?;
                let publisher = super::publish::Publisher::spawn(pending)
                    .map_err(|e| format!("cannot prepare the snapshot: {e}"))?;
                (
                    root,
                    Some(Box::new(publisher) as Box<dyn crate::session::Publish>),
                )
            }
            _ => (top, None),
        };
        // Everything outside the root the session needs is read now: the
        // id tables, the client's log file and the local time zone. Then
        // the session gives up the rest of the filesystem.
        crate::flist::IdNames::system();
        let (log, log_failure) = match LogFile::open(&root, grant) {
            LogFile::None => (None, None),
            LogFile::Open(f) => (
                Some(Box::new(f) as Box<dyn crate::role::log_file::TransferLog>),
                None,
            ),
            LogFile::Failed(why) => (None, Some(why)),
        };
        let rights = match grant {
            Grant::Receive(_) => crate::sandbox::Rights::All,
            Grant::Send(p) if p.remove_permit().is_some() => crate::sandbox::Rights::ReadRemove,
            Grant::Send(_) => crate::sandbox::Rights::Read,
        };
        crate::sandbox::restrict(&root, rights);
        Ok(Started {
            root,
            log,
            log_failure,
            guard,
            snapshot,
        })
    }

    fn default_seed(&self) -> i32 {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0) as i32;
        t ^ ((std::process::id() as i32) << 6)
    }
}
