//! The sender's weak-sum index, replacing `match.c build_hash_table` and the
//! chain walk of `hash_search`.
//!
//! Full-length blocks are sorted by (bucket of weak sum, weak sum, strong
//! sum, block index) with a bucket start table, so a position costs one
//! table probe when nothing matches and a few binary searches when it
//! does. Blocks that share a weak sum (CVE-2026-70453, rsync issue #217)
//! are found by binary search on their strong sum rather than walked one by
//! one, so no chain cap is needed and no match is given up.

use super::signature::BlockSum;
use crate::checksum::Digest;

pub(crate) struct BlockIndex {
    shift: u32,
    filter_shift: u32,
    starts: Vec<u32>,
    order: Vec<u32>,
    /// One bit per non-empty bucket: the probe that runs at every offset.
    filter: Vec<u64>,
}

#[inline(always)]
fn bucket(weak: u32, shift: u32) -> usize {
    (weak.wrapping_mul(0x9E37_79B1) >> shift) as usize
}

impl BlockIndex {
    /// Index the blocks `0..n_full` of `blocks` (the full-length ones).
    pub(crate) fn new(blocks: &[BlockSum], n_full: usize) -> Self {
        let n_full = n_full.min(blocks.len());
        if n_full == 0 {
            // A new file (no basis): every probe misses on the empty
            // tables, and nothing is allocated for it.
            return Self {
                shift: 28,
                filter_shift: 26,
                starts: Vec::new(),
                order: Vec::new(),
                filter: Vec::new(),
            };
        }
        // Tables grow with the block count; a file with few blocks (or none,
        // for a new file) must not pay for a large table.
        let mut bits = 4u32;
        while bits < 30 && (1usize << bits) < n_full.saturating_mul(2) {
            bits += 1;
        }
        let shift = 32 - bits;
        let nb = 1usize << bits;
        let mut order: Vec<u32> = (0..n_full as u32).collect();
        let key = |i: &u32| {
            let b = blocks.get(*i as usize).copied().unwrap_or(BlockSum {
                weak: 0,
                strong: Digest::default(),
            });
            (bucket(b.weak, shift), b.weak, b.strong, *i)
        };
        order.sort_unstable_by_key(key);
        let mut starts = vec![0u32; nb + 1];
        for &i in &order {
            if let Some(b) = blocks.get(i as usize) {
                if let Some(s) = starts.get_mut(bucket(b.weak, shift) + 1) {
                    *s += 1;
                }
            }
        }
        for k in 1..starts.len() {
            let prev = starts.get(k - 1).copied().unwrap_or(0);
            if let Some(s) = starts.get_mut(k) {
                *s += prev;
            }
        }
        // The filter has ~32 bits per block so most misses cost one probe.
        let mut fbits = 6u32;
        while fbits < 28 && (1usize << fbits) < n_full.saturating_mul(32) {
            fbits += 1;
        }
        let filter_shift = 32 - fbits;
        let mut filter = vec![0u64; (1usize << fbits).div_ceil(64)];
        for b in blocks.iter().take(n_full) {
            let f = bucket(b.weak, filter_shift);
            if let Some(word) = filter.get_mut(f >> 6) {
                *word |= 1 << (f & 63);
            }
        }
        Self {
            shift,
            filter_shift,
            starts,
            order,
            filter,
        }
    }

    /// Whether any indexed block might have this weak sum (one probe).
    #[inline(always)]
    pub(crate) fn maybe(&self, weak: u32) -> bool {
        let b = bucket(weak, self.filter_shift);
        self.filter
            .get(b >> 6)
            .is_some_and(|f| (f >> (b & 63)) & 1 != 0)
    }

    /// The indexed blocks whose weak sum is `weak`, sorted by strong sum then
    /// index.
    pub(crate) fn with_weak(&self, blocks: &[BlockSum], weak: u32) -> &[u32] {
        let b = bucket(weak, self.shift);
        let (Some(&s), Some(&e)) = (self.starts.get(b), self.starts.get(b + 1)) else {
            return &[];
        };
        let Some(range) = self.order.get(s as usize..e as usize) else {
            return &[];
        };
        let w = |i: &u32| blocks.get(*i as usize).map_or(0, |x| x.weak);
        let lo = range.partition_point(|i| w(i) < weak);
        let hi = range.partition_point(|i| w(i) <= weak);
        range.get(lo..hi).unwrap_or(&[])
    }
}

/// Among `cands` (same weak sum, sorted by strong then index), the first
/// block with strong sum `strong` and index at least `min_idx`.
pub(crate) fn find_strong(
    blocks: &[BlockSum],
    cands: &[u32],
    strong: &Digest,
    min_idx: u32,
) -> Option<u32> {
    let s = |i: &u32| blocks.get(*i as usize).map(|x| x.strong);
    let lo = cands.partition_point(|i| s(i).as_ref() < Some(strong));
    let hi = cands.partition_point(|i| s(i).as_ref() <= Some(strong));
    let run = cands.get(lo..hi)?;
    let k = run.partition_point(|&i| i < min_idx);
    run.get(k).copied()
}
