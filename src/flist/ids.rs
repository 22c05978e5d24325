//! User and group name lists (`send_id_lists` in `uidlist.c`).
//!
//! After the file list (without incremental recursion) the sender lists
//! every non-zero id it used that has a name, as `varint30 id, byte len,
//! name`, ended by id 0 (or, with `CF_ID0_NAMES`, by id 0 and its name).

use super::encode::put_varint30;

/// Ids in the order first seen, with their names.
#[derive(Debug, Clone, Default)]
pub struct IdList {
    ids: Vec<(u32, Option<Vec<u8>>)>,
}

impl IdList {
    /// Records `id`; returns its name when it is seen for the first time.
    pub fn add(
        &mut self,
        id: u32,
        lookup: &mut dyn FnMut(u32) -> Option<Vec<u8>>,
    ) -> Option<&[u8]> {
        if self.ids.iter().any(|(i, _)| *i == id) {
            return None;
        }
        self.ids.push((id, lookup(id)));
        self.ids.last().and_then(|(_, n)| n.as_deref())
    }

    /// Appends the list as `send_one_list` does.
    pub fn encode(&self, out: &mut Vec<u8>, protocol: u32, id0_name: Option<&[u8]>) {
        for (id, name) in &self.ids {
            if let (true, Some(n)) = (*id != 0, name) {
                put_name(out, *id, n, protocol);
            }
        }
        match id0_name {
            Some(n) => put_name(out, 0, n, protocol),
            None => put_varint30(out, 0, protocol),
        }
    }
}

fn put_name(out: &mut Vec<u8>, id: u32, name: &[u8], protocol: u32) {
    let n = name.get(..name.len().min(255)).unwrap_or(&[]);
    put_varint30(out, id as i32, protocol);
    out.push(n.len() as u8);
    out.extend_from_slice(n);
}

/// Id-to-name tables read once from the system's passwd and group files.
#[derive(Debug, Clone, Default)]
pub struct IdNames {
    users: Vec<(u32, Vec<u8>)>,
    groups: Vec<(u32, Vec<u8>)>,
}

impl IdNames {
    /// Loads `/etc/passwd` and `/etc/group` (operator files, not client
    /// input). Missing files give empty tables: ids then travel unnamed.
    /// Read once per process and shared: the session may later be
    /// sandboxed away from `/etc` (see [`crate::sandbox`]).
    pub fn system() -> &'static IdNames {
        static SYSTEM: std::sync::OnceLock<IdNames> = std::sync::OnceLock::new();
        SYSTEM.get_or_init(|| Self {
            users: parse_db(&std::fs::read("/etc/passwd").unwrap_or_default()),
            groups: parse_db(&std::fs::read("/etc/group").unwrap_or_default()),
        })
    }

    /// Tables from the text of a passwd and a group file.
    #[cfg(test)]
    pub fn from_text(passwd: &[u8], group: &[u8]) -> Self {
        Self {
            users: parse_db(passwd),
            groups: parse_db(group),
        }
    }

    /// The name of user `id`.
    pub fn user(&self, id: u32) -> Option<Vec<u8>> {
        self.users
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, n)| n.clone())
    }

    /// The name of group `id`.
    pub fn group(&self, id: u32) -> Option<Vec<u8>> {
        self.groups
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, n)| n.clone())
    }

    /// The id of user `name`.
    pub fn user_id(&self, name: &[u8]) -> Option<u32> {
        self.users.iter().find(|(_, n)| n == name).map(|(i, _)| *i)
    }

    /// The id of group `name`.
    pub fn group_id(&self, name: &[u8]) -> Option<u32> {
        self.groups.iter().find(|(_, n)| n == name).map(|(i, _)| *i)
    }
}

/// Parses `name:x:id:...` lines; the first entry for an id wins.
fn parse_db(text: &[u8]) -> Vec<(u32, Vec<u8>)> {
    let mut out: Vec<(u32, Vec<u8>)> = Vec::new();
    for line in text.split(|&b| b == b'\n') {
        let mut f = line.split(|&b| b == b':');
        let (Some(name), Some(_), Some(id)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        let Some(id) = std::str::from_utf8(id)
            .ok()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if !name.is_empty() && !name.starts_with(b"#") && !out.iter().any(|(i, _)| *i == id) {
            out.push((id, name.to_vec()));
        }
    }
    out
}
