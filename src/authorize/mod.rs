//! `rrsync-rs authorize [FLAGS] DIR [KEY.pub|-] [--append FILE]`: writes
//! the `authorized_keys` line that installs rrsync-rs as a key's forced
//! command, the step rsync's `support/rrsync` leaves to a text editor.
//!
//! The line is `command="/abs/rrsync-rs FLAGS /abs/DIR",restrict KEY`. sshd
//! hands the command to the user's shell (`sh -c`), and reads the option
//! value with only one escape, `\"` (OpenSSH `auth-options.c`,
//! `opt_dequote`); so words are quoted for `sh` first ([`sh_quote`]) and
//! the result has its `"` escaped ([`option_value`]). The embedded server
//! reads the same line back with the inverse rules (`ssh::authkeys`).
//!
//! Nothing is written or printed before the line is proven to be one key
//! with the intended command: control characters (a newline would start a
//! second, unrestricted key line) are refused in every part, and the line
//! is read back with the parser `serve` uses, which must find exactly one
//! key, with our flags and root ([`verify`]).
//! Independent of the rsync protocol version.

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::cli::commands::{self, AuthorizeCli};
use crate::cli::{self, Invocation, WrapperFlags};

/// Key types sshd accepts in `authorized_keys`.
pub const KEY_TYPES: &[&str] = &[
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "ssh-dss",
];

mod file;
mod owner;

pub use file::{append, list, remove, write_file};
pub use owner::Owner;

/// The parsed `authorize` command line (the rrsync flags in `flags`).
pub type Args = AuthorizeCli;

/// Parses the words after `authorize`; `Err` carries the exit code after
/// the help, the version or the error was printed.
pub fn parse_args(args: &[OsString]) -> Result<Args, i32> {
    let (mut a, flags) = commands::parse_with_flags::<AuthorizeCli>(args)?;
    a.flags = flags;
    let fail = |e: String| {
        eprintln!("rrsync-rs authorize: {e}");
        1
    };
    match (&a.dir, a.list || a.remove.is_some()) {
        (None, false) => return Err(fail("missing DIR (see rrsync-rs authorize --help)".into())),
        (Some(_), true) => return Err(fail("--list and --remove take no DIR".into())),
        (Some(d), false) => {
            intended(&a.flags, d).map_err(fail)?;
        }
        (None, true) if !a.flags.is_empty() => {
            return Err(fail("--list and --remove take no flags".into()))
        }
        (None, true) => {}
    }
    Ok(a)
}

/// Quotes one word for `sh`, leaving plain words as they are.
pub fn sh_quote(w: &str) -> String {
    let plain = !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c));
    if plain {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', r"'\''"))
    }
}

/// Escapes a command for a `command="..."` option (sshd's `opt_dequote`
/// undoes exactly this).
pub fn option_value(cmd: &str) -> String {
    cmd.replace('"', "\\\"")
}

/// The key's words `TYPE BASE64 [COMMENT]` from a `.pub` file's text.
pub fn key_from_text(text: &str) -> Result<String, String> {
    if text.contains("PRIVATE KEY") {
        return Err("this is a private key; give the .pub file".into());
    }
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let Some(ty) = words.next() else { continue };
        if !KEY_TYPES.contains(&ty) {
            return Err(format!(
                "not an OpenSSH public key (starts with `{}`)",
                ty.chars().take(40).collect::<String>()
            ));
        }
        let b64 = words.next().unwrap_or_default();
        let b64_ok = b64.len() >= 16
            && b64
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c));
        if !b64_ok {
            return Err("the key's base64 field is missing or malformed".into());
        }
        let comment: Vec<&str> = words.collect();
        return Ok(if comment.is_empty() {
            format!("{ty} {b64}")
        } else {
            format!("{ty} {b64} {}", comment.join(" "))
        });
    }
    Err("no public key found".into())
}

/// The complete `authorized_keys` line.
pub fn line(program: &Path, flags: &[String], dir: &Path, key: &str) -> String {
    let mut cmd = sh_quote(&program.to_string_lossy());
    for f in flags {
        cmd.push(' ');
        cmd.push_str(&sh_quote(f));
    }
    cmd.push(' ');
    cmd.push_str(&sh_quote(&dir.to_string_lossy()));
    format!("command=\"{}\",restrict {key}", option_value(&cmd))
}

fn read_key(path: Option<&Path>) -> Result<String, String> {
    let text = match path {
        None => read_stdin()?,
        Some(p) if p == Path::new("-") => read_stdin()?,
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            if text.contains("PRIVATE KEY") {
                let mut pubp = p.as_os_str().to_owned();
                pubp.push(".pub");
                eprintln!(
                    "rrsync-rs authorize: warning: {} is a private key; using {}",
                    p.display(),
                    Path::new(&pubp).display()
                );
                return read_key(Some(Path::new(&pubp)));
            }
            text
        }
    };
    key_from_text(&text)
}

fn read_stdin() -> Result<String, String> {
    let mut s = String::new();
    std::io::stdin()
        .take(64 * 1024)
        .read_to_string(&mut s)
        .map_err(|e| format!("cannot read the key from stdin: {e}"))?;
    Ok(s)
}

/// Refuses text with control characters (newline, CR, tab, NUL, ...):
/// sshd reads one key a line, so a newline would start another line.
pub fn no_control(what: &str, text: &str) -> Result<(), String> {
    match text.chars().find(|c| c.is_control()) {
        Some(c) => Err(format!(
            "{what} contains a control character ({}); refusing to write a key line",
            c.escape_default()
        )),
        None => Ok(()),
    }
}

/// A path as UTF-8 text without control characters.
fn path_text<'a>(what: &str, p: &'a Path) -> Result<&'a str, String> {
    let t = p
        .to_str()
        .ok_or_else(|| format!("{what} is not valid UTF-8; refusing to write a key line"))?;
    no_control(what, t)?;
    Ok(t)
}

/// Reads `line` back the way `serve` will and checks that it holds exactly
/// one key, `key`, whose command is rrsync-rs with `want` (flags and root).
pub fn verify(line: &str, key: &str, want: &WrapperFlags) -> Result<(), String> {
    no_control("the key line", line)?;
    let bad = |why: &str| {
        Err(format!(
            "the key line does not read back as intended ({why})"
        ))
    };
    if line.lines().count() != 1 {
        return bad("not one line");
    }
    if !line.ends_with(key) {
        return bad("the key is not at its end");
    }
    #[cfg(feature = "ssh")]
    {
        let (entries, warnings) = crate::ssh::authkeys::parse(line, None, None);
        if let Some(w) = warnings.first() {
            return bad(w);
        }
        match entries.as_slice() {
            [e] if e.flags == *want => {}
            [_] => return bad("other flags or root"),
            _ => return bad("not exactly one key"),
        }
    }
    #[cfg(not(feature = "ssh"))]
    let _ = want;
    Ok(())
}

/// The flags and root the forced command will run with.
fn intended(flags: &[String], dir: &Path) -> Result<WrapperFlags, String> {
    let mut probe: Vec<OsString> = flags.iter().map(OsString::from).collect();
    probe.push(OsString::from("--"));
    probe.push(dir.as_os_str().to_owned());
    match cli::parse_args_with_home(&probe, None) {
        Ok(Invocation::Forced(f)) => Ok(f),
        Ok(_) => Err("-h/-V are not flags of a key".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// Runs the subcommand; returns the exit code.
pub fn run(args: &[OsString]) -> i32 {
    let a = match parse_args(args) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let result = if a.list {
        list(&keys_file(&a)).map(|_| ())
    } else if let Some(k) = &a.remove {
        remove_key(&a, k)
    } else {
        build(&a).map(|line| println!("{line}"))
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("rrsync-rs authorize: {e}");
            1
        }
    }
}

/// The file `--list` and `--remove` read: `--file`, else the invoking
/// user's `~/.ssh/authorized_keys`.
fn keys_file(a: &Args) -> PathBuf {
    a.append.clone().unwrap_or_else(|| {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default();
        home.join(".ssh/authorized_keys")
    })
}

fn remove_key(a: &Args, which: &str) -> Result<(), String> {
    let file = keys_file(a);
    let owner = Owner::for_file(&file, a.user.as_deref())?;
    let n = remove(&file, which, owner)?;
    eprintln!(
        "rrsync-rs authorize: removed {n} line(s) from {}",
        file.display()
    );
    Ok(())
}

/// The program path for a key line: `given` (`--program`) or this
/// executable; `who` warns when it lies in a cargo build directory
/// (`target/`), which a rebuild or `cargo clean` changes under the key.
/// Shared by `authorize` and `check --migrate`.
pub fn program_path(given: Option<&Path>, who: &str) -> Result<PathBuf, String> {
    let p = match given {
        Some(p) => p.to_path_buf(),
        None => std::env::current_exe()
            .and_then(std::fs::canonicalize)
            .map_err(|e| format!("cannot find my own path (use --program): {e}"))?,
    };
    if in_build_dir(&p) {
        eprintln!(
            "rrsync-rs {who}: warning: {} is in a build directory (target/); \
             install the binary (e.g. /usr/local/bin) and use --program",
            p.display()
        );
    }
    Ok(p)
}

/// Whether `p` lies in a cargo build directory: a `target` component, or
/// a directory holding cargo's `.fingerprint` (a `CARGO_TARGET_DIR`).
pub fn in_build_dir(p: &Path) -> bool {
    p.components().any(|c| c.as_os_str() == "target")
        || p.parent().is_some_and(|d| d.join(".fingerprint").is_dir())
}

fn audit_flag(log: &Path) -> Result<String, String> {
    let log = match (log.parent(), log.file_name()) {
        (Some(d), Some(n)) if !d.as_os_str().is_empty() => std::fs::canonicalize(d)
            .map_err(|e| format!("cannot use the audit log's directory {}: {e}", d.display()))?
            .join(n),
        _ => std::env::current_dir()
            .map_err(|e| e.to_string())?
            .join(log),
    };
    Ok(path_text("the audit log path", &log)?.to_string())
}

fn build(a: &Args) -> Result<String, String> {
    let dir = a.dir.as_deref().ok_or("missing DIR")?;
    let dir =
        std::fs::canonicalize(dir).map_err(|e| format!("cannot use DIR {}: {e}", dir.display()))?;
    if !dir.is_dir() {
        return Err(format!("{} is not a directory", dir.display()));
    }
    let program = program_path(a.program.as_deref(), "authorize")?;
    path_text("DIR", &dir)?;
    path_text("the program path", &program)?;
    let key = read_key(a.key.as_deref())?;
    no_control("the key", &key)?;
    let mut flags = Vec::new();
    if let Some(log) = &a.audit {
        flags.push("-audit".to_string());
        flags.push(audit_flag(log)?);
    }
    for f in &a.flags {
        no_control("a flag", f)?;
    }
    flags.extend(a.flags.iter().cloned());
    let line = line(&program, &flags, &dir, &key);
    verify(&line, &key, &intended(&a.flags, &dir)?)?;
    if let Some(file) = &a.append {
        let owner = Owner::for_file(file, a.user.as_deref())?;
        let done = append(file, &line, &key, a.replace, owner)?;
        eprintln!("rrsync-rs authorize: {done} {}", file.display());
    }
    Ok(line)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHhH1BZ3Q9xXk7VNY2M user@host";

    #[test]
    fn line_quotes_for_sh_then_sshd() {
        let l = line(
            Path::new("/usr/bin/rrsync-rs"),
            &["-ro".into()],
            Path::new("/srv/a b\"c"),
            KEY,
        );
        assert_eq!(
            l,
            format!("command=\"/usr/bin/rrsync-rs -ro '/srv/a b\\\"c'\",restrict {KEY}")
        );
    }

    #[test]
    fn verify_reads_the_line_back() {
        const REAL: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDRQbSdUkrvxY/lZk0qbOpy6B3s8LIbBoA5S6SBPHxyz me@host";
        let want = intended(&["-ro".into()], Path::new("/srv/a")).unwrap();
        let good = line(
            Path::new("/usr/bin/rrsync-rs"),
            &["-ro".into()],
            Path::new("/srv/a"),
            REAL,
        );
        verify(&good, REAL, &want).unwrap();
        let two = format!("{good}\n{REAL}");
        assert!(verify(&two, REAL, &want).is_err());
        assert!(no_control("DIR", "/srv/a\nb").is_err());
        assert!(no_control("DIR", "/srv/a\tb").is_err());
        no_control("DIR", "/srv/a b").unwrap();
        #[cfg(feature = "ssh")]
        {
            let other = line(
                Path::new("/usr/bin/rrsync-rs"),
                &[],
                Path::new("/srv/a"),
                REAL,
            );
            assert!(verify(&other, REAL, &want).is_err());
            let elsewhere = line(
                Path::new("/usr/bin/rrsync-rs"),
                &["-ro".into()],
                Path::new("/"),
                REAL,
            );
            assert!(verify(&elsewhere, REAL, &want).is_err());
        }
    }

    #[test]
    fn key_text() {
        assert_eq!(key_from_text(&format!("\n{KEY}\n")).unwrap(), KEY);
        assert!(key_from_text("-----BEGIN OPENSSH PRIVATE KEY-----").is_err());
        assert!(key_from_text("command=\"x\" ssh-ed25519 AAAA").is_err());
    }

    #[test]
    fn args() {
        let v = |s: &[&str]| s.iter().map(OsString::from).collect::<Vec<_>>();
        let a = parse_args(&v(&["-ro", "/srv", "k.pub", "--append", "f"])).unwrap();
        assert_eq!(a.flags, vec!["-ro".to_string()]);
        assert_eq!(a.key.as_deref(), Some(Path::new("k.pub")));
        assert_eq!(a.append.as_deref(), Some(Path::new("f")));
        let a = parse_args(&v(&["/srv", "-no-del", "-audit", "/l"])).unwrap();
        assert_eq!(a.flags, vec!["-no-del".to_string()]);
        assert_eq!(a.audit.as_deref(), Some(Path::new("/l")));
        assert!(parse_args(&v(&["-ro", "-wo", "/srv"])).is_err());
        assert!(parse_args(&v(&["-bogus", "/srv"])).is_err());
        assert!(parse_args(&v(&["/srv", "--append"])).is_err());
        assert!(parse_args(&v(&["--list", "/srv"])).is_err());
        assert!(parse_args(&v(&["--list"])).is_ok());
        assert!(parse_args(&v(&["/srv", "--replace"])).is_err());
        assert!(in_build_dir(Path::new("/src/x/target/release/rrsync-rs")));
        assert!(!in_build_dir(Path::new("/usr/local/bin/rrsync-rs")));
    }
}
