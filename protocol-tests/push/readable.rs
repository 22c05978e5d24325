//! Unsupported means readable (issue 11): a refusal is delivered at the
//! client's own protocol (its compat flags and, when its `-e` letters
//! ask, the name lists before the seed), so a stock client prints our
//! reason naming the option and the server, never its own complaint about
//! the protocol version, a broken pipe or a closed connection, even when
//! it is busy writing a large file list. Both directions, every cell.

use super::util;
use crate::harness::{self, ensure, kind_under_test, Cell, Kind, Output, Server, Work};
use std::path::{Path, PathBuf};

/// What a readable refusal never shows.
const GARBLED: [&str; 4] = [
    "requires protocol",
    "connection unexpectedly closed",
    "protocol incompatibility",
    "unexpected tag",
];

fn ours() -> bool {
    if kind_under_test() != Kind::Ours {
        harness::not_applicable("refusal wording is rrsync-rs's");
        return false;
    }
    true
}

/// The client failed with `msg` as its first line and none of
/// [`GARBLED`]. "Broken pipe" may only follow our line on a pull from
/// protocol 31: there a 3.x client answers the exit message, but its
/// clean-up kills its remote shell (`kill_all` in `cleanup.c`) before it
/// flushes that answer, a race in the client that a stock server's fatal
/// errors meet too.
fn readable(out: &Output, msg: &str, pull_31: bool) -> Result<(), String> {
    util::refused(out, msg)?;
    let all = out.all();
    for bad in GARBLED {
        ensure(!all.contains(bad), &format!("output has {bad:?}"), out)?;
    }
    let first = out.stderr.lines().next().unwrap_or_default();
    ensure(first.contains(msg), "our reason is not the first line", out)?;
    if all.contains("Broken pipe") {
        let late = all.contains("[Receiver] write error: Broken pipe");
        ensure(pull_31 && late, "output has \"Broken pipe\"", out)?;
    }
    ensure(!out.timed_out, "timed out", out)
}

/// A source with `n` small files, so that a push has a file list larger
/// than a pipe holds when it is refused.
fn source(work: &Work, n: usize) -> PathBuf {
    let src = work.path(&format!("src-{n}"));
    if !src.exists() {
        for i in 0..n {
            let d = src.join(format!("d{}", i / 200));
            std::fs::create_dir_all(&d).expect("mkdir src");
            std::fs::write(d.join(format!("a-file-with-a-long-name-{i:05}")), b"x")
                .expect("write src");
        }
    }
    src
}

fn root(work: &Work) -> PathBuf {
    let root = work.path("root");
    std::fs::create_dir_all(root.join("dir")).expect("mkdir root");
    std::fs::write(root.join("dir/f"), b"f\n").expect("write f");
    root
}

fn push(work: &Work, cell: &Cell, flags: &[&str], root: &Path, opts: &[&str]) -> Output {
    let src = source(work, 4000);
    let server = Server::tested(flags, root);
    util::push(work, cell, &server, opts, &[util::src_arg(&src)], "x:dst/")
}

fn pull(work: &Work, cell: &Cell, root: &Path, opts: &[&str]) -> Output {
    let server = Server::tested(&[], root);
    let mut a = harness::args(opts);
    a.push("x:dir/".into());
    a.push(format!("{}/", work.path("pulled").display()));
    harness::rsync(cell, &server.rsh(work), &a)
}

/// The option cases of one cell: each refused option, pulled and pushed.
fn option_cases(work: &Work, cell: &Cell, root: &Path) -> Result<(), String> {
    let iconv = "option --iconv is not supported by this server";
    let crtimes = "option --crtimes is not supported by this server";
    let p31 = cell.protocol() >= 31;
    readable(&pull(work, cell, root, &["-a", "--iconv=utf8"]), iconv, p31)?;
    readable(
        &push(work, cell, &[], root, &["-a", "--iconv=utf8"]),
        iconv,
        false,
    )?;
    readable(
        &pull(work, cell, root, &["-a", "-M--crtimes"]),
        crtimes,
        p31,
    )?;
    readable(
        &push(work, cell, &[], root, &["-a", "-M--crtimes"]),
        crtimes,
        false,
    )?;
    if cell.protocol() >= 30 {
        // Options that need protocol 30 on the client's side too.
        readable(
            &pull(work, cell, root, &["-aAX", "--iconv=utf8"]),
            iconv,
            p31,
        )?;
        let out = push(work, cell, &[], root, &["-azAX", "--iconv=utf8"]);
        readable(&out, iconv, false)?;
    }
    Ok(())
}

#[test]
fn refusals_are_read_at_the_clients_protocol() {
    if !ours() {
        return;
    }
    super::each_cell("refusals_at_the_clients_protocol", |work, cell| {
        let root = root(work);
        option_cases(work, cell, &root)
    });
}

#[test]
fn a_push_refused_while_sending_its_list_reads_the_reason() {
    if !ours() {
        return;
    }
    super::each_cell("push_refused_mid_list", |work, cell| {
        let root = root(work);
        for _ in 0..3 {
            let out = push(work, cell, &["-ro"], &root, &["-a"]);
            readable(&out, "sending to read-only server is not allowed", false)?;
        }
        Ok(())
    });
}
