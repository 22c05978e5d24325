//! Tests for rule parsing (short and long forms, modifiers, old prefixes,
//! merge-name confinement, error cases).
#![allow(clippy::unwrap_used)]

use super::*;

fn p(s: &str) -> Result<Rule, FilterError> {
    parse_wire_rule(s.as_bytes(), 31)
}

#[test]
fn short_forms() {
    let r = p("- *.o").unwrap();
    assert_eq!(
        (r.kind, r.pattern.as_slice()),
        (RuleKind::Exclude, &b"*.o"[..])
    );
    let r = p("+ /foo/").unwrap();
    assert_eq!(r.kind, RuleKind::Include);
    assert_eq!(r.pattern, b"/foo");
    assert!(r.dir_only);
    let r = p("H x").unwrap();
    assert!(r.mods.sender && !r.mods.receiver && r.kind == RuleKind::Exclude);
    let r = p("S x").unwrap();
    assert!(r.mods.sender && r.kind == RuleKind::Include);
    let r = p("P x").unwrap();
    assert!(r.mods.receiver && r.kind == RuleKind::Exclude);
    let r = p("R x").unwrap();
    assert!(r.mods.receiver && r.kind == RuleKind::Include);
    assert_eq!(p("!").unwrap().kind, RuleKind::Clear);
    assert_eq!(p("!,").unwrap().kind, RuleKind::Clear);
    let r = p(": /.rsync-filter").unwrap();
    assert_eq!(
        (r.kind, r.rooted, r.pattern.as_slice()),
        (RuleKind::DirMerge, true, &b".rsync-filter"[..])
    );
    let r = p(":C").unwrap();
    assert!(r.mods.cvs && r.mods.no_inherit && r.mods.word_split && r.mods.no_prefixes);
    assert_eq!(r.pattern, b".cvsignore");
    let r = p("-C").unwrap();
    assert!(r.mods.cvs && r.kind == RuleKind::Exclude);
    // "-C " as a protocol >= 29 client sends it.
    assert!(p("-C ").unwrap().mods.cvs);
}

#[test]
fn long_forms() {
    assert_eq!(p("exclude *.o").unwrap().kind, RuleKind::Exclude);
    assert_eq!(p("include foo").unwrap().kind, RuleKind::Include);
    assert_eq!(p("include_foo").unwrap().pattern, b"foo");
    assert_eq!(p("clear").unwrap().kind, RuleKind::Clear);
    assert_eq!(p("dir-merge .f").unwrap().kind, RuleKind::DirMerge);
    assert_eq!(p("merge .f").unwrap().kind, RuleKind::Merge);
    assert!(p("hide x").unwrap().mods.sender);
    assert!(p("show x").unwrap().is_include());
    assert!(p("protect x").unwrap().mods.receiver);
    assert!(p("risk x").unwrap().is_include());
    let r = p("exclude,/! x").unwrap();
    assert!(r.mods.abs_path && r.mods.negate);
    let r = p("dir-merge,n- .f").unwrap();
    assert!(r.mods.no_inherit && r.mods.no_prefixes && !r.mods.default_include);
    assert!(matches!(p("exclusive x"), Err(FilterError::UnknownRule)));
    assert!(matches!(p("clear x"), Err(FilterError::ClearTrailing)));
    assert!(matches!(p("x foo"), Err(FilterError::UnknownRule)));
}

#[test]
fn modifiers() {
    let r = p("-/ x").unwrap();
    assert!(r.mods.abs_path);
    let r = p("-! */").unwrap();
    assert!(r.mods.negate && r.dir_only && r.pattern == b"*");
    let r = p("-,sp x").unwrap();
    assert!(r.mods.sender && r.mods.perishable);
    assert!(p("-r x").unwrap().mods.receiver);
    assert!(p("-x user.*").unwrap().mods.xattr);
    let r = p(":ew+ .f").unwrap();
    assert!(r.mods.exclude_self && r.mods.word_split && r.mods.default_include);
    let r = p(".n .f").unwrap();
    assert!(r.mods.no_inherit && r.kind == RuleKind::Merge);
    // Modifier validity (a ',' is only allowed right after the rule letter).
    for bad in [
        ":e,w .f", "-e x", "-n x", "-w x", "-+ x", ":! .f", "Hs x", "Pr x", "HC", ":-- .f", "-q x",
        "-\tx", ":-C .f",
    ] {
        assert!(matches!(p(bad), Err(FilterError::InvalidModifier)), "{bad}");
    }
    // Underscore as the separator; extra spaces are part of the pattern.
    assert_eq!(p("-_ a").unwrap().pattern, b" a");
    assert_eq!(p("- a ").unwrap().pattern, b"a ");
}

#[test]
fn errors() {
    assert!(matches!(p(""), Err(FilterError::UnexpectedEnd)));
    assert!(matches!(p("-"), Err(FilterError::UnexpectedEnd)));
    assert!(matches!(p("- "), Err(FilterError::UnexpectedEnd)));
    assert!(matches!(p("! x"), Err(FilterError::ClearTrailing)));
    assert!(matches!(
        parse_wire_rule(b"- a\0b", 31),
        Err(FilterError::NulByte)
    ));
    let long = format!("- {}", "a".repeat(MAX_PATTERN_LEN));
    assert!(matches!(p(&long), Err(FilterError::PatternTooLong)));
    let ok = format!("- {}", "a".repeat(MAX_PATTERN_LEN - 1));
    assert!(p(&ok).is_ok());
}

#[test]
fn trailing_backslash_accepted() {
    let r = p("- foo\\").unwrap();
    assert_eq!(r.pattern, b"foo\\");
    let r = p("- *\\").unwrap();
    assert_eq!(r.pattern, b"*\\");
    let r = parse_wire_rule(b"\\", 28).unwrap();
    assert_eq!(r.pattern, b"\\");
}

#[test]
fn merge_names_confined() {
    for bad in [
        ": ../x",
        ": a/b",
        ": /a/b",
        ": ..",
        ": .",
        ": /",
        ". /etc/passwd",
        ". ../../x",
        ":C sub/.cvsignore",
        ": //x",
    ] {
        assert!(matches!(p(bad), Err(FilterError::UnsafeMergeName)), "{bad}");
    }
    assert_eq!(p(". rules").unwrap().pattern, b"rules");
    assert_eq!(p(": .cvsignore").unwrap().pattern, b".cvsignore");
    // Only a C merge may omit the name (it means .cvsignore), as upstream.
    assert!(matches!(p(":"), Err(FilterError::UnexpectedEnd)));
    assert_eq!(p(":C").unwrap().pattern, b".cvsignore");
}

#[test]
fn old_prefixes() {
    let r = parse_wire_rule(b"foo", 28).unwrap();
    assert_eq!(
        (r.kind, r.pattern.as_slice()),
        (RuleKind::Exclude, &b"foo"[..])
    );
    let r = parse_wire_rule(b"+ foo", 27).unwrap();
    assert_eq!(r.kind, RuleKind::Include);
    let r = parse_wire_rule(b"- + foo", 28).unwrap();
    assert_eq!(
        (r.kind, r.pattern.as_slice()),
        (RuleKind::Exclude, &b"+ foo"[..])
    );
    assert_eq!(parse_wire_rule(b"!", 28).unwrap().kind, RuleKind::Clear);
    assert_eq!(parse_wire_rule(b"!x", 28).unwrap().pattern, b"!x");
    // No merge rules, long names or modifiers before protocol 29.
    let r = parse_wire_rule(b": .rsync-filter", 28).unwrap();
    assert_eq!(
        (r.kind, r.pattern.as_slice()),
        (RuleKind::Exclude, &b": .rsync-filter"[..])
    );
    assert_eq!(
        parse_wire_rule(b"exclude x", 28).unwrap().pattern,
        b"exclude x"
    );
    assert!(matches!(
        parse_wire_rule(b"- ", 28),
        Err(FilterError::UnexpectedEnd)
    ));
}

#[test]
fn templates() {
    let merge = p(":- .f").unwrap();
    let t = Template::from_merge(&merge);
    let r = parse_rule(b"+ x", &t, false).unwrap();
    assert_eq!(
        (r.kind, r.pattern.as_slice()),
        (RuleKind::Exclude, &b"+ x"[..])
    );
    let t = Template::from_merge(&p(":+ .f").unwrap());
    assert!(parse_rule(b"x", &t, false).unwrap().is_include());
    let t = Template::from_merge(&p(":s .f").unwrap());
    assert!(parse_rule(b"- x", &t, false).unwrap().mods.sender);
    assert!(matches!(
        parse_rule(b"H x", &t, false),
        Err(FilterError::SideConflict)
    ));
    assert!(matches!(
        parse_rule(b"-r x", &t, false),
        Err(FilterError::SideConflict)
    ));
    let t = Template::from_merge(&p(":C").unwrap());
    assert_eq!(parse_rule(b"!", &t, false).unwrap().kind, RuleKind::Clear);
    let t = Template::from_merge(&p(":/p .f").unwrap());
    let r = parse_rule(b"- x", &t, false).unwrap();
    assert!(r.mods.abs_path && r.mods.perishable);
}

#[test]
fn debug_form() {
    assert_eq!(format!("{:?}", p("-/! foo/").unwrap()), "-/! foo/");
    assert_eq!(
        format!("{:?}", p(": /.rsync-filter").unwrap()),
        ": /.rsync-filter"
    );
    assert_eq!(format!("{:?}", p("!").unwrap()), "!");
    assert_eq!(format!("{:?}", p("P x").unwrap()), "-r x");
}
