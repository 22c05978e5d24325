//! Reading an OpenSSH `authorized_keys` file the way sshd does (OpenSSH
//! `auth2-pubkeyfile.c` and `auth-options.c`), to find each key's root and
//! mode in its `command="rrsync-rs [FLAGS] DIR"` option.
//!
//! Each line goes through [`super::keyline::parse_line`], which reads it
//! as sshd does and refuses what sshd refuses (two `command=` options, an
//! unknown option, bad quoting, trailing garbage) and what is ambiguous.
//! Such a line is skipped with a warning naming its number, never its key.
//! sshd runs the command with the user's shell; we do not run a shell:
//! the command is split into words with the quoting rules of `sh` (quotes
//! and backslashes only; expansions, globs and operators are refused), its
//! first word must name rrsync (`rrsync-rs` or the upstream `rrsync`,
//! which takes the same flags) and the rest goes through the same parser
//! as our own argv.
//!
//! A line never grants more here than under sshd:
//! - options that restrict *who* may use a key and that we do not
//!   implement (`from=`, `expiry-time=`, `principals=`, `cert-authority`,
//!   `verify-required`, a security key without `no-touch-required`) make
//!   the line unusable;
//! - sshd uses the first line that holds a key, so a key whose first
//!   line sshd would accept but we cannot honour is not used at all: its
//!   later lines are skipped too (a later, broader line must not stand in
//!   for an earlier, narrower one). Lines sshd refuses are passed over, as
//!   sshd passes over them.
//!
//! Independent of the rsync protocol.

use std::ffi::OsString;
use std::path::Path;

use russh::keys::ssh_key::public::KeyData;
use russh::keys::PublicKey;

use super::keyline::{self, KeyLine, LineError};
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

/// Parses `text`; keys that cannot be used are skipped with a warning
/// (`line N: why; skipped`), which never quotes the line.
pub fn parse(
    text: impl AsRef<[u8]>,
    defaults: Option<&WrapperFlags>,
    home: Option<&Path>,
) -> (Vec<Entry>, Vec<String>) {
    let mut entries = Vec::new();
    let mut warnings = Vec::new();
    // Keys already seen, with the line that decides for them.
    let mut seen: Vec<(KeyData, usize)> = Vec::new();
    for (i, raw) in text.as_ref().split(|b| *b == b'\n').enumerate() {
        let n = i + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        match raw.iter().find(|b| **b != b' ' && **b != b'\t') {
            None | Some(b'#') => continue,
            Some(_) => {}
        }
        let Ok(line) = std::str::from_utf8(raw) else {
            warnings.push(format!("line {n}: not UTF-8; skipped"));
            continue;
        };
        let result = parse_entry(line, defaults, home);
        let key = match &result {
            Ok((kl, _)) => Some(kl.key.clone()),
            // sshd passes over a line it refuses, whatever key it holds.
            Err(LineError::Syntax(_) | LineError::Key(_)) => None,
            Err(_) => keyline::key_of(line),
        };
        if let Some(first) = key.as_ref().and_then(|k| first_line(&seen, k)) {
            warnings.push(format!(
                "line {n}: the same key as line {first}, which decides for it (as in sshd); skipped"
            ));
            continue;
        }
        if let Some(k) = &key {
            seen.push((k.key_data().clone(), n));
        }
        match result {
            Ok((kl, flags)) => entries.push(Entry {
                key: kl.key,
                flags,
                line: n,
            }),
            Err(e) => warnings.push(format!("line {n}: {e}; skipped")),
        }
    }
    (entries, warnings)
}

fn first_line(seen: &[(KeyData, usize)], key: &PublicKey) -> Option<usize> {
    seen.iter().find(|s| &s.0 == key.key_data()).map(|s| s.1)
}

/// One line to a usable key with its root and mode: the line as sshd
/// reads it ([`keyline::parse_line`]), then what `serve` needs of it.
/// `authorize` checks the line it writes with this same function.
pub fn parse_entry(
    line: &str,
    defaults: Option<&WrapperFlags>,
    home: Option<&Path>,
) -> Result<(KeyLine, WrapperFlags), LineError> {
    let kl = keyline::parse_line(line)?;
    check_supported(&kl)?;
    let flags = match &kl.options.command {
        Some(c) => flags_from_command(c, home).map_err(LineError::Command)?,
        None => defaults.cloned().ok_or(LineError::NoCommand)?,
    };
    Ok((kl, flags))
}

/// Refuses what sshd would check and `serve` cannot.
fn check_supported(kl: &KeyLine) -> Result<(), LineError> {
    let o = &kl.options;
    let unsupported = |what: &str| {
        Err(LineError::Unsupported(format!(
            "{what} is not supported by serve"
        )))
    };
    if o.cert_authority {
        return unsupported("cert-authority");
    }
    if o.from.is_some() {
        return unsupported("from=");
    }
    if o.expiry_time.is_some() {
        return unsupported("expiry-time=");
    }
    if o.principals.is_some() {
        return unsupported("principals=");
    }
    if o.flag("verify-required") == Some(true) {
        return unsupported("verify-required");
    }
    // This build cannot verify DSA signatures (nor does sshd by default).
    if matches!(kl.key.key_data(), KeyData::Dsa(_)) {
        return unsupported("an ssh-dss key");
    }
    // sshd requires a touch for security keys unless told otherwise; the
    // signature check here does not look at the touch flag.
    let sk = matches!(
        kl.key.key_data(),
        KeyData::SkEd25519(_) | KeyData::SkEcdsaSha2NistP256(_)
    );
    if sk && o.flag("touch-required") != Some(false) {
        return unsupported("a security key without no-touch-required");
    }
    Ok(())
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
    const K: [&str; 4] = [
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIADjQrjnIZ+rFKuz9zQIwn8ncn5ZqOEX0xRtjJKw0bEI",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFrflsMNzhO63+BQf6Vb7CpncsyPCyqJJqUiQGVrLFec",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINNA1XDdOZGfsrOivrile0xxZ2RZLken/TSJrpsrU/O7",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHNObtsqWjK1dYSlAwFGtbkWhI7eRAI6AjLlkXNEEgff",
    ];

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
    fn lines() {
        let text = format!(
            "# comment\ncommand=\"/usr/bin/rrsync-rs -ro '/srv/a b'\",restrict {KEY}\n\
             {}\nfrom=\"10.0.0.1\",command=\"rrsync-rs /x\" {}\n\
             command=\"/bin/sh -c ls\" {}\ncommand=\"rrsync -wo rel\" {}\n",
            K[0], K[1], K[2], K[3]
        );
        let home = PathBuf::from("/home/u");
        let (e, w) = parse(&text, None, Some(&home));
        assert_eq!(e.len(), 2, "{w:?}");
        assert_eq!(e[0].flags.mode, Mode::ReadOnly);
        assert_eq!(e[0].flags.root, PathBuf::from("/srv/a b"));
        assert_eq!(e[1].flags.root, PathBuf::from("/home/u/rel"));
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(
            w[0].starts_with("line 3:") && w[1].starts_with("line 4:"),
            "{w:?}"
        );
        let defaults = e[1].flags.clone();
        let (e, _) = parse(&text, Some(&defaults), Some(&home));
        assert_eq!(e.len(), 3);
        assert_eq!(e[1].flags.mode, Mode::WriteOnly);
    }

    #[test]
    fn two_commands_fail_closed() {
        let text = format!(
            "command=\"rrsync-rs -ro /srv\",command=\"rrsync-rs /\" {KEY}\n\
             command=\"rrsync-rs -ro /a\",Command=\"rrsync-rs /\",restrict {}\n",
            K[0]
        );
        let (e, w) = parse(&text, None, None);
        assert!(e.is_empty(), "{e:?}");
        assert_eq!(w.len(), 2);
        assert!(
            w[0].starts_with("line 1: bad options (multiple \"command\""),
            "{w:?}"
        );
        assert!(
            !w.iter().any(|l| l.contains("AAAA")),
            "no key material: {w:?}"
        );
    }

    #[test]
    fn first_line_decides_for_a_key() {
        // sshd refuses line 1, so line 2 is the key's line, as in sshd.
        let text = format!(
            "command=\"rrsync-rs -ro /a\",bogus {KEY}\ncommand=\"rrsync-rs -ro /b\" {KEY}\n\
             from=\"10.0.0.1\",command=\"rrsync-rs -ro /c\" {k}\ncommand=\"rrsync-rs /\" {k}\n\
             command=\"rrsync-rs -ro /e\" {k1}\ncommand=\"rrsync-rs /\" {k1}\n\
             pty,no-pty,command=\"rrsync-rs -ro /g\" {k2}\ncommand=\"rrsync-rs /\" {k2}\n",
            k = K[0],
            k1 = K[1],
            k2 = K[2]
        );
        let (e, w) = parse(&text, None, None);
        let roots: Vec<_> = e.iter().map(|e| (e.line, e.flags.root.clone())).collect();
        assert_eq!(
            roots,
            [(2, PathBuf::from("/b")), (5, PathBuf::from("/e"))],
            "{w:?}"
        );
        for n in [4, 6, 8] {
            assert!(
                w.iter()
                    .any(|l| l.starts_with(&format!("line {n}: the same key"))),
                "line {n}: {w:?}"
            );
        }
    }

    #[test]
    fn dsa_keys_are_not_counted() {
        let text = format!("command=\"rrsync-rs /x\" {DSA}\n");
        let (e, w) = parse(&text, None, None);
        assert!(e.is_empty());
        assert_eq!(
            w,
            ["line 1: an ssh-dss key is not supported by serve; skipped"]
        );
    }

    const DSA: &str = "ssh-dss AAAAB3NzaC1kc3MAAACBAKWfmOLcHe35Ik2r9uT/5UrxjmvqtI6tbUAigsyO4jAJNK8O2vmnYIVJyOlpXJeslcKLcpM8ZqzNCBggqSlLtWDyljHdHzEA6YLN7Ua1LpbysPg8mgSO203oexkQQIcjzt3LGVGA2VX6FFpxjN6Ws3QPqtDWNDTyzMpLQbtGX+aNAAAAFQD8h6fW8ex7RpngC1HgNKjPvxB2PQAAAIEAiGbD0hGOcoLnxn0YbgOpCWQxMuyqQrkWivjIg6iUirTRtpuLe0LWT7cmLy3qEDGexfphj78YEEvKOIDHkL8N4MnpP19DdEVO0fg8nxa9YT4Ezbn3cqIECqDaaNEN06I/Sa7U5swPp3/LOX2WFE3lTDF+r7+FQAnaIR0E9zDdkPQAAACAFEM2lJhoQE33mTEPJGngGgAqePB6IoQ8yn8mTZFeVu1/ySSnBgvcnvAj45N8rbu9pyqp4jf0k3DebOX8DxGhcpZM5lFBWp/c6DWjcxxTo/kENXLk6WkqlUO3e31KOOqtUdME88T2vslWBLFJIMMW/uSRpxLCj8L5mhmyNbxKDK4=";

    #[test]
    fn non_utf8_line_is_skipped_alone() {
        let mut text = b"# caf\xe9\n".to_vec();
        text.extend_from_slice(b"command=\"rrsync-rs /x\" ");
        text.extend_from_slice(K[0].as_bytes());
        text.extend_from_slice(b" caf\xe9\n");
        text.extend_from_slice(format!("command=\"rrsync-rs /y\" {}\n", K[1]).as_bytes());
        let (e, w) = parse(&text, None, None);
        assert_eq!(e.len(), 1);
        assert_eq!(w, ["line 2: not UTF-8; skipped"]);
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
