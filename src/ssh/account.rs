//! Unix accounts for `serve --user-keys`, as sshd finds them: the login
//! name selects a passwd entry (`getpwnam`), its groups are the primary
//! group and every `/etc/group` entry that lists the name (`initgroups`),
//! and its keys are `~/.ssh/authorized_keys`, read only if no one but the
//! account and root could have written it (sshd's `StrictModes`,
//! `auth2-pubkeyfile.c`, which checks from the file up to the home
//! directory). Independent of the rsync protocol.

use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use rustix::fs::{fstat, openat, FileType, Mode, OFlags, CWD};

/// The longest login name looked up (Linux `useradd` allows 32).
pub const MAX_LOGIN: usize = 32;
/// The largest keys file read.
pub const MAX_KEYS_FILE: u64 = 1 << 20;
/// The most supplementary groups kept (Linux `NGROUPS_MAX`).
pub const MAX_GROUPS: usize = 65536;

/// One account a session may run as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The login name.
    pub name: String,
    /// Its user id.
    pub uid: u32,
    /// Its primary group.
    pub gid: u32,
    /// The primary group first, then the supplementary groups.
    pub groups: Vec<u32>,
    /// The home directory.
    pub home: PathBuf,
}

/// Whether `name` may be looked up: the portable user-name characters
/// (letters, digits, `.`, `_`, `-`, a trailing `$`), not starting with
/// `-`, at most [`MAX_LOGIN`] bytes.
pub fn valid_login(name: &str) -> bool {
    let body = name.strip_suffix('$').unwrap_or(name);
    !body.is_empty()
        && name.len() <= MAX_LOGIN
        && !body.starts_with('-')
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// Looks `name` up in `/etc/passwd` and `/etc/group`.
pub fn lookup(name: &str) -> Option<Account> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    let group = std::fs::read_to_string("/etc/group").unwrap_or_default();
    find(&passwd, &group, name)
}

/// [`lookup`] on the texts of the two files.
pub fn find(passwd: &str, group: &str, name: &str) -> Option<Account> {
    if !valid_login(name) {
        return None;
    }
    let (uid, gid, home) = passwd.lines().find_map(|l| passwd_line(l, name))?;
    Some(Account {
        name: name.to_string(),
        uid,
        gid,
        groups: groups_of(group, name, gid),
        home,
    })
}

fn id(field: &str) -> Option<u32> {
    field.parse::<u32>().ok().filter(|&v| v != u32::MAX)
}

/// `name:pw:uid:gid:gecos:home:shell` for `name`.
fn passwd_line(line: &str, name: &str) -> Option<(u32, u32, PathBuf)> {
    let f: Vec<&str> = line.split(':').collect();
    match f.as_slice() {
        [n, _, uid, gid, _, home, ..] if *n == name && home.starts_with('/') => {
            Some((id(uid)?, id(gid)?, PathBuf::from(home)))
        }
        _ => None,
    }
}

/// The primary group, then each `name:pw:gid:a,b,c` line listing `name`.
fn groups_of(group: &str, name: &str, primary: u32) -> Vec<u32> {
    let mut out = vec![primary];
    for line in group.lines() {
        let f: Vec<&str> = line.split(':').collect();
        if let [_, _, gid, members, ..] = f.as_slice() {
            if let Some(g) = id(gid) {
                if members.split(',').any(|m| m == name) && !out.contains(&g) {
                    out.push(g);
                }
            }
        }
        if out.len() >= MAX_GROUPS {
            break;
        }
    }
    out
}

/// Reads `~/.ssh/authorized_keys` of `acc`. The home directory, `.ssh`
/// and the file must each be owned by the account or by root and not be
/// writable by group or others; `.ssh` and the file must not be symlinks.
pub fn read_keys(acc: &Account) -> Result<Vec<u8>, String> {
    let dir = |fd: &OwnedFd| -> Result<(), String> { check(fd, acc.uid, FileType::Directory) };
    let home = openat(
        CWD,
        &acc.home,
        OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| format!("home directory: {e}"))?;
    dir(&home).map_err(|e| format!("home directory {e}"))?;
    let ssh = open_in(&home, ".ssh", OFlags::DIRECTORY).map_err(|e| format!(".ssh: {e}"))?;
    dir(&ssh).map_err(|e| format!(".ssh {e}"))?;
    let file = open_in(&ssh, "authorized_keys", OFlags::NONBLOCK | OFlags::NOCTTY)
        .map_err(|e| format!("authorized_keys: {e}"))?;
    check(&file, acc.uid, FileType::RegularFile).map_err(|e| format!("authorized_keys {e}"))?;
    let mut text = Vec::new();
    std::fs::File::from(file)
        .take(MAX_KEYS_FILE)
        .read_to_end(&mut text)
        .map_err(|e| format!("authorized_keys: {e}"))?;
    Ok(text)
}

fn open_in(dir: &OwnedFd, name: &str, extra: OFlags) -> rustix::io::Result<OwnedFd> {
    openat(
        dir,
        Path::new(name),
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | extra,
        Mode::empty(),
    )
}

/// `StrictModes`: the right type, owned by `uid` or root, no group or
/// other write bit.
fn check(fd: &OwnedFd, uid: u32, want: FileType) -> Result<(), String> {
    let st = fstat(fd).map_err(|e| e.to_string())?;
    if FileType::from_raw_mode(st.st_mode) != want {
        return Err("has the wrong file type".into());
    }
    if st.st_uid != uid && st.st_uid != 0 {
        return Err("is owned by another account".into());
    }
    if st.st_mode & 0o022 != 0 {
        return Err("is writable by group or others".into());
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
        alice:x:1001:1001::/home/alice:/bin/sh\n\
        bad:x:-1:5::/home/bad:/bin/sh\n\
        rel:x:7:7::home/rel:/bin/sh\n";
    const GROUP: &str = "root:x:0:\nalice:x:1001:\nwheel:x:10:bob,alice\nstaff:x:50:alicex\n\
        dup:x:1001:alice\n";

    #[test]
    fn finds_accounts_and_groups() {
        let a = find(PASSWD, GROUP, "alice").unwrap();
        assert_eq!((a.uid, a.gid), (1001, 1001));
        assert_eq!(a.groups, [1001, 10]);
        assert_eq!(a.home, PathBuf::from("/home/alice"));
        assert_eq!(find(PASSWD, GROUP, "root").unwrap().uid, 0);
        assert!(find(PASSWD, GROUP, "bad").is_none());
        assert!(find(PASSWD, GROUP, "rel").is_none());
        assert!(find(PASSWD, GROUP, "nobody").is_none());
        assert!(find(PASSWD, GROUP, "alice:x").is_none());
    }

    #[test]
    fn login_names() {
        for ok in ["alice", "a.b_c-d", "host$", "x1"] {
            assert!(valid_login(ok), "{ok}");
        }
        for bad in ["", "-x", "a:b", "a b", "a\nb", "../x", "$", &"a".repeat(33)] {
            assert!(!valid_login(bad), "{bad:?}");
        }
    }
}
