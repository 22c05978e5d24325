//! `--fake-super` (`set_stat_xattr`, `get_stat_xattr` in `xattrs.c`,
//! `do_symlink`/`do_mknod`/`do_readlink` in `syscall.c`): what a server
//! that may not set owners or create special files keeps of them, in the
//! attribute `user.rsync.%stat`, as the text `MODE DEVMAJOR,DEVMINOR
//! UID:GID` with the mode in octal, file type included.
//!
//! The file itself gets the permission bits, less set-id and sticky bits,
//! and always its owner's read and write (and a directory's search) bit.
//! A symlink is kept as a regular file holding its target, a device or
//! special file as an empty regular file; the attribute says what each
//! really is, and a sending side gives it back as such.

/// The attribute's name.
pub const STAT: &[u8] = b"user.rsync.%stat";
/// The attributes a fake-super side never sends or compares as data.
pub const HIDDEN: [&[u8]; 3] = [STAT, b"user.rsync.%aacl", b"user.rsync.%dacl"];

/// What `user.rsync.%stat` records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FakeStat {
    /// The full mode, file type included.
    pub mode: u32,
    /// A device's numbers.
    pub rdev: (u32, u32),
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
}

impl FakeStat {
    /// The attribute's value.
    pub fn encode(&self) -> Vec<u8> {
        format!(
            "{:o} {},{} {}:{}",
            self.mode, self.rdev.0, self.rdev.1, self.uid, self.gid
        )
        .into_bytes()
    }

    /// Parses a value; `None` when it is not rsync's format.
    pub fn parse(v: &[u8]) -> Option<FakeStat> {
        let s = std::str::from_utf8(v).ok()?;
        let mut parts = s.split(' ');
        let mode = u32::from_str_radix(parts.next()?, 8).ok()?;
        let (ma, mi) = parts.next()?.split_once(',')?;
        let (u, g) = parts.next()?.split_once(':')?;
        if parts.next().is_some() {
            return None;
        }
        Some(FakeStat {
            mode,
            rdev: (ma.parse().ok()?, mi.parse().ok()?),
            uid: u.parse().ok()?,
            gid: g.parse().ok()?,
        })
    }
}

/// The mode a file really gets for a wanted `mode` (`set_stat_xattr`):
/// permission bits without set-id or sticky bits, and full owner access.
pub fn real_mode(mode: u32, is_dir: bool) -> u32 {
    (mode & 0o777) | if is_dir { 0o700 } else { 0o600 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_is_rsyncs() {
        let s = FakeStat {
            mode: 0o104755,
            rdev: (0, 0),
            uid: 1000,
            gid: 100,
        };
        assert_eq!(s.encode(), b"104755 0,0 1000:100");
        assert_eq!(
            FakeStat::parse(b"20644 1,3 0:0").map(|s| s.rdev),
            Some((1, 3))
        );
        assert_eq!(FakeStat::parse(b"104755 0,0 1000:100"), Some(s));
        assert_eq!(FakeStat::parse(b"garbage"), None);
        assert_eq!(real_mode(0o4755, false), 0o755);
        assert_eq!(real_mode(0o640, true), 0o740);
    }
}
