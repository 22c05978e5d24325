//! `-snapshot` (issue 14): every push lands in a new dated snapshot
//! beneath `ROOT/.snapshots`, published as `ROOT/latest` when it ends
//! well; nothing a client sends reaches an earlier one.
//!
//! - `daily_mirror`: several days of an ordinary `rsync -a --delete -i`
//!   mirror (changes, attribute-only changes, additions, deletions, then a
//!   push from an empty directory). Each day the client's output and the
//!   new snapshot equal stock `rsync --server` mirroring into a plain
//!   directory; every earlier snapshot stays exactly as it was that day;
//!   unchanged files share their inode with the day before; a `-ro` key
//!   restores `latest/`; the audit line names the snapshot and counts
//!   what the client's itemized output shows.
//! - `killed_push_keeps_latest`: a client killed at several points
//!   leaves `latest` on the previous snapshot, untouched, and the next
//!   push succeeds.
//! - `earlier_snapshots_are_out_of_reach`: names, `..`, symlinks the
//!   client sent, `--link-dest` and the directory options.
//!
//! The limits and `prune` are in `snapshot_ops`.

use super::each_cell;
use super::util::{self, inode, refused, snap, src_arg, write_at, Bg};
use crate::fixtures::{Builder, Rng};
use crate::harness::{self, ensure, Cell, Output, Server, Work};
use crate::tree::{self, Cmp, Tree};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The snapshots' names, oldest first.
pub(super) fn names(root: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root.join(".snapshots"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// What `latest` points to.
pub(super) fn latest(root: &Path) -> Option<String> {
    let t = std::fs::read_link(root.join("latest")).ok()?;
    t.strip_prefix(".snapshots")
        .ok()
        .map(|n| n.to_string_lossy().into_owned())
}

pub(super) fn snapshot_dir(root: &Path, name: &str) -> PathBuf {
    root.join(".snapshots").join(name)
}

/// Each path's inode (device, number), if it has one.
type Inodes = Vec<(PathBuf, Option<(u64, u64)>)>;

/// Every snapshot as it was when it was made, with its files' inodes.
#[derive(Default)]
pub(super) struct History(Vec<(String, Tree, Inodes)>);

impl History {
    fn record(&mut self, root: &Path, name: &str) {
        let dir = snapshot_dir(root, name);
        let t = snap(&dir);
        let inodes =
            t.0.keys()
                .map(|p| (p.clone(), inode(&dir.join(p))))
                .collect();
        self.0.push((name.to_string(), t, inodes));
    }

    /// Every recorded snapshot is still there, byte for byte, inode for
    /// inode.
    fn intact(&self, root: &Path, out: &Output) -> Result<(), String> {
        for (name, t, inodes) in &self.0 {
            let dir = snapshot_dir(root, name);
            util::unchanged(&format!("snapshot {name}"), t, &dir, out)?;
            for (p, ino) in inodes {
                ensure(
                    inode(&dir.join(p)) == *ino,
                    &format!("snapshot {name}: {} was replaced", p.display()),
                    out,
                )?;
            }
        }
        Ok(())
    }
}

/// The first day's source tree.
fn day0(src: &Path) {
    let mut b = Builder::new(src, 14);
    b.dir("docs", 0o755)
        .dir("docs/old", 0o750)
        .text_file("docs/a.txt", 3000)
        .text_file("docs/b.txt", 500)
        .text_file("docs/old/c.txt", 700)
        .random_file("data.bin", 200_000, 0o644)
        .text_file("mode.txt", 100)
        .text_file("touch.txt", 100)
        .text_file("gone.txt", 100)
        .text_file("pair/a.txt", 100)
        .link("link", "docs/a.txt");
    b.finish();
    // A hard-linked pair that never changes (with -H, its second name is
    // an `hf` line and counts as added).
    std::fs::hard_link(src.join("pair/a.txt"), src.join("pair/b.txt")).unwrap();
}

/// Day `n`'s changes to the source.
fn change(src: &Path, day: u32) {
    use std::os::unix::fs::PermissionsExt;
    let t = 1_700_000_000 + u64::from(day) * 86_400;
    match day {
        1 => {
            write_at(&src.join("docs/a.txt"), b"rewritten on day one\n", t);
            std::fs::set_permissions(src.join("mode.txt"), std::fs::Permissions::from_mode(0o600))
                .unwrap();
            write_at(&src.join("new/file.txt"), b"added on day one\n", t);
            std::fs::remove_file(src.join("gone.txt")).unwrap();
            std::fs::remove_file(src.join("docs/b.txt")).unwrap();
            std::os::unix::fs::symlink("../data.bin", src.join("docs/b.txt")).unwrap();
        }
        2 => {
            std::fs::remove_dir_all(src.join("docs/old")).unwrap();
            let data = std::fs::read(src.join("touch.txt")).unwrap();
            write_at(&src.join("touch.txt"), &data, t);
        }
        4 => {
            std::fs::remove_dir_all(src).unwrap();
            std::fs::create_dir_all(src).unwrap();
        }
        _ => {}
    }
    // Fixed times for the directories: at whole seconds (below protocol
    // 31) a time of "now" could equal the destination's after its
    // deletions, and whether a directory is itemized would depend on
    // timing.
    for (p, e) in &snap(src).0 {
        if e.kind == tree::Kind::Dir {
            let d = std::fs::File::open(src.join(p)).unwrap();
            d.set_modified(std::time::UNIX_EPOCH + Duration::from_secs(t))
                .unwrap();
        }
    }
}

fn sorted(s: &str) -> Vec<&str> {
    let mut v: Vec<&str> = s.lines().collect();
    v.sort_unstable();
    v
}

/// `(added, changed, deleted)` as the client's `-i` lines show them.
fn itemized(stdout: &str) -> (u64, u64, u64) {
    let mut c = (0, 0, 0);
    for l in stdout.lines() {
        if l.starts_with("*deleting") {
            c.2 += 1;
        } else if l.contains("+++++++++") {
            c.0 += 1;
        } else if l.len() > 12 && l.as_bytes().get(11) == Some(&b' ') {
            c.1 += 1;
        }
    }
    c
}

fn audit_number(line: &str, key: &str) -> Option<u64> {
    let at = line.find(&format!("\"{key}\":"))? + key.len() + 3;
    let digits: String = line
        .get(at..)?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

#[test]
fn daily_mirror() {
    if !util::ours_only("-snapshot is rrsync-rs's own") {
        return;
    }
    each_cell("snapshot_daily", |work, cell| {
        let src = work.path("src");
        day0(&src);
        let (stock, ours) = (work.path("stock"), work.path("ours"));
        std::fs::create_dir_all(&stock).unwrap();
        std::fs::create_dir_all(&ours).unwrap();
        let audit = work.dir.join(format!("audit-{}", cell.label()));
        let audit_s = audit.to_string_lossy().into_owned();
        // Even days through a -wo key, odd days through a key that may
        // also pull: -snapshot works with and without -wo.
        let wo = Server::tested(&["-wo", "-snapshot", "-audit", &audit_s], &ours);
        let rw = Server::tested(&["-snapshot", "-audit", &audit_s], &ours);
        let mut history = History::default();
        let opts = ["-a", "--delete", "-i", "-H"];
        for day in 0..5 {
            change(&src, day);
            let srcs = [src_arg(&src)];
            let r = util::push(work, cell, &Server::stock(&stock), &opts, &srcs, "x:");
            let server = if day % 2 == 0 { &wo } else { &rw };
            let o = util::push(work, cell, server, &opts, &srcs, "x:");
            ensure(r.code == Some(0) && o.code == Some(0), "a push failed", &o)?;
            // Below protocol 29 the client itemizes from its own side (and
            // stock garbles its deletion lines there). The server's
            // deletion lines and the client's own lines interleave as the
            // two processes' timing has it, with stock too: the lines are
            // compared as a set.
            ensure(
                cell.protocol() < 29 || sorted(&r.stdout) == sorted(&o.stdout),
                &format!("day {day}: -i differs from stock: {}", r.describe()),
                &o,
            )?;
            let all = names(&ours);
            ensure(
                all.len() == day as usize + 1,
                &format!("day {day}: {all:?}"),
                &o,
            )?;
            let name = all.last().cloned().unwrap_or_default();
            ensure(
                latest(&ours).as_ref() == Some(&name),
                "latest is not the new snapshot",
                &o,
            )?;
            let new = snapshot_dir(&ours, &name);
            // The snapshot holds what the client had that day, as stock's
            // mirror does (directory and symlink times aside: where an
            // entry in a directory changes, both servers' directory times
            // depend on the order of their work).
            let cmp = Cmp::SOURCE;
            tree::same_dirs(&format!("day {day} (source)"), &src, &new, cmp)?;
            tree::same_dirs(&format!("day {day} (stock)"), &stock, &new, cmp)?;
            history.intact(&ours, &o)?;
            if let Some((_, prev, prev_inodes)) = history.0.last() {
                let now = snap(&new);
                for ((p, e), (_, ino)) in prev.0.iter().zip(prev_inodes) {
                    if e.kind == tree::Kind::File && now.0.get(p) == Some(e) {
                        ensure(
                            inode(&new.join(p)) == *ino,
                            &format!("day {day}: unchanged {} is not shared", p.display()),
                            &o,
                        )?;
                    }
                }
            }
            history.record(&ours, &name);
            let line = std::fs::read_to_string(&audit).unwrap_or_default();
            let line = line.lines().last().unwrap_or_default().to_string();
            ensure(
                line.contains(&format!("\"snapshot\":\"{name}\"")),
                &format!("audit: {line}"),
                &o,
            )?;
            if cell.protocol() >= 29 {
                let (a, c, d) = itemized(&o.stdout);
                let got = ["added", "changed", "deleted"].map(|k| audit_number(&line, k));
                ensure(
                    got == [Some(a), Some(c), Some(d)] || (a + c + d == 0 && got[0].is_none()),
                    &format!(
                        "day {day}: audit counts {got:?}, -i shows {:?}: {line}",
                        (a, c, d)
                    ),
                    &o,
                )?;
            }
            if day == 3 {
                let restore = work.path("restore");
                let ro = Server::tested(&["-ro"], &ours);
                let out = util::push(
                    work,
                    cell,
                    &ro,
                    &["-a"],
                    &["x:latest/".into()],
                    &src_arg(&restore),
                );
                ensure(out.code == Some(0), "restore from latest/ failed", &out)?;
                tree::same_dirs("restore", &src, &restore, cmp)?;
                // The push key itself reads the served directory.
                let again = work.path("restore-rw");
                let dest = src_arg(&again);
                let out = util::push(work, cell, &rw, &["-a"], &["x:latest/".into()], &dest);
                ensure(
                    out.code == Some(0),
                    "restore through the -snapshot key",
                    &out,
                )?;
                tree::same_dirs("restore through the push key", &src, &again, cmp)?;
                // An earlier snapshot, by name.
                let first = history.0.first().map(|h| h.0.clone()).unwrap_or_default();
                let old = work.path("restore-first");
                let from = format!("x:.snapshots/{first}/");
                let out = util::push(work, cell, &ro, &["-a"], &[from], &src_arg(&old));
                ensure(out.code == Some(0), "restore of the first snapshot", &out)?;
                tree::same_dirs("first snapshot", &snapshot_dir(&ours, &first), &old, cmp)?;
            }
        }
        Ok(())
    });
}

/// A root with one snapshot of `src` (16 MiB file and a few small ones).
pub(super) fn first_snapshot(
    work: &Work,
    cell: &Cell,
    src: &Path,
    root: &Path,
) -> Result<History, String> {
    std::fs::create_dir_all(root).unwrap();
    let server = Server::tested(&["-wo", "-snapshot"], root);
    let o = util::push(work, cell, &server, &["-a"], &[src_arg(src)], "x:");
    ensure(o.code == Some(0), "first push", &o)?;
    let mut h = History::default();
    h.record(root, &names(root).pop().unwrap_or_default());
    Ok(h)
}

pub(super) fn big_source(src: &Path, seed: u64) {
    let mut b = Builder::new(src, seed);
    b.random_file("big.bin", 16 << 20, 0o644)
        .text_file("a.txt", 100)
        .text_file("sub/b.txt", 100);
    b.finish();
}

pub(super) fn partial_grew(root: &Path) -> bool {
    let p = root.join(".snapshots/.partial");
    std::fs::read_dir(&p).is_ok_and(|rd| {
        rd.flatten().any(|e| {
            e.file_name().to_string_lossy().starts_with(".big.bin.")
                && e.metadata().is_ok_and(|m| m.len() >= 1 << 20)
        })
    })
}

#[test]
fn killed_push_keeps_latest() {
    if !util::ours_only("-snapshot is rrsync-rs's own") {
        return;
    }
    let work = Work::new("snapshot_killed");
    let mut rep = harness::Report::new();
    let mut rng = Rng::new(7);
    for cell in util::native_cells() {
        let delays: Vec<u64> = vec![0, 50 + rng.below(300), 1000];
        for (i, delay) in delays.into_iter().enumerate() {
            let r = (|| {
                let (src, root) = (work.path("src"), work.path("root"));
                big_source(&src, 1);
                let history = first_snapshot(&work, &cell, &src, &root)?;
                let first = latest(&root);
                write_at(
                    &src.join("big.bin"),
                    &Rng::new(2 + i as u64).bytes(16 << 20),
                    1_700_000_000,
                );
                let server = Server::tested(&["-wo", "-snapshot"], &root);
                let args =
                    harness::args(&["-a", "--delete", "--bwlimit=2048", &src_arg(&src), "x:"]);
                let mut bg = Bg::start(&work, &cell, &server.rsh(&work), &args, "killed");
                if delay >= 1000 {
                    util::wait_for(Duration::from_secs(40), || partial_grew(&root));
                } else {
                    std::thread::sleep(Duration::from_millis(delay));
                }
                bg.kill_client();
                let gone = bg.group_gone(Duration::from_secs(15));
                let out = bg.finish();
                ensure(gone, "the server outlived the client by 15 s", &out)?;
                ensure(
                    latest(&root) == first,
                    "latest moved after a killed push",
                    &out,
                )?;
                ensure(names(&root).len() == 1, "a killed push was published", &out)?;
                history.intact(&root, &out)?;
                let server = Server::tested(&["-wo", "-snapshot"], &root);
                let o = util::push(
                    &work,
                    &cell,
                    &server,
                    &["-a", "--delete"],
                    &[src_arg(&src)],
                    "x:",
                );
                ensure(
                    o.code == Some(0),
                    "the push after the killed one failed",
                    &o,
                )?;
                let n = latest(&root).unwrap_or_default();
                ensure(Some(&n) != first.as_ref(), "latest did not move", &o)?;
                tree::same_dirs("after resume", &src, &snapshot_dir(&root, &n), Cmp::SOURCE)?;
                ensure(
                    util::temp_files(&snapshot_dir(&root, &n), &[]).is_empty(),
                    "temporary files published",
                    &o,
                )?;
                history.intact(&root, &o)
            })();
            rep.check(&format!("{} kill after {delay} ms", cell.label()), r);
        }
    }
    rep.finish("snapshot_killed");
}

#[test]
fn earlier_snapshots_are_out_of_reach() {
    if !util::ours_only("-snapshot is rrsync-rs's own") {
        return;
    }
    each_cell("snapshot_reach", |work, cell| {
        let src = work.path("src");
        let mut b = Builder::new(&src, 3);
        b.text_file("f.txt", 200)
            .dir("d", 0o755)
            .text_file("d/g.txt", 100);
        // Symlinks the client stores, pointing at the snapshots' parent.
        b.link("up", "..").link("up2", "../..").link("abs", "/");
        b.finish();
        let root = work.path("root");
        let mut history = first_snapshot(work, cell, &src, &root)?;
        let first = names(&root).pop().unwrap_or_default();
        let server = Server::tested(&["-wo", "-snapshot"], &root);
        let f = vec![format!("{}/f.txt", src.display())];
        let attempts: Vec<(Vec<&str>, String, Option<&str>)> = vec![
            (vec!["-a"], format!("x:../.snapshots/{first}/"), Some("..")),
            (vec!["-a"], format!("x:../{first}/"), Some("..")),
            (vec!["-a"], "x:up/".into(), None),
            (vec!["-a"], format!("x:up/{first}/d/"), None),
            (vec!["-a"], "x:up2/latest/".into(), None),
            (vec!["-a"], "x:abs/tmp/".into(), None),
            (vec!["-a"], format!("x:.snapshots/{first}/"), None),
            (vec!["-a"], "x:latest/".into(), None),
            (vec!["-a", "--link-dest=/"], "x:".into(), Some("disabled")),
            (vec!["-a", "--copy-dest=up"], "x:".into(), Some("disabled")),
            (
                vec!["-a", "--compare-dest=x"],
                "x:".into(),
                Some("disabled"),
            ),
            (
                vec!["-ab", "--backup-dir=../b"],
                "x:".into(),
                Some("outside"),
            ),
            (vec!["-ab", "--backup-dir=up/x"], "x:".into(), None),
            (vec!["-a", "--partial-dir=../p"], "x:".into(), Some("..")),
            (vec!["-a", "--temp-dir=../t"], "x:".into(), Some("outside")),
            (vec!["-a", "--temp-dir=up"], "x:".into(), None),
            (vec!["-a", "--inplace"], "x:".into(), Some("disabled")),
            (vec!["-a", "--append"], "x:".into(), Some("disabled")),
            (
                vec!["-a", "-M--log-file=x.log"],
                "x:".into(),
                Some("disabled"),
            ),
            (vec!["-a", "--delete"], format!("x:up/{first}/"), None),
        ];
        for (opts, dest, refusal) in attempts {
            let o = util::push(work, cell, &server, &opts, &f, &dest);
            if let Some(msg) = refusal {
                refused(&o, msg)?;
            }
            history.intact(&root, &o)?;
            ensure(
                latest(&root).is_some_and(|l| names(&root).contains(&l)),
                &format!("{opts:?} {dest}: latest is not a snapshot"),
                &o,
            )?;
            // Whatever was published is a snapshot of its own.
            if let Some(n) = latest(&root).filter(|n| !history.0.iter().any(|h| &h.0 == n)) {
                history.record(&root, &n);
            }
        }
        Ok(())
    });
}
