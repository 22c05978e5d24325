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
    let got = decode(&mut r, &|n| Some(n.to_vec())).unwrap();
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
        decode(&mut r, &|n| Some(n.to_vec())),
        Err(Fail::Invalid(XattrError::NoNul))
    ));
    let mut b = Vec::new();
    put_varint(&mut b, 1);
    put_varint(&mut b, 2);
    put_varint(&mut b, (MAX_VALUE + 1) as i32);
    let mut r = Reader::new(&b);
    assert!(matches!(
        decode(&mut r, &|n| Some(n.to_vec())),
        Err(Fail::Invalid(XattrError::ValueLen(_)))
    ));
}

fn naming(xattrs: u8, fake_super: bool) -> Naming {
    Naming { xattrs, fake_super }
}

#[test]
fn only_user_names_are_stored() {
    let n = naming(1, false);
    let kept = |n: Naming, w: &[u8]| n.to_local(w).map(|l| String::from_utf8(l).unwrap());
    assert_eq!(kept(n, b"user.x").as_deref(), Some("user.x"));
    assert_eq!(kept(n, b"security.capability"), None);
    assert_eq!(kept(n, b"trusted.x"), None);
    assert_eq!(kept(n, b"user.rsync.%stat"), None);
    assert_eq!(
        kept(naming(2, false), b"user.rsync.%stat").as_deref(),
        Some("user.rsync.%stat")
    );
    assert!(n.ours(b"user.x") && !n.ours(b"trusted.x") && !n.ours(b"user.rsync.%stat"));
    assert_eq!(n.to_wire(b"system.posix_acl_access"), None);
    assert_eq!(naming(2, false).to_wire(b"system.posix_acl_access"), None);
}

/// Under --fake-super other namespaces are kept under `user.rsync.` and
/// travel back without it; fake-super's own records never travel, are
/// never taken from a client and are never compared or removed.
#[test]
fn fake_super_keeps_other_namespaces_under_the_rsync_prefix() {
    for x in [1, 2] {
        let n = naming(x, true);
        assert_eq!(
            n.to_local(b"security.capability"),
            Some(b"user.rsync.security.capability".to_vec())
        );
        assert_eq!(n.to_local(b"user.x"), Some(b"user.x".to_vec()));
        assert_eq!(
            n.to_wire(b"user.rsync.security.capability"),
            Some(b"security.capability".to_vec())
        );
        assert_eq!(
            n.from_wire_sent(b"security.capability"),
            b"user.rsync.security.capability".to_vec()
        );
        assert_eq!(n.from_wire_sent(b"user.x"), b"user.x".to_vec());
        for own in [
            &b"user.rsync.%stat"[..],
            b"user.rsync.%aacl",
            b"user.rsync.%dacl",
        ] {
            assert_eq!(n.to_wire(own), None);
            assert_eq!(n.to_local(own), None);
            assert!(!n.ours(own));
        }
        assert_eq!(n.to_local(b"user.rsync.%other").is_some(), x == 2);
    }
}
