//! The shape every decoder of the core has: bytes in, a value and the
//! number of bytes it used out, or "incomplete" (gitoxide's
//! `gix-packetline` `streaming`, rustls's `codec::Reader`).
//!
//! A decoder is a function over a [`Reader`], a bounded cursor over a
//! byte slice that fails loudly: a read past the end is
//! [`Fail::Incomplete`], never zero bytes and never a panic. A decoder with
//! state (the previous file index, the previous file-list entry) changes
//! its state only when it returns a value, so that the caller can run it
//! again on the same bytes once more have arrived. [`complete`] turns such
//! a function into the public `Result<Decoded<T>, E>` form.
//!
//! The failure is [`CodecError`] unless a decoder says otherwise: a
//! module whose errors carry more (an offending name) decodes with
//! `Step<T, ItsError>`, where `ItsError: From<CodecError>`, so `?` on the
//! integer methods of [`Reader`] still works through [`Fail::lift`] or a
//! `From<Fail> for Fail<ItsError>` of its own.
//!
//! Nothing here is rsync-specific; it serves all protocols 27 to 32.

/// What a decoder made of the bytes it was shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded<T> {
    /// A whole value, which used the first `consumed` bytes.
    Complete {
        /// The value.
        value: T,
        /// Bytes used from the start of the input.
        consumed: usize,
    },
    /// The input ends inside a value: at least `needed` more bytes.
    Incomplete {
        /// A lower bound on the bytes still missing.
        needed: usize,
    },
}

/// A value the peer sent that the protocol does not allow. `Copy`, with a
/// static context, so it can travel anywhere cheaply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// A value outside the range the protocol allows.
    #[error("invalid value received for {0}")]
    OutOfRange(&'static str),
    /// A length-prefixed item longer than we accept.
    #[error("too long: {0}")]
    TooLong(&'static str),
    /// Bytes left over where a value should have ended.
    #[error("trailing bytes after {0}")]
    Trailing(&'static str),
    /// A multiplexed message code we do not accept here.
    #[error("unexpected message code {0} from the client")]
    UnexpectedMessage(u8),
    /// A matched block at or beyond the number of blocks the sums announced.
    #[error("invalid block index {index} (count={count})")]
    BlockIndex {
        /// The index received.
        index: u32,
        /// The number of blocks.
        count: u32,
    },
    /// A token flag or token number the protocol never sends.
    #[error("invalid token: {0}")]
    BadToken(&'static str),
    /// Compressed data the decompressor refused.
    #[error("compression error: {0}")]
    Compression(&'static str),
}

/// Why a decoding step stopped without a value. `E` is the decoder's
/// error, [`CodecError`] unless a module has a richer one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fail<E = CodecError> {
    /// The bytes end inside a value; at least `needed` more are required.
    Incomplete {
        /// A lower bound on the bytes still missing.
        needed: usize,
    },
    /// The bytes are not a valid value.
    Invalid(E),
}

impl<E: From<CodecError>> From<CodecError> for Fail<E> {
    fn from(e: CodecError) -> Self {
        Fail::Invalid(e.into())
    }
}

impl<E> Fail<E> {
    /// The same failure with the error mapped by `f`.
    pub fn map<F>(self, f: impl FnOnce(E) -> F) -> Fail<F> {
        match self {
            Fail::Incomplete { needed } => Fail::Incomplete { needed },
            Fail::Invalid(e) => Fail::Invalid(f(e)),
        }
    }
}

impl Fail {
    /// The same failure with the error converted into a richer one.
    pub fn lift<E: From<CodecError>>(self) -> Fail<E> {
        match self {
            Fail::Incomplete { needed } => Fail::Incomplete { needed },
            Fail::Invalid(e) => Fail::Invalid(e.into()),
        }
    }
}

/// One step of a decoder: the value, or why there is none yet.
pub type Step<T, E = CodecError> = Result<T, Fail<E>>;

/// A bounded cursor over bytes that fails loudly.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A cursor at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// The next `n` bytes, or [`Fail::Incomplete`] with how many are
    /// missing.
    pub fn take(&mut self, n: usize) -> Step<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or(Fail::Incomplete { needed: n })?;
        match self.buf.get(self.pos..end) {
            Some(s) => {
                self.pos = end;
                Ok(s)
            }
            None => Err(Fail::Incomplete {
                needed: end - self.buf.len(),
            }),
        }
    }

    /// The next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> Step<[u8; N]> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    /// One byte.
    pub fn u8(&mut self) -> Step<u8> {
        Ok(self.array::<1>()?[0])
    }

    /// A cursor over the next `n` bytes, which this one skips. A decoder
    /// given a sub-reader cannot read past its end (rustls's `sub`).
    pub fn sub(&mut self, n: usize) -> Step<Reader<'a>> {
        self.take(n).map(Reader::new)
    }

    /// Fails unless every byte has been used.
    pub fn expect_empty(&self, what: &'static str) -> Result<(), CodecError> {
        if self.remaining() == 0 {
            Ok(())
        } else {
            Err(CodecError::Trailing(what))
        }
    }

    /// Bytes used so far.
    pub fn used(&self) -> usize {
        self.pos
    }

    /// Bytes not yet used.
    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// The unused bytes, without using them.
    pub fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }
}

/// Runs one decoding step over `buf`: the value with the bytes it used,
/// "incomplete", or the error.
pub fn complete<T, E>(
    buf: &[u8],
    step: impl FnOnce(&mut Reader<'_>) -> Step<T, E>,
) -> Result<Decoded<T>, E> {
    let mut r = Reader::new(buf);
    match step(&mut r) {
        Ok(value) => Ok(Decoded::Complete {
            value,
            consumed: r.used(),
        }),
        Err(Fail::Incomplete { needed }) => Ok(Decoded::Incomplete {
            needed: needed.max(1),
        }),
        Err(Fail::Invalid(e)) => Err(e),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn take_past_the_end_is_incomplete() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.take(2), Ok(&[1u8, 2][..]));
        assert_eq!(r.take(4), Err(Fail::Incomplete { needed: 3 }));
        // A failed take uses nothing.
        assert_eq!(r.used(), 2);
        assert_eq!(r.u8(), Ok(3));
        r.expect_empty("x").unwrap();
    }

    #[test]
    fn sub_is_bounded() {
        let mut r = Reader::new(&[1, 2, 3, 4]);
        let mut s = r.sub(2).unwrap();
        assert_eq!(s.take(3), Err(Fail::Incomplete { needed: 1 }));
        assert_eq!(s.array::<2>(), Ok([1, 2]));
        assert_eq!(r.rest(), &[3, 4]);
        assert_eq!(r.expect_empty("x"), Err(CodecError::Trailing("x")));
    }

    #[test]
    fn complete_reports_consumed() {
        let d = complete(&[9, 8, 7], |r| r.u8()).unwrap();
        assert_eq!(
            d,
            Decoded::Complete {
                value: 9,
                consumed: 1
            }
        );
        let d = complete(&[], |r| r.u8()).unwrap();
        assert_eq!(d, Decoded::Incomplete { needed: 1 });
    }

    /// A domain error that is not `Copy` and carries a message.
    #[derive(Debug, PartialEq)]
    enum Domain {
        Codec(CodecError),
        Named(String),
    }

    impl From<CodecError> for Domain {
        fn from(e: CodecError) -> Self {
            Domain::Codec(e)
        }
    }

    fn named(r: &mut Reader<'_>) -> Step<u8, Domain> {
        let n = r.u8().map_err(Fail::lift)?;
        if n == 0 {
            return Err(CodecError::OutOfRange("n").into());
        }
        let s = r.take(usize::from(n)).map_err(Fail::lift)?;
        if s.contains(&b'/') {
            return Err(Fail::Invalid(Domain::Named(format!(
                "bad name {}",
                String::from_utf8_lossy(s)
            ))));
        }
        Ok(n)
    }

    #[test]
    fn a_domain_error_keeps_its_message() {
        assert_eq!(
            complete(&[2, b'a', b'b', 9], named),
            Ok(Decoded::Complete {
                value: 2,
                consumed: 3
            })
        );
        assert_eq!(
            complete(&[3, b'a'], named),
            Ok(Decoded::Incomplete { needed: 2 })
        );
        assert_eq!(
            complete(&[0], named),
            Err(Domain::Codec(CodecError::OutOfRange("n")))
        );
        assert_eq!(
            complete(&[2, b'a', b'/'], named),
            Err(Domain::Named("bad name a/".into()))
        );
    }
}
