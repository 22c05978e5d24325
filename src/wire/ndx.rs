//! File-list indexes on the wire (`write_ndx`/`read_ndx` in `io.c`).
//!
//! Before protocol 30 an index is a plain int32. From 30 it is coded as a
//! difference from the previous index of the same sign: `0x00` is
//! `NDX_DONE`, `0xFF` introduces a negative index, a byte 1..=253 is a
//! small difference, `0xFE` is followed by a 2-byte difference or, with the
//! high bit set, by a full 31-bit value.

#[cfg(test)]
use std::io::Read;

#[cfg(test)]
use super::WireError;
use super::{put_i32, CodecError, Reader, Step};

/// End of a phase or of the run.
pub const NDX_DONE: i32 = -1;
/// End of the incremental file lists.
pub const NDX_FLIST_EOF: i32 = -2;
/// Deletion statistics follow.
pub const NDX_DEL_STATS: i32 = -3;
/// Base of the indexes that announce an incremental sub-list.
pub const NDX_FLIST_OFFSET: i32 = -101;

/// Encoder state: the previous positive and negative index sent.
#[derive(Debug, Clone)]
pub struct NdxEncoder {
    protocol: u32,
    prev_pos: i32,
    prev_neg: i32,
}

impl NdxEncoder {
    /// A fresh encoder for `protocol`.
    pub fn new(protocol: u32) -> Self {
        Self {
            protocol,
            prev_pos: -1,
            prev_neg: 1,
        }
    }

    /// Appends `ndx`.
    pub fn put(&mut self, out: &mut Vec<u8>, ndx: i32) {
        if self.protocol < 30 {
            put_i32(out, ndx);
            return;
        }
        if ndx == NDX_DONE {
            out.push(0);
            return;
        }
        let (num, diff) = if ndx >= 0 {
            let d = ndx.wrapping_sub(self.prev_pos);
            self.prev_pos = ndx;
            (ndx, d)
        } else {
            out.push(0xFF);
            let n = ndx.wrapping_neg();
            let d = n.wrapping_sub(self.prev_neg);
            self.prev_neg = n;
            (n, d)
        };
        if diff > 0 && diff < 0xFE {
            out.push(diff as u8);
        } else if !(0..=0x7FFF).contains(&diff) {
            out.push(0xFE);
            out.push(((num >> 24) as u8) | 0x80);
            out.push(num as u8);
            out.push((num >> 8) as u8);
            out.push((num >> 16) as u8);
        } else {
            out.push(0xFE);
            out.push((diff >> 8) as u8);
            out.push(diff as u8);
        }
    }
}

/// Decoder state, mirroring [`NdxEncoder`].
#[derive(Debug, Clone)]
pub struct NdxDecoder {
    protocol: u32,
    prev_pos: i32,
    prev_neg: i32,
}

impl NdxDecoder {
    /// A fresh decoder for `protocol`.
    pub fn new(protocol: u32) -> Self {
        Self {
            protocol,
            prev_pos: -1,
            prev_neg: 1,
        }
    }

    /// Decodes one index; the previous indexes it is relative to change
    /// only when a whole index was decoded. Values that overflow an int32
    /// are rejected.
    pub fn decode(&mut self, r: &mut Reader<'_>) -> Step<i32> {
        const WHAT: &str = "file index";
        if self.protocol < 30 {
            return r.i32();
        }
        let mut b = r.u8()?;
        let negative = b == 0xFF;
        if negative {
            b = r.u8()?;
        } else if b == 0 {
            return Ok(NDX_DONE);
        }
        let prev = if negative {
            self.prev_neg
        } else {
            self.prev_pos
        };
        let unum: u32 = if b == 0xFE {
            let [hi, lo] = r.array::<2>()?;
            if hi & 0x80 != 0 {
                let [b2, b3] = r.array::<2>()?;
                u32::from_le_bytes([lo, b2, b3, hi & 0x7F])
            } else {
                ((u32::from(hi) << 8) + u32::from(lo)).wrapping_add(prev as u32)
            }
        } else {
            u32::from(b).wrapping_add(prev as u32)
        };
        let num = i32::try_from(unum).map_err(|_| CodecError::OutOfRange(WHAT))?;
        if negative {
            self.prev_neg = num;
            Ok(-num)
        } else {
            self.prev_pos = num;
            Ok(num)
        }
    }

    #[cfg(test)]
    /// Reads one index from a blocking stream (the bridge until the
    /// roles are sans-IO).
    pub fn get(&mut self, r: &mut impl Read) -> Result<i32, WireError> {
        super::int::read_via(r, "file index", |x| self.decode(x))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_sequences() {
        for proto in [29u32, 30, 32] {
            let seq = [
                0,
                1,
                2,
                5,
                300,
                299,
                70000,
                3,
                NDX_DONE,
                NDX_FLIST_EOF,
                -101,
                -150,
                7,
            ];
            let mut enc = NdxEncoder::new(proto);
            let mut buf = Vec::new();
            for &n in &seq {
                enc.put(&mut buf, n);
            }
            let mut dec = NdxDecoder::new(proto);
            let mut r = &buf[..];
            for &n in &seq {
                assert_eq!(dec.get(&mut r).unwrap(), n, "proto {proto}");
            }
            assert!(r.is_empty());
        }
    }

    #[test]
    fn vectors() {
        let mut enc = NdxEncoder::new(31);
        let mut b = Vec::new();
        enc.put(&mut b, 0);
        enc.put(&mut b, 1);
        enc.put(&mut b, NDX_DONE);
        enc.put(&mut b, 300);
        assert_eq!(b, [0x01, 0x01, 0x00, 0xFE, 0x01, 0x2B]);
    }

    #[test]
    fn a_two_byte_difference_from_the_start_wraps_like_rsync() {
        // The first positive index is relative to -1: 253 is sent as the
        // 2-byte difference 254, which must not overflow in the decoder.
        let mut enc = NdxEncoder::new(30);
        let mut b = Vec::new();
        enc.put(&mut b, 253);
        assert_eq!(b, [0xFE, 0x00, 0xFE]);
        assert_eq!(NdxDecoder::new(30).get(&mut &b[..]).unwrap(), 253);
    }

    #[test]
    fn rejects_overflow() {
        let mut dec = NdxDecoder::new(32);
        assert_eq!(
            dec.get(&mut &[0xFEu8, 0xFF, 0xFF, 0xFF, 0xFF][..]).unwrap(),
            i32::MAX
        );
        let r = dec.get(&mut &[0xFDu8][..]);
        assert_eq!(r, Err(WireError::OutOfRange("file index")));
    }
}
