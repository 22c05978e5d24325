//! Command-line front end: our own argv, the forced command and the
//! server argument vector a stock rsync client sends.
//!
//! Mirrors three pieces of upstream rsync (all protocol versions, 27-32):
//! - `support/rrsync` `main()`: the wrapper flags (`-ro`, `-wo`, `-munge`,
//!   `-no-del`, `-no-lock`, `-no-overwrite`) and the parsing of
//!   `SSH_ORIGINAL_COMMAND` (backslash escapes, no quotes, `true`).
//! - `options.c` `parse_arguments()` for the options that
//!   `server_options()` can emit (see [`server_args`]).
//! - `io.c` `read_args()` for the NUL-separated secluded (`-s`) arguments
//!   that arrive on stdin before the protocol starts (see [`secluded`]).
//!
//! Nothing here touches the filesystem or decides what is allowed: the
//! parsed [`ServerArgs`] goes to [`crate::policy::authorize`].

pub mod commands;
pub mod docs;
pub mod forced;
mod numbers;
mod opt_apply;
mod opt_table;
pub mod options;
pub mod secluded;
pub mod server_args;
pub mod wrapper;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod forced_tests;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod refused_tests;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod server_args_tests;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod wrapper_tests;

pub use forced::{
    is_server_command, parse_original_command, tokenize, Request, MAX_COMMAND_LEN, MAX_WORDS,
};
pub use options::{AltDest, Options};
pub use secluded::{
    decode_secluded_args, SecludedArgs, MAX_SECLUDED_ARGS, MAX_SECLUDED_ARG_LEN, MAX_SECLUDED_TOTAL,
};
pub use server_args::{complete_secluded, parse_lenient, parse_server_argv, ServerArgs};
pub use wrapper::{
    hint_line, parse_args, parse_args_with_home, usage, Invocation, Limits, Mode, WrapperFlags,
};

/// The most characters of client-supplied text that an error message
/// quotes back.
const SNIPPET_CHARS: usize = 60;

/// Errors from parsing our argv, the forced command or the server
/// arguments. Every message is one line and quotes at most a short,
/// escaped snippet of what the client sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CliError {
    /// Our own command line is wrong; the text ends with a usage line.
    #[error("{0}")]
    Usage(String),
    /// `SSH_ORIGINAL_COMMAND` was empty or only whitespace.
    #[error("empty command; this key only runs rsync")]
    EmptyCommand,
    /// The command is longer than [`MAX_COMMAND_LEN`] bytes.
    #[error("command too long ({len} bytes, limit {max})")]
    CommandTooLong {
        /// Length received.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// More than [`MAX_WORDS`] words.
    #[error("too many words in command (limit {max})")]
    TooManyWords {
        /// The limit.
        max: usize,
    },
    /// A NUL byte in the command.
    #[error("NUL byte in command")]
    NulInCommand,
    /// The command ends in a lone backslash.
    #[error("command ends with an unfinished backslash escape")]
    TrailingBackslash,
    /// The first word is not `rsync`.
    #[error("this key only runs rsync, not `{0}`")]
    NotRsync(String),
    /// `rsync` is not followed by `--server`.
    #[error("--server option is not the first arg")]
    NotServer,
    /// An option we do not know (also used for options a client never sends).
    #[error("unknown option `{0}` (invalid rsync-command syntax or options)")]
    UnknownOption(String),
    /// An option that needs a value got none.
    #[error("option {0} needs a value")]
    MissingValue(&'static str),
    /// A flag was given `=value`.
    #[error("option {0} does not take a value")]
    UnexpectedValue(&'static str),
    /// A value failed to parse or is out of range.
    #[error("invalid value `{value}` for {opt}: {why}")]
    BadValue {
        /// Canonical option name.
        opt: &'static str,
        /// Snippet of the value.
        value: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// An option in a position where it is not accepted (e.g. `--sender`
    /// anywhere but right after `--server`).
    #[error("option {0} is not accepted in this position")]
    Misplaced(&'static str),
    /// Options that rsync refuses to combine.
    #[error("{0}")]
    Conflict(&'static str),
    /// A non-option word before the `.` separator.
    #[error("unexpected argument `{0}` before the `.` separator")]
    UnexpectedArgument(String),
    /// No `.` separator before the paths.
    #[error("missing the `.` separator before the transfer paths")]
    MissingDot,
    /// `-s` on the command line together with paths there.
    #[error("with -s the paths must arrive on stdin, not on the command line")]
    SecludedPathsOnCommandLine,
    /// The secluded-args stream ended before its terminator.
    #[error("secluded args: input ended before the terminating empty argument")]
    SecludedEof,
    /// More secluded arguments than [`MAX_SECLUDED_ARGS`].
    #[error("secluded args: more than {max} arguments")]
    SecludedTooMany {
        /// The limit.
        max: usize,
    },
    /// One secluded argument longer than [`MAX_SECLUDED_ARG_LEN`].
    #[error("secluded args: an argument is longer than {max} bytes")]
    SecludedArgTooLong {
        /// The limit.
        max: usize,
    },
    /// All secluded arguments together exceed [`MAX_SECLUDED_TOTAL`].
    #[error("secluded args: more than {max} bytes in total")]
    SecludedTooLarge {
        /// The limit.
        max: usize,
    },
    /// A secluded argument is not UTF-8.
    #[error("secluded args: an argument is not valid UTF-8")]
    SecludedNotUtf8,
}

/// A short, printable excerpt of client-supplied text for error messages:
/// at most [`SNIPPET_CHARS`] characters, control characters escaped.
pub(crate) fn snippet(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    for c in chars.by_ref().take(SNIPPET_CHARS) {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if chars.next().is_some() {
        out.push_str("...");
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn snippet_truncates_and_escapes() {
        assert_eq!(snippet("abc"), "abc");
        assert_eq!(snippet("a\nb\0"), "a\\nb\\u{0}");
        let long = "x".repeat(1000);
        let s = snippet(&long);
        assert_eq!(s.len(), SNIPPET_CHARS + 3);
        assert!(s.ends_with("..."));
    }

    #[test]
    fn exit_code_is_syntax() {
        assert_eq!(crate::error::exit_code(CliError::EmptyCommand), 1);
        assert_eq!(crate::error::exit_code(CliError::MissingDot), 1);
    }
}
