//! The filter list on the wire: whole lists through the stream bridge,
//! and the record decoder on bytes.

use super::*;
use crate::filter::{Decision, MAX_RULES};

#[test]
fn reads_until_terminator() {
    let bytes = encode_rules([&b"- *.o"[..], b"+ /keep/", b": /.rsync-filter"]);
    let list = recv_filter_list(&mut &bytes[..], 31).unwrap();
    assert_eq!(list.len(), 3);
    assert!(list.has_dir_merges());
    assert_eq!(list.check(b"a/x.o", false), Decision::Exclude);
    assert_eq!(list.check(b"keep", true), Decision::Include);
}

#[test]
fn empty_list() {
    let bytes = 0i32.to_le_bytes();
    let list = recv_filter_list(&mut &bytes[..], 30).unwrap();
    assert!(list.is_empty());
}

#[test]
fn length_checked_before_allocation() {
    let mut bytes = (i32::MAX).to_le_bytes().to_vec();
    bytes.extend_from_slice(b"x");
    assert!(matches!(
        recv_filter_list(&mut &bytes[..], 31),
        Err(FilterError::RuleTooLong)
    ));
    let bytes = (-5i32).to_le_bytes();
    assert!(matches!(
        recv_filter_list(&mut &bytes[..], 31),
        Err(FilterError::BadLength)
    ));
    let mut bytes = 4097i32.to_le_bytes().to_vec();
    bytes.extend_from_slice(&[b'a'; 4097]);
    assert!(matches!(
        recv_filter_list(&mut &bytes[..], 31),
        Err(FilterError::RuleTooLong)
    ));
    let ok = [b'a'; 4095];
    let bytes = encode_rules([&ok[..]]);
    assert!(recv_filter_list(&mut &bytes[..], 28).is_ok());
}

#[test]
fn truncated_input_is_io_error() {
    let mut bytes = 10i32.to_le_bytes().to_vec();
    bytes.extend_from_slice(b"- a");
    assert!(matches!(
        recv_filter_list(&mut &bytes[..], 31),
        Err(FilterError::Io(_))
    ));
    assert!(matches!(
        recv_filter_list(&mut &b"\x05\0"[..], 31),
        Err(FilterError::Io(_))
    ));
}

#[test]
fn rule_count_capped() {
    let mut bytes = Vec::new();
    for _ in 0..=MAX_RULES {
        bytes.extend_from_slice(&1i32.to_le_bytes());
        bytes.push(b'x');
    }
    bytes.extend_from_slice(&0i32.to_le_bytes());
    assert!(matches!(
        recv_filter_list(&mut &bytes[..], 28),
        Err(FilterError::TooManyRules)
    ));
}

#[test]
fn old_protocol_forms() {
    let bytes = encode_rules([&b"- - weird"[..], b"+ *.c", b"*.o", b"!", b"core"]);
    let list = recv_filter_list(&mut &bytes[..], 28).unwrap();
    // "!" cleared the first three; only "core" (an exclude) remains.
    assert_eq!(list.len(), 1);
    assert_eq!(list.check(b"core", false), Decision::Exclude);
    assert_eq!(list.check(b"x.o", false), Decision::Neither);
    let bytes = encode_rules([&b"- - weird"[..], b"+ *.c", b"*.o"]);
    let list = recv_filter_list(&mut &bytes[..], 27).unwrap();
    assert_eq!(list.check(b"- weird", false), Decision::Exclude);
    assert_eq!(list.check(b"a.c", false), Decision::Include);
    assert_eq!(list.check(b"a.o", false), Decision::Exclude);
    // Modern prefixes are plain patterns to an old-protocol parser.
    let bytes = encode_rules([&b"-/ x"[..]]);
    let list = recv_filter_list(&mut &bytes[..], 28).unwrap();
    assert_eq!(list.check(b"-/ x", false), Decision::Exclude);
    assert_eq!(list.check(b"x", false), Decision::Neither);
}

#[test]
fn server_cvs_rules() {
    let mut list = FilterList::new(31);
    list.add_server_cvs_rules(Side::Sender).unwrap();
    assert!(list.has_dir_merges());
    assert_eq!(list.check(b"src/x.o", false), Decision::Exclude);
    assert_eq!(list.check(b".git", true), Decision::Exclude);
    assert_eq!(list.check(b".git", false), Decision::Neither);
    // Perishable from protocol 30: ignored inside a doomed directory.
    assert_eq!(list.check_receiver(b"x.o", false, true), Decision::Neither);
    let mut old = FilterList::new(29);
    old.add_server_cvs_rules(Side::Sender).unwrap();
    assert_eq!(old.check_receiver(b"x.o", false, true), Decision::Exclude);
    let mut recv = FilterList::new(31);
    recv.add_server_cvs_rules(Side::Receiver).unwrap();
    assert!(recv.is_empty());
    let mut recv = FilterList::new(28);
    recv.add_server_cvs_rules(Side::Receiver).unwrap();
    assert!(recv.has_dir_merges());
    assert_eq!(recv.check(b"x.o", false), Decision::Neither);
}

#[test]
fn expected() {
    assert!(list_expected(Side::Sender, 27, false, false, false));
    assert!(!list_expected(Side::Receiver, 31, false, false, false));
    assert!(list_expected(Side::Receiver, 31, true, true, false));
    assert!(!list_expected(Side::Receiver, 28, true, true, false));
    assert!(list_expected(Side::Receiver, 28, true, false, false));
    assert!(list_expected(Side::Receiver, 28, false, false, true));
}

use crate::wire::{complete, Decoded, Fail};
use proptest::prelude::*;

/// Decodes every record of `bytes` with one decoder: the rule texts up to
/// the end marker, and the bytes used.
fn decode_all(bytes: &[u8]) -> Result<(Vec<Vec<u8>>, usize), CodecError> {
    let mut dec = RuleDecoder::new();
    let mut rules = Vec::new();
    let mut used = 0;
    loop {
        let rest = bytes.get(used..).unwrap_or_default();
        match complete(rest, |r| dec.decode(r).map(|t| t.map(<[u8]>::to_vec)))? {
            Decoded::Complete { value, consumed } => {
                used += consumed;
                match value {
                    Some(t) => rules.push(t),
                    None => return Ok((rules, used)),
                }
            }
            Decoded::Incomplete { .. } => panic!("incomplete after {used} bytes"),
        }
    }
}

#[test]
fn record_vectors() {
    let mut dec = RuleDecoder::new();
    let bytes = [3, 0, 0, 0, b'-', b' ', b'a', 9, 9];
    let mut r = Reader::new(&bytes);
    assert_eq!(dec.decode(&mut r), Ok(Some(&b"- a"[..])));
    assert_eq!(r.used(), 7);
    assert_eq!(dec.total, 3);
    let mut r = Reader::new(&[0, 0, 0, 0, 1]);
    assert_eq!(dec.decode(&mut r), Ok(None));
    assert_eq!(r.used(), 4);
    let mut r = Reader::new(&[0xFB, 0xFF, 0xFF, 0xFF]);
    let e = dec.decode(&mut r).unwrap_err();
    assert_eq!(e, Fail::Invalid(CodecError::OutOfRange("a filter rule")));
    let Fail::Invalid(e) = e else { unreachable!() };
    assert!(matches!(FilterError::from_codec(e), FilterError::BadLength));
    // The length is refused before any of the text has arrived.
    let long = 4097i32.to_le_bytes();
    let mut r = Reader::new(&long);
    let Err(Fail::Invalid(e)) = dec.decode(&mut r) else {
        panic!("accepted a 4097-byte rule")
    };
    assert!(matches!(
        FilterError::from_codec(e),
        FilterError::RuleTooLong
    ));
    let max = 4096i32.to_le_bytes();
    let mut r = Reader::new(&max);
    assert_eq!(dec.decode(&mut r), Err(Fail::Incomplete { needed: 4096 }));
}

#[test]
fn total_is_capped_and_counted_only_for_whole_records() {
    let mut dec = RuleDecoder::new();
    dec.total = MAX_WIRE_BYTES - 3;
    let four = encode_rules([&b"abcd"[..]]);
    let Err(Fail::Invalid(e)) = dec.decode(&mut Reader::new(&four)) else {
        panic!("accepted rule text beyond the total")
    };
    assert!(matches!(
        FilterError::from_codec(e),
        FilterError::TooManyRules
    ));
    let three = encode_rules([&b"abc"[..]]);
    // A cut record leaves the count alone; the whole one adds to it.
    assert!(matches!(
        dec.decode(&mut Reader::new(&three[..6])),
        Err(Fail::Incomplete { .. })
    ));
    assert_eq!(dec.total, MAX_WIRE_BYTES - 3);
    assert_eq!(dec.decode(&mut Reader::new(&three)), Ok(Some(&b"abc"[..])));
    assert_eq!(dec.total, MAX_WIRE_BYTES);
    // The stream bridge reports the same error.
    let mut bytes = Vec::new();
    for _ in 0..=MAX_WIRE_BYTES / MAX_RULE_LEN {
        bytes.extend_from_slice(&(MAX_RULE_LEN as i32).to_le_bytes());
        bytes.extend_from_slice(&[b'x'; MAX_RULE_LEN]);
    }
    let mut dec = RuleDecoder::new();
    let mut r = Reader::new(&bytes);
    let e = loop {
        match dec.decode(&mut r) {
            Ok(_) => {}
            Err(Fail::Invalid(e)) => break e,
            Err(Fail::Incomplete { .. }) => panic!("no limit"),
        }
    };
    assert!(matches!(
        FilterError::from_codec(e),
        FilterError::TooManyRules
    ));
}

#[test]
fn every_cut_is_incomplete() {
    let bytes = encode_rules([&b"- *.o"[..], b"+ /keep/", b"- x", b": /.rsync-filter"]);
    let (whole, used) = decode_all(&bytes).unwrap();
    assert_eq!(used, bytes.len());
    let old = recv_filter_list(&mut &bytes[..], 31).unwrap();
    assert_eq!(whole.len(), old.len());
    let mut at = 0;
    for rule in &whole {
        let end = at + 4 + rule.len();
        for cut in at..end {
            let mut dec = RuleDecoder::new();
            let d = complete(bytes.get(at..cut).unwrap(), |r| {
                dec.decode(r).map(|t| t.map(<[u8]>::to_vec))
            });
            assert!(
                matches!(d, Ok(Decoded::Incomplete { .. })),
                "cut {cut}: {d:?}"
            );
            assert_eq!(dec.total, 0);
        }
        at = end;
    }
    for cut in at..bytes.len() {
        let d = complete(bytes.get(at..cut).unwrap(), |r| {
            RuleDecoder::new().decode(r).map(|_| ())
        });
        assert!(matches!(d, Ok(Decoded::Incomplete { .. })), "cut {cut}");
    }
}

proptest! {
    #[test]
    fn slices_and_stream_agree(
        rules in proptest::collection::vec(proptest::collection::vec(1u8..=255, 1..40), 0..8),
        cut in 0usize..400,
    ) {
        let bytes = encode_rules(rules.iter().map(Vec::as_slice));
        let (whole, used) = decode_all(&bytes).unwrap();
        prop_assert_eq!(used, bytes.len());
        prop_assert_eq!(&whole, &rules);
        // Cut anywhere: what is decoded before the cut is a prefix of the
        // whole, and the rest decodes from where it stopped.
        let cut = cut.min(bytes.len());
        let mut dec = RuleDecoder::new();
        let mut got = Vec::new();
        let mut at = 0;
        let mut ended = false;
        for end in [cut, bytes.len()] {
            loop {
                let part = bytes.get(at..end).unwrap();
                match complete(part, |r| dec.decode(r).map(|t| t.map(<[u8]>::to_vec))).unwrap() {
                    Decoded::Complete { value: Some(t), consumed } => { got.push(t); at += consumed; }
                    Decoded::Complete { value: None, consumed } => { at += consumed; ended = true; break; }
                    Decoded::Incomplete { .. } => break,
                }
            }
        }
        prop_assert!(ended);
        prop_assert_eq!(at, bytes.len());
        prop_assert_eq!(got, rules);
    }
}
