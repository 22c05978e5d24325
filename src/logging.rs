//! The operator's log of `rrsync-rs serve` (the daemon side; rsync's
//! own daemon writes a similar log with `log file =` or to syslog), built
//! on `tracing`: levels (`-v`, `-q`), a UTC timestamp per line, one span
//! per connection that carries the peer's address and, once it
//! authenticated, the key's SHA256 fingerprint, and a choice of where the
//! lines go: stderr (or the `--log FILE` stderr is moved to) or the
//! systemd journal (`--log journald`, native protocol, with the span's
//! fields as journal fields).
//!
//! What the forced command writes on stderr is no log: under sshd it goes
//! to the client, rrsync's words and the protocol's refusals, and it is
//! written as it always was. The forced command installs no subscriber
//! unless `RRSYNC_LOG=journald` asks for the journal ([`init_forced`]),
//! so code it shares with `serve` reports through [`error`], which falls
//! back to a plain stderr line. Independent of the rsync protocol.

use tracing::level_filters::LevelFilter;

/// Where `serve`'s lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// stderr (which `--log FILE` may have moved into a file).
    Stderr,
    /// The systemd journal.
    Journald,
}

/// The layout of a line on stderr.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// UTC timestamp, level, session span and message
    #[default]
    Full,
    /// Level, session span and message (for a journal that stamps lines)
    Short,
}

/// The level `-v` and `-q` select: info by default, each `-v` one more
/// (debug, trace), each `-q` one fewer (warn, error, off).
pub fn level(verbose: u8, quiet: u8) -> LevelFilter {
    const LEVELS: [LevelFilter; 6] = [
        LevelFilter::OFF,
        LevelFilter::ERROR,
        LevelFilter::WARN,
        LevelFilter::INFO,
        LevelFilter::DEBUG,
        LevelFilter::TRACE,
    ];
    let i = (3 + i32::from(verbose) - i32::from(quiet)).clamp(0, 5);
    LEVELS
        .get(usize::try_from(i).unwrap_or(3))
        .copied()
        .unwrap_or(LevelFilter::INFO)
}

/// Installs the subscriber for `serve`. When the journal cannot be
/// reached, the lines go to stderr and the first one says why; the
/// returned text is that reason.
pub fn init(out: &Output, format: Format, level: LevelFilter) -> Option<String> {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::Layer as _;
    let mut why = None;
    if *out == Output::Journald {
        match journald() {
            Ok(layer) => {
                let sub = tracing_subscriber::registry().with(layer.with_filter(level));
                if tracing::subscriber::set_global_default(sub).is_ok() {
                    return None;
                }
            }
            Err(e) => why = Some(e),
        }
    }
    let fmt = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_max_level(level);
    let _ = match format {
        Format::Full => tracing::subscriber::set_global_default(fmt.finish()),
        Format::Short => tracing::subscriber::set_global_default(fmt.without_time().finish()),
    };
    if let Some(w) = &why {
        tracing::warn!("{w}; logging to stderr");
    }
    why
}

/// The forced command's journal (`RRSYNC_LOG=journald`, set with sshd's
/// `SetEnv`): one summary line per session, and the errors of code
/// shared with `serve`, go to the journal. Nothing falls back to stderr,
/// which is the client's. Whether the journal is on.
pub fn init_forced() -> bool {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::Layer as _;
    if std::env::var_os("RRSYNC_LOG").is_none_or(|v| v != "journald") {
        return false;
    }
    let Ok(layer) = journald() else {
        return false;
    };
    let sub = tracing_subscriber::registry().with(layer.with_filter(LevelFilter::INFO));
    tracing::subscriber::set_global_default(sub).is_ok()
}

#[cfg(target_os = "linux")]
fn journald() -> Result<tracing_journald::Layer, String> {
    tracing_journald::layer()
        .map(|l| l.with_syslog_identifier("rrsync-rs".into()))
        .map_err(|e| format!("cannot log to the journal ({e}: is systemd-journald running?)"))
}

#[cfg(not(target_os = "linux"))]
fn journald() -> Result<tracing_subscriber::layer::Identity, String> {
    Err("cannot log to the journal: not a Linux build".into())
}

/// An error of code shared with the forced command: a log event under
/// `serve`, a plain stderr line (as before) elsewhere.
pub fn error(msg: &str) {
    if tracing::dispatcher::has_been_set() {
        tracing::error!("{msg}");
    } else {
        eprintln!("rrsync-rs: {msg}");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn levels() {
        assert_eq!(level(0, 0), LevelFilter::INFO);
        assert_eq!(level(1, 0), LevelFilter::DEBUG);
        assert_eq!(level(9, 0), LevelFilter::TRACE);
        assert_eq!(level(0, 1), LevelFilter::WARN);
        assert_eq!(level(0, 2), LevelFilter::ERROR);
        assert_eq!(level(0, 9), LevelFilter::OFF);
        assert_eq!(level(1, 1), LevelFilter::INFO);
    }
}
