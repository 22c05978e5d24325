//! Our own argv, after rrsync's argparse setup (`support/rrsync`, rsync
//! 3.3.0 to 3.5.0): `[-ro|-wo] [-munge] [-no-del] [-no-lock]
//! [-no-overwrite] DIR`, with rrsync's rule that `-ro` implies `-no-del`
//! and skips the lock; and one flag of our own, `-blind` (no block sums
//! to the client, see `docs/security/woleak.md`).
//!
//! A second form, `local [flags] DIR [-l USER] HOST WORD...`, lets
//! rrsync-rs stand in as an rsync `-e` program for tests and local use:
//! rsync runs `PROGRAM [-l USER] HOST rsync --server ...` (`main.c
//! do_cmd()`), and the words after HOST are joined with single spaces, as
//! ssh joins them into `SSH_ORIGINAL_COMMAND`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::{snippet, CliError};

/// The operator's transfer direction restriction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Clients may push and pull.
    #[default]
    ReadWrite,
    /// `-ro`: clients may only pull (the server only sends).
    ReadOnly,
    /// `-wo`: clients may only push (the server only receives).
    WriteOnly,
}

/// The operator's choices from the forced-command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrapperFlags {
    /// `-ro`, `-wo`, or neither.
    pub mode: Mode,
    /// `-munge`: force `--munge-links`.
    pub munge: bool,
    /// `-no-del` (implied by `-ro`): refuse `--delete*` and `--remove-*`.
    pub no_del: bool,
    /// `-no-lock` (implied by `-ro`): skip the single-run lock on DIR.
    pub no_lock: bool,
    /// `-no-overwrite`: force `--ignore-existing`, refuse the options that
    /// replace, append to or move existing files.
    pub no_overwrite: bool,
    /// `-blind` (ours, not rrsync's): a receiving session sends the client
    /// no block sums at all and `-c` compares no contents, so a push
    /// learns nothing about the bytes of any file under the root.
    pub blind: bool,
    /// `-snapshot` (ours): every push goes into a new dated snapshot
    /// beneath `DIR/.snapshots`, published as `DIR/latest` when it ends
    /// well; nothing a client sends reaches an earlier snapshot.
    pub snapshot: bool,
    /// `-max-bytes=N`, `-max-files=N` (ours): what one push may add.
    pub limits: Limits,
    /// The restricted directory; a relative DIR is joined to `$HOME` in
    /// the forced form.
    pub root: PathBuf,
}

impl WrapperFlags {
    /// The flag words that [`parse_args`] reads back into these flags
    /// (without DIR): how `serve` hands a key's flags to the session's own
    /// process. The destructuring is exhaustive, so a new flag cannot be
    /// added without deciding its word here.
    pub fn flag_words(&self) -> Vec<String> {
        let WrapperFlags {
            mode,
            munge,
            no_del,
            no_lock,
            no_overwrite,
            blind,
            snapshot,
            limits,
            root: _,
        } = self;
        let mut w: Vec<String> = match mode {
            Mode::ReadOnly => vec!["-ro".into()],
            Mode::WriteOnly => vec!["-wo".into()],
            Mode::ReadWrite => vec![],
        };
        for (on, name) in [
            (munge, "-munge"),
            (no_del, "-no-del"),
            (no_lock, "-no-lock"),
            (no_overwrite, "-no-overwrite"),
            (blind, "-blind"),
            (snapshot, "-snapshot"),
        ] {
            if *on {
                w.push(name.into());
            }
        }
        let Limits { bytes, files } = limits;
        if let Some(n) = bytes {
            w.push(format!("-max-bytes={n}"));
        }
        if let Some(n) = files {
            w.push(format!("-max-files={n}"));
        }
        w
    }
}

/// What one push may add (`-max-bytes=N`, `-max-files=N`); `None` is
/// no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    /// Bytes written into files.
    pub bytes: Option<u64>,
    /// Names created (files, directories, links, nodes).
    pub files: Option<u64>,
}

/// What our command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    /// Serve the request in `SSH_ORIGINAL_COMMAND` beneath `root`.
    Forced(WrapperFlags),
    /// Act as an rsync `-e` program: serve `command` directly.
    Local {
        /// The wrapper flags.
        flags: WrapperFlags,
        /// The remote command, words joined by single spaces.
        command: String,
    },
    /// `-h`, `-help`, `--help`.
    Help,
    /// `-V`, `--version`.
    Version,
    /// `serve ...`: the embedded SSH server (arguments parsed by `ssh`).
    Serve(Vec<OsString>),
    /// `authorize ...`: print or append an authorized_keys line.
    Authorize(Vec<OsString>),
    /// `check ...`: lint an authorized_keys file.
    Check(Vec<OsString>),
    /// `prune DIR --keep-...`: remove old snapshots.
    Prune(Vec<OsString>),
    /// `completions SHELL`.
    Completions(Vec<OsString>),
    /// `man [--out DIR]`.
    Man(Vec<OsString>),
    /// `help [SUB]`.
    HelpOn(Option<OsString>),
}

const USAGE_LINE: &str = "usage: rrsync-rs [-ro|-wo] [-munge] [-no-del] [-no-lock] [-no-overwrite] [-blind] [-snapshot] [-max-bytes=N] [-max-files=N] DIR";

/// The help text: every flag and what it refuses; the options refused
/// everywhere come from the option table.
pub fn usage() -> String {
    let mut s = String::from(USAGE_HEAD);
    s.push_str(&wrap(&super::opt_table::refused_paragraph(), 72));
    s.push_str(USAGE_TAIL);
    s
}

/// `text` broken into lines of at most `width` characters at spaces.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut len = 0;
    for w in text.split(' ') {
        if len > 0 && len + 1 + w.len() > width {
            out.push('\n');
            len = 0;
        } else if len > 0 {
            out.push(' ');
            len += 1;
        }
        out.push_str(w);
        len += w.len();
    }
    out.push('\n');
    out
}

const USAGE_HEAD: &str =
    "usage: rrsync-rs [-ro|-wo] [-munge] [-no-del] [-no-lock] [-no-overwrite] [-blind]
                 [-snapshot] [-max-bytes=N] [-max-files=N] DIR
       rrsync-rs local [FLAGS] DIR [-l USER] HOST rsync --server ...
       rrsync-rs authorize [FLAGS] DIR [KEY.pub|-] [--append FILE] [--replace]
       rrsync-rs authorize --list | --remove KEY|FINGERPRINT [--file FILE]
       rrsync-rs serve [--listen [HOST:]PORT] [OPTIONS] [[FLAGS] DIR]
       rrsync-rs check [FILE | --line LINE] [--migrate]
       rrsync-rs prune DIR [--keep-last N] [--keep-daily N] [--keep-weekly N]
                 [--keep-monthly N] [--keep-yearly N] [--yes]
       rrsync-rs completions bash|zsh|fish
       rrsync-rs man [--out DIR]
       rrsync-rs help [SUBCOMMAND]

A restricted rsync server for an SSH forced command. It serves the request in
SSH_ORIGINAL_COMMAND beneath DIR (relative to $HOME if not absolute) and
refuses everything else.

  -ro            read only: clients may pull but not push; implies -no-del and
                 -no-lock; refuses --remove-source-files
  -wo            write only: clients may push but not pull; refuses a remote
                 --files-from file; block sums sent to a pushing client are
                 never finer than rsync's default block size (whatever -B
                 asks) and none at all for a file the client may not replace
  -munge         force --munge-links so stored symlinks cannot be followed
  -no-del        refuse --delete, --delete-*, --remove-source-files
  -no-lock       do not take the single-run lock on DIR
  -no-overwrite  force --ignore-existing; refuse --inplace, --append,
                 --backup, --backup-dir, --partial-dir, --delay-updates
  -blind         send a pushing client no block sums at all (every file is a
                 whole-file transfer) and let -c compare no contents, so a
                 drop box reveals nothing about what it holds
  -snapshot      every push goes into a new snapshot DIR/.snapshots/<UTC time>,
                 hard-linked to the previous one and published as DIR/latest
                 when it ends well; earlier snapshots are out of reach;
                 refuses --inplace, --append, --*-dest, --log-file
  -max-bytes=N   a push may write at most N bytes (rsync sizes: 10G)
  -max-files=N   a push may create at most N names
  -audit FILE    append a JSON line per session to FILE (`-` = stderr);
                 RRSYNC_AUDIT=FILE does the same
  -h, --help     print this help
  -V, --version  print the version

";

const USAGE_TAIL: &str = "
Paths may not contain `..`. --log-file=FILE is allowed beneath DIR,
except under -ro and -no-overwrite.

Flags may come before or after DIR. A DIR named like a subcommand (help,
serve, check, ...) must be written `./help` or after `--`. Each subcommand
has its own --help (or `rrsync-rs help SUBCOMMAND`).

The `local` form lets rsync run rrsync-rs as its remote shell:
  rsync -av -e 'rrsync-rs local -wo /srv/dir' src/ host:dst/
authorized_keys example:
  command=\"/usr/local/bin/rrsync-rs -ro /srv/dir\",restrict ssh-ed25519 AAAA...
";

/// The one-line hint printed when `SSH_ORIGINAL_COMMAND` is unset.
pub fn hint_line(exe: &str) -> String {
    format!(
        "rrsync-rs: not invoked via sshd; use it in authorized_keys as \
         command=\"{exe} -ro /srv/dir\",restrict ssh-ed25519 AAAA..."
    )
}

/// Parses our argv (without argv\[0\]); a relative DIR is resolved
/// against `$HOME` in the forced form.
pub fn parse_args(args: &[OsString]) -> Result<Invocation, CliError> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    parse_args_with_home(args, home.as_deref())
}

/// [`parse_args`] with an explicit home directory (for tests).
pub fn parse_args_with_home(
    args: &[OsString],
    home: Option<&Path>,
) -> Result<Invocation, CliError> {
    match args.split_first() {
        Some((first, rest)) if first == "local" => parse_local(rest),
        Some((first, rest)) if first == "serve" => Ok(Invocation::Serve(rest.to_vec())),
        Some((first, rest)) if first == "authorize" => Ok(Invocation::Authorize(rest.to_vec())),
        Some((first, rest)) if first == "check" => Ok(Invocation::Check(rest.to_vec())),
        Some((first, rest)) if first == "prune" => Ok(Invocation::Prune(rest.to_vec())),
        Some((first, rest)) if first == "completions" => Ok(Invocation::Completions(rest.to_vec())),
        Some((first, rest)) if first == "man" => Ok(Invocation::Man(rest.to_vec())),
        Some((first, rest)) if first == "help" => Ok(Invocation::HelpOn(rest.first().cloned())),
        _ => parse_forced(args, home),
    }
}

fn usage_error(msg: String) -> CliError {
    CliError::Usage(format!("rrsync-rs: {msg}; {USAGE_LINE}"))
}

/// Flags seen so far.
#[derive(Default)]
struct Seen {
    ro: bool,
    wo: bool,
    munge: bool,
    no_del: bool,
    no_lock: bool,
    no_overwrite: bool,
    blind: bool,
    snapshot: bool,
    limits: Limits,
}

enum Word {
    Flag,
    Help,
    Version,
    EndOfFlags,
    Positional,
}

impl Seen {
    fn word(&mut self, w: &OsString) -> Result<Word, CliError> {
        let Some(s) = w.to_str() else {
            return Ok(Word::Positional);
        };
        match s {
            "-ro" => self.ro = true,
            "-wo" => self.wo = true,
            "-munge" => self.munge = true,
            "-no-del" => self.no_del = true,
            "-no-lock" => self.no_lock = true,
            "-no-overwrite" => self.no_overwrite = true,
            "-blind" => self.blind = true,
            "-snapshot" => self.snapshot = true,
            "-h" | "-help" | "--help" => return Ok(Word::Help),
            "-V" | "--version" => return Ok(Word::Version),
            "--" => return Ok(Word::EndOfFlags),
            _ if s.starts_with("-max-bytes=") || s.starts_with("-max-files=") => self.limit(s)?,
            _ if s.starts_with('-') && s != "-" => {
                return Err(usage_error(format!("unknown flag `{}`", snippet(s))));
            }
            _ => return Ok(Word::Positional),
        }
        Ok(Word::Flag)
    }

    /// `-max-bytes=N` (an rsync size: `10G`, `500M`) or `-max-files=N`.
    fn limit(&mut self, s: &str) -> Result<(), CliError> {
        let (name, value) = s.split_once('=').unwrap_or((s, ""));
        let (slot, opt) = if name == "-max-bytes" {
            (&mut self.limits.bytes, "-max-bytes")
        } else {
            (&mut self.limits.files, "-max-files")
        };
        let n =
            super::numbers::parse_size(opt, value, b'b').map_err(|e| usage_error(e.to_string()))?;
        *slot = Some(n);
        Ok(())
    }

    fn into_flags(self, root: PathBuf) -> Result<WrapperFlags, CliError> {
        let mode = match (self.ro, self.wo) {
            (true, true) => return Err(usage_error("-ro and -wo cannot be combined".into())),
            (true, false) => Mode::ReadOnly,
            (false, true) => Mode::WriteOnly,
            (false, false) => Mode::ReadWrite,
        };
        if self.snapshot && self.ro {
            return Err(usage_error(
                "-snapshot is for keys that push; not with -ro".into(),
            ));
        }
        Ok(WrapperFlags {
            mode,
            munge: self.munge,
            no_del: self.no_del || self.ro,
            no_lock: self.no_lock || self.ro,
            no_overwrite: self.no_overwrite,
            blind: self.blind,
            snapshot: self.snapshot,
            limits: self.limits,
            root,
        })
    }
}

/// `[flags] DIR [flags]`, flags in any order as argparse allows.
fn parse_forced(args: &[OsString], home: Option<&Path>) -> Result<Invocation, CliError> {
    let mut seen = Seen::default();
    let mut dir: Option<&OsString> = None;
    let mut flags_done = false;
    for a in args {
        let kind = if flags_done {
            Word::Positional
        } else {
            seen.word(a)?
        };
        match kind {
            Word::Flag => {}
            Word::Help => return Ok(Invocation::Help),
            Word::Version => return Ok(Invocation::Version),
            Word::EndOfFlags => flags_done = true,
            Word::Positional if dir.is_none() => dir = Some(a),
            Word::Positional => {
                return Err(usage_error(format!(
                    "unexpected argument `{}`",
                    snippet(&a.to_string_lossy())
                )));
            }
        }
    }
    let dir = dir.ok_or_else(|| usage_error("missing DIR".into()))?;
    let root = resolve_root(dir, home);
    Ok(Invocation::Forced(seen.into_flags(root)?))
}

/// Joins a relative DIR to the home directory (sshd runs forced commands
/// there); keeps it as given when HOME is unknown.
fn resolve_root(dir: &OsString, home: Option<&Path>) -> PathBuf {
    let p = PathBuf::from(dir);
    match home {
        Some(h) if p.is_relative() => h.join(p),
        _ => p,
    }
}

/// `local [flags] DIR [-l USER] HOST WORD...`; DIR is used as given.
fn parse_local(args: &[OsString]) -> Result<Invocation, CliError> {
    let mut seen = Seen::default();
    let mut i = 0;
    let mut dir = None;
    while let Some(a) = args.get(i) {
        i += 1;
        match seen.word(a)? {
            Word::Flag => {}
            Word::Help => return Ok(Invocation::Help),
            Word::Version => return Ok(Invocation::Version),
            Word::EndOfFlags => {
                dir = args.get(i);
                i += 1;
                break;
            }
            Word::Positional => {
                dir = Some(a);
                break;
            }
        }
    }
    let dir = dir.ok_or_else(|| usage_error("local: missing DIR".into()))?;
    let mut rest = args.get(i..).unwrap_or(&[]);
    if let Some((l, tail)) = rest.split_first() {
        if l == "-l" {
            rest = tail
                .get(1..)
                .ok_or_else(|| usage_error("local: -l needs a user".into()))?;
        } else if l
            .to_str()
            .is_some_and(|s| s.starts_with("-l") && s.len() > 2)
        {
            rest = tail;
        }
    }
    let (host, words) = rest
        .split_first()
        .ok_or_else(|| usage_error("local: missing HOST".into()))?;
    if host.to_str().is_none_or(|h| h.starts_with('-')) {
        return Err(usage_error("local: bad HOST".into()));
    }
    if words.is_empty() {
        return Err(usage_error("local: missing remote command".into()));
    }
    let mut parts = Vec::with_capacity(words.len());
    for w in words {
        let s = w
            .to_str()
            .ok_or_else(|| usage_error("local: remote command is not UTF-8".into()))?;
        parts.push(s);
    }
    let flags = seen.into_flags(PathBuf::from(dir))?;
    Ok(Invocation::Local {
        flags,
        command: parts.join(" "),
    })
}
