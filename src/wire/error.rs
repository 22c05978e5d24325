//! The leaf error of the codec: small, `Copy`, with a static context.

use std::io;

/// A decoding failure. `Copy`, so it can be carried anywhere cheaply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The stream ended in the middle of a value.
    #[error("connection closed in the middle of {0}")]
    Truncated(&'static str),
    /// A value is outside the range the protocol allows.
    #[error("invalid value received for {0}")]
    OutOfRange(&'static str),
    /// A length-prefixed item is longer than we accept.
    #[error("too long: {0}")]
    TooLong(&'static str),
    /// The peer sent a multiplexed message we do not accept here.
    #[error("unexpected message code {0} from the client")]
    UnexpectedMessage(u8),
    /// The peer reported a fatal error and is exiting.
    #[error("the client exited with code {0}")]
    PeerExit(i32),
    /// An I/O error below the codec.
    #[error("I/O error: {0}")]
    Io(io::ErrorKind),
}

impl WireError {
    /// Maps an I/O error raised while reading `what`.
    pub fn from_io(e: &io::Error, what: &'static str) -> Self {
        if let Some(w) = e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<WireError>())
        {
            return *w;
        }
        match e.kind() {
            io::ErrorKind::UnexpectedEof => WireError::Truncated(what),
            k => WireError::Io(k),
        }
    }

    /// Wraps the error into an `io::Error` so it can cross `Read` impls.
    pub fn into_io(self) -> io::Error {
        let kind = match self {
            WireError::Truncated(_) => io::ErrorKind::UnexpectedEof,
            WireError::Io(k) => k,
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, self)
    }
}

impl From<super::CodecError> for WireError {
    fn from(e: super::CodecError) -> Self {
        use super::CodecError as C;
        match e {
            C::OutOfRange(w) => WireError::OutOfRange(w),
            C::TooLong(w) => WireError::TooLong(w),
            C::Trailing(w) => WireError::OutOfRange(w),
            C::UnexpectedMessage(c) => WireError::UnexpectedMessage(c),
            C::BlockIndex { .. } => WireError::OutOfRange("block index"),
            C::BadToken(w) | C::Compression(w) => WireError::OutOfRange(w),
        }
    }
}
