//! Tests for `wrapper`: our own argv.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::wrapper::parse_args_with_home;
use super::Mode;
use super::*;

fn args(s: &str) -> Vec<OsString> {
    s.split_whitespace().map(OsString::from).collect()
}

fn run(s: &str) -> Result<Invocation, CliError> {
    parse_args_with_home(&args(s), Some(Path::new("/home/u")))
}

fn forced(s: &str) -> WrapperFlags {
    match run(s) {
        Ok(Invocation::Forced(f)) => f,
        other => panic!("{s}: {other:?}"),
    }
}

#[test]
fn plain_dir() {
    let f = forced("/srv/data");
    assert_eq!(f.mode, Mode::ReadWrite);
    assert!(!f.munge && !f.no_del && !f.no_lock && !f.no_overwrite && !f.blind);
    assert_eq!(f.root, PathBuf::from("/srv/data"));
}

#[test]
fn read_only_implies_no_del_and_no_lock() {
    let f = forced("-ro /srv");
    assert_eq!(f.mode, Mode::ReadOnly);
    assert!(f.no_del && f.no_lock);
}

#[test]
fn every_flag() {
    let f = forced("-wo -munge -no-del -no-lock -no-overwrite -blind /srv");
    assert_eq!(f.mode, Mode::WriteOnly);
    assert!(f.munge && f.no_del && f.no_lock && f.no_overwrite && f.blind);
    // argparse also accepts flags after DIR.
    let f = forced("/srv -no-overwrite");
    assert!(f.no_overwrite);
}

#[test]
fn relative_dir_is_under_home() {
    assert_eq!(forced("backups").root, PathBuf::from("/home/u/backups"));
    let f = parse_args_with_home(&args("backups"), None).unwrap();
    assert!(matches!(f, Invocation::Forced(ref w) if w.root == Path::new("backups")));
}

#[test]
fn double_dash_before_dir() {
    assert_eq!(forced("-ro -- -odd").root, PathBuf::from("/home/u/-odd"));
}

#[test]
fn help_and_version() {
    for s in ["--help", "-h", "-help", "-ro --help /srv"] {
        assert_eq!(run(s), Ok(Invocation::Help), "{s}");
    }
    for s in ["--version", "-V"] {
        assert_eq!(run(s), Ok(Invocation::Version), "{s}");
    }
}

#[test]
fn usage_errors() {
    for s in [
        "",
        "-ro",
        "-x /srv",
        "--ro /srv",
        "-ro -wo /srv",
        "/a /b",
        "-absolute /srv",
    ] {
        match run(s) {
            Err(CliError::Usage(m)) => {
                assert!(m.contains("usage: rrsync-rs"), "{m}");
                assert!(!m.contains('\n'), "{m}");
            }
            other => panic!("{s}: {other:?}"),
        }
    }
}

#[test]
fn local_form() {
    let a = args("local -wo /srv/x -l bob host rsync --server -vlogDtpre.iLsfxCIvu . dst/");
    match parse_args_with_home(&a, None).unwrap() {
        Invocation::Local { flags, command } => {
            assert_eq!(flags.mode, Mode::WriteOnly);
            assert_eq!(flags.root, PathBuf::from("/srv/x"));
            assert_eq!(command, "rsync --server -vlogDtpre.iLsfxCIvu . dst/");
        }
        other => panic!("{other:?}"),
    }
    match run("local rel host rsync --server . x").unwrap() {
        Invocation::Local { flags, command } => {
            assert_eq!(flags.root, PathBuf::from("rel"));
            assert_eq!(command, "rsync --server . x");
        }
        other => panic!("{other:?}"),
    }
    // Escapes pass through for the forced-command tokenizer.
    let mut a = args("local /srv h rsync --server --sender -r .");
    a.push(OsString::from(r"a\ b"));
    match parse_args_with_home(&a, None).unwrap() {
        Invocation::Local { command, .. } => {
            assert_eq!(command, r"rsync --server --sender -r . a\ b")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn local_errors() {
    for s in [
        "local",
        "local -ro",
        "local /srv",
        "local /srv host",
        "local /srv -l",
        "local /srv -l bob",
        "local /srv -p 22 host rsync",
        "local -bogus /srv h rsync",
    ] {
        assert!(matches!(run(s), Err(CliError::Usage(_))), "{s}");
    }
}

#[test]
fn usage_and_hint() {
    let u = usage();
    for flag in [
        "-ro",
        "-wo",
        "-munge",
        "-no-del",
        "-no-lock",
        "-no-overwrite",
        "-blind",
        "--copy-links",
        "--delete",
    ] {
        assert!(u.contains(flag), "{flag}");
    }
    let h = hint_line("/usr/bin/rrsync-rs");
    assert!(!h.contains('\n'));
    assert!(h.contains("command=\"/usr/bin/rrsync-rs -ro /srv/dir\",restrict"));
}

#[test]
fn blind_alone_and_in_local_form() {
    let f = forced("-blind /srv");
    assert!(f.blind && !f.no_overwrite);
    assert_eq!(f.mode, Mode::ReadWrite);
    match run("local -wo -blind /srv h rsync --server . x") {
        Ok(Invocation::Local { flags, .. }) => assert!(flags.blind),
        other => panic!("{other:?}"),
    }
    assert!(matches!(run("-Blind /srv"), Err(CliError::Usage(_))));
}
