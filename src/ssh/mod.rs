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

/// The help text.
pub const USAGE: &str = "usage: rrsync-rs serve [--listen ADDR:PORT]... [--host-key FILE]
         [--authorized-keys FILE] [--max-sessions N] [--max-startups S:R:F]
         [--per-source-max-startups N] [--login-grace-time SECS]
         [--handshake-timeout SECS] [--idle-timeout SECS] [--audit FILE]
         [--log FILE] [--user-keys [--permit-root-login]] [[-ro|-wo|...] DIR]

An SSH server that only serves rsync. Each key in the authorized_keys file
(default ~/.ssh/authorized_keys) needs command=\"rrsync-rs [FLAGS] DIR\"; keys
without one are refused unless a default [FLAGS] DIR is given here.
  --listen ADDR:PORT        listen address, repeatable (default 127.0.0.1:2222)
  --host-key FILE           ed25519 host key, created 0600 if missing
                            (default ~/.config/rrsync-rs/ssh_host_ed25519_key)
  --max-sessions N          authenticated connections at once (default 32)
  --max-startups S:R:F      unauthenticated connections: from S on, drop new
                            ones with a chance rising from R% to 100% at F
                            (sshd's MaxStartups; default 20:30:100)
  --max-unauth N            the same with F = N
  --per-source-max-startups N  unauthenticated connections per address
                            (IPv6: per /64) (default 8)
  --login-grace-time SECS   connect-to-authentication deadline (default 10)
  --handshake-timeout SECS  connect-to-command deadline (default 30)
  --idle-timeout SECS       close a connection silent this long (default 7200)
  --audit FILE              append one JSON line per connection to FILE
  --log FILE                append our log lines to FILE instead of stderr
  --user-keys               (as root) the login name selects a Unix account:
                            its ~/.ssh/authorized_keys is read and its
                            sessions run as that account
  --permit-root-login       with --user-keys, let the login root run as root
Each session runs in a process of its own.
SIGHUP re-reads the keys file and reopens the --audit and --log files;
SIGTERM or SIGINT stops accepting and waits for running sessions.
";

fn usage_err(msg: &str) -> CliError {
    CliError::Usage(format!("rrsync-rs serve: {msg}\n{USAGE}"))
}

/// Parses the words after `serve`.
pub fn parse_args(
    args: &[OsString],
    home: Option<&std::path::Path>,
) -> Result<ServeArgs, CliError> {
    let home_join = |p: &str| home.map(|h| h.join(p)).unwrap_or_else(|| PathBuf::from(p));
    let mut a = ServeArgs {
        listen: Vec::new(),
        host_key: home_join(".config/rrsync-rs/ssh_host_ed25519_key"),
        authorized_keys: home_join(".ssh/authorized_keys"),
        max_sessions: 32,
        startups: preauth::Startups::default(),
        login_grace: Duration::from_secs(10),
        handshake_timeout: Duration::from_secs(30),
        audit: None,
        log: None,
        defaults: None,
        user_keys: false,
        permit_root_login: false,
        idle_timeout: IDLE_TIMEOUT,
    };
    let mut rest: Vec<OsString> = Vec::new();
    let mut it = args.iter();
    while let Some(w) = it.next() {
        let Some(s) = w.to_str().filter(|s| s.starts_with("--") && *s != "--") else {
            rest.push(w.clone());
            continue;
        };
        if s == "--help" {
            return Err(CliError::Usage(USAGE.to_string()));
        }
        let (name, inline) = match s.split_once('=') {
            Some((n, v)) => (n, Some(OsString::from(v))),
            None => (s, None),
        };
        if let Some(on) = switch(&mut a, name) {
            if inline.is_some() {
                return Err(usage_err(&format!("{name} does not take a value")));
            }
            *on = true;
            continue;
        }
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| usage_err(&format!("{name} needs a value")))
        };
        let number = |v: OsString| {
            v.to_str()
                .and_then(|t| t.parse::<usize>().ok())
                .filter(|n| *n > 0)
                .ok_or_else(|| usage_err(&format!("{name} needs a positive number")))
        };
        match name {
            "--listen" => a.listen.push(value()?.to_string_lossy().into_owned()),
            "--host-key" => a.host_key = value()?.into(),
            "--authorized-keys" => a.authorized_keys = value()?.into(),
            "--max-sessions" => a.max_sessions = number(value()?)?,
            "--max-unauth" => {
                let full = number(value()?)?;
                a.startups.full = full;
                a.startups.start = a.startups.start.min(full);
            }
            "--max-startups" => {
                let v = value()?;
                a.startups = v
                    .to_str()
                    .and_then(|t| preauth::Startups::parse(t, a.startups.per_source))
                    .ok_or_else(|| usage_err("--max-startups needs START:RATE:FULL"))?;
            }
            "--per-source-max-startups" => a.startups.per_source = number(value()?)?,
            "--login-grace-time" => a.login_grace = Duration::from_secs(number(value()?)? as u64),
            "--handshake-timeout" => {
                a.handshake_timeout = Duration::from_secs(number(value()?)? as u64)
            }
            "--idle-timeout" => a.idle_timeout = Duration::from_secs(number(value()?)? as u64),
            "--audit" => a.audit = Some(value()?.into()),
            "--log" => a.log = Some(value()?.into()),
            _ => return Err(usage_err(&format!("unknown option {}", cli::snippet(name)))),
        }
    }
    if a.listen.is_empty() {
        a.listen.push("127.0.0.1:2222".into());
    }
    if a.permit_root_login && !a.user_keys {
        return Err(usage_err("--permit-root-login needs --user-keys"));
    }
    if !rest.is_empty() {
        match cli::parse_args_with_home(&rest, home)? {
            Invocation::Forced(f) => a.defaults = Some(f),
            _ => return Err(CliError::Usage(USAGE.to_string())),
        }
    }
    Ok(a)
}

/// The option without a value that `name` turns on, if it is one.
fn switch<'a>(a: &'a mut ServeArgs, name: &str) -> Option<&'a mut bool> {
    match name {
        "--user-keys" => Some(&mut a.user_keys),
        "--permit-root-login" => Some(&mut a.permit_root_login),
        _ => None,
    }
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
        Err(e) => {
            eprintln!("{e}");
            return if args.iter().any(|w| w == "--help") {
                0
            } else {
                1
            };
        }
    };
    match start(a, home) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("rrsync-rs serve: {e}");
            1
        }
    }
}

fn start(a: ServeArgs, home: Option<PathBuf>) -> Result<i32, String> {
    if let Some(log) = &a.log {
        crate::audit::redirect_stderr(log)
            .map_err(|e| format!("cannot open the log {}: {e}", log.display()))?;
    }
    let (key, generated) = hostkey::load_or_generate(&a.host_key)?;
    eprintln!(
        "rrsync-rs serve: host key {} ({}{})",
        hostkey::fingerprint(&key),
        if generated { "generated " } else { "" },
        a.host_key.display()
    );
    let root = rustix::process::geteuid().is_root();
    if a.user_keys && !root {
        return Err("--user-keys needs serve to run as root".into());
    }
    if a.user_keys {
        eprintln!("rrsync-rs serve: keys from each account's ~/.ssh/authorized_keys");
    } else if root {
        eprintln!(
            "rrsync-rs serve: warning: running as root without --user-keys: sessions run as root"
        );
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
                eprintln!("rrsync-rs serve: {shown}: {}", crate::audit::escape(&w));
            }
            eprintln!(
                "rrsync-rs serve: {} usable key(s) in {shown}",
                entries.len()
            );
        }
        Err(e) => eprintln!("rrsync-rs serve: warning: cannot read {shown} yet: {e}"),
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
    eprintln!("rrsync-rs serve: SIGHUP: reopened the log files; re-reading the keys");
    for f in failed {
        eprintln!("rrsync-rs serve: warning: cannot reopen {f}");
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
        assert!(parse_args(&v(&["--max-sessions", "0"]), None).is_err());
        assert!(parse_args(&v(&["--bogus"]), None).is_err());
        assert!(parse_args(&v(&["--audit"]), None).is_err());
        let a = parse_args(&v(&["--user-keys", "--idle-timeout=9"]), None).unwrap();
        assert!(a.user_keys && !a.permit_root_login);
        assert_eq!(a.idle_timeout, Duration::from_secs(9));
        assert!(parse_args(&v(&["--user-keys=1"]), None).is_err());
        assert!(parse_args(&v(&["--permit-root-login"]), None).is_err());
    }
}
