//! One list of the options every key refuses: the option table's
//! constants ([`super::opt_table::ALWAYS_REFUSED`] and the others) must
//! be what the policy refuses, option by option, and the help, the
//! manual and README must name exactly those options.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::opt_table::{Opt, ALWAYS_REFUSED, NOT_SUPPORTED, REFUSED_BELOW_ROOT, TABLE};
use super::{parse_server_argv, usage, WrapperFlags};
use crate::policy::{self, Mode, PolicyError};

fn flags(root: &str) -> WrapperFlags {
    WrapperFlags {
        mode: Mode::ReadWrite,
        munge: false,
        no_del: false,
        no_lock: false,
        no_overwrite: false,
        blind: false,
        snapshot: false,
        limits: super::wrapper::Limits::default(),
        root: PathBuf::from(root),
    }
}

/// The canonical names of the options a read-write key with root `root`
/// refuses (as disabled or as not supported), on a pull or on a push.
fn refused_by_policy(root: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut refused = BTreeSet::new();
    for &(_, _, opt) in TABLE {
        if !seen.insert(format!("{opt:?}")) || matches!(opt, Opt::Server | Opt::Sender) {
            continue;
        }
        let word = if opt.takes_value() {
            format!("{}=x", opt.name())
        } else {
            opt.name().to_string()
        };
        for sender in [true, false] {
            let mut words = vec!["--server".to_string()];
            if sender {
                words.push("--sender".into());
            }
            words.extend([word.clone(), "-e.LsfxC".into(), ".".into(), "d/".into()]);
            let Ok(args) = parse_server_argv(&words) else {
                continue;
            };
            if let Err(PolicyError::Refused(_) | PolicyError::Unsupported(_)) =
                policy::authorize(&flags(root), args)
            {
                refused.insert(opt.name().to_string());
            }
        }
    }
    refused
}

fn set(lists: &[&[&str]]) -> BTreeSet<String> {
    lists
        .iter()
        .flat_map(|l| l.iter().map(|s| s.to_string()))
        .collect()
}

#[test]
fn the_lists_are_what_the_policy_refuses() {
    assert_eq!(
        refused_by_policy("/srv"),
        set(&[ALWAYS_REFUSED, REFUSED_BELOW_ROOT, NOT_SUPPORTED])
    );
    assert_eq!(
        refused_by_policy("/"),
        set(&[ALWAYS_REFUSED, NOT_SUPPORTED])
    );
}

/// Every `--long-option` named in `text`.
fn long_options(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("--") {
        let tail = &rest[i + 2..];
        let end = tail
            .find(|c: char| !(c.is_ascii_lowercase() || c == '-'))
            .unwrap_or(tail.len());
        if end > 0 {
            found.insert(format!("--{}", &tail[..end]));
        }
        rest = &tail[end..];
    }
    found
}

/// The text from `start` to the end of its paragraph (a blank line, or
/// the end of a table row).
fn paragraph<'a>(text: &'a str, start: &str, what: &str) -> &'a str {
    let at = text
        .find(start)
        .unwrap_or_else(|| panic!("{what}: no `{start}`"));
    let rest = &text[at..];
    let end = ["\n\n", " |\n"]
        .iter()
        .filter_map(|e| rest.find(e))
        .min()
        .unwrap_or(rest.len());
    &rest[..end]
}

#[test]
fn help_manual_and_readme_name_the_same_options() {
    let want = set(&[ALWAYS_REFUSED, REFUSED_BELOW_ROOT, NOT_SUPPORTED]);
    let root = env!("CARGO_MANIFEST_DIR");
    let read = |f: &str| std::fs::read_to_string(format!("{root}/{f}")).unwrap();
    let readme = read("README.md");
    let manual = read("docs/rrsync-rs.1.md");
    let help = usage();
    for (what, text, start) in [
        ("README.md", readme.as_str(), "| always |"),
        ("docs/rrsync-rs.1.md", manual.as_str(), "Always refused:"),
        ("--help", help.as_str(), "Always refused:"),
    ] {
        let listed = long_options(paragraph(text, start, what));
        assert_eq!(listed, want, "{what} lists other options than the table");
    }
    let page = String::from_utf8(super::docs::main_page()).unwrap();
    assert!(page.contains("Always refused: \\-\\-daemon"), "{page}");
}
