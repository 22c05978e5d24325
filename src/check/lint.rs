//! One `authorized_keys` line at a time: what sshd and `serve` make of it
//! ([`crate::ssh::keyline`], [`crate::ssh::authkeys`]) and what is wrong
//! with it. Independent of the rsync protocol.

use std::path::Path;

use russh::keys::ssh_key::public::KeyData;
use russh::keys::PublicKey;

use crate::cli::{Mode, WrapperFlags};
use crate::ssh::authkeys;
use crate::ssh::keyline::{self, KeyLine, KeyOptions, LineError};

/// The smallest RSA modulus worth accepting (OpenSSH refuses keys under
/// 1024 bits; NIST retired 1024-bit RSA in 2013).
pub const MIN_RSA_BITS: u32 = 2048;

/// The flags `restrict` stands for, as `no-` flags.
const RESTRICTED: &[&str] = &[
    "pty",
    "port-forwarding",
    "agent-forwarding",
    "x11-forwarding",
];

/// What one key line means and what is wrong with it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// 1-based line number.
    pub n: usize,
    /// `TYPE SHA256:... COMMENT`.
    pub head: String,
    /// What a client holding the key may do.
    pub grants: String,
    /// Facts worth knowing that are not problems.
    pub notes: Vec<String>,
    /// Problems: each makes `check` fail.
    pub problems: Vec<String>,
}

/// Reports for every key line of `text` (blank lines and comments are
/// skipped, as sshd skips them).
pub fn lint_text(text: &str, home: Option<&Path>) -> Vec<Report> {
    let mut seen: Vec<(KeyData, usize)> = Vec::new();
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(mut r) = lint_line(line, home, &mut seen) {
            r.n = i + 1;
            if let Some(last) = seen.last_mut() {
                if last.1 == 0 {
                    last.1 = r.n;
                }
            }
            out.push(r);
        }
    }
    out
}

/// The report for one line; `None` for a blank line or a comment. `seen`
/// holds the keys of earlier lines (line 0 for this one until the caller
/// numbers it).
pub fn lint_line(
    line: &str,
    home: Option<&Path>,
    seen: &mut Vec<(KeyData, usize)>,
) -> Option<Report> {
    let t = line.trim_start_matches([' ', '\t']);
    if t.is_empty() || t.starts_with('#') {
        return None;
    }
    let mut r = Report::default();
    let kl = match keyline::parse_line(line) {
        Ok(kl) => kl,
        Err(e) => {
            r.head = keyline::key_of(line).map_or_else(|| "(no key)".into(), |k| head(&k));
            r.grants = "nothing: sshd or serve refuses this line".into();
            r.problems.push(e.to_string());
            return Some(r);
        }
    };
    r.head = head(&kl.key);
    key_problems(&kl.key, seen, &mut r);
    restrict_problems(&kl.options, &mut r);
    command_report(&kl, line, home, &mut r);
    Some(r)
}

fn head(k: &PublicKey) -> String {
    let c = k.comment().to_string();
    let fp = super::fingerprint(k);
    let ty = k.algorithm().to_string();
    if c.is_empty() {
        format!("{ty} {fp}")
    } else {
        format!("{ty} {fp} {c}")
    }
}

fn key_problems(k: &PublicKey, seen: &mut Vec<(KeyData, usize)>, r: &mut Report) {
    if let Some(first) = seen.iter().find(|s| &s.0 == k.key_data()) {
        r.problems.push(format!(
            "the same key as line {}: sshd uses only the first line with a key",
            first.1
        ));
    } else {
        seen.push((k.key_data().clone(), 0));
    }
    if let KeyData::Rsa(rsa) = k.key_data() {
        let bits = rsa.key_size();
        if bits < MIN_RSA_BITS {
            r.problems.push(format!(
                "an RSA key of {bits} bits (use at least {MIN_RSA_BITS}, or ed25519)"
            ));
        }
    }
}

fn restrict_problems(o: &KeyOptions, r: &mut Report) {
    if o.restrict {
        return;
    }
    let missing: Vec<String> = RESTRICTED
        .iter()
        .filter(|f| o.flag(f) != Some(false))
        .map(|f| format!("no-{f}"))
        .collect();
    if !missing.is_empty() {
        r.problems.push(format!(
            "no `restrict` (nor {}): under sshd the key may open a terminal or forward ports",
            missing.join(", ")
        ));
    }
}

/// The command's part of the report: what it grants, the program, the
/// root, and whether serve can honour the line.
fn command_report(kl: &KeyLine, line: &str, home: Option<&Path>, r: &mut Report) {
    let Some(cmd) = &kl.options.command else {
        r.grants =
            "any command: no command= (serve refuses the key unless it has a default DIR)".into();
        r.problems
            .push("no command=: under sshd the key runs anything".into());
        return;
    };
    if let Some(c) = cmd.chars().find(|c| *c == '$' || *c == '~') {
        r.problems.push(format!(
            "`{c}` in command=: serve does not expand it (sshd's shell would); write the path out"
        ));
    }
    let words = match authkeys::split_words(cmd) {
        Ok(w) => w,
        Err(e) => {
            r.grants = format!("the command `{}`", crate::cli::snippet(cmd));
            r.problems.push(e);
            return;
        }
    };
    let (prog, _) = migrate_program(&words);
    program_problems(prog, r);
    if is_upstream(prog) {
        r.notes.push(
            "runs rsync's rrsync script: `rrsync-rs check --migrate` prints the rrsync-rs line"
                .into(),
        );
    }
    match authkeys::flags_from_command(cmd, home) {
        Ok(f) => {
            r.grants = grants(&f);
            if !f.root.exists() {
                r.problems
                    .push(format!("the root {} does not exist", f.root.display()));
            }
        }
        Err(e) => {
            r.grants = format!("the command `{}` (not rrsync-rs)", crate::cli::snippet(cmd));
            r.notes.push(format!("serve cannot use this line: {e}"));
            return;
        }
    }
    match authkeys::parse_entry(line, None, home) {
        Err(LineError::Unsupported(s)) => {
            r.problems.push(format!("serve cannot enforce this: {s}"))
        }
        Err(e) => r.problems.push(format!("serve refuses this line: {e}")),
        Ok(_) => {}
    }
}

/// The program word of a command, past a `python3` interpreter, and the
/// words after it.
pub fn migrate_program(words: &[String]) -> (&str, &[String]) {
    let base = |w: &str| {
        Path::new(w)
            .file_name()
            .map(|b| b.to_string_lossy().into_owned())
    };
    match words.split_first() {
        Some((first, rest)) if base(first).is_some_and(|b| b.starts_with("python")) => {
            match rest.split_first() {
                Some((p, tail)) => (p.as_str(), tail),
                None => (first.as_str(), rest),
            }
        }
        Some((first, rest)) => (first.as_str(), rest),
        None => ("", &[]),
    }
}

/// Whether `prog` names rsync's own rrsync script.
pub fn is_upstream(prog: &str) -> bool {
    Path::new(prog)
        .file_name()
        .is_some_and(|b| b == "rrsync" || b == "rrsync.py")
}

fn program_problems(prog: &str, r: &mut Report) {
    let p = Path::new(prog);
    if p.is_absolute() && !p.exists() {
        r.problems
            .push(format!("the program {prog} does not exist"));
    }
    if crate::authorize::in_build_dir(p) {
        r.problems.push(format!(
            "the program {prog} is in a build directory (target/): a rebuild or cargo clean changes it; install it"
        ));
    }
    if !p.is_absolute() {
        r.notes
            .push(format!("the program `{prog}` is found through sshd's PATH"));
    }
}

/// What the flags grant, in words.
pub fn grants(f: &WrapperFlags) -> String {
    let mode = match f.mode {
        Mode::ReadOnly => "pull only (read-only)",
        Mode::WriteOnly => "push only (write-only)",
        Mode::ReadWrite => "pull and push",
    };
    let words = f.flag_words();
    let flags = if words.is_empty() {
        String::new()
    } else {
        format!(" [{}]", words.join(" "))
    };
    format!("rrsync-rs: {mode} beneath {}{flags}", f.root.display())
}

#[cfg(test)]
#[path = "lint_tests.rs"]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
