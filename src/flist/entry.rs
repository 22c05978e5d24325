//! One file-list entry and the options that shape its encoding.

/// The file type, from the mode's `S_IFMT` bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// Regular file.
    File,
    /// Directory.
    Dir,
    /// Symbolic link.
    Symlink,
    /// Character or block device.
    Device,
    /// FIFO or socket.
    Special,
}

impl FileKind {
    /// Classifies a full `st_mode`.
    pub fn from_mode(mode: u32) -> Option<Self> {
        Some(match mode & 0o170000 {
            0o100000 => Self::File,
            0o040000 => Self::Dir,
            0o120000 => Self::Symlink,
            0o020000 | 0o060000 => Self::Device,
            0o010000 | 0o140000 => Self::Special,
            _ => return None,
        })
    }
}

/// Sender-side flags of an entry (`FLAG_*` in `rsync.h`), not all sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EntryFlags {
    /// A top-level directory named by the client.
    pub top_dir: bool,
    /// A directory whose contents are in the list.
    pub content_dir: bool,
    /// A directory implied by a `--relative` path.
    pub implied_dir: bool,
}

/// One entry. `name` is the path as it travels: relative to the transfer
/// root, `/`-separated, `"."` for the root directory itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// Path relative to the transfer root.
    pub name: Vec<u8>,
    /// Full `st_mode`.
    pub mode: u32,
    /// Size in bytes (0 for directories on the wire is fine).
    pub size: u64,
    /// Modification time, seconds.
    pub mtime: i64,
    /// Modification time, nanoseconds.
    pub mtime_nsec: u32,
    /// Access time, seconds (`--atimes`; not for directories).
    pub atime: i64,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Device numbers for devices.
    pub rdev: (u32, u32),
    /// Symlink target.
    pub link_target: Option<Vec<u8>>,
    /// Whole-file checksum for `-c`.
    pub checksum: Option<Vec<u8>>,
    /// Hard-link identity (device, inode) when `-H` and `nlink > 1`.
    pub hlink: Option<(u64, u64)>,
    /// Index of the first entry of this entry's hard-link group, if not first.
    pub hlink_first: Option<u32>,
    /// Sender-side flags.
    pub flags: EntryFlags,
    /// Its ACLs and attribute list, as indexes into the session's tables.
    pub meta: crate::meta::MetaRef,
}

impl FileEntry {
    /// A blank entry of the given name and mode.
    pub fn new(name: Vec<u8>, mode: u32) -> Self {
        Self {
            name,
            mode,
            size: 0,
            mtime: 0,
            mtime_nsec: 0,
            atime: 0,
            uid: 0,
            gid: 0,
            rdev: (0, 0),
            link_target: None,
            checksum: None,
            hlink: None,
            hlink_first: None,
            flags: EntryFlags::default(),
            meta: crate::meta::MetaRef::default(),
        }
    }

    /// The entry's type; unknown modes count as special files.
    pub fn kind(&self) -> FileKind {
        FileKind::from_mode(self.mode).unwrap_or(FileKind::Special)
    }

    /// Whether this is a directory.
    pub fn is_dir(&self) -> bool {
        self.kind() == FileKind::Dir
    }

    /// Whether this is a regular file.
    pub fn is_file(&self) -> bool {
        self.kind() == FileKind::File
    }

    /// The last path component.
    pub fn basename(&self) -> &[u8] {
        match self.name.iter().rposition(|&b| b == b'/') {
            Some(i) => self.name.get(i + 1..).unwrap_or(&[]),
            None => &self.name,
        }
    }

    /// The directory part, if any.
    pub fn dirname(&self) -> Option<&[u8]> {
        self.name
            .iter()
            .rposition(|&b| b == b'/')
            .and_then(|i| self.name.get(..i))
    }
}

/// The options that change what an entry carries on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FlistOptions {
    /// Negotiated protocol.
    pub protocol: u32,
    /// Flags are varints (`CF_VARINT_FLIST_FLAGS`).
    pub varint_flags: bool,
    /// `-o`.
    pub preserve_uid: bool,
    /// `-g`.
    pub preserve_gid: bool,
    /// `-l`.
    pub preserve_links: bool,
    /// `--devices`.
    pub preserve_devices: bool,
    /// `--specials`.
    pub preserve_specials: bool,
    /// `-H`.
    pub preserve_hard_links: bool,
    /// `-c`: a whole-file checksum of this many bytes follows regular files.
    pub checksum_len: Option<usize>,
    /// `--numeric-ids`.
    pub numeric_ids: bool,
    /// Incremental recursion (user/group names inline).
    pub inc_recurse: bool,
    /// I/O errors travel in the end-of-list marker.
    pub safe_flist: bool,
    /// ACLs and attributes follow each entry.
    /// `--atimes`: non-directories carry their access time.
    pub preserve_atimes: bool,
    pub meta: crate::meta::MetaOpts,
}
