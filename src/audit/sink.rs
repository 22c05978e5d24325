//! Where audit records go: a file opened safely for appending (and
//! reopened at the same path after logrotate moved it), stderr, or
//! nowhere; the `-audit FILE` flag that names it; and `serve --log FILE`,
//! which puts stderr itself into a file.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::Record;

/// Where records go.
#[derive(Debug, Default)]
pub struct Sink {
    file: Option<Mutex<std::fs::File>>,
    path: Option<PathBuf>,
    json_stderr: bool,
    summary_stderr: bool,
    failed: std::sync::atomic::AtomicBool,
}

impl Sink {
    /// A sink that drops every record.
    pub fn none() -> Sink {
        Sink::default()
    }

    /// Opens `path` (`-` for stderr) for appending; `summary_stderr` adds
    /// a human line per record to the log (`serve`'s, see
    /// [`crate::logging`]).
    pub fn open(path: Option<&Path>, summary_stderr: bool) -> std::io::Result<Sink> {
        let mut sink = Sink {
            summary_stderr,
            ..Sink::default()
        };
        match path {
            Some(p) if p == Path::new("-") => sink.json_stderr = true,
            Some(p) => {
                sink.file = Some(Mutex::new(open_append(p)?));
                sink.path = Some(p.to_path_buf());
            }
            None => {}
        }
        Ok(sink)
    }

    /// Opens the file anew at its path (logrotate's SIGHUP); records
    /// keep going to the old file if that fails.
    pub fn reopen(&self) -> std::io::Result<()> {
        let (Some(file), Some(path)) = (&self.file, &self.path) else {
            return Ok(());
        };
        let new = open_append(path)?;
        match file.lock() {
            Ok(mut f) => *f = new,
            Err(_) => return Err(std::io::Error::other("audit log lock poisoned")),
        }
        self.failed
            .store(false, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// Writes `rec`; a failure is reported once on stderr, never returned.
    pub fn write(&self, rec: &Record) {
        if self.summary_stderr {
            tracing::info!("{}", rec.summary());
        }
        let mut line = rec.to_json();
        line.push('\n');
        if self.json_stderr {
            let _ = std::io::stderr().write_all(line.as_bytes());
        }
        let Some(file) = &self.file else { return };
        let res = match file.lock() {
            Ok(mut f) => f.write_all(line.as_bytes()),
            Err(_) => Err(std::io::Error::other("audit log lock poisoned")),
        };
        if let Err(e) = res {
            if !self.failed.swap(true, std::sync::atomic::Ordering::Relaxed) {
                crate::logging::error(&format!("cannot write the audit log: {e}"));
            }
        }
    }
}

/// Opens `path` for appending beneath its own directory: the last
/// component is never a symlink (`O_NOFOLLOW`), the file is created
/// `0600`, and it must be a regular file.
pub fn open_append(path: &Path) -> std::io::Result<std::fs::File> {
    use rustix::fs::{openat, Mode as FMode, OFlags, CWD};
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("audit log path has no file name"))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let dirfd = openat(
        CWD,
        dir,
        OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC,
        FMode::empty(),
    )?;
    let fd = openat(
        &dirfd,
        name,
        OFlags::WRONLY
            | OFlags::APPEND
            | OFlags::CREATE
            | OFlags::NOFOLLOW
            | OFlags::NOCTTY
            | OFlags::NONBLOCK
            | OFlags::CLOEXEC,
        FMode::from_raw_mode(0o600),
    )?;
    let st = rustix::fs::fstat(&fd)?;
    if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::RegularFile {
        return Err(std::io::Error::other("audit log is not a regular file"));
    }
    Ok(std::fs::File::from(fd))
}

/// Makes `path` (opened like [`open_append`]) our stderr, so that every
/// later line goes there; called again after logrotate moved it.
pub fn redirect_stderr(path: &Path) -> std::io::Result<()> {
    let f = open_append(path)?;
    rustix::stdio::dup2_stderr(&f)?;
    Ok(())
}

/// Takes `-audit FILE` out of our argv: anywhere before `--` in the forced
/// form (like rrsync's flags, before or after DIR), only among the flags
/// before DIR in the `local` form (never from its remote words), never
/// from a subcommand's words. Without it, the `RRSYNC_AUDIT` environment
/// variable names the file.
pub fn take_flag(args: &mut Vec<OsString>) -> Option<PathBuf> {
    let mut found = None;
    let local = args.first().is_some_and(|a| a == "local");
    let first = args.first().and_then(|a| a.to_str()).unwrap_or_default();
    if crate::cli::commands::SUBCOMMANDS.contains(&first) || first == "help" {
        return None;
    }
    let mut i = usize::from(local);
    while let Some(w) = args.get(i) {
        let Some(s) = w.to_str() else { break };
        if s == "-audit" && i + 1 < args.len() {
            let v: Vec<OsString> = args.drain(i..i + 2).collect();
            found = v.into_iter().nth(1).map(PathBuf::from);
        } else if s == "--" || (local && (s == "-" || !s.starts_with('-'))) {
            break;
        } else {
            i += 1;
        }
    }
    found.or_else(|| {
        std::env::var_os("RRSYNC_AUDIT")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    })
}
