//! The stdio driver: takes the forced command (from [`crate::app`]), applies
//! the policy, and pumps stdin/stdout through the protocol.
//!
//! Refusals of an `rsync --server` request are delivered inside the
//! protocol, the way rsync's `support/deny-rsync` does it: we announce
//! protocol 29 (so no compat flags or name lists follow), send a zero
//! seed, then an error line and an exit message, so that the stock client
//! prints our reason instead of "connection unexpectedly closed". What the
//! client reads at that moment depends on what it asked for (see
//! [`Listener`]): a pushing client with a remote `--files-from` first reads
//! the raw name list (`main.c client_run()`, `flist.c send_file_list()`
//! below protocol 31), and a daemon client over a remote shell
//! (`rsync --server --daemon`) reads `@RSYNCD:` text lines
//! (`clientserver.c start_inband_exchange()`).
//!
//! Every wait for the client, from the first byte of the `-s` arguments
//! to the last of the goodbye, is bounded by the session's
//! [`deadline::IdleClock`], which its reader and writer share.

pub mod deadline;
pub mod pump;
mod session;
pub mod stdio;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
mod transfer_log;

use std::io::{self, Read, Write};
use std::os::fd::AsFd;

use crate::audit::Served;
use crate::cli::{self, Request, ServerArgs, WrapperFlags};
use crate::wire::{put_i32, MsgCode};
use deadline::IdleClock;

/// Serves one request on stdin/stdout.
pub fn serve_command(flags: &WrapperFlags, command: &str) -> Served {
    let stdin = io::stdin();
    let stdout = io::stdout();
    let nonblocking = stdio::NonBlocking::set(stdin.as_fd(), stdout.as_fd(), io::stderr().as_fd());
    let clock = IdleClock::new(deadline::DEFAULT_START_TIMEOUT);
    // Raw descriptors: std's own stdout buffering would only add a copy.
    let stream = |fd: std::os::fd::BorrowedFd<'_>| {
        let file = std::fs::File::from(fd.try_clone_to_owned().unwrap_or_else(|_| dup_fail()));
        stdio::Blocking::new(file, clock.clone(), nonblocking.is_on())
    };
    let (r, w) = (stream(stdin.as_fd()), stream(stdout.as_fd()));
    serve_timed(flags, command, r, w, &clock)
}

/// Serves one request on the given streams (the SSH server uses this too).
pub fn serve<R: Read, W: Write + Send + 'static>(
    flags: &WrapperFlags,
    command: &str,
    r: R,
    w: W,
) -> i32 {
    serve_counted(flags, command, r, w).code
}

/// [`serve`], also returning what the session moved (for the audit log).
/// The streams keep their own deadlines, if any: the clock given to the
/// session here reaches no wait.
pub fn serve_counted<R: Read, W: Write + Send + 'static>(
    flags: &WrapperFlags,
    command: &str,
    r: R,
    w: W,
) -> Served {
    let clock = IdleClock::new(deadline::DEFAULT_START_TIMEOUT);
    serve_timed(flags, command, r, w, &clock)
}

/// [`serve_counted`] on streams that wait through `clock`, which the
/// session moves from the short start limit to the transfer's.
pub fn serve_timed<R: Read, W: Write + Send + 'static>(
    flags: &WrapperFlags,
    command: &str,
    mut r: R,
    mut w: W,
    clock: &IdleClock,
) -> Served {
    let ran = |code: i32| Served {
        code,
        ..Served::default()
    };
    let (listener, result) = match read_request(command, &mut r, clock) {
        Ok(None) => return ran(0),
        Ok(Some((listener, args))) => {
            clock.set(args.options.timeout, deadline::DEFAULT_START_TIMEOUT);
            let result = crate::policy::authorize(flags, args);
            let refusal =
                |e: crate::policy::PolicyError| (e.to_string(), crate::error::exit_code(e));
            (listener, result.map_err(refusal))
        }
        Err(Stop::TimedOut) => return ran(timed_out(clock)),
        Err(Stop::Refuse(listener, msg, code)) => (listener, Err((msg, code))),
    };
    match result {
        Ok(session) => {
            let (code, transfer) = session::run(flags, session, r, w, clock);
            Served {
                code,
                transfer,
                refused: None,
            }
        }
        Err((msg, code)) => Served {
            code: refuse_to(listener, &mut r, &mut w, &msg, code, clock),
            refused: Some(msg),
            ..Served::default()
        },
    }
}

/// Why a request ended before the policy saw it.
enum Stop {
    /// Refuse with this message and exit code, delivered to the listener.
    Refuse(Listener, String, i32),
    /// A deadline expired while reading the `-s` arguments.
    TimedOut,
}

/// Parses the forced command and, with `-s`, reads the rest of the
/// arguments from the client: `None` for `true`, else the request and how
/// its client reads a refusal.
fn read_request<R: Read>(
    command: &str,
    r: &mut R,
    clock: &IdleClock,
) -> Result<Option<(Listener, ServerArgs)>, Stop> {
    let listener = Listener::of_command(command, &[]);
    let refuse =
        |l: Listener, e: cli::CliError| Stop::Refuse(l, e.to_string(), crate::error::exit_code(e));
    if listener == Listener::Daemon {
        let e = crate::policy::PolicyError::Refused("--daemon".into());
        return Err(Stop::Refuse(
            listener,
            e.to_string(),
            crate::error::exit_code(e),
        ));
    }
    let args = match cli::parse_original_command(command).map_err(|e| refuse(listener, e))? {
        Request::True => return Ok(None),
        Request::Rsync(a) => a,
    };
    // The client's --timeout governs from the first byte; with -s it is
    // not known until the arguments have arrived.
    clock.set(args.options.timeout, deadline::DEFAULT_START_TIMEOUT);
    if !args.options.secluded {
        return Ok(Some((listener, args)));
    }
    let timed_out_or = |l: Listener, e: cli::CliError| match clock.expired() {
        Some(_) => Stop::TimedOut,
        None => refuse(l, e),
    };
    let words = cli::read_secluded_args(r).map_err(|e| timed_out_or(listener, e))?;
    let listener = Listener::of_command(command, &words);
    let args = cli::complete_secluded(args, &words).map_err(|e| timed_out_or(listener, e))?;
    Ok(Some((listener, args)))
}

/// Reports the deadline that ended the session; returns rsync's
/// `RERR_TIMEOUT`.
fn timed_out(clock: &IdleClock) -> i32 {
    if let Some(msg) = clock.expired() {
        eprintln!("rrsync-rs: {}", crate::audit::escape(&msg));
    }
    crate::error::code::TIMEOUT
}

/// How the client reads a refusal at the moment we send it, judged from
/// the words of its request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listener {
    /// Not `rsync --server`: nothing speaks the protocol on the other
    /// end, so one line on stderr.
    Stderr,
    /// `rsync --server --daemon`: a daemon client over a remote shell,
    /// which reads the `@RSYNCD:` greeting and then `@ERROR:` lines.
    Daemon,
    /// An rsync client that reads the protocol. `raw_files_from`: it
    /// pushes with a remote `--files-from`, so after the seed it reads the
    /// raw NUL-separated name list before it reads multiplexed messages.
    Protocol {
        /// The client reads a raw files-from list first.
        raw_files_from: bool,
    },
}

impl Listener {
    /// The listener for an `SSH_ORIGINAL_COMMAND` (and, with `-s`, the
    /// arguments read from stdin).
    pub fn of_command(command: &str, secluded: &[String]) -> Listener {
        let Ok(words) = cli::tokenize(command) else {
            return Listener::Stderr;
        };
        if !cli::is_server_command(&words) {
            return Listener::Stderr;
        }
        let options =
            |w: &[String]| -> Vec<String> { w.iter().take_while(|w| *w != ".").cloned().collect() };
        let mut opts = options(words.get(2..).unwrap_or_default());
        opts.extend(options(secluded));
        if opts.iter().any(|w| w == "--daemon") {
            return Listener::Daemon;
        }
        let sender = words.get(2).is_some_and(|w| w == "--sender");
        Listener::Protocol {
            raw_files_from: !sender && remote_files_from(&opts),
        }
    }

    /// The listener of a session that the policy authorised.
    pub fn of_options(o: &crate::cli::Options) -> Listener {
        Listener::Protocol {
            raw_files_from: !o.sender && o.files_from.as_deref().is_some_and(|f| f != "-"),
        }
    }
}

/// Whether the options name a files-from list other than `-` (which a
/// server receives only when the list is on the server's side).
fn remote_files_from(opts: &[String]) -> bool {
    let mut it = opts.iter();
    while let Some(w) = it.next() {
        let value = match w.strip_prefix("--files-from") {
            Some("") => it.next().map(String::as_str),
            Some(v) => v.strip_prefix('='),
            None => None,
        };
        if value.is_some_and(|v| v != "-") {
            return true;
        }
    }
    false
}

/// Delivers a refusal through the protocol and returns `code`.
pub fn refuse<R: Read, W: Write>(
    r: &mut R,
    w: &mut W,
    msg: &str,
    code: i32,
    clock: &IdleClock,
) -> i32 {
    let listener = Listener::Protocol {
        raw_files_from: false,
    };
    refuse_to(listener, r, w, msg, code, clock)
}

/// Delivers a refusal the way `listener` reads it and returns `code`.
/// Every wait in it is bounded by `clock`; a refusal the client does not
/// take in time is reported on stderr with the deadline that expired.
pub fn refuse_to<R: Read, W: Write>(
    listener: Listener,
    r: &mut R,
    w: &mut W,
    msg: &str,
    code: i32,
    clock: &IdleClock,
) -> i32 {
    let sent = match listener {
        Listener::Stderr => Err(io::ErrorKind::Unsupported.into()),
        Listener::Daemon => deliver_daemon_refusal(w, msg),
        Listener::Protocol { raw_files_from } => deliver_refusal(r, w, msg, code, raw_files_from),
    };
    if sent.is_err() {
        eprintln!("rrsync-rs: {}", crate::audit::escape(msg));
        if let Some(why) = clock.expired() {
            eprintln!("rrsync-rs: {why}");
        }
    }
    if listener != Listener::Stderr {
        clock.cap(DRAIN_SECS);
        drain(r);
    }
    code
}

/// How long a refused session still reads what the client sends.
const DRAIN_SECS: u64 = 5;

/// Reads and discards what the client still sends, for a few seconds, so
/// that it reads our error instead of failing on a broken pipe first.
fn drain<R: Read>(r: &mut R) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(DRAIN_SECS);
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
    raw_files_from: bool,
) -> io::Result<()> {
    let mut out = Vec::new();
    put_i32(&mut out, 29);
    w.write_all(&out)?;
    w.flush()?;
    let mut v = [0u8; 4];
    r.read_exact(&mut v)?;
    let mut mux = crate::wire::MuxWriter::new(w);
    mux.write_all(&0i32.to_le_bytes())?;
    if raw_files_from {
        // An empty name ends the list (io.c `read_line()` with
        // RL_EOL_NULLS); the client then sends an empty file list and
        // reads multiplexed messages again.
        mux.write_all(b"\0")?;
    }
    mux.set_multiplexed(true)?;
    let line = format!("rsync: [server] {msg}\n");
    mux.send_msg(MsgCode::Error, line.as_bytes())?;
    mux.send_msg_int(MsgCode::ErrorExit, code)?;
    mux.flush()
}

/// Tells the client that `n` of its filter rules were skipped because they
/// name a merge file outside the served directory (never which path).
pub(crate) fn warn_skipped_rules<R: Read, W: Write>(
    conn: &mut crate::role::Conn<R, W>,
    n: usize,
) -> io::Result<()> {
    if n == 0 {
        return Ok(());
    }
    let who = conn.who;
    conn.warning(&crate::role::text::skipped_rules(who, n))
}

/// The daemon protocol's refusal: our greeting (protocol 31, which needs
/// no digest list), then `@ERROR: MSG`, which the client prints before it
/// exits with RERR_STARTCLIENT (`clientserver.c start_inband_exchange()`).
fn deliver_daemon_refusal<W: Write>(w: &mut W, msg: &str) -> io::Result<()> {
    let text = format!("@RSYNCD: 31.0\n@ERROR: {msg}\n");
    w.write_all(text.as_bytes())?;
    w.flush()
}

fn dup_fail() -> std::os::fd::OwnedFd {
    eprintln!("rrsync-rs: cannot duplicate standard input/output");
    std::process::exit(crate::error::code::START_CLIENT)
}
