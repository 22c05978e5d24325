//! The weak rolling checksum of `checksum.c get_checksum1` (all protocols).
//!
//! Bytes are taken as *signed* chars and `CHAR_OFFSET` is 0, so a byte
//! `0xff` contributes -1. With `s1 = Σ b[i]` and `s2 = Σ (n - i)·b[i]`
//! (wrapping 32-bit arithmetic) the value is `(s1 & 0xffff) | (s2 << 16)`.
//! `match.c hash_search` slides this sum over the sender's file one byte at a
//! time and lets the window shrink at the end of the file; [`Rolling`] does
//! the same.

/// Widen one byte the way rsync's `schar` arithmetic does.
#[inline(always)]
fn sb(b: u8) -> u32 {
    b as i8 as i32 as u32
}

/// Raw `(s1, s2)` components over `data`.
#[inline]
pub fn components(data: &[u8]) -> (u32, u32) {
    const W: usize = 16;
    let mut s1: u32 = 0;
    let mut s2: u32 = 0;
    let mut chunks = data.chunks_exact(W);
    for chunk in &mut chunks {
        // Within a chunk: s2 grows by W·s1 plus Σ (W - j)·b[j]; s1 by Σ b[j].
        let mut plain: i32 = 0;
        let mut weighted: i32 = 0;
        for (j, &b) in chunk.iter().enumerate() {
            let v = b as i8 as i32;
            plain += v;
            weighted += (W - j) as i32 * v;
        }
        s2 = s2
            .wrapping_add(s1.wrapping_mul(W as u32))
            .wrapping_add(weighted as u32);
        s1 = s1.wrapping_add(plain as u32);
    }
    for &b in chunks.remainder() {
        s1 = s1.wrapping_add(sb(b));
        s2 = s2.wrapping_add(s1);
    }
    (s1, s2)
}

/// Combine the components as rsync does: `(s1 & 0xffff) | (s2 << 16)`.
#[inline(always)]
pub fn combine(s1: u32, s2: u32) -> u32 {
    (s1 & 0xffff) | (s2 << 16)
}

/// `get_checksum1`: the weak checksum of one block.
#[inline]
pub fn checksum1(data: &[u8]) -> u32 {
    let (s1, s2) = components(data);
    combine(s1, s2)
}

/// A window sliding over a byte stream, updated in O(1) per byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rolling {
    s1: u32,
    s2: u32,
    len: u32,
}

impl Rolling {
    /// Start a window over `window` (its length is the window length).
    pub fn new(window: &[u8]) -> Self {
        let (s1, s2) = components(window);
        Self {
            s1,
            s2,
            len: window.len() as u32,
        }
    }

    /// Slide the window one byte: `out` leaves at the front, `inp` enters at
    /// the back. The window length is unchanged.
    #[inline(always)]
    pub fn roll(&mut self, out: u8, inp: u8) {
        let o = sb(out);
        self.s1 = self.s1.wrapping_sub(o).wrapping_add(sb(inp));
        self.s2 = self
            .s2
            .wrapping_sub(self.len.wrapping_mul(o))
            .wrapping_add(self.s1);
    }

    /// Drop `out` from the front without adding a byte (the window shrinks
    /// by one, as at the end of the file in `hash_search`).
    #[inline(always)]
    pub fn rollout(&mut self, out: u8) {
        let o = sb(out);
        self.s1 = self.s1.wrapping_sub(o);
        self.s2 = self.s2.wrapping_sub(self.len.wrapping_mul(o));
        self.len = self.len.saturating_sub(1);
    }

    /// The current weak checksum.
    #[inline(always)]
    pub fn value(&self) -> u32 {
        combine(self.s1, self.s2)
    }

    /// The current window length.
    #[inline(always)]
    pub fn len(&self) -> u32 {
        self.len
    }

    /// Whether the window is empty.
    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}
