//! The top-level error and rsync's exit codes (`errcode.h`).
//!
//! Three layers: [`crate::wire::WireError`] is the small `Copy` leaf of
//! the codec; each module has its own `thiserror` enum; [`Error`] gathers
//! them and maps each to the exit code a stock rsync would use.

use crate::cli::CliError;
use crate::filter::FilterError;
use crate::policy::PolicyError;
use crate::proto::HandshakeError;
use crate::role::receiver::RecvError;
use crate::role::sender::SendError;
use crate::wire::WireError;

/// rsync's exit codes.
pub mod code {
    /// Syntax or usage error.
    pub const SYNTAX: i32 = 1;
    /// Protocol incompatibility.
    pub const PROTOCOL: i32 = 2;
    /// Errors selecting input/output files or directories.
    pub const FILE_SELECT: i32 = 3;
    /// Requested action not supported.
    pub const UNSUPPORTED: i32 = 4;
    /// Error starting the client-server protocol.
    pub const START_CLIENT: i32 = 5;
    /// Error in file I/O.
    pub const FILE_IO: i32 = 11;
    /// Error in the rsync protocol data stream.
    pub const STREAM_IO: i32 = 12;
    /// Partial transfer due to error.
    pub const PARTIAL: i32 = 23;
    /// Partial transfer due to vanished source files.
    pub const VANISHED: i32 = 24;
    /// The `--max-delete` limit stopped deletions.
    pub const DEL_LIMIT: i32 = 25;
    /// A memory budget (`--max-alloc`) was spent.
    pub const MALLOC: i32 = 22;
    /// Timeout in data send/receive.
    pub const TIMEOUT: i32 = 30;
}

/// rsync's `io_error` bits: what went wrong without ending the session.
/// The sender reports them to the client (`MSG_IO_ERROR`, the file list's
/// end marker); a finished session's bits decide its exit code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IoErrors(i32);

impl IoErrors {
    /// Nothing went wrong.
    pub const NONE: IoErrors = IoErrors(0);
    /// A file could not be read or written (`IOERR_GENERAL`).
    pub const GENERAL: IoErrors = IoErrors(1);
    /// A source file vanished while the list was built or sent
    /// (`IOERR_VANISHED`).
    pub const VANISHED: IoErrors = IoErrors(2);
    /// `--max-delete` stopped deletions (`IOERR_DEL_LIMIT`).
    pub const DEL_LIMIT: IoErrors = IoErrors(4);

    /// The bits as they travel.
    pub fn bits(self) -> i32 {
        self.0
    }

    /// Bits the peer sent (unknown bits are kept, as rsync keeps them).
    pub fn from_wire(bits: i32) -> IoErrors {
        IoErrors(bits)
    }

    /// Adds `other`'s bits.
    pub fn insert(&mut self, other: IoErrors) {
        self.0 |= other.0;
    }

    /// Whether every bit of `other` is set.
    pub fn contains(self, other: IoErrors) -> bool {
        self.0 & other.0 == other.0
    }

    /// No bit set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// Any error that ends a session, and a finished session's partial
/// failure: the one place where rsync's exit codes are chosen.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Our command line or the client's command.
    #[error(transparent)]
    Cli(#[from] CliError),
    /// A refusal by the policy.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The handshake.
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    /// The client's filter rules could not be read.
    #[error(transparent)]
    Filter(#[from] FilterError),
    /// The sender role.
    #[error(transparent)]
    Send(#[from] SendError),
    /// The receiver role.
    #[error(transparent)]
    Recv(#[from] RecvError),
    /// The codec.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// Writing to the client failed.
    #[error("write failed: {0}")]
    Io(#[from] std::io::Error),
    /// A choice this server does not implement (a checksum, a compression).
    #[error("{0}")]
    Unsupported(String),
    /// An option value the receiver cannot use.
    #[error("{0}")]
    Usage(String),
    /// The session could not start (the root, the lock).
    #[error("{0}")]
    Start(String),
    /// A deadline ended the session.
    #[error("{0}")]
    Timeout(String),
    /// The negotiated protocol cannot carry what the client asked for.
    #[error("{0}")]
    Protocol(String),
    /// A local file system failure outside any one file (publishing a
    /// snapshot).
    #[error("{0}")]
    FileIo(String),
    /// The session finished, but not everything was transferred.
    #[error("some files were not transferred")]
    Partial(IoErrors),
}

impl Error {
    /// The exit code stock rsync uses for this kind of failure.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Cli(_) | Error::Usage(_) => code::SYNTAX,
            Error::Policy(PolicyError::Unsupported(_)) => code::UNSUPPORTED,
            Error::Policy(_) => code::SYNTAX,
            Error::Handshake(HandshakeError::Negotiation(_)) | Error::Unsupported(_) => {
                code::UNSUPPORTED
            }
            Error::Handshake(HandshakeError::Version(_))
            | Error::Filter(_)
            | Error::Protocol(_) => code::PROTOCOL,
            Error::Handshake(HandshakeError::Wire(w)) => wire_code(w),
            Error::Handshake(HandshakeError::Io(_)) | Error::Io(_) => code::STREAM_IO,
            Error::Recv(RecvError::Budget(_)) => code::MALLOC,
            Error::Send(SendError::Protocol(_)) | Error::Recv(RecvError::Protocol(_)) => {
                code::PROTOCOL
            }
            Error::Send(SendError::Refused(_)) | Error::Recv(RecvError::Dest(_)) => {
                code::FILE_SELECT
            }
            Error::Send(SendError::Wire(w)) | Error::Recv(RecvError::Wire(w)) => wire_code(w),
            Error::Send(SendError::Io(_)) => code::STREAM_IO,
            Error::Recv(RecvError::Io(_) | RecvError::Quota(_)) | Error::FileIo(_) => code::FILE_IO,
            Error::Wire(w) => wire_code(w),
            Error::Start(_) => code::START_CLIENT,
            Error::Timeout(_) => code::TIMEOUT,
            // Partial transfer over vanished files over the deletion limit,
            // as rsync's `exit_cleanup` chooses.
            Error::Partial(io) if io.contains(IoErrors::GENERAL) => code::PARTIAL,
            Error::Partial(io) if io.contains(IoErrors::VANISHED) => code::VANISHED,
            Error::Partial(io) if io.contains(IoErrors::DEL_LIMIT) => code::DEL_LIMIT,
            Error::Partial(_) => code::PARTIAL,
        }
    }
}

/// The client's own exit code when it ended the session, else a broken
/// stream.
fn wire_code(w: &WireError) -> i32 {
    match w {
        WireError::PeerExit(c) => *c,
        _ => code::STREAM_IO,
    }
}

/// The exit code of a session that ran to its end with `io` set.
pub fn finished(io: IoErrors) -> i32 {
    if io.is_empty() {
        0
    } else {
        Error::Partial(io).exit_code()
    }
}

/// The exit code for `e`, whatever layer it comes from.
pub fn exit_code(e: impl Into<Error>) -> i32 {
    e.into().exit_code()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn partial_transfer_codes_in_rsync_order() {
        assert_eq!(finished(IoErrors::NONE), 0);
        assert_eq!(finished(IoErrors::DEL_LIMIT), code::DEL_LIMIT);
        let mut io = IoErrors::DEL_LIMIT;
        io.insert(IoErrors::VANISHED);
        assert_eq!(finished(io), code::VANISHED);
        io.insert(IoErrors::GENERAL);
        assert_eq!(finished(io), code::PARTIAL);
    }

    #[test]
    fn the_clients_own_code_survives_every_layer() {
        let peer = || WireError::PeerExit(23);
        assert_eq!(exit_code(peer()), 23);
        assert_eq!(exit_code(SendError::Wire(peer())), 23);
        assert_eq!(exit_code(RecvError::Wire(peer())), 23);
        assert_eq!(exit_code(HandshakeError::Wire(peer())), 23);
    }

    #[test]
    fn each_layer_maps_to_rsyncs_code() {
        assert_eq!(exit_code(PolicyError::SendFromWriteOnly), code::SYNTAX);
        assert_eq!(
            exit_code(PolicyError::Unsupported("-A".into())),
            code::UNSUPPORTED
        );
        assert_eq!(exit_code(HandshakeError::Version(20)), code::PROTOCOL);
        assert_eq!(
            exit_code(HandshakeError::Negotiation("x".into())),
            code::UNSUPPORTED
        );
        assert_eq!(exit_code(SendError::Refused("x".into())), code::FILE_SELECT);
        assert_eq!(exit_code(RecvError::Protocol("x".into())), code::PROTOCOL);
        assert_eq!(exit_code(RecvError::Budget("x".into())), code::MALLOC);
        assert_eq!(exit_code(Error::Timeout("t".into())), code::TIMEOUT);
        assert_eq!(exit_code(Error::Unsupported("c".into())), code::UNSUPPORTED);
    }
}
