//! The fields of one received entry after its name, as `recv_file_entry`
//! reads them (protocols 27 to 32): size, mtime, nanoseconds (31+), mode,
//! the access time of a non-directory (`--atimes`),
//! ids (names inline from 30), device numbers (pre-28 packed, 28-29 int or
//! byte minor, 30+ varints), symlink target, the pre-30 hard-link device
//! and inode, the `-c` checksum. Each is validated before use; nothing of
//! the decoder changes here, the previous entry's values go to `prev`.

use super::decode::{bad, FStep, FlistDecoder, InlineName, Prev};
use super::entry::{EntryFlags, FileEntry, FileKind};
use super::xmit;
use crate::wire::Reader;

impl FlistDecoder {
    /// The entry after its flags `x` and `name`.
    pub(super) fn decode_body(
        &self,
        r: &mut Reader<'_>,
        x: u32,
        name: Vec<u8>,
        prev: &mut Prev,
        names: &mut Vec<InlineName>,
    ) -> FStep<FileEntry> {
        let o = self.opts;
        let p = o.protocol;
        let shown = || String::from_utf8_lossy(&name).into_owned();
        if x & xmit::HLINKED != 0 && !o.preserve_hard_links {
            return bad(format!("hard-link flag without -H for {}", shown()));
        }
        if p >= 30 && x & xmit::HLINKED != 0 && x & xmit::HLINK_FIRST == 0 {
            let first = r.varint("a hard-link index")?;
            let start = self.ndx_start;
            let Some(first) = u32::try_from(first)
                .ok()
                .filter(|&f| (f as usize) < start as usize + self.entries.len())
            else {
                return bad(format!("hard-link reference out of range: {first}"));
            };
            if first < start {
                // A group begun in an earlier list: the entry comes whole.
                let mut e = self.decode_plain(r, x, name, prev, names)?;
                e.hlink_first = Some(first);
                return Ok(e);
            }
            let Some(src) = self.entries.get((first - start) as usize) else {
                return bad(format!("hard-link reference out of range: {first}"));
            };
            let mut e = src.clone();
            e.name = name;
            e.hlink_first = Some(first);
            e.flags = EntryFlags::default();
            prev.mode = e.mode;
            prev.mtime = e.mtime;
            if e.kind() != FileKind::Dir && o.preserve_atimes {
                prev.atime = e.atime;
            }
            prev.uid = e.uid;
            prev.gid = e.gid;
            return Ok(e);
        }
        self.decode_plain(r, x, name, prev, names)
    }

    /// An entry whose fields all travel (all but an abbreviated hard-link
    /// follower).
    fn decode_plain(
        &self,
        r: &mut Reader<'_>,
        x: u32,
        name: Vec<u8>,
        prev: &mut Prev,
        names: &mut Vec<InlineName>,
    ) -> FStep<FileEntry> {
        let o = self.opts;
        let p = o.protocol;
        let shown = || String::from_utf8_lossy(&name).into_owned();
        let size = r.varlong30(3, p, "a file size")?;
        let Ok(size) = u64::try_from(size) else {
            return bad(format!("negative file size for {}", shown()));
        };
        if x & xmit::SAME_TIME == 0 {
            prev.mtime = if p >= 30 {
                r.varlong(4, "an mtime")?
            } else {
                i64::from(r.i32()? as u32)
            };
        }
        let nsec = if x & xmit::MOD_NSEC != 0 {
            r.varint("mtime nanoseconds")?
        } else {
            0
        };
        let Some(nsec) = u32::try_from(nsec).ok().filter(|&n| n < 1_000_000_000) else {
            return bad("invalid mtime nanoseconds".into());
        };
        if x & xmit::SAME_MODE == 0 {
            prev.mode = r.i32()? as u32;
        }
        let mode = prev.mode;
        let Some(kind) = FileKind::from_mode(mode) else {
            return bad(format!("invalid file mode 0{mode:o} for {}", shown()));
        };
        if (name == b"." || name == b"/.") && kind != FileKind::Dir {
            return bad("rejecting non-directory transfer-root entry".into());
        }
        let has_atime = o.preserve_atimes && kind != FileKind::Dir;
        if has_atime && x & xmit::SAME_ATIME == 0 {
            prev.atime = r.varlong(4, "an atime")?;
        }
        if o.preserve_uid && x & xmit::SAME_UID == 0 {
            let (id, n) = self.decode_id(r, x & xmit::USER_NAME_FOLLOWS != 0)?;
            prev.uid = id;
            names.extend(n.map(|n| InlineName::User(id, n)));
        }
        if o.preserve_gid && x & xmit::SAME_GID == 0 {
            let (id, n) = self.decode_id(r, x & xmit::GROUP_NAME_FOLLOWS != 0)?;
            prev.gid = id;
            names.extend(n.map(|n| InlineName::Group(id, n)));
        }
        let mut e = FileEntry::new(name, mode);
        e.mtime = prev.mtime;
        e.mtime_nsec = nsec;
        if has_atime {
            e.atime = prev.atime;
        }
        e.uid = prev.uid;
        e.gid = prev.gid;
        e.size = if kind == FileKind::File || kind == FileKind::Symlink {
            size
        } else {
            0
        };
        self.decode_rdev(r, x, kind, &mut e, prev)?;
        if o.preserve_links && kind == FileKind::Symlink {
            let len = if p >= 30 {
                r.varint("a symlink length")?
            } else {
                r.i32()?
            };
            let len = usize::try_from(len)
                .ok()
                .filter(|&l| l > 0 && l < self.limits.max_path);
            let Some(len) = len else {
                return bad("invalid symlink length".into());
            };
            let t = r.take(len)?;
            if t.contains(&0) {
                return bad("NUL in symlink target".into());
            }
            e.link_target = Some(t.to_vec());
        }
        // Before protocol 28 every regular file carries its device and
        // inode under -H (there is no flag bit for it).
        let hl27 = p < 28 && kind == FileKind::File;
        if o.preserve_hard_links && p < 30 && (x & xmit::HLINKED != 0 || hl27) {
            if x & xmit::SAME_DEV_PRE30 == 0 || p < 28 {
                prev.dev = r.longint()? as u64;
            }
            let ino = r.longint()? as u64;
            e.hlink = Some((prev.dev, ino));
        }
        if let Some(len) = o.checksum_len {
            if kind == FileKind::File || p < 28 {
                let s = r.take(len)?;
                if kind == FileKind::File {
                    e.checksum = Some(s.to_vec());
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

    /// A uid or gid; from protocol 30 a varint, with its name inline when
    /// the flags say so (incremental recursion sends each id's name the
    /// first time the id is used).
    fn decode_id(&self, r: &mut Reader<'_>, name_follows: bool) -> FStep<(u32, Option<Vec<u8>>)> {
        if self.opts.protocol < 30 {
            return Ok((r.i32()? as u32, None));
        }
        let id = r.varint("an id")? as u32;
        if name_follows {
            let len = usize::from(r.u8()?);
            return Ok((id, Some(r.take(len)?.to_vec())));
        }
        Ok((id, None))
    }

    /// Device numbers of a device (and, before 31, of a special file).
    fn decode_rdev(
        &self,
        r: &mut Reader<'_>,
        x: u32,
        kind: FileKind,
        e: &mut FileEntry,
        prev: &mut Prev,
    ) -> FStep<()> {
        let o = self.opts;
        let p = o.protocol;
        let dev = o.preserve_devices && kind == FileKind::Device;
        let special = o.preserve_specials && kind == FileKind::Special && p < 31;
        if !dev && !special {
            if p < 28 {
                prev.rdev = (0, 0);
            }
            return Ok(());
        }
        if p < 28 {
            if x & xmit::SAME_RDEV_PRE28 == 0 {
                let v = r.i32()? as u32;
                prev.rdev = ((v >> 8) & 0xFFF, (v & 0xFF) | ((v >> 12) & !0xFF));
            }
        } else {
            if x & xmit::SAME_RDEV_MAJOR == 0 {
                prev.rdev_major = if p >= 30 {
                    r.varint("a device major")?
                } else {
                    r.i32()?
                } as u32;
            }
            let minor = if p >= 30 {
                r.varint("a device minor")? as u32
            } else if x & xmit::RDEV_MINOR_8_PRE30 != 0 {
                u32::from(r.u8()?)
            } else {
                r.i32()? as u32
            };
            prev.rdev = (prev.rdev_major, minor);
        }
        if dev {
            e.rdev = prev.rdev;
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
