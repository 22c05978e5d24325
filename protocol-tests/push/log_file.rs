//! The client's `-M--log-file=FILE` (issue 9): rrsync allows it beneath
//! the root of a key that is neither `-ro` nor `-no-overwrite`. The same
//! sequence of pushes and pulls runs against stock `rsync --server` and
//! against ours, each writing its log beneath its own root; the two logs
//! must hold the same lines once the stamp and process id are taken off
//! and the byte counts (which depend on how each server frames its
//! stream) are masked. Lines are compared per session, sorted: stock's
//! generator and receiver are two processes writing one file, so their
//! order within a session is not fixed. Also: the stamp is rsync's
//! `YYYY/MM/DD HH:MM:SS [PID] `, a log that cannot be opened is reported
//! and the transfer goes on (exit 0, as stock), a symlinked log file is
//! never followed out of the root, and the keys that may not write it
//! refuse it in rrsync's words.

use super::util::{self, write_at};
use crate::harness::{self, ensure, kind_under_test, Cell, Kind, Output, Server, Work};
use std::path::Path;

const LOG: &str = "-M--log-file=t.log";

fn source(src: &Path) {
    let _ = std::fs::remove_dir_all(src);
    write_at(&src.join("a"), b"hello\n", 1_600_000_000);
    write_at(&src.join("sub/b"), b"b\n", 1_600_000_000);
    write_at(&src.join("sub/c"), b"c\n", 1_600_000_000);
    std::os::unix::fs::symlink("a", src.join("l")).expect("symlink");
    fix_dirs(src);
}

/// Directory times fixed, so that what each server logs for them does
/// not depend on the moment a test ran.
fn fix_dirs(src: &Path) {
    for d in [src.to_path_buf(), src.join("sub")] {
        let f = std::fs::File::open(&d).expect("open dir");
        f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_500_000_000))
            .expect("set dir mtime");
    }
}

fn step(work: &Work, cell: &Cell, server: &Server, args: &[&str]) -> Result<Output, String> {
    let out = harness::rsync(cell, &server.rsh(work), &harness::args(args));
    ensure(out.code == Some(0), &format!("{args:?} exits 0"), &out)?;
    Ok(out)
}

/// Pushes (new tree, a grown file and a mode change, a deletion, a dry
/// run) and a pull, all logging to `t.log` beneath `root`.
fn sequence(work: &Work, cell: &Cell, server: &Server, tag: &str) -> Result<String, String> {
    let src = work.path(&format!("src-{tag}"));
    let s = util::src_arg(&src);
    source(&src);
    step(work, cell, server, &["-a", LOG, &s, "x:dst/"])?;
    write_at(&src.join("a"), b"hello, again\n", 1_600_000_100);
    std::fs::set_permissions(
        src.join("sub/b"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .map_err(|e| e.to_string())?;
    step(work, cell, server, &["-a", LOG, &s, "x:dst/"])?;
    std::fs::remove_file(src.join("sub/c")).map_err(|e| e.to_string())?;
    fix_dirs(&src);
    step(work, cell, server, &["-a", "--delete", LOG, &s, "x:dst/"])?;
    write_at(&src.join("new"), b"n\n", 1_600_000_000);
    fix_dirs(&src);
    step(work, cell, server, &["-an", LOG, &s, "x:dst/"])?;
    let out = work.path(&format!("pulled-{tag}"));
    let o = format!("{}/", out.display());
    step(work, cell, server, &["-a", LOG, "x:dst/", &o])?;
    std::fs::read_to_string(server.root.join("t.log")).map_err(|e| format!("read log: {e}"))
}

/// `YYYY/MM/DD HH:MM:SS [PID] TEXT` → `TEXT`, or `None` if not so framed.
fn unstamp(line: &str) -> Option<&str> {
    let b = line.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    let shape = digits(0..4)
        && b.get(4) == Some(&b'/')
        && digits(5..7)
        && b.get(7) == Some(&b'/')
        && digits(8..10)
        && b.get(10) == Some(&b' ')
        && digits(11..13)
        && digits(14..16)
        && digits(17..19)
        && b.get(19) == Some(&b' ')
        && b.get(20) == Some(&b'[');
    if !shape {
        return None;
    }
    let rest = line.get(21..)?;
    let (pid, text) = rest.split_once("] ")?;
    pid.bytes().all(|c| c.is_ascii_digit()).then_some(text)
}

/// Sessions as sorted lines, byte counts masked.
fn sessions(log: &str) -> Result<Vec<Vec<String>>, String> {
    let mut out: Vec<Vec<String>> = Vec::new();
    for line in log.lines() {
        let text = unstamp(line).ok_or_else(|| format!("not rsync's framing: {line:?}"))?;
        let text = match text.split_once("  total size ") {
            Some((_, size)) if text.starts_with("sent ") => {
                format!("sent N  received N  total size {size}")
            }
            _ => text.to_string(),
        };
        if text.ends_with(" file list") || out.is_empty() {
            out.push(Vec::new());
        }
        if let Some(s) = out.last_mut() {
            s.push(text);
        }
    }
    for s in &mut out {
        s.sort();
    }
    Ok(out)
}

#[test]
fn log_file_lines_match_stock() {
    if kind_under_test() != Kind::Ours {
        harness::not_applicable("compares rrsync-rs's log with stock's");
        return;
    }
    super::each_cell("log_file_vs_stock", |work, cell| {
        let stock = Server::stock(&work.path("root-stock"));
        let ours = Server::tested(&[], &work.path("root-ours"));
        for s in [&stock, &ours] {
            std::fs::create_dir_all(&s.root).map_err(|e| e.to_string())?;
        }
        let want = sessions(&sequence(work, cell, &stock, "stock")?)?;
        let got = sessions(&sequence(work, cell, &ours, "ours")?)?;
        if want != got {
            return Err(format!(
                "log lines differ\n  stock: {want:?}\n  ours:  {got:?}"
            ));
        }
        let lines: usize = got.iter().map(Vec::len).sum();
        if got.len() != 5 || lines < 16 {
            return Err(format!("want 5 sessions with item lines: {got:?}"));
        }
        Ok(())
    });
}

#[test]
fn log_file_failures_and_refusals() {
    if kind_under_test() != Kind::Ours {
        harness::not_applicable("rrsync-rs's confinement of the log file");
        return;
    }
    super::each_cell("log_file_failures", |work, cell| {
        let root = work.path("root-fail");
        let outside = work.path("outside.log");
        std::fs::create_dir_all(&root).map_err(|e| e.to_string())?;
        std::fs::write(&outside, b"").map_err(|e| e.to_string())?;
        let _ = std::fs::remove_file(root.join("link.log"));
        std::os::unix::fs::symlink(&outside, root.join("link.log")).map_err(|e| e.to_string())?;
        let src = work.path("src-fail");
        source(&src);
        let s = util::src_arg(&src);
        let server = Server::tested(&["-wo"], &root);
        // A missing directory: reported, and the push goes on (stock too).
        let out = step(
            work,
            cell,
            &server,
            &["-a", "-M--log-file=nodir/x.log", &s, "x:dst/"],
        )?;
        ensure(
            out.all()
                .contains("failed to open log-file nodir/x.log: No such file or directory"),
            "the client hears why there is no log",
            &out,
        )?;
        ensure(
            out.all().contains("Ignoring \"log file\" setting."),
            "rsync's second line",
            &out,
        )?;
        ensure(root.join("dst/a").exists(), "the push went on", &out)?;
        // A symlink is never followed, in or out of the root.
        let out = step(
            work,
            cell,
            &server,
            &["-a", "-M--log-file=link.log", &s, "x:dst/"],
        )?;
        ensure(
            out.all().contains("refusing to follow a symlink"),
            "said in words",
            &out,
        )?;
        let leaked = std::fs::metadata(&outside).map(|m| m.len()).unwrap_or(1);
        ensure(leaked == 0, "nothing written outside the root", &out)?;
        ensure(
            !out.all().contains(root.to_string_lossy().as_ref()),
            "no server path",
            &out,
        )?;
        // Keys that may not write it refuse it in rrsync's words.
        let refusal = "option --log-file has been disabled on this server.";
        let ro = Server::tested(&["-ro"], &root);
        let dst = format!("{}/", work.path("pulled-fail").display());
        let o = harness::rsync(
            cell,
            &ro.rsh(work),
            &harness::args(&["-a", LOG, "x:dst/", &dst]),
        );
        util::refused(&o, refusal)?;
        let no_ow = Server::tested(&["-no-overwrite"], &root);
        let o = harness::rsync(
            cell,
            &no_ow.rsh(work),
            &harness::args(&["-a", LOG, &s, "x:dst/"]),
        );
        util::refused(&o, refusal)?;
        ensure(
            !root.join("t.log").exists(),
            "no log written by a refused session",
            &o,
        )
    });
}
