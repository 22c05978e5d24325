//! The request header after a file index: byte vectors at protocols 28,
//! 29, 30 and 32, cut at every byte, and the stream bridge against the
//! field-by-field reads the roles made before (kept here as `old_read`).

use super::*;
use crate::wire::{complete, get_u16, get_u8, get_vstring, CodecError, Decoded};

/// The roles' former reads, field by field from a stream.
fn old_read(r: &mut impl Read, protocol: u32) -> Result<ItemHeader, WireError> {
    let iflags = if protocol >= 29 {
        ItemFlags::from_wire(get_u16(r, "item flags")?)
    } else {
        TRANSFER
    };
    let basis_type = if iflags.intersects(BASIS_TYPE_FOLLOWS) {
        Some(get_u8(r, "basis type")?)
    } else {
        None
    };
    let xname = if iflags.intersects(XNAME_FOLLOWS) {
        Some(get_vstring(r, 4096, "basis name")?)
    } else {
        None
    };
    Ok(ItemHeader {
        iflags,
        basis_type,
        xname,
    })
}

fn header(iflags: ItemFlags, basis_type: Option<u8>, xname: Option<&[u8]>) -> ItemHeader {
    ItemHeader {
        iflags,
        basis_type,
        xname: xname.map(<[u8]>::to_vec),
    }
}

/// (protocol, bytes, the header they hold).
fn vectors() -> Vec<(u32, Vec<u8>, ItemHeader)> {
    let long = vec![b'n'; 200];
    let mut long_bytes = vec![0x00, 0x90, 0x80, 200];
    long_bytes.extend_from_slice(&long);
    let max = vec![b'm'; MAX_XNAME];
    let mut max_bytes = vec![0x00, 0x10, 0x90, 0x00];
    max_bytes.extend_from_slice(&max);
    vec![
        // Before protocol 29 nothing follows the index.
        (28, vec![], header(TRANSFER, None, None)),
        (29, vec![0x00, 0x80], header(TRANSFER, None, None)),
        // The protocol-29 keep-alive's flags.
        (29, vec![0x00, 0x20], header(IS_NEW, None, None)),
        (
            29,
            vec![0x06, 0x88, 0x80],
            header(
                TRANSFER | BASIS_TYPE_FOLLOWS | REPORT_SIZE | REPORT_CHANGE,
                Some(0x80),
                None,
            ),
        ),
        (30, vec![0x00, 0x00], header(ItemFlags::EMPTY, None, None)),
        (
            30,
            vec![0x00, 0x88, 0x02],
            header(TRANSFER | BASIS_TYPE_FOLLOWS, Some(2), None),
        ),
        (
            32,
            vec![0x00, 0x98, 0x01, 0x05, b'a', b'/', b'b', b'/', b'c'],
            header(
                TRANSFER | BASIS_TYPE_FOLLOWS | XNAME_FOLLOWS,
                Some(1),
                Some(b"a/b/c"),
            ),
        ),
        (
            32,
            long_bytes,
            header(TRANSFER | XNAME_FOLLOWS, None, Some(&long)),
        ),
        (32, max_bytes, header(XNAME_FOLLOWS, None, Some(&max))),
        (
            32,
            vec![0x00, 0x50, 0x00],
            header(LOCAL_CHANGE | XNAME_FOLLOWS, None, Some(b"")),
        ),
    ]
}

#[test]
fn byte_vectors_decode_whole() {
    for (p, bytes, want) in vectors() {
        // Bytes after the header are the next value's, and stay unused.
        let mut input = bytes.clone();
        input.extend_from_slice(&[0xAA, 0xBB]);
        let got = complete(&input, |r| ItemHeader::decode(r, p)).unwrap();
        assert_eq!(
            got,
            Decoded::Complete {
                value: want.clone(),
                consumed: bytes.len()
            },
            "protocol {p}, {bytes:02x?}"
        );
    }
}

#[test]
fn a_cut_at_every_byte_is_incomplete() {
    for (p, bytes, _) in vectors() {
        for cut in 0..bytes.len() {
            let got = complete(&bytes[..cut], |r| ItemHeader::decode(r, p)).unwrap();
            assert!(
                matches!(got, Decoded::Incomplete { needed } if needed >= 1 && cut + needed <= bytes.len()),
                "protocol {p}, cut {cut}: {got:?}"
            );
        }
    }
}

#[test]
fn a_name_over_the_limit_is_refused() {
    // 4097 bytes announced: refused before any of them is needed.
    let bytes = [0x00, 0x10, 0x90, 0x01];
    let got = complete(&bytes, |r| ItemHeader::decode(r, 30));
    assert_eq!(got, Err(CodecError::TooLong("basis name")));
    let mut s = &bytes[..];
    assert_eq!(
        ItemHeader::read(&mut s, 30),
        Err(WireError::TooLong("basis name"))
    );
}

#[test]
fn the_bridge_reads_as_the_roles_did() {
    let mut cases = vectors();
    cases.push((32, vec![0x00, 0x10, 0x90, 0x01], ItemHeader::default()));
    for (p, bytes, _) in cases {
        for cut in 0..=bytes.len() {
            let mut input = bytes[..cut].to_vec();
            if cut == bytes.len() {
                input.push(0xAA);
            }
            let (mut new_r, mut old_r) = (&input[..], &input[..]);
            let new = ItemHeader::read(&mut new_r, p);
            let old = old_read(&mut old_r, p);
            assert_eq!(new, old, "protocol {p}, cut {cut}");
            // Exactly the same bytes are taken from the stream.
            assert_eq!(new_r.len(), old_r.len(), "protocol {p}, cut {cut}");
        }
    }
}

#[test]
fn a_cut_names_the_field_it_falls_in() {
    let bytes = [0x00, 0x98, 0x01, 0x02, b'x', b'y'];
    for (cut, what) in [
        (0, "item flags"),
        (1, "item flags"),
        (2, "basis type"),
        (3, "basis name"),
        (5, "basis name"),
    ] {
        let mut s = &bytes[..cut];
        assert_eq!(
            ItemHeader::read(&mut s, 31),
            Err(WireError::Truncated(what)),
            "cut {cut}"
        );
    }
}

#[test]
fn flags_then_the_rest_is_the_whole() {
    // The sender reads the flags, checks the index, then the rest.
    let bytes = [0x00, 0x88, 0x80, 0xAA];
    let mut s = &bytes[..];
    let iflags = ItemHeader::read_flags(&mut s, 30).unwrap();
    assert_eq!(s.len(), 2);
    let h = ItemHeader::read_after(&mut s, iflags).unwrap();
    assert_eq!(h, header(TRANSFER | BASIS_TYPE_FOLLOWS, Some(0x80), None));
    assert_eq!(s, [0xAA]);
}
