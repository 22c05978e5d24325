use super::*;

#[test]
fn long_values_travel_as_their_sum_and_come_back_in_order() {
    let mut list = vec![
        Xattr::local(b"user.z".to_vec(), vec![7; 40]),
        Xattr::local(b"user.a".to_vec(), b"short".to_vec()),
    ];
    sort_and_number(&mut list);
    let mut out = Vec::new();
    encode(&list, &mut out);
    let mut r = Reader::new(&out);
    let got = decode(&mut r, &|_| true).unwrap();
    assert_eq!(r.remaining(), 0);
    assert_eq!(got, list);
    assert!(matches!(got[1].value, Value::Sum { len: 40, .. }));
    assert_eq!(got[1].num, 2);
}

#[test]
fn a_request_names_wanted_values_by_relative_position() {
    let mut sent: Vec<Xattr> = (0..3)
        .map(|i| Xattr::local(format!("user.{i}").into_bytes(), vec![i; 50]))
        .collect();
    sort_and_number(&mut sent);
    let local = vec![sent[1].clone()];
    assert!(diff(&mut sent, &local));
    let mut out = Vec::new();
    request(&mut sent, true, &mut out);
    assert_eq!(out, vec![1, 2, 0]);
    assert!(sent.iter().all(|x| matches!(
        x.value,
        Value::Sum {
            state: Abbrev::Done,
            ..
        }
    )));
}

#[test]
fn names_without_their_nul_and_huge_values_are_refused() {
    let mut b = Vec::new();
    put_varint(&mut b, 1);
    put_varint(&mut b, 3);
    put_varint(&mut b, 1);
    b.extend_from_slice(b"abc");
    b.push(9);
    let mut r = Reader::new(&b);
    assert!(matches!(
        decode(&mut r, &|_| true),
        Err(Fail::Invalid(XattrError::NoNul))
    ));
    let mut b = Vec::new();
    put_varint(&mut b, 1);
    put_varint(&mut b, 2);
    put_varint(&mut b, (MAX_VALUE + 1) as i32);
    let mut r = Reader::new(&b);
    assert!(matches!(
        decode(&mut r, &|_| true),
        Err(Fail::Invalid(XattrError::ValueLen(_)))
    ));
}

#[test]
fn only_user_names_are_stored() {
    assert!(storable(b"user.x", 1));
    assert!(!storable(b"security.capability", 1));
    assert!(!storable(b"trusted.x", 1));
    assert!(!storable(b"user.rsync.%stat", 1));
    assert!(storable(b"user.rsync.%stat", 2));
    assert!(!sendable(b"system.posix_acl_access", 2));
}
