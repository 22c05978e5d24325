//! Process harness for the protocol suite: locates the server binary and the
//! rsync clients, writes `-e` shims, runs commands with a hard timeout and
//! collects per-matrix-cell failures.
//!
//! Environment:
//! - `RRSYNC_BIN`: server binary (default: cargo's `CARGO_BIN_EXE_rrsync-rs`).
//! - `RSYNC_CLIENTS`: colon-separated client paths (default: `/usr/bin/rsync`
//!   and `target/clients/rsync-3.2.7/usr/bin/rsync`).
//! - `PROTOCOL_TESTS_SERVER`: `ours` (default), `stock` (plain `rsync --server`
//!   started like sshd would, to validate the harness) or `rrsync` (the
//!   upstream `/usr/bin/rrsync` script, to validate the refusal cases).
//! - `PROTOCOL_TESTS_STRICT=1`: a missing client or sshd fails instead of
//!   skipping (set by `.ci/run`).
//! - `PROTOCOL_TESTS_KEEP=1`: keep every work directory.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, OnceLock};
use std::time::{Duration, Instant};

/// Per-command timeout: a hung server must not hang CI.
pub const TIMEOUT: Duration = Duration::from_secs(120);

/// Which implementation answers on the far side of the shim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `rrsync-rs FLAGS ROOT` (the system under test).
    Ours,
    /// `cd ROOT && sh -c "$SSH_ORIGINAL_COMMAND"`: unrestricted stock rsync.
    Stock,
    /// Upstream `/usr/bin/rrsync FLAGS ROOT` (python), for refusal baselines.
    Rrsync,
}

/// The server kind selected by `PROTOCOL_TESTS_SERVER`.
pub fn kind_under_test() -> Kind {
    match std::env::var("PROTOCOL_TESTS_SERVER").as_deref() {
        Ok("stock") => Kind::Stock,
        Ok("rrsync") => Kind::Rrsync,
        _ => Kind::Ours,
    }
}

/// True when skips must become failures (CI).
pub fn strict() -> bool {
    std::env::var_os("PROTOCOL_TESTS_STRICT").is_some_and(|v| v != "0")
}

/// Skip loudly, or fail under `PROTOCOL_TESTS_STRICT`.
pub fn skip(why: &str) {
    assert!(!strict(), "PROTOCOL_TESTS_STRICT set but: {why}");
    eprintln!("\n*** SKIPPED: {why} ***\n");
}

/// Skip a case that does not apply to the selected server kind (never an
/// error, even under `PROTOCOL_TESTS_STRICT`).
pub fn not_applicable(why: &str) {
    eprintln!("(not applicable to {:?}: {why})", kind_under_test());
}

/// The rrsync-rs binary.
pub fn bin() -> PathBuf {
    match std::env::var_os("RRSYNC_BIN") {
        Some(p) => std::fs::canonicalize(&p).unwrap_or_else(|_| PathBuf::from(p)),
        None => PathBuf::from(env!("CARGO_BIN_EXE_rrsync-rs")),
    }
}

/// One rsync client binary and its native protocol.
#[derive(Clone, Debug)]
pub struct Client {
    pub path: PathBuf,
    pub version: String,
    pub native: u32,
}

fn probe(path: &Path) -> Option<Client> {
    let out = Command::new(path)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let first = text.lines().next()?;
    let words: Vec<&str> = first.split_whitespace().collect();
    let vi = words.iter().position(|w| *w == "version")?;
    let pi = words.iter().rposition(|w| *w == "version")?;
    Some(Client {
        path: path.to_path_buf(),
        version: words.get(vi + 1)?.to_string(),
        native: words.get(pi + 1)?.parse().ok()?,
    })
}

/// Every available client (missing ones are skipped loudly).
pub fn clients() -> &'static [Client] {
    static CLIENTS: OnceLock<Vec<Client>> = OnceLock::new();
    CLIENTS.get_or_init(|| {
        let list = std::env::var("RSYNC_CLIENTS").unwrap_or_else(|_| {
            let dflt = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("target/clients/rsync-3.2.7/usr/bin/rsync");
            format!("/usr/bin/rsync:{}", dflt.display())
        });
        let mut v = Vec::new();
        for p in list.split(':').filter(|p| !p.is_empty()) {
            match probe(Path::new(p)) {
                Some(c) => v.push(c),
                None => skip(&format!("rsync client {p} is missing or does not run")),
            }
        }
        assert!(!v.is_empty(), "no usable rsync client (RSYNC_CLIENTS)");
        v
    })
}

/// One cell of the client × protocol matrix; `proto == None` is native.
#[derive(Clone, Debug)]
pub struct Cell {
    pub client: Client,
    pub proto: Option<u32>,
}

impl Cell {
    /// The protocol actually spoken.
    pub fn protocol(&self) -> u32 {
        self.proto.unwrap_or(self.client.native)
    }
    pub fn label(&self) -> String {
        format!("rsync-{}@p{}", self.client.version, self.protocol())
    }
}

/// Forced protocols exercised besides each client's native one.
pub const FORCED: [u32; 5] = [31, 30, 29, 28, 27];

/// Every client at its native protocol and at each forced one below it.
pub fn matrix() -> Vec<Cell> {
    let mut v = Vec::new();
    for c in clients() {
        v.push(Cell {
            client: c.clone(),
            proto: None,
        });
        for p in FORCED.iter().copied().filter(|p| *p < c.native) {
            v.push(Cell {
                client: c.clone(),
                proto: Some(p),
            });
        }
    }
    v
}

/// A scratch directory removed on drop unless the thread is panicking.
pub struct Work {
    pub dir: PathBuf,
}

/// Per-process base directory; stale ones from dead processes are removed.
pub fn process_base() -> &'static Path {
    static BASE: OnceLock<PathBuf> = OnceLock::new();
    BASE.get_or_init(|| {
        let tmp = std::env::temp_dir();
        if let Ok(rd) = std::fs::read_dir(&tmp) {
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if let Some(pid) = name.strip_prefix("rrsync-pt-") {
                    if !Path::new("/proc").join(pid).exists() {
                        let _ = std::fs::remove_dir_all(e.path());
                    }
                }
            }
        }
        let base = tmp.join(format!("rrsync-pt-{}", std::process::id()));
        std::fs::create_dir_all(&base).expect("create process base dir");
        base
    })
}

impl Work {
    pub fn new(name: &str) -> Work {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = process_base().join(format!("{name}-{n}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create work dir");
        Work { dir }
    }
    /// A fresh (non-existent) path inside the work dir.
    pub fn path(&self, name: &str) -> PathBuf {
        let p = self.dir.join(name);
        let _ = std::fs::remove_dir_all(&p);
        p
    }
}

impl Drop for Work {
    fn drop(&mut self) {
        if std::thread::panicking() || std::env::var_os("PROTOCOL_TESTS_KEEP").is_some() {
            eprintln!("(kept work dir {})", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// How the client reaches the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// A shell script that mimics sshd's forced command (the default).
    Shim,
    /// `rrsync-rs local FLAGS ROOT` as the `-e` program (Ours only).
    Local,
}

/// A server configuration: implementation, rrsync flags and root.
#[derive(Clone, Debug)]
pub struct Server {
    pub kind: Kind,
    pub flags: Vec<String>,
    pub root: PathBuf,
    pub transport: Transport,
}

fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

impl Server {
    pub fn new(kind: Kind, flags: &[&str], root: &Path) -> Server {
        Server {
            kind,
            flags: flags.iter().map(|s| s.to_string()).collect(),
            root: root.to_path_buf(),
            transport: Transport::Shim,
        }
    }
    /// The server under test with `flags`.
    pub fn tested(flags: &[&str], root: &Path) -> Server {
        Server::new(kind_under_test(), flags, root)
    }
    /// The unrestricted stock reference.
    pub fn stock(root: &Path) -> Server {
        Server::new(Kind::Stock, &[], root)
    }

    /// The value for the client's `-e`; a shim is written into `work`.
    pub fn rsh(&self, work: &Work) -> String {
        if self.transport == Transport::Local && self.kind == Kind::Ours {
            let mut s = format!("{} local", bin().display());
            for f in &self.flags {
                s.push(' ');
                s.push_str(f);
            }
            return format!("{s} {}", self.root.display());
        }
        static N: AtomicUsize = AtomicUsize::new(0);
        let shim = work.dir.join(format!(
            "shim-{:?}-{}.sh",
            self.kind,
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let root = sh_quote(&self.root.to_string_lossy());
        let flags: String = self
            .flags
            .iter()
            .map(|f| format!(" {}", sh_quote(f)))
            .collect();
        let tail = match self.kind {
            Kind::Ours => format!("exec {}{flags} {root}", sh_quote(&bin().to_string_lossy())),
            Kind::Rrsync => format!("exec /usr/bin/rrsync{flags} {root}"),
            Kind::Stock => format!("cd {root} && exec /bin/sh -c \"$SSH_ORIGINAL_COMMAND\""),
        };
        let script = format!(
            "#!/bin/sh\n# ssh stand-in: drop options up to the host, join the rest like sshd\n\
             while [ $# -gt 0 ]; do\n  case \"$1\" in\n    -l) shift 2 ;;\n    -*) shift ;;\n    *) shift; break ;;\n  esac\ndone\n\
             SSH_ORIGINAL_COMMAND=\"$*\"\nexport SSH_ORIGINAL_COMMAND\n{tail}\n"
        );
        std::fs::write(&shim, script).expect("write shim");
        std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755))
            .expect("chmod shim");
        // Run through sh rather than exec'd: a script just written can be
        // `Text file busy` to exec while another test thread forks with
        // its write descriptor still open; reading it never is.
        format!("/bin/sh {}", shim.to_string_lossy())
    }
}

/// What a finished command produced.
#[derive(Debug)]
pub struct Output {
    /// Exit code; `None` when killed by a signal or the timeout.
    pub code: Option<i32>,
    pub timed_out: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// stdout + stderr, for "output contains" checks.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
    /// A short description for failure messages.
    pub fn describe(&self) -> String {
        let cut = |s: &str| {
            let mut end = s.len().min(3000);
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            if end < s.len() {
                format!("{}…[{} bytes]", &s[..end], s.len())
            } else {
                s.to_string()
            }
        };
        format!(
            "exit {:?}{}\n      stdout: {}\n      stderr: {}",
            self.code,
            if self.timed_out { " (TIMED OUT)" } else { "" },
            cut(self.stdout.trim_end()).replace('\n', "\n              "),
            cut(self.stderr.trim_end()).replace('\n', "\n              ")
        )
    }
}

fn reader(
    mut r: impl Read + Send + 'static,
    tx: mpsc::Sender<()>,
) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        let _ = tx.send(());
        buf
    })
}

/// Run `cmd` (stdin = /dev/null) in its own process group; kill the whole
/// group on timeout, and any stragglers shortly after the leader exits.
pub fn run(mut cmd: Command, timeout: Duration) -> Output {
    // Circuit breaker: once a few commands have hung, stop paying 120 s each.
    static TIMEOUTS: AtomicUsize = AtomicUsize::new(0);
    let timeout = if TIMEOUTS.load(Ordering::Relaxed) >= 3 {
        timeout.min(Duration::from_secs(15))
    } else {
        timeout
    };
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    cmd.env("LC_ALL", "C").env("TZ", "UTC");
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return Output {
                code: None,
                timed_out: false,
                stdout: String::new(),
                stderr: format!("spawn {cmd:?}: {e}"),
            }
        }
    };
    let pid = rustix::process::Pid::from_child(&child);
    let kill = || {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    };
    let (tx, rx) = mpsc::channel();
    let out_t = reader(child.stdout.take().expect("piped stdout"), tx.clone());
    let err_t = reader(child.stderr.take().expect("piped stderr"), tx);
    let deadline = Instant::now() + timeout;
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) if Instant::now() >= deadline => {
                timed_out = true;
                if TIMEOUTS.fetch_add(1, Ordering::Relaxed) == 2 {
                    eprintln!("\n*** 3 commands timed out: later commands get 15 s ***\n");
                }
                kill();
                break child.wait().ok();
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => break None,
        }
    };
    // Server processes inherit the pipes; give them a moment, then reap.
    let grace = Instant::now() + Duration::from_secs(5);
    for _ in 0..2 {
        if rx
            .recv_timeout(grace.saturating_duration_since(Instant::now()))
            .is_err()
        {
            kill();
            break;
        }
    }
    kill();
    let stdout = String::from_utf8_lossy(&out_t.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&err_t.join().unwrap_or_default()).into_owned();
    Output {
        code: if timed_out {
            None
        } else {
            status.and_then(|s| s.code())
        },
        timed_out,
        stdout,
        stderr,
    }
}

/// Run `client` (at the cell's protocol) with `-e RSH` and `args`.
pub fn rsync(cell: &Cell, rsh: &str, args: &[String]) -> Output {
    let mut cmd = Command::new(&cell.client.path);
    cmd.arg("-e").arg(rsh);
    if let Some(p) = cell.proto {
        cmd.arg(format!("--protocol={p}"));
    }
    cmd.args(args);
    run(cmd, TIMEOUT)
}

/// Turn `&["-a", "x:dir/"]` into owned args.
pub fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

/// Collects failures across matrix cells and reports them all at the end.
#[derive(Default)]
pub struct Report {
    fails: Vec<String>,
    passes: usize,
}

impl Report {
    pub fn new() -> Report {
        Report::default()
    }
    pub fn check(&mut self, label: &str, r: Result<(), String>) {
        match r {
            Ok(()) => self.passes += 1,
            Err(e) => self.fails.push(format!("[{label}] {e}")),
        }
    }
    /// Panic with every failure if there was any; cells that failed with
    /// the very same message are listed once.
    pub fn finish(self, test: &str) {
        eprintln!(
            "{test}: {} passed, {} failed (server: {:?})",
            self.passes,
            self.fails.len(),
            kind_under_test()
        );
        if self.fails.is_empty() {
            return;
        }
        let mut groups: Vec<(Vec<String>, String)> = Vec::new();
        for f in &self.fails {
            let (label, msg) = f
                .split_once("] ")
                .map(|(l, m)| (l.trim_start_matches('['), m))
                .unwrap_or(("?", f));
            match groups.iter_mut().find(|(_, m)| m == msg) {
                Some((labels, _)) => labels.push(label.to_string()),
                None => groups.push((vec![label.to_string()], msg.to_string())),
            }
        }
        let text: Vec<String> = groups
            .iter()
            .map(|(l, m)| format!("[{}] {m}", l.join(", ")))
            .collect();
        panic!(
            "{test}: {} failure(s):\n  {}",
            self.fails.len(),
            text.join("\n  ")
        );
    }
}

/// `Err` unless `cond`, with the command output attached.
pub fn ensure(cond: bool, what: &str, out: &Output) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(format!("{what}\n      {}", out.describe()))
    }
}
