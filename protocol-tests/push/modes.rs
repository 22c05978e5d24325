//! The write modes on push (issue 3, "Modes"): `-ro` refuses a push with
//! "sending to read-only server is not allowed"; `-no-del` refuses
//! every `--delete*` and `--remove-source-files` ("option --delete has been
//! disabled on this server."); `-no-overwrite` keeps existing files
//! byte-identical (same inode and mtime) while new files arrive, exactly as
//! stock does with `--ignore-existing`, and refuses `--inplace`,
//! `--backup*`, `--partial-dir`, `--delay-updates`; without `-no-lock` a
//! second push while one runs is refused, with `-no-lock` both run. A
//! refused run must leave the root exactly as it was.
//!
//! The wording is ours: these cases only run against `rrsync-rs`.

use super::util::{self, inode, refused, seed, snap, src_arg, unchanged, write_at, Bg};
use super::{each_cell, push_vs_stock, Spec};
use crate::fixtures::{self, Rng};
use crate::harness::{self, ensure, Cell, Report, Server, Work};
use crate::tree::{self, Cmp};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// A root with a seeded `dst` (small tree), returned with its snapshot.
fn seeded_root(work: &Work, tag: &str) -> (PathBuf, tree::Tree) {
    let root = work.path(tag);
    super::prepare(
        &root,
        Some(&|r: &Path| seed(&fixtures::small().dir, &r.join("dst"))),
    );
    write_at(
        &root.join("dst/extra.txt"),
        b"not in the source",
        1_500_000_000,
    );
    let before = snap(&root);
    (root, before)
}

#[test]
fn read_only_refuses_push() {
    if !util::ours_only("refusal wording and modes are rrsync-rs's") {
        return;
    }
    let fx = fixtures::small();
    each_cell("push_ro", |work, cell| {
        let (root, before) = seeded_root(work, "ro");
        for opts in [
            &["-a"][..],
            &["-a", "--delete"][..],
            &["-a", "--mkpath"][..],
        ] {
            let server = Server::tested(&["-ro"], &root);
            let out = util::push(work, cell, &server, opts, &[src_arg(&fx.dir)], "x:dst/sub/");
            refused(&out, "sending to read-only server is not allowed")?;
            unchanged("-ro root", &before, &root, &out)?;
        }
        Ok(())
    });
}

#[test]
fn no_delete_refuses_delete() {
    if !util::ours_only("refusal wording and modes are rrsync-rs's") {
        return;
    }
    let fx = fixtures::small();
    each_cell("push_no_del", |work, cell| {
        let (root, before) = seeded_root(work, "nodel");
        let src = work.path("src-copy");
        seed(&fx.dir, &src);
        let src_before = snap(&src);
        for flags in [&["-no-del"][..], &["-wo", "-no-del"][..]] {
            for (opt, name) in [
                ("--delete", "--delete"),
                ("--delete-after", "--delete"),
                ("--delete-excluded", "--delete"),
                ("--remove-source-files", "--remove-source-files"),
            ] {
                let server = Server::tested(flags, &root);
                let out = util::push(
                    work,
                    cell,
                    &server,
                    &["-a", opt],
                    &[src_arg(&src)],
                    "x:dst/",
                );
                refused(&out, &format!("option {name}"))
                    .and_then(|()| refused(&out, "has been disabled on this server."))
                    .and_then(|()| unchanged("-no-del root", &before, &root, &out))
                    .and_then(|()| unchanged("client's source", &src_before, &src, &out))
                    .map_err(|e| format!("{flags:?} {opt}: {e}"))?;
            }
        }
        // Without --delete the same server accepts the push.
        let mut spec = Spec::new(&["-a"], &fx.dir);
        spec.flags = &["-no-del"];
        push_vs_stock(work, cell, &spec)?.remove();
        Ok(())
    });
}

/// Seeds `dst`, then makes it differ from the source: changed contents,
/// a retargeted symlink, and files/dirs missing (which must arrive).
fn partial_seed(root: &Path) {
    let dst = root.join("dst");
    seed(&fixtures::small().dir, &dst);
    write_at(&dst.join("text1.txt"), b"an older text1", 1_400_000_000);
    write_at(
        &dst.join("medium.bin"),
        &Rng::new(77).bytes(300 * 1024 + 17),
        1_400_000_000,
    );
    std::fs::remove_file(dst.join("link_rel")).expect("rm link");
    std::os::unix::fs::symlink("elsewhere", dst.join("link_rel")).expect("relink");
    let st = std::process::Command::new("touch")
        .args(["-h", "-d", "@1400000000"])
        .arg(dst.join("link_rel"))
        .status()
        .expect("run touch");
    assert!(st.success(), "touch -h link_rel");
    std::fs::remove_file(dst.join("text5.txt")).expect("rm text5");
    std::fs::remove_dir_all(dst.join("nested/a/b")).expect("rm nested/a/b");
    std::fs::remove_dir_all(dst.join("d0700")).expect("rm d0700");
}

#[test]
fn no_overwrite_keeps_existing_files() {
    if !util::ours_only("refusal wording and modes are rrsync-rs's") {
        return;
    }
    let fx = fixtures::small();
    let ino: Mutex<HashMap<PathBuf, u64>> = Mutex::new(HashMap::new());
    let prep = |root: &Path| {
        partial_seed(root);
        if let Ok(mut m) = ino.lock() {
            m.insert(
                root.to_path_buf(),
                inode(&root.join("dst/medium.bin")).map_or(0, |i| i.1),
            );
        }
    };
    each_cell("push_no_overwrite", |work, cell| {
        let mut spec = Spec::new(&["-a"], &fx.dir);
        spec.flags = &["-wo", "-no-overwrite"];
        spec.stock_extra = harness::args(&["--ignore-existing"]);
        spec.prep = Some(&prep);
        // Unlike stock's --ignore-existing, existing directories keep
        // their times (push::invariants checks every attribute).
        spec.cmp.dir_mtime = false;
        let reference_prefill = work.path("prefill");
        super::prepare(&reference_prefill, Some(&partial_seed));
        let before = snap(&reference_prefill.join("dst"));
        let pair = push_vs_stock(work, cell, &spec)?;
        let after = snap(&pair.ours.join("dst"));
        let mut bad = Vec::new();
        for (p, e) in &before.0 {
            let Some(a) = after.0.get(p) else {
                bad.push(format!("{p:?} vanished"));
                continue;
            };
            let same = e.kind == a.kind && e.hash == a.hash && e.target == a.target;
            let times = e.kind == tree::Kind::Dir || e.mtime == a.mtime;
            if !same || !times {
                bad.push(format!("{p:?} modified"));
            }
        }
        let want_ino = ino.lock().ok().and_then(|m| m.get(&pair.ours).copied());
        if inode(&pair.ours.join("dst/medium.bin")).map(|i| i.1) != want_ino {
            bad.push("medium.bin replaced (new inode)".to_string());
        }
        for new in ["text5.txt", "nested/a/b/c/deep.txt", "d0700/inside.txt"] {
            if std::fs::read(pair.ours.join("dst").join(new)).ok()
                != std::fs::read(fx.dir.join(new)).ok()
            {
                bad.push(format!("new file {new} did not arrive"));
            }
        }
        let r = ensure(
            bad.is_empty(),
            &format!("-no-overwrite: {bad:?}"),
            &pair.our_out,
        );
        pair.remove();
        r?;
        let (root, before) = seeded_root(work, "noover");
        for opt in [
            "--inplace",
            "--backup",
            "--backup-dir=bak",
            "--partial-dir=.p",
            "--delay-updates",
            "--append",
            "--append-verify",
        ] {
            let server = Server::tested(&["-wo", "-no-overwrite"], &root);
            let out = util::push(
                work,
                cell,
                &server,
                &["-a", opt],
                &[src_arg(&fx.dir)],
                "x:dst/",
            );
            // Named as the client sent it: rsync sends --backup as -b, and
            // --append-verify as --append twice.
            let shown = match opt.split('=').next().unwrap_or(opt) {
                "--backup" => "-b",
                "--append-verify" => "--append",
                o => o,
            };
            refused(
                &out,
                &format!("option {shown} has been disabled on this server."),
            )
            .and_then(|()| unchanged("-no-overwrite root", &before, &root, &out))
            .map_err(|e| format!("{opt}: {e}"))?;
        }
        Ok(())
    });
}

/// A slow push (`--bwlimit`) of an 8 MiB file, started in the background
/// and waited for until its temp file grows in the root.
fn slow_push(
    work: &Work,
    cell: &Cell,
    flags: &[&str],
    root: &Path,
    src: &Path,
    tag: &str,
) -> Result<Bg, String> {
    let server = Server::tested(flags, root);
    let args = harness::args(&["-a", "--bwlimit=512", &src_arg(src), "x:slow/"]);
    let mut bg = Bg::start(work, cell, &server.rsh(work), &args, tag);
    let dst = root.join("slow");
    if !util::wait_for(Duration::from_secs(30), || {
        util::temp_size(&dst, "big.bin") > 0
    }) {
        bg.kill_client();
        let out = bg.finish();
        return Err(format!(
            "the slow push never started writing\n      {}",
            out.describe()
        ));
    }
    Ok(bg)
}

#[test]
fn lock_refuses_second_writer() {
    if !util::ours_only("refusal wording and modes are rrsync-rs's") {
        return;
    }
    let work = Work::new("push_lock");
    let src = work.path("src");
    write_at(
        &src.join("big.bin"),
        &Rng::new(5).bytes(8 << 20),
        1_600_000_000,
    );
    let fx = fixtures::small();
    let mut rep = Report::new();
    for client in harness::clients() {
        let cell = Cell {
            client: client.clone(),
            proto: None,
        };
        let r = (|| {
            let root = work.path(&format!("locked-{}", client.version));
            std::fs::create_dir_all(&root).expect("mkdir root");
            let mut first = slow_push(&work, &cell, &["-wo"], &root, &src, "first")?;
            let out = util::push(
                &work,
                &cell,
                &Server::tested(&["-wo"], &root),
                &["-a"],
                &[src_arg(&fx.dir)],
                "x:second/",
            );
            let still = first.running();
            first.kill_client();
            drop(first);
            ensure(still, "(first push ended too early to test the lock)", &out)?;
            refused(
                &out,
                "Another instance of rrsync is already accessing this directory.",
            )?;
            ensure(
                !root.join("second").exists(),
                "the refused push wrote",
                &out,
            )?;

            let root = work.path(&format!("unlocked-{}", client.version));
            std::fs::create_dir_all(&root).expect("mkdir root");
            let mut first = slow_push(&work, &cell, &["-wo", "-no-lock"], &root, &src, "first-nl")?;
            let out = util::push(
                &work,
                &cell,
                &Server::tested(&["-wo", "-no-lock"], &root),
                &["-a"],
                &[src_arg(&fx.dir)],
                "x:second/",
            );
            let still = first.running();
            first.kill_client();
            drop(first);
            ensure(
                out.code == Some(0),
                "-no-lock: the second push failed",
                &out,
            )?;
            ensure(
                still,
                "-no-lock: the first push ended before the second (inconclusive)",
                &out,
            )?;
            tree::same_dirs(
                "-no-lock second push",
                &fx.dir,
                &root.join("second"),
                Cmp::SOURCE,
            )
        })();
        rep.check(&cell.label(), r);
    }
    rep.finish("push_lock");
}
