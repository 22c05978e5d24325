//! Secluded arguments (`-s`, `--secluded-args`, formerly
//! `--protect-args`), rsync 3.0.0 and later, any protocol.
//!
//! The client puts only `--server [--sender] -s... [--iconv=X]` on the
//! command line (`options.c server_options()` stops there). Before the
//! protocol starts it writes the rest on stdin (`rsync.c
//! send_protected_args()`): `rsync`, then the remaining options, the `.`
//! and the paths, each followed by a NUL; an empty argument is sent as
//! `.`; a final empty string (a lone NUL) ends the list. The server reads
//! them with `io.c read_args()` and parses them as a new argv whose first
//! word is the program name. Nothing is backslash-escaped.
//!
//! Unlike `read_args()`, which grows without bound (CVE-2026-70456), every
//! dimension here is capped, and the reader never consumes a byte past
//! the terminator, because the protocol stream follows on the same input.

use super::CliError;
use crate::wire::{Fail, Reader, Step};

/// Most arguments accepted, including the leading `rsync`.
pub const MAX_SECLUDED_ARGS: usize = 10_000;
/// Longest single argument, in bytes.
pub const MAX_SECLUDED_ARG_LEN: usize = 64 * 1024;
/// Most bytes for all arguments together (separators included).
pub const MAX_SECLUDED_TOTAL: usize = 1024 * 1024;

/// Decoder of the NUL-separated arguments, one word per step, up to and
/// including the empty terminator. A word is used only once its NUL has
/// arrived, so nothing past the terminator is ever taken: the protocol
/// follows on the same input.
#[derive(Debug, Default)]
pub struct SecludedArgs {
    args: Vec<String>,
    total: usize,
}

impl SecludedArgs {
    /// A decoder at the start of the list.
    pub fn new() -> Self {
        Self::default()
    }

    /// One word: `true` once the terminator has been used. The caps are
    /// checked byte by byte, in the order the bytes arrive.
    pub fn decode(&mut self, r: &mut Reader<'_>) -> Step<bool, CliError> {
        let rest = r.rest();
        let mut total = self.total;
        for (i, &b) in rest.iter().enumerate() {
            total += 1;
            if total > MAX_SECLUDED_TOTAL {
                return Err(Fail::Invalid(CliError::SecludedTooLarge {
                    max: MAX_SECLUDED_TOTAL,
                }));
            }
            if b != 0 {
                if i >= MAX_SECLUDED_ARG_LEN {
                    return Err(Fail::Invalid(CliError::SecludedArgTooLong {
                        max: MAX_SECLUDED_ARG_LEN,
                    }));
                }
                continue;
            }
            let word = rest.get(..i).unwrap_or_default();
            if !word.is_empty() && self.args.len() >= MAX_SECLUDED_ARGS {
                return Err(Fail::Invalid(CliError::SecludedTooMany {
                    max: MAX_SECLUDED_ARGS,
                }));
            }
            let word = String::from_utf8(word.to_vec())
                .map_err(|_| Fail::Invalid(CliError::SecludedNotUtf8))?;
            r.take(i + 1)
                .map_err(|f| f.map(|_| CliError::SecludedEof))?;
            self.total = total;
            if word.is_empty() {
                return Ok(true);
            }
            self.args.push(word);
            return Ok(false);
        }
        Err(Fail::Incomplete { needed: 1 })
    }

    /// The arguments without the leading program name (normally
    /// `rsync`), ready for [`super::complete_secluded`].
    pub fn finish(mut self) -> Result<Vec<String>, CliError> {
        if self.args.is_empty() {
            // Not even the program name: the client sent no arguments.
            return Err(CliError::SecludedEof);
        }
        self.args.remove(0);
        Ok(self.args)
    }
}

/// Decodes a whole list from `bytes`: the arguments and the bytes used
/// (tests and the fuzz target).
pub fn decode_secluded_args(bytes: &[u8]) -> Result<(Vec<String>, usize), CliError> {
    let mut d = SecludedArgs::new();
    let mut r = Reader::new(bytes);
    loop {
        match d.decode(&mut r) {
            Ok(true) => return d.finish().map(|a| (a, r.used())),
            Ok(false) => {}
            Err(Fail::Incomplete { .. }) => return Err(CliError::SecludedEof),
            Err(Fail::Invalid(e)) => return Err(e),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn read_secluded_args(bytes: Vec<u8>) -> Result<Vec<String>, CliError> {
        decode_secluded_args(&bytes).map(|(a, _)| a)
    }

    /// The bytes `send_protected_args()` writes for `args`.
    fn framed(args: &[&str]) -> Vec<u8> {
        let mut v = Vec::new();
        for a in args {
            v.extend_from_slice(if a.is_empty() { b"." } else { a.as_bytes() });
            v.push(0);
        }
        v.push(0);
        v
    }

    #[test]
    fn reads_stock_framing_and_stops_at_terminator() {
        let mut bytes = framed(&["rsync", "--partial", ".", "dir with space/", "-odd"]);
        bytes.extend_from_slice(b"\x1f\x00\x00\x00protocol");
        let (args, used) = decode_secluded_args(&bytes).unwrap();
        assert_eq!(args, ["--partial", ".", "dir with space/", "-odd"]);
        assert_eq!(&bytes[used..], b"\x1f\x00\x00\x00protocol");
    }

    #[test]
    fn empty_arg_is_sent_as_dot() {
        let args = read_secluded_args(framed(&["rsync", ".", ""])).unwrap();
        assert_eq!(args, [".", "."]);
    }

    #[test]
    fn eof_before_terminator() {
        assert_eq!(
            read_secluded_args(b"rsync\0.\0".to_vec()),
            Err(CliError::SecludedEof)
        );
        assert_eq!(
            read_secluded_args(b"rsync".to_vec()),
            Err(CliError::SecludedEof)
        );
        assert_eq!(read_secluded_args(Vec::new()), Err(CliError::SecludedEof));
        assert_eq!(read_secluded_args(vec![0u8]), Err(CliError::SecludedEof));
    }

    #[test]
    fn caps() {
        let long = "a".repeat(MAX_SECLUDED_ARG_LEN + 1);
        let r = read_secluded_args(framed(&["rsync", &long]));
        assert_eq!(
            r,
            Err(CliError::SecludedArgTooLong {
                max: MAX_SECLUDED_ARG_LEN
            })
        );

        let many: Vec<&str> = std::iter::repeat_n("x", MAX_SECLUDED_ARGS + 1).collect();
        let r = read_secluded_args(framed(&many));
        assert_eq!(
            r,
            Err(CliError::SecludedTooMany {
                max: MAX_SECLUDED_ARGS
            })
        );

        let chunk = "b".repeat(60_000);
        let big: Vec<&str> = std::iter::repeat_n(chunk.as_str(), 20).collect();
        let r = read_secluded_args(framed(&big));
        assert_eq!(
            r,
            Err(CliError::SecludedTooLarge {
                max: MAX_SECLUDED_TOTAL
            })
        );
    }

    #[test]
    fn not_utf8() {
        let r = read_secluded_args(b"rsync\0\xff\0\0".to_vec());
        assert_eq!(r, Err(CliError::SecludedNotUtf8));
    }
}
