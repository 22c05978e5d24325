//! Refusals and confinement on pull (issue 2, cases 4 and 5): a write-only
//! server refuses to send, no request path reveals a byte outside the root,
//! `-L`/`--copy-links` is refused below a non-`/` root, garbage forced
//! commands fail with one stderr line, and a missing source reports
//! `link_stat "dir/nope"` (exit 23) without the server's absolute root.
//!
//! Under `PROTOCOL_TESTS_SERVER=stock` the restriction cases are skipped
//! (stock rsync is unrestricted by design); `=rrsync` runs them against the
//! upstream python script (the same wording: see [`write_only_msg`]).

use super::{each_cell, Spec};
use crate::fixtures::{self, Fixture};
use crate::harness::{self, ensure, kind_under_test, run, Kind, Output, Report, Server};
use crate::tree::Tree;
use std::path::Path;
use std::process::Command;

/// The refusal text expected (rrsync's, which we use too).
fn write_only_msg() -> &'static str {
    "reading from write-only server is not allowed"
}

/// False (after a loud skip) when the server under test is unrestricted.
fn restricted() -> bool {
    if kind_under_test() == Kind::Stock {
        harness::not_applicable("restriction cases do not apply to unrestricted stock rsync");
        return false;
    }
    true
}

/// Regular files below `dst` (it may not exist).
fn files_in(dst: &Path) -> Vec<std::path::PathBuf> {
    let Ok(t) = crate::tree::snapshot(dst) else {
        return Vec::new();
    };
    t.0.iter()
        .filter(|(_, e)| e.kind == crate::tree::Kind::File)
        .map(|(p, _)| p.clone())
        .collect()
}

/// No byte from outside the root: no sentinel, no /etc/passwd, no root path.
fn no_leak(fx: &Fixture, dst: &Path, out: &Output) -> Result<(), String> {
    assert!(
        fx.secret.is_file(),
        "sentinel file {} vanished",
        fx.secret.display()
    );
    let hits = Tree::files_containing(dst, fx.sentinel.as_bytes());
    ensure(
        hits.is_empty(),
        &format!("SENTINEL LEAKED into {hits:?}"),
        out,
    )?;
    let hits = Tree::files_containing(dst, b"root:x:0:0:");
    ensure(
        hits.is_empty(),
        &format!("/etc/passwd LEAKED into {hits:?}"),
        out,
    )?;
    ensure(
        !out.all().contains(fx.sentinel.as_str()),
        "sentinel leaked into client output",
        out,
    )?;
    if kind_under_test() == Kind::Ours {
        let root = fx.root.to_string_lossy();
        ensure(
            !out.all().contains(root.as_ref()),
            "client output reveals the server's root path",
            out,
        )?;
    }
    Ok(())
}

#[test]
fn write_only_refuses_pull() {
    if !restricted() {
        return;
    }
    let fx = fixtures::small();
    each_cell("write_only_refuses_pull", |work, cell| {
        let dst = work.path("dst");
        let spec = Spec {
            flags: &["-wo"],
            ..Spec::new(&["-a"], &["x:dir/"])
        };
        let out = super::pull_with(work, cell, &Server::tested(&["-wo"], &fx.root), &spec, &dst);
        ensure(
            out.code.is_some_and(|c| c != 0),
            "pull from a -wo server did not fail",
            &out,
        )?;
        ensure(
            out.all().contains(write_only_msg()),
            &format!("output lacks {:?}", write_only_msg()),
            &out,
        )?;
        ensure(
            files_in(&dst).is_empty(),
            "files were received from a -wo server",
            &out,
        )?;
        no_leak(fx, &dst, &out)
    });
}

#[test]
fn nothing_outside_the_root() {
    if !restricted() {
        return;
    }
    let fx = fixtures::small();
    let srcs: &[&[&str]] = &[
        &["x:../outside/secret"],
        &["x:../outside/"],
        &["x:/etc/passwd"],
        &["x:/../outside/secret"],
        &["x:dir/../../outside/secret"],
        &["x:dir/link_dir/../../../outside/secret"],
        &["x:dir/etc_link/passwd"],
        &["x:dir/etc_link/"],
        &["x:dir/", ":../outside/secret"],
        &["x:dir/*/../../../outside/*"],
    ];
    each_cell("nothing_outside_the_root", |work, cell| {
        let mut errs = Vec::new();
        for (i, s) in srcs.iter().enumerate() {
            for opts in [&["-a"][..], &["-aR"][..]] {
                let dst = work.path(&format!("dst{i}"));
                let spec = Spec::new(opts, s);
                let out =
                    super::pull_with(work, cell, &Server::tested(&["-ro"], &fx.root), &spec, &dst);
                // A lone escaping source must fail or deliver nothing.
                let r = no_leak(fx, &dst, &out).and_then(|()| {
                    let ok = s.len() > 1 || out.code != Some(0) || files_in(&dst).is_empty();
                    ensure(
                        ok && !out.timed_out,
                        "client succeeded and received files",
                        &out,
                    )
                });
                if let Err(e) = r {
                    errs.push(format!("{} {}: {e}", opts.join(" "), s.join(" ")));
                }
                let _ = std::fs::remove_dir_all(&dst);
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs.join("\n    "))
        }
    });
}

#[test]
fn etc_symlink_is_pulled_as_symlink() {
    let fx = fixtures::small();
    each_cell("etc_symlink_as_symlink", |work, cell| {
        let pair = super::pull_vs_stock(work, cell, &fx.root, &Spec::new(&["-a"], &["x:dir/"]))?;
        let target = std::fs::read_link(pair.ours.join("etc_link"))
            .map_err(|e| format!("dst/etc_link is not a symlink: {e}"))?;
        let leaked =
            pair.ours.join("etc_link/passwd").exists() && !pair.ours.join("etc_link").is_symlink();
        pair.remove();
        if target != Path::new("/etc") || leaked {
            Err(format!("etc_link -> {target:?}, want /etc"))
        } else {
            Ok(())
        }
    });
}

#[test]
fn copy_links_refused() {
    if !restricted() {
        return;
    }
    let fx = fixtures::small();
    each_cell("copy_links_refused", |work, cell| {
        let mut errs = Vec::new();
        for opts in [
            &["-aL"][..],
            &["-a", "--copy-links"],
            &["-a", "--copy-unsafe-links"],
            &["-ak"],
        ] {
            let dst = work.path("dst");
            let out = super::pull_with(
                work,
                cell,
                &Server::tested(&["-ro"], &fx.root),
                &Spec::new(opts, &["x:dir/"]),
                &dst,
            );
            let r = no_leak(fx, &dst, &out)
                .and_then(|()| ensure(out.code.is_some_and(|c| c != 0), "not refused", &out))
                .and_then(|()| {
                    ensure(
                        !dst.join("etc_link/passwd").exists(),
                        "followed etc_link",
                        &out,
                    )
                });
            if let Err(e) = r {
                errs.push(format!("{}: {e}", opts.join(" ")));
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs.join("\n    "))
        }
    });
}

/// Run the server under test directly (no client) with `cmd` as
/// SSH_ORIGINAL_COMMAND (`None` = unset).
fn direct(root: &Path, cmd: Option<&str>) -> Output {
    let mut c = match kind_under_test() {
        Kind::Rrsync => Command::new("/usr/bin/rrsync"),
        _ => Command::new(harness::bin()),
    };
    c.arg("-ro").arg(root).env_remove("SSH_ORIGINAL_COMMAND");
    if let Some(cmd) = cmd {
        c.env("SSH_ORIGINAL_COMMAND", cmd);
    }
    run(c, harness::TIMEOUT)
}

fn one_line(out: &Output) -> bool {
    out.stderr.ends_with('\n')
        && out.stderr.matches('\n').count() == 1
        && out.stderr.trim().len() > 1
}

#[test]
fn garbage_forced_commands() {
    if !restricted() {
        return;
    }
    let fx = fixtures::small();
    let mut rng = fixtures::Rng::new(0x6a7ba6e);
    let junk: String = rng
        .text(100_000)
        .into_iter()
        .map(|b| if b == b'\n' { ' ' } else { b as char })
        .collect();
    let mut rep = Report::new();
    let cases: Vec<(&str, String)> = vec![
        ("ls", "ls".to_string()),
        ("empty", String::new()),
        ("100KB junk", junk.clone()),
        (
            "rsync --server + junk",
            format!("rsync --server {}", &junk[..50_000]),
        ),
        (
            "rsync without --server",
            "rsync --sender . dir/".to_string(),
        ),
    ];
    for (name, cmd) in &cases {
        let out = direct(&fx.root, Some(cmd));
        rep.check(
            name,
            ensure(
                out.code.is_some_and(|c| c != 0) && one_line(&out),
                "want non-zero exit and exactly one stderr line",
                &out,
            ),
        );
    }
    let out = direct(&fx.root, None);
    rep.check(
        "unset",
        ensure(
            out.code == Some(1) && one_line(&out),
            "want exit 1 and a one-line hint",
            &out,
        ),
    );
    let out = direct(&fx.root, Some("true"));
    rep.check("true", ensure(out.code == Some(0), "want exit 0", &out));
    rep.finish("garbage_forced_commands");
}

#[test]
fn missing_source_file() {
    let fx = fixtures::small();
    each_cell("missing_source_file", |work, cell| {
        let dst = work.path("dst");
        let out = super::pull_with(
            work,
            cell,
            &Server::tested(&["-ro"], &fx.root),
            &Spec::new(&["-a"], &["x:dir/nope"]),
            &dst,
        );
        let all = out.all();
        ensure(
            all.contains("rsync: [sender] link_stat \"")
                && all.contains("dir/nope\" failed: No such file or directory (2)"),
            "no link_stat message",
            &out,
        )?;
        ensure(out.code == Some(23), "want exit 23", &out)?;
        if kind_under_test() != Kind::Stock {
            ensure(
                !all.contains(fx.root.to_string_lossy().as_ref()),
                "output reveals the server's root path",
                &out,
            )?;
        }
        Ok(())
    });
}
