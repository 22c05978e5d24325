//! Reading an OpenSSH `authorized_keys` file the way sshd does (OpenSSH
//! `auth2-pubkeyfile.c` and `auth-options.c`), to find each key's root and
//! mode in its `command="rrsync-rs [FLAGS] DIR"` option.
//!
//! sshd reads `name="value"` options with one escape, `\"`
//! (`opt_dequote`), then runs the command with the user's shell. We do
//! not run a shell: the command is split into words with the quoting rules
//! of `sh` (quotes and backslashes only; expansions, globs and operators
//! are refused), its first word must name rrsync (`rrsync-rs` or the
//! upstream `rrsync`, which takes the same flags) and the rest goes
//! through the same parser as our own argv. Options that restrict *who*
//! may use a key and that we do not implement (`from=`, `expiry-time=`,
//! `principals=`, `cert-authority`) make us skip the key, so a line never
//! grants more here than under sshd. Independent of the rsync protocol.

use std::ffi::OsString;
use std::path::Path;

use russh::keys::PublicKey;

use crate::authorize::KEY_TYPES;
use crate::cli::{self, Invocation, WrapperFlags};

/// One usable key.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The public key.
    pub key: PublicKey,
    /// Root and mode for this key.
    pub flags: WrapperFlags,
    /// 1-based line number, for messages.
    pub line: usize,
}

/// Options that do not widen what a key may do here, since `serve` refuses
/// PTYs, forwarding, agents, X11, rc files and environments anyway.
const HARMLESS: &[&str] = &[
    "command",
    "restrict",
    "no-pty",
    "no-port-forwarding",
    "no-agent-forwarding",
    "no-x11-forwarding",
    "no-user-rc",
    "pty",
    "port-forwarding",
    "agent-forwarding",
    "x11-forwarding",
    "user-rc",
    "environment",
    "permitopen",
    "permitlisten",
    "no-touch-required",
    "verify-required",
];

/// Parses `text`; keys that cannot be used are skipped with a warning.
pub fn parse(
    text: &str,
    defaults: Option<&WrapperFlags>,
    home: Option<&Path>,
) -> (Vec<Entry>, Vec<String>) {
    let mut entries = Vec::new();
    let mut warnings = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match parse_line(line, defaults, home) {
            Ok(Some((key, flags))) => entries.push(Entry {
                key,
                flags,
                line: i + 1,
            }),
            Ok(None) => warnings.push(format!(
                "line {}: key has no command= and serve has no default DIR; skipped",
                i + 1
            )),
            Err(e) => warnings.push(format!("line {}: {e}; skipped", i + 1)),
        }
    }
    (entries, warnings)
}

fn parse_line(
    line: &str,
    defaults: Option<&WrapperFlags>,
    home: Option<&Path>,
) -> Result<Option<(PublicKey, WrapperFlags)>, String> {
    let first = line.split_whitespace().next().unwrap_or_default();
    let (opts, key_text) = if KEY_TYPES.contains(&first) {
        (Vec::new(), line)
    } else {
        let (opts, rest) = parse_options(line)?;
        (opts, rest.trim_start())
    };
    let key = PublicKey::from_openssh(key_text).map_err(|e| format!("bad key: {e}"))?;
    let mut command = None;
    for (name, value) in opts {
        let lower = name.to_ascii_lowercase();
        if lower == "command" {
            command = value;
        } else if !HARMLESS.contains(&lower.as_str()) {
            return Err(format!("option `{name}` is not supported by serve"));
        }
    }
    match command {
        Some(c) => flags_from_command(&c, home).map(|f| Some((key, f))),
        None => Ok(defaults.cloned().map(|f| (key, f))),
    }
}

/// One `name` or `name="value"` option.
pub type KeyOption = (String, Option<String>);

/// Splits `name[="value"],...` off the front of a line (sshd's option
/// syntax); returns the options and the rest of the line.
pub fn parse_options(line: &str) -> Result<(Vec<KeyOption>, &str), String> {
    let mut opts = Vec::new();
    let mut chars = line.char_indices().peekable();
    loop {
        let mut name = String::new();
        let mut value = None;
        while let Some(&(_, c)) = chars.peek() {
            if c == '=' || c == ',' || c == ' ' || c == '\t' {
                break;
            }
            name.push(c);
            chars.next();
        }
        if name.is_empty() {
            return Err("empty option".into());
        }
        if chars.peek().map(|p| p.1) == Some('=') {
            chars.next();
            if chars.next().map(|p| p.1) != Some('"') {
                return Err(format!("option `{name}` needs a quoted value"));
            }
            let mut v = String::new();
            loop {
                match chars.next() {
                    None => return Err(format!("option `{name}`: missing closing quote")),
                    Some((_, '"')) => break,
                    Some((_, '\\')) if chars.peek().map(|p| p.1) == Some('"') => {
                        chars.next();
                        v.push('"');
                    }
                    Some((_, c)) => v.push(c),
                }
            }
            value = Some(v);
        }
        opts.push((name, value));
        match chars.next() {
            Some((_, ',')) => continue,
            Some((i, ' ' | '\t')) => return Ok((opts, line.get(i..).unwrap_or_default())),
            _ => return Err("options are not followed by a key".into()),
        }
    }
}

/// The wrapper flags in a forced command: `PROGRAM [FLAGS] DIR`.
pub fn flags_from_command(cmd: &str, home: Option<&Path>) -> Result<WrapperFlags, String> {
    let words = split_words(cmd)?;
    let (prog, rest) = words.split_first().ok_or("empty command=")?;
    let base = Path::new(prog)
        .file_name()
        .map(|b| b.to_string_lossy().into_owned())
        .unwrap_or_default();
    if base != "rrsync-rs" && base != "rrsync" {
        return Err(format!("command= runs `{base}`, not rrsync-rs"));
    }
    let mut args: Vec<OsString> = Vec::new();
    let mut it = rest.iter();
    while let Some(w) = it.next() {
        if w == "-audit" {
            it.next(); // serve logs to its own --audit file
        } else {
            args.push(w.into());
        }
    }
    match cli::parse_args_with_home(&args, home) {
        Ok(Invocation::Forced(f)) => Ok(f),
        Ok(_) => Err("command= is not `rrsync-rs [FLAGS] DIR`".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// Splits a command into words with `sh` quoting: `'...'`, `"..."` (where
/// `\` escapes `$`, `` ` ``, `"`, `\` and newline) and `\` outside quotes.
/// Anything the shell would expand or interpret is refused.
pub fn split_words(cmd: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur: Option<String> = None;
    let mut chars = cmd.chars();
    let refuse = |c: char| Err(format!("shell syntax `{c}` in command= is not supported"));
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => words.extend(cur.take()),
            '\'' => {
                let w = cur.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => w.push(c),
                        None => return Err("unterminated ' in command=".into()),
                    }
                }
            }
            '"' => {
                let w = cur.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e @ ('$' | '`' | '"' | '\\')) => w.push(e),
                            Some('\n') => {}
                            Some(e) => {
                                w.push('\\');
                                w.push(e);
                            }
                            None => return Err("unterminated \" in command=".into()),
                        },
                        Some(c @ ('$' | '`')) => return refuse(c),
                        Some(c) => w.push(c),
                        None => return Err("unterminated \" in command=".into()),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') => {}
                Some(e) => cur.get_or_insert_with(String::new).push(e),
                None => return Err("command= ends with a backslash".into()),
            },
            '#' if cur.is_none() => return refuse(c),
            '~' if cur.is_none() => return refuse(c),
            '|' | '&' | ';' | '<' | '>' | '(' | ')' | '$' | '`' | '*' | '?' | '[' => {
                return refuse(c)
            }
            c => cur.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(cur);
    Ok(words)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::policy::Mode;
    use std::path::PathBuf;

    const KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDRQbSdUkrvxY/lZk0qbOpy6B3s8LIbBoA5S6SBPHxyz me@host";

    #[test]
    fn words() {
        assert_eq!(
            split_words(r#"a 'b c' "d\"e" f\ g"#).unwrap(),
            ["a", "b c", "d\"e", "f g"]
        );
        assert_eq!(split_words("x ''").unwrap(), ["x", ""]);
        assert!(split_words("a; rm -rf /").is_err());
        assert!(split_words("a $HOME").is_err());
        assert!(split_words("a \"$HOME\"").is_err());
        assert!(split_words("a 'b").is_err());
    }

    #[test]
    fn options() {
        let (o, rest) =
            parse_options(r#"command="a \"b\" c",restrict,no-pty ssh-ed25519 X"#).unwrap();
        assert_eq!(o[0], ("command".into(), Some("a \"b\" c".into())));
        assert_eq!(o[1], ("restrict".into(), None));
        assert_eq!(rest, " ssh-ed25519 X");
        assert!(parse_options("command=\"x").is_err());
        assert!(parse_options("command=x ssh-ed25519 X").is_err());
    }

    #[test]
    fn lines() {
        let text = format!(
            "# comment\ncommand=\"/usr/bin/rrsync-rs -ro '/srv/a b'\",restrict {KEY}\n\
             {KEY}\nfrom=\"10.0.0.1\",command=\"rrsync-rs /x\" {KEY}\n\
             command=\"/bin/sh -c ls\" {KEY}\ncommand=\"rrsync -wo rel\" {KEY}\n"
        );
        let home = PathBuf::from("/home/u");
        let (e, w) = parse(&text, None, Some(&home));
        assert_eq!(e.len(), 2, "{w:?}");
        assert_eq!(e[0].flags.mode, Mode::ReadOnly);
        assert_eq!(e[0].flags.root, PathBuf::from("/srv/a b"));
        assert_eq!(e[1].flags.root, PathBuf::from("/home/u/rel"));
        assert_eq!(w.len(), 3, "{w:?}");
        let defaults = e[1].flags.clone();
        let (e, _) = parse(&text, Some(&defaults), Some(&home));
        assert_eq!(e.len(), 3);
        assert_eq!(e[1].flags.mode, Mode::WriteOnly);
    }

    #[test]
    fn authorize_round_trip() {
        let line = crate::authorize::line(
            Path::new("/opt/r r/rrsync-rs"),
            &["-wo".into(), "-no-del".into()],
            Path::new("/srv/it's \"x\""),
            KEY,
        );
        let (e, w) = parse(&line, None, None);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(e[0].flags.root, PathBuf::from("/srv/it's \"x\""));
        assert_eq!(e[0].flags.mode, Mode::WriteOnly);
        assert!(e[0].flags.no_del);
    }
}
