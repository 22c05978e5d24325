//! `rrsync-rs serve`: an embedded SSH server (russh, ring backend) for
//! hosts without OpenSSH's sshd. It plays sshd's part for one purpose
//! only: a key from an `authorized_keys` file, whose `command="rrsync-rs
//! [FLAGS] DIR"` selects root and mode, may run `rsync --server ...` (or
//! `true`) and nothing else. The request goes to the same
//! [`crate::driver::serve`] the forced command uses, so every rsync
//! protocol version (27-32) the core speaks is served here too.
//!
//!
//! Each session runs in a process of its own, as sshd's privilege
//! separation does (docs/security/privsep.md): the listener authenticates,
//! then runs the forced command's code path in a child, which drops to
//! the selected Unix account when `--user-keys` is on, and copies the
//! channel to and from it. The listener never opens a served directory.
//!
//! - [`authkeys`]: the `authorized_keys` file, read like sshd reads it.
//! - [`account`]: Unix accounts and their keys files (`--user-keys`).
//! - [`hostkey`]: load, or generate and persist, the ed25519 host key.
//! - [`handler`]: one connection: authentication and channel requests.
//! - [`bridge`]: the channel as the session process's stdin/stdout/stderr.
//! - [`child`]: the session process itself.
//! - [`server`]: listeners, limits, time-outs and signals.

pub mod account;
pub mod authkeys;
pub mod bridge;
pub mod child;
pub mod handler;
pub mod hostkey;
pub mod keyline;
pub mod preauth;
pub mod server;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::audit::Sink;
use crate::cli::commands::{self, ServeCli};
use crate::cli::{self, CliError, Invocation, WrapperFlags};

/// `serve`'s command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeArgs {
    /// `--listen ADDR:PORT`, repeatable; `127.0.0.1:2222` by default.
    pub listen: Vec<String>,
    /// `--host-key FILE`.
    pub host_key: PathBuf,
    /// `--authorized-keys FILE`.
    pub authorized_keys: PathBuf,
    /// `--max-sessions N`: authenticated connections at once.
    pub max_sessions: usize,
    /// `--max-startups START:RATE:FULL` (`--max-unauth N` sets FULL) and
    /// `--per-source-max-startups N`: connections not yet authenticated.
    pub startups: preauth::Startups,
    /// `--login-grace-time SECS`: from connect to authentication.
    pub login_grace: Duration,
    /// `--handshake-timeout SECS`: from connect to the `exec` request.
    pub handshake_timeout: Duration,
    /// `--audit FILE`: JSON-lines audit log.
    pub audit: Option<PathBuf>,
    /// `--log FILE`: our stderr, appended to FILE (reopened on SIGHUP).
    pub log: Option<PathBuf>,
    /// `--log journald` or stderr (`--log FILE` is stderr moved).
    pub log_output: crate::logging::Output,
    /// `--log-format`.
    pub log_format: crate::logging::Format,
    /// `-v`/`-q`: the log's level.
    pub log_level: tracing::level_filters::LevelFilter,
    /// `[FLAGS] DIR` for keys without a `command=` option.
    pub defaults: Option<WrapperFlags>,
    /// `--user-keys`: the login name selects a Unix account, whose own
    /// `~/.ssh/authorized_keys` is read and whose ids the session takes.
    pub user_keys: bool,
    /// `--permit-root-login`: with `--user-keys`, the login `root` may
    /// run sessions as root.
    pub permit_root_login: bool,
    /// `--idle-timeout SECS`: an SSH connection with no traffic at all
    /// (not even keepalive replies) for this long is closed.
    pub idle_timeout: Duration,
}

/// The default `--idle-timeout`: twice the longest idle time a session
/// allows by default (rsync's `--timeout` unset: one hour).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(2 * 3600);

/// `--listen`'s value as an address to bind: a bare `PORT` is
/// `0.0.0.0:PORT` (every IPv4 address, like sshd's `Port`); `HOST:PORT`
/// and `[IPV6]:PORT` are kept; an IPv6 address without brackets is
/// refused (its last `:` would be ambiguous).
pub fn listen_addr(s: &str) -> Result<String, String> {
    if let Ok(port) = s.parse::<u16>() {
        return Ok(format!("0.0.0.0:{port}"));
    }
    if s.parse::<std::net::SocketAddr>().is_ok() {
        return Ok(s.to_string());
    }
    let bad = || {
        format!(
            "--listen {}: use PORT, HOST:PORT or [IPV6]:PORT",
            cli::snippet(s)
        )
    };
    let (host, port) = s.rsplit_once(':').ok_or_else(bad)?;
    if host.is_empty() || host.contains([':', '[', ']']) || port.parse::<u16>().is_err() {
        return Err(bad());
    }
    Ok(s.to_string())
}

fn usage_err(msg: &str) -> CliError {
    CliError::Usage(format!(
        "rrsync-rs serve: {msg}\n(rrsync-rs serve --help lists the options)"
    ))
}

/// Parses the words after `serve` (already read by clap into `c`).
pub fn from_cli(c: ServeCli, home: Option<&Path>) -> Result<ServeArgs, CliError> {
    let home_join = |p: &str| home.map(|h| h.join(p)).unwrap_or_else(|| PathBuf::from(p));
    let mut listen = Vec::new();
    for l in &c.listen {
        listen.push(listen_addr(l).map_err(|e| usage_err(&e))?);
    }
    if listen.is_empty() {
        listen.push("127.0.0.1:2222".into());
    }
    let mut startups = preauth::Startups::default();
    if let Some(m) = &c.max_startups {
        startups = preauth::Startups::parse(m, startups.per_source)
            .ok_or_else(|| usage_err("--max-startups needs START:RATE:FULL"))?;
    }
    if let Some(full) = c.max_unauth {
        startups.full = full;
        startups.start = startups.start.min(full);
    }
    if let Some(n) = c.per_source_max_startups {
        startups.per_source = n;
    }
    let defaults = match (&c.dir, c.flags.is_empty()) {
        (None, true) => None,
        (None, false) => return Err(usage_err("rrsync flags need a DIR after them")),
        (Some(d), _) => {
            let mut words: Vec<OsString> = c.flags.iter().map(OsString::from).collect();
            words.push("--".into());
            words.push(d.clone().into_os_string());
            match cli::parse_args_with_home(&words, home)? {
                Invocation::Forced(f) => Some(f),
                _ => return Err(usage_err("-h/-V are not flags of a key")),
            }
        }
    };
    let (log, log_output) = match c.log {
        Some(p) if p == Path::new("journald") => (None, crate::logging::Output::Journald),
        Some(p) if p == Path::new("stderr") || p == Path::new("-") => {
            (None, crate::logging::Output::Stderr)
        }
        other => (other, crate::logging::Output::Stderr),
    };
    Ok(ServeArgs {
        listen,
        host_key: c
            .host_key
            .unwrap_or_else(|| home_join(".config/rrsync-rs/ssh_host_ed25519_key")),
        authorized_keys: c
            .authorized_keys
            .unwrap_or_else(|| home_join(".ssh/authorized_keys")),
        max_sessions: c.max_sessions,
        startups,
        login_grace: Duration::from_secs(c.login_grace_time),
        handshake_timeout: Duration::from_secs(c.handshake_timeout),
        audit: c.audit,
        log,
        log_output,
        log_format: c.log_format,
        log_level: crate::logging::level(c.verbose, c.quiet),
        defaults,
        user_keys: c.user_keys,
        permit_root_login: c.permit_root_login,
        idle_timeout: Duration::from_secs(c.idle_timeout),
    })
}

/// Parses the words after `serve`; `Err` carries the exit code after the
/// help, the version or the error was printed.
pub fn parse_args(args: &[OsString], home: Option<&Path>) -> Result<ServeArgs, i32> {
    let (mut c, flags) = commands::parse_with_flags::<ServeCli>(args)?;
    c.flags = flags;
    from_cli(c, home).map_err(|e| {
        eprintln!("{e}");
        1
    })
}

/// What every connection shares.
pub struct Shared {
    /// The `authorized_keys` file, re-read for every connection.
    pub authorized_keys: PathBuf,
    /// Root and mode for keys without `command=`.
    pub defaults: Option<WrapperFlags>,
    /// `$HOME`, for relative DIRs in `command=`.
    pub home: Option<PathBuf>,
    /// The audit log.
    pub audit: Sink,
    /// `--log FILE`, reopened on SIGHUP.
    pub log: Option<PathBuf>,
    /// Authenticated-connection slots.
    pub sessions: Arc<Semaphore>,
    /// Their number.
    pub max_sessions: usize,
    /// `--user-keys`.
    pub user_keys: bool,
    /// `--permit-root-login`.
    pub permit_root: bool,
}

/// Runs `serve`; returns the exit code.
pub fn main(args: &[OsString]) -> i32 {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let a = match parse_args(args, home.as_deref()) {
        Ok(a) => a,
        Err(code) => return code,
    };
    match start(a, home) {
        Ok(code) => code,
        Err(e) => {
            if tracing::dispatcher::has_been_set() {
                tracing::error!("{e}");
            } else {
                eprintln!("rrsync-rs serve: {e}");
            }
            1
        }
    }
}

fn start(a: ServeArgs, home: Option<PathBuf>) -> Result<i32, String> {
    if let Some(log) = &a.log {
        crate::audit::redirect_stderr(log)
            .map_err(|e| format!("cannot open the log {}: {e}", log.display()))?;
    }
    crate::logging::init(&a.log_output, a.log_format, a.log_level);
    let (key, generated) = hostkey::load_or_generate(&a.host_key)?;
    tracing::info!(
        "host key {} ({}{})",
        hostkey::fingerprint(&key),
        if generated { "generated " } else { "" },
        a.host_key.display()
    );
    let root = rustix::process::geteuid().is_root();
    if a.user_keys && !root {
        return Err("--user-keys needs serve to run as root".into());
    }
    if a.user_keys {
        tracing::info!("keys from each account's ~/.ssh/authorized_keys");
    } else if root {
        tracing::warn!("running as root without --user-keys: sessions run as root");
    }
    if !a.user_keys {
        report_keys(&a.authorized_keys, a.defaults.as_ref(), home.as_deref());
    }
    let audit = Sink::open(a.audit.as_deref(), true)
        .map_err(|e| format!("cannot open the audit log: {e}"))?;
    let shared = Arc::new(Shared {
        authorized_keys: a.authorized_keys.clone(),
        defaults: a.defaults.clone(),
        home,
        audit,
        log: a.log.clone(),
        sessions: Arc::new(Semaphore::new(a.max_sessions)),
        max_sessions: a.max_sessions,
        user_keys: a.user_keys,
        permit_root: a.permit_root_login,
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("rrsync-ssh")
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let code = rt.block_on(server::run(shared, server::config(key, a.idle_timeout), &a))?;
    rt.shutdown_timeout(Duration::from_secs(1));
    Ok(code)
}

/// Reads the keys file and logs what it holds: a warning per line that
/// cannot be used, then the number of usable keys.
fn report_keys(path: &Path, defaults: Option<&WrapperFlags>, home: Option<&Path>) {
    let shown = crate::audit::escape(&path.display().to_string()).into_owned();
    match std::fs::read(path) {
        Ok(text) => {
            let (entries, warnings) = authkeys::parse(&text, defaults, home);
            for w in warnings {
                tracing::warn!("{shown}: {}", crate::audit::escape(&w));
            }
            tracing::info!("{} usable key(s) in {shown}", entries.len());
        }
        Err(e) => tracing::warn!("cannot read {shown} yet: {e}"),
    }
}

/// SIGHUP: reopens the log and the audit log (after logrotate moved
/// them) and re-reads the keys file. Connections read the keys file
/// anew anyway; this reports what it now holds.
pub fn reload(shared: &Shared) {
    let mut failed = Vec::new();
    if let Some(log) = &shared.log {
        if let Err(e) = crate::audit::redirect_stderr(log) {
            failed.push(format!("the log: {e}"));
        }
    }
    if let Err(e) = shared.audit.reopen() {
        failed.push(format!("the audit log: {e}"));
    }
    tracing::info!("SIGHUP: reopened the log files; re-reading the keys");
    for f in failed {
        tracing::warn!("cannot reopen {f}");
    }
    report_keys(
        &shared.authorized_keys,
        shared.defaults.as_ref(),
        shared.home.as_deref(),
    );
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn args() {
        let v = |s: &[&str]| s.iter().map(OsString::from).collect::<Vec<_>>();
        let home = PathBuf::from("/h");
        let a = parse_args(&v(&[]), Some(&home)).unwrap();
        assert_eq!(a.listen, ["127.0.0.1:2222"]);
        assert_eq!(a.authorized_keys, PathBuf::from("/h/.ssh/authorized_keys"));
        assert!(a.defaults.is_none());
        let a = parse_args(
            &v(&["--listen", "0.0.0.0:22", "--max-sessions=4", "-ro", "srv"]),
            Some(&home),
        )
        .unwrap();
        assert_eq!((a.listen[0].as_str(), a.max_sessions), ("0.0.0.0:22", 4));
        assert_eq!(a.defaults.unwrap().root, PathBuf::from("/h/srv"));
        let a = parse_args(&v(&["srv", "-no-del"]), Some(&home)).unwrap();
        assert!(a.defaults.unwrap().no_del);
        assert!(parse_args(&v(&["--max-sessions", "0"]), None).is_err());
        assert!(parse_args(&v(&["--bogus"]), None).is_err());
        assert!(parse_args(&v(&["--audit"]), None).is_err());
        assert!(parse_args(&v(&["-ro"]), None).is_err());
        let a = parse_args(&v(&["--user-keys", "--idle-timeout=9"]), None).unwrap();
        assert!(a.user_keys && !a.permit_root_login);
        assert_eq!(a.idle_timeout, Duration::from_secs(9));
        assert!(parse_args(&v(&["--user-keys=1"]), None).is_err());
        assert!(parse_args(&v(&["--permit-root-login"]), None).is_err());
        let a = parse_args(&v(&["--max-startups", "3:50:9", "--max-unauth", "5"]), None).unwrap();
        assert_eq!((a.startups.start, a.startups.full), (3, 5));
    }

    #[test]
    fn listen_forms() {
        assert_eq!(listen_addr("2299").unwrap(), "0.0.0.0:2299");
        assert_eq!(listen_addr("[::1]:2222").unwrap(), "[::1]:2222");
        assert_eq!(listen_addr("localhost:22").unwrap(), "localhost:22");
        assert_eq!(listen_addr("10.0.0.1:22").unwrap(), "10.0.0.1:22");
        for bad in ["::1:22", "host", "host:x", ":22", "99999", "[::1]"] {
            assert!(listen_addr(bad).is_err(), "{bad}");
        }
    }
}
