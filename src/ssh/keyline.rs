//! One `authorized_keys` line, read exactly the way OpenSSH's sshd reads
//! it (`auth_check_authkey_line` in `auth2-pubkeyfile.c`,
//! `sshkey_advance_past_options` in `authfile.c`, `sshauthopt_parse` in
//! `auth-options.c`, `opt_flag`/`opt_match`/`opt_dequote` in `misc.c`),
//! so that a line never means one thing to sshd and another to us.
//!
//! - A line that starts with a key (`TYPE BASE64 [COMMENT]`) has no
//!   options. Otherwise the options field runs to the first space or tab
//!   outside double quotes, and a key must follow it.
//! - Options are `name` or `name="value"`, comma-separated, names
//!   case-insensitive; a value's only escape is `\"`. `command`, `from`
//!   and `principals` may appear once (sshd: "multiple ... clauses");
//!   `environment`, `permitopen` and `permitlisten` may repeat and are
//!   checked the way sshd checks them. An unknown option, a value after a
//!   flag, a flag without its value, a missing quote or anything after a
//!   closing quote but a comma refuses the line, as in sshd.
//! - Stricter than sshd, so that a careless line fails closed: a flag
//!   given twice (`pty,no-pty`, `restrict,restrict`), `tunnel=` or
//!   `expiry-time=` given twice, an empty option (`a,,b`), a NUL byte, a
//!   carriage return and a line break are refused too.
//!
//! [`parse_line`] is the one entry point, shared by `serve` and by
//! `authorize` (which checks the line it is about to write). Independent
//! of the rsync protocol.

use std::fmt;

use russh::keys::PublicKey;

use crate::authorize::KEY_TYPES;

/// Flags sshd accepts with a `no-` prefix (`opt_flag(.., 1, ..)`).
pub const NEGATABLE: &[&str] = &[
    "port-forwarding",
    "agent-forwarding",
    "x11-forwarding",
    "touch-required",
    "verify-required",
    "pty",
    "user-rc",
];

/// sshd's `SSH_AUTHOPT_PERMIT_MAX` and `SSH_AUTHOPT_ENV_MAX`.
const PERMIT_MAX: usize = 4096;
const ENV_MAX: usize = 1024;

/// Why a line is not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineError {
    /// sshd refuses this line too (its reason).
    Syntax(String),
    /// sshd would accept the line, but it is ambiguous or careless
    /// (a flag given twice, an empty option, a NUL byte): refused here.
    Strict(String),
    /// No valid public key where sshd looks for one.
    Key(String),
    /// sshd accepts the line, but `serve` cannot honour it the same way.
    Unsupported(String),
    /// The `command=` is not `rrsync-rs [FLAGS] DIR`.
    Command(String),
    /// No `command=` and no default `[FLAGS] DIR`.
    NoCommand,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LineError::Syntax(s) => write!(f, "bad options ({s})"),
            LineError::Strict(s) => write!(f, "ambiguous options ({s})"),
            LineError::Key(s) => write!(f, "no usable key ({s})"),
            LineError::Unsupported(s) => write!(f, "{s}"),
            LineError::Command(s) => write!(f, "{s}"),
            LineError::NoCommand => f.write_str("key has no command= and serve has no default DIR"),
        }
    }
}

fn syntax<T>(s: impl Into<String>) -> Result<T, LineError> {
    Err(LineError::Syntax(s.into()))
}

fn strict<T>(s: impl Into<String>) -> Result<T, LineError> {
    Err(LineError::Strict(s.into()))
}

/// The options of one line, as sshd records them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyOptions {
    /// `command="..."`, dequoted.
    pub command: Option<String>,
    /// `restrict`.
    pub restrict: bool,
    /// `cert-authority`.
    pub cert_authority: bool,
    /// `from="..."`.
    pub from: Option<String>,
    /// `principals="..."`.
    pub principals: Option<String>,
    /// `expiry-time="..."`.
    pub expiry_time: Option<String>,
    /// `tunnel="..."`.
    pub tunnel: Option<String>,
    /// `environment="NAME=value"`, in order.
    pub environment: Vec<String>,
    /// `permitopen="host:port"`, in order.
    pub permitopen: Vec<String>,
    /// `permitlisten="[host:]port"`, in order.
    pub permitlisten: Vec<String>,
    /// The negatable flags as written: (`pty`, false) for `no-pty`.
    pub flags: Vec<(&'static str, bool)>,
}

impl KeyOptions {
    /// The value of flag `name` if the line sets it.
    pub fn flag(&self, name: &str) -> Option<bool> {
        self.flags.iter().find(|f| f.0 == name).map(|f| f.1)
    }
}

/// One parsed line: its options and its key (with the comment).
#[derive(Debug, Clone)]
pub struct KeyLine {
    /// The options before the key.
    pub options: KeyOptions,
    /// The key; its comment is the rest of the line.
    pub key: PublicKey,
}

/// Parses one line (without its line break) as sshd would. Comments and
/// blank lines are the caller's business: they are a [`LineError::Key`].
pub fn parse_line(line: &str) -> Result<KeyLine, LineError> {
    if line.contains('\n') {
        return syntax("a line break inside the line");
    }
    if line.contains('\r') {
        return strict("a carriage return inside the line");
    }
    if line.contains('\0') {
        return strict("a NUL byte");
    }
    let line = line.trim_start_matches([' ', '\t']);
    if let Ok(key) = read_key(line) {
        return Ok(KeyLine {
            options: KeyOptions::default(),
            key,
        });
    }
    let end = options_end(line).ok_or_else(|| {
        LineError::Syntax("invalid key option string (unterminated quote)".into())
    })?;
    let (field, rest) = line.split_at(end);
    let key = read_key(rest.trim_start_matches([' ', '\t'])).map_err(LineError::Key)?;
    let options = parse_options(field)?;
    Ok(KeyLine { options, key })
}

/// The key sshd finds on `line`, whatever its options say (sshd reads a
/// line only up to a NUL byte). For telling which key a refused line was
/// meant for.
pub fn key_of(line: &str) -> Option<PublicKey> {
    let line = line.split('\0').next().unwrap_or_default();
    let line = line.trim_start_matches([' ', '\t']);
    read_key(line).ok().or_else(|| {
        let rest = line.get(options_end(line)?..)?;
        read_key(rest.trim_start_matches([' ', '\t'])).ok()
    })
}

/// `TYPE BASE64 [COMMENT]`, split on spaces and tabs like `sshkey_read`.
fn read_key(s: &str) -> Result<PublicKey, String> {
    let ws = [' ', '\t'];
    let (ty, rest) = s.split_once(ws).ok_or("no key")?;
    if !KEY_TYPES.contains(&ty) {
        return Err("unknown key type".into());
    }
    let rest = rest.trim_start_matches(ws);
    let (blob, comment) = rest.split_once(ws).unwrap_or((rest, ""));
    if blob.is_empty() {
        return Err("no key data".into());
    }
    let mut key = PublicKey::from_openssh(&format!("{ty} {blob}"))
        .map_err(|_| "key data does not decode as its type".to_string())?;
    key.set_comment(comment.trim_start_matches(ws).trim_end());
    Ok(key)
}

/// Where the options field ends: the first space or tab outside double
/// quotes (`\"` does not toggle); `None` for an unterminated quote.
pub(crate) fn options_end(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let (mut i, mut quoted) = (0, false);
    while let Some(&c) = b.get(i) {
        if !quoted && (c == b' ' || c == b'\t') {
            return Some(i);
        }
        if c == b'\\' && b.get(i + 1) == Some(&b'"') {
            i += 1;
        } else if c == b'"' {
            quoted = !quoted;
        }
        i += 1;
    }
    (!quoted).then_some(i)
}

/// `sshauthopt_parse` over the options field.
pub fn parse_options(field: &str) -> Result<KeyOptions, LineError> {
    let b = field.as_bytes();
    let mut opts = KeyOptions::default();
    let mut i = 0;
    loop {
        let start = i;
        while b.get(i).is_some_and(|c| *c != b'=' && *c != b',') {
            i += 1;
        }
        let name = field.get(start..i).unwrap_or_default().to_ascii_lowercase();
        if name.is_empty() {
            return strict("empty option");
        }
        if b.get(i) == Some(&b'=') {
            let (value, next) = dequote(field, i + 1)?;
            i = next;
            set_valued(&mut opts, &name, value)?;
        } else {
            set_flag(&mut opts, &name)?;
        }
        match b.get(i) {
            None => return Ok(opts),
            Some(b',') if i + 1 == b.len() => return strict("a comma before the key"),
            Some(b',') => i += 1,
            Some(_) => return syntax("unknown key option"),
        }
    }
}

/// `opt_dequote`: a `"`-quoted value from `at`; the value and the index
/// after the closing quote.
fn dequote(field: &str, at: usize) -> Result<(String, usize), LineError> {
    let b = field.as_bytes();
    if b.get(at) != Some(&b'"') {
        return syntax("missing start quote");
    }
    let mut out = Vec::new();
    let mut i = at + 1;
    loop {
        match (b.get(i), b.get(i + 1)) {
            (None, _) => return syntax("missing end quote"),
            (Some(b'"'), _) => break,
            (Some(b'\\'), Some(b'"')) => {
                out.push(b'"');
                i += 2;
            }
            (Some(c), _) => {
                out.push(*c);
                i += 1;
            }
        }
    }
    // Only ASCII bytes were removed from valid UTF-8.
    let value = String::from_utf8(out).map_err(|_| LineError::Syntax("bad UTF-8".into()))?;
    Ok((value, i + 1))
}

fn set_once(slot: &mut Option<String>, name: &str, value: String) -> Result<(), LineError> {
    match (slot.is_some(), name) {
        (false, _) => {}
        // sshd keeps the earliest expiry and the last tunnel.
        (true, "expiry-time" | "tunnel") => return strict(format!("\"{name}\" given twice")),
        (true, _) => return syntax(format!("multiple \"{name}\" clauses")),
    }
    *slot = Some(value);
    Ok(())
}

fn set_valued(o: &mut KeyOptions, name: &str, value: String) -> Result<(), LineError> {
    match name {
        "command" => set_once(&mut o.command, name, value),
        "from" => set_once(&mut o.from, name, value),
        "principals" => set_once(&mut o.principals, name, value),
        "expiry-time" if !valid_time(&value) => syntax("invalid expires time"),
        "expiry-time" => set_once(&mut o.expiry_time, name, value),
        "tunnel" if value != "any" && value.parse::<u32>().is_err() => syntax("invalid tun device"),
        "tunnel" => set_once(&mut o.tunnel, name, value),
        "environment" if o.environment.len() > ENV_MAX => syntax("too many environment strings"),
        "environment" => match value.split_once('=') {
            Some((n, _)) if valid_env_name(n) => {
                o.environment.push(value);
                Ok(())
            }
            _ => syntax("invalid environment string"),
        },
        "permitopen" | "permitlisten" => {
            let list = if name == "permitopen" {
                &mut o.permitopen
            } else {
                &mut o.permitlisten
            };
            if list.len() > PERMIT_MAX {
                return syntax("too many permission directives");
            }
            check_permit(&value, name == "permitlisten")?;
            list.push(value);
            Ok(())
        }
        _ => syntax("unknown key option"),
    }
}

fn set_flag(o: &mut KeyOptions, name: &str) -> Result<(), LineError> {
    let once = |set: &mut bool| {
        if std::mem::replace(set, true) {
            strict(format!("option \"{name}\" given twice"))
        } else {
            Ok(())
        }
    };
    match name {
        "restrict" => return once(&mut o.restrict),
        "cert-authority" => return once(&mut o.cert_authority),
        _ => {}
    }
    let (base, on) = match name.strip_prefix("no-") {
        Some(b) => (b, false),
        None => (name, true),
    };
    let Some(base) = NEGATABLE.iter().copied().find(|f| *f == base) else {
        return syntax("unknown key option");
    };
    if o.flag(base).is_some() {
        return strict(format!("option \"{base}\" given twice or contradicted"));
    }
    o.flags.push((base, on));
    Ok(())
}

/// `valid_env_name`: letters, digits and `_`, not empty.
fn valid_env_name(n: &str) -> bool {
    !n.is_empty() && n.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// `parse_absolute_time`: `YYYYMMDD[HHMM[SS]][Z]`.
fn valid_time(v: &str) -> bool {
    let d = v.strip_suffix(['Z', 'z']).unwrap_or(v);
    matches!(d.len(), 8 | 12 | 14) && d.bytes().all(|c| c.is_ascii_digit())
}

/// `handle_permit`: `host:port` (`[v6]:port`), port a number or `*`;
/// a bare port for `permitlisten`.
fn check_permit(v: &str, bare_port: bool) -> Result<(), LineError> {
    let owned;
    let v = if bare_port && !v.contains(':') {
        owned = format!("*:{v}");
        owned.as_str()
    } else {
        v
    };
    let (host, port) = if let Some(rest) = v.strip_prefix('[') {
        let (h, after) = rest.split_once(']').ok_or(perm("hostname"))?;
        let port = match after.strip_prefix([':', '/']) {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err(perm("hostname")),
        };
        (h, port)
    } else {
        match v.find([':', '/']) {
            Some(k) => (v.get(..k).unwrap_or_default(), v.get(k + 1..)),
            None => (v, None),
        }
    };
    if host.len() >= 1025 {
        return Err(perm("hostname"));
    }
    match port {
        Some("*") => Ok(()),
        Some(p) if p.parse::<u16>().is_ok_and(|n| n > 0) => Ok(()),
        _ => Err(perm("port")),
    }
}

fn perm(what: &str) -> LineError {
    LineError::Syntax(format!("invalid permission {what}"))
}

#[cfg(test)]
#[path = "keyline_tests.rs"]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
