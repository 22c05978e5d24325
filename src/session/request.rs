//! The client's request, before the policy sees it (rrsync's reading of
//! `SSH_ORIGINAL_COMMAND`; with `-s`, rsync 3.0 and later, the rest of the
//! arguments arrive on the connection: `io.c read_args()`), and how the
//! client will read a refusal at that moment.

use crate::cli::{self, Request, SecludedArgs, ServerArgs};
use crate::error::Error;
use crate::proto::HandshakeRequest;
use crate::role::link::ReadError;
use crate::role::Link;

/// How the client reads a refusal at the moment we send it, judged from
/// the words of its request.
#[derive(Debug, Clone, PartialEq, Eq)]
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
        /// The client reads a raw files-from list first (below protocol
        /// 31).
        raw_files_from: bool,
        /// What the client's handshake expects, read from its words
        /// as far as they can be read.
        handshake: Box<HandshakeRequest>,
    },
}

impl Listener {
    /// The listener for an `SSH_ORIGINAL_COMMAND` (and, with `-s`, the
    /// arguments read from the connection).
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
            handshake: Box::new(super::start::request(&cli::parse_lenient(&opts))),
        }
    }

    /// The listener of a session that the policy authorised.
    pub fn of_options(o: &crate::cli::Options) -> Listener {
        Listener::Protocol {
            raw_files_from: !o.sender && o.files_from.as_deref().is_some_and(|f| f != "-"),
            handshake: Box::new(super::start::request(o)),
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

/// A request refused before the policy saw it.
pub(super) struct Stop {
    pub(super) listener: Listener,
    pub(super) msg: String,
    pub(super) code: i32,
}

impl Stop {
    fn new(listener: Listener, e: impl Into<Error>) -> Self {
        let e = e.into();
        Stop {
            listener,
            msg: e.to_string(),
            code: e.exit_code(),
        }
    }
}

impl ReadError for cli::CliError {
    type Out = Error;
}

/// Parses the forced command and, with `-s`, reads the rest of the
/// arguments from the client: `None` for `true`, else the request and
/// how its client reads a refusal.
pub(super) async fn read(
    link: &Link,
    command: &str,
) -> Result<Option<(Listener, ServerArgs)>, Stop> {
    let listener = Listener::of_command(command, &[]);
    if listener == Listener::Daemon {
        let e = crate::policy::PolicyError::Refused("--daemon".into());
        return Err(Stop::new(listener, e));
    }
    let args =
        match cli::parse_original_command(command).map_err(|e| Stop::new(listener.clone(), e))? {
            Request::True => return Ok(None),
            Request::Rsync(a) => a,
        };
    if !args.options.secluded {
        return Ok(Some((listener, args)));
    }
    // The client's --timeout governs from the first byte; with -s it is
    // not known until the arguments have arrived.
    super::set_limit(
        link,
        args.options.timeout,
        crate::role::machine::START_LIMIT,
    );
    let words = secluded(link)
        .await
        .map_err(|e| Stop::new(listener.clone(), e))?;
    let listener = Listener::of_command(command, &words);
    let args = cli::complete_secluded(args, &words).map_err(|e| Stop::new(listener.clone(), e))?;
    Ok(Some((listener, args)))
}

/// The `-s` arguments; the connection closing first is
/// [`cli::CliError::SecludedEof`].
async fn secluded(link: &Link) -> Result<Vec<String>, cli::CliError> {
    let mut dec = SecludedArgs::new();
    loop {
        match link.read("the secluded arguments", |r| dec.decode(r)).await {
            Ok(true) => return dec.finish(),
            Ok(false) => {}
            Err(Error::Cli(e)) => return Err(e),
            Err(_) => return Err(cli::CliError::SecludedEof),
        }
    }
}
