//! Encoding entries as `send_file_entry` does, with the previous-entry
//! state that makes consecutive entries cheap.

use super::entry::{FileEntry, FileKind, FlistOptions};
use super::ids::IdList;
use super::xmit;
use crate::wire::{put_i32, put_longint, put_u16, put_varint, put_varlong, put_varlong30};

/// Stateful encoder for one file list.
#[derive(Debug)]
pub struct FlistEncoder {
    opts: FlistOptions,
    last_name: Vec<u8>,
    mode: u32,
    mtime: i64,
    atime: i64,
    uid: u32,
    gid: u32,
    rdev: (u32, u32),
    rdev_major: u32,
    dev: u64,
    first: bool,
    /// The first index of the list being encoded.
    list_start: u32,
    /// uids seen, for the id list after the file list.
    pub uids: IdList,
    /// gids seen, likewise.
    pub gids: IdList,
}

impl FlistEncoder {
    /// A fresh encoder.
    pub fn new(opts: FlistOptions) -> Self {
        Self {
            opts,
            last_name: Vec::new(),
            mode: 0,
            mtime: 0,
            atime: 0,
            uid: 0,
            gid: 0,
            rdev: (0, 0),
            rdev_major: 0,
            dev: u64::MAX,
            first: true,
            list_start: 0,
            uids: IdList::default(),
            gids: IdList::default(),
        }
    }

    /// The next entries belong to the list that starts at index `start`
    /// (incremental recursion): a hard link to an entry of an earlier
    /// list carries its attributes in full.
    pub fn set_list_start(&mut self, start: u32) {
        self.list_start = start;
    }

    /// Whether names travel inline (incremental recursion), not in id
    /// lists after the file list.
    pub fn inc_recurse(&self) -> bool {
        self.opts.inc_recurse
    }

    /// Appends one entry. `uid_name`/`gid_name` resolve ids to names.
    pub fn encode(
        &mut self,
        e: &FileEntry,
        out: &mut Vec<u8>,
        uid_name: &mut dyn FnMut(u32) -> Option<Vec<u8>>,
        gid_name: &mut dyn FnMut(u32) -> Option<Vec<u8>>,
    ) {
        let o = self.opts;
        let p = o.protocol;
        let kind = e.kind();
        let mut x = self.dir_flags(e, kind);
        if e.mode == self.mode {
            x |= xmit::SAME_MODE;
        }
        self.mode = e.mode;
        x |= self.rdev_flags(e, kind);
        // Under incremental recursion an id's name follows it inline the
        // first time the id is seen.
        let inline = |n: Option<&[u8]>| {
            n.filter(|n| o.inc_recurse && n.len() <= 255)
                .map(<[u8]>::to_vec)
        };
        let mut names = (None, None);
        if !o.preserve_uid || (e.uid == self.uid && !self.first) {
            x |= xmit::SAME_UID;
        } else {
            self.uid = e.uid;
            if !o.numeric_ids {
                names.0 = inline(self.uids.add(e.uid, uid_name));
                if names.0.is_some() {
                    x |= xmit::USER_NAME_FOLLOWS;
                }
            }
        }
        if !o.preserve_gid || (e.gid == self.gid && !self.first) {
            x |= xmit::SAME_GID;
        } else {
            self.gid = e.gid;
            if !o.numeric_ids {
                names.1 = inline(self.gids.add(e.gid, gid_name));
                if names.1.is_some() {
                    x |= xmit::GROUP_NAME_FOLLOWS;
                }
            }
        }
        if e.mtime == self.mtime {
            x |= xmit::SAME_TIME;
        }
        self.mtime = e.mtime;
        if e.mtime_nsec != 0 && p >= 31 {
            x |= xmit::MOD_NSEC;
        }
        if o.preserve_atimes && kind != FileKind::Dir {
            if e.atime == self.atime {
                x |= xmit::SAME_ATIME;
            }
            self.atime = e.atime;
        }
        let hl = o.preserve_hard_links && kind != FileKind::Dir;
        let hlink = if hl { e.hlink } else { None };
        if let Some((dev, _)) = hlink {
            if p >= 30 {
                if e.hlink_first.is_none() {
                    x |= xmit::HLINK_FIRST;
                }
            } else if dev == self.dev && p >= 28 {
                x |= xmit::SAME_DEV_PRE30;
            } else {
                self.dev = dev;
            }
            x |= xmit::HLINKED;
        }
        let l1 = common_prefix(&self.last_name, &e.name).min(255);
        let suffix = e.name.get(l1..).unwrap_or(&[]);
        if l1 > 0 {
            x |= xmit::SAME_NAME;
        }
        if suffix.len() > 255 {
            x |= xmit::LONG_NAME;
        }
        let x = self.put_flags(out, x, kind);
        if x & xmit::SAME_NAME != 0 {
            out.push(l1 as u8);
        }
        if x & xmit::LONG_NAME != 0 {
            put_varint30(out, suffix.len() as i32, p);
        } else {
            out.push(suffix.len() as u8);
        }
        out.extend_from_slice(suffix);
        self.last_name.clear();
        self.last_name.extend_from_slice(&e.name);
        self.first = false;
        if let (Some(first), true) = (e.hlink_first, p >= 30 && hlink.is_some()) {
            // A later member of a hard-link group: the index follows, and
            // nothing else when the first member is in this same list.
            put_varint(out, first as i32);
            if first >= self.list_start {
                return;
            }
        }
        self.put_body(e, kind, x, hlink, &names, out);
    }

    fn put_body(
        &mut self,
        e: &FileEntry,
        kind: FileKind,
        x: u32,
        hlink: Option<(u64, u64)>,
        names: &(Option<Vec<u8>>, Option<Vec<u8>>),
        out: &mut Vec<u8>,
    ) {
        let o = self.opts;
        let p = o.protocol;
        put_varlong30(out, e.size as i64, 3, p);
        if x & xmit::SAME_TIME == 0 {
            if p >= 30 {
                put_varlong(out, e.mtime, 4);
            } else {
                put_i32(out, e.mtime as i32);
            }
        }
        if x & xmit::MOD_NSEC != 0 {
            put_varint(out, e.mtime_nsec as i32);
        }
        if x & xmit::SAME_MODE == 0 {
            put_i32(out, e.mode as i32);
        }
        if o.preserve_atimes && kind != FileKind::Dir && x & xmit::SAME_ATIME == 0 {
            put_varlong(out, e.atime, 4);
        }
        if o.preserve_uid && x & xmit::SAME_UID == 0 {
            put_id(out, e.uid, names.0.as_deref(), p);
        }
        if o.preserve_gid && x & xmit::SAME_GID == 0 {
            put_id(out, e.gid, names.1.as_deref(), p);
        }
        self.put_rdev(e, kind, x, out);
        if o.preserve_links && kind == FileKind::Symlink {
            let t = e.link_target.as_deref().unwrap_or(&[]);
            put_varint30(out, t.len() as i32, p);
            out.extend_from_slice(t);
        }
        if let (Some((dev, ino)), true) = (hlink, p < 30) {
            if x & xmit::SAME_DEV_PRE30 == 0 {
                put_longint(out, dev.wrapping_add(1) as i64);
            }
            put_longint(out, ino as i64);
        }
        if let Some(len) = o.checksum_len {
            if kind == FileKind::File {
                let sum = e.checksum.as_deref().unwrap_or(&[]);
                for i in 0..len {
                    out.push(sum.get(i).copied().unwrap_or(0));
                }
            } else if p < 28 {
                out.extend(std::iter::repeat_n(0u8, len));
            }
        }
    }

    fn dir_flags(&self, e: &FileEntry, kind: FileKind) -> u32 {
        if kind != FileKind::Dir {
            return 0;
        }
        let top = if e.flags.top_dir { xmit::TOP_DIR } else { 0 };
        if self.opts.protocol < 30 {
            return top;
        }
        if e.flags.content_dir {
            top
        } else if e.flags.implied_dir {
            xmit::TOP_DIR | xmit::NO_CONTENT_DIR
        } else {
            xmit::NO_CONTENT_DIR
        }
    }

    fn rdev_flags(&mut self, e: &FileEntry, kind: FileKind) -> u32 {
        let o = self.opts;
        let p = o.protocol;
        let mut x = 0;
        if o.preserve_devices && kind == FileKind::Device {
            if p < 28 {
                if e.rdev == self.rdev {
                    x |= xmit::SAME_RDEV_PRE28;
                }
                self.rdev = e.rdev;
            } else {
                self.rdev = e.rdev;
                if e.rdev.0 == self.rdev_major {
                    x |= xmit::SAME_RDEV_MAJOR;
                }
                self.rdev_major = e.rdev.0;
                if p < 30 && e.rdev.1 <= 0xFF {
                    x |= xmit::RDEV_MINOR_8_PRE30;
                }
            }
        } else if o.preserve_specials && kind == FileKind::Special && p < 31 {
            if p < 28 {
                x |= xmit::SAME_RDEV_PRE28;
            } else {
                self.rdev = (self.rdev_major, 0);
                x |= xmit::SAME_RDEV_MAJOR;
                if p < 30 {
                    x |= xmit::RDEV_MINOR_8_PRE30;
                }
            }
        } else if p < 28 {
            self.rdev = (0, 0);
        }
        x
    }

    fn put_rdev(&self, e: &FileEntry, kind: FileKind, x: u32, out: &mut Vec<u8>) {
        let o = self.opts;
        let p = o.protocol;
        let dev = o.preserve_devices && kind == FileKind::Device;
        let special = o.preserve_specials && kind == FileKind::Special && p < 31;
        if !dev && !special {
            return;
        }
        let (major, minor) = if dev { e.rdev } else { self.rdev };
        if p < 28 {
            if x & xmit::SAME_RDEV_PRE28 == 0 {
                put_i32(
                    out,
                    ((major << 8) | (minor & 0xFF) | ((minor & !0xFF) << 12)) as i32,
                );
            }
            return;
        }
        if x & xmit::SAME_RDEV_MAJOR == 0 {
            put_varint30(out, major as i32, p);
        }
        if p >= 30 {
            put_varint(out, minor as i32);
        } else if x & xmit::RDEV_MINOR_8_PRE30 != 0 {
            out.push(minor as u8);
        } else {
            put_i32(out, minor as i32);
        }
    }

    /// Writes the flags word and returns the flags as finally sent.
    fn put_flags(&self, out: &mut Vec<u8>, mut x: u32, kind: FileKind) -> u32 {
        let p = self.opts.protocol;
        if self.opts.varint_flags {
            put_varint(
                out,
                if x == 0 {
                    xmit::EXTENDED_FLAGS as i32
                } else {
                    x as i32
                },
            );
            x
        } else if p >= 28 {
            if x == 0 && kind != FileKind::Dir {
                x |= xmit::TOP_DIR;
            }
            if x & 0xFF00 != 0 || x == 0 {
                x |= xmit::EXTENDED_FLAGS;
                put_u16(out, x as u16);
            } else {
                out.push(x as u8);
            }
            x
        } else {
            if x & 0xFF == 0 {
                x |= if kind == FileKind::Dir {
                    xmit::LONG_NAME
                } else {
                    xmit::TOP_DIR
                };
            }
            out.push(x as u8);
            x
        }
    }

    /// Appends the end-of-list marker (`write_end_of_flist`).
    pub fn end(&self, out: &mut Vec<u8>, io_error: i32) {
        if self.opts.varint_flags {
            put_varint(out, 0);
            put_varint(out, io_error);
        } else if io_error != 0 && self.opts.safe_flist {
            put_u16(out, (xmit::EXTENDED_FLAGS | xmit::IO_ERROR_ENDLIST) as u16);
            put_varint(out, io_error);
        } else {
            out.push(0);
        }
    }
}

/// `write_varint30`: an int32 before protocol 30, a varint from 30.
pub(crate) fn put_varint30(out: &mut Vec<u8>, v: i32, protocol: u32) {
    if protocol < 30 {
        put_i32(out, v);
    } else {
        put_varint(out, v);
    }
}

/// An owner or group id, with its name when one follows inline.
fn put_id(out: &mut Vec<u8>, id: u32, name: Option<&[u8]>, protocol: u32) {
    if protocol < 30 {
        put_i32(out, id as i32);
        return;
    }
    put_varint(out, id as i32);
    if let Some(n) = name {
        out.push(n.len() as u8);
        out.extend_from_slice(n);
    }
}

fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}
