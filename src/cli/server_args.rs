//! The server argument vector: the words after `rsync` in the command a
//! client runs, as built by rsync's `options.c server_options()` (and by
//! openrsync's `fargs.c fargs_cmdline()`), parsed the way rsync's popt
//! parser in `parse_arguments()` would, for protocols 27-32.
//!
//! Shapes handled:
//! - `--server [--sender] -vlogDtpre.iLsfxCIvu --opt=V --opt V . PATH...`
//!   (rsync 3.x; `e.LETTERS` or `eVER.SUBLETTERS` only for protocol >= 30);
//! - `--server --sender -l -p -r -t . dir` (openrsync: one letter a word);
//! - `--server -s...` with the rest arriving on stdin (see
//!   [`complete_secluded`] and [`super::secluded`]).
//!
//! As in rrsync, `--sender` is accepted only as the word right after
//! `--server`, and everything after the lone `.` is a path, even if it
//! starts with `-`.

use super::opt_apply::apply;
use super::opt_table::{lookup_long, lookup_short, Opt};
use super::options::Options;
use super::{snippet, CliError};

/// A parsed server request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerArgs {
    /// `--sender`: the server sends files (the client pulls).
    pub sender: bool,
    /// Every option.
    pub options: Options,
    /// The words after the `.` separator, unescaped, in order.
    pub paths: Vec<String>,
}

/// Parses the words after `rsync` (the first must be `--server`).
///
/// With `-s` the command line carries no `.` and no paths; the result then
/// has `options.secluded` set and must be finished with
/// [`complete_secluded`].
pub fn parse_server_argv(words: &[String]) -> Result<ServerArgs, CliError> {
    let mut rest = match words.split_first() {
        Some((first, rest)) if first == "--server" => rest,
        _ => return Err(CliError::NotServer),
    };
    let mut p = Parser::new(false);
    p.options.server = true;
    if let Some((second, tail)) = rest.split_first() {
        if second == "--sender" {
            p.options.sender = true;
            rest = tail;
        }
    }
    p.feed(rest)?;
    if p.options.secluded {
        if p.seen_dot {
            return Err(CliError::SecludedPathsOnCommandLine);
        }
        return Ok(p.into_args());
    }
    p.finish()
}

/// Continues a `-s` request with the arguments read from stdin by
/// [`super::read_secluded_args`] (without their leading `rsync`), the way
/// rsync's `main()` re-runs `parse_arguments()` on them.
pub fn complete_secluded(first: ServerArgs, words: &[String]) -> Result<ServerArgs, CliError> {
    if !first.options.secluded {
        return Err(CliError::Conflict(
            "secluded arguments without -s on the command line",
        ));
    }
    if !first.paths.is_empty() {
        return Err(CliError::SecludedPathsOnCommandLine);
    }
    let mut p = Parser::new(true);
    p.options = first.options;
    p.feed(words)?;
    p.finish()
}

/// Parser state: options so far, whether the `.` was seen, the paths.
struct Parser {
    options: Options,
    paths: Vec<String>,
    seen_dot: bool,
    end_of_options: bool,
    /// Parsing stdin args: `--server`/`--sender` are not accepted there.
    in_secluded: bool,
}

impl Parser {
    fn new(in_secluded: bool) -> Self {
        Parser {
            options: Options::default(),
            paths: Vec::new(),
            seen_dot: false,
            end_of_options: false,
            in_secluded,
        }
    }

    fn feed(&mut self, words: &[String]) -> Result<(), CliError> {
        let mut it = words.iter();
        while let Some(word) = it.next() {
            if self.seen_dot {
                self.paths.push(word.clone());
            } else if word == "." {
                self.seen_dot = true;
            } else if self.end_of_options || word == "-" || !word.starts_with('-') {
                return Err(CliError::UnexpectedArgument(snippet(word)));
            } else if word == "--" {
                self.end_of_options = true;
            } else if let Some(long) = word.strip_prefix("--") {
                self.long(long, &mut it)?;
            } else {
                self.bundle(word.get(1..).unwrap_or(""), &mut it)?;
            }
        }
        Ok(())
    }

    /// `--name`, `--name=value` or `--name value`.
    fn long<'a>(
        &mut self,
        body: &str,
        it: &mut impl Iterator<Item = &'a String>,
    ) -> Result<(), CliError> {
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (body, None),
        };
        let opt = lookup_long(name)
            .ok_or_else(|| CliError::UnknownOption(format!("--{}", snippet(name))))?;
        self.spell(opt, format!("--{name}"));
        let value = if opt.takes_value() {
            match inline {
                Some(v) => Some(v),
                None => Some(
                    it.next()
                        .ok_or(CliError::MissingValue(opt.name()))?
                        .as_str(),
                ),
            }
        } else if inline.is_some() {
            return Err(CliError::UnexpectedValue(opt.name()));
        } else {
            None
        };
        self.apply(opt, value)
    }

    /// A bundle of short letters. A letter that takes a value takes the
    /// rest of the word; `B`, `@` and `T` take the next word when nothing
    /// follows them, but the `e` blob must be in the same word (as rrsync
    /// requires).
    fn bundle<'a>(
        &mut self,
        letters: &str,
        it: &mut impl Iterator<Item = &'a String>,
    ) -> Result<(), CliError> {
        for (i, c) in letters.char_indices() {
            let opt = lookup_short(c)
                .ok_or_else(|| CliError::UnknownOption(format!("-{}", snippet(&c.to_string()))))?;
            self.spell(opt, format!("-{c}"));
            if !opt.takes_value() {
                self.apply(opt, None)?;
                continue;
            }
            let rest = letters.get(i + c.len_utf8()..).unwrap_or("");
            let value = if !rest.is_empty() {
                rest
            } else if opt == Opt::Capabilities {
                return Err(CliError::MissingValue(opt.name()));
            } else {
                it.next()
                    .ok_or(CliError::MissingValue(opt.name()))?
                    .as_str()
            };
            return self.apply(opt, Some(value));
        }
        Ok(())
    }

    fn apply(&mut self, opt: Opt, value: Option<&str>) -> Result<(), CliError> {
        match opt {
            // `--server` is the first word and `--sender` the second; both
            // are consumed before `feed`.
            Opt::Server | Opt::Sender => Err(CliError::Misplaced(opt.name())),
            Opt::Secluded if self.in_secluded => Ok(()),
            _ => apply(opt, value, &mut self.options),
        }
    }

    /// Remembers the client's spelling of `opt`, for refusals that name it.
    fn spell(&mut self, opt: Opt, as_written: String) {
        self.options.spell(opt.name(), as_written);
    }

    fn into_args(self) -> ServerArgs {
        ServerArgs {
            sender: self.options.sender,
            options: self.options,
            paths: self.paths,
        }
    }

    /// Cross-option rules from the end of rsync's `parse_arguments()`.
    fn finish(mut self) -> Result<ServerArgs, CliError> {
        if !self.seen_dot {
            return Err(CliError::MissingDot);
        }
        let o = &mut self.options;
        let whens = [
            o.delete_before,
            o.delete_during || o.delete_delay,
            o.delete_after,
        ];
        if whens.iter().filter(|&&w| w).count() > 1 {
            return Err(CliError::Conflict(
                "you may not combine multiple --delete-WHEN options",
            ));
        }
        if whens.contains(&true) || o.delete_excluded {
            o.delete = true;
        }
        if let Some(s) = &o.suffix {
            if s.contains('/') {
                return Err(CliError::BadValue {
                    opt: "--suffix",
                    value: snippet(s),
                    why: "cannot contain slashes",
                });
            }
            if s.is_empty() && o.backup_dir.is_none() && !o.sender {
                return Err(CliError::Conflict(
                    "--suffix cannot be empty without a --backup-dir",
                ));
            }
        }
        if o.backup_dir.is_some() {
            o.backup = true;
        }
        Ok(self.into_args())
    }
}

/// The options of `words` as far as they can be read, for a refusal that
/// must still speak the client's handshake: unknown options and bad
/// values are passed over instead of stopping the parse, and the scan
/// ends at the `.` separator.
pub fn parse_lenient(words: &[String]) -> Options {
    let mut o = Options::default();
    let mut it = words.iter();
    while let Some(word) = it.next() {
        if word == "." || word == "--" {
            break;
        }
        if let Some(long) = word.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            };
            let Some(opt) = lookup_long(name) else {
                continue;
            };
            let value = match (opt.takes_value(), inline) {
                (true, Some(v)) => Some(v),
                (true, None) => it.next().map(String::as_str),
                (false, _) => None,
            };
            let _ = apply(opt, value, &mut o);
        } else if let Some(letters) = word.strip_prefix('-') {
            lenient_bundle(letters, &mut o);
        }
    }
    o
}

/// One bundle of short letters for [`parse_lenient`]: a letter that takes
/// a value ends the bundle (its value is the rest of the word, or nothing).
fn lenient_bundle(letters: &str, o: &mut Options) {
    for (i, c) in letters.char_indices() {
        let Some(opt) = lookup_short(c) else {
            continue;
        };
        if !opt.takes_value() {
            let _ = apply(opt, None, o);
            continue;
        }
        let rest = letters.get(i + c.len_utf8()..).unwrap_or("");
        if !rest.is_empty() {
            let _ = apply(opt, Some(rest), o);
        }
        return;
    }
}
