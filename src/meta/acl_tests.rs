use super::*;

fn roundtrip(a: &Acl, mode: Option<u32>) -> Acl {
    let mut out = Vec::new();
    a.encode(&mut out, &mut |_| None);
    let mut r = Reader::new(&out);
    let got = Acl::decode(&mut r, mode).unwrap();
    assert_eq!(r.remaining(), 0);
    got
}

#[test]
fn a_stripped_access_acl_travels_as_rsync_sends_it() {
    // user::rwx user:1000:r-x group::r-x mask::r-x other::---, mode 0750
    let mut a = Acl::from_mode(0o750);
    a.mask_obj = 5;
    a.names.push(IdAccess {
        id: 1000,
        access: 5 | NAME_IS_USER,
    });
    a.strip_perms(0o750);
    let mut out = Vec::new();
    a.encode(&mut out, &mut |_| None);
    // flags: name list only; one entry: id 1000 (rsync's varint: the
    // first byte carries the high bits), access 5<<2|2.
    assert_eq!(out, vec![XMIT_NAME_LIST, 1, 0x83, 0xe8, 22]);
    let got = roundtrip(&a, Some(0o750));
    // The mask is made up from the mode's group bits.
    assert_eq!(got.mask_obj, 5);
    assert_eq!(got.names, a.names);
}

#[test]
fn the_xattr_form_round_trips_and_sorts() {
    let mut a = Acl::from_mode(0o640);
    a.mask_obj = 6;
    a.names = vec![
        IdAccess { id: 7, access: 4 },
        IdAccess {
            id: 9,
            access: 6 | NAME_IS_USER,
        },
        IdAccess {
            id: 3,
            access: 2 | NAME_IS_USER,
        },
    ];
    let x = a.to_xattr();
    assert_eq!(x.len(), 4 + 8 * 7);
    let back = Acl::from_xattr(&x).unwrap();
    let ids: Vec<u32> = back.names.iter().map(|n| n.id).collect();
    assert_eq!(ids, vec![3, 9, 7]);
    assert_eq!(
        (back.user_obj, back.group_obj, back.mask_obj, back.other_obj),
        (6, 4, 6, 0)
    );
}

#[test]
fn out_of_range_values_and_counts_are_refused() {
    // flags user_obj, value 8.
    let mut r = Reader::new(&[XMIT_USER_OBJ, 8]);
    assert!(matches!(
        Acl::decode(&mut r, None),
        Err(Fail::Invalid(AclError::Value(8)))
    ));
    let mut big = vec![XMIT_NAME_LIST];
    put_varint(&mut big, 65537);
    let mut r = Reader::new(&big);
    assert!(matches!(
        Acl::decode(&mut r, None),
        Err(Fail::Invalid(AclError::Count(_)))
    ));
}

#[test]
fn equal_enough_follows_the_mode() {
    let mut full = Acl::from_mode(0o750);
    full.mask_obj = 5;
    full.names.push(IdAccess { id: 1, access: 5 });
    let mut stripped = full.clone();
    stripped.strip_perms(0o750);
    // As received: the mask is made up again from the mode.
    let mut sent = roundtrip(&stripped, Some(0o750));
    assert!(full.equal_enough(&sent, 0o750));
    sent.names[0].access = 7;
    assert!(!full.equal_enough(&sent, 0o750));
}

#[test]
fn names_sent_with_named_entries_are_kept() {
    let mut a = Acl::from_mode(0o750);
    a.mask_obj = 5;
    a.names.push(IdAccess {
        id: 1000,
        access: 5 | NAME_IS_USER,
    });
    a.names.push(IdAccess { id: 100, access: 4 });
    let mut out = Vec::new();
    a.encode(&mut out, &mut |n| {
        Some(if n.is_user() {
            b"alice".to_vec()
        } else {
            b"staff".to_vec()
        })
    });
    let mut names = Vec::new();
    let got = Acl::decode_named(&mut Reader::new(&out), None, &mut names).unwrap();
    assert_eq!(got.names, a.names);
    let user = AclName {
        user: true,
        id: 1000,
        name: b"alice".to_vec(),
    };
    let group = AclName {
        user: false,
        id: 100,
        name: b"staff".to_vec(),
    };
    assert_eq!(names, vec![user, group]);
}
