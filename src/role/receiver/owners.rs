//! The owners a pushed list's entries and ACLs take here: the client's
//! uids and gids through `--usermap`, `--groupmap` (and so `--chown`) and
//! the names it sent, as `recv_id_list` and the `match_uid`/`match_gid`
//! calls of `recv_file_entry` and the ACL code in rsync do it. Protocols
//! 27 to 32: the names come in the id lists after the one file list, or
//! inline with each sub-list's entries under incremental recursion.
//!
//! As in rsync: uids change only for a receiver that may set them (root
//! or `--fake-super`); `--numeric-ids` keeps every id as sent unless a
//! map names it; without `CF_ID0_NAMES` the client's id 0 is taken to be
//! called `root` for the maps' sake.

use crate::flist::{FileEntry, IdMap, IdNames, InlineName, NameMap};

use super::RecvOptions;

/// The session's two id tables and when each applies.
#[derive(Debug)]
pub(crate) struct Owners {
    users: IdMap,
    groups: IdMap,
    /// Entries' uids are mapped.
    uids: bool,
    /// Entries' gids are mapped.
    gids: bool,
    /// The user ids in ACL entries are mapped.
    acl_uids: bool,
    /// The group ids in ACL entries are mapped.
    acl_gids: bool,
}

impl Owners {
    /// The tables for a session with options `o`; `inc` under
    /// incremental recursion.
    pub(crate) fn new(o: &RecvOptions, id0_names: bool, inc: bool) -> Self {
        let names = IdNames::system();
        let table = |map: &Option<NameMap>, users: bool| {
            let mut t = IdMap::new(map.clone().unwrap_or_default(), users, names);
            if map.is_some() && !id0_names {
                t.learn(0, if o.numeric_ids { b"" } else { b"root" });
            }
            t
        };
        let by_name = !o.numeric_ids;
        let root = o.am_root || o.fake_super;
        // A whole list's ACLs are mapped after it, both kinds or neither
        // (`match_acl_ids`); a sub-list's as each entry is read, where
        // rsync leaves the maps out of the test.
        let acls = by_name || o.usermap.is_some() || o.groupmap.is_some();
        Self {
            users: table(&o.usermap, true),
            groups: table(&o.groupmap, false),
            uids: o.owner && root && (by_name || o.usermap.is_some()),
            gids: o.group && (by_name || o.groupmap.is_some()),
            acl_uids: if inc { by_name } else { acls },
            acl_gids: if inc { by_name || !root } else { acls },
        }
    }

    /// The id lists that follow a whole file list.
    pub(crate) fn learn_lists(&mut self, users: Vec<(u32, Vec<u8>)>, groups: Vec<(u32, Vec<u8>)>) {
        for (id, name) in users {
            self.users.learn(id, &name);
        }
        for (id, name) in groups {
            self.groups.learn(id, &name);
        }
    }

    /// A name sent inline with an entry.
    pub(crate) fn learn_inline(&mut self, n: &InlineName) {
        match n {
            InlineName::User(id, name) => self.users.learn(*id, name),
            InlineName::Group(id, name) => self.groups.learn(*id, name),
        }
    }

    /// A name sent inline with an ACL entry.
    pub(crate) fn learn_acl(&mut self, n: &crate::meta::acl::AclName) {
        let table = if n.user {
            &mut self.users
        } else {
            &mut self.groups
        };
        table.learn(n.id, &n.name);
    }

    /// Maps the owners of `entries`.
    pub(crate) fn map_entries(&mut self, entries: &mut [FileEntry]) {
        let uids = self.uids && !self.users.is_identity();
        let gids = self.gids && !self.groups.is_identity();
        if !uids && !gids {
            return;
        }
        for e in entries {
            if uids {
                e.uid = self.users.get(e.uid);
            }
            if gids {
                e.gid = self.groups.get(e.gid);
            }
        }
    }

    /// Maps the named entries of the access and default ACLs from
    /// `from` on.
    pub(crate) fn map_acls(&mut self, meta: &mut crate::meta::Tables, from: (usize, usize)) {
        if !self.acl_uids && !self.acl_gids {
            return;
        }
        let (users, groups) = (&mut self.users, &mut self.groups);
        let (u, g) = (self.acl_uids, self.acl_gids);
        meta.map_acl_ids_from(
            from,
            &mut |id| if u { users.get(id) } else { id },
            &mut |id| if g { groups.get(id) } else { id },
        );
    }
}
