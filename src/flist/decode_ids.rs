//! The uid and gid name lists that follow the file list, as
//! `recv_id_list` in `uidlist.c` reads them (protocols 27 to 32): records
//! of an id (int32 before 30, varint from 30), a byte length and a name,
//! ended by id 0 (or, with `CF_ID0_NAMES`, by id 0 and its name). Users
//! first when `-o`, then groups when `-g`, neither with `--numeric-ids`.
//!
//! [`IdListsDecoder::decode`] is the slice decoder, one record a step;
//! [`read_id_lists`] is the bridge for callers that read from a stream.

#[cfg(test)]
use std::io::Read;

use super::decode::FStep;
#[cfg(test)]
use super::decode::FlistError;
use super::entry::FlistOptions;
#[cfg(test)]
use crate::wire::read_via;
use crate::wire::Reader;

/// Ids with the names the sender gave them.
pub type IdNameList = Vec<(u32, Vec<u8>)>;

/// Most names kept per list; records beyond are read and dropped.
const MAX_NAMES: usize = 1_000_000;

/// Decoder state for the two id lists: which lists are still to come and
/// the names so far.
#[derive(Debug)]
pub struct IdListsDecoder {
    protocol: u32,
    id0_names: bool,
    users_pending: bool,
    groups_pending: bool,
    users: IdNameList,
    groups: IdNameList,
}

impl IdListsDecoder {
    /// A decoder for the lists `opts` says follow the file list.
    pub fn new(opts: &FlistOptions, id0_names: bool) -> Self {
        Self {
            protocol: opts.protocol,
            id0_names,
            // ACLs name users and groups too (`recv_id_list`).
            users_pending: (opts.preserve_uid || opts.meta.acls) && !opts.numeric_ids,
            groups_pending: (opts.preserve_gid || opts.meta.acls) && !opts.numeric_ids,
            users: Vec::new(),
            groups: Vec::new(),
        }
    }

    /// Decodes one record. `Some` with (uid → name, gid → name) pairs
    /// once the last list has ended (at once, using no bytes, when no
    /// list is sent). The state changes only when a record was decoded.
    pub fn decode(&mut self, r: &mut Reader<'_>) -> FStep<Option<(IdNameList, IdNameList)>> {
        if self.users_pending || self.groups_pending {
            let id = if self.protocol >= 30 {
                r.varint("an id list")?
            } else {
                r.i32()?
            };
            let name = if id == 0 && !self.id0_names {
                None
            } else {
                let len = usize::from(r.u8()?);
                Some(r.take(len)?.to_vec())
            };
            let (list, pending) = if self.users_pending {
                (&mut self.users, &mut self.users_pending)
            } else {
                (&mut self.groups, &mut self.groups_pending)
            };
            if let Some(n) = name {
                if list.len() < MAX_NAMES {
                    list.push((id as u32, n));
                }
            }
            if id == 0 {
                *pending = false;
            }
        }
        if self.users_pending || self.groups_pending {
            return Ok(None);
        }
        Ok(Some((
            std::mem::take(&mut self.users),
            std::mem::take(&mut self.groups),
        )))
    }
}

#[cfg(test)]
/// Reads the uid and gid name lists that follow the file list from a
/// blocking stream; returns (uid → name, gid → name) pairs.
pub fn read_id_lists(
    r: &mut impl Read,
    opts: &FlistOptions,
    id0_names: bool,
) -> Result<(IdNameList, IdNameList), FlistError> {
    let mut d = IdListsDecoder::new(opts, id0_names);
    loop {
        if let Some(lists) =
            read_via::<_, FlistError, FlistError>(r, "an id list", |x| d.decode(x))?
        {
            return Ok(lists);
        }
    }
}
