//! ACLs and extended attributes on the sending side, protocols 30 to 32:
//! what follows each file-list entry (`send_acl`, `send_xattr` in
//! `flist.c`'s `send_file_name`), the client's requests for long
//! attribute values after its item flags (`recv_xattr_request`) and our
//! answers when we echo those flags (`send_xattr_request` with a name),
//! the value read again from the file as rsync does.
//!
//! Attributes are read by the entry's name in its directory beneath the
//! root, without opening the entry ([`crate::fs::MetaAt`]): those of
//! regular files and directories; symlinks, devices and special files
//! travel with none (Linux keeps no `user.` attributes on them). A file
//! whose attributes cannot be read travels without them and counts as an
//! I/O error.

use std::io;

use super::walk::Item;
use crate::flist::item::{self, ItemFlags};
use crate::flist::{FileEntry, FileKind, FlistEncoder, IdNames};
use crate::fs::{Attrs, Root};
use crate::meta::acl::{self, Acl};
use crate::meta::xattr::{self, Abbrev, Value, Xattr};
use crate::meta::{MetaOpts, MetaRef, SendTables};
use crate::wire::put_varint;

/// The sending side's tables and options.
#[derive(Debug, Default)]
pub(crate) struct MetaOut {
    pub(crate) opts: MetaOpts,
    pub(crate) tables: SendTables,
    /// `--fake-super`: ACLs come from rsync's own attributes.
    pub(crate) fake_super: bool,
}

impl MetaOut {
    /// A sender's state for `opts`.
    pub(crate) fn new(opts: MetaOpts, fake_super: bool) -> Self {
        Self {
            opts,
            tables: SendTables::default(),
            fake_super,
        }
    }

    /// Appends an entry's ACLs and attributes after its encoding, and
    /// notes the ids its ACLs name for the id lists.
    pub(crate) fn encode(
        &mut self,
        root: &Root,
        it: &mut Item,
        enc: &mut FlistEncoder,
        ids: Option<&IdNames>,
        out: &mut Vec<u8>,
    ) -> io::Result<()> {
        let e = &it.entry;
        // Only a file's or a directory's attributes are read: no path is
        // made for the other types.
        let path = matches!(e.kind(), FileKind::File | FileKind::Dir).then(|| it.path());
        let fd = match &path {
            Some(Ok(p)) => root.meta_at(p).map(Some),
            Some(Err(err)) => Err(io::Error::from(err.clone())),
            None => Ok(None),
        };
        let (fd, mut failed) = match fd {
            Ok(fd) => (fd, None),
            Err(err) => (None, Some(err)),
        };
        let mut r = MetaRef::default();
        if self.opts.acls && e.kind() != FileKind::Symlink {
            let (mut acc, def) = read_acls(fd.as_ref(), e, self.fake_super).unwrap_or_else(|err| {
                failed.get_or_insert(err);
                (Acl::from_mode(e.mode), Acl::EMPTY)
            });
            acc.strip_perms(e.mode);
            // Under incremental recursion a name travels inline the
            // first time its id is seen; otherwise in the id lists.
            let inline = enc.inc_recurse();
            let mut names = |n: &acl::IdAccess| {
                let ids = ids?;
                let name = if n.is_user() {
                    enc.uids.add(n.id, &mut |u| ids.user(u))
                } else {
                    enc.gids.add(n.id, &mut |g| ids.group(g))
                };
                name.filter(|_| inline).map(<[u8]>::to_vec)
            };
            r.acl = Some(self.tables.send_acl(acc, false, out, &mut names));
            if e.is_dir() {
                r.def_acl = Some(self.tables.send_acl(def, true, out, &mut names));
            }
        }
        if self.opts.xattrs > 0 {
            let list = match fd.as_ref() {
                Some(fd) => read_xattrs(fd, self.opts.naming()).unwrap_or_else(|err| {
                    failed.get_or_insert(err);
                    Vec::new()
                }),
                None => Vec::new(),
            };
            r.xattr = Some(self.tables.send_xattrs(list, out));
        }
        it.entry.meta = r;
        failed.map_or(Ok(()), Err)
    }

    /// Whether a request of long values follows these item flags (and an
    /// answer follows our echo of them).
    pub(crate) fn carries_request(&self, iflags: ItemFlags) -> bool {
        self.opts.xattrs > 0
            && iflags.intersects(item::REPORT_XATTR)
            && !(self.opts.optim && iflags.contains(item::XNAME_FOLLOWS.union(item::LOCAL_CHANGE)))
    }

    /// Marks the value at position `num` of `e`'s list as asked for.
    pub(crate) fn want(&mut self, e: &FileEntry, num: i32) -> Result<(), String> {
        let list = self.tables.tables.xattrs_mut(&e.meta);
        let x = list.and_then(|l| l.iter_mut().find(|x| x.num as i32 == num));
        match x.map(|x| &mut x.value) {
            Some(Value::Sum { state, .. }) if *state == Abbrev::Pending => {
                *state = Abbrev::Wanted;
                Ok(())
            }
            Some(_) => Err(format!(
                "[sender] internal abbrev error on {}",
                String::from_utf8_lossy(&e.name)
            )),
            None => Err(format!(
                "[sender] could not find xattr #{num} for {}",
                String::from_utf8_lossy(&e.name)
            )),
        }
    }

    /// Appends the answer to a request: each asked-for value, read again
    /// from the file, by relative position, then 0. `it` is a listed
    /// regular file or directory.
    pub(crate) fn answer(
        &mut self,
        root: &Root,
        it: &Item,
        out: &mut Vec<u8>,
        errors: &mut Vec<String>,
    ) {
        // Looked up at the first value asked for: most requests ask none.
        let mut fd = None;
        let path = std::cell::OnceCell::new();
        let mut prior = 0u32;
        if let Some(list) = self.tables.tables.xattrs_mut(&it.entry.meta) {
            for x in list.iter_mut() {
                let Value::Sum { state, .. } = &mut x.value else {
                    continue;
                };
                if *state != Abbrev::Wanted {
                    continue;
                }
                *state = Abbrev::Done;
                put_varint(out, x.num.wrapping_sub(prior) as i32);
                prior = x.num;
                let local = self.opts.naming().from_wire_sent(&x.name);
                let fd = fd.get_or_insert_with(|| {
                    let p = path.get_or_init(|| it.path().ok()).as_ref()?;
                    root.meta_at(p).ok()
                });
                match fd.as_ref().and_then(|f| f.get(&local).ok().flatten()) {
                    Some(v) if v.len() <= xattr::MAX_VALUE => {
                        put_varint(out, v.len() as i32);
                        out.extend_from_slice(&v);
                    }
                    _ => {
                        errors.push(format!(
                            "failed to re-read xattr {} for {}",
                            String::from_utf8_lossy(&x.name),
                            String::from_utf8_lossy(&it.entry.name)
                        ));
                        put_varint(out, 0);
                    }
                }
            }
        }
        out.push(0);
    }
}

/// A file's access ACL and, for a directory, its default ACL; without a
/// descriptor, what the mode says.
fn read_acls(fd: Option<&impl Attrs>, e: &FileEntry, fake: bool) -> io::Result<(Acl, Acl)> {
    match fd {
        Some(fd) => acl::read(&|n| fd.get(n), e.mode, e.is_dir(), fake),
        None => Ok((Acl::from_mode(e.mode), Acl::EMPTY)),
    }
}

/// The attributes a sender sends, long values as their sums.
fn read_xattrs(fd: &impl Attrs, naming: xattr::Naming) -> io::Result<Vec<Xattr>> {
    let mut list = Vec::new();
    for name in fd.names()? {
        let Some(wire) = naming.to_wire(&name) else {
            continue;
        };
        if let Some(v) = fd.get(&name)? {
            list.push(Xattr::local(wire, v));
        }
    }
    Ok(list)
}
