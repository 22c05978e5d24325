//! The client's `--log-file=FILE` on the server (rsync's `log.c`:
//! `logfile_open` appends to the file, `logit` stamps each line
//! `YYYY/MM/DD HH:MM:SS [PID] TEXT` in local time), protocols 27 to 32.
//!
//! The file is opened beneath the root before the session gives up the
//! rest of the filesystem, with the policy's permit; the local time zone
//! is read then too. A file that cannot be opened is not fatal, as with
//! rsync: the client hears why and the session goes on without a log.
//! The roles produce the text ([`crate::role::log_file`]); this is the
//! only place that reads the clock for it.

use std::fs::File;
use std::io::{self, Write};
use std::sync::Mutex;

use crate::fs::{RelPath, Root};
use crate::policy::Grant;
use crate::role::log_file::{framed, TransferLog};
use crate::role::text::strerror;

/// The open log file, its time zone and our process id.
pub struct FileLog {
    file: Mutex<File>,
    tz: jiff::tz::TimeZone,
    pid: u32,
}

/// What became of the client's `--log-file`.
pub enum LogFile {
    /// The client asked for none.
    None,
    /// Open, ready for lines.
    Open(FileLog),
    /// It could not be opened: the line the client reads, and rsync's
    /// second line.
    Failed(String),
}

impl LogFile {
    /// Opens the file the session's permit names (call before the
    /// sandbox: the time zone is read from the system here).
    pub fn open(root: &Root, session: &Grant) -> LogFile {
        let Some((name, permit)) = session.log_file() else {
            return LogFile::None;
        };
        let opened = RelPath::new(name.as_bytes())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))
            .and_then(|p| root.open_log(&p, &permit));
        match opened {
            Ok(file) => LogFile::Open(FileLog {
                file: Mutex::new(file),
                tz: jiff::tz::TimeZone::system(),
                pid: std::process::id(),
            }),
            Err(e) => LogFile::Failed(format!(
                "failed to open log-file {name}: {} ({})",
                strerror(&e),
                e.raw_os_error().unwrap_or(0)
            )),
        }
    }
}

impl TransferLog for FileLog {
    fn line(&self, text: &str) {
        let now = jiff::Timestamp::now().to_zoned_datetime(self.tz.clone());
        let stamp = now.strftime("%Y/%m/%d %H:%M:%S").to_string();
        let line = framed(&stamp, self.pid, text);
        // One write per line: O_APPEND keeps lines whole among writers.
        if let Ok(mut f) = self.file.lock() {
            let _ = f.write_all(line.as_bytes());
        }
    }
}
