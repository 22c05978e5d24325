//! One session, from the first byte the client sends to the last we send
//! (`main.c` `start_server`, `support/rrsync`; protocols 27 to 32): the
//! request (with `-s`, its arguments from the connection), the policy's
//! decision, then either a refusal inside the protocol or the start-up,
//! the handshake, multiplexing and the role the permit allows.
//!
//! It is an `async fn` over a [`Link`], run by a [`crate::role::Machine`]:
//! it does no I/O itself. The file system is reached beneath the root
//! only, and what a session needs from outside it (the root, its lock,
//! the id tables, the log file, Landlock, the default seed) comes from
//! the [`Host`] the driver gives it.

mod options;
mod refuse;
mod request;
mod roles;
mod start;

pub use options::{max_entries, DEFAULT_MAX_ALLOC};
pub use request::Listener;

use std::time::Duration;

use crate::cli::WrapperFlags;
use crate::error::Error;
use crate::fs::Root;
use crate::policy::Grant;
use crate::role::log_file::TransferLog;
use crate::role::machine::START_LIMIT;
use crate::role::{Link, Outcome};

/// What the session needs from outside the protocol, once the policy
/// has authorised it.
pub trait Host {
    /// Opens the root and everything else the session needs outside it,
    /// then gives up the rest of the file system. The error is the
    /// client's line.
    fn start(&self, grant: &Grant) -> Result<Started, String>;
    /// The checksum seed when the client sets none (rsync mixes the time
    /// with the process id).
    fn default_seed(&self) -> i32;
}

/// What [`Host::start`] opened.
pub struct Started {
    /// The confined root.
    pub root: Root,
    /// The client's `--log-file`, when it is open.
    pub log: Option<Box<dyn TransferLog>>,
    /// Why the client's `--log-file` could not be opened.
    pub log_failure: Option<String>,
    /// Held for as long as the session runs (the root's lock).
    pub guard: Option<std::os::fd::OwnedFd>,
    /// Under `-snapshot`, the push's snapshot (`root` is its copy-on-write
    /// tree): published when the transfer ends well.
    pub snapshot: Option<Box<dyn Publish>>,
}

/// Makes a `-snapshot` push's snapshot the newest, once.
pub trait Publish {
    /// Publishes; returns the name the snapshot got.
    fn publish(&self) -> std::io::Result<String>;
}

impl Publish for crate::fs::snapshot::Pending {
    fn publish(&self) -> std::io::Result<String> {
        crate::fs::snapshot::Pending::publish(self)
    }
}

/// Serves one request, `command` being the client's
/// `SSH_ORIGINAL_COMMAND`.
pub async fn run(link: Link, flags: &WrapperFlags, host: &dyn Host, command: &str) -> Outcome {
    link.set_idle_limit(START_LIMIT);
    let (listener, decision) = match request::read(&link, command).await {
        Ok(None) => return Outcome::default(),
        Ok(Some((listener, args))) => {
            set_limit(&link, args.options.timeout, START_LIMIT);
            link.set_rate_limit(args.options.bwlimit.map(|k| u64::from(k) * 1024));
            let refusal =
                |e: crate::policy::PolicyError| (e.to_string(), crate::error::exit_code(e));
            (
                listener,
                crate::policy::authorize(flags, args).map_err(refusal),
            )
        }
        Err(stop) => (stop.listener, Err((stop.msg, stop.code))),
    };
    let grant = match decision {
        Ok(grant) => grant,
        Err((msg, code)) => {
            let mut outcome = refuse::deliver(&link, &listener, &msg, code).await;
            outcome.refused = Some(msg);
            return outcome;
        }
    };
    let listener = Listener::of_options(grant.options());
    match host.start(&grant) {
        Ok(started) => roles::run(&link, &grant, &started, host.default_seed()).await,
        Err(msg) => {
            let code = Error::Start(msg.clone()).exit_code();
            refuse::deliver(&link, &listener, &msg, code).await
        }
    }
}

/// Sets the idle limit: the client's `--timeout` if it gave one, else
/// `default`; with the client's, keep-alives too.
fn set_limit(link: &Link, client: Option<u32>, default: Duration) {
    let client = client.filter(|&t| t > 0);
    if let Some(t) = client {
        link.set_keepalive(t);
    }
    let limit = client.map_or(default, |t| Duration::from_secs(u64::from(t)));
    link.set_idle_limit(limit);
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
