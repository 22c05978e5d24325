//! Refusals reach a stock client readable, in the state the client is in
//! when the refusal happens, in rrsync's words, naming options as the
//! client spelled them and never a server path (issue 9, "Key set-up and
//! refusals"):
//! - before the protocol (a bad option, a policy refusal, `-s` arguments);
//! - a push with a remote `--files-from`, where the client first reads the
//!   raw name list (below protocol 31, which a refusal announces);
//! - a session refusal after the policy allowed the request;
//! - a daemon client over a remote shell (`host::module`), which reads
//!   `@RSYNCD:` text lines;
//! - batch options, refused up front instead of a hanging session;
//! - filter rules naming a merge file outside the root are skipped with a
//!   warning; a confinement stop is said in words;
//! - an interactive login on the key learns nothing about the server.

use super::util::{self, refused};
use crate::harness::{self, ensure, kind_under_test, Cell, Kind, Output, Server, Work};
use std::path::Path;
use std::process::Command;

/// False (after a loud skip) unless the server under test is ours: the
/// texts are ours (and rrsync's).
fn ours() -> bool {
    if kind_under_test() != Kind::Ours {
        harness::not_applicable("refusal wording is rrsync-rs's");
        return false;
    }
    true
}

/// A readable refusal: `msg`, no protocol garbage, no server path.
fn readable(out: &Output, msg: &str, root: &Path) -> Result<(), String> {
    refused(out, msg)?;
    let all = out.all();
    for bad in [
        "unexpected tag",
        "connection unexpectedly closed",
        "protocol data stream",
        "did not see server greeting",
    ] {
        ensure(!all.contains(bad), &format!("output has {bad:?}"), out)?;
    }
    ensure(
        !all.contains(root.to_string_lossy().as_ref()),
        "output names the server's root",
        out,
    )?;
    ensure(!out.timed_out, "timed out", out)
}

/// A source tree with one file, and a root holding a files-from list.
fn setup(work: &Work, tag: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let src = work.path(&format!("src-{tag}"));
    let root = work.path(&format!("root-{tag}"));
    std::fs::create_dir_all(&src).expect("mkdir src");
    std::fs::create_dir_all(&root).expect("mkdir root");
    std::fs::write(src.join("a"), b"a\n").expect("write a");
    std::fs::write(root.join("list"), b"a\n").expect("write list");
    (src, root)
}

fn push_to(work: &Work, cell: &Cell, flags: &[&str], root: &Path, opts: &[&str]) -> Output {
    let src = work.path("src-common");
    std::fs::create_dir_all(&src).expect("mkdir src");
    std::fs::write(src.join("a"), b"a\n").expect("write a");
    let server = Server::tested(flags, root);
    util::push(work, cell, &server, opts, &[util::src_arg(&src)], "x:dst/")
}

#[test]
fn remote_files_from_refusals_are_readable() {
    if !ours() {
        return;
    }
    super::each_cell("remote_files_from_refusals", |work, cell| {
        let (_, root) = setup(work, "ff");
        // Refused by the policy: -wo reads no remote list.
        let out = push_to(work, cell, &["-wo"], &root, &["-a", "--files-from=:list"]);
        readable(
            &out,
            "a write-only server cannot read a remote --files-from path",
            &root,
        )?;
        // Refused by the direction, with the same raw list pending.
        let out = push_to(work, cell, &["-ro"], &root, &["-a", "--files-from=:list"]);
        readable(&out, "sending to read-only server is not allowed", &root)?;
        // Refused inside the session (the root is gone) after the policy
        // allowed the request.
        let gone = work.path("gone-root");
        let out = push_to(work, cell, &[], &gone, &["-a", "--files-from=:list"]);
        readable(&out, "cannot open the served directory", &gone)
    });
}

#[test]
fn refusals_before_the_protocol_are_readable() {
    if !ours() {
        return;
    }
    super::each_cell("refusals_before_the_protocol", |work, cell| {
        let (_, root) = setup(work, "pre");
        // A parse error: rrsync's "invalid rsync-command syntax or options".
        let out = push_to(work, cell, &["-wo"], &root, &["-a", "-M--bogus-option"]);
        readable(&out, "invalid rsync-command syntax or options", &root)?;
        // With -s the arguments arrive on stdin first.
        if cell.protocol() >= 30 {
            let out = push_to(work, cell, &["-ro"], &root, &["-a", "-s"]);
            readable(&out, "sending to read-only server is not allowed", &root)?;
        }
        Ok(())
    });
}

#[test]
fn rrsync_wording_and_the_client_spelling() {
    if !ours() {
        return;
    }
    super::each_cell("rrsync_wording", |work, cell| {
        let (_, root) = setup(work, "words");
        let cases: &[(&[&str], &[&str], &str)] = &[
            (
                &["-wo", "-no-overwrite"],
                &["-ab"],
                "option -b has been disabled on this server.",
            ),
            (
                &["-wo", "-no-overwrite"],
                &["-a", "-M--backup"],
                "option --backup has been disabled on this server.",
            ),
            (
                &["-wo", "-no-del"],
                &["-a", "-M--del"],
                "option --del has been disabled on this server.",
            ),
            (
                &["-ro"],
                &["-a"],
                "sending to read-only server is not allowed",
            ),
            (
                &["-wo", "-no-overwrite"],
                &["-a", "-M--log-file=log"],
                "option --log-file has been disabled on this server.",
            ),
        ];
        for (flags, opts, msg) in cases {
            let out = push_to(work, cell, flags, &root, opts);
            readable(&out, msg, &root).map_err(|e| format!("{opts:?}: {e}"))?;
        }
        Ok(())
    });
}

#[test]
fn batch_options_are_refused_up_front() {
    if !ours() {
        return;
    }
    super::each_cell("batch_options_refused", |work, cell| {
        let (_, root) = setup(work, "batch");
        for (opt, name) in [
            ("-M--only-write-batch=b", "--only-write-batch"),
            ("-M--write-batch=b", "--write-batch"),
            ("-M--read-batch=b", "--read-batch"),
        ] {
            // A short client timeout: a session that waits ends with
            // "timeout" (exit 30) instead of our line.
            let out = push_to(work, cell, &["-wo"], &root, &["-a", "--timeout=3", opt]);
            let msg = format!("option {name} has been disabled on this server.");
            readable(&out, &msg, &root).map_err(|e| format!("{opt}: {e}"))?;
        }
        Ok(())
    });
}

#[test]
fn daemon_client_over_ssh_reads_an_error_line() {
    if !ours() {
        return;
    }
    super::each_cell("daemon_over_ssh", |work, cell| {
        let (_, root) = setup(work, "daemon");
        let dst = work.path("dst-daemon");
        let server = Server::tested(&["-ro"], &root);
        let args = harness::args(&["-a", "x::module/", &format!("{}/", dst.display())]);
        let out = harness::rsync(cell, &server.rsh(work), &args);
        readable(
            &out,
            "@ERROR: option --daemon has been disabled on this server.",
            &root,
        )?;
        ensure(out.code == Some(5), "want exit 5 (start client)", &out)
    });
}

/// A pull of `d/` (files `a` and `b.o`, plus `extra` files) with
/// `filters`: it succeeds, warns that one rule naming a merge file outside
/// the root was skipped, still applies a rule that excludes `*.o`, and
/// names no server path.
fn pull_with_a_skipped_merge_rule(
    work: &Work,
    cell: &Cell,
    tag: &str,
    extra: &[(&str, &[u8])],
    filters: &[&str],
) -> Result<(), String> {
    let root = work.path(&format!("root-{tag}"));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("d")).expect("mkdir");
    for (name, data) in [("d/a", &b"a\n"[..]), ("d/b.o", b"o\n")]
        .iter()
        .chain(extra)
    {
        std::fs::write(root.join(name), data).expect("write");
    }
    let dst = work.path(&format!("dst-{tag}"));
    let _ = std::fs::remove_dir_all(&dst);
    let server = Server::tested(&["-ro"], &root);
    let dst_arg = format!("{}/", dst.display());
    let mut args = vec!["-a"];
    args.extend_from_slice(filters);
    args.extend_from_slice(&["x:d/", &dst_arg]);
    let out = harness::rsync(cell, &server.rsh(work), &harness::args(&args));
    ensure(out.code == Some(0), "the transfer did not succeed", &out)?;
    ensure(
        out.all().contains(
            "[sender] skipped 1 filter rule(s) naming a merge file outside the served directory",
        ),
        "no warning about the skipped rule",
        &out,
    )?;
    ensure(
        dst.join("a").is_file() && !dst.join("b.o").exists(),
        "the other rules were not applied",
        &out,
    )?;
    ensure(
        !out.all().contains(root.to_string_lossy().as_ref()),
        "output names the server's root",
        &out,
    )
}

#[test]
fn merge_file_outside_the_root_is_skipped_with_a_warning() {
    if !ours() {
        return;
    }
    super::each_cell("merge_outside_skipped", |work, cell| {
        if cell.protocol() < 29 {
            return Ok(()); // the client cannot send a dir-merge rule
        }
        pull_with_a_skipped_merge_rule(
            work,
            cell,
            "merge",
            &[],
            &["--filter=:- ../x", "--exclude=*.o"],
        )
    });
}

#[test]
fn merge_rule_skipped_during_the_walk_is_warned_about() {
    if !ours() {
        return;
    }
    super::each_cell("merge_skipped_in_walk", |work, cell| {
        if cell.protocol() < 29 {
            return Ok(()); // the client cannot send a dir-merge rule
        }
        // A per-directory file the walk reads, with one rule that names a
        // file outside the root and one that is fine.
        let rf: &[u8] = b". ../../x\n- *.o\n";
        pull_with_a_skipped_merge_rule(work, cell, "walk", &[("d/.rf", rf)], &["--filter=: .rf"])
    });
}

#[test]
fn confinement_stop_is_said_in_words() {
    if !ours() {
        return;
    }
    super::each_cell("confinement_in_words", |work, cell| {
        let root = work.path("root-bak");
        let outside = work.path("outside-bak");
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("dst")).expect("mkdir");
        std::fs::create_dir_all(&outside).expect("mkdir");
        util::write_at(&root.join("dst/a"), b"old\n", 1_000_000_000);
        std::os::unix::fs::symlink(&outside, root.join("dst/bak")).expect("symlink");
        let src = work.path("src-bak");
        std::fs::create_dir_all(&src).expect("mkdir");
        std::fs::write(src.join("a"), b"newer\n").expect("write");
        let server = Server::tested(&[], &root);
        let out = util::push(
            work,
            cell,
            &server,
            &["-a", "--backup-dir=bak"],
            &[util::src_arg(&src)],
            "x:dst/",
        );
        let all = out.all();
        ensure(
            all.contains("refusing to follow a symlink out of the served directory"),
            "the stop is not said in words",
            &out,
        )?;
        ensure(!all.contains("cross-device"), "says cross-device", &out)?;
        ensure(
            std::fs::read_dir(&outside).map(|d| d.count()).unwrap_or(1) == 0,
            "something was written outside the root",
            &out,
        )?;
        ensure(
            !all.contains(root.to_string_lossy().as_ref()),
            "output names the server's root",
            &out,
        )
    });
}

/// Our binary as a forced command with no `SSH_ORIGINAL_COMMAND`.
fn interactive(root: &Path, sshd_vars: bool) -> Output {
    let mut c = Command::new(harness::bin());
    c.arg("-ro").arg(root);
    for v in [
        "SSH_ORIGINAL_COMMAND",
        "SSH_CONNECTION",
        "SSH_CLIENT",
        "SSH_TTY",
    ] {
        c.env_remove(v);
    }
    if sshd_vars {
        c.env("SSH_CONNECTION", "127.0.0.1 50000 127.0.0.1 22");
    }
    harness::run(c, harness::TIMEOUT)
}

#[test]
fn interactive_login_learns_nothing_about_the_server() {
    if !ours() {
        return;
    }
    let work = Work::new("interactive-login");
    let root = work.path("root");
    std::fs::create_dir_all(&root).expect("mkdir");
    let bin = harness::bin();
    let out = interactive(&root, true);
    ensure(
        out.code == Some(1) && out.stderr.trim() == "this key only runs rsync",
        "a remote user must read only `this key only runs rsync`",
        &out,
    )
    .and_then(|()| {
        ensure(
            !out.all().contains(bin.to_string_lossy().as_ref()) && !out.all().contains('/'),
            "a remote user learns a server path",
            &out,
        )
    })
    .unwrap_or_else(|e| panic!("{e}"));
    // A local operator (no sshd variables) gets the key-line hint.
    let out = interactive(&root, false);
    ensure(
        out.code == Some(1) && out.stderr.contains("command=\""),
        "a local operator gets no key-line hint",
        &out,
    )
    .unwrap_or_else(|e| panic!("{e}"));
}
