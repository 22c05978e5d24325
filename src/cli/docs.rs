//! `rrsync-rs completions SHELL` and `rrsync-rs man [--out DIR]`: shell
//! completions (clap_complete) and manual pages (clap_mangen) generated
//! from the subcommands' clap definitions. The forced command's flags are
//! rrsync's (single dash, `support/rrsync`), not clap's: the page
//! `rrsync-rs.1` describes them in a section of its own, written here
//! from [`FORCED_FLAGS`]. Independent of the rsync protocol.

use std::ffi::OsString;
use std::io::Write;
use std::path::Path;

use super::commands::{self, CompletionsCli, ManCli, Shell};

/// The forced command's flags and what each does, for the manual page.
pub const FORCED_FLAGS: &[(&str, &str)] = &[
    ("-ro", "Read only: clients may pull but not push; implies -no-del and -no-lock; refuses --remove-source-files."),
    ("-wo", "Write only: clients may push but not pull; refuses a remote --files-from file; block sums sent to a pushing client are never finer than rsync's default block size, and none at all for a file the client may not replace."),
    ("-munge", "Force --munge-links so stored symlinks cannot be followed."),
    ("-no-del", "Refuse --delete, --delete-*, --remove-source-files."),
    ("-no-lock", "Do not take the single-run lock on DIR."),
    ("-no-overwrite", "Force --ignore-existing; refuse --inplace, --append, --backup, --backup-dir, --partial-dir, --delay-updates."),
    ("-blind", "Send a pushing client no block sums at all (every file is a whole-file transfer) and let -c compare no contents, so a drop box reveals nothing about what it holds."),
    ("-audit FILE", "Append a JSON line per session to FILE (- is stderr); RRSYNC_AUDIT=FILE does the same. RRSYNC_LOG=journald sends a summary line per session to the systemd journal (never to stderr, which is the client's)."),
    ("-h, --help", "Print the help."),
    ("-V, --version", "Print the version."),
];

/// Runs `completions`; returns the exit code.
pub fn completions(args: Vec<OsString>) -> i32 {
    let a = match commands::parse::<CompletionsCli>(args) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let mut cmd = commands::program();
    let mut out = std::io::stdout();
    match a.shell {
        Shell::Bash => {
            clap_complete::generate(clap_complete::Shell::Bash, &mut cmd, "rrsync-rs", &mut out)
        }
        Shell::Zsh => {
            clap_complete::generate(clap_complete::Shell::Zsh, &mut cmd, "rrsync-rs", &mut out)
        }
        Shell::Fish => {
            clap_complete::generate(clap_complete::Shell::Fish, &mut cmd, "rrsync-rs", &mut out)
        }
    }
    0
}

/// Runs `man`; returns the exit code.
pub fn man(args: Vec<OsString>) -> i32 {
    let a = match commands::parse::<ManCli>(args) {
        Ok(a) => a,
        Err(code) => return code,
    };
    match write_pages(&a.out) {
        Ok(names) => {
            for n in names {
                println!("{}", a.out.join(n).display());
            }
            0
        }
        Err(e) => {
            eprintln!("rrsync-rs man: {e}");
            1
        }
    }
}

/// Writes the pages (the program's and one per subcommand) into `dir`; returns their file names.
pub fn write_pages(dir: &Path) -> Result<Vec<String>, String> {
    let mut pages = vec![("rrsync-rs.1".to_string(), main_page())];
    for name in commands::SUBCOMMANDS {
        let Some(cmd) = commands::sub_command(name) else {
            continue;
        };
        let mut buf = Vec::new();
        clap_mangen::Man::new(cmd)
            .render(&mut buf)
            .map_err(|e| e.to_string())?;
        pages.push((format!("rrsync-rs-{name}.1"), buf));
    }
    let mut names = Vec::new();
    for (name, text) in pages {
        let path = dir.join(&name);
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        names.push(name);
    }
    Ok(names)
}

/// One of clap_mangen's section writers.
type Section = fn(&clap_mangen::Man, &mut dyn Write) -> std::io::Result<()>;

/// `rrsync-rs.1`: clap's sections for the program and its subcommands,
/// with the forced command's flags in a section of their own.
pub fn main_page() -> Vec<u8> {
    let man = clap_mangen::Man::new(commands::program());
    let mut w = Vec::new();
    let sections: [Section; 4] = [
        clap_mangen::Man::render_title,
        clap_mangen::Man::render_name_section,
        clap_mangen::Man::render_synopsis_section,
        clap_mangen::Man::render_description_section,
    ];
    for s in sections {
        let _ = s(&man, &mut w);
    }
    w.extend_from_slice(forced_flags_roff().as_bytes());
    let _ = man.render_subcommands_section(&mut w);
    let _ = man.render_version_section(&mut w);
    w
}

/// Escapes text for roff: backslashes, hyphens (as minus signs, so they
/// can be searched and copied) and a leading dot or quote.
fn roff_escape(s: &str) -> String {
    let t = s.replace('\\', "\\e").replace('-', "\\-");
    if t.starts_with('.') || t.starts_with('\'') {
        format!("\\&{t}")
    } else {
        t
    }
}

/// The section for [`FORCED_FLAGS`].
pub fn forced_flags_roff() -> String {
    let mut s = String::from(".SH \"FORCED-COMMAND FLAGS\"\n");
    s.push_str(&roff_escape(
        "These flags follow rrsync (a single dash); they may come before or after DIR.",
    ));
    s.push('\n');
    for (flag, text) in FORCED_FLAGS {
        s.push_str(&format!(
            ".TP\n\\fB{}\\fR\n{}\n",
            roff_escape(flag),
            roff_escape(text)
        ));
    }
    s.push_str(".PP\n");
    s.push_str(&roff_escape(&super::opt_table::refused_paragraph()));
    s.push('\n');
    s.push_str(".SH \"AUDIT LOG\"\n");
    s.push_str(&roff_escape(
        "-audit FILE (serve: --audit FILE) appends one JSON object per session. \
         Its fields, in this order, each absent when unknown:",
    ));
    s.push('\n');
    for (field, text) in crate::audit::FIELD_DOCS {
        s.push_str(&format!(
            ".TP\n\\fB{}\\fR\n{}\n",
            roff_escape(field),
            roff_escape(text)
        ));
    }
    s.push_str(".SH EXAMPLE\n");
    s.push_str(&roff_escape(
        "command=\"/usr/local/bin/rrsync-rs -ro /srv/dir\",restrict ssh-ed25519 AAAA...",
    ));
    s.push('\n');
    s
}
