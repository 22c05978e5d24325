//! Integer encodings of `io.c`: little-endian int32, the 64-bit "longint"
//! escape (protocols < 30), and the min-byte varint/varlong (protocol >= 30).
//!
//! A varint starts with a byte whose high bits say how many extra bytes
//! follow (`0x80` one, `0xC0` two, `0xE0` three, `0xF0` four); the low bits
//! of that first byte are the most significant bits of the value.

use std::io::Read;

use super::WireError;

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

fn read_arr<const N: usize>(r: &mut impl Read, what: &'static str) -> Result<[u8; N], WireError> {
    let mut b = [0u8; N];
    r.read_exact(&mut b)
        .map_err(|e| WireError::from_io(&e, what))?;
    Ok(b)
}

/// Appends a little-endian int32.
pub fn put_i32(out: &mut Vec<u8>, v: i32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Appends a little-endian 16-bit value (rsync's `write_shortint`).
pub fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Reads one byte.
pub fn get_u8(r: &mut impl Read, what: &'static str) -> Result<u8, WireError> {
    Ok(read_arr::<1>(r, what)?[0])
}

/// Reads a little-endian 16-bit value.
pub fn get_u16(r: &mut impl Read, what: &'static str) -> Result<u16, WireError> {
    Ok(u16::from_le_bytes(read_arr(r, what)?))
}

/// Reads a little-endian int32.
pub fn get_i32(r: &mut impl Read, what: &'static str) -> Result<i32, WireError> {
    Ok(i32::from_le_bytes(read_arr(r, what)?))
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

/// Reads rsync's `read_longint`.
pub fn get_longint(r: &mut impl Read, what: &'static str) -> Result<i64, WireError> {
    let v = get_i32(r, what)?;
    if v != -1 {
        return Ok(i64::from(v));
    }
    Ok(i64::from_le_bytes(read_arr(r, what)?))
}

/// Appends a varint (`write_varint`): int32 in 1 to 5 bytes.
pub fn put_varint(out: &mut Vec<u8>, v: i32) {
    put_var(out, u64::from(v as u32), 1, 4);
}

/// Appends a varlong with at least `min_bytes` bytes (`write_varlong`).
pub fn put_varlong(out: &mut Vec<u8>, v: i64, min_bytes: u8) {
    put_var(out, v as u64, usize::from(min_bytes.clamp(1, 8)), 8);
}

/// Shared encoder: `width` is 4 for varints and 8 for varlongs.
fn put_var(out: &mut Vec<u8>, v: u64, min_bytes: usize, width: usize) {
    let le = v.to_le_bytes();
    let bytes = le.get(..width).unwrap_or(&le);
    // Number of significant value bytes, at least `min_bytes`.
    let mut cnt = width;
    while cnt > min_bytes && bytes.get(cnt - 1) == Some(&0) {
        cnt -= 1;
    }
    let top = u16::from(bytes.get(cnt - 1).copied().unwrap_or(0));
    let bit: u16 = 1 << (7 + min_bytes - cnt);
    if top >= bit {
        // The top byte does not fit under the length marker: all `cnt`
        // bytes follow the lead byte, which carries only the marker.
        out.push(!(bit - 1) as u8);
        out.extend_from_slice(bytes.get(..cnt).unwrap_or(&[]));
    } else if cnt > min_bytes {
        out.push((top | !(bit * 2 - 1)) as u8);
        out.extend_from_slice(bytes.get(..cnt - 1).unwrap_or(&[]));
    } else {
        // cnt == min_bytes and the top byte fits with no marker: the lead
        // byte is the top byte itself, the lower bytes follow.
        out.push(top as u8);
        out.extend_from_slice(bytes.get(..cnt - 1).unwrap_or(&[]));
    }
}

/// Reads a varint (`read_varint`).
pub fn get_varint(r: &mut impl Read, what: &'static str) -> Result<i32, WireError> {
    let lead = get_u8(r, what)?;
    let extra = extra_for(lead);
    if extra > 4 {
        return Err(WireError::OutOfRange(what));
    }
    let mut b = [0u8; 8];
    if extra > 0 {
        let bit = 1u16 << (8 - extra);
        r.read_exact(b.get_mut(..extra).unwrap_or(&mut []))
            .map_err(|e| WireError::from_io(&e, what))?;
        let high = (u16::from(lead) & (bit - 1)) as u8;
        if extra == 4 && high != 0 {
            return Err(WireError::OutOfRange(what));
        }
        if let Some(slot) = b.get_mut(extra) {
            *slot = high;
        }
    } else {
        b[0] = lead;
    }
    let v = u64::from_le_bytes(b);
    Ok(v as u32 as i32)
}

/// Reads a varlong with `min_bytes` leading bytes (`read_varlong`).
pub fn get_varlong(r: &mut impl Read, min_bytes: u8, what: &'static str) -> Result<i64, WireError> {
    let min = usize::from(min_bytes.clamp(1, 8));
    let mut head = [0u8; 8];
    r.read_exact(head.get_mut(..min).unwrap_or(&mut []))
        .map_err(|e| WireError::from_io(&e, what))?;
    let lead = head[0];
    let extra = extra_for(lead);
    if min + extra > 9 {
        return Err(WireError::OutOfRange(what));
    }
    let mut b = [0u8; 9];
    // Bytes after the lead byte are the low-order bytes.
    for i in 1..min {
        if let (Some(d), Some(s)) = (b.get_mut(i - 1), head.get(i)) {
            *d = *s;
        }
    }
    if extra > 0 {
        let bit = 1u16 << (8 - extra);
        let start = min - 1;
        r.read_exact(b.get_mut(start..start + extra).unwrap_or(&mut []))
            .map_err(|e| WireError::from_io(&e, what))?;
        if let Some(slot) = b.get_mut(start + extra) {
            *slot = (u16::from(lead) & (bit - 1)) as u8;
        }
    } else if let Some(slot) = b.get_mut(min - 1) {
        *slot = lead;
    }
    if b[8] != 0 {
        return Err(WireError::OutOfRange(what));
    }
    let mut v = [0u8; 8];
    v.copy_from_slice(&b[..8]);
    Ok(i64::from_le_bytes(v))
}

/// `write_varlong30`: a longint before protocol 30, a varlong from 30.
pub fn put_varlong30(out: &mut Vec<u8>, v: i64, min_bytes: u8, protocol: u32) {
    if protocol < 30 {
        put_longint(out, v);
    } else {
        put_varlong(out, v, min_bytes);
    }
}

/// `read_varlong30`, the reading counterpart of [`put_varlong30`].
pub fn get_varlong30(
    r: &mut impl Read,
    min_bytes: u8,
    protocol: u32,
    what: &'static str,
) -> Result<i64, WireError> {
    if protocol < 30 {
        get_longint(r, what)
    } else {
        get_varlong(r, min_bytes, what)
    }
}

/// Appends a vstring: a 1- or 2-byte length (max 0x7FFF), then the bytes.
pub fn put_vstring(out: &mut Vec<u8>, s: &[u8]) {
    let len = s.len().min(0x7FFF);
    if len > 0x7F {
        out.push((len / 0x100) as u8 | 0x80);
    }
    out.push(len as u8);
    out.extend_from_slice(s.get(..len).unwrap_or(&[]));
}

/// Reads a vstring of at most `max` bytes.
pub fn get_vstring(
    r: &mut impl Read,
    max: usize,
    what: &'static str,
) -> Result<Vec<u8>, WireError> {
    let mut len = usize::from(get_u8(r, what)?);
    if len & 0x80 != 0 {
        len = (len & 0x7F) * 0x100 + usize::from(get_u8(r, what)?);
    }
    if len > max {
        return Err(WireError::TooLong(what));
    }
    let mut v = vec![0u8; len];
    r.read_exact(&mut v)
        .map_err(|e| WireError::from_io(&e, what))?;
    Ok(v)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#[path = "int_tests.rs"]
mod tests;
