//! Numeric option values, after rsync's `options.c parse_size_arg()` (size
//! suffixes for `--block-size`, `--min-size`, `--max-size`, `--bwlimit`,
//! `--max-alloc`) and popt's plain integers (`--timeout`, `--max-delete`,
//! `--modify-window`, ...). Integer arithmetic only; every result is
//! range-checked.

use super::{snippet, CliError};

/// The largest size rsync accepts (`SIZE_MAX / 2` on 64-bit hosts).
const SIZE_LIMIT: u128 = (u64::MAX / 2) as u128;

/// Parses a plain decimal integer (optional leading `-`) in `min..=max`.
pub(crate) fn parse_int(opt: &'static str, s: &str, min: i64, max: i64) -> Result<i64, CliError> {
    let bad = |why| CliError::BadValue {
        opt,
        value: snippet(s),
        why,
    };
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("not an integer"));
    }
    let magnitude: i64 = digits.parse().map_err(|_| bad("out of range"))?;
    let v = if neg { -magnitude } else { magnitude };
    if v < min || v > max {
        return Err(bad("out of range"));
    }
    Ok(v)
}

/// Parses an rsync size: `NUM[.FRAC][SUFFIX][b|ib][+1|-1]`, where SUFFIX
/// is one of `bkmgtp` (any case) and defaults to `default_suffix`. A
/// trailing `b` after the suffix means powers of 1000, otherwise 1024.
pub(crate) fn parse_size(opt: &'static str, s: &str, default_suffix: u8) -> Result<u64, CliError> {
    let bad = |why| CliError::BadValue {
        opt,
        value: snippet(s),
        why,
    };
    let b = s.as_bytes();
    let mut i = 0;
    let int_start = i;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    let int_digits = s.get(int_start..i).unwrap_or("");
    let mut frac_digits = "";
    if b.get(i) == Some(&b'.') {
        i += 1;
        let f = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        frac_digits = s.get(f..i).unwrap_or("");
    }
    if int_digits.is_empty() && frac_digits.is_empty() {
        return Err(bad("not a size"));
    }
    let suffix = match b.get(i) {
        Some(&c) if c != b'+' && c != b'-' => {
            i += 1;
            c
        }
        _ => default_suffix,
    };
    let reps: u32 = match suffix.to_ascii_lowercase() {
        b'b' => 0,
        b'k' => 1,
        b'm' => 2,
        b'g' => 3,
        b't' => 4,
        b'p' => 5,
        _ => return Err(bad("unknown size suffix")),
    };
    let mult: u128 = match b.get(i) {
        Some(b'b' | b'B') => {
            i += 1;
            1000
        }
        None | Some(b'+' | b'-') => 1024,
        Some(b'i' | b'I') if matches!(b.get(i + 1), Some(b'b' | b'B')) => {
            i += 2;
            1024
        }
        _ => return Err(bad("unknown size suffix")),
    };
    let unit = mult.pow(reps);
    let size = scaled(int_digits, frac_digits, unit).ok_or_else(|| bad("too large"))?;
    let size = match (b.get(i), b.get(i + 1)) {
        (Some(b'+'), Some(b'1')) => {
            i += 2;
            size + 1
        }
        (Some(b'-'), Some(b'1')) => {
            i += 2;
            size.saturating_sub(1)
        }
        _ => size,
    };
    if i != b.len() {
        return Err(bad("trailing characters"));
    }
    if size > SIZE_LIMIT {
        return Err(bad("too large"));
    }
    u64::try_from(size).map_err(|_| bad("too large"))
}

/// `INT.FRAC * unit`, truncated, or `None` past [`SIZE_LIMIT`].
fn scaled(int_digits: &str, frac_digits: &str, unit: u128) -> Option<u128> {
    // More than 20 integer digits cannot fit u64 anyway.
    if int_digits.len() > 20 {
        return None;
    }
    let int: u128 = if int_digits.is_empty() {
        0
    } else {
        int_digits.parse().ok()?
    };
    let whole = int.checked_mul(unit)?;
    // 18 fractional digits are plenty for a 2^60 unit; ignore the rest.
    let frac_digits = frac_digits.get(..frac_digits.len().min(18)).unwrap_or("");
    let frac = if frac_digits.is_empty() {
        0
    } else {
        let f: u128 = frac_digits.parse().ok()?;
        let den = 10u128.pow(u32::try_from(frac_digits.len()).ok()?);
        f.checked_mul(unit)? / den
    };
    let total = whole.checked_add(frac)?;
    (total <= SIZE_LIMIT).then_some(total)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn ints() {
        assert_eq!(parse_int("--timeout", "30", 0, 100), Ok(30));
        assert_eq!(parse_int("--max-delete", "-1", i64::MIN, i64::MAX), Ok(-1));
        assert!(parse_int("--timeout", "", 0, 100).is_err());
        assert!(parse_int("--timeout", "-", 0, 100).is_err());
        assert!(parse_int("--timeout", "1x", 0, 100).is_err());
        assert!(parse_int("--timeout", " 1", 0, 100).is_err());
        assert!(parse_int("--timeout", "101", 0, 100).is_err());
        assert!(parse_int("--timeout", "99999999999999999999999", 0, 100).is_err());
    }

    #[test]
    fn sizes() {
        let p = |s| parse_size("--max-size", s, b'b');
        assert_eq!(p("0"), Ok(0));
        assert_eq!(p("700"), Ok(700));
        assert_eq!(p("1k"), Ok(1024));
        assert_eq!(p("1K"), Ok(1024));
        assert_eq!(p("1kb"), Ok(1000));
        assert_eq!(p("1KiB"), Ok(1024));
        assert_eq!(p("1.5M"), Ok(1024 * 1024 * 3 / 2));
        assert_eq!(p("1G+1"), Ok((1 << 30) + 1));
        assert_eq!(p("1G-1"), Ok((1 << 30) - 1));
        assert_eq!(p("2P"), Ok(2 << 50));
        assert!(p("").is_err());
        assert!(p("K").is_err());
        assert!(p("1x").is_err());
        assert!(p("1kx").is_err());
        assert!(p("1k+2").is_err());
        assert!(p("-1").is_err());
        assert!(p("99999999999999999999999").is_err());
        assert!(p("9999999P").is_err());
        assert_eq!(parse_size("--bwlimit", "100", b'K'), Ok(102_400));
    }
}
