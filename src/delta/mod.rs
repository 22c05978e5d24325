//! The rsync delta algorithm, protocols 27–32, without I/O of its own.
//!
//! - [`signature`]: the basis file's block sums, as the generator makes them
//!   (`generator.c generate_and_send_sums`) and the sender reads them
//!   (`sender.c receive_sums`).
//! - [`matcher`]: the sender's search for basis blocks in its file
//!   (`match.c match_sums`, `hash_search`), emitting literal runs and block
//!   matches and the whole-file checksum in one pass; [`Search`] is that
//!   pass for one file, fed its bytes piece by piece.
//! - [`apply`]: the receiver's reconstruction from a basis and tokens
//!   (`receiver.c receive_data`).
//!
//! Streams and files are passed in as `std::io::Read`/`Write`/`Seek` or
//! callbacks; nothing here opens a file.

pub mod apply;
mod index;
pub mod matcher;
#[cfg(test)]
mod matcher_oracle;
mod search;
#[cfg(test)]
mod search_tests;
pub mod signature;

#[cfg(test)]
mod tests;

pub use apply::{Applier, ApplyError};
pub use matcher::Matcher;
pub use search::{Search, Spare};
pub use signature::{generate_signature, BlockSum, Signature};

/// One step of a delta, as the sender produces it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Token<'a> {
    /// Bytes to send literally (any length; encoders chunk them).
    Literal(&'a [u8]),
    /// The receiver copies basis block `i`; the slice is the matched data
    /// (the deflate token codec feeds it into its dictionary).
    Block(u32, &'a [u8]),
}
