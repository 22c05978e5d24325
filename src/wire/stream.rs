//! A second bridge from slice decoders to a blocking stream, for callers
//! whose errors must keep the stream's own `io::Error` (the client's exit
//! message travels inside one) rather than a [`WireError`](super::WireError):
//! the filter list, the sum heads, the block sums and the token streams.
//! Mirrors no rsync function; serves protocols 27 to 32.
//!
//! Like [`read_via`](super::read_via) it reads exactly the bytes a decoder
//! says are missing, so it never takes a byte that belongs to whatever the
//! caller reads next. Bytes a decoder saw but did not use stay in the
//! caller's buffer for the next call.

use std::io::{self, Read};

use super::{complete, CodecError, Decoded, Reader, Step};

/// Why [`read_exact_via`] returned no value.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The stream failed or ended; the error is the stream's own.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// The bytes are not a valid value.
    #[error(transparent)]
    Invalid(#[from] CodecError),
}

/// Runs `decode` over `held` followed by as many bytes of `r` as it asks
/// for, until it returns a value or an error. The bytes it used leave
/// `held`; bytes it did not use stay there for the next call. `held` grows
/// by what the decoder says is missing, so a decoder must check a length
/// the peer sent against its limit before it asks for that many bytes.
pub fn read_exact_via<T>(
    r: &mut impl Read,
    held: &mut Vec<u8>,
    mut decode: impl FnMut(&mut Reader<'_>) -> Step<T>,
) -> Result<T, StreamError> {
    loop {
        let needed = match complete(held, &mut decode)? {
            Decoded::Complete { value, consumed } => {
                held.drain(..consumed.min(held.len()));
                return Ok(value);
            }
            Decoded::Incomplete { needed } => needed,
        };
        let len = held.len();
        held.resize(len.saturating_add(needed), 0);
        if let Err(e) = r.read_exact(held.get_mut(len..).unwrap_or_default()) {
            held.truncate(len);
            return Err(e.into());
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    /// A stream that counts the bytes taken from it.
    struct Counting<'a>(&'a [u8], usize);

    impl Read for Counting<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.read(buf)?;
            self.1 += n;
            Ok(n)
        }
    }

    #[test]
    fn reads_exactly_what_the_decoder_asks_for() {
        let mut r = Counting(&[2, 0, 0, 0, 7, 8, 9], 0);
        let mut held = Vec::new();
        let v = read_exact_via(&mut r, &mut held, |x| {
            let n = x.i32()?;
            Ok(x.take(usize::try_from(n).unwrap_or(0))?.to_vec())
        })
        .unwrap();
        assert_eq!(v, [7, 8]);
        assert_eq!(r.1, 6);
        assert!(held.is_empty());
    }

    #[test]
    fn unused_bytes_stay_held() {
        let mut r = &[5u8, 6][..];
        let mut held = Vec::new();
        // Look at a byte without using it, then use it on the next call.
        let peek = |x: &mut Reader<'_>| {
            x.rest()
                .first()
                .copied()
                .ok_or(crate::wire::Fail::Incomplete { needed: 1 })
        };
        assert_eq!(read_exact_via(&mut r, &mut held, peek).unwrap(), 5);
        assert_eq!(held, [5]);
        assert_eq!(read_exact_via(&mut r, &mut held, |x| x.u8()).unwrap(), 5);
        assert_eq!(read_exact_via(&mut r, &mut held, |x| x.u8()).unwrap(), 6);
    }

    #[test]
    fn errors_keep_their_kind() {
        let mut held = Vec::new();
        let e = read_exact_via(&mut &[1u8][..], &mut held, |x| x.i32()).unwrap_err();
        assert!(matches!(e, StreamError::Io(ref io) if io.kind() == io::ErrorKind::UnexpectedEof));
        let e = read_exact_via(&mut &[1u8][..], &mut held, |_| -> Step<()> {
            Err(CodecError::OutOfRange("x").into())
        })
        .unwrap_err();
        assert!(matches!(
            e,
            StreamError::Invalid(CodecError::OutOfRange("x"))
        ));
    }
}
