//! Text from a client or a key file made safe for an operator's line
//! (stderr, the journal, `serve`'s log, the audit log). rsync's own log
//! does the same for names (`log.c`, which writes controls as `\#ooo`);
//! here a line break is `\n`, a tab `\t`, a carriage return `\r`, any
//! other C0 control or DEL `\xNN`, and C1 controls, the Unicode line and
//! paragraph separators and the bidirectional overrides `\u{NNNN}`. So a
//! command, a key comment, a user name or a path can never start a line
//! of its own, move the cursor, recolour a terminal or reorder what an
//! operator reads. Independent of the rsync protocol.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Characters that must not reach an operator's line as they are.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}')
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// `s` with every unsafe character escaped; borrowed when none is.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if is_unsafe(c) => {
                let _ = write!(out, "\\u{{{:04x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_could_forge_a_line() {
        assert!(matches!(escape("plain text/ü"), Cow::Borrowed(_)));
        assert_eq!(
            escape("a\nb\tc\rd\x1b[2J\0\x7f"),
            "a\\nb\\tc\\rd\\x1b[2J\\x00\\x7f"
        );
        assert_eq!(
            escape("x\u{9b}y\u{2028}z\u{202e}"),
            "x\\u{009b}y\\u{2028}z\\u{202e}"
        );
        assert!(!escape("a\u{85}b").contains('\u{85}'));
    }
}
