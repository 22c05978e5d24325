use super::*;

/// An entry's attribute part: a new list of one attribute named `name`
/// with a short value.
fn literal(name: &str) -> Vec<u8> {
    let mut b = Vec::new();
    put_varint(&mut b, 0);
    let list = vec![Xattr::local(name.as_bytes().to_vec(), b"v".to_vec())];
    xattr::encode(&list, &mut b);
    b
}

fn xopts() -> MetaOpts {
    MetaOpts {
        acls: false,
        xattrs: 1,
        optim: false,
        fake_super: false,
    }
}

fn add(t: &mut Tables, bytes: &[u8]) -> Result<MetaRef, MetaError> {
    let mut r = Reader::new(bytes);
    let got = t.decode(&mut r, xopts(), 0o100644).unwrap();
    assert_eq!(r.remaining(), 0);
    t.commit(got)
}

#[test]
fn new_lists_past_the_budget_are_refused_and_indexes_cost_nothing() {
    let one = xattr::heap_size(&[Xattr::local(b"user.a0".to_vec(), b"v".to_vec())]);
    let mut t = Tables::with_budget(3 * one);
    for i in 0..3 {
        add(&mut t, &literal(&format!("user.a{i}"))).unwrap();
    }
    assert_eq!(t.used(), 3 * one);
    // A fourth list would pass the budget: refused, and nothing added.
    let e = add(&mut t, &literal("user.a3")).unwrap_err();
    assert_eq!(e, MetaError::Budget(3 * one));
    assert_eq!(t.xattrs.len(), 3);
    assert_eq!(t.used(), 3 * one);
    // Referring to a list already held costs nothing.
    let mut b = Vec::new();
    put_varint(&mut b, 2);
    assert_eq!(add(&mut t, &b).unwrap().xattr, Some(1));
    assert_eq!(t.used(), 3 * one);
}

#[test]
fn answered_values_are_charged_too() {
    let mut t = Tables::with_budget(1000);
    t.charge(900).unwrap();
    assert!(matches!(t.charge(101), Err(MetaError::Budget(1000))));
    t.charge(100).unwrap();
    assert_eq!(t.used(), 1000);
}

/// A new access ACL with one named user entry whose name is `name`.
fn named_acl(name: &[u8]) -> Vec<u8> {
    let mut a = acl::Acl::from_mode(0o640);
    a.mask_obj = 4;
    a.names.push(acl::IdAccess {
        id: 1000,
        access: 4 | acl::NAME_IS_USER,
    });
    let mut b = Vec::new();
    put_varint(&mut b, 0);
    a.encode(&mut b, &mut |_| Some(name.to_vec()));
    b
}

/// The names a client sends with named ACL entries wait in the tables
/// until a list takes them, so they are charged like the ACLs: a long
/// name passes a budget that the same ACL with a short name fits in.
#[test]
fn names_sent_with_acls_are_charged() {
    let opts = MetaOpts {
        acls: true,
        xattrs: 0,
        optim: false,
        fake_super: false,
    };
    let commit = |t: &mut Tables, name: &[u8]| {
        let bytes = named_acl(name);
        let mut r = Reader::new(&bytes);
        let got = t.decode(&mut r, opts, 0o100640).unwrap();
        assert_eq!(r.remaining(), 0);
        t.commit(got)
    };
    let mut probe = Tables::default();
    commit(&mut probe, b"al").unwrap();
    let short = probe.used();
    assert_eq!(probe.acl_names.len(), 1);
    let mut t = Tables::with_budget(short + 100);
    commit(&mut t, b"al").unwrap();
    let mut t = Tables::with_budget(short + 100);
    let e = commit(&mut t, &[b'x'; 200]).unwrap_err();
    assert_eq!(e, MetaError::Budget(short + 100));
    assert!(t.acl_names.is_empty(), "nothing is kept past the budget");
}
