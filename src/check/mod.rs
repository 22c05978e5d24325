//! `rrsync-rs check [FILE|--line LINE] [--migrate]`: lints an
//! `authorized_keys` file the way sshd (OpenSSH `auth2-pubkeyfile.c`,
//! `auth-options.c`, StrictModes in `auth.c`) and `serve`
//! ([`crate::ssh::authkeys`]) read it, and prints per key line what it
//! grants and what is wrong with it. Keys, fingerprints and key sizes come
//! from the `ssh-key` crate (through russh), so this module needs the
//! `ssh` feature. `--migrate` turns rsync's `rrsync` lines into rrsync-rs
//! lines ([`migrate`]). Independent of the rsync protocol.

pub mod lint;
pub mod migrate;
pub mod perms;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use russh::keys::ssh_key::HashAlg;
use russh::keys::PublicKey;

use crate::cli::commands::{self, CheckCli};

/// A key's `SHA256:...` fingerprint, as `ssh-keygen -l` prints it.
pub fn fingerprint(k: &PublicKey) -> String {
    k.fingerprint(HashAlg::Sha256).to_string()
}

/// One line of `authorize --list`: type, fingerprint, comment and what
/// the line grants; `None` for blank lines, comments and lines without a
/// key.
pub fn summary(line: &str) -> Option<String> {
    let r = lint::lint_line(line, None, &mut Vec::new())?;
    Some(format!("{}: {}", r.head, r.grants))
}

/// The home directory the keys in `file` belong to: `H` for
/// `H/.ssh/FILE`, else `$HOME`.
pub fn home_of(file: &Path) -> Option<PathBuf> {
    let dir = file.parent()?;
    if dir.file_name().is_some_and(|n| n == ".ssh") {
        return dir.parent().map(Path::to_path_buf);
    }
    std::env::var_os("HOME").map(PathBuf::from)
}

fn default_file() -> PathBuf {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    home.join(".ssh/authorized_keys")
}

/// Runs `check`; returns the exit code: 0 clean, 1 problems found (or a
/// usage error), 2 the file cannot be read.
pub fn run(args: Vec<OsString>) -> i32 {
    let a = match commands::parse::<CheckCli>(args) {
        Ok(a) => a,
        Err(code) => return code,
    };
    if a.migrate {
        return migrate::run(&a);
    }
    match &a.line {
        Some(line) => print_lines(line, None, Vec::new()),
        None => {
            let file = a.file.clone().unwrap_or_else(default_file);
            match std::fs::read_to_string(&file) {
                Ok(text) => {
                    println!("{}:", file.display());
                    let home = home_of(&file);
                    print_lines(&text, home.as_deref(), perms::check(&file))
                }
                Err(e) => {
                    eprintln!("rrsync-rs check: cannot read {}: {e}", file.display());
                    2
                }
            }
        }
    }
}

/// Prints the file's problems and each key line's report; returns the
/// exit code.
fn print_lines(text: &str, home: Option<&Path>, file_problems: Vec<String>) -> i32 {
    let mut problems = file_problems.len();
    for p in &file_problems {
        println!("  problem: {p}");
    }
    let reports = lint::lint_text(text, home);
    for r in &reports {
        println!("line {}: {}", r.n, r.head);
        println!("  grants: {}", r.grants);
        for note in &r.notes {
            println!("  note: {note}");
        }
        for p in &r.problems {
            println!("  problem: {p}");
        }
        problems += r.problems.len();
    }
    println!("{} key line(s), {problems} problem(s)", reports.len());
    i32::from(problems > 0)
}
