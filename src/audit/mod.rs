//! The audit log: one record per session, whether the session ran under
//! OpenSSH's sshd (the forced command) or under the embedded server
//! (`rrsync-rs serve`).
//!
//! rsync itself has `--log-file` and the daemon's `transfer logging`; the
//! forced-command setup (`support/rrsync`) has nothing, and rrsync refuses
//! a client's `--log-file`. This module fills that gap from the operator's
//! side; it does not depend on the protocol version (27-32).
//!
//! A record is written as one JSON object per line (JSON lines) to a file
//! the operator names (`--audit FILE` on `serve`, `-audit FILE` or
//! `RRSYNC_AUDIT=FILE` on the forced command; `-` means stderr). The file
//! is opened beneath its own directory with `O_NOFOLLOW`, in append mode,
//! created `0600`. Logging never breaks a transfer: failures are reported
//! once on stderr and otherwise ignored.

mod escape;
mod json;
mod sink;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;

pub use escape::{escape, is_unsafe};
pub use json::{rfc3339, FIELD_DOCS};
pub use sink::{open_append, redirect_stderr, take_flag, Sink};

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::cli::{self, Request, WrapperFlags};
use crate::policy::Mode;

/// The longest client command kept in a record, in characters.
pub const MAX_COMMAND_CHARS: usize = 400;

/// What a session moved, for its audit line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transfer {
    /// Files whose data we sent (client pull).
    pub files_sent: u64,
    /// Files we wrote (client push).
    pub files_received: u64,
    /// Entries deleted at the client's request.
    pub deleted: u64,
    /// Bytes read from the client, protocol framing included.
    pub bytes_in: u64,
    /// Bytes written to the client.
    pub bytes_out: u64,
    /// Under `-snapshot`, the name of the snapshot the push published.
    pub snapshot: Option<String>,
    /// Entries a push created (new names).
    pub added: u64,
    /// Existing entries a push replaced or changed.
    pub changed: u64,
    /// Bytes a push wrote into files.
    pub bytes_written: u64,
}

/// Everything known about one session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    /// When the session started.
    pub start: Option<SystemTime>,
    /// How long it ran, once finished.
    pub duration: Option<Duration>,
    /// `sshd` (forced command), `serve` or `local`.
    pub via: &'static str,
    /// The key: SHA256 fingerprint and comment, when known.
    pub key: Option<String>,
    /// The SSH user name the client asked for (`serve`), or the account
    /// sshd ran the forced command as (`USER`, else `LOGNAME`).
    pub user: Option<String>,
    /// The client's address and port.
    pub remote: Option<String>,
    /// `ro`, `wo` or `rw`, once a key was matched.
    pub mode: Option<&'static str>,
    /// The served directory.
    pub root: Option<String>,
    /// The command as requested (truncated, control characters escaped).
    pub command: Option<String>,
    /// `sender` (client pull), `receiver` (client push) or `true`.
    pub role: Option<&'static str>,
    /// Why the session, or a request in it, was refused; several refusals
    /// are joined with `; `.
    pub refused: Option<String>,
    /// The exit status sent to the client, when a command ran.
    pub exit: Option<i32>,
    /// Files and bytes moved, when a transfer ran.
    pub transfer: Option<Transfer>,
    /// Whether the session ran under Landlock (`on`, `partial`, `off`).
    pub landlock: Option<&'static str>,
}

impl Record {
    /// A record for a session starting now.
    pub fn start(via: &'static str) -> Record {
        Record {
            start: Some(SystemTime::now()),
            via,
            ..Record::default()
        }
    }

    /// Notes the wrapper flags the session runs under.
    pub fn set_flags(&mut self, flags: &WrapperFlags) {
        self.mode = Some(mode_name(flags.mode));
        self.root = Some(flags.root.display().to_string());
    }

    /// Notes the requested command and the role it asks for. Whether it
    /// is refused, and why, is the driver's decision ([`Served`]), which
    /// the record takes from the session's end ([`Record::served`]).
    pub fn set_command(&mut self, command: &str) {
        self.command = Some(truncate(command));
        self.role = match cli::parse_original_command(command) {
            Ok(Request::True) => Some("true"),
            Ok(Request::Rsync(args)) => Some(if args.sender { "sender" } else { "receiver" }),
            Err(_) => None,
        };
    }

    /// What the session's driver decided and did.
    pub fn served(&mut self, s: &Served) {
        if let Some(why) = &s.refused {
            self.refuse(why);
        }
        self.transfer = Some(s.transfer.clone()).filter(|t| *t != Transfer::default());
    }

    /// Adds a refusal reason.
    pub fn refuse(&mut self, why: &str) {
        match &mut self.refused {
            Some(r) if r.len() < 1000 => {
                r.push_str("; ");
                r.push_str(why);
            }
            Some(_) => {}
            None => self.refused = Some(why.to_string()),
        }
    }

    /// Marks the session finished with `exit`.
    pub fn finish(&mut self, exit: Option<i32>) {
        self.exit = exit;
        self.duration = self.start.and_then(|s| s.elapsed().ok());
    }

    /// `ok` (exit 0, even if a side request such as a PTY was refused),
    /// `refused` or `error`.
    pub fn outcome(&self) -> &'static str {
        match (self.exit, &self.refused) {
            (Some(0), _) => "ok",
            (_, Some(_)) => "refused",
            _ => "error",
        }
    }

    /// The record as one JSON object, without the newline.
    pub fn to_json(&self) -> String {
        json::to_json(self)
    }

    /// A one-line human summary (for `serve`'s log).
    pub fn summary(&self) -> String {
        let mut s = format!("session {}", self.outcome());
        let mut part = |k: &str, v: Option<&str>| {
            if let Some(v) = v {
                let _ = write!(s, " {k}={}", cli_snippet(v));
            }
        };
        part("remote", self.remote.as_deref());
        part("key", self.key.as_deref());
        part("mode", self.mode);
        part("command", self.command.as_deref());
        part("refused", self.refused.as_deref());
        if let Some(e) = self.exit {
            let _ = write!(s, " exit={e}");
        }
        if let Some(t) = &self.transfer {
            let _ = write!(
                s,
                " sent={} received={} deleted={} in={}B out={}B",
                t.files_sent, t.files_received, t.deleted, t.bytes_in, t.bytes_out
            );
        }
        s
    }
}

/// A value for the summary line: escaped, and quoted when it holds a
/// space or a quote, so that it cannot pass for another `key=value`.
fn cli_snippet(v: &str) -> String {
    let v = escape(v);
    if v.contains([' ', '"']) || v.is_empty() {
        format!("\"{}\"", v.replace('"', "\\\""))
    } else {
        v.into_owned()
    }
}

/// The short name of a mode.
pub fn mode_name(m: Mode) -> &'static str {
    match m {
        Mode::ReadOnly => "ro",
        Mode::WriteOnly => "wo",
        Mode::ReadWrite => "rw",
    }
}

fn truncate(s: &str) -> String {
    let mut out: String = s.chars().take(MAX_COMMAND_CHARS).collect();
    if out.len() < s.len() {
        out.push_str("...");
    }
    out
}

/// What the driver made of one request: the exit code, what moved, and
/// the refusal it sent the client, if it refused the request before any
/// transfer (the policy's words, or the parser's).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Served {
    /// The exit status sent to the client.
    pub code: i32,
    /// Files and bytes moved.
    pub transfer: Transfer,
    /// Why the request was refused, if it was.
    pub refused: Option<String>,
}

/// Runs one forced-command (`via` = `sshd`) or `local` session through
/// `f` and logs it to `path`, if any, and with `RRSYNC_LOG=journald` as
/// one summary line to the journal.
pub fn around(
    via: &'static str,
    flags: &WrapperFlags,
    command: &str,
    path: Option<&Path>,
    f: impl FnOnce() -> Served,
) -> i32 {
    let journal = crate::logging::init_forced();
    if path.is_none() && !journal {
        return f().code;
    }
    let mut rec = Record::start(via);
    if via == "sshd" {
        from_sshd_env(&mut rec);
    }
    rec.set_flags(flags);
    rec.set_command(command);
    // Opened before the session, which may sandbox itself away from it;
    // with the journal, the summary line goes there too.
    let sink = Sink::open(path, journal);
    let served = f();
    let code = served.code;
    rec.served(&served);
    rec.landlock = crate::sandbox::last_status().map(crate::sandbox::Status::name);
    rec.finish(Some(code));
    match sink {
        Ok(sink) => sink.write(&rec),
        Err(e) => eprintln!(
            "rrsync-rs: cannot open the audit log {}: {e}",
            path.unwrap_or(Path::new("-")).display()
        ),
    }
    code
}

/// The forced command's view: the key from `SSH_USER_AUTH` (sshd's
/// `ExposeAuthInfo yes`), the address from `SSH_CONNECTION` and the
/// account from `USER` (or `LOGNAME`), which sshd sets for the session.
pub fn from_sshd_env(rec: &mut Record) {
    if let Some(conn) = std::env::var_os("SSH_CONNECTION") {
        let conn = conn.to_string_lossy().into_owned();
        let mut w = conn.split_whitespace();
        if let (Some(ip), Some(port)) = (w.next(), w.next()) {
            rec.remote = Some(format!("{ip}:{port}"));
        }
    }
    rec.user = ["USER", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()));
    if let Some(p) = std::env::var_os("SSH_USER_AUTH") {
        if let Ok(text) = std::fs::read_to_string(p) {
            rec.key = text.lines().find_map(key_from_auth_line);
        }
    }
}

/// `publickey TYPE BASE64` to a fingerprint (with the `ssh` feature) or
/// the key type and the start of its base64.
fn key_from_auth_line(line: &str) -> Option<String> {
    let rest = line.strip_prefix("publickey ")?;
    let mut w = rest.split_whitespace();
    let (ty, b64) = (w.next()?, w.next()?);
    #[cfg(feature = "ssh")]
    if let Ok(k) = russh::keys::PublicKey::from_openssh(&format!("{ty} {b64}")) {
        return Some(k.fingerprint(russh::keys::HashAlg::Sha256).to_string());
    }
    Some(format!("{ty} {}", b64.chars().take(24).collect::<String>()))
}
