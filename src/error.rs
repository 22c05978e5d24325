//! The top-level error and rsync's exit codes (`errcode.h`).
//!
//! Three layers: [`crate::wire::WireError`] is the small `Copy` leaf of
//! the codec; each module has its own `thiserror` enum; [`Error`] gathers
//! them and maps each to the exit code a stock rsync would use.

use crate::cli::CliError;
use crate::policy::PolicyError;
use crate::proto::HandshakeError;
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
    /// Timeout in data send/receive.
    pub const TIMEOUT: i32 = 30;
}

/// Any error that ends a session.
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
    /// The sender role.
    #[error(transparent)]
    Send(#[from] SendError),
    /// The codec.
    #[error(transparent)]
    Wire(#[from] WireError),
}

impl Error {
    /// The exit code stock rsync uses for this kind of failure.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Cli(e) => e.exit_code(),
            Error::Policy(e) => e.exit_code(),
            Error::Handshake(e) => e.exit_code(),
            Error::Send(e) => e.exit_code(),
            Error::Wire(WireError::PeerExit(c)) => *c,
            Error::Wire(_) => code::STREAM_IO,
        }
    }
}
