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

use std::io::{ErrorKind, Read};

use super::CliError;

/// Most arguments accepted, including the leading `rsync`.
pub const MAX_SECLUDED_ARGS: usize = 10_000;
/// Longest single argument, in bytes.
pub const MAX_SECLUDED_ARG_LEN: usize = 64 * 1024;
/// Most bytes for all arguments together (separators included).
pub const MAX_SECLUDED_TOTAL: usize = 1024 * 1024;

/// Reads the NUL-separated arguments up to and including the empty
/// terminator and returns them without the leading program name (normally
/// `rsync`), ready for [`super::complete_secluded`].
///
/// Reads one byte per `read` call so nothing past the terminator is
/// consumed; pass a buffered reader that the protocol then keeps using.
pub fn read_secluded_args<R: Read + ?Sized>(r: &mut R) -> Result<Vec<String>, CliError> {
    let mut args: Vec<String> = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    let mut total = 0usize;
    loop {
        let b = read_byte(r)?;
        total += 1;
        if total > MAX_SECLUDED_TOTAL {
            return Err(CliError::SecludedTooLarge {
                max: MAX_SECLUDED_TOTAL,
            });
        }
        if b != 0 {
            if cur.len() >= MAX_SECLUDED_ARG_LEN {
                return Err(CliError::SecludedArgTooLong {
                    max: MAX_SECLUDED_ARG_LEN,
                });
            }
            cur.push(b);
            continue;
        }
        if cur.is_empty() {
            break;
        }
        if args.len() >= MAX_SECLUDED_ARGS {
            return Err(CliError::SecludedTooMany {
                max: MAX_SECLUDED_ARGS,
            });
        }
        let word =
            String::from_utf8(std::mem::take(&mut cur)).map_err(|_| CliError::SecludedNotUtf8)?;
        args.push(word);
    }
    if args.is_empty() {
        // Not even the program name: the client sent no arguments at all.
        return Err(CliError::SecludedEof);
    }
    args.remove(0);
    Ok(args)
}

fn read_byte<R: Read + ?Sized>(r: &mut R) -> Result<u8, CliError> {
    let mut buf = [0u8; 1];
    loop {
        match r.read(&mut buf) {
            Ok(0) => return Err(CliError::SecludedEof),
            Ok(_) => {
                let [b] = buf;
                return Ok(b);
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(CliError::SecludedIo(e.kind().to_string())),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use std::io::Cursor;

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
        let mut c = Cursor::new(bytes);
        let args = read_secluded_args(&mut c).unwrap();
        assert_eq!(args, ["--partial", ".", "dir with space/", "-odd"]);
        let mut rest = Vec::new();
        c.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, b"\x1f\x00\x00\x00protocol");
    }

    #[test]
    fn empty_arg_is_sent_as_dot() {
        let args = read_secluded_args(&mut Cursor::new(framed(&["rsync", ".", ""]))).unwrap();
        assert_eq!(args, [".", "."]);
    }

    #[test]
    fn eof_before_terminator() {
        assert_eq!(
            read_secluded_args(&mut Cursor::new(b"rsync\0.\0".to_vec())),
            Err(CliError::SecludedEof)
        );
        assert_eq!(
            read_secluded_args(&mut Cursor::new(b"rsync".to_vec())),
            Err(CliError::SecludedEof)
        );
        assert_eq!(
            read_secluded_args(&mut Cursor::new(Vec::new())),
            Err(CliError::SecludedEof)
        );
        assert_eq!(
            read_secluded_args(&mut Cursor::new(vec![0u8])),
            Err(CliError::SecludedEof)
        );
    }

    #[test]
    fn caps() {
        let long = "a".repeat(MAX_SECLUDED_ARG_LEN + 1);
        let r = read_secluded_args(&mut Cursor::new(framed(&["rsync", &long])));
        assert_eq!(
            r,
            Err(CliError::SecludedArgTooLong {
                max: MAX_SECLUDED_ARG_LEN
            })
        );

        let many: Vec<&str> = std::iter::repeat_n("x", MAX_SECLUDED_ARGS + 1).collect();
        let r = read_secluded_args(&mut Cursor::new(framed(&many)));
        assert_eq!(
            r,
            Err(CliError::SecludedTooMany {
                max: MAX_SECLUDED_ARGS
            })
        );

        let chunk = "b".repeat(60_000);
        let big: Vec<&str> = std::iter::repeat_n(chunk.as_str(), 20).collect();
        let r = read_secluded_args(&mut Cursor::new(framed(&big)));
        assert_eq!(
            r,
            Err(CliError::SecludedTooLarge {
                max: MAX_SECLUDED_TOTAL
            })
        );
    }

    #[test]
    fn not_utf8() {
        let r = read_secluded_args(&mut Cursor::new(b"rsync\0\xff\0\0".to_vec()));
        assert_eq!(r, Err(CliError::SecludedNotUtf8));
    }

    #[test]
    fn io_error_is_reported() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::new(ErrorKind::ConnectionReset, "x"))
            }
        }
        assert!(matches!(
            read_secluded_args(&mut Broken),
            Err(CliError::SecludedIo(_))
        ));
    }
}
