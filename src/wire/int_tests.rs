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
    put_vstring(&mut o, b"md5");
    assert_eq!(o, b"\x03md5");
    let long = vec![b'a'; 300];
    let mut o = Vec::new();
    put_vstring(&mut o, &long);
    assert_eq!(&o[..2], &[0x81, 0x2C]);
    assert_eq!(get_vstring(&mut &o[..], 1000, "t").unwrap(), long);
    assert!(get_vstring(&mut &o[..], 10, "t").is_err());
}
