//! The keys file's permissions and owner, as sshd's StrictModes checks
//! them (OpenSSH `auth.c` `auth_secure_path`): the file, its `.ssh`
//! directory and the home directory must be writable by their owner
//! only, and owned by the user or root. sshd also reads the file with the
//! user's rights, so a root-owned file the user cannot read is refused as
//! well. Independent of the rsync protocol.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The problems of `file` and the directories above it up to the home
/// directory (`.ssh`'s parent); the user is the home directory's owner, or
/// the caller when the file is not in a `.ssh` directory.
pub fn check(file: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let user = user_of(file);
    let Ok(m) = std::fs::metadata(file) else {
        return out;
    };
    one(file, &m, user, &mut out);
    if m.uid() == 0 && user != 0 && m.mode() & 0o004 == 0 {
        out.push(format!(
            "{} is root's and not readable by uid {user}: sshd reads it as the user",
            file.display()
        ));
    }
    for dir in dirs(file) {
        if let Ok(dm) = std::fs::metadata(&dir) {
            one(&dir, &dm, user, &mut out);
        }
    }
    out
}

/// The user the file is for.
fn user_of(file: &Path) -> u32 {
    let home = file
        .parent()
        .filter(|d| d.file_name().is_some_and(|n| n == ".ssh"))
        .and_then(Path::parent);
    match home.and_then(|h| std::fs::metadata(h).ok()) {
        Some(m) => m.uid(),
        None => rustix::process::geteuid().as_raw(),
    }
}

/// The `.ssh` directory and the home directory above `file`, when the
/// file is in a `.ssh` directory (else none: a file elsewhere is checked
/// alone).
fn dirs(file: &Path) -> Vec<PathBuf> {
    let Some(dir) = file
        .parent()
        .filter(|d| d.file_name().is_some_and(|n| n == ".ssh"))
    else {
        return Vec::new();
    };
    let mut v = vec![dir.to_path_buf()];
    v.extend(dir.parent().map(Path::to_path_buf));
    v
}

fn one(p: &Path, m: &std::fs::Metadata, user: u32, out: &mut Vec<String>) {
    let mode = m.mode() & 0o7777;
    if mode & 0o022 != 0 {
        out.push(format!(
            "{} is group- or world-writable (mode {mode:04o}): sshd refuses the keys",
            p.display()
        ));
    }
    if m.uid() != user && m.uid() != 0 {
        out.push(format!(
            "{} is owned by uid {}, not by uid {user} or root: sshd refuses the keys",
            p.display(),
            m.uid()
        ));
    }
}
