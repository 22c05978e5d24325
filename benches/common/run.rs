//! Running one stock rsync client transfer against either server.
//!
//! Both servers are started by the client through its `-e` remote-shell
//! hook (`main.c do_cmd()`: `PROGRAM HOST rsync --server ...`), via the
//! same small shell shim so that both pay the same startup overhead:
//! `srv.sh TIMEFILE ours BIN local -ro|-wo ROOT HOST rsync --server ...`
//! execs our binary (which takes HOST and the command itself), and
//! `srv.sh TIMEFILE stock ROOT HOST rsync --server ...` changes to ROOT,
//! drops HOST and execs the stock `rsync --server`. When GNU time is
//! installed the shim execs the server under `/usr/bin/time -f '%U %S %M'`,
//! which reports the user+sys CPU of the server process and the children
//! it waited for (`wait4` rusage), and the peak RSS of the largest. That
//! CPU figure moves in scheduler ticks (10 ms here), too coarse for runs
//! of a tenth of a second, so where `perf stat` works it wraps the lot
//! and its `task-clock` (the server's and its children's run time, in
//! nanoseconds, plus the `time` process's own fraction of a millisecond)
//! is the CPU reported instead.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use super::R;

/// Which server the client talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Server {
    Stock,
    Ours,
}

/// One measured client run.
#[derive(Debug)]
pub struct Outcome {
    pub exit_ok: bool,
    pub wall: Duration,
    /// Server user+sys seconds, when GNU time is available.
    pub cpu: Option<f64>,
    /// Server peak resident set size in bytes (GNU time's `%M`: the
    /// largest of the server's processes, not their sum).
    pub rss: Option<u64>,
    /// `--stats` "Literal data" in bytes.
    pub literal: Option<u64>,
    /// When the client printed its first regular file's name, from a
    /// separate run through the plain shim ([`Harness::first_file`]).
    pub first_file: Option<Duration>,
    pub stderr: String,
}

/// Finds (and if stale, builds) the binary of rrsync-rs that is
/// installed and packaged: the `dist` profile (fat LTO, one codegen
/// unit), which takes about 5 % less CPU than `release` on the small-file
/// and no-change cases, so that the figures are those of what users run.
pub fn ensure_binary() -> R<PathBuf> {
    if let Some(p) = std::env::var_os("RRSYNC_BIN") {
        return Ok(PathBuf::from(p));
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("target"));
    let bin = target.join("dist/rrsync-rs");
    let built = fs::metadata(&bin).and_then(|m| m.modified()).ok();
    let mut newest = newest_mtime(&manifest.join("src"));
    if let Ok(t) = fs::metadata(manifest.join("Cargo.toml")).and_then(|m| m.modified()) {
        newest = newest.max(Some(t));
    }
    if built.is_none() || built < newest {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        eprintln!("building {} (dist)...", bin.display());
        let st = Command::new(cargo)
            .args(["build", "--profile", "dist", "--bin", "rrsync-rs"])
            .current_dir(manifest)
            .status()?;
        if !st.success() {
            if built.is_none() {
                return Err(format!("cargo build --profile dist failed: {st}").into());
            }
            eprintln!("warning: build failed ({st}); benchmarking the existing binary");
        }
    }
    Ok(bin)
}

fn newest_mtime(dir: &Path) -> Option<SystemTime> {
    let mut newest = None;
    for e in fs::read_dir(dir).ok()?.flatten() {
        let Ok(m) = e.metadata() else { continue };
        let t = if m.is_dir() {
            newest_mtime(&e.path())
        } else {
            m.modified().ok()
        };
        newest = newest.max(t);
    }
    newest
}

/// The shim scripts and scratch files of one benchmark run.
pub struct Harness {
    pub bin: PathBuf,
    pub shim: PathBuf,
    /// The shim without `perf` or `time`, for [`Harness::first_file`].
    pub plain: PathBuf,
    pub scratch: PathBuf,
    pub timeout: Duration,
    pub has_time: bool,
    /// `perf stat` measures the server's CPU.
    pub has_perf: bool,
}

impl Harness {
    pub fn new(bin: PathBuf, scratch: &Path, timeout: Duration) -> R<Self> {
        let has_time = Path::new("/usr/bin/time").exists()
            && Command::new("/usr/bin/time")
                .args(["-f", "%U %S", "-o", "/dev/null", "true"])
                .status()
                .is_ok_and(|s| s.success());
        let has_perf = Command::new("perf")
            .args(["stat", "-x,", "-e", "task-clock", "-o", "/dev/null", "true"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        let timed = match (has_perf, has_time) {
            (true, true) => {
                r#"exec perf stat -x, -e task-clock -o "$tf.perf" /usr/bin/time -f '%U %S %M' -o "$tf" "$@""#
            }
            (true, false) => r#"exec perf stat -x, -e task-clock -o "$tf.perf" "$@""#,
            (false, true) => r#"exec /usr/bin/time -f '%U %S %M' -o "$tf" "$@""#,
            (false, false) => r#"exec "$@""#,
        };
        fs::create_dir_all(scratch)?;
        let shim = write_shim(&scratch.join("srv.sh"), timed)?;
        let plain = write_shim(&scratch.join("plain.sh"), r#"exec "$@""#)?;
        Ok(Harness {
            bin,
            shim,
            plain,
            scratch: scratch.to_path_buf(),
            timeout,
            has_time,
            has_perf,
        })
    }

    /// The `-e` value for `server` serving `root` (`push`: write-only);
    /// `flags` are further wrapper flags for our server (e.g. `-blind`).
    /// `plain`: without the wrappers that measure its CPU and memory.
    pub fn rsh(
        &self,
        server: Server,
        root: &Path,
        push: bool,
        flags: &[&str],
        plain: bool,
    ) -> String {
        let tf = self.scratch.join("cpu.txt");
        let shim = if plain { &self.plain } else { &self.shim };
        let (shim, tf, root) = (shim.display(), tf.display(), root.display());
        match server {
            Server::Stock => format!("{shim} {tf} stock {root}"),
            Server::Ours => {
                let mode = if push { "-wo" } else { "-ro" };
                let more: String = flags.iter().map(|f| format!(" {f}")).collect();
                format!(
                    "{shim} {tf} ours {} local {mode}{more} {root}",
                    self.bin.display()
                )
            }
        }
    }

    /// Runs `rsync ARGS` (the client) until it prints its first regular
    /// file's name, then kills it and its server: how long the client
    /// waited for its first file. `ARGS` should name the plain shim, so
    /// that `perf stat`'s start-up (tens of milliseconds, and uneven) is
    /// not in the figure.
    pub fn first_file(&self, args: &[String]) -> R<Option<Duration>> {
        use std::io::BufRead;
        let mut cmd = Command::new("rsync");
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let start = Instant::now();
        let mut child = cmd.spawn()?;
        let pid = rustix::process::Pid::from_child(&child);
        let (done, dog) = watchdog(pid, self.timeout);
        let mut first = None;
        if let Some(out) = child.stdout.take() {
            for line in std::io::BufReader::new(out).lines() {
                if is_file_line(&line?) {
                    first = Some(start.elapsed());
                    break;
                }
            }
        }
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        child.wait()?;
        let _ = done.send(());
        let _ = dog.join();
        Ok(first)
    }

    /// Runs `rsync ARGS` (the client), timing it from spawn to exit.
    pub fn run_client(&self, args: &[String]) -> R<Outcome> {
        let tf = self.scratch.join("cpu.txt");
        let (out, err) = (self.scratch.join("out.txt"), self.scratch.join("err.txt"));
        let pf = self.scratch.join("cpu.txt.perf");
        let _ = fs::remove_file(&tf);
        let _ = fs::remove_file(&pf);
        let mut cmd = Command::new("rsync");
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(fs::File::create(&err)?);
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let start = Instant::now();
        let mut child = cmd.spawn()?;
        let pid = rustix::process::Pid::from_child(&child);
        let reader = child
            .stdout
            .take()
            .map(|o| std::thread::spawn(move || read_lines(o, &out)));
        let (done, dog) = watchdog(pid, self.timeout);
        let status = child.wait()?;
        let wall = start.elapsed();
        let _ = done.send(());
        let timed_out = dog.join().unwrap_or(false);
        let stdout = match reader.map(|r| r.join()) {
            Some(Ok(Ok(v))) => v,
            _ => String::new(),
        };
        let mut stderr = fs::read_to_string(&err).unwrap_or_default();
        if timed_out {
            stderr.push_str(&format!("\n(killed after {:?})", self.timeout));
        }
        let times = fs::read_to_string(&tf).unwrap_or_default();
        let task_clock = parse_task_clock(&fs::read_to_string(&pf).unwrap_or_default());
        let (cpu, rss) = (task_clock.or(parse_cpu(&times)), parse_rss(&times));
        Ok(Outcome {
            exit_ok: status.success() && !timed_out,
            wall,
            cpu,
            rss,
            literal: parse_stat(&stdout, "Literal data:"),
            first_file: None,
            stderr,
        })
    }
}

/// Writes the server shim that ends in `run` (`exec` of the server, under
/// whatever measures it).
fn write_shim(path: &Path, run: &str) -> R<PathBuf> {
    let script = format!(
        "#!/bin/sh\n\
         # srv.sh TIMEFILE ours BIN ARGS... | srv.sh TIMEFILE stock ROOT HOST CMD...\n\
         tf=$1; kind=$2; shift 2\n\
         if [ \"$kind\" = stock ]; then cd \"$1\" || exit 1; shift 2; fi\n\
         {run}\n"
    );
    fs::write(path, script)?;
    let mut perm = fs::metadata(path)?.permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
    fs::set_permissions(path, perm)?;
    Ok(path.to_path_buf())
}

/// Kills process group `pid` unless told to stand down within `timeout`;
/// the thread returns whether it killed.
fn watchdog(
    pid: rustix::process::Pid,
    timeout: Duration,
) -> (mpsc::Sender<()>, std::thread::JoinHandle<bool>) {
    let (done, wait) = mpsc::channel::<()>();
    let dog = std::thread::spawn(move || {
        if wait.recv_timeout(timeout).is_err() {
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
            true
        } else {
            false
        }
    });
    (done, dog)
}

/// Whether a line of `--out-format=%n` output names a regular file: it
/// has a `/` and does not end in one.
fn is_file_line(line: &str) -> bool {
    line.contains('/') && !line.ends_with('/') && !line.contains(' ')
}

/// Copies the client's stdout into `path` and keeps it.
fn read_lines(out: std::process::ChildStdout, path: &Path) -> std::io::Result<String> {
    use std::io::{BufRead, Write};
    let mut file = fs::File::create(path)?;
    let mut all = String::new();
    for line in std::io::BufReader::new(out).lines() {
        let line = line?;
        writeln!(file, "{line}")?;
        all.push_str(&line);
        all.push('\n');
    }
    Ok(all)
}

/// The last line of GNU time's `%U %S` output (earlier lines may hold
/// "Command exited with non-zero status").
fn parse_cpu(s: &str) -> Option<f64> {
    let line = s.lines().rev().find(|l| !l.trim().is_empty())?;
    let mut it = line.split_whitespace().map(|w| w.parse::<f64>().ok());
    Some(it.next()?? + it.next()??)
}

/// `perf stat -x,`'s `task-clock` line: `MSEC,msec,task-clock,...`.
pub fn parse_task_clock(s: &str) -> Option<f64> {
    let line = s.lines().find(|l| l.contains(",task-clock,"))?;
    let ms: f64 = line.split(',').next()?.parse().ok()?;
    Some(ms / 1000.0)
}

/// The third field of the last line: `%M`, in KiB.
fn parse_rss(s: &str) -> Option<u64> {
    let line = s.lines().rev().find(|l| !l.trim().is_empty())?;
    let kib: u64 = line.split_whitespace().nth(2)?.parse().ok()?;
    Some(kib * 1024)
}

/// `--stats` lines look like `Literal data: 1,234 bytes`.
fn parse_stat(stdout: &str, key: &str) -> Option<u64> {
    let line = stdout.lines().find_map(|l| l.trim().strip_prefix(key))?;
    let num: String = line
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .collect();
    num.replace(',', "").parse().ok()
}
