//! Escapes on push (issue 3, "Done when" escapes): a sentinel directory
//! outside the root ([`Outside`]) is snapshotted before and compared after
//! every attempt, and no file in the root may become a hard link to it.
//! - a pushed symlink to the outside (absolute, and `../..` relative),
//!   then writes through it: a real dir `link/` with a file, a file pushed
//!   to `x:dst/link/` and to `x:dst/link/file`, `-R --no-implied-dirs
//!   link/file`, `--mkpath x:dst/link/sub/`;
//! - `-R` source names with `..`, and forced commands whose arguments
//!   carry `..` (`SSH_ORIGINAL_COMMAND` crafted by hand);
//! - `--temp-dir`, `--backup-dir`, `--partial-dir`, `--link-dest`,
//!   `--copy-dest`, `--compare-dest` pointing outside (`../../outside`,
//!   `/../x`): refused. A root-anchored absolute path may be accepted, but
//!   then must stay inside the root.
//!
//! Stock rsync is unrestricted by design: these run against ours only.

use super::each_cell;
use super::util::{self, src_arg, write_at, Outside};
use crate::harness::{self, ensure, run, Server, Work};
use std::process::Command;
use std::time::Duration;

#[test]
fn symlink_then_write_through_it() {
    if !util::ours_only("escapes are only meaningful for the restricted server") {
        return;
    }
    each_cell("push_symlink_escape", |work, cell| {
        let outside = Outside::new(work, "outside");
        let name = outside
            .dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // A source tree whose `link` is a real directory.
        let src2 = work.path("src2");
        write_at(
            &src2.join("link/file"),
            b"written through the link?",
            1_600_000_000,
        );
        write_at(
            &src2.join("link/sub/secret"),
            b"overwrite attempt",
            1_600_000_000,
        );
        let file = src2.join("link/file").display().to_string();
        let mut errs = Vec::new();
        for target in [outside.dir.display().to_string(), format!("../../{name}")] {
            let root = work.path("root");
            std::fs::create_dir_all(&root).expect("mkdir root");
            let server = Server::tested(&["-wo"], &root);
            let src1 = work.path("src1");
            std::fs::create_dir_all(&src1).expect("mkdir src1");
            std::os::unix::fs::symlink(&target, src1.join("link")).expect("symlink");
            let out = util::push(work, cell, &server, &["-a"], &[src_arg(&src1)], "x:dst/");
            if let Err(e) = ensure(
                out.code == Some(0),
                "pushing the symlink itself failed",
                &out,
            ) {
                errs.push(format!("link -> {target}: {e}"));
                continue;
            }
            let attempts: Vec<(Vec<&str>, Vec<String>, &str)> = vec![
                (vec!["-a"], vec![src_arg(&src2)], "x:dst/"),
                (vec!["-a"], vec![file.clone()], "x:dst/link/"),
                (vec!["-a"], vec![file.clone()], "x:dst/link/file"),
                (
                    vec!["-a"],
                    vec![src2.join("link/sub/secret").display().to_string()],
                    "x:dst/link/sub/",
                ),
                (
                    vec!["-a", "--mkpath"],
                    vec![file.clone()],
                    "x:dst/link/new/",
                ),
                (
                    vec!["-a", "-R", "--no-implied-dirs"],
                    vec![format!("{}/./link/sub/secret", src2.display())],
                    "x:dst/",
                ),
                (
                    vec!["-a", "-R", "--no-implied-dirs"],
                    vec![format!("{}/./link/file", src2.display())],
                    "x:dst/",
                ),
            ];
            for (opts, srcs, dest) in attempts {
                // Re-plant the link (an attempt may have replaced it).
                let dst = root.join("dst");
                let _ = std::fs::remove_dir_all(dst.join("link"));
                let _ = std::fs::remove_file(dst.join("link"));
                std::os::unix::fs::symlink(&target, dst.join("link")).expect("re-plant link");
                let out = util::push(work, cell, &server, &opts, &srcs, dest);
                if let Err(e) = outside.intact(&root, &out) {
                    errs.push(format!("link -> {target}; {} {dest}: {e}", opts.join(" ")));
                }
            }
            let _ = std::fs::remove_dir_all(&root);
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs.join("\n    "))
        }
    });
}

#[test]
fn relative_names_with_dotdot() {
    if !util::ours_only("escapes are only meaningful for the restricted server") {
        return;
    }
    each_cell("push_relative_dotdot", |work, cell| {
        let outside = Outside::new(work, "outside");
        let name = outside
            .dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // The client's cwd is two levels deep in its own tree, where
        // `../../NAME/secret` is a different (evil) local file.
        let client_top = work.path("client");
        write_at(
            &client_top.join(&name).join("secret"),
            b"EVIL",
            1_700_000_000,
        );
        write_at(
            &client_top.join(&name).join("sub/file"),
            b"EVIL",
            1_700_000_000,
        );
        let cwd = client_top.join("x/y");
        std::fs::create_dir_all(&cwd).expect("mkdir cwd");
        let root = work.path("root");
        std::fs::create_dir_all(root.join("dst")).expect("mkdir root/dst");
        let rsh = Server::tested(&["-wo"], &root).rsh(work);
        let mut errs = Vec::new();
        for (extra, srcs) in [
            (
                vec!["-R"],
                vec![format!("../../{name}/secret"), format!("../../{name}/sub")],
            ),
            (
                vec!["-R", "--no-implied-dirs"],
                vec![format!("../../{name}/secret")],
            ),
            (vec!["-R"], vec![format!("a/../../../{name}/secret")]),
        ] {
            let mut cmd = Command::new(&cell.client.path);
            cmd.current_dir(&cwd).arg("-e").arg(&rsh);
            if let Some(p) = cell.proto {
                cmd.arg(format!("--protocol={p}"));
            }
            cmd.arg("-a").args(&extra).args(&srcs).arg("x:dst/");
            let out = run(cmd, harness::TIMEOUT);
            if let Err(e) = outside.intact(&root, &out) {
                errs.push(format!("{extra:?} {srcs:?}: {e}"));
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
fn crafted_forced_commands_with_dotdot() {
    if !util::ours_only("escapes are only meaningful for the restricted server") {
        return;
    }
    let work = Work::new("push_crafted");
    let outside = Outside::new(&work, "outside");
    let name = outside
        .dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let root = work.path("root");
    std::fs::create_dir_all(root.join("dst")).expect("mkdir root/dst");
    let mut errs = Vec::new();
    for cmdline in [
        format!("rsync --server -logDtpre.iLsfxCIvu . ../{name}"),
        format!("rsync --server -logDtpre.iLsfxCIvu . dst/../../{name}"),
        format!("rsync --server -logDtpRre.iLsfxCIvu . ../{name}/"),
        format!("rsync --server -logDtpre.iLsfxCIvu --temp-dir=../../{name} . dst/"),
        format!("rsync --server -logDtpre.iLsfxCIvu --backup-dir=../../{name} . dst/"),
        format!("rsync --server -logDtpre.iLsfxCIvu --link-dest=../../{name} . dst/"),
        "rsync --server -logDtpre.iLsfxCIvu --partial-dir=/../x . dst/".to_string(),
    ] {
        for flags in [&["-wo"][..], &[][..]] {
            let mut cmd = Command::new(harness::bin());
            cmd.args(flags)
                .arg(&root)
                .env("SSH_ORIGINAL_COMMAND", &cmdline);
            let out = harness::run(cmd, Duration::from_secs(20));
            let r = ensure(
                out.code.is_some_and(|c| c != 0) && !out.stderr.trim().is_empty(),
                "want a refusal (non-zero exit, a message on stderr)",
                &out,
            )
            .and_then(|()| outside.intact(&root, &out));
            if let Err(e) = r {
                errs.push(format!("{flags:?} `{cmdline}`: {e}"));
            }
        }
    }
    assert!(
        errs.is_empty(),
        "crafted commands:\n  {}",
        errs.join("\n  ")
    );
}

#[test]
fn dir_options_pointing_outside() {
    if !util::ours_only("escapes are only meaningful for the restricted server") {
        return;
    }
    each_cell("push_dir_options_escape", |work, cell| {
        let outside = Outside::new(work, "outside");
        let name = outside
            .dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let abs = outside.dir.display().to_string();
        // The source's `secret` equals the outside one (a --link-dest
        // would hard-link it); `other` differs from the root's copy (a
        // backup or temp file would be made).
        let src = work.path("src");
        std::fs::create_dir_all(&src).expect("mkdir src");
        std::fs::copy(outside.dir.join("secret"), src.join("secret")).expect("copy secret");
        let f = std::fs::File::options()
            .write(true)
            .open(src.join("secret"))
            .expect("open");
        f.set_modified(std::time::UNIX_EPOCH + Duration::from_secs(1_500_000_000))
            .expect("mtime");
        write_at(&src.join("other"), &vec![b'n'; 100_000], 1_600_000_000);
        let mut errs = Vec::new();
        for (opts, must_refuse) in [
            (
                vec!["--temp-dir".to_string(), format!("../../{name}")],
                true,
            ),
            (vec![format!("--temp-dir=/../{name}")], true),
            (
                vec!["-b".to_string(), format!("--backup-dir=../../{name}")],
                true,
            ),
            (
                vec!["-b".to_string(), "--backup-dir=/../x".to_string()],
                true,
            ),
            (vec![format!("--partial-dir=../../{name}")], true),
            (vec![format!("--link-dest=../../{name}")], true),
            (vec!["--link-dest=/../x".to_string()], true),
            (vec![format!("--copy-dest=../../{name}")], true),
            (vec![format!("--compare-dest=../../{name}")], true),
            (vec![format!("--link-dest={abs}")], false),
            (vec!["-b".to_string(), format!("--backup-dir={abs}")], false),
            (vec![format!("--temp-dir={abs}")], false),
        ] {
            let root = work.path("root");
            write_at(&root.join("dst/other"), b"old other", 1_400_000_000);
            let mut a = vec!["-a".to_string()];
            a.extend(opts.iter().cloned());
            a.push(src_arg(&src));
            a.push("x:dst/".to_string());
            let out = harness::rsync(cell, &Server::tested(&["-wo"], &root).rsh(work), &a);
            let r = outside.intact(&root, &out).and_then(|()| {
                if must_refuse {
                    ensure(
                        out.code.is_some_and(|c| c != 0)
                            && std::fs::read(root.join("dst/other")).ok().as_deref()
                                == Some(&b"old other"[..]),
                        "not refused",
                        &out,
                    )
                } else {
                    Ok(())
                }
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
