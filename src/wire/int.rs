//! Integer encodings of `io.c`: little-endian int32, the 64-bit "longint"
//! escape (protocols < 30), and the min-byte varint/varlong (protocol >= 30).
//!
//! A varint starts with a byte whose high bits say how many extra bytes
//! follow (`0x80` one, `0xC0` two, `0xE0` three, `0xF0` four); the low bits
//! of that first byte are the most significant bits of the value.

#[cfg(test)]
use std::io::Read;

#[cfg(test)]
use super::{complete, Decoded, WireError};
use super::{CodecError, Reader, Step};

/// Extra bytes that follow a varint lead byte, indexed by `lead / 4`.
const EXTRA: [u8; 64] = {
    let mut t = [0u8; 64];
    let mut i = 32;
    while i < 64 {
        t[i] = match i {
            32..=47 => 1,
            48..=55 => 2,
            56..=59 => 3,
            60..=61 => 4,
            62 => 5,
            _ => 6,
        };
        i += 1;
    }
    t
};

fn extra_for(lead: u8) -> usize {
    usize::from(EXTRA.get(usize::from(lead / 4)).copied().unwrap_or(0))
}

/// Appends a little-endian int32.
pub fn put_i32(out: &mut Vec<u8>, v: i32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Appends a little-endian 16-bit value (rsync's `write_shortint`).
pub fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Appends `v` as rsync's `write_longint`: an int32 when it fits in
/// 0..=i32::MAX, else the escape `0xFFFFFFFF` and a little-endian int64.
pub fn put_longint(out: &mut Vec<u8>, v: i64) {
    if (0..=i64::from(i32::MAX)).contains(&v) {
        put_i32(out, v as i32);
    } else {
        put_i32(out, -1);
        out.extend_from_slice(&v.to_le_bytes());
    }
}

/// Appends a varint (`write_varint`): int32 in 1 to 5 bytes.
pub fn put_varint(out: &mut Vec<u8>, v: i32) {
    put_var(out, u64::from(v as u32), 1, 4);
}

/// Appends a varlong with at least `min_bytes` bytes (`write_varlong`).
pub fn put_varlong(out: &mut Vec<u8>, v: i64, min_bytes: u8) {
    put_var(out, v as u64, usize::from(min_bytes.clamp(1, 8)), 8);
}

/// Shared encoder: `width` is 4 for varints and 8 for varlongs. The
/// list of a large tree calls it several times per entry, so it writes
/// its bytes as one fixed eight-byte copy cut to length, not a copy of
/// a length found byte by byte.
fn put_var(out: &mut Vec<u8>, v: u64, min_bytes: usize, width: usize) {
    let le = v.to_le_bytes();
    // Number of significant value bytes, at least `min_bytes`.
    let significant = (64 - v.leading_zeros() as usize).div_ceil(8);
    let cnt = significant.min(width).max(min_bytes).max(1);
    let top = u16::from(le.get(cnt - 1).copied().unwrap_or(0));
    let bit: u16 = 1 << (7 + min_bytes - cnt);
    let (lead, follow) = if top >= bit {
        // The top byte does not fit under the length marker: all `cnt`
        // bytes follow the lead byte, which carries only the marker.
        (!(bit - 1) as u8, cnt)
    } else if cnt > min_bytes {
        ((top | !(bit * 2 - 1)) as u8, cnt - 1)
    } else {
        // cnt == min_bytes and the top byte fits with no marker: the lead
        // byte is the top byte itself, the lower bytes follow.
        (top as u8, cnt - 1)
    };
    out.reserve(1 + le.len());
    out.push(lead);
    let keep = out.len() + follow;
    out.extend_from_slice(&le);
    out.truncate(keep);
}

/// `write_varlong30`: a longint before protocol 30, a varlong from 30.
pub fn put_varlong30(out: &mut Vec<u8>, v: i64, min_bytes: u8, protocol: u32) {
    if protocol < 30 {
        put_longint(out, v);
    } else {
        put_varlong(out, v, min_bytes);
    }
}

#[cfg(test)]
/// Runs a slice decoder over a blocking stream, reading exactly the bytes
/// it asks for: the bridge for callers that still hold an `impl Read`,
/// until the roles are sans-IO. Exact because a decoder's `needed` is the
/// number of bytes missing from the value it is inside. The decoder's
/// error `E` and the stream's [`WireError`] both convert into the
/// caller's error `O` (for the integer decoders, `O` is `WireError`).
pub fn read_via<T, E, O>(
    r: &mut impl Read,
    what: &'static str,
    mut decode: impl FnMut(&mut Reader<'_>) -> Step<T, E>,
) -> Result<T, O>
where
    O: From<E> + From<WireError>,
{
    // Integers fit on the stack; longer values move to the heap.
    let mut stack = [0u8; 16];
    let mut heap: Option<Vec<u8>> = None;
    let mut len = 0usize;
    loop {
        let buf = match &heap {
            Some(v) => v.as_slice(),
            None => stack.get(..len).unwrap_or_default(),
        };
        let needed = match complete(buf, &mut decode)? {
            Decoded::Complete { value, .. } => return Ok(value),
            Decoded::Incomplete { needed } => needed,
        };
        let end = len + needed;
        if heap.is_none() && end > stack.len() {
            heap = Some(stack.get(..len).unwrap_or_default().to_vec());
        }
        let slot = match &mut heap {
            Some(v) => {
                v.resize(end, 0);
                v.get_mut(len..end)
            }
            None => stack.get_mut(len..end),
        };
        r.read_exact(slot.unwrap_or_default())
            .map_err(|e| O::from(WireError::from_io(&e, what)))?;
        len = end;
    }
}

impl Reader<'_> {
    /// A little-endian int32 (`read_int`).
    pub fn i32(&mut self) -> Step<i32> {
        Ok(i32::from_le_bytes(self.array()?))
    }

    /// A little-endian 16-bit value (`read_shortint`).
    pub fn u16(&mut self) -> Step<u16> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    /// rsync's `read_longint`: an int32, or the escape `-1` and an int64.
    pub fn longint(&mut self) -> Step<i64> {
        match self.i32()? {
            -1 => Ok(i64::from_le_bytes(self.array()?)),
            v => Ok(i64::from(v)),
        }
    }

    /// A varint (`read_varint`): int32 in 1 to 5 bytes.
    pub fn varint(&mut self, what: &'static str) -> Step<i32> {
        let lead = self.u8()?;
        let extra = extra_for(lead);
        if extra > 4 {
            return Err(CodecError::OutOfRange(what).into());
        }
        let mut b = [0u8; 8];
        if extra == 0 {
            b[0] = lead;
        } else {
            let bit = 1u16 << (8 - extra);
            let high = (u16::from(lead) & (bit - 1)) as u8;
            if extra == 4 && high != 0 {
                return Err(CodecError::OutOfRange(what).into());
            }
            let low = self.take(extra)?;
            b.get_mut(..extra).unwrap_or_default().copy_from_slice(low);
            if let Some(slot) = b.get_mut(extra) {
                *slot = high;
            }
        }
        Ok(u64::from_le_bytes(b) as u32 as i32)
    }

    /// A varlong with `min_bytes` leading bytes (`read_varlong`).
    pub fn varlong(&mut self, min_bytes: u8, what: &'static str) -> Step<i64> {
        let min = usize::from(min_bytes.clamp(1, 8));
        let head = self.take(min)?;
        let lead = head.first().copied().unwrap_or(0);
        let extra = extra_for(lead);
        if min + extra > 9 {
            return Err(CodecError::OutOfRange(what).into());
        }
        let mut b = [0u8; 9];
        // Bytes after the lead byte are the low-order bytes.
        b.get_mut(..min - 1)
            .unwrap_or_default()
            .copy_from_slice(head.get(1..).unwrap_or_default());
        if extra > 0 {
            let bit = 1u16 << (8 - extra);
            let start = min - 1;
            let more = self.take(extra)?;
            b.get_mut(start..start + extra)
                .unwrap_or_default()
                .copy_from_slice(more);
            if let Some(slot) = b.get_mut(start + extra) {
                *slot = (u16::from(lead) & (bit - 1)) as u8;
            }
        } else if let Some(slot) = b.get_mut(min - 1) {
            *slot = lead;
        }
        if b[8] != 0 {
            return Err(CodecError::OutOfRange(what).into());
        }
        let mut v = [0u8; 8];
        v.copy_from_slice(&b[..8]);
        Ok(i64::from_le_bytes(v))
    }

    /// `read_varlong30`: a longint before protocol 30, a varlong from 30.
    pub fn varlong30(&mut self, min_bytes: u8, protocol: u32, what: &'static str) -> Step<i64> {
        if protocol < 30 {
            self.longint()
        } else {
            self.varlong(min_bytes, what)
        }
    }

    /// A vstring (`read_vstring`) of at most `max` bytes: a 1- or 2-byte
    /// length, then the bytes.
    pub fn vstring(&mut self, max: usize, what: &'static str) -> Step<Vec<u8>> {
        let mut len = usize::from(self.u8()?);
        if len & 0x80 != 0 {
            len = (len & 0x7F) * 0x100 + usize::from(self.u8()?);
        }
        if len > max {
            return Err(CodecError::TooLong(what).into());
        }
        Ok(self.take(len)?.to_vec())
    }
}

#[cfg(test)]
/// Reads one byte.
pub fn get_u8(r: &mut impl Read, what: &'static str) -> Result<u8, WireError> {
    read_via(r, what, |x| x.u8())
}

#[cfg(test)]
/// Reads a little-endian 16-bit value.
pub fn get_u16(r: &mut impl Read, what: &'static str) -> Result<u16, WireError> {
    read_via(r, what, |x| x.u16())
}

#[cfg(test)]
/// Reads a little-endian int32.
pub fn get_i32(r: &mut impl Read, what: &'static str) -> Result<i32, WireError> {
    read_via(r, what, |x| x.i32())
}

#[cfg(test)]
/// Reads rsync's `read_longint`.
pub fn get_longint(r: &mut impl Read, what: &'static str) -> Result<i64, WireError> {
    read_via(r, what, |x| x.longint())
}

#[cfg(test)]
/// Reads a varint (`read_varint`).
pub fn get_varint(r: &mut impl Read, what: &'static str) -> Result<i32, WireError> {
    read_via(r, what, |x| x.varint(what))
}

#[cfg(test)]
/// Reads a varlong with `min_bytes` leading bytes (`read_varlong`).
pub fn get_varlong(r: &mut impl Read, min_bytes: u8, what: &'static str) -> Result<i64, WireError> {
    read_via(r, what, |x| x.varlong(min_bytes, what))
}

#[cfg(test)]
/// `read_varlong30`, the reading counterpart of [`put_varlong30`].
pub fn get_varlong30(
    r: &mut impl Read,
    min_bytes: u8,
    protocol: u32,
    what: &'static str,
) -> Result<i64, WireError> {
    read_via(r, what, |x| x.varlong30(min_bytes, protocol, what))
}

#[cfg(test)]
/// Reads a vstring of at most `max` bytes.
pub fn get_vstring(
    r: &mut impl Read,
    max: usize,
    what: &'static str,
) -> Result<Vec<u8>, WireError> {
    read_via(r, what, |x| x.vstring(max, what))
}

/// The longest vstring: its length has 15 bits.
pub const MAX_VSTRING: usize = 0x7FFF;

/// Appends a vstring: a 1- or 2-byte length, then the bytes. A string
/// longer than [`MAX_VSTRING`] cannot be sent, and is refused rather than
/// cut.
pub fn put_vstring(out: &mut Vec<u8>, s: &[u8]) -> Result<(), CodecError> {
    let len = s.len();
    if len > MAX_VSTRING {
        return Err(CodecError::TooLong("a string sent to the client"));
    }
    if len > 0x7F {
        out.push((len / 0x100) as u8 | 0x80);
    }
    out.push(len as u8);
    out.extend_from_slice(s);
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#[path = "int_tests.rs"]
mod tests;
