//! What one push may add (`-max-bytes=N`, `-max-files=N`; ours, for
//! every protocol 27-32; rsync has only per-file `--max-size`).
//!
//! The [`super::Writer`] charges a name for every entry it creates (a
//! file, even a temporary one, a directory, a link, a node) and the
//! receiver charges every byte it writes into a file before writing it.
//! The first charge past a limit fails, and so does every later one: the
//! push ends with [`Quota::refusal`] and, under `-snapshot`, is not
//! published.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::cli::Limits;

/// Counters against a key's [`Limits`]; shared by everything that writes
/// for one session.
#[derive(Debug, Default)]
pub struct Quota {
    limits: Limits,
    bytes: AtomicU64,
    names: AtomicU64,
    over: AtomicBool,
}

impl Quota {
    /// Counters starting at zero.
    pub fn new(limits: Limits) -> Quota {
        Quota {
            limits,
            ..Quota::default()
        }
    }

    fn charge(&self, counter: &AtomicU64, limit: Option<u64>, n: u64) -> io::Result<()> {
        let total = counter.fetch_add(n, Ordering::Relaxed).saturating_add(n);
        if self.over.load(Ordering::Relaxed) || limit.is_some_and(|l| total > l) {
            self.over.store(true, Ordering::Relaxed);
            // What a file system quota gives, so the file's error line
            // reads as rsync's would ("Disk quota exceeded (122)").
            return Err(io::Error::from_raw_os_error(
                rustix::io::Errno::DQUOT.raw_os_error(),
            ));
        }
        Ok(())
    }

    /// Charges `n` bytes about to be written into a file.
    pub fn charge_bytes(&self, n: u64) -> io::Result<()> {
        self.charge(&self.bytes, self.limits.bytes, n)
    }

    /// Charges one new name.
    pub(crate) fn charge_name(&self) -> io::Result<()> {
        self.charge(&self.names, self.limits.files, 1)
    }

    /// Bytes charged so far.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// The client's line once a limit was passed.
    pub fn refusal(&self) -> Option<String> {
        if !self.over.load(Ordering::Relaxed) {
            return None;
        }
        let l = self.limits;
        let which = match (l.bytes, l.files) {
            (Some(b), _) if self.bytes() > b => format!("{b} bytes (-max-bytes)"),
            (_, Some(f)) => format!("{f} new entries (-max-files)"),
            (Some(b), None) => format!("{b} bytes (-max-bytes)"),
            (None, None) => "its limit".to_string(),
        };
        Some(format!(
            "this key may add at most {which} in one push; the push was stopped"
        ))
    }
}
