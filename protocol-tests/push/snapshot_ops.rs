//! `-snapshot`'s operator side (issue 14), with stock clients:
//!
//! - `quotas`: `-max-files` and `-max-bytes` stop a push, which is not
//!   published (and stop a plain push too).
//! - `prune_keeps_its_policy`: `rrsync-rs prune`, dry run and `--yes`,
//!   also while a push runs.

use super::each_cell;
use super::snapshot::{big_source, first_snapshot, latest, names, partial_grew, snapshot_dir};
use super::util::{self, refused, src_arg, write_at, Bg};
use crate::fixtures::{Builder, Rng};
use crate::harness::{self, ensure, Output, Server, Work};
use crate::tree::{self, Cmp};
use std::path::Path;
use std::time::Duration;

#[test]
fn quotas() {
    if !util::ours_only("-snapshot is rrsync-rs's own") {
        return;
    }
    each_cell("snapshot_quota", |work, cell| {
        let src = work.path("src");
        let mut b = Builder::new(&src, 5);
        for i in 0..10 {
            b.text_file(&format!("f{i}.txt"), 100);
        }
        b.random_file("big.bin", 64 << 10, 0o644);
        b.finish();
        let cases: [(&str, &str); 2] = [
            ("-max-files=5", "-max-files"),
            ("-max-bytes=10K", "-max-bytes"),
        ];
        for (flag, msg) in cases {
            // A fresh root: a second push would resume what the first
            // left in `.partial`.
            let root = work.path("root");
            std::fs::create_dir_all(&root).unwrap();
            let server = Server::tested(&["-wo", "-snapshot", flag], &root);
            let o = util::push(work, cell, &server, &["-a"], &[src_arg(&src)], "x:");
            refused(&o, msg)?;
            ensure(
                latest(&root).is_none() && names(&root).is_empty(),
                "an over-quota push was published",
                &o,
            )?;
            ensure(o.code == Some(11), "want exit 11 (file I/O)", &o)?;
        }
        // The same limits without -snapshot stop a plain push too.
        let plain = work.path("plain");
        std::fs::create_dir_all(&plain).unwrap();
        let server = Server::tested(&["-wo", "-max-files=5"], &plain);
        let o = util::push(work, cell, &server, &["-a"], &[src_arg(&src)], "x:");
        refused(&o, "-max-files")?;
        let root = work.path("root");
        std::fs::create_dir_all(&root).unwrap();
        let server = Server::tested(
            &["-wo", "-snapshot", "-max-files=12", "-max-bytes=100K"],
            &root,
        );
        let o = util::push(work, cell, &server, &["-a"], &[src_arg(&src)], "x:name/");
        ensure(
            o.code == Some(0)
                && latest(&root)
                    .is_some_and(|l| snapshot_dir(&root, &l).join("name/big.bin").is_file()),
            "a push within the limits failed",
            &o,
        )?;
        Ok(())
    });
}

/// `rrsync-rs prune ARGS`.
fn prune(root: &Path, args: &[&str]) -> Output {
    let mut cmd = std::process::Command::new(harness::bin());
    cmd.arg("prune")
        .arg(root)
        .args(args)
        .env_remove("SSH_ORIGINAL_COMMAND");
    harness::run(cmd, harness::TIMEOUT)
}

#[test]
fn prune_keeps_its_policy() {
    if !util::ours_only("-snapshot is rrsync-rs's own") {
        return;
    }
    let work = Work::new("snapshot_prune");
    let mut rep = harness::Report::new();
    let r = (|| {
        let root = work.path("root");
        let made = [
            "2026-10-15T010000Z",
            "2026-11-20T010000Z",
            "2026-11-29T010000Z",
            "2026-11-30T010000Z",
            "2026-12-01T010000Z",
            "2026-12-01T230000Z",
            "2026-12-02T010000Z",
        ];
        for n in made {
            write_at(
                &snapshot_dir(&root, n).join("sub/f"),
                n.as_bytes(),
                1_700_000_000,
            );
        }
        std::os::unix::fs::symlink(".snapshots/2026-12-01T230000Z", root.join("latest")).unwrap();
        let dry = prune(&root, &["--keep-daily", "2", "--keep-monthly", "3"]);
        ensure(
            dry.code == Some(0) && dry.stdout.contains("dry run"),
            "dry run",
            &dry,
        )?;
        ensure(
            names(&root).len() == made.len(),
            "the dry run removed something",
            &dry,
        )?;
        let o = prune(
            &root,
            &["--keep-daily", "2", "--keep-monthly", "3", "--yes"],
        );
        ensure(o.code == Some(0), "prune --yes", &o)?;
        let want = [
            "2026-10-15T010000Z", // monthly (October)
            "2026-11-30T010000Z", // monthly (November)
            "2026-12-01T230000Z", // daily, and latest
            "2026-12-02T010000Z", // daily, monthly, newest
        ];
        ensure(
            names(&root) == want,
            &format!("kept {:?}", names(&root)),
            &o,
        )?;
        ensure(
            !std::fs::read_dir(root.join(".snapshots"))
                .unwrap()
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with(".removing")),
            "a removal was left half done",
            &o,
        )?;
        Ok(())
    })();
    rep.check("policy", r);
    for cell in util::native_cells() {
        let r = (|| {
            let (src, root) = (work.path("src"), work.path("root"));
            big_source(&src, 9);
            first_snapshot(&work, &cell, &src, &root)?;
            write_at(
                &snapshot_dir(&root, "2020-01-01T000000Z").join("old"),
                b"x",
                1_600_000_000,
            );
            write_at(
                &src.join("big.bin"),
                &Rng::new(10).bytes(16 << 20),
                1_700_000_000,
            );
            let server = Server::tested(&["-wo", "-snapshot"], &root);
            let args = harness::args(&["-a", "--bwlimit=4096", &src_arg(&src), "x:"]);
            let bg = Bg::start(&work, &cell, &server.rsh(&work), &args, "running");
            util::wait_for(Duration::from_secs(40), || partial_grew(&root));
            let before = latest(&root);
            let p = prune(&root, &["--keep-last", "1", "--yes"]);
            let out = bg.finish();
            ensure(p.code == Some(0), "prune beside a push", &p)?;
            ensure(out.code == Some(0), "the push beside prune failed", &out)?;
            let now = names(&root);
            ensure(
                now.len() == 2 && before.as_ref().is_some_and(|b| now.contains(b)),
                &format!("after prune and push: {now:?}"),
                &out,
            )?;
            ensure(
                latest(&root).as_ref() == now.last(),
                "latest is not the new snapshot",
                &out,
            )?;
            tree::same_dirs(
                "pushed beside prune",
                &src,
                &snapshot_dir(&root, now.last().unwrap()),
                Cmp::SOURCE,
            )
        })();
        rep.check(&format!("{} beside a push", cell.label()), r);
    }
    rep.finish("snapshot_prune");
}
