use super::*;

fn names() -> &'static IdNames {
    static N: std::sync::OnceLock<IdNames> = std::sync::OnceLock::new();
    N.get_or_init(|| {
        IdNames::from_text(
            b"root:x:0:0::/:/bin/sh\nalice:x:1000:1000::/:/bin/sh\nbob:x:1001:1001::/:/bin/sh\n",
            b"root:x:0:\nstaff:x:50:\nwheel:x:10:\n",
        )
    })
}

fn users(map: &str) -> IdMap {
    let (rules, lines) = NameMap::parse(map, true, names()).unwrap();
    assert!(lines.is_empty(), "{lines:?}");
    IdMap::new(rules, true, names())
}

#[test]
fn malformed_rules_fail_in_rsyncs_words_naming_the_last() {
    let err = |m: &str| NameMap::parse(m, true, names()).unwrap_err();
    assert_eq!(err("foo"), "No colon found in --usermap: foo");
    assert_eq!(err("foo,bar"), "No colon found in --usermap: bar");
    assert_eq!(err("a:1,,b:2"), "No colon found in --usermap: ");
    assert_eq!(err("x:"), "No name found after colon --usermap: x:");
    assert_eq!(err("1x:2"), "Invalid number in --usermap: 1x");
    assert_eq!(err("1-:2"), "Invalid number in --usermap: 1-");
    assert_eq!(err("1-2-3:2"), "Invalid number in --usermap: 1-2-3");
    assert_eq!(err("99999999999:5"), "Invalid ID number: 99999999999");
    assert_eq!(err("1:4294967296"), "Invalid ID number: 4294967296");
    let g = NameMap::parse("foo", false, names()).unwrap_err();
    assert_eq!(g, "No colon found in --groupmap: foo");
}

#[test]
fn unknown_to_names_drop_their_rule_with_a_line() {
    let (map, lines) = NameMap::parse("a:nosuch,b:alice,c:none", true, names()).unwrap();
    assert_eq!(
        lines,
        [
            "Unknown --usermap name on receiver: nosuch",
            "Unknown --usermap name on receiver: none"
        ]
    );
    let mut m = IdMap::new(map, true, names());
    m.learn(7, b"b");
    m.learn(8, b"a");
    assert_eq!((m.get(7), m.get(8)), (1000, 8));
}

#[test]
fn the_first_matching_rule_wins_by_id_range_name_or_pattern() {
    let mut m = users("101:1001,5000-6000:bob,r*t:5,carol:6,*:7");
    m.learn(0, b"root");
    m.learn(101, b"_ssh");
    m.learn(102, b"carol");
    m.learn(103, b"dave");
    assert_eq!(m.get(0), 5);
    assert_eq!(m.get(101), 1001);
    assert_eq!(m.get(102), 6);
    assert_eq!(m.get(103), 7);
    // Nameless ids match patterns against "".
    assert_eq!(m.get(5500), 1001);
    assert_eq!(m.get(9999), 7);
    // A high end of 0 is no range: id 3 exactly.
    let mut z = users("3-0:9");
    assert_eq!((z.get(3), z.get(2)), (9, 2));
    // An empty FROM matches the nameless.
    let mut e = users(":9");
    e.learn(4, b"x");
    assert_eq!((e.get(4), e.get(5)), (4, 9));
}

#[test]
fn without_a_rule_a_name_other_than_ids_0_maps_by_local_name() {
    let mut m = users("nobody:1");
    assert!(!m.is_identity());
    m.learn(501, b"alice");
    m.learn(502, b"zed");
    m.learn(0, b"bob");
    assert_eq!(
        (m.get(501), m.get(502), m.get(0), m.get(9)),
        (1000, 502, 0, 9)
    );
    let mut g = IdMap::new(NameMap::default(), false, names());
    assert!(g.is_identity());
    assert_eq!(g.get(77), 77);
    g.learn(77, b"wheel");
    assert!(!g.is_identity());
    assert_eq!((g.get(77), g.get(77)), (10, 10));
}

#[test]
fn a_chown_map_takes_every_id() {
    // The client sends `--chown=alice:staff` as these two maps.
    let mut u = users("*:alice");
    let (gm, _) = NameMap::parse("*:staff", false, names()).unwrap();
    let mut g = IdMap::new(gm, false, names());
    u.learn(0, b"root");
    assert_eq!((u.get(0), u.get(12345)), (1000, 1000));
    assert_eq!((g.get(0), g.get(1)), (50, 50));
}
