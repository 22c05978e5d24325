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
