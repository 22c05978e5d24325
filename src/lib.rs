//! rrsync-rs: a restricted rsync server for SSH forced commands.
//!
//! The crate speaks the rsync wire protocol (versions 27 to 32) as the
//! *server* side of a connection that a stock `rsync` client opened over
//! SSH. It replaces the `rrsync` Python wrapper plus `rsync --server`:
//! the client's request is parsed from `SSH_ORIGINAL_COMMAND`, checked
//! against the operator's policy, and served beneath one directory handle.
//!
//! Layout, one responsibility per module:
//! - [`wire`]: integers, varints, multiplexed frames, file indexes.
//! - [`proto`]: version and compat-flag handshake, name negotiation.
//! - [`cli`]: the forced command and the server argument vector.
//! - [`policy`]: modes and the option allow-list.
//! - [`fs`]: the confined root; every syscall on a client name is here.
//! - [`flist`], [`filter`], [`checksum`], [`delta`], [`token`]: the data model.
//! - [`role`]: sender, generator and receiver.
//! - [`driver`]: pumps stdin/stdout into the roles.
//! - [`ssh`] (feature `ssh`): `rrsync-rs serve`, an embedded SSH server.
//! - [`authorize`], [`audit`]: key set-up and the per-session audit log.
#![forbid(unsafe_code)]

pub mod app;
pub mod audit;
pub mod authorize;
#[cfg(feature = "ssh")]
pub mod check;
pub mod checksum;
pub mod cli;
pub mod delta;
pub mod driver;
pub mod error;
pub mod filter;
pub mod flist;
pub mod fs;
#[doc(hidden)]
pub mod fuzzing;
pub mod iobuf;
pub mod logging;
pub mod meta;
pub mod policy;
pub mod proto;
pub mod prune;
pub mod role;
pub mod sandbox;
pub mod session;
#[cfg(feature = "ssh")]
pub mod ssh;
pub mod token;
pub mod wire;
