//! The process driver: reads our argv and `SSH_ORIGINAL_COMMAND`, applies
//! the policy, and pumps stdin/stdout through the protocol.
//!
//! Refusals after a well-formed `rsync --server` request are delivered
//! inside the protocol, the way rsync's `support/deny-rsync` does it:
//! we announce protocol 29 (so no compat flags or name lists follow), send
//! a zero seed, then an error line and an exit message, so that the stock
//! client prints our reason instead of "connection unexpectedly closed".

mod session;
pub mod stdio;

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;

use crate::cli::{self, Invocation, Request, WrapperFlags};
use crate::wire::{put_i32, MsgCode};

/// Entry point used by the binary; returns the exit code.
pub fn main_entry() -> i32 {
    let mut args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let audit = crate::audit::take_flag(&mut args);
    let inv = match cli::parse_args(&args) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("{e}");
            return e.exit_code();
        }
    };
    match inv {
        Invocation::Help => {
            print!("{}", cli::usage());
            0
        }
        Invocation::Version => {
            println!(
                "rrsync-rs {} (rsync protocol 27-32)",
                env!("CARGO_PKG_VERSION")
            );
            0
        }
        Invocation::Forced(flags) => match std::env::var_os("SSH_ORIGINAL_COMMAND") {
            None => {
                let exe = std::env::current_exe()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|_| "rrsync-rs".into());
                eprintln!("{}", cli::hint_line(&exe));
                1
            }
            Some(cmd) => {
                let cmd = cmd.to_string_lossy();
                crate::audit::around("sshd", &flags, &cmd, audit.as_deref(), || {
                    serve_command(&flags, &cmd)
                })
            }
        },
        Invocation::Local { flags, command } => {
            crate::audit::around("local", &flags, &command, audit.as_deref(), || {
                serve_command(&flags, &command)
            })
        }
        Invocation::Authorize(args) => crate::authorize::run(&args),
        #[cfg(feature = "ssh")]
        Invocation::Serve(args) => crate::ssh::main(&args),
        #[cfg(not(feature = "ssh"))]
        Invocation::Serve(_) => {
            eprintln!("rrsync-rs: this build has no `serve` (cargo feature `ssh` is off)");
            1
        }
    }
}

/// Serves one request on stdin/stdout.
pub fn serve_command(flags: &WrapperFlags, command: &str) -> (i32, crate::audit::Transfer) {
    let stdin = io::stdin();
    let stdout = io::stdout();
    stdio::make_blocking(stdin.as_fd());
    stdio::make_blocking(stdout.as_fd());
    // Raw descriptors: std's own stdout buffering would only add a copy.
    let r = stdio::Blocking(std::fs::File::from(
        stdin
            .as_fd()
            .try_clone_to_owned()
            .unwrap_or_else(|_| dup_fail()),
    ));
    let w = stdio::Blocking(std::fs::File::from(
        stdout
            .as_fd()
            .try_clone_to_owned()
            .unwrap_or_else(|_| dup_fail()),
    ));
    serve_counted(flags, command, r, w)
}

/// Serves one request on the given streams (the SSH server uses this too).
pub fn serve<R: Read, W: Write + Send + 'static>(
    flags: &WrapperFlags,
    command: &str,
    r: R,
    w: W,
) -> i32 {
    serve_counted(flags, command, r, w).0
}

/// [`serve`], also returning what the session moved (for the audit log).
pub fn serve_counted<R: Read, W: Write + Send + 'static>(
    flags: &WrapperFlags,
    command: &str,
    mut r: R,
    mut w: W,
) -> (i32, crate::audit::Transfer) {
    let none = crate::audit::Transfer::default();
    let args = match cli::parse_original_command(command) {
        Ok(Request::True) => return (0, none),
        Ok(Request::Rsync(a)) => a,
        Err(e) => {
            eprintln!("rrsync-rs: {}", crate::audit::escape(&e.to_string()));
            return (e.exit_code(), none);
        }
    };
    let args = if args.options.secluded {
        match cli::read_secluded_args(&mut r).and_then(|words| cli::complete_secluded(args, &words))
        {
            Ok(a) => a,
            Err(e) => return (refuse(&mut r, &mut w, &e.to_string(), e.exit_code()), none),
        }
    } else {
        args
    };
    match crate::policy::authorize(flags, args) {
        Ok(session) => session::run(flags, session, r, w),
        Err(e) => (refuse(&mut r, &mut w, &e.to_string(), e.exit_code()), none),
    }
}

/// Delivers a refusal through the protocol and returns `code`.
pub fn refuse<R: Read, W: Write>(r: &mut R, w: &mut W, msg: &str, code: i32) -> i32 {
    if deliver_refusal(r, w, msg, code).is_err() {
        eprintln!("rrsync-rs: {}", crate::audit::escape(msg));
    }
    drain(r);
    code
}

/// Reads and discards what the client still sends, for a few seconds, so
/// that it reads our error instead of failing on a broken pipe first.
fn drain<R: Read>(r: &mut R) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut buf = [0u8; 16 * 1024];
    let mut total = 0usize;
    while std::time::Instant::now() < deadline && total < (64 << 20) {
        match r.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => total += n,
        }
    }
}

fn deliver_refusal<R: Read, W: Write>(
    r: &mut R,
    w: &mut W,
    msg: &str,
    code: i32,
) -> io::Result<()> {
    let mut out = Vec::new();
    put_i32(&mut out, 29);
    w.write_all(&out)?;
    w.flush()?;
    let mut v = [0u8; 4];
    r.read_exact(&mut v)?;
    let mut mux = crate::wire::MuxWriter::new(w);
    mux.write_all(&0i32.to_le_bytes())?;
    mux.set_multiplexed(true)?;
    let line = format!("rsync: [server] {msg}\n");
    mux.send_msg(MsgCode::Error, line.as_bytes())?;
    mux.send_msg_int(MsgCode::ErrorExit, code)?;
    mux.flush()
}

fn dup_fail() -> std::os::fd::OwnedFd {
    eprintln!("rrsync-rs: cannot duplicate standard input/output");
    std::process::exit(crate::error::code::START_CLIENT)
}
