//! Who owns the `authorized_keys` file `authorize` writes. sshd reads a
//! user's keys file with that user's rights and refuses it when someone
//! else may write it (OpenSSH `auth2-pubkeyfile.c`, StrictModes), so a
//! file root writes for user u must end up u's, mode 0600, in a `.ssh`
//! directory of u's. Run as root, `--user NAME` names the account; by
//! default the owner of the file's directory (or, when that is still to
//! be made, of its parent, the home directory) is used. Not run as root,
//! files are the caller's own and nothing is given away.
//! Independent of the rsync protocol.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The owner to give a written file and a created directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
}

impl Owner {
    /// The owner for `file`: `None` when not running as root (nothing to
    /// change), the `--user` account, or the owner of the nearest existing
    /// of the file's directory and its parent.
    pub fn for_file(file: &Path, user: Option<&str>) -> Result<Option<Owner>, String> {
        let root = rustix::process::geteuid().is_root();
        match (user, root) {
            (Some(_), false) => Err("--user needs root".into()),
            (Some(name), true) => lookup(name).map(Some),
            (None, false) => Ok(None),
            (None, true) => Ok(Some(dir_owner(file)?)),
        }
    }

    /// Gives `path` to this owner.
    pub fn apply(&self, path: &Path) -> Result<(), String> {
        std::os::unix::fs::chown(path, Some(self.uid), Some(self.gid))
            .map_err(|e| format!("cannot give {} to uid {}: {e}", path.display(), self.uid))
    }
}

/// The owner of the file's directory, or of that directory's parent when
/// the directory does not exist yet.
fn dir_owner(file: &Path) -> Result<Owner, String> {
    let dir = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let candidates = [Some(dir), dir.parent()];
    for d in candidates.into_iter().flatten() {
        let d = if d.as_os_str().is_empty() {
            Path::new(".")
        } else {
            d
        };
        if let Ok(m) = std::fs::metadata(d) {
            return Ok(Owner {
                uid: m.uid(),
                gid: m.gid(),
            });
        }
    }
    Err(format!(
        "cannot find who owns {} (neither it nor its parent exists; use --user)",
        dir.display()
    ))
}

/// `NAME`'s uid and primary gid from `/etc/passwd`.
fn lookup(name: &str) -> Result<Owner, String> {
    let passwd = std::fs::read_to_string("/etc/passwd")
        .map_err(|e| format!("cannot read /etc/passwd: {e}"))?;
    find(&passwd, name)
        .ok_or_else(|| format!("no user `{}` in /etc/passwd", crate::cli::snippet(name)))
}

/// `NAME:x:UID:GID:...` in passwd text.
fn find(passwd: &str, name: &str) -> Option<Owner> {
    passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        (f.next()? == name).then_some(())?;
        let _pw = f.next()?;
        Some(Owner {
            uid: f.next()?.parse().ok()?,
            gid: f.next()?.parse().ok()?,
        })
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn passwd_lines() {
        let t = "root:x:0:0::/root:/bin/sh\nu:x:1001:1002::/home/u:/bin/sh\n";
        assert_eq!(
            find(t, "u"),
            Some(Owner {
                uid: 1001,
                gid: 1002
            })
        );
        assert_eq!(find(t, "v"), None);
        assert_eq!(find(t, "ro"), None);
    }
}
