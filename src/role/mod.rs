//! The transfer roles: the sender (the client pulls) and, with its
//! generator, the receiver (the client pushes).
//!
//! A role only runs with the permit [`crate::policy`] issued for it, so a
//! read-only session cannot reach the receiver and a write-only one cannot
//! reach the sender.

pub mod link;
pub mod log_file;
pub mod machine;
mod pace;
pub mod reads;
pub mod receiver;
pub mod sender;
#[cfg(test)]
pub(crate) mod test_util;
pub mod text;

pub use link::Link;
pub use machine::{Machine, Outcome};
