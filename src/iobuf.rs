//! A byte buffer whose first byte sits on a 64-byte boundary, for the
//! large `read`s of file and pipe data.
//!
//! Linux copies a `read` into user memory with `rep movsb`, which on the
//! machines measured runs at a third of its speed when the destination is
//! not 32-byte aligned (2.2 against 7.5 GB/s from tmpfs). glibc places a
//! large allocation 16 bytes past a page boundary, so a plain `Vec<u8>`
//! of 256 KiB is a misaligned target for every read. rsync's own buffers
//! happen to be aligned; ours are by construction.

use std::ops::{Deref, DerefMut};

/// The alignment of [`IoBuf`]'s start: one cache line.
pub const ALIGN: usize = 64;

/// `len` zeroed bytes starting at a multiple of [`ALIGN`].
pub struct IoBuf {
    raw: Vec<u8>,
    head: usize,
    len: usize,
}

impl IoBuf {
    pub fn zeroed(len: usize) -> Self {
        let raw = vec![0u8; len + (ALIGN - 1)];
        // `align_offset` may decline (usize::MAX); the buffer then works,
        // unaligned.
        let head = raw.as_ptr().align_offset(ALIGN).min(ALIGN - 1);
        Self { raw, head, len }
    }

    /// This buffer as `len` bytes if its memory has room for them (the
    /// bytes are what it held before), else a new zeroed buffer.
    pub fn resized(mut self, len: usize) -> Self {
        if self.raw.len() >= self.head + len {
            self.len = len;
            self
        } else {
            Self::zeroed(len)
        }
    }
}

impl Deref for IoBuf {
    type Target = [u8];
    #[inline(always)]
    fn deref(&self) -> &[u8] {
        self.raw
            .get(self.head..self.head + self.len)
            .unwrap_or_default()
    }
}

impl DerefMut for IoBuf {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut [u8] {
        self.raw
            .get_mut(self.head..self.head + self.len)
            .unwrap_or_default()
    }
}

/// The offset below [`ALIGN`] at which `kept` bytes end on an aligned
/// offset, so that a read appended after them starts aligned.
pub fn lead_for(kept: usize) -> usize {
    (ALIGN - kept % ALIGN) % ALIGN
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_aligned() {
        for len in [1, 100, 128 * 1024, 256 * 1024 + 32 * 1024] {
            let b = IoBuf::zeroed(len);
            assert_eq!(b.len(), len);
            assert_eq!(b.as_ptr() as usize % ALIGN, 0);
            assert!(b.iter().all(|&x| x == 0));
        }
    }

    #[test]
    fn kept_bytes_end_aligned() {
        assert_eq!(lead_for(64), 0);
        assert_eq!(lead_for(10), 54);
        for kept in [0, 1, 63, 65, 16_385] {
            assert!(lead_for(kept) < ALIGN);
            assert_eq!((lead_for(kept) + kept) % ALIGN, 0);
        }
    }
}
