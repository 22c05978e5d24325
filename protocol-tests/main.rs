//! Interop suite: real rsync clients (3.5.0 and 3.2.7, native protocol and
//! forced 31..27) against `rrsync-rs`, compared with stock `rsync --server`.
//!
//! Run with `cargo test --release --test protocol`; see `harness` for the
//! environment knobs (`RRSYNC_BIN`, `RSYNC_CLIENTS`, `PROTOCOL_TESTS_SERVER`).
//! To add a direction, add a module next to `pull` (e.g. `mod push;`) that
//! uses `harness::{matrix, Server, Report}`, `fixtures` and `tree`.

// Tests may fail loudly: unwrap, expect and panic are their assertions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod adversarial;
mod atimes;
mod cli;
mod compress;
mod fixtures;
mod harness;
mod meta;
mod openssh;
mod pull;
mod push;
mod ssh;
mod tree;
