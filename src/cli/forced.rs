//! The forced command: `SSH_ORIGINAL_COMMAND` as rrsync's `main()` reads
//! it (`support/rrsync`, rsync 3.2.4 to 3.5.0).
//!
//! - exactly `true` is a connectivity check and succeeds (rrsync PR #586);
//! - otherwise the words must be `rsync --server ...` (any rsync client,
//!   protocols 27-32, and openrsync);
//! - words are split on ASCII whitespace and a backslash makes the next
//!   character literal; there are no quotes (rrsync PR #377: rsync 3.2.4+
//!   clients backslash-escape spaces and shell characters in arguments).
//!
//! Unlike rrsync, a word 0 of `openrsync` or of an absolute path ending in
//! `/rsync` is accepted too (`--rsync-path=/usr/bin/rsync`): we never run
//! it, so its spelling does not matter.

use super::server_args::{parse_server_argv, ServerArgs};
use super::{snippet, CliError};

/// Longest command accepted, in bytes.
pub const MAX_COMMAND_LEN: usize = 64 * 1024;
/// Most words accepted.
pub const MAX_WORDS: usize = 8192;

/// What the client asked for.
#[allow(clippy::large_enum_variant)] // built once per connection
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `true`: exit 0 without doing anything.
    True,
    /// `rsync --server ...`.
    Rsync(ServerArgs),
}

/// Parses `SSH_ORIGINAL_COMMAND`.
pub fn parse_original_command(cmd: &str) -> Result<Request, CliError> {
    if cmd.len() > MAX_COMMAND_LEN {
        return Err(CliError::CommandTooLong {
            len: cmd.len(),
            max: MAX_COMMAND_LEN,
        });
    }
    if cmd == "true" {
        return Ok(Request::True);
    }
    let words = tokenize(cmd)?;
    let (first, rest) = words.split_first().ok_or(CliError::EmptyCommand)?;
    if !is_rsync_program(first) {
        return Err(CliError::NotRsync(snippet(first)));
    }
    parse_server_argv(rest).map(Request::Rsync)
}

/// `rsync`, `openrsync`, or an absolute path to either.
/// Whether `words` (a tokenized command) run `rsync --server`: the client
/// on the other end then speaks the rsync protocol.
pub fn is_server_command(words: &[String]) -> bool {
    matches!(words, [prog, server, ..] if is_rsync_program(prog) && server == "--server")
}

fn is_rsync_program(word: &str) -> bool {
    let base = match word.rsplit_once('/') {
        Some((dir, base)) if word.starts_with('/') && !dir.split('/').any(|c| c == "..") => base,
        Some(_) => return false,
        None => word,
    };
    base == "rsync" || base == "openrsync"
}

/// Splits a command into words: ASCII whitespace separates, a backslash
/// makes the next character part of the word. Rejects NUL bytes, a
/// trailing lone backslash, more than [`MAX_WORDS`] words and more than
/// [`MAX_COMMAND_LEN`] bytes.
pub fn tokenize(cmd: &str) -> Result<Vec<String>, CliError> {
    if cmd.len() > MAX_COMMAND_LEN {
        return Err(CliError::CommandTooLong {
            len: cmd.len(),
            max: MAX_COMMAND_LEN,
        });
    }
    if cmd.contains('\0') {
        return Err(CliError::NulInCommand);
    }
    let mut words = Vec::new();
    let mut cur: Option<String> = None;
    let mut chars = cmd.chars();
    while let Some(c) = chars.next() {
        if c.is_ascii_whitespace() || c == '\x0b' {
            if let Some(w) = cur.take() {
                push_word(&mut words, w)?;
            }
            continue;
        }
        let c = if c == '\\' {
            chars.next().ok_or(CliError::TrailingBackslash)?
        } else {
            c
        };
        cur.get_or_insert_with(String::new).push(c);
    }
    if let Some(w) = cur {
        push_word(&mut words, w)?;
    }
    Ok(words)
}

fn push_word(words: &mut Vec<String>, w: String) -> Result<(), CliError> {
    if words.len() >= MAX_WORDS {
        return Err(CliError::TooManyWords { max: MAX_WORDS });
    }
    words.push(w);
    Ok(())
}
