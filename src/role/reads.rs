//! Reads both roles make over a [`Link`], in the order rsync makes them
//! after the handshake: the client's filter list (`recv_filter_list` in
//! `exclude.c`, every protocol) and the file indexes of `read_ndx`
//! (`io.c`; a 4-byte integer before protocol 30, the delta-coded form
//! from 30 on).

use super::link::{Link, ReadError};
use crate::error::Error;
use crate::filter::{FilterError, FilterList, RuleDecoder};
use crate::wire::{NdxDecoder, WireError};

impl ReadError for FilterError {
    type Out = Error;
}

/// The client's filter rules, up to the zero-length record that ends
/// them. A merge rule naming a file outside the root is counted as
/// skipped, not refused (rsync 3.5's `--confine-root`); every other bad
/// rule ends the session.
pub async fn filter_list(link: &Link, protocol: u32) -> Result<FilterList, Error> {
    let mut list = FilterList::new(protocol);
    let mut dec = RuleDecoder::new();
    loop {
        let rule = link
            .read("the filter list", |r| {
                dec.decode(r)
                    .map(|t| t.map(<[u8]>::to_vec))
                    .map_err(|f| f.map(FilterError::from_codec))
            })
            .await?;
        let Some(rule) = rule else {
            return Ok(list);
        };
        match list.push_wire_rule(&rule) {
            Err(FilterError::UnsafeMergeName) => list.skipped += 1,
            r => r?,
        }
    }
}

/// Tells the client that `n` of its filter rules were skipped because
/// they name a merge file outside the served directory (never which).
pub fn warn_skipped_rules(link: &Link, n: usize) {
    if n > 0 {
        link.warning(&super::text::skipped_rules(link.who(), n));
    }
}

/// The next file index.
pub async fn ndx(link: &Link, dec: &mut NdxDecoder) -> Result<i32, WireError> {
    link.read("a file index", |r| dec.decode(r)).await
}
