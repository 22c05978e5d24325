//! The stdio driver: runs one session ([`crate::session::run`]) on this
//! process's standard input and output. It knows nothing of the
//! protocol: the [`pump`] moves bytes and time between the descriptors
//! and the session's [`Machine`], and the [`host::StdHost`] opens what
//! the session needs outside the protocol. What the client could not be
//! told inside the protocol goes to stderr, which sshd logs.

pub mod host;
pub mod publish;
pub mod pump;
pub mod stdio;
mod transfer_log;

use std::io;
use std::os::fd::AsFd;
use std::time::Instant;

use crate::audit::Served;
use crate::cli::WrapperFlags;
use crate::role::Machine;

/// Serves one request on stdin/stdout.
pub fn serve_command(flags: &WrapperFlags, command: &str) -> Served {
    let stdin = io::stdin();
    let stdout = io::stdout();
    let nonblocking = stdio::NonBlocking::set(stdin.as_fd(), stdout.as_fd(), io::stderr().as_fd());
    let host = host::StdHost::new(flags);
    let mut machine = Machine::new(Instant::now(), |link| {
        link.set_clock(Instant::now);
        crate::session::run(link, flags, &host, command)
    });
    let outcome = pump::run(
        &mut machine,
        stdin.as_fd(),
        stdout.as_fd(),
        nonblocking.is_on(),
    );
    for line in &outcome.stderr {
        eprintln!("rrsync-rs: {}", crate::audit::escape(line));
    }
    if let Some(why) = &outcome.timed_out {
        eprintln!("rrsync-rs: {why}");
    }
    Served {
        code: outcome.code,
        transfer: outcome.transfer,
        refused: outcome.refused,
    }
}
