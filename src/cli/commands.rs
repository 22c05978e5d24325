//! The operator's subcommands (`serve`, `authorize`, `check`,
//! `completions`, `man`), whose command lines clap reads. The forced
//! command's own flags (`-ro`, `-wo`, `-no-del` ...) keep rrsync's single
//! dash syntax (`support/rrsync`) and its hand-written parser
//! ([`super::wrapper`]): where a subcommand also takes them (`serve`'s
//! default DIR, `authorize`'s key line), [`split_flags`] lifts them out of
//! the argv before clap sees the rest. Independent of the rsync protocol.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{CommandFactory, Parser};

/// The version text every subcommand prints for `--version`.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (rsync protocol 27-32)");

/// The rrsync-style flags a subcommand accepts, for its usage line.
const FLAGS: &str = "[-ro|-wo] [-munge] [-no-del] [-no-lock] [-no-overwrite] [-blind]";

fn positive(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err("needs a positive number".into()),
    }
}

fn seconds(s: &str) -> Result<u64, String> {
    positive(s).map(|n| n as u64)
}

/// `rrsync-rs serve`: the embedded SSH server.
#[derive(Parser, Debug, Clone, PartialEq, Eq)]
#[command(
    name = "rrsync-rs-serve",
    bin_name = "rrsync-rs serve",
    version = VERSION,
    override_usage = "rrsync-rs serve [OPTIONS] [[-ro|-wo] [-munge] [-no-del] [-no-lock] [-no-overwrite] [-blind] DIR]",
    about = "An SSH server that only serves rsync",
    long_about = "An SSH server that only serves rsync. Each key in the authorized_keys file \
(default ~/.ssh/authorized_keys) needs command=\"rrsync-rs [FLAGS] DIR\"; keys without one \
are refused unless a default [FLAGS] DIR is given here. Each session runs in a process of \
its own. SIGHUP re-reads the keys file and reopens the --audit and --log files; SIGTERM or \
SIGINT stops accepting and waits for running sessions."
)]
pub struct ServeCli {
    /// Listen address, repeatable: PORT (all IPv4 addresses, 0.0.0.0:PORT),
    /// HOST:PORT or [IPV6]:PORT [default: 127.0.0.1:2222]
    #[arg(long, value_name = "ADDR")]
    pub listen: Vec<String>,
    /// ed25519 host key, created 0600 if missing
    /// [default: ~/.config/rrsync-rs/ssh_host_ed25519_key]
    #[arg(long, value_name = "FILE")]
    pub host_key: Option<PathBuf>,
    /// The keys file [default: ~/.ssh/authorized_keys]
    #[arg(long, value_name = "FILE")]
    pub authorized_keys: Option<PathBuf>,
    /// Authenticated connections at once
    #[arg(long, value_name = "N", default_value = "32", value_parser = positive)]
    pub max_sessions: usize,
    /// Unauthenticated connections: from S on, drop new ones with a chance
    /// rising from R% to 100% at F (sshd's MaxStartups) [default: 20:30:100]
    #[arg(long, value_name = "S:R:F")]
    pub max_startups: Option<String>,
    /// The same as --max-startups with F = N
    #[arg(long, value_name = "N", value_parser = positive)]
    pub max_unauth: Option<usize>,
    /// Unauthenticated connections per address (IPv6: per /64) [default: 8]
    #[arg(long, value_name = "N", value_parser = positive)]
    pub per_source_max_startups: Option<usize>,
    /// Connect-to-authentication deadline in seconds
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = seconds)]
    pub login_grace_time: u64,
    /// Connect-to-command deadline in seconds
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = seconds)]
    pub handshake_timeout: u64,
    /// Close a connection silent this many seconds
    #[arg(long, value_name = "SECS", default_value = "7200", value_parser = seconds)]
    pub idle_timeout: u64,
    /// Append one JSON line per connection to FILE
    #[arg(long, value_name = "FILE")]
    pub audit: Option<PathBuf>,
    /// Where the log goes: stderr (the default), journald (the systemd
    /// journal; stderr if it cannot be reached) or FILE (appended, reopened
    /// on SIGHUP)
    #[arg(long, value_name = "FILE|journald|stderr")]
    pub log: Option<PathBuf>,
    /// full: a UTC timestamp on each line; short: none (for a journal
    /// that stamps what it captures)
    #[arg(long, value_name = "FORMAT", value_enum, default_value_t)]
    pub log_format: crate::logging::Format,
    /// Log more: debug, then trace (repeatable)
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Log less: warnings only, then errors only, then nothing (repeatable)
    #[arg(short, long, action = clap::ArgAction::Count, conflicts_with = "verbose")]
    pub quiet: u8,
    /// (as root) the login name selects a Unix account: its
    /// ~/.ssh/authorized_keys is read and its sessions run as that account
    #[arg(long)]
    pub user_keys: bool,
    /// With --user-keys, let the login root run sessions as root
    #[arg(long, requires = "user_keys")]
    pub permit_root_login: bool,
    /// Root for keys without command=, after the rrsync flags of the forced
    /// command (-ro, -wo, -munge, -no-del, -no-lock, -no-overwrite, -blind)
    #[arg(value_name = "DIR", value_hint = clap::ValueHint::DirPath)]
    pub dir: Option<PathBuf>,
    /// The rrsync-style flags before DIR (see [`split_flags`]).
    #[arg(skip)]
    pub flags: Vec<String>,
}

/// `rrsync-rs authorize`: write, list or remove `authorized_keys` lines.
#[derive(Parser, Debug, Clone, PartialEq, Eq)]
#[command(
    name = "rrsync-rs-authorize",
    bin_name = "rrsync-rs authorize",
    version = VERSION,
    override_usage = "rrsync-rs authorize [-ro|-wo] [-munge] [-no-del] [-no-lock] [-no-overwrite] [-blind] DIR [KEY.pub|-] [OPTIONS]\n       rrsync-rs authorize --list [--file FILE]\n       rrsync-rs authorize --remove KEY|FINGERPRINT [--file FILE]",
    about = "Write the authorized_keys line that runs rrsync-rs for a key",
    long_about = "Prints the authorized_keys line command=\"/path/rrsync-rs FLAGS DIR\",restrict KEY \
for the public key in KEY.pub (or stdin), after reading it back the way sshd and serve will. \
With --append FILE (alias --file) the line is added to FILE (refused when the key is there \
already, unless --replace). Run as root, the file and its directory are given to --user NAME, \
or by default to the owner of the file's directory, with mode 0600 (0700 for the directory)."
)]
pub struct AuthorizeCli {
    /// The directory the key may use (first positional word)
    #[arg(value_name = "DIR", value_hint = clap::ValueHint::DirPath)]
    pub dir: Option<PathBuf>,
    /// The public key file; `-` or nothing reads stdin
    #[arg(value_name = "KEY.pub", value_hint = clap::ValueHint::FilePath)]
    pub key: Option<PathBuf>,
    /// The authorized_keys file to change or read
    /// (--list and --remove: default ~/.ssh/authorized_keys)
    #[arg(long, visible_alias = "file", value_name = "FILE")]
    pub append: Option<PathBuf>,
    /// Replace the line that holds the same key instead of refusing
    #[arg(long, requires = "append")]
    pub replace: bool,
    /// Remove every line holding this key (a .pub file, `TYPE BASE64` or a
    /// SHA256: fingerprint)
    #[arg(long, value_name = "KEY|FINGERPRINT", conflicts_with_all = ["list", "replace"])]
    pub remove: Option<String>,
    /// List the keys of the file: type, fingerprint, comment, what each grants
    #[arg(long, conflicts_with = "replace")]
    pub list: bool,
    /// The account that owns the file written (as root) [default: the owner of
    /// the file's directory]
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// The rrsync-rs path to put in the line [default: this program]
    #[arg(long, value_name = "PATH")]
    pub program: Option<PathBuf>,
    /// Add `-audit LOG` to the command (also written `-audit LOG`)
    #[arg(long, value_name = "LOG")]
    pub audit: Option<PathBuf>,
    /// The rrsync-style flags (see [`split_flags`]).
    #[arg(skip)]
    pub flags: Vec<String>,
}

/// `rrsync-rs check`: lint an authorized_keys file or one line.
#[derive(Parser, Debug, Clone, PartialEq, Eq)]
#[command(
    name = "rrsync-rs-check",
    bin_name = "rrsync-rs check",
    version = VERSION,
    about = "Lint an authorized_keys file the way sshd and serve read it",
    long_about = "Reads an authorized_keys file (default ~/.ssh/authorized_keys) or one line \
and prints, per key line, the key's type and SHA256 fingerprint, its command (rrsync-rs or \
not) with root, mode and flags, and every problem found: `$` or `~` in command= (serve does \
not expand them, sshd's shell would), a program that does not exist or lies in a target/ build directory, no \
`restrict`, options serve cannot enforce, duplicate keys, an RSA key under 2048 bits, a \
root that does not exist, a group- or world-writable file or directory, a wrong owner. \
Exits 1 when it finds a problem. With --migrate, each line that runs rsync's rrsync script \
is printed as the rrsync-rs line with the same flags and `restrict`."
)]
pub struct CheckCli {
    /// The authorized_keys file [default: ~/.ssh/authorized_keys]
    #[arg(value_name = "FILE", value_hint = clap::ValueHint::FilePath, conflicts_with = "line")]
    pub file: Option<PathBuf>,
    /// Check this one line instead of a file
    #[arg(long, value_name = "LINE")]
    pub line: Option<String>,
    /// Print rrsync-rs lines for the lines that run rsync's rrsync script
    #[arg(long)]
    pub migrate: bool,
    /// The rrsync-rs path for --migrate [default: this program]
    #[arg(long, value_name = "PATH")]
    pub program: Option<PathBuf>,
}

/// `rrsync-rs prune DIR --keep-...`: the operator's snapshot retention.
#[derive(Parser, Debug, Clone, PartialEq, Eq)]
#[command(
    name = "rrsync-rs-prune",
    bin_name = "rrsync-rs prune",
    version = VERSION,
    about = "Remove old snapshots of a -snapshot directory by a retention policy",
    long_about = "Lists the snapshots in DIR/.snapshots and says which ones the policy keeps and why. A snapshot is kept when any rule keeps it: --keep-last N keeps the N newest, --keep-daily N the newest of each of the last N days that have one, and --keep-weekly, --keep-monthly and --keep-yearly the same per ISO week, month and year (UTC). The snapshot `latest` points to, the newest one and a push in progress are never removed, so prune is safe to run from cron while a push runs. Nothing is removed without --yes."
)]
pub struct PruneCli {
    /// The served directory (the one given to -snapshot keys)
    #[arg(value_name = "DIR", value_hint = clap::ValueHint::DirPath)]
    pub dir: PathBuf,
    /// Keep the N newest snapshots
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub keep_last: usize,
    /// Keep the newest snapshot of each of the last N days
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub keep_daily: usize,
    /// Keep the newest snapshot of each of the last N ISO weeks
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub keep_weekly: usize,
    /// Keep the newest snapshot of each of the last N months
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub keep_monthly: usize,
    /// Keep the newest snapshot of each of the last N years
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub keep_yearly: usize,
    /// Remove what the policy does not keep (without it, only say so)
    #[arg(long)]
    pub yes: bool,
}

/// The shells `completions` writes for.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shell {
    /// GNU bash
    Bash,
    /// Z shell
    Zsh,
    /// fish
    Fish,
}

/// `rrsync-rs completions SHELL`.
#[derive(Parser, Debug, Clone, PartialEq, Eq)]
#[command(
    name = "rrsync-rs-completions",
    bin_name = "rrsync-rs completions",
    version = VERSION,
    about = "Print a shell completion script for rrsync-rs"
)]
pub struct CompletionsCli {
    /// The shell
    #[arg(value_enum)]
    pub shell: Shell,
}

/// `rrsync-rs man [--out DIR]`.
#[derive(Parser, Debug, Clone, PartialEq, Eq)]
#[command(
    name = "rrsync-rs-man",
    bin_name = "rrsync-rs man",
    version = VERSION,
    about = "Write the manual pages rrsync-rs.1 and rrsync-rs-SUBCOMMAND.1"
)]
pub struct ManCli {
    /// The directory to write the pages to
    #[arg(long, value_name = "DIR", default_value = ".", value_hint = clap::ValueHint::DirPath)]
    pub out: PathBuf,
}

/// Parses a subcommand's words with clap. `--help` and `--version` print
/// to stdout and give `Err(0)`; a usage error prints to stderr and gives
/// `Err(1)` (rsync's syntax-error code).
pub fn parse<T: Parser>(words: Vec<OsString>) -> Result<T, i32> {
    let argv = std::iter::once(OsString::from("rrsync-rs")).chain(words);
    T::try_parse_from(argv).map_err(|e| {
        let _ = e.print();
        i32::from(e.use_stderr())
    })
}

/// Lifts the rrsync-style flags (single dash, more than one letter, as
/// `-ro`) out of `args`, leaving clap the rest: `(flags, rest)`. The word
/// after an option of `cmd` that takes a value stays with that option;
/// `-audit LOG` becomes `--audit LOG`; after `--` nothing is lifted.
pub fn split_flags(cmd: &clap::Command, args: &[OsString]) -> (Vec<String>, Vec<OsString>) {
    let valued: Vec<String> = cmd
        .get_arguments()
        .filter(|a| a.get_action().takes_values() && a.get_long().is_some())
        .flat_map(|a| a.get_long_and_visible_aliases().unwrap_or_default())
        .map(|l| format!("--{l}"))
        .collect();
    let (mut flags, mut rest) = (Vec::new(), Vec::new());
    let mut it = args.iter();
    while let Some(w) = it.next() {
        let s = w.to_str().unwrap_or_default();
        if s == "--" {
            rest.push(w.clone());
            rest.extend(it.by_ref().cloned());
        } else if s == "-audit" {
            rest.push("--audit".into());
            rest.extend(it.next().cloned());
        } else if valued.iter().any(|v| v == s) {
            rest.push(w.clone());
            rest.extend(it.next().cloned());
        } else if !s.starts_with("--")
            && s.starts_with('-')
            && s.chars().count() > 2
            && !repeated_short(s)
        {
            flags.push(s.to_string());
        } else {
            rest.push(w.clone());
        }
    }
    (flags, rest)
}

/// `-vv`, `-qqq`: clap's repeated counting flags, not rrsync's.
fn repeated_short(s: &str) -> bool {
    let letters = s.trim_start_matches('-');
    ["v", "q"]
        .iter()
        .any(|l| letters.len() > 1 && letters.chars().all(|c| l.starts_with(c)))
}

/// [`parse`] for a subcommand that takes rrsync-style flags too.
pub fn parse_with_flags<T: Parser>(words: &[OsString]) -> Result<(T, Vec<String>), i32> {
    let (flags, rest) = split_flags(&T::command(), words);
    parse::<T>(rest).map(|t| (t, flags))
}

/// The names `help SUB` and the dispatcher know.
pub const SUBCOMMANDS: &[&str] = &["serve", "authorize", "check", "prune", "completions", "man"];

/// A subcommand's clap command by name.
pub fn sub_command(name: &str) -> Option<clap::Command> {
    Some(match name {
        "serve" => ServeCli::command(),
        "authorize" => AuthorizeCli::command(),
        "check" => CheckCli::command(),
        "prune" => PruneCli::command(),
        "completions" => CompletionsCli::command(),
        "man" => ManCli::command(),
        _ => return None,
    })
}

/// `rrsync-rs help [SUB]`: the forced command's help, or SUB's.
pub fn help(sub: Option<&OsString>) -> i32 {
    let Some(name) = sub else {
        print!("{}", super::usage());
        return 0;
    };
    match name.to_str().and_then(sub_command) {
        Some(mut c) => {
            print!("{}", c.render_long_help());
            0
        }
        None => {
            eprintln!(
                "rrsync-rs help: no subcommand `{}` (one of: {})",
                super::snippet(&name.to_string_lossy()),
                SUBCOMMANDS.join(", ")
            );
            1
        }
    }
}

/// The whole program as one clap command (for completions and the manual
/// page): the forced form's DIR, then the subcommands.
pub fn program() -> clap::Command {
    let sub =
        |c: clap::Command, name: &'static str| c.name(name).bin_name(format!("rrsync-rs {name}"));
    clap::Command::new("rrsync-rs")
        .version(VERSION)
        .disable_help_subcommand(true)
        .about("A restricted rsync server for an SSH forced command")
        .override_usage(format!(
            "rrsync-rs {FLAGS} [-audit FILE] DIR\n       rrsync-rs local [FLAGS] DIR [-l USER] HOST rsync --server ...\n       rrsync-rs SUBCOMMAND ..."
        ))
        .long_about(
            "Serves the rsync request in SSH_ORIGINAL_COMMAND beneath DIR (relative to $HOME if \
not absolute) and refuses everything else. Use it in authorized_keys as \
command=\"/usr/local/bin/rrsync-rs -ro /srv/dir\",restrict ssh-ed25519 AAAA...",
        )
        .arg(
            clap::Arg::new("DIR")
                .value_hint(clap::ValueHint::DirPath)
                .help("The directory clients may use (after the flags below)"),
        )
        .subcommand(sub(ServeCli::command(), "serve"))
        .subcommand(sub(AuthorizeCli::command(), "authorize"))
        .subcommand(sub(CheckCli::command(), "check"))
        .subcommand(sub(PruneCli::command(), "prune"))
        .subcommand(sub(CompletionsCli::command(), "completions"))
        .subcommand(sub(ManCli::command(), "man"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<OsString> {
        s.iter().map(OsString::from).collect()
    }

    #[test]
    fn flags_are_lifted_but_option_values_stay() {
        let (f, rest) = split_flags(
            &ServeCli::command(),
            &v(&[
                "--log", "-weird", "-ro", "/srv", "-no-del", "-audit", "a.log",
            ]),
        );
        assert_eq!(f, ["-ro", "-no-del"]);
        assert_eq!(rest, v(&["--log", "-weird", "/srv", "--audit", "a.log"]));
        let (f, rest) = split_flags(&ServeCli::command(), &v(&["--", "-ro"]));
        assert!(f.is_empty());
        assert_eq!(rest, v(&["--", "-ro"]));
        // Repeated -v and -q are clap's counts, not rrsync flags.
        let (f, rest) = split_flags(&ServeCli::command(), &v(&["-vv", "-qq", "-vq", "-ro"]));
        assert_eq!(f, ["-vq", "-ro"]);
        assert_eq!(rest, v(&["-vv", "-qq"]));
    }

    #[test]
    fn clap_definitions_are_consistent() {
        program().debug_assert();
        let (a, f) =
            parse_with_flags::<AuthorizeCli>(&v(&["-ro", "/srv", "k.pub", "--file", "x"])).unwrap();
        assert_eq!(f, ["-ro"]);
        assert_eq!(a.append, Some(PathBuf::from("x")));
        assert_eq!(a.key, Some(PathBuf::from("k.pub")));
        assert_eq!(
            parse::<ServeCli>(v(&["--max-sessions", "0"])).unwrap_err(),
            1
        );
        assert_eq!(
            parse::<ServeCli>(v(&["--permit-root-login"])).unwrap_err(),
            1
        );
    }
}
