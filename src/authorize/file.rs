//! Changing an `authorized_keys` file for `authorize`: add a line (or
//! replace the line of the same key, `--replace`), remove a key's lines
//! (`--remove`), list the keys (`--list`). A key is told by its public
//! key blob wherever sshd finds it on the line (after any options), so a
//! comment or an option naming another key does not count. Every change
//! rewrites the file through a temporary file in the same directory,
//! renamed over it, mode 0600 and given to the [`Owner`]; a missing
//! directory is created 0700 for the same owner. Independent of the rsync
//! protocol.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

use super::{Owner, KEY_TYPES};

/// The key blob (the base64 word) of a `TYPE BASE64 [COMMENT]` text.
fn blob_of_key(key: &str) -> Option<String> {
    let mut w = key.split_whitespace();
    let ty = w.next()?;
    KEY_TYPES
        .contains(&ty)
        .then(|| w.next().map(str::to_string))?
}

/// Whether sshd skips the line (blank or a comment).
fn skipped(line: &str) -> bool {
    matches!(
        line.trim_start_matches([' ', '\t']).chars().next(),
        None | Some('#')
    )
}

/// The key blob sshd finds on a line of the file.
#[cfg(feature = "ssh")]
pub fn blob_of_line(line: &str) -> Option<String> {
    if skipped(line) {
        return None;
    }
    let mut k = crate::ssh::keyline::key_of(line)?;
    k.set_comment("");
    blob_of_key(&k.to_openssh().ok()?)
}

/// The key blob on a line: the word after the first key type word.
#[cfg(not(feature = "ssh"))]
pub fn blob_of_line(line: &str) -> Option<String> {
    if skipped(line) {
        return None;
    }
    let mut w = line.split_whitespace();
    w.by_ref().find(|t| KEY_TYPES.contains(t))?;
    w.next().map(str::to_string)
}

fn read_text(file: &Path) -> Result<String, String> {
    match std::fs::read(file) {
        Ok(b) => String::from_utf8(b).map_err(|_| format!("{} is not UTF-8", file.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(format!("cannot read {}: {e}", file.display())),
    }
}

/// Adds `line` (for `key`) to `file`. When the key is there already:
/// refused, or with `replace` its first line becomes `line` and its other
/// lines go. Returns what was done, for the message.
pub fn append(
    file: &Path,
    line: &str,
    key: &str,
    replace: bool,
    owner: Option<Owner>,
) -> Result<&'static str, String> {
    let want = blob_of_key(key).ok_or("the key has no key data")?;
    let existing = read_text(file)?;
    let same = |l: &str| blob_of_line(l).as_deref() == Some(want.as_str());
    let mut out: Vec<&str> = Vec::new();
    let mut found = None;
    for (n, l) in existing.lines().enumerate() {
        match (same(l), found) {
            (false, _) => out.push(l),
            (true, None) => {
                found = Some(n + 1);
                out.push(line);
            }
            (true, Some(_)) => {}
        }
    }
    match (found, replace) {
        (Some(n), false) => {
            return Err(format!(
                "this key is already in {} (line {n}); use --replace, or --remove it first",
                file.display()
            ))
        }
        (Some(_), true) => {}
        (None, _) => out.push(line),
    }
    write_file(file, &out, owner)?;
    Ok(if found.is_some() {
        "replaced the key's line in"
    } else {
        "added to"
    })
}

/// Removes every line holding the key `which` (a `.pub` file, the key's
/// `TYPE BASE64` text or its `SHA256:` fingerprint); returns how many.
pub fn remove(file: &Path, which: &str, owner: Option<Owner>) -> Result<usize, String> {
    let matches = matcher(which)?;
    let existing = read_text(file)?;
    let kept: Vec<&str> = existing.lines().filter(|l| !matches(l)).collect();
    let gone = existing.lines().count() - kept.len();
    if gone == 0 {
        return Err(format!("no line of {} holds that key", file.display()));
    }
    write_file(file, &kept, owner)?;
    Ok(gone)
}

/// A test for "this line holds the key ...".
type Matcher = Box<dyn Fn(&str) -> bool>;

/// The [`Matcher`] for the key `which`.
fn matcher(which: &str) -> Result<Matcher, String> {
    if which.starts_with("SHA256:") {
        return fingerprint_matcher(which);
    }
    let text = match std::fs::read_to_string(which) {
        Ok(t) => super::key_from_text(&t)?,
        Err(_) => super::key_from_text(which)?,
    };
    let want = blob_of_key(&text).ok_or("the key has no key data")?;
    Ok(Box::new(move |l| {
        blob_of_line(l).as_deref() == Some(want.as_str())
    }))
}

#[cfg(feature = "ssh")]
fn fingerprint_matcher(fp: &str) -> Result<Matcher, String> {
    let fp = fp.to_string();
    Ok(Box::new(move |l| {
        crate::ssh::keyline::key_of(l).is_some_and(|k| crate::check::fingerprint(&k) == fp)
    }))
}

#[cfg(not(feature = "ssh"))]
fn fingerprint_matcher(_: &str) -> Result<Matcher, String> {
    Err("fingerprints need the `ssh` feature; give the key instead".into())
}

/// Prints one line per key of `file`: number, type, fingerprint,
/// comment and what it grants. Returns the number of keys.
#[cfg(feature = "ssh")]
pub fn list(file: &Path) -> Result<usize, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let mut n = 0;
    for (i, l) in text.lines().enumerate() {
        if let Some(s) = crate::check::summary(l) {
            println!("{}: {s}", i + 1);
            n += 1;
        }
    }
    Ok(n)
}

/// Without the `ssh` feature there is no key parser to list with.
#[cfg(not(feature = "ssh"))]
pub fn list(_: &Path) -> Result<usize, String> {
    Err("--list needs the `ssh` feature".into())
}

/// Writes `lines` as `file`: a temporary file beside it (0600, given to
/// `owner`), renamed over it. Creates a missing directory 0700.
pub fn write_file(file: &Path, lines: &[&str], owner: Option<Owner>) -> Result<(), String> {
    let dir = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        if let Some(o) = owner {
            o.apply(dir)?;
        }
    }
    let name = file.file_name().ok_or("the keys file has no name")?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".rrsync-rs.{}", std::process::id()));
    let tmp = dir.join(tmp_name);
    let result = write_tmp(&tmp, lines, owner).and_then(|()| {
        std::fs::rename(&tmp, file).map_err(|e| format!("cannot replace {}: {e}", file.display()))
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn write_tmp(tmp: &Path, lines: &[&str], owner: Option<Owner>) -> Result<(), String> {
    let err = |e: std::io::Error| format!("cannot write {}: {e}", tmp.display());
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(tmp)
        .map_err(err)?;
    let mut text = lines.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    f.write_all(text.as_bytes()).map_err(err)?;
    if let Some(o) = owner {
        std::os::unix::fs::fchown(&f, Some(o.uid), Some(o.gid)).map_err(err)?;
    }
    f.sync_all().map_err(err)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    const A: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIADjQrjnIZ+rFKuz9zQIwn8ncn5ZqOEX0xRtjJKw0bEI a@h";
    const B: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFrflsMNzhO63+BQf6Vb7CpncsyPCyqJJqUiQGVrLFec b@h";

    #[test]
    fn add_replace_remove() {
        let d = std::env::temp_dir().join(format!("rrsync-authz-file-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let f = d.join(".ssh/authorized_keys");
        append(&f, &format!("restrict {A}"), A, false, None).unwrap();
        append(&f, &format!("restrict {B}"), B, false, None).unwrap();
        assert!(append(&f, &format!("restrict {A}"), A, false, None).is_err());
        append(&f, &format!("no-pty {A}"), A, true, None).unwrap();
        let text = std::fs::read_to_string(&f).unwrap();
        assert_eq!(text, format!("no-pty {A}\nrestrict {B}\n"));
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode(&d.join(".ssh")), mode(&f)), (0o700, 0o600));
        // A comment naming key A is not key A's line.
        std::fs::write(&f, format!("# {A}\nrestrict {B}\n")).unwrap();
        assert!(remove(&f, A, None).is_err());
        assert_eq!(remove(&f, B, None).unwrap(), 1);
        assert_eq!(std::fs::read_to_string(&f).unwrap(), format!("# {A}\n"));
        let _ = std::fs::remove_dir_all(&d);
    }
}
