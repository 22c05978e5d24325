//! The stream decoder of `recv_file_entry`, `recv_file_list` and
//! `recv_id_list` (protocols 27 to 32) as it was before the slice
//! decoders replaced it, kept only as the oracle they are compared with.

use std::io::Read;

use super::super::decode_ids::IdNameList;
use super::super::entry::{EntryFlags, FileEntry, FileKind, FlistOptions};
use super::super::xmit;
use super::{check_name, FlistError, FlistLimits};
use crate::wire::{
    get_i32, get_longint, get_u8, get_varint, get_varlong, get_varlong30, WireError,
};

/// Decoder state for one list (the previous entry's values).
#[derive(Debug)]
pub struct OldDecoder {
    opts: FlistOptions,
    limits: FlistLimits,
    last_name: Vec<u8>,
    mode: u32,
    mtime: i64,
    uid: u32,
    gid: u32,
    rdev: (u32, u32),
    rdev_major: u32,
    dev: u64,
    entries: Vec<FileEntry>,
    /// rsync's `io_error` reported by the sender.
    pub io_error: i32,
}

fn invalid(msg: String) -> FlistError {
    FlistError::Invalid(msg)
}

impl OldDecoder {
    /// A decoder for one session's list.
    pub fn new(opts: FlistOptions, limits: FlistLimits) -> Self {
        Self {
            opts,
            limits,
            last_name: Vec::new(),
            mode: 0,
            mtime: 0,
            uid: 0,
            gid: 0,
            rdev: (0, 0),
            rdev_major: 0,
            dev: 0,
            entries: Vec::new(),
            io_error: 0,
        }
    }

    /// Reads the whole list up to its end marker, in wire order.
    pub fn read_list(mut self, r: &mut impl Read) -> Result<(Vec<FileEntry>, i32), FlistError> {
        while let Some(flags) = self.read_flags(r)? {
            if self.entries.len() >= self.limits.max_entries {
                return Err(invalid(format!(
                    "file list has more than {} entries",
                    self.limits.max_entries
                )));
            }
            let e = self.read_entry(r, flags)?;
            self.entries.push(e);
        }
        Ok((self.entries, self.io_error))
    }

    /// Reads a flags word; `None` at the end of the list.
    fn read_flags(&mut self, r: &mut impl Read) -> Result<Option<u32>, FlistError> {
        if self.opts.varint_flags {
            let f = get_varint(r, "file-list flags")?;
            if f == 0 {
                self.io_error = get_varint(r, "the io_error word")?;
                return Ok(None);
            }
            return Ok(Some(f as u32));
        }
        let mut f = u32::from(get_u8(r, "file-list flags")?);
        if f == 0 {
            return Ok(None);
        }
        if self.opts.protocol >= 28 && f & xmit::EXTENDED_FLAGS != 0 {
            f |= u32::from(get_u8(r, "file-list flags")?) << 8;
            if f == xmit::EXTENDED_FLAGS | xmit::IO_ERROR_ENDLIST {
                if !self.opts.safe_flist {
                    return Err(invalid(format!("invalid file-list flag {f:#x}")));
                }
                self.io_error = get_varint(r, "the io_error word")?;
                return Ok(None);
            }
        }
        Ok(Some(f))
    }

    fn read_name(&mut self, r: &mut impl Read, x: u32) -> Result<Vec<u8>, FlistError> {
        let p = self.opts.protocol;
        let l1 = if x & xmit::SAME_NAME != 0 {
            usize::from(get_u8(r, "a file name")?)
        } else {
            0
        };
        let l2 = if x & xmit::LONG_NAME != 0 {
            let v = if p >= 30 {
                get_varint(r, "a file name")?
            } else {
                get_i32(r, "a file name")?
            };
            usize::try_from(v).map_err(|_| invalid("negative file-name length".into()))?
        } else {
            usize::from(get_u8(r, "a file name")?)
        };
        if l1 > self.last_name.len() || l1 + l2 >= self.limits.max_path {
            return Err(invalid(format!(
                "file name too long or malformed ({} + {l2} bytes)",
                l1
            )));
        }
        let mut name = self.last_name.get(..l1).unwrap_or(&[]).to_vec();
        let start = name.len();
        name.resize(start + l2, 0);
        r.read_exact(name.get_mut(start..).unwrap_or(&mut []))
            .map_err(|e| WireError::from_io(&e, "a file name"))?;
        self.last_name.clone_from(&name);
        check_name(&name)?;
        Ok(name)
    }

    fn read_entry(&mut self, r: &mut impl Read, x: u32) -> Result<FileEntry, FlistError> {
        let o = self.opts;
        let p = o.protocol;
        let name = self.read_name(r, x)?;
        let shown = || String::from_utf8_lossy(&name).into_owned();
        if x & xmit::HLINKED != 0 && !o.preserve_hard_links {
            return Err(invalid(format!(
                "hard-link flag without -H for {}",
                shown()
            )));
        }
        if p >= 30 && x & xmit::HLINKED != 0 && x & xmit::HLINK_FIRST == 0 {
            let first = get_varint(r, "a hard-link index")?;
            let idx = usize::try_from(first)
                .ok()
                .filter(|&i| i < self.entries.len());
            let Some(src) = idx.and_then(|i| self.entries.get(i)) else {
                return Err(invalid(format!(
                    "hard-link reference out of range: {first}"
                )));
            };
            let mut e = src.clone();
            e.name = name;
            e.hlink_first = Some(first as u32);
            e.flags = EntryFlags::default();
            self.mode = e.mode;
            self.mtime = e.mtime;
            self.uid = e.uid;
            self.gid = e.gid;
            return Ok(e);
        }
        let size = get_varlong30(r, 3, p, "a file size")?;
        let size = u64::try_from(size)
            .map_err(|_| invalid(format!("negative file size for {}", shown())))?;
        if x & xmit::SAME_TIME == 0 {
            self.mtime = if p >= 30 {
                get_varlong(r, 4, "an mtime")?
            } else {
                i64::from(get_i32(r, "an mtime")? as u32)
            };
        }
        let nsec = if x & xmit::MOD_NSEC != 0 {
            get_varint(r, "mtime nanoseconds")?
        } else {
            0
        };
        let nsec = u32::try_from(nsec)
            .ok()
            .filter(|&n| n < 1_000_000_000)
            .ok_or_else(|| invalid("invalid mtime nanoseconds".into()))?;
        if x & xmit::SAME_MODE == 0 {
            self.mode = get_i32(r, "a file mode")? as u32;
        }
        let mode = self.mode;
        let kind = FileKind::from_mode(mode)
            .ok_or_else(|| invalid(format!("invalid file mode 0{mode:o} for {}", shown())))?;
        if (name == b"." || name == b"/.") && kind != FileKind::Dir {
            return Err(invalid(
                "rejecting non-directory transfer-root entry".into(),
            ));
        }
        if o.preserve_uid && x & xmit::SAME_UID == 0 {
            self.uid = self.read_id(r, x & xmit::USER_NAME_FOLLOWS != 0)?;
        }
        if o.preserve_gid && x & xmit::SAME_GID == 0 {
            self.gid = self.read_id(r, x & xmit::GROUP_NAME_FOLLOWS != 0)?;
        }
        let mut e = FileEntry::new(name, mode);
        e.mtime = self.mtime;
        e.mtime_nsec = nsec;
        e.uid = self.uid;
        e.gid = self.gid;
        e.size = if kind == FileKind::File || kind == FileKind::Symlink {
            size
        } else {
            0
        };
        self.read_rdev(r, x, kind, &mut e)?;
        if o.preserve_links && kind == FileKind::Symlink {
            let len = if p >= 30 {
                get_varint(r, "a symlink length")?
            } else {
                get_i32(r, "a symlink length")?
            };
            let len = usize::try_from(len)
                .ok()
                .filter(|&l| l > 0 && l < self.limits.max_path);
            let len = len.ok_or_else(|| invalid("invalid symlink length".into()))?;
            let mut t = vec![0u8; len];
            r.read_exact(&mut t)
                .map_err(|er| WireError::from_io(&er, "a symlink target"))?;
            if t.contains(&0) {
                return Err(invalid("NUL in symlink target".into()));
            }
            e.link_target = Some(t);
        }
        // Before protocol 28 every regular file carries its device and
        // inode under -H (there is no flag bit for it).
        let hl27 = p < 28 && kind == FileKind::File;
        if o.preserve_hard_links && p < 30 && (x & xmit::HLINKED != 0 || hl27) {
            if x & xmit::SAME_DEV_PRE30 == 0 || p < 28 {
                self.dev = get_longint(r, "a device number")? as u64;
            }
            let ino = get_longint(r, "an inode number")? as u64;
            e.hlink = Some((self.dev, ino));
        }
        if let Some(len) = o.checksum_len {
            if kind == FileKind::File || p < 28 {
                let mut s = vec![0u8; len];
                r.read_exact(&mut s)
                    .map_err(|er| WireError::from_io(&er, "a file checksum"))?;
                if kind == FileKind::File {
                    e.checksum = Some(s);
                }
            }
        }
        if p >= 30 && x & xmit::HLINK_FIRST != 0 && x & xmit::HLINKED != 0 {
            // The leader of a hard-link group; followers name its index.
            e.hlink = Some((0, 0));
        }
        e.flags = dir_flags(p, x, kind);
        Ok(e)
    }

    fn read_id(&mut self, r: &mut impl Read, name_follows: bool) -> Result<u32, FlistError> {
        if self.opts.protocol < 30 {
            return Ok(get_i32(r, "an id")? as u32);
        }
        let id = get_varint(r, "an id")? as u32;
        if name_follows {
            let len = usize::from(get_u8(r, "an id name")?);
            let mut n = vec![0u8; len];
            r.read_exact(&mut n)
                .map_err(|e| WireError::from_io(&e, "an id name"))?;
        }
        Ok(id)
    }

    fn read_rdev(
        &mut self,
        r: &mut impl Read,
        x: u32,
        kind: FileKind,
        e: &mut FileEntry,
    ) -> Result<(), FlistError> {
        let o = self.opts;
        let p = o.protocol;
        let dev = o.preserve_devices && kind == FileKind::Device;
        let special = o.preserve_specials && kind == FileKind::Special && p < 31;
        if !dev && !special {
            if p < 28 {
                self.rdev = (0, 0);
            }
            return Ok(());
        }
        if p < 28 {
            if x & xmit::SAME_RDEV_PRE28 == 0 {
                let v = get_i32(r, "a device number")? as u32;
                self.rdev = ((v >> 8) & 0xFFF, (v & 0xFF) | ((v >> 12) & !0xFF));
            }
        } else {
            if x & xmit::SAME_RDEV_MAJOR == 0 {
                self.rdev_major = if p >= 30 {
                    get_varint(r, "a device major")?
                } else {
                    get_i32(r, "a device major")?
                } as u32;
            }
            let minor = if p >= 30 {
                get_varint(r, "a device minor")? as u32
            } else if x & xmit::RDEV_MINOR_8_PRE30 != 0 {
                u32::from(get_u8(r, "a device minor")?)
            } else {
                get_i32(r, "a device minor")? as u32
            };
            self.rdev = (self.rdev_major, minor);
        }
        if dev {
            e.rdev = self.rdev;
        }
        Ok(())
    }
}

/// The receiver's view of a directory's flags (`recv_file_entry`).
fn dir_flags(p: u32, x: u32, kind: FileKind) -> EntryFlags {
    if kind != FileKind::Dir {
        return EntryFlags::default();
    }
    let top = x & xmit::TOP_DIR != 0;
    if p >= 30 {
        if x & xmit::NO_CONTENT_DIR == 0 {
            EntryFlags {
                top_dir: top,
                content_dir: true,
                implied_dir: false,
            }
        } else {
            EntryFlags {
                top_dir: false,
                content_dir: false,
                implied_dir: top,
            }
        }
    } else {
        EntryFlags {
            top_dir: top,
            content_dir: true,
            implied_dir: false,
        }
    }
}

/// Reads the uid and gid name lists that follow the file list
/// (`recv_id_list`); returns (uid → name, gid → name) pairs.
pub fn read_id_lists(
    r: &mut impl Read,
    opts: &FlistOptions,
    id0_names: bool,
) -> Result<(IdNameList, IdNameList), FlistError> {
    let read_list = |r: &mut dyn Read| -> Result<Vec<(u32, Vec<u8>)>, FlistError> {
        let mut rr = r;
        let mut out = Vec::new();
        loop {
            let id = if opts.protocol >= 30 {
                get_varint(&mut rr, "an id list")?
            } else {
                get_i32(&mut rr, "an id list")?
            };
            if id == 0 && !id0_names {
                return Ok(out);
            }
            let len = usize::from(get_u8(&mut rr, "an id name")?);
            let mut n = vec![0u8; len];
            rr.read_exact(&mut n)
                .map_err(|e| WireError::from_io(&e, "an id name"))?;
            if out.len() < 1_000_000 {
                out.push((id as u32, n));
            }
            if id == 0 {
                return Ok(out);
            }
        }
    };
    let users = if opts.preserve_uid && !opts.numeric_ids {
        read_list(r)?
    } else {
        Vec::new()
    };
    let groups = if opts.preserve_gid && !opts.numeric_ids {
        read_list(r)?
    } else {
        Vec::new()
    };
    Ok((users, groups))
}
