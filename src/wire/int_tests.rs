//! Byte vectors for the integer codec, checked against rsync's encodings.

use super::*;

fn varint(v: i32) -> Vec<u8> {
    let mut o = Vec::new();
    put_varint(&mut o, v);
    o
}

fn varlong(v: i64, min: u8) -> Vec<u8> {
    let mut o = Vec::new();
    put_varlong(&mut o, v, min);
    o
}

#[test]
fn varint_vectors() {
    assert_eq!(varint(0), [0x00]);
    assert_eq!(varint(0x7F), [0x7F]);
    assert_eq!(varint(0x80), [0x80, 0x80]);
    assert_eq!(varint(0x3FFF), [0xBF, 0xFF]);
    assert_eq!(varint(0x4000), [0xC0, 0x00, 0x40]);
    assert_eq!(varint(-1), [0xF0, 0xFF, 0xFF, 0xFF, 0xFF]);
}

#[test]
fn varlong_vectors() {
    // min_bytes 3: values below 2^23 take three bytes, lead byte last.
    assert_eq!(varlong(0, 3), [0, 0, 0]);
    assert_eq!(varlong(0x12_3456, 3), [0x12, 0x56, 0x34]);
    assert_eq!(varlong(0x80_0000, 3), [0x80, 0x00, 0x00, 0x80]);
    // min_bytes 4 is used for mtimes.
    assert_eq!(varlong(1_700_000_000, 4), [0x65, 0x00, 0xF1, 0x53]);
}

#[test]
fn round_trips() {
    for v in [
        0i64,
        1,
        127,
        128,
        255,
        256,
        65535,
        1 << 24,
        (1 << 31) - 1,
        1 << 40,
        i64::MAX,
        -1,
    ] {
        for min in [1u8, 3, 4] {
            if min == 1 && !(0..1 << 48).contains(&v) {
                continue; // a 1-byte minimum carries at most 7 bytes
            }
            let e = varlong(v, min);
            assert_eq!(
                get_varlong(&mut &e[..], min, "t").unwrap(),
                v,
                "v={v} min={min}"
            );
        }
        if let Ok(x) = i32::try_from(v) {
            let e = varint(x);
            assert_eq!(get_varint(&mut &e[..], "t").unwrap(), x);
        }
        let mut o = Vec::new();
        put_longint(&mut o, v);
        assert_eq!(get_longint(&mut &o[..], "t").unwrap(), v);
    }
}

#[test]
fn rejects_overlong() {
    // A lead byte announcing five or six extra bytes is invalid for a varint.
    assert!(get_varint(&mut &[0xF8u8, 0, 0, 0, 0, 0][..], "t").is_err());
    assert!(get_varint(&mut &[0xFCu8, 0, 0, 0, 0, 0, 0][..], "t").is_err());
    // Truncations are reported as such.
    assert_eq!(
        get_varint(&mut &[0xC0u8, 0][..], "x"),
        Err(WireError::Truncated("x"))
    );
    assert_eq!(
        get_varlong(&mut &[0xFFu8, 1, 2][..], 3, "x").unwrap_err(),
        WireError::Truncated("x")
    );
    assert_eq!(
        get_varlong(&mut &[0xFFu8, 1, 2, 3][..], 4, "x").unwrap_err(),
        WireError::OutOfRange("x")
    );
}

#[test]
fn vstrings() {
    let mut o = Vec::new();
    put_vstring(&mut o, b"md5").unwrap();
    assert_eq!(o, b"\x03md5");
    let long = vec![b'a'; 300];
    let mut o = Vec::new();
    put_vstring(&mut o, &long).unwrap();
    assert_eq!(&o[..2], &[0x81, 0x2C]);
    assert_eq!(get_vstring(&mut &o[..], 1000, "t").unwrap(), long);
    assert!(get_vstring(&mut &o[..], 10, "t").is_err());
}

#[test]
fn an_overlong_vstring_is_refused_not_cut() {
    let mut o = Vec::new();
    put_vstring(&mut o, &vec![b'a'; MAX_VSTRING]).unwrap();
    assert_eq!(o.len(), MAX_VSTRING + 2);
    let mut o = Vec::new();
    assert!(put_vstring(&mut o, &vec![b'a'; MAX_VSTRING + 1]).is_err());
    assert!(o.is_empty(), "nothing written");
}

/// Every value cut at every byte is incomplete, never a wrong value, and
/// asks for exactly the bytes it lacks.
fn check_truncations<T: std::fmt::Debug + PartialEq>(
    bytes: &[u8],
    want: &T,
    mut decode: impl FnMut(&mut Reader<'_>) -> Step<T>,
) {
    for cut in 0..bytes.len() {
        match complete(&bytes[..cut], &mut decode).unwrap() {
            Decoded::Incomplete { needed } => {
                assert!(cut + needed <= bytes.len(), "cut {cut} needs {needed}");
            }
            other => panic!("cut {cut} of {bytes:?}: {other:?}"),
        }
    }
    let mut longer = bytes.to_vec();
    longer.push(0xAB);
    match complete(&longer, &mut decode).unwrap() {
        Decoded::Complete { value, consumed } => {
            assert_eq!(&value, want);
            assert_eq!(consumed, bytes.len());
        }
        other => panic!("{other:?}"),
    }
}

proptest::proptest! {
    #[test]
    fn varints_round_trip_and_truncate(v in proptest::num::i32::ANY) {
        let mut o = Vec::new();
        put_varint(&mut o, v);
        check_truncations(&o, &v, |r| r.varint("t"));
        proptest::prop_assert_eq!(get_varint(&mut &o[..], "t").unwrap(), v);
    }

    #[test]
    // rsync sends varlongs with at least 3 bytes (sizes, times); with
    // fewer, a value of 8 significant bytes has no encoding.
    fn varlongs_round_trip_and_truncate(v in 0i64..=i64::MAX, min in 3u8..=8) {
        let mut o = Vec::new();
        put_varlong(&mut o, v, min);
        check_truncations(&o, &v, |r| r.varlong(min, "t"));
    }

    #[test]
    fn longints_round_trip_and_truncate(v in proptest::num::i64::ANY) {
        let mut o = Vec::new();
        put_longint(&mut o, v);
        check_truncations(&o, &v, |r| r.longint());
        proptest::prop_assert_eq!(get_longint(&mut &o[..], "t").unwrap(), v);
    }

    #[test]
    fn vstrings_round_trip_and_truncate(s in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
        let mut o = Vec::new();
        put_vstring(&mut o, &s).unwrap();
        check_truncations(&o, &s, |r| r.vstring(1000, "t"));
    }

    #[test]
    fn ndx_sequences_decode_in_any_split(
        seq in proptest::collection::vec(-3000i32..100_000, 1..40),
        proto in 27u32..=32,
    ) {
        let mut enc = crate::wire::NdxEncoder::new(proto);
        let mut o = Vec::new();
        for &n in &seq {
            enc.put(&mut o, if n < 0 && proto >= 30 { n.min(-1) } else { n.max(0) });
        }
        let want: Vec<i32> = seq.iter().map(|&n| if n < 0 && proto >= 30 { n.min(-1) } else { n.max(0) }).collect();
        // Decode as the bytes arrive one at a time: state holds across
        // incomplete attempts.
        let mut dec = crate::wire::NdxDecoder::new(proto);
        let mut got = Vec::new();
        let mut start = 0;
        for end in 0..=o.len() {
            if let Decoded::Complete { value, consumed } =
                complete(&o[start..end], |r| dec.decode(r)).unwrap()
            {
                got.push(value);
                start += consumed;
            }
        }
        proptest::prop_assert_eq!(got, want);
    }
}

/// The varint encoder as first written, byte by byte: the reference the
/// faster [`put_var`] must match for every value.
fn put_var_reference(out: &mut Vec<u8>, v: u64, min_bytes: usize, width: usize) {
    let le = v.to_le_bytes();
    let bytes = &le[..width];
    let mut cnt = width;
    while cnt > min_bytes && bytes[cnt - 1] == 0 {
        cnt -= 1;
    }
    let top = u16::from(bytes[cnt - 1]);
    let bit: u16 = 1 << (7 + min_bytes - cnt);
    if top >= bit {
        out.push(!(bit - 1) as u8);
        out.extend_from_slice(&bytes[..cnt]);
    } else if cnt > min_bytes {
        out.push((top | !(bit * 2 - 1)) as u8);
        out.extend_from_slice(&bytes[..cnt - 1]);
    } else {
        out.push(top as u8);
        out.extend_from_slice(&bytes[..cnt - 1]);
    }
}

proptest::proptest! {
    #[test]
    fn var_encoder_matches_the_reference(
        v in proptest::prop_oneof![proptest::num::u64::ANY, 0u64..1 << 24, 0u64..1 << 40],
        min in 1usize..=8,
        narrow in proptest::bool::ANY,
    ) {
        let (v, width) = if narrow { (v & 0xFFFF_FFFF, 4) } else { (v, 8) };
        let min = min.min(width);
        let (mut got, mut want) = (vec![7u8], vec![7u8]);
        put_var(&mut got, v, min, width);
        put_var_reference(&mut want, v, min, width);
        proptest::prop_assert_eq!(got, want);
    }
}
