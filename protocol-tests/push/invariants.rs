//! The write modes as invariants (issue 9, "Modes that leak through side
//! doors"), proved against a battery of stock-client pushes that try to
//! get round them:
//!
//! - under `-no-del`, no name that existed when the session began
//!   disappears (it may be replaced at the same name with new content);
//! - under `-no-overwrite`, no existing entry of any type changes: not
//!   contents, type, mode, owner, group, times (the root directory
//!   included), nor a symlink's target. A directory that gains a new name
//!   gets its mtime from the kernel; only that is not compared;
//! - honest use still works: the new files arrive and no temporary file
//!   is left behind.
//!
//! Each case starts from a fresh root whose names collide with the pushed
//! tree in every way the receiver knows (a file where a directory comes
//! and the reverse, symlinks over files and back, a `--partial-dir` that
//! exists and holds the file's name, existing backups, hard-link groups,
//! a `--link-dest`/`--compare-dest` copy), snapshots the whole root
//! (names, types, modes, mtimes, owners, targets, content hashes) and
//! compares after. The default mode runs the same battery (without the
//! type clashes, where our replacement rules are not stock's) against
//! stock, so the guard changes nothing there.

use super::util::{refused, snap, src_arg, write_at};
use super::{push_vs_stock, Spec};
use crate::harness::{self, kind_under_test, Cell, Kind, Report, Server, Work};
use crate::tree::{Kind as K, Tree};
use std::os::unix::fs::{lchown, symlink};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

/// Pre-existing entries' mtime, and the source's.
const OLD: u64 = 1_500_000_000;
const NEW: u64 = 1_600_000_000;
/// The owner of the source's entries (`-o`/`-g` as root).
const SRC_ID: u32 = 4321;

fn am_root() -> bool {
    rustix::process::geteuid().is_root()
}

fn chmod(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn set_mtime(p: &Path, secs: u64) {
    let st = std::process::Command::new("touch")
        .args(["-h", "-d", &format!("@{secs}")])
        .arg(p)
        .status()
        .expect("run touch");
    assert!(st.success(), "touch -h {}", p.display());
}

/// The client's tree: every name collides with something in [`existing`].
fn source(dir: &Path) {
    let f = |rel: &str, data: &[u8]| write_at(&dir.join(rel), data, NEW);
    f("report.txt", b"the new report\n");
    f("sub/a.txt", b"a new a\n");
    f("sub/new.txt", b"a new file in an existing directory\n");
    f("new_dir/new.txt", b"a new file in a new directory\n");
    f("dir_in_way", b"a file where a directory is\n");
    f("file_in_way/inside.txt", b"a directory where a file is\n");
    f("file_over_link", b"a file where a symlink is\n");
    f("hl_a", b"one hard-link group\n");
    std::fs::hard_link(dir.join("hl_a"), dir.join("hl_b")).expect("hard link");
    f("keep/old.txt", b"new contents for a name that exists\n");
    symlink("same-target", dir.join("link_same")).expect("symlink");
    symlink("a-target", dir.join("link_over_file")).expect("symlink");
    symlink("new-target", dir.join("link_retarget")).expect("symlink");
    chmod(&dir.join("sub"), 0o777);
    chmod(&dir.join("keep"), 0o750);
    chmod(dir, 0o700);
    let t = snap(dir);
    for p in t.0.keys() {
        let abs = dir.join(p);
        if am_root() {
            lchown(&abs, Some(SRC_ID), Some(SRC_ID)).expect("lchown");
        }
        if std::fs::symlink_metadata(&abs).is_ok_and(|m| m.is_dir()) || p == Path::new("") {
            set_mtime(&abs, NEW);
        }
    }
    set_mtime(&dir.join("link_same"), NEW);
    set_mtime(&dir.join("link_over_file"), NEW);
    set_mtime(&dir.join("link_retarget"), NEW);
}

/// The root before each push: `dst/` collides with [`source`] everywhere,
/// `prev/` holds an exact copy of the new report for the alternate dests.
/// `clashes` adds the type clashes (directory against file).
fn existing(root: &Path, src: &Path, clashes: bool) {
    let d = root.join("dst");
    let f = |rel: &str, data: &[u8]| write_at(&d.join(rel), data, OLD);
    f("report.txt", b"the old report\n");
    f("report.txt~", b"an old backup\n");
    f("bak/report.txt", b"an old backup in the backup dir\n");
    f(
        "docs/report.txt",
        b"a file in what --partial-dir will name\n",
    );
    f("sub/a.txt", b"the old a\n");
    f("hl_a", b"old hl_a\n");
    f("hl_b", b"old hl_b\n");
    f("link_over_file", b"a file a symlink will try to replace\n");
    symlink("sub/a.txt", d.join("file_over_link")).expect("symlink");
    symlink("old-target", d.join("link_retarget")).expect("symlink");
    symlink("same-target", d.join("link_same")).expect("symlink");
    set_mtime(&d.join("link_same"), OLD);
    // A directory that gains no name: its mtime must hold too.
    f("keep/old.txt", b"the old contents\n");
    set_mtime(&d.join("file_over_link"), OLD);
    set_mtime(&d.join("link_retarget"), OLD);
    if clashes {
        f(
            "dir_in_way/inner.txt",
            b"inside a directory a file will try to replace\n",
        );
        f("file_in_way", b"a file a directory will try to replace\n");
    }
    for dir in ["", "sub", "docs", "bak", "keep"] {
        chmod(&d.join(dir), 0o755);
    }
    let prev = root.join("prev/report.txt");
    std::fs::create_dir_all(root.join("prev")).expect("mkdir prev");
    std::fs::copy(src.join("report.txt"), &prev).expect("copy report");
    let t = UNIX_EPOCH + Duration::from_secs(NEW) + Duration::from_nanos(123_000_000);
    let file = std::fs::File::options()
        .write(true)
        .open(&prev)
        .expect("open");
    file.set_modified(t).expect("set mtime");
    if am_root() {
        lchown(&prev, Some(SRC_ID), Some(SRC_ID)).expect("lchown");
    }
}

/// The client commands that try to get round the modes (with `-a`, or
/// the attribute options alone for the reproduced `-rp` case).
fn battery() -> Vec<Vec<&'static str>> {
    let with_a = |more: &[&'static str]| [&["-a"][..], more].concat();
    vec![
        vec!["-rp"],
        vec!["-rt"],
        vec!["-rlptgoD"],
        with_a(&[]),
        with_a(&["-I"]),
        with_a(&["--partial-dir=docs"]),
        with_a(&["-I", "--partial-dir=docs"]),
        with_a(&["--delay-updates"]),
        with_a(&["-b"]),
        with_a(&["--backup-dir=bak"]),
        with_a(&["--link-dest=../prev"]),
        with_a(&["--compare-dest=../prev"]),
        with_a(&["-H"]),
        with_a(&["-H", "-I"]),
        with_a(&["--inplace", "-I"]),
        with_a(&["--force"]),
    ]
}

/// Every way `after` breaks the invariants of `flags` against `before`.
fn violations(flags: &[&str], before: &Tree, after: &Tree) -> Vec<String> {
    let no_del = flags.contains(&"-no-del");
    let no_over = flags.contains(&"-no-overwrite");
    let children = |t: &Tree, dir: &Path| -> Vec<PathBuf> {
        let p = |k: &&PathBuf| k.parent() == Some(dir) && k.as_os_str() != dir.as_os_str();
        t.0.keys().filter(p).cloned().collect()
    };
    let mut bad = Vec::new();
    for (p, b) in &before.0 {
        let shown = if p.as_os_str().is_empty() {
            Path::new(".")
        } else {
            p
        };
        let Some(a) = after.0.get(p) else {
            if no_del || no_over {
                bad.push(format!("{shown:?} disappeared"));
            }
            continue;
        };
        if !no_over {
            continue;
        }
        let mut what = Vec::new();
        if a.kind != b.kind {
            what.push(format!("type {:?} -> {:?}", b.kind, a.kind));
        } else if (a.size, a.hash) != (b.size, b.hash) {
            what.push("contents".to_string());
        }
        if a.target != b.target {
            what.push(format!("target {:?} -> {:?}", b.target, a.target));
        }
        if b.kind != K::Symlink && a.mode != b.mode {
            what.push(format!("mode {:o} -> {:o}", b.mode, a.mode));
        }
        if (a.uid, a.gid) != (b.uid, b.gid) {
            what.push(format!("owner {}:{} -> {}:{}", b.uid, b.gid, a.uid, a.gid));
        }
        // A directory that gained a name has the kernel's new mtime.
        let grew = b.kind == K::Dir && children(after, p) != children(before, p);
        if a.mtime != b.mtime && !grew {
            what.push(format!("mtime {} -> {}", b.mtime.0, a.mtime.0));
        }
        if !what.is_empty() {
            bad.push(format!("{shown:?} changed: {}", what.join(", ")));
        }
    }
    for p in after.0.keys().filter(|p| !before.0.contains_key(*p)) {
        let dot = p
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if dot {
            bad.push(format!("{p:?}: temporary file left behind"));
        }
    }
    bad
}

/// The honest part of the push arrived.
fn arrived(root: &Path, src: &Path) -> Vec<String> {
    ["sub/new.txt", "new_dir/new.txt"]
        .iter()
        .filter(|n| std::fs::read(root.join("dst").join(n)).ok() != std::fs::read(src.join(n)).ok())
        .map(|n| format!("new file {n} did not arrive"))
        .collect()
}

/// The cells: each client at its own protocol, the newest also at 28
/// (no item flags on the wire, no partial-dir basis).
fn cells() -> Vec<Cell> {
    let mut v: Vec<Cell> = harness::clients()
        .iter()
        .map(|c| Cell {
            client: c.clone(),
            proto: None,
        })
        .collect();
    if let Some(c) = harness::clients().first() {
        v.push(Cell {
            client: c.clone(),
            proto: Some(28),
        });
    }
    v
}

/// Runs the battery under `flags`; every violation of every case fails.
fn hold(test: &str, flags: &[&str]) {
    if kind_under_test() != Kind::Ours {
        harness::not_applicable("the modes are rrsync-rs's");
        return;
    }
    let work = Work::new(test);
    let src = work.path("src");
    source(&src);
    let mut rep = Report::new();
    for cell in cells() {
        let mut errs = Vec::new();
        for (n, opts) in battery().iter().enumerate() {
            let root = work.path(&format!("root-{n}"));
            super::prepare(&root, Some(&|r: &Path| existing(r, &src, true)));
            let before = snap(&root);
            let server = Server::tested(flags, &root);
            let out = super::util::push(&work, &cell, &server, opts, &[src_arg(&src)], "x:dst/");
            let after = snap(&root);
            let mut bad = violations(flags, &before, &after);
            let policy_refused = refused(&out, "has been disabled on this server").is_ok();
            if !policy_refused {
                bad.extend(arrived(&root, &src));
            }
            if out.code.is_none() {
                bad.push("the push hung or was killed".to_string());
            }
            if !bad.is_empty() {
                errs.push(format!(
                    "`{}` under {flags:?}:\n        {}\n      {}",
                    opts.join(" "),
                    bad.join("\n        "),
                    out.describe()
                ));
            }
            let _ = std::fs::remove_dir_all(&root);
        }
        let r = if errs.is_empty() {
            Ok(())
        } else {
            Err(errs.join("\n    "))
        };
        rep.check(&cell.label(), r);
    }
    rep.finish(test);
}

#[test]
fn no_delete_keeps_every_existing_name() {
    hold("inv_no_del", &["-no-del"]);
}

#[test]
fn no_overwrite_changes_no_existing_entry() {
    hold("inv_no_overwrite", &["-no-overwrite"]);
}

#[test]
fn drop_box_changes_and_removes_nothing() {
    hold("inv_drop_box", &["-wo", "-no-overwrite", "-no-del"]);
}

/// The default mode with the same battery equals stock `rsync --server`
/// (minus the type clashes): the writer's guard costs honest use nothing.
#[test]
fn default_mode_battery_matches_stock() {
    let work = Work::new("inv_default");
    let src = work.path("src");
    source(&src);
    // Without the clashes the source's dir_in_way/file_in_way are new.
    let prep = |r: &Path| existing(r, &src, false);
    let mut rep = Report::new();
    for cell in cells() {
        let mut errs = Vec::new();
        // Stock's --backup-dir copies each directory's attributes into the
        // backup tree, which we do not (basic::backup_dir covers the files).
        let comparable = |o: &&Vec<&str>| !o.contains(&"--backup-dir=bak");
        for opts in battery().iter().filter(comparable) {
            let mut spec = Spec::new(opts, &src);
            // Without -t the kernel's mtimes differ from run to run; stock
            // leaves directory times unset with -b (known, not ours).
            let t = opts.contains(&"-a") || opts.contains(&"-rt");
            spec.cmp.file_mtime = t;
            spec.cmp.link_mtime = t;
            spec.cmp.dir_mtime = t && !opts.contains(&"-b");
            spec.flags = &[];
            spec.prep = Some(&prep);
            match push_vs_stock(&work, &cell, &spec) {
                Ok(pair) => pair.remove(),
                Err(e) => errs.push(e),
            }
        }
        let r = if errs.is_empty() {
            Ok(())
        } else {
            Err(errs.join("\n    "))
        };
        rep.check(&cell.label(), r);
    }
    rep.finish("inv_default");
}
