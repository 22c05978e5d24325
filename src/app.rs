//! The application's dispatcher: reads our argv and picks what to run:
//! help, version, the forced command (`SSH_ORIGINAL_COMMAND`, rrsync's
//! `main()`), the `local` remote-shell form, `authorize` or `serve`. The
//! stdio driver ([`crate::driver`]) runs the forced command's session.

use std::ffi::OsString;

use crate::cli::{self, Invocation};

/// Entry point used by the binary; returns the exit code.
pub fn main_entry() -> i32 {
    let mut args: Vec<OsString> = std::env::args_os().skip(1).collect();
    #[cfg(feature = "ssh")]
    if args.first().is_some_and(|a| a == crate::ssh::child::ENTRY) {
        return crate::ssh::child::main(args.get(1..).unwrap_or_default());
    }
    let audit = crate::audit::take_flag(&mut args);
    let inv = match cli::parse_args(&args) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("{e}");
            return crate::error::exit_code(e);
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
                eprintln!("{}", no_command_line(under_sshd()));
                1
            }
            Some(cmd) => {
                let cmd = cmd.to_string_lossy();
                crate::audit::around("sshd", &flags, &cmd, audit.as_deref(), || {
                    crate::driver::serve_command(&flags, &cmd)
                })
            }
        },
        Invocation::Local { flags, command } => {
            crate::audit::around("local", &flags, &command, audit.as_deref(), || {
                crate::driver::serve_command(&flags, &command)
            })
        }
        other => subcommand(other),
    }
}

/// The operator's subcommands (clap-parsed, see [`cli::commands`]).
/// A key's `command=` that names a subcommand (a DIR called `check`,
/// `man` ...) is refused rather than run for a remote client.
fn subcommand(inv: Invocation) -> i32 {
    if std::env::var_os("SSH_ORIGINAL_COMMAND").is_some() {
        eprintln!("rrsync-rs: a subcommand is not run for a remote client (write DIR as ./NAME)");
        return 1;
    }
    match inv {
        Invocation::Authorize(args) => crate::authorize::run(&args),
        Invocation::HelpOn(sub) => cli::commands::help(sub.as_ref()),
        Invocation::Completions(args) => cli::docs::completions(args),
        Invocation::Man(args) => cli::docs::man(args),
        Invocation::Prune(args) => crate::prune::run(args),
        #[cfg(feature = "ssh")]
        Invocation::Serve(args) => crate::ssh::main(&args),
        #[cfg(feature = "ssh")]
        Invocation::Check(args) => crate::check::run(args),
        _ => {
            eprintln!(
                "rrsync-rs: this build has no `serve` or `check` (cargo feature `ssh` is off)"
            );
            1
        }
    }
}

/// Whether sshd started us (an interactive login on a forced-command key):
/// any of the variables sshd sets for a session.
fn under_sshd() -> bool {
    ["SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some())
}

/// The line printed when no `SSH_ORIGINAL_COMMAND` came. A remote user
/// (under sshd) learns only that the key runs rsync, nothing about the
/// server; a local operator gets the key-line hint with our path.
fn no_command_line(remote: bool) -> String {
    if remote {
        "this key only runs rsync".to_string()
    } else {
        let exe = std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| "rrsync-rs".into());
        cli::hint_line(&exe)
    }
}
