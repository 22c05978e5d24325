//! The receiving side of `uidlist.c`: which local id each of the
//! sender's uids and gids becomes (`recv_add_id`, `match_uid`,
//! `match_gid`), and the `--usermap`/`--groupmap` rules (`parse_name_map`)
//! that a client's `--chown` also arrives as (`*:USER`, `*:GROUP`).
//! Protocols 27 to 32 alike; only where the names come from differs (the
//! id lists after the file list, or inline from 30 with incremental
//! recursion).
//!
//! An id is decided the first time it is met, with the name the sender
//! gave it (none when it sent none): the first rule that matches wins;
//! without one, a named id other than 0 becomes the local id of that
//! name, and anything else stays as it is.

use std::collections::HashMap;

use super::ids::IdNames;
use crate::filter::wildmatch;

/// What a rule's left side matches.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    /// One id (`N`).
    Id(u32),
    /// Ids from one to the other, both included (`LOW-HIGH`).
    Range(u32, u32),
    /// The sender's name exactly (`NAME`, possibly empty).
    Name(Vec<u8>),
    /// The sender's name by a wildcard pattern (any of `*?[`).
    Wild(Vec<u8>),
}

/// One `FROM:TO` rule, TO already resolved to a local id.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    from: Source,
    to: u32,
}

/// A parsed `--usermap` or `--groupmap`, rules in the order given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameMap {
    rules: Vec<Rule>,
}

/// A parsed map with the lines the receiver prints and goes on.
pub type Parsed = (NameMap, Vec<String>);

impl NameMap {
    /// Parses `text`, the value of `--usermap` (`users`) or `--groupmap`,
    /// resolving each TO through `names`. A malformed rule is an error,
    /// with rsync's words (its exit code is 1); a TO name that does not
    /// exist here drops its rule, with a line for the client, as rsync
    /// does. As rsync parses from the end, the last malformed rule is the
    /// one named.
    pub fn parse(text: &str, users: bool, names: &IdNames) -> Result<Parsed, String> {
        let which = if users { "user" } else { "group" };
        let mut rules = Vec::new();
        let mut lines = Vec::new();
        for piece in text.split(',').rev() {
            let Some((from, to)) = piece.split_once(':') else {
                return Err(format!("No colon found in --{which}map: {piece}"));
            };
            if to.is_empty() {
                return Err(format!("No name found after colon --{which}map: {piece}"));
            }
            let from = parse_from(from, which)?;
            let local = if to.bytes().all(|b| b.is_ascii_digit()) {
                Some(parse_id(to)?)
            } else if users {
                names.user_id(to.as_bytes())
            } else {
                names.group_id(to.as_bytes())
            };
            match local {
                Some(to) => rules.push(Rule { from, to }),
                None => lines.push(format!("Unknown --{which}map name on receiver: {to}")),
            }
        }
        rules.reverse();
        lines.reverse();
        Ok((NameMap { rules }, lines))
    }

    /// The TO of the first rule matching `id`, known by `name` ("" when
    /// the sender gave none).
    fn find(&self, id: u32, name: &[u8]) -> Option<u32> {
        self.rules
            .iter()
            .find(|r| r.from.matches(id, name))
            .map(|r| r.to)
    }
}

impl Source {
    fn matches(&self, id: u32, name: &[u8]) -> bool {
        match self {
            Source::Id(i) => *i == id,
            Source::Range(lo, hi) => (*lo..=*hi).contains(&id),
            Source::Name(n) => n == name,
            Source::Wild(p) => wildmatch(p, name),
        }
    }
}

/// A rule's left side: a number or range when it starts with a digit,
/// else a name, a pattern when it holds any of `*[?`.
fn parse_from(from: &str, which: &str) -> Result<Source, String> {
    if !from.starts_with(|c: char| c.is_ascii_digit()) {
        return Ok(if from.contains(['*', '[', '?']) {
            Source::Wild(from.as_bytes().to_vec())
        } else {
            Source::Name(from.as_bytes().to_vec())
        });
    }
    let invalid = || format!("Invalid number in --{which}map: {from}");
    if !from.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        return Err(invalid());
    }
    match from.split_once('-') {
        None => Ok(Source::Id(parse_id(from)?)),
        Some((_, hi)) if hi.is_empty() || hi.contains('-') => Err(invalid()),
        // rsync reads a high end of 0 as "no range".
        Some((lo, hi)) => match (parse_id(lo)?, parse_id(hi)?) {
            (lo, 0) => Ok(Source::Id(lo)),
            (lo, hi) => Ok(Source::Range(lo, hi)),
        },
    }
}

/// A decimal id that fits in 32 bits.
fn parse_id(s: &str) -> Result<u32, String> {
    s.bytes()
        .try_fold(0u32, |n, b| {
            let d = b.checked_sub(b'0').filter(|d| *d < 10)?;
            n.checked_mul(10)?.checked_add(u32::from(d))
        })
        .ok_or_else(|| format!("Invalid ID number: {s}"))
}

/// One kind of id (users or groups) for one session: the rules, and
/// every id decided so far.
#[derive(Debug, Clone)]
pub struct IdMap {
    rules: NameMap,
    users: bool,
    names: &'static IdNames,
    decided: HashMap<u32, u32>,
    /// The last id asked for, and its answer (`match_uid`'s `last`).
    last: Option<(u32, u32)>,
}

impl IdMap {
    /// A table for users (`users`) or groups under `rules`, local names
    /// from `names`.
    pub fn new(rules: NameMap, users: bool, names: &'static IdNames) -> Self {
        Self {
            rules,
            users,
            names,
            decided: HashMap::new(),
            last: None,
        }
    }

    /// Whether every id stays as it is: no rule, and no name came.
    pub fn is_identity(&self) -> bool {
        self.rules.rules.is_empty() && self.decided.is_empty()
    }

    /// The sender named `id` (`recv_user_name`, `recv_group_name`): it
    /// is decided now, by that name.
    pub fn learn(&mut self, id: u32, name: &[u8]) {
        let local = self.decide(id, name);
        self.decided.insert(id, local);
        self.last = None;
    }

    /// The local id for the sender's `id` (`match_uid`, `match_gid`); an
    /// id met without a name is decided as nameless.
    pub fn get(&mut self, id: u32) -> u32 {
        if let Some((_, local)) = self.last.filter(|(i, _)| *i == id) {
            return local;
        }
        let local = match self.decided.get(&id) {
            Some(l) => *l,
            None if self.rules.rules.is_empty() => id,
            None => {
                let l = self.decide(id, b"");
                self.decided.insert(id, l);
                l
            }
        };
        self.last = Some((id, local));
        local
    }

    fn decide(&self, id: u32, name: &[u8]) -> u32 {
        if let Some(to) = self.rules.find(id, name) {
            return to;
        }
        if name.is_empty() || id == 0 {
            return id;
        }
        let local = if self.users {
            self.names.user_id(name)
        } else {
            self.names.group_id(name)
        };
        local.unwrap_or(id)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#[path = "idmap_tests.rs"]
mod tests;
