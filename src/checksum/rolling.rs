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

/// Bytes per block of the vector loop in [`components`] (one lane each).
const LANES: usize = 32;
/// Blocks summed in 16-bit lanes before they are folded into 32-bit ones:
/// with 16 blocks of unsigned bytes, `t` stays below 120·255 < 2^16.
const FOLD: usize = 16;

/// Raw `(s1, s2)` components over `data`.
///
/// Shaped so that the compiler vectorizes it with plain SSE2 (no `unsafe`,
/// no run-time dispatch). Bytes are first taken unsigned (`u = b ^ 0x80`,
/// so the signed value is `u - 128`); each of [`LANES`] lanes keeps `p`,
/// the sum of its bytes so far, and `t`, the sum of `p` before each block
/// (the Adler-32 trick), in 16-bit lanes for [`FOLD`] blocks at a time.
/// For `n = C·W` bytes, byte `i = c·W + j` has weight
/// `n - i = W·(C-1-c) + (W-j)`, so `s2 = W·Σt + Σ (W-j)·p` and `s1 = Σp`;
/// the unsigned offset then costs `128·n` in `s1` and `128·n(n+1)/2` in
/// `s2`. Everything wraps at 32 bits, as in rsync. A short tail goes byte
/// by byte (each new byte raises every earlier weight by one).
#[inline]
pub fn components(data: &[u8]) -> (u32, u32) {
    let (blocks, tail) = data.as_chunks::<LANES>();
    let mut p = [0u32; LANES];
    let mut t = [0u32; LANES];
    for group in blocks.chunks(FOLD) {
        let mut p16 = [0u16; LANES];
        let mut t16 = [0u16; LANES];
        for block in group {
            for ((tj, pj), &b) in t16.iter_mut().zip(p16.iter_mut()).zip(block) {
                *tj = tj.wrapping_add(*pj);
                *pj = pj.wrapping_add(u16::from(b ^ 0x80));
            }
        }
        // Blocks of earlier groups precede all `k` blocks of this one.
        let k = group.len() as u32;
        for (((tj, pj), &t16j), &p16j) in t.iter_mut().zip(p.iter_mut()).zip(&t16).zip(&p16) {
            *tj = tj
                .wrapping_add(pj.wrapping_mul(k))
                .wrapping_add(u32::from(t16j));
            *pj = pj.wrapping_add(u32::from(p16j));
        }
    }
    let mut s1: u32 = 0;
    let mut s2: u32 = 0;
    for (j, (&tj, &pj)) in t.iter().zip(&p).enumerate() {
        s1 = s1.wrapping_add(pj);
        s2 = s2
            .wrapping_add(tj.wrapping_mul(LANES as u32))
            .wrapping_add(pj.wrapping_mul((LANES - j) as u32));
    }
    let n = (blocks.len() * LANES) as u128;
    s1 = s1.wrapping_sub((128 * n) as u32);
    s2 = s2.wrapping_sub((64 * n * (n + 1)) as u32);
    for &b in tail {
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
