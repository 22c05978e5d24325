//! Helpers for the push cases: seeding trees, "Literal data" parsing,
//! leftover temp-file detection (rsync's `.name.XXXXXX`), inodes, a client
//! run in the background that can be SIGKILLed alone (not its process
//! group), a tmpfs mount guard and a sentinel directory outside the root.

use crate::harness::{self, Cell, Output, Server, Work};
use crate::tree::{self, Cmp, Tree};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, UNIX_EPOCH};

/// `rsync -a SRC/ DST/` with the local stock client (seeding only).
pub fn seed(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).expect("mkdir seed dst");
    let st = Command::new("/usr/bin/rsync")
        .arg("-a")
        .arg(format!("{}/", src.display()))
        .arg(format!("{}/", dst.display()))
        .status()
        .expect("run rsync to seed");
    assert!(st.success(), "seeding {}", dst.display());
}

/// Write `data` to `path` (parents created) with mtime `secs`.123.
pub fn write_at(path: &Path, data: &[u8], secs: u64) {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).expect("mkdir parent");
    }
    std::fs::write(path, data).expect("write file");
    let f = std::fs::File::open(path).expect("open file");
    f.set_modified(UNIX_EPOCH + Duration::new(secs, 123_000_000))
        .expect("set mtime");
}

/// "Literal data: 1,234 bytes" → 1234.
pub fn literal_data(stats: &str) -> Option<u64> {
    stat_bytes(stats, "Literal data:")
}

/// The byte count of `--stats`' "Matched data:" line.
pub fn matched_data(stats: &str) -> Option<u64> {
    stat_bytes(stats, "Matched data:")
}

/// The byte count of the `--stats` line that starts with `label`.
pub fn stat_bytes(stats: &str, label: &str) -> Option<u64> {
    let line = stats.lines().find(|l| l.trim_start().starts_with(label))?;
    let digits: String = line
        .split(':')
        .nth(1)?
        .split_whitespace()
        .next()?
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Dot-files below `dir` (rsync temp files `.name.XXXXXX`; the fixtures
/// have none of their own). Directories named in `allow` are not entered.
pub fn temp_files(dir: &Path, allow: &[&str]) -> Vec<PathBuf> {
    let Ok(t) = tree::snapshot(dir) else {
        return Vec::new();
    };
    t.0.keys()
        .filter(|p| {
            !p.components()
                .any(|c| allow.iter().any(|a| c.as_os_str() == *a))
        })
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .cloned()
        .collect()
}

/// `Err` listing leftover temp files below `dir`.
pub fn no_temp(dir: &Path, allow: &[&str], out: &Output) -> Result<(), String> {
    let t = temp_files(dir, allow);
    harness::ensure(t.is_empty(), &format!("temp files left: {t:?}"), out)
}

/// (device, inode) of `path` (not following symlinks).
pub fn inode(path: &Path) -> Option<(u64, u64)> {
    std::fs::symlink_metadata(path)
        .ok()
        .map(|m| (m.dev(), m.ino()))
}

/// Every (device, inode) of a regular file below `dir`.
pub fn all_inodes(dir: &Path) -> Vec<(u64, u64)> {
    let Ok(t) = tree::snapshot(dir) else {
        return Vec::new();
    };
    t.0.iter()
        .filter(|(_, e)| e.kind == tree::Kind::File)
        .filter_map(|(p, _)| inode(&dir.join(p)))
        .collect()
}

/// Snapshot or panic (the test's own directories).
pub fn snap(dir: &Path) -> Tree {
    tree::snapshot(dir).unwrap_or_else(|e| panic!("snapshot {}: {e}", dir.display()))
}

/// `Err` unless `dir` still matches `before` exactly.
pub fn unchanged(what: &str, before: &Tree, dir: &Path, out: &Output) -> Result<(), String> {
    let after =
        tree::snapshot(dir).map_err(|e| format!("{what}: snapshot {}: {e}", dir.display()))?;
    tree::same(what, before, &after, Cmp::ALL).map_err(|e| format!("{e}\n      {}", out.describe()))
}

/// Push args: `opts… SRCS… DEST` through `server`.
pub fn push(
    work: &Work,
    cell: &Cell,
    server: &Server,
    opts: &[&str],
    srcs: &[String],
    dest: &str,
) -> Output {
    let mut a = harness::args(opts);
    a.extend(srcs.iter().cloned());
    a.push(dest.to_string());
    harness::rsync(cell, &server.rsh(work), &a)
}

/// A trailing-slash source argument for `dir`.
pub fn src_arg(dir: &Path) -> String {
    format!("{}/", dir.display())
}

/// A refusal: non-zero exit and `msg` somewhere in the client's output.
pub fn refused(out: &Output, msg: &str) -> Result<(), String> {
    harness::ensure(
        out.code.is_some_and(|c| c != 0) && out.all().contains(msg),
        &format!("want a refusal containing {msg:?}"),
        out,
    )
}

/// A sentinel directory outside every root, with a file and a subdir.
pub struct Outside {
    pub dir: PathBuf,
    pub before: Tree,
    pub inodes: Vec<(u64, u64)>,
}

impl Outside {
    pub fn new(work: &Work, name: &str) -> Outside {
        let dir = work.path(name);
        write_at(&dir.join("secret"), b"OUTSIDE-SENTINEL\n", 1_500_000_000);
        write_at(
            &dir.join("sub/file"),
            b"OUTSIDE-SENTINEL sub\n",
            1_500_000_000,
        );
        let before = snap(&dir);
        let inodes = all_inodes(&dir);
        Outside {
            dir,
            before,
            inodes,
        }
    }
    /// Nothing outside changed, and no file under `root` is a hard link to
    /// a file outside.
    pub fn intact(&self, root: &Path, out: &Output) -> Result<(), String> {
        unchanged(
            "SENTINEL DIR outside the root",
            &self.before,
            &self.dir,
            out,
        )?;
        let linked: Vec<_> = all_inodes(root)
            .into_iter()
            .filter(|i| self.inodes.contains(i))
            .collect();
        harness::ensure(
            linked.is_empty(),
            "a file in the root is a HARD LINK to a file outside",
            out,
        )
    }
}

/// A client started in its own process group with output to files, so
/// that the client alone can be SIGKILLed mid-transfer.
pub struct Bg {
    child: Child,
    pgid: rustix::process::Pid,
    out: PathBuf,
    err: PathBuf,
    reaped: Option<Option<i32>>,
}

impl Bg {
    pub fn start(work: &Work, cell: &Cell, rsh: &str, args: &[String], tag: &str) -> Bg {
        let out = work.dir.join(format!("{tag}.stdout"));
        let err = work.dir.join(format!("{tag}.stderr"));
        let mut cmd = Command::new(&cell.client.path);
        cmd.arg("-e").arg(rsh);
        if let Some(p) = cell.proto {
            cmd.arg(format!("--protocol={p}"));
        }
        cmd.args(args)
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).expect("create stdout file"))
            .stderr(std::fs::File::create(&err).expect("create stderr file"))
            .process_group(0);
        let child = cmd.spawn().expect("spawn background client");
        let pgid = rustix::process::Pid::from_child(&child);
        Bg {
            child,
            pgid,
            out,
            err,
            reaped: None,
        }
    }
    /// Stops (`false`) or resumes (`true`) the client alone.
    pub fn pause(&self, resume: bool) {
        let sig = if resume {
            rustix::process::Signal::CONT
        } else {
            rustix::process::Signal::STOP
        };
        let _ = rustix::process::kill_process(self.pgid, sig);
    }
    /// True while the client runs.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
    /// SIGKILL to the client's PID only, then reap it.
    pub fn kill_client(&mut self) {
        let _ = rustix::process::kill_process(self.pgid, rustix::process::Signal::KILL);
        let _ = self.child.wait();
        self.reaped = Some(None);
    }
    /// Wait until every process of the group (the server) has gone, up to
    /// `limit`; true when they all exited by themselves.
    pub fn group_gone(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let pg = self.pgid.as_raw_nonzero().get();
        loop {
            if !group_members(pg) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    /// Wait for the client (bounded by the harness timeout) and collect.
    pub fn finish(mut self) -> Output {
        let deadline = Instant::now() + harness::TIMEOUT;
        let mut timed_out = false;
        let code = match self.reaped.take() {
            Some(c) => c,
            None => loop {
                match self.child.try_wait() {
                    Ok(Some(st)) => break st.code(),
                    Ok(None) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(20))
                    }
                    _ => {
                        timed_out = true;
                        let _ = self.child.kill();
                        let _ = self.child.wait();
                        break None;
                    }
                }
            },
        };
        self.group_gone(Duration::from_secs(5));
        Output {
            code,
            timed_out,
            stdout: std::fs::read_to_string(&self.out).unwrap_or_default(),
            stderr: std::fs::read_to_string(&self.err).unwrap_or_default(),
        }
    }
}

impl Drop for Bg {
    fn drop(&mut self) {
        let _ = rustix::process::kill_process_group(self.pgid, rustix::process::Signal::KILL);
        let _ = self.child.try_wait();
    }
}

/// True when a live (non-zombie) process has process group `pg`.
fn group_members(pg: i32) -> bool {
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return false;
    };
    rd.flatten().any(|e| {
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            return false;
        };
        // pid (comm) state ppid pgrp ...; comm may hold spaces.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            return false;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        f.first() != Some(&"Z") && f.get(2).and_then(|g| g.parse::<i32>().ok()) == Some(pg)
    })
}

/// Poll `cond` every 20 ms up to `limit`.
pub fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    cond()
}

/// Size of the largest `.NAME.*` temp file in `dir` (0 when none).
pub fn temp_size(dir: &Path, name: &str) -> u64 {
    let prefix = format!(".{name}.");
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                .filter_map(|e| e.metadata().ok().map(|m| m.len()))
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0)
}

/// A small tmpfs mounted for one test, unmounted on drop.
pub struct Tmpfs(pub PathBuf);

impl Tmpfs {
    /// `mount -t tmpfs -o size=SIZE tmpfs DIR`, or `None` when not allowed.
    pub fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).ok()?;
        let st = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .stderr(Stdio::null())
            .status()
            .ok()?;
        st.success().then(|| Tmpfs(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let st = Command::new("umount").arg(&self.0).status();
        if !st.is_ok_and(|s| s.success()) {
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
}

#[test]
fn parses_literal_data() {
    assert_eq!(
        literal_data("Literal data: 1,234,567 bytes\n"),
        Some(1_234_567)
    );
    assert_eq!(
        literal_data("Matched data: 5 bytes\nLiteral data: 0 bytes"),
        Some(0)
    );
    assert_eq!(literal_data("nothing"), None);
    assert_eq!(
        matched_data("Matched data: 5 bytes\nLiteral data: 0 bytes"),
        Some(5)
    );
}

/// Each client at its own protocol only.
pub fn native_cells() -> Vec<Cell> {
    harness::clients()
        .iter()
        .map(|c| Cell {
            client: c.clone(),
            proto: None,
        })
        .collect()
}

/// True when the server under test is ours; otherwise the case is noted
/// as not applicable, for `why`.
pub fn ours_only(why: &str) -> bool {
    if harness::kind_under_test() == harness::Kind::Ours {
        return true;
    }
    harness::not_applicable(why);
    false
}

/// The lines of a client's output, sorted: its items, whatever order
/// the two servers' lists came in.
pub fn sorted_lines(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s.lines().map(str::to_string).collect();
    v.sort();
    v
}
