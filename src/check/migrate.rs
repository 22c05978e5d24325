//! `check --migrate`: a line whose `command=` runs rsync's `rrsync`
//! script (`rrsync`, `/usr/bin/rrsync`, `.../support/rrsync`, or
//! `python3 .../rrsync`) becomes the rrsync-rs line: this program's path,
//! the same flags and DIR (rrsync-rs takes rrsync's flags), the other
//! options kept, `restrict` added when missing. The new line is read back
//! the way `serve` reads it and must grant what the old flags say.
//! Other lines are printed unchanged, so the output is the whole new file.
//! Independent of the rsync protocol.

use std::path::{Path, PathBuf};

use super::lint::{is_upstream, migrate_program};
use crate::authorize::{option_value, program_path, sh_quote};
use crate::cli::commands::CheckCli;
use crate::ssh::{authkeys, keyline};

/// Runs `check --migrate`; returns the exit code (1 when a rrsync line
/// could not be migrated).
pub fn run(a: &CheckCli) -> i32 {
    let program = match program_path(a.program.as_deref(), "check") {
        Ok(p) => p,
        Err(e) => {
            eprintln!("rrsync-rs check: {e}");
            return 1;
        }
    };
    let (text, home) = match &a.line {
        Some(l) => (l.clone(), std::env::var_os("HOME").map(PathBuf::from)),
        None => {
            let file = a.file.clone().unwrap_or_else(super::default_file);
            match std::fs::read_to_string(&file) {
                Ok(t) => (t, super::home_of(&file)),
                Err(e) => {
                    eprintln!("rrsync-rs check: cannot read {}: {e}", file.display());
                    return 2;
                }
            }
        }
    };
    let (mut done, mut failed) = (0, 0);
    for (i, l) in text.lines().enumerate() {
        match migrate_line(l, &program, home.as_deref()) {
            Ok(Some(new)) => {
                println!("{new}");
                done += 1;
            }
            Ok(None) => println!("{l}"),
            Err(e) => {
                println!("{l}");
                eprintln!("rrsync-rs check: line {}: not migrated: {e}", i + 1);
                failed += 1;
            }
        }
    }
    eprintln!("rrsync-rs check: {done} rrsync line(s) migrated, {failed} failed");
    i32::from(failed > 0)
}

/// The rrsync-rs line for an rrsync `line`; `None` when the line does not
/// run rrsync (or is blank or a comment).
pub fn migrate_line(
    line: &str,
    program: &Path,
    home: Option<&Path>,
) -> Result<Option<String>, String> {
    let t = line.trim_start_matches([' ', '\t']);
    if t.is_empty() || t.starts_with('#') {
        return Ok(None);
    }
    let kl = keyline::parse_line(t).map_err(|e| e.to_string())?;
    let Some(cmd) = &kl.options.command else {
        return Ok(None);
    };
    let words = match authkeys::split_words(cmd) {
        Ok(w) => w,
        // Words split at blanks only tell whether the line was meant for rrsync.
        Err(e) => {
            let rough: Vec<String> = cmd.split_whitespace().map(str::to_string).collect();
            return if is_upstream(migrate_program(&rough).0) {
                Err(e)
            } else {
                Ok(None)
            };
        }
    };
    let (prog, rest) = migrate_program(&words);
    if !is_upstream(prog) {
        return Ok(None);
    }
    let args: Vec<String> = rest.iter().map(|w| sh_quote(w)).collect();
    let want = authkeys::flags_from_command(&format!("rrsync {}", args.join(" ")), home)?;
    let prog_text = program.to_str().ok_or("the program path is not UTF-8")?;
    crate::authorize::no_control("the program path", prog_text)?;
    let new_cmd = std::iter::once(sh_quote(prog_text))
        .chain(args)
        .collect::<Vec<_>>()
        .join(" ");
    let end = keyline::options_end(t).ok_or("unterminated quote")?;
    let (field, key) = t.split_at(end);
    let mut opts = split_options(field);
    for o in opts.iter_mut() {
        if o.get(..8)
            .is_some_and(|p| p.eq_ignore_ascii_case("command="))
        {
            *o = format!("command=\"{}\"", option_value(&new_cmd));
        }
    }
    if !opts.iter().any(|o| o.eq_ignore_ascii_case("restrict")) {
        opts.push("restrict".into());
    }
    let new = format!("{} {}", opts.join(","), key.trim_start_matches([' ', '\t']));
    match authkeys::parse_entry(&new, None, home) {
        Ok((_, got)) if got == want => Ok(Some(new)),
        Ok(_) => Err("the new line does not read back with the same flags".into()),
        Err(e) => Err(format!("the new line would not be usable by serve: {e}")),
    }
}

/// The options field split at commas outside double quotes (`\"` does not
/// end a quote), as sshd reads it.
fn split_options(field: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut quoted, mut prev) = (false, '\0');
    for c in field.chars() {
        match c {
            '"' if prev != '\\' => quoted = !quoted,
            ',' if !quoted => {
                out.push(std::mem::take(&mut cur));
                prev = c;
                continue;
            }
            _ => {}
        }
        cur.push(c);
        prev = c;
    }
    out.push(cur);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDRQbSdUkrvxY/lZk0qbOpy6B3s8LIbBoA5S6SBPHxyz me@host";

    fn m(line: &str) -> Result<Option<String>, String> {
        migrate_line(
            line,
            Path::new("/usr/local/bin/rrsync-rs"),
            Some(Path::new("/h")),
        )
    }

    #[test]
    fn rrsync_lines_become_rrsync_rs_lines() {
        let new = m(&format!("command=\"rrsync -ro /srv/x\",no-pty {KEY}"))
            .unwrap()
            .unwrap();
        assert_eq!(
            new,
            format!("command=\"/usr/local/bin/rrsync-rs -ro /srv/x\",no-pty,restrict {KEY}")
        );
        let new = m(&format!(
            "restrict,command=\"python3 /usr/share/rsync/support/rrsync -wo -no-del 'a b'\" {KEY}"
        ))
        .unwrap()
        .unwrap();
        assert_eq!(
            new,
            format!("restrict,command=\"/usr/local/bin/rrsync-rs -wo -no-del 'a b'\" {KEY}")
        );
        assert_eq!(
            m(&format!("command=\"/usr/bin/rsync --server\" {KEY}")).unwrap(),
            None
        );
        assert_eq!(m(&format!("# command=\"rrsync /x\" {KEY}")).unwrap(), None);
        assert_eq!(m(KEY).unwrap(), None);
        assert!(m(&format!("command=\"/usr/bin/rrsync -ro -wo /x\" {KEY}")).is_err());
    }

    #[test]
    fn options_split_outside_quotes() {
        assert_eq!(
            split_options("a,command=\"x,\\\"y\",b"),
            ["a", "command=\"x,\\\"y\"", "b"]
        );
    }
}
