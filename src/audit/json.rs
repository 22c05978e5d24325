//! The audit record as one JSON object (serde, serde_json) with an
//! RFC 3339 UTC time (jiff). Field names and order are part of the
//! format: [`FIELD_DOCS`] lists them, the manual and the operator guide list
//! the same, and a test checks all three agree.
//!
//! Strings are escaped as JSON requires and further: every character an
//! operator's terminal would act on ([`super::is_unsafe`]: DEL, C1
//! controls, line and paragraph separators, bidirectional overrides) is
//! written as `\uXXXX`, so a client's command or a key's comment read
//! with `cat` or `tail` can neither forge a line nor disguise one.
//!
//! To add a field: add it to [`super::Record`] and to [`Line`] (as an
//! `Option` skipped when `None`), then to [`FIELD_DOCS`] and the two lists
//! in the docs.

use std::io;
use std::time::SystemTime;

use serde::Serialize;

use super::{is_unsafe, Record};

/// Every field a line may hold, in the order written, and what it says
/// (for the generated manual page).
pub const FIELD_DOCS: &[(&str, &str)] = &[
    ("time", "When the session started: UTC, RFC 3339 with milliseconds."),
    ("via", "sshd (the forced command), serve or local."),
    ("outcome", "ok (exit 0), refused or error."),
    ("key", "The key's SHA256 fingerprint and comment (under sshd from SSH_USER_AUTH: ExposeAuthInfo yes)."),
    ("user", "serve: the login name the client sent; sshd: the account (USER, else LOGNAME)."),
    ("remote", "The client's address:port (under sshd from SSH_CONNECTION)."),
    ("mode", "ro, wo or rw."),
    ("root", "The served DIR."),
    ("command", "The command as requested, at most 400 characters."),
    ("role", "sender (a pull), receiver (a push) or true."),
    ("refused", "Why the session or a request in it was refused; several reasons are joined with '; '."),
    ("landlock", "Whether the session ran under Landlock: on, partial or off."),
    ("exit", "The exit status sent to the client."),
    ("files_sent", "Files whose data was sent (a pull)."),
    ("files_received", "Files written (a push)."),
    ("deleted", "Entries deleted at the client's request."),
    ("bytes_in", "Bytes read from the client, protocol framing included."),
    ("bytes_out", "Bytes written to the client."),
    ("added", "Entries a push created (new names); with changed and bytes_written, only when a push changed something or made a snapshot."),
    ("changed", "Existing entries a push replaced or changed."),
    ("bytes_written", "Bytes a push wrote into files."),
    ("snapshot", "Under -snapshot, the name of the snapshot the push published."),
    ("duration_ms", "How long the session ran, in milliseconds."),
];

/// What one line holds; `None` fields are left out.
#[derive(Serialize)]
struct Line<'a> {
    time: String,
    via: &'a str,
    outcome: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remote: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mode: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    root: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    command: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refused: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    landlock: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exit: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    files_sent: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    files_received: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deleted: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bytes_in: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bytes_out: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    added: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    changed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bytes_written: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    snapshot: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_ms: Option<u64>,
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` in UTC (the Unix epoch for a time jiff
/// cannot represent).
pub fn rfc3339(t: SystemTime) -> String {
    let ts = jiff::Timestamp::try_from(t).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    format!("{ts:.3}")
}

/// The record as one JSON object, without the newline.
pub fn to_json(r: &Record) -> String {
    let t = r.transfer.as_ref();
    // A push's own counts, when it changed something or made a snapshot.
    let push = t.filter(|t| t.added + t.changed + t.bytes_written > 0 || t.snapshot.is_some());
    let line = Line {
        time: r.start.map(rfc3339).unwrap_or_default(),
        via: r.via,
        outcome: r.outcome(),
        key: r.key.as_deref(),
        user: r.user.as_deref(),
        remote: r.remote.as_deref(),
        mode: r.mode,
        root: r.root.as_deref(),
        command: r.command.as_deref(),
        role: r.role,
        refused: r.refused.as_deref(),
        landlock: r.landlock,
        exit: r.exit,
        files_sent: t.map(|t| t.files_sent),
        files_received: t.map(|t| t.files_received),
        deleted: t.map(|t| t.deleted),
        bytes_in: t.map(|t| t.bytes_in),
        bytes_out: t.map(|t| t.bytes_out),
        added: push.map(|t| t.added),
        changed: push.map(|t| t.changed),
        bytes_written: push.map(|t| t.bytes_written),
        snapshot: t.and_then(|t| t.snapshot.as_deref()),
        duration_ms: r
            .duration
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
    };
    let mut out = Vec::with_capacity(256);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, Strict);
    if line.serialize(&mut ser).is_err() {
        return String::from("{}");
    }
    String::from_utf8(out).unwrap_or_else(|_| String::from("{}"))
}

/// serde_json's compact output, with [`is_unsafe`] characters escaped.
struct Strict;

impl serde_json::ser::Formatter for Strict {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut rest = fragment;
        while let Some((i, c)) = rest.char_indices().find(|(_, c)| is_unsafe(*c)) {
            w.write_all(rest.get(..i).unwrap_or_default().as_bytes())?;
            write!(w, "\\u{:04x}", u32::from(c))?;
            rest = rest.get(i + c.len_utf8()..).unwrap_or_default();
        }
        w.write_all(rest.as_bytes())
    }
}
