//! rsync-compatible wildcard matching (mirrors rsync's `lib/wildmatch.c`,
//! which is independent of the protocol version, 27 to 32).
//!
//! Semantics: `?` matches one byte other than `/`; `*` matches any run of
//! non-`/` bytes; two or more stars (`**`, `***`) match any run of bytes
//! including `/`; `[...]` is a class (`!` or `^` first negates, `a-z` ranges,
//! `[:alpha:]`-style ASCII classes, `\` escapes) that never matches `/`;
//! `\x` matches `x` literally. A class that is never closed, or names an
//! unknown `[:class:]`, makes the whole pattern unmatchable, as upstream.
//!
//! Deliberate choice for a lone trailing backslash: upstream's matcher fails
//! any match that reaches it; here it stands for a literal `\` (one simple
//! rule: a backslash escapes the next byte, and with nothing after it, itself).
//!
//! Running time: upstream backtracks (bounded only by its abort heuristics).
//! This version compiles the pattern to tokens and simulates them as an NFA,
//! so a match costs O(len(text) * len(pattern)) whatever the pattern.

/// One compiled pattern element.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Lit(u8),
    /// `?`
    One,
    /// `[...]`: 256-bit membership, negation already applied.
    Class(Box<[u64; 4]>),
    /// `*`
    Star,
    /// `**` or longer runs
    StarStar,
}

/// Where a match may start in the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Start {
    /// Only at offset 0.
    Anchored,
    /// At offset 0 or just after any `/`.
    AnySlash,
}

/// A pattern compiled for repeated matching. `None` tokens = unmatchable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Compiled {
    toks: Option<Vec<Tok>>,
}

fn class_set(set: &mut [u64; 4], b: u8) {
    if let Some(w) = set.get_mut(usize::from(b >> 6)) {
        *w |= 1u64 << (b & 63);
    }
}

fn class_has(set: &[u64; 4], b: u8) -> bool {
    set.get(usize::from(b >> 6))
        .is_some_and(|w| w & (1u64 << (b & 63)) != 0)
}

/// ASCII predicate for a `[:name:]` class; `None` for an unknown name.
fn named_class(name: &[u8]) -> Option<fn(u8) -> bool> {
    let f: fn(u8) -> bool = match name {
        b"alnum" => |c| c.is_ascii_alphanumeric(),
        b"alpha" => |c| c.is_ascii_alphabetic(),
        b"blank" => |c| c == b' ' || c == b'\t',
        b"cntrl" => |c| c.is_ascii_control(),
        b"digit" => |c| c.is_ascii_digit(),
        b"graph" => |c| c.is_ascii_graphic(),
        b"lower" => |c| c.is_ascii_lowercase(),
        b"print" => |c| c.is_ascii_graphic() || c == b' ',
        b"punct" => |c| c.is_ascii_punctuation(),
        b"space" => |c| matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'),
        b"upper" => |c| c.is_ascii_uppercase(),
        b"xdigit" => |c| c.is_ascii_hexdigit(),
        _ => return None,
    };
    Some(f)
}

/// Parse a class whose opening `[` is just before `p[i]`. Returns the
/// membership set and the index after the closing `]`, or `None` when the
/// class is malformed.
fn parse_class(p: &[u8], mut i: usize) -> Option<(Box<[u64; 4]>, usize)> {
    let mut set = Box::new([0u64; 4]);
    let mut ch = *p.get(i)?;
    let negate = ch == b'!' || ch == b'^';
    if negate {
        i += 1;
        ch = *p.get(i)?;
    }
    // The previous single byte, usable as the low end of a range.
    let mut prev: Option<u8> = None;
    loop {
        let mut cur = None;
        if ch == b'\\' {
            i += 1;
            let c = *p.get(i)?;
            class_set(&mut set, c);
            cur = Some(c);
        } else if let (b'-', Some(lo), Some(&next)) = (ch, prev, p.get(i + 1)) {
            if next == b']' {
                class_set(&mut set, b'-');
                cur = Some(b'-');
            } else {
                i += 1;
                let mut hi = next;
                if hi == b'\\' {
                    i += 1;
                    hi = *p.get(i)?;
                }
                for c in lo..=hi {
                    class_set(&mut set, c);
                }
            }
        } else if ch == b'[' && p.get(i + 1) == Some(&b':') {
            let s = i + 2;
            let mut k = s;
            while *p.get(k)? != b']' {
                k += 1;
            }
            if k == s || p.get(k - 1) != Some(&b':') {
                // Not a `[:name:]`: the `[` is an ordinary member.
                class_set(&mut set, b'[');
                cur = Some(b'[');
            } else {
                let pred = named_class(p.get(s..k - 1)?)?;
                for c in 0..=255u8 {
                    if pred(c) {
                        class_set(&mut set, c);
                    }
                }
                i = k;
            }
        } else {
            class_set(&mut set, ch);
            cur = Some(ch);
        }
        prev = cur;
        i += 1;
        ch = *p.get(i)?;
        if ch == b']' {
            break;
        }
    }
    if negate {
        for w in set.iter_mut() {
            *w = !*w;
        }
    }
    Some((set, i + 1))
}

impl Compiled {
    /// Compile `pattern`; malformed classes yield an unmatchable pattern.
    pub(crate) fn new(pattern: &[u8]) -> Self {
        let mut toks = Vec::with_capacity(pattern.len());
        let mut i = 0;
        while let Some(&c) = pattern.get(i) {
            match c {
                b'\\' => {
                    match pattern.get(i + 1) {
                        Some(&n) => toks.push(Tok::Lit(n)),
                        None => toks.push(Tok::Lit(b'\\')),
                    }
                    i += 2;
                }
                b'?' => {
                    toks.push(Tok::One);
                    i += 1;
                }
                b'*' => {
                    let mut j = i;
                    while pattern.get(j) == Some(&b'*') {
                        j += 1;
                    }
                    toks.push(if j - i >= 2 { Tok::StarStar } else { Tok::Star });
                    i = j;
                }
                b'[' => match parse_class(pattern, i + 1) {
                    Some((set, next)) => {
                        toks.push(Tok::Class(set));
                        i = next;
                    }
                    None => return Compiled { toks: None },
                },
                _ => {
                    toks.push(Tok::Lit(c));
                    i += 1;
                }
            }
        }
        Compiled { toks: Some(toks) }
    }

    /// Match against the whole of `text` (from a permitted start to the end).
    pub(crate) fn matches(&self, text: &[u8], start: Start) -> bool {
        let Some(toks) = self.toks.as_deref() else {
            return false;
        };
        let mut cur = StateSet::new(toks.len() + 1);
        let mut next = StateSet::new(toks.len() + 1);
        cur.add_closed(toks, 0);
        for &c in text {
            if cur.list.is_empty() && start == Start::Anchored {
                return false;
            }
            next.clear();
            for &s in &cur.list {
                match toks.get(s) {
                    Some(Tok::Lit(b)) if *b == c => next.add_closed(toks, s + 1),
                    Some(Tok::One) if c != b'/' => next.add_closed(toks, s + 1),
                    Some(Tok::Class(set)) if c != b'/' && class_has(set, c) => {
                        next.add_closed(toks, s + 1)
                    }
                    Some(Tok::Star) if c != b'/' => next.add_closed(toks, s),
                    Some(Tok::StarStar) => next.add_closed(toks, s),
                    _ => {}
                }
            }
            if start == Start::AnySlash && c == b'/' {
                next.add_closed(toks, 0);
            }
            std::mem::swap(&mut cur, &mut next);
        }
        cur.has(toks.len())
    }
}

/// A sparse set of NFA positions (list for iteration, flags for membership).
struct StateSet {
    list: Vec<usize>,
    mark: Vec<bool>,
}

impl StateSet {
    fn new(n: usize) -> Self {
        StateSet {
            list: Vec::new(),
            mark: vec![false; n],
        }
    }

    fn clear(&mut self) {
        for &s in &self.list {
            if let Some(m) = self.mark.get_mut(s) {
                *m = false;
            }
        }
        self.list.clear();
    }

    fn has(&self, s: usize) -> bool {
        self.mark.get(s).copied().unwrap_or(false)
    }

    /// Add `s` and every position reachable by letting stars match nothing.
    fn add_closed(&mut self, toks: &[Tok], mut s: usize) {
        loop {
            match self.mark.get_mut(s) {
                Some(m) if !*m => *m = true,
                _ => return,
            }
            self.list.push(s);
            match toks.get(s) {
                Some(Tok::Star | Tok::StarStar) => s += 1,
                _ => return,
            }
        }
    }
}

/// Match `pattern` against all of `text` with rsync's wildmatch rules.
pub fn wildmatch(pattern: &[u8], text: &[u8]) -> bool {
    Compiled::new(pattern).matches(text, Start::Anchored)
}

#[cfg(test)]
#[path = "wildmatch_tests.rs"]
mod tests;
