//! Tests for the rsync wildmatch port: hand-written vectors, a differential
//! check against a small backtracking reference model of upstream's matcher
//! (abort codes included), and running-time checks on hostile patterns.
#![allow(clippy::indexing_slicing)]

use super::{wildmatch, Compiled, Start};
use proptest::prelude::*;

#[test]
fn basic_vectors() {
    let cases: &[(bool, &str, &str)] = &[
        (true, "foo", "foo"),
        (false, "foo", "fo"),
        (true, "", ""),
        (true, "abc", "???"),
        (false, "abc", "??"),
        (true, "abc", "*"),
        (true, "abc", "a*"),
        (false, "abc", "*a"),
        (true, "xaby", "*ab*"),
        (true, "aXbYcZ", "*a*b*c*"),
        (true, "ababab", "*ab"),
        (true, "a*", "a\\*"),
        (false, "ab", "a\\*"),
        (true, "a\\b", "a\\\\b"),
        (true, "zq", "[xyz]?"),
        (false, "abc", "[abc]"),
        (true, "abc", "**[!ab]"),
        (true, "acd", "a[b-d]d"),
        (false, "acd", "a[!b-d]d"),
        (true, "aed", "a[^b-d]d"),
        (true, "x]y", "x[]]y"),
        (true, "x-y", "x[]-]y"),
        (false, "xzy", "x[]-]y"),
        (true, "]", "]"),
    ];
    for &(want, text, pat) in cases {
        assert_eq!(
            wildmatch(pat.as_bytes(), text.as_bytes()),
            want,
            "{pat:?} vs {text:?}"
        );
    }
}

#[test]
fn slash_vectors() {
    let cases: &[(bool, &str, &str)] = &[
        (false, "a/b/c", "a*c"),
        (true, "a/b/c", "a**c"),
        (false, "a/c", "a?c"),
        (false, "a/c", "a[/]c"),
        (false, "a/c", "a[!x]c"),
        (false, "x", "**/x"),
        (true, "/x", "**/x"),
        (true, "p/q/x", "**/x"),
        (false, "p/q/x", "*/x"),
        (true, "d/e/mid/f", "**/mid/*"),
        (false, "d/e/mid/f/", "**/mid/*"),
        (true, "d/e/mid/f/", "**/mid/**"),
        (true, "d/e/mid/f/g", "**/mid/*/*"),
        (true, "a/b/c", "a/***"),
        (true, "a/", "a/***"),
        (false, "a", "a/***"),
        (true, "one/two", "*/*"),
        (false, "one/two/three", "*/*"),
    ];
    for &(want, text, pat) in cases {
        assert_eq!(
            wildmatch(pat.as_bytes(), text.as_bytes()),
            want,
            "{pat:?} vs {text:?}"
        );
    }
}

#[test]
fn class_vectors() {
    let cases: &[(bool, &str, &str)] = &[
        (true, "q7Z", "[[:lower:]][[:digit:]][[:upper:]]"),
        (false, "q", "[[:digit:][:upper:]]"),
        (true, " ", "[[:blank:]]"),
        (true, "\t", "[[:space:]]"),
        (true, "!", "[[:punct:]]"),
        (false, "a", "[[:punct:]]"),
        (true, "e", "[[:xdigit:]]"),
        (false, "g", "[[:xdigit:]]"),
        (false, "1", "[[:digit:][:bogus:]]"),
        (true, "7", "[a-c[:digit:]x-z]"),
        (false, "m", "[a-c[:digit:]x-z]"),
        (true, "[x", "[[:]x"),
        (true, ":x", "[[:]x"),
        (false, "[x", "[[::]x"),
        (true, "[x", "\\[x"),
        (true, "-", "[\\-_]"),
        (true, "]", "[\\]]"),
        (false, "xy", "x[]y"),
        (false, "xy[", "xy["),
        (false, "-", "[a-"),
        (true, "-", "[-]"),
        (true, "-", "[--/]"),
        (true, "5", "[--A]"),
        (true, "-", "[a-e-n]"),
        (false, "j", "[a-e-n]"),
        (true, "^", "[a^bc]"),
        (true, "2", "[\\1-\\3]"),
        (false, "4", "[\\1-\\3]"),
        (true, "G", "[A-\\\\]"),
        (true, "\\", "[[-\\]]"),
        (false, "-", "[[-\\]]"),
        (false, "\\", "[\\]"),
    ];
    for &(want, text, pat) in cases {
        assert_eq!(
            wildmatch(pat.as_bytes(), text.as_bytes()),
            want,
            "{pat:?} vs {text:?}"
        );
    }
}

#[test]
fn trailing_backslash_is_literal() {
    assert!(wildmatch(b"ab\\", b"ab\\"));
    assert!(wildmatch(b"*\\", b"x\\"));
    assert!(!wildmatch(b"*\\", b"x"));
    assert!(!wildmatch(b"\\", b""));
    // A backslash that opens a class escape with nothing after is malformed.
    assert!(!wildmatch(b"[\\", b"\\"));
}

#[test]
fn any_slash_start() {
    let c = Compiled::new(b"b/**");
    assert!(c.matches(b"a/b/c", Start::AnySlash));
    assert!(!c.matches(b"a/b/c", Start::Anchored));
    assert!(!c.matches(b"ab/c", Start::AnySlash));
    assert!(Compiled::new(b"b").matches(b"a/b", Start::AnySlash));
}

#[test]
fn hostile_patterns_are_fast() {
    let text = vec![b'a'; 4000];
    let t0 = std::time::Instant::now();
    let star = b"*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b".to_vec();
    assert!(!wildmatch(&star, &text));
    let dstar = b"**a**a**a**a**a**a**a**a**a**a**a**a**a**a**a**a**b".to_vec();
    assert!(!wildmatch(&dstar, &text));
    let mut slashy = Vec::new();
    for _ in 0..1000 {
        slashy.extend_from_slice(b"a/");
    }
    let c = Compiled::new(b"**a/**a/**a/**a/**a/**a/**a/**b");
    assert!(!c.matches(&slashy, Start::AnySlash));
    let big = [b'*'; 4096];
    assert!(wildmatch(&big, &text));
    assert!(t0.elapsed() < std::time::Duration::from_secs(2));
}

// ---- reference model of upstream's backtracking matcher ------------------

const T: i32 = 1;
const F: i32 = 0;
const ABORT_ALL: i32 = -1;
const ABORT_STARSTAR: i32 = -2;

fn at(v: &[u8], i: usize) -> u8 {
    v.get(i).copied().unwrap_or(0)
}

fn reference(p: &[u8], mut pi: usize, t: &[u8], mut ti: usize) -> i32 {
    loop {
        let mut pc = at(p, pi);
        if pc == 0 {
            break;
        }
        let mut tc = at(t, ti);
        if tc == 0 && pc != b'*' {
            return ABORT_ALL;
        }
        match pc {
            b'\\' => {
                if at(p, pi + 1) != 0 {
                    pi += 1;
                    pc = at(p, pi);
                }
                if tc != pc {
                    return F;
                }
            }
            b'?' => {
                if tc == b'/' {
                    return F;
                }
            }
            b'*' => {
                pi += 1;
                let special = at(p, pi) == b'*';
                while at(p, pi) == b'*' {
                    pi += 1;
                }
                if at(p, pi) == 0 {
                    let rest = t.get(ti..).unwrap_or(&[]);
                    return if !special && rest.contains(&b'/') {
                        F
                    } else {
                        T
                    };
                }
                while tc != 0 {
                    let m = reference(p, pi, t, ti);
                    if m != F {
                        if !special || m != ABORT_STARSTAR {
                            return m;
                        }
                    } else if !special && tc == b'/' {
                        return ABORT_STARSTAR;
                    }
                    ti += 1;
                    tc = at(t, ti);
                }
                return ABORT_ALL;
            }
            b'[' => {
                pi += 1;
                pc = at(p, pi);
                if pc == b'^' {
                    pc = b'!';
                }
                let special = pc == b'!';
                if special {
                    pi += 1;
                    pc = at(p, pi);
                }
                let mut prev = 0u8;
                let mut matched = false;
                loop {
                    if pc == 0 {
                        return ABORT_ALL;
                    }
                    if pc == b'\\' {
                        pi += 1;
                        pc = at(p, pi);
                        if pc == 0 {
                            return ABORT_ALL;
                        }
                        matched |= tc == pc;
                    } else if pc == b'-' && prev != 0 && at(p, pi + 1) != 0 && at(p, pi + 1) != b']'
                    {
                        pi += 1;
                        pc = at(p, pi);
                        if pc == b'\\' {
                            pi += 1;
                            pc = at(p, pi);
                            if pc == 0 {
                                return ABORT_ALL;
                            }
                        }
                        matched |= tc <= pc && tc >= prev;
                        pc = 0;
                    } else if pc == b'[' && at(p, pi + 1) == b':' {
                        pi += 2;
                        let s = pi;
                        while at(p, pi) != 0 && at(p, pi) != b']' {
                            pi += 1;
                        }
                        pc = at(p, pi);
                        if pc == 0 {
                            return ABORT_ALL;
                        }
                        if pi == s || at(p, pi - 1) != b':' {
                            pi = s - 2;
                            pc = b'[';
                            matched |= tc == pc;
                        } else {
                            match super::named_class(&p[s..pi - 1]) {
                                Some(f) => matched |= f(tc),
                                None => return ABORT_ALL,
                            }
                            pc = 0;
                        }
                    } else {
                        matched |= tc == pc;
                    }
                    prev = pc;
                    pi += 1;
                    pc = at(p, pi);
                    if pc == b']' {
                        break;
                    }
                }
                if matched == special || tc == b'/' {
                    return F;
                }
            }
            _ => {
                if tc != pc {
                    return F;
                }
            }
        }
        pi += 1;
        ti += 1;
    }
    if at(t, ti) != 0 {
        F
    } else {
        T
    }
}

fn reference_any_slash(p: &[u8], t: &[u8]) -> bool {
    let mut m = reference(p, 0, t, 0);
    if m != T && m != ABORT_ALL {
        let mut ti = 0;
        loop {
            let c = at(t, ti);
            if c == 0 {
                return false;
            }
            ti += 1;
            if c == b'/' {
                m = reference(p, 0, t, ti);
                if m != F && m != ABORT_STARSTAR {
                    break;
                }
            }
        }
    }
    m == T
}

fn pat_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(b"ab/*?[]!^-\\:".to_vec()), 0..10)
}

fn text_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(b"ab/-]!:".to_vec()), 0..9)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, ..ProptestConfig::default() })]
    #[test]
    fn agrees_with_reference(p in pat_strategy(), t in text_strategy()) {
        let c = Compiled::new(&p);
        prop_assert_eq!(c.matches(&t, Start::Anchored), reference(&p, 0, &t, 0) == T,
            "anchored {:?} vs {:?}", String::from_utf8_lossy(&p), String::from_utf8_lossy(&t));
        prop_assert_eq!(c.matches(&t, Start::AnySlash), reference_any_slash(&p, &t),
            "any-slash {:?} vs {:?}", String::from_utf8_lossy(&p), String::from_utf8_lossy(&t));
    }
}
