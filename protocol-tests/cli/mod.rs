//! The operator's command line (issue 13), run against the built binary
//! (`RRSYNC_BIN`): every subcommand's `--help`/`-h`/`--version`/`-V` on
//! stdout with exit 0, `help [SUB]`, `-audit` after DIR in a real pull
//! with a stock client, `serve --listen` forms, generated completions and
//! manual pages, and (in [`keys`]) `check` and `authorize`'s file work.

mod keys;
mod unit;

use crate::harness::{self, Output, Work};
use std::process::Command;
use std::time::{Duration, Instant};

pub const T: Duration = Duration::from_secs(30);

/// Runs the binary with `args`; `env` pairs are added.
pub fn rr(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(harness::bin());
    cmd.args(args).env_remove("SSH_ORIGINAL_COMMAND");
    for (k, v) in env {
        cmd.env(k, v);
    }
    harness::run(cmd, T)
}

#[test]
fn help_and_version_print_to_stdout_and_succeed() {
    for sub in ["serve", "authorize", "check", "prune", "completions", "man"] {
        for opt in ["--help", "-h", "--version", "-V"] {
            let out = rr(&[sub, opt], &[]);
            assert_eq!(out.code, Some(0), "{sub} {opt}: {}", out.describe());
            assert!(out.stderr.is_empty(), "{sub} {opt}: {}", out.describe());
            let want = if opt.contains('h') {
                "Usage: rrsync-rs "
            } else {
                "0."
            };
            assert!(out.stdout.contains(want), "{sub} {opt}: {}", out.describe());
        }
        let out = rr(&["help", sub], &[]);
        assert_eq!(out.code, Some(0), "help {sub}: {}", out.describe());
        assert!(
            out.stdout.contains(&format!("rrsync-rs {sub}")),
            "{}",
            out.describe()
        );
    }
    for args in [&["--help"][..], &["-h"], &["help"]] {
        let out = rr(args, &[]);
        assert_eq!(out.code, Some(0), "{args:?}: {}", out.describe());
        for w in ["DIR", "-ro", "-no-del", "-audit FILE", "rrsync-rs check"] {
            assert!(
                out.stdout.contains(w),
                "{args:?} lacks {w}: {}",
                out.describe()
            );
        }
    }
    let out = rr(&["help", "bogus"], &[]);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    let out = rr(&["serve", "--bogus"], &[]);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    assert!(
        out.stdout.is_empty() && out.stderr.contains("--bogus"),
        "{}",
        out.describe()
    );
    let out = rr(&["check", "/nonexistent"], &[("SSH_ORIGINAL_COMMAND", "x")]);
    assert_eq!(
        out.code,
        Some(1),
        "a subcommand for a remote client: {}",
        out.describe()
    );
    assert!(out.stdout.is_empty(), "{}", out.describe());
}

/// A key line with `-audit LOG` appended after DIR still serves a pull
/// with a stock client, and writes its audit line.
#[test]
fn audit_after_dir_serves_and_logs() {
    let work = Work::new("cli-audit");
    let root = work.dir.join("root");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("f"), b"hello\n").unwrap();
    let log = work.dir.join("audit.jsonl");
    let shim = work.dir.join("shim.sh");
    let script = format!(
        "#!/bin/sh\nwhile [ $# -gt 0 ]; do case \"$1\" in -l) shift 2;; -*) shift;; *) shift; break;; esac; done\n\
         SSH_ORIGINAL_COMMAND=\"$*\" exec '{}' -ro '{}' -no-del -audit '{}'\n",
        harness::bin().display(),
        root.display(),
        log.display()
    );
    std::fs::write(&shim, script).unwrap();
    let client = &harness::clients()[0];
    let dest = work.dir.join("dest");
    let mut cmd = Command::new(&client.path);
    cmd.arg("-a")
        .arg("-e")
        .arg(format!("/bin/sh {}", shim.display()))
        .arg("host:.")
        .arg(format!("{}/", dest.display()));
    let out = harness::run(cmd, T);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    assert_eq!(std::fs::read(dest.join("f")).unwrap(), b"hello\n");
    let audit = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(audit.contains("\"role\":\"sender\""), "audit: {audit}");
}

/// Starts `serve --listen ADDR` and returns what it logged once it
/// listens (or gave up).
fn listen_line(work: &Work, addr: &str) -> String {
    let log = work
        .dir
        .join(format!("serve-{}.log", addr.replace(['[', ']', ':'], "_")));
    let mut child = Command::new(harness::bin())
        .args(["serve", "--listen", addr, "--host-key"])
        .arg(work.dir.join("host_key"))
        .arg("--authorized-keys")
        .arg(work.dir.join("authorized_keys"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut text = String::new();
    while Instant::now() < deadline {
        text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("listening on") || matches!(child.try_wait(), Ok(Some(_))) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    text
}

#[test]
fn serve_listens_on_a_bare_port_and_on_ipv6() {
    let work = Work::new("cli-listen");
    std::fs::write(work.dir.join("authorized_keys"), "").unwrap();
    let port = crate::openssh::free_port();
    let text = listen_line(&work, &port.to_string());
    assert!(
        text.contains(&format!("listening on 0.0.0.0:{port}")),
        "{text}"
    );
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        harness::not_applicable("no IPv6 loopback on this host");
    } else {
        let port = crate::openssh::free_port();
        let text = listen_line(&work, &format!("[::1]:{port}"));
        assert!(
            text.contains(&format!("listening on [::1]:{port}")),
            "{text}"
        );
    }
    let out = rr(&["serve", "--listen", "::1:22"], &[]);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    assert!(out.stderr.contains("[IPV6]:PORT"), "{}", out.describe());
}

#[test]
fn completions_are_generated_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let out = rr(&["completions", shell], &[]);
        assert_eq!(out.code, Some(0), "{shell}: {}", out.describe());
        for w in [
            "serve",
            "authorize",
            "check",
            "listen",
            "migrate",
            "user-keys",
        ] {
            assert!(out.stdout.contains(w), "{shell} lacks {w}");
        }
    }
    let work = Work::new("cli-completions");
    let f = work.dir.join("rrsync-rs.bash");
    std::fs::write(&f, rr(&["completions", "bash"], &[]).stdout).unwrap();
    let mut cmd = Command::new("bash");
    cmd.arg("-n").arg(&f);
    let out = harness::run(cmd, T);
    assert_eq!(out.code, Some(0), "bash -n: {}", out.describe());
    assert_eq!(rr(&["completions", "tcsh"], &[]).code, Some(1));
}

/// Renders a page with `man -l` (or groff) as plain text.
fn render(page: &std::path::Path) -> Option<String> {
    let mut cmd = Command::new("man");
    cmd.arg("-l")
        .arg(page)
        .env("MANWIDTH", "100")
        .env("MAN_KEEP_FORMATTING", "");
    let out = harness::run(cmd, T);
    if out.code == Some(0) && !out.stdout.is_empty() {
        return Some(out.stdout);
    }
    let mut cmd = Command::new("groff");
    cmd.args(["-man", "-Tutf8", "-P-c", "-P-b", "-P-u"])
        .arg(page);
    let out = harness::run(cmd, T);
    (out.code == Some(0)).then_some(out.stdout)
}

#[test]
fn man_pages_render_with_name_and_flags() {
    let work = Work::new("cli-man");
    let out = rr(&["man", "--out", &work.dir.display().to_string()], &[]);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    let want: &[(&str, &[&str])] = &[
        (
            "rrsync-rs.1",
            &[
                "NAME",
                "FORCED-COMMAND FLAGS",
                "-ro",
                "-no-overwrite",
                "-audit FILE",
                "rrsync-rs-serve(1)",
            ],
        ),
        (
            "rrsync-rs-serve.1",
            &["NAME", "--listen", "--user-keys", "-ro"],
        ),
        (
            "rrsync-rs-authorize.1",
            &["NAME", "--replace", "--remove", "--list", "--user"],
        ),
        ("rrsync-rs-check.1", &["NAME", "--migrate", "--line"]),
    ];
    for (page, words) in want {
        let Some(text) = render(&work.dir.join(page)) else {
            harness::skip(
                "neither man nor groff renders pages (apt-get install man-db groff-base)",
            );
            return;
        };
        let text = text.replace(['\u{2010}', '\u{2212}'], "-");
        for w in *words {
            assert!(text.contains(w), "{page} lacks {w}:\n{text}");
        }
    }
}
