//! A hostile rsync client: spawns `rrsync-rs local FLAGS ROOT host rsync
//! --server ...` under `prlimit --as`, runs the client half of the
//! handshake (`setup_protocol` and `negotiate_the_strings` in rsync's
//! `compat.c`, protocols 27-32) and then writes whatever a test wants,
//! framed (`MSG_DATA`, protocol >= 30) or raw.
//!
//! Handshake state machine: write our version (int32) → read the server's
//! → protocol = min; for protocol >= 30 read the compat-flags varint; if
//! our `-e.` letters had `v` (and no `--checksum-choice`), write our
//! checksum list (and compression list with `-z` and no choice), read the
//! server's; read the int32 seed. From then on the server's output is
//! multiplexed and, for protocol >= 30, so is our input.
//!
//! A watchdog thread kills the server at the deadline and samples
//! `VmHWM` from `/proc/PID/status`; all server stdout is kept for the
//! sentinel check and for [`Outcome::messages`].

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use super::stream::{get_i32, get_varint, get_vstring, DemuxReader};
use rrsync::cli::{Invocation, WrapperFlags};
use rrsync::fs::Root;
use rrsync::policy::Grant;
use rrsync::role::Machine;
use rrsync::session::{self, Host, Started};
use rrsync::wire::{put_i32, put_vstring};

/// Address-space ceiling for the server (`prlimit --as`).
pub const AS_LIMIT: u64 = 1 << 30;
/// Peak resident memory we accept from the server.
pub const MAX_HWM_KB: u64 = 256 * 1024;
/// Default deadline for one server run.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// The server binary under test.
pub fn bin() -> PathBuf {
    match std::env::var_os("RRSYNC_BIN") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_BIN_EXE_rrsync-rs")),
    }
}

/// Shared byte sink filled by a reader thread.
type Sink = Arc<Mutex<Vec<u8>>>;

/// Bytes the stdout thread forwards, readable as a stream; ends (reads 0)
/// when the server closes its output.
pub struct ChanReader {
    rx: mpsc::Receiver<Vec<u8>>,
    buf: Vec<u8>,
    pos: usize,
    /// In-process: all the server has sent is already in the channel, so
    /// an empty channel is the end for now, not a reason to wait.
    nonblocking: bool,
}

impl Read for ChanReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.buf.len() {
            let next = if self.nonblocking {
                self.rx.try_recv().ok()
            } else {
                self.rx.recv().ok()
            };
            match next {
                Some(b) => {
                    self.buf = b;
                    self.pos = 0;
                }
                None => return Ok(0),
            }
        }
        let rest = self.buf.get(self.pos..).unwrap_or(&[]);
        let n = rest.len().min(out.len());
        out[..n].copy_from_slice(&rest[..n]);
        self.pos += n;
        Ok(n)
    }
}

/// Copies a pipe into `log` (and to `tx`, if any) until it closes.
fn pump(
    mut from: impl Read + Send + 'static,
    log: Sink,
    tx: Option<mpsc::Sender<Vec<u8>>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            if let Ok(mut l) = log.lock() {
                l.extend_from_slice(&buf[..n]);
            }
            if let Some(tx) = &tx {
                let _ = tx.send(buf[..n].to_vec());
            }
        }
    })
}

/// What the handshake settled.
#[derive(Debug, Clone, Copy, Default)]
pub struct Settled {
    pub protocol: u32,
    /// The compat flags the server sent (0 before protocol 30).
    #[allow(dead_code)]
    pub compat: i32,
    pub seed: i32,
}

/// A running server and our end of its pipes.
pub struct Client {
    server: Server,
    pub r: DemuxReader<ChanReader>,
    stdout: Sink,
    stderr: Sink,
    pub hs: Settled,
    /// Our input to the server is framed (protocol >= 30 after the seed).
    pub mux_in: bool,
}

/// The server under test: a process, or the session's machine in this
/// process on a fake clock (for tests of the core, which need no
/// process, no pipe and no sleep).
enum Server {
    Process {
        child: Child,
        stdin: Option<ChildStdin>,
        threads: Vec<std::thread::JoinHandle<()>>,
        done: Arc<AtomicBool>,
        killed: Arc<AtomicBool>,
        mem: Arc<Memory>,
    },
    InProc {
        machine: Box<Machine<'static>>,
        tx: mpsc::Sender<Vec<u8>>,
        now: Instant,
    },
}

/// Opens the root; no lock and no Landlock (the test process goes on).
pub struct RootHost(pub PathBuf);

impl Host for RootHost {
    fn start(&self, _grant: &Grant) -> Result<Started, String> {
        let root = Root::open(&self.0).map_err(|e| e.to_string())?;
        Ok(Started {
            root,
            log: None,
            log_failure: None,
            guard: None,
            snapshot: None,
        })
    }

    fn default_seed(&self) -> i32 {
        0
    }
}

/// The wrapper's flags for `flags ROOT`.
pub fn wrapper_flags(flags: &[&str], root: &Path) -> WrapperFlags {
    let mut args: Vec<std::ffi::OsString> = flags.iter().map(|f| f.into()).collect();
    args.push(root.as_os_str().to_owned());
    match rrsync::cli::parse_args_with_home(&args, None) {
        Ok(Invocation::Forced(f)) => f,
        other => panic!("{other:?}"),
    }
}

/// How a server run ended.
#[derive(Debug)]
pub struct Outcome {
    pub code: Option<i32>,
    pub timed_out: bool,
    pub stdout: Vec<u8>,
    pub stderr: String,
    pub hwm_kb: u64,
    /// Peak address space (`VmPeak`): counts memory reserved but never
    /// touched, which `hwm_kb` misses.
    pub peak_kb: u64,
}

impl Client {
    /// Starts `rrsync-rs local FLAGS ROOT localhost WORDS...`.
    pub fn spawn(flags: &[&str], root: &Path, words: &str) -> Client {
        Self::spawn_with(flags, root, words, DEADLINE)
    }

    /// As [`Client::spawn`] with an explicit deadline.
    pub fn spawn_with(flags: &[&str], root: &Path, words: &str, deadline: Duration) -> Client {
        let mut cmd = Command::new("prlimit");
        cmd.arg(format!("--as={AS_LIMIT}"))
            .arg("--")
            .arg(bin())
            .arg("local");
        cmd.args(flags).arg(root).arg("localhost");
        cmd.args(words.split(' ').filter(|w| !w.is_empty()));
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd.env("RUST_BACKTRACE", "1");
        let mut child = cmd.spawn().expect("spawn prlimit rrsync-rs");
        let stdin = child.stdin.take();
        let out = child.stdout.take().expect("stdout");
        let err = child.stderr.take().expect("stderr");
        let stdout: Sink = Arc::default();
        let stderr: Sink = Arc::default();
        let (tx, rx) = mpsc::channel();
        let threads = vec![
            pump(out, stdout.clone(), Some(tx)),
            pump(err, stderr.clone(), None),
        ];
        let done = Arc::new(AtomicBool::new(false));
        let killed = Arc::new(AtomicBool::new(false));
        let mem = Arc::new(Memory::default());
        watchdog(
            child.id(),
            deadline,
            done.clone(),
            killed.clone(),
            mem.clone(),
        );
        let r = DemuxReader::new(ChanReader {
            rx,
            buf: Vec::new(),
            pos: 0,
            nonblocking: false,
        });
        Client {
            server: Server::Process {
                child,
                stdin,
                threads,
                done,
                killed,
                mem,
            },
            r,
            stdout,
            stderr,
            hs: Settled::default(),
            mux_in: false,
        }
    }

    /// The same session as [`Client::spawn`], run in this process by the
    /// session's machine on a fake clock: what the server sends is there
    /// as soon as our bytes are handed over.
    pub fn inproc(flags: &[&str], root: &Path, words: &str) -> Client {
        let flags: &'static WrapperFlags = Box::leak(Box::new(wrapper_flags(flags, root)));
        let host: &'static RootHost = Box::leak(Box::new(RootHost(root.to_path_buf())));
        let words: &'static str = Box::leak(words.to_string().into_boxed_str());
        let now = Instant::now();
        let machine = Machine::new(now, |link| session::run(link, flags, host, words));
        let (tx, rx) = mpsc::channel();
        let r = DemuxReader::new(ChanReader {
            rx,
            buf: Vec::new(),
            pos: 0,
            nonblocking: true,
        });
        let mut c = Client {
            server: Server::InProc {
                machine: Box::new(machine),
                tx,
                now,
            },
            r,
            stdout: Sink::default(),
            stderr: Sink::default(),
            hs: Settled::default(),
            mux_in: false,
        };
        c.collect();
        c
    }

    /// Whether the server is a process (its memory is measured).
    pub fn is_process(&self) -> bool {
        matches!(self.server, Server::Process { .. })
    }

    /// In process: moves what the machine has sent to our reader.
    fn collect(&mut self) {
        if let Server::InProc { machine, tx, now } = &mut self.server {
            let mut out = Vec::new();
            while machine.poll_transmit(*now, &mut out) > 0 {}
            if !out.is_empty() {
                if let Ok(mut l) = self.stdout.lock() {
                    l.extend_from_slice(&out);
                }
                let _ = tx.send(out);
            }
        }
    }

    /// Writes raw bytes; a closed pipe is not an error (the server may
    /// rightly have hung up on us).
    pub fn raw(&mut self, b: &[u8]) -> bool {
        let ok = match &mut self.server {
            Server::Process { stdin, .. } => match stdin.as_mut() {
                Some(s) => s.write_all(b).and_then(|()| s.flush()).is_ok(),
                None => false,
            },
            Server::InProc { machine, now, tx } => {
                let mut rest = b;
                let mut out = Vec::new();
                while !rest.is_empty() && machine.wants_input() {
                    let n = machine.handle_input(*now, rest);
                    while machine.poll_transmit(*now, &mut out) > 0 {}
                    if n == 0 {
                        break;
                    }
                    rest = rest.get(n..).unwrap_or_default();
                }
                if !out.is_empty() {
                    if let Ok(mut l) = self.stdout.lock() {
                        l.extend_from_slice(&out);
                    }
                    let _ = tx.send(out);
                }
                rest.is_empty()
            }
        };
        ok
    }

    /// Writes data: in `MSG_DATA` frames once input is multiplexed.
    pub fn data(&mut self, b: &[u8]) -> bool {
        if !self.mux_in {
            return self.raw(b);
        }
        let mut framed = Vec::with_capacity(b.len() + 16);
        for chunk in b.chunks(0xFF_FFFF) {
            framed.extend_from_slice(&((7u32 << 24) | chunk.len() as u32).to_le_bytes());
            framed.extend_from_slice(chunk);
        }
        self.raw(&framed)
    }

    /// Writes one frame with message code `code` (no validation at all).
    pub fn frame(&mut self, code: u8, declared_len: u32, payload: &[u8]) -> bool {
        let tag = ((7 + u32::from(code)) << 24) | (declared_len & 0xFF_FFFF);
        let mut b = tag.to_le_bytes().to_vec();
        b.extend_from_slice(payload);
        self.raw(&b)
    }

    /// The client half of the handshake. `caps` are the letters after `-e.`
    /// on the command line; `csums` our checksum list; `comp` our
    /// compression list (only with `-z` and no `--compress-choice`).
    pub fn handshake(
        &mut self,
        version: i32,
        caps: &str,
        csums: &[u8],
        comp: Option<&[u8]>,
    ) -> Result<Settled, String> {
        let mut b = Vec::new();
        put_i32(&mut b, version);
        self.raw(&b);
        let theirs = get_i32(&mut self.r)?;
        let protocol = (theirs.min(version)).max(0) as u32;
        let mut compat = 0;
        if protocol >= 30 {
            compat = get_varint(&mut self.r)?;
        }
        if protocol >= 30 && caps.contains('v') && compat & (1 << 7) != 0 {
            let mut b = Vec::new();
            put_vstring(&mut b, csums).expect("short list");
            if let Some(c) = comp {
                put_vstring(&mut b, c).expect("short list");
            }
            self.raw(&b);
            get_vstring(&mut self.r, 1024)?;
            if comp.is_some() {
                get_vstring(&mut self.r, 1024)?;
            }
        }
        let seed = get_i32(&mut self.r)?;
        self.r.set_multiplexed(true);
        self.mux_in = protocol >= 30;
        self.hs = Settled {
            protocol,
            compat,
            seed,
        };
        Ok(self.hs)
    }

    /// Closes our input (end of stream for the server).
    pub fn close(&mut self) {
        match &mut self.server {
            Server::Process { stdin, .. } => *stdin = None,
            Server::InProc { machine, now, .. } => machine.handle_eof(*now),
        }
        self.collect();
    }

    /// Closes our input, drains the output, waits, and reports.
    pub fn finish(mut self) -> Outcome {
        self.close();
        let stdout = self.stdout.lock().map(|v| v.clone()).unwrap_or_default();
        match &mut self.server {
            Server::Process {
                child,
                threads,
                done,
                killed,
                mem,
                ..
            } => {
                for t in threads.drain(..) {
                    let _ = t.join();
                }
                let status = child.wait().ok();
                done.store(true, Ordering::SeqCst);
                let stderr = String::from_utf8_lossy(
                    &self.stderr.lock().map(|v| v.clone()).unwrap_or_default(),
                )
                .into_owned();
                Outcome {
                    code: status.and_then(|s| s.code()),
                    timed_out: killed.load(Ordering::SeqCst),
                    stdout: self.stdout.lock().map(|v| v.clone()).unwrap_or_default(),
                    stderr,
                    hwm_kb: mem.hwm_kb.load(Ordering::SeqCst),
                    peak_kb: mem.peak_kb.load(Ordering::SeqCst),
                }
            }
            Server::InProc { machine, .. } => {
                let o = machine.outcome().cloned();
                let mut stderr = String::new();
                for line in o.iter().flat_map(|o| o.stderr.iter().chain(&o.timed_out)) {
                    stderr.push_str(&format!("rrsync-rs: {line}\n"));
                }
                Outcome {
                    // No outcome after the input closed: the session hung.
                    code: o.map(|o| o.code),
                    timed_out: false,
                    stdout,
                    stderr,
                    hwm_kb: 0,
                    peak_kb: 0,
                }
            }
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        // A test that panicked before `finish`: do not leave the server.
        if let Server::Process { child, done, .. } = &mut self.server {
            if let Ok(None) = child.try_wait() {
                let _ = child.kill();
                let _ = child.wait();
            }
            done.store(true, Ordering::SeqCst);
        }
    }
}

/// The server's memory high-water marks, in KiB.
#[derive(Default)]
struct Memory {
    hwm_kb: AtomicU64,
    peak_kb: AtomicU64,
}

impl Memory {
    /// Records the `VmHWM` and `VmPeak` lines of a `/proc/PID/status`.
    fn sample(&self, status: &str) {
        let kb = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        };
        if let Some(v) = kb("VmHWM:") {
            self.hwm_kb.fetch_max(v, Ordering::SeqCst);
        }
        if let Some(v) = kb("VmPeak:") {
            self.peak_kb.fetch_max(v, Ordering::SeqCst);
        }
    }
}

/// Kills `pid` at the deadline; samples its memory meanwhile.
fn watchdog(
    pid: u32,
    deadline: Duration,
    done: Arc<AtomicBool>,
    killed: Arc<AtomicBool>,
    mem: Arc<Memory>,
) {
    std::thread::spawn(move || {
        let start = Instant::now();
        let status = format!("/proc/{pid}/status");
        while !done.load(Ordering::SeqCst) {
            if let Ok(s) = std::fs::read_to_string(&status) {
                if s.contains("State:\tZ") {
                    break;
                }
                mem.sample(&s);
            } else {
                break;
            }
            if start.elapsed() > deadline {
                killed.store(true, Ordering::SeqCst);
                if let Some(p) = rustix::process::Pid::from_raw(pid as i32) {
                    let _ = rustix::process::kill_process(p, rustix::process::Signal::KILL);
                }
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    });
}

/// Text and exit messages in the server's multiplexed output, found by
/// walking frames from the first offset where a valid frame chain starts.
pub fn messages(stdout: &[u8]) -> (Vec<String>, Option<i32>) {
    for start in 0..stdout.len().min(256) {
        if let Some(r) = walk_frames(stdout.get(start..).unwrap_or(&[])) {
            return r;
        }
    }
    (Vec::new(), None)
}

fn walk_frames(mut b: &[u8]) -> Option<(Vec<String>, Option<i32>)> {
    let mut texts = Vec::new();
    let mut exit = None;
    let mut frames = 0;
    while b.len() >= 4 {
        let tag = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let code = (tag >> 24).checked_sub(7)?;
        let len = (tag & 0xFF_FFFF) as usize;
        if !matches!(code, 0..=8 | 22 | 42 | 86 | 100..=102) {
            return None;
        }
        let payload = b.get(4..4 + len)?;
        match code {
            1..=8 => texts.push(String::from_utf8_lossy(payload).into_owned()),
            86 if len == 4 => {
                exit = Some(i32::from_le_bytes([
                    payload[0], payload[1], payload[2], payload[3],
                ]))
            }
            _ => {}
        }
        frames += 1;
        b = b.get(4 + len..)?;
    }
    (frames > 0 && b.is_empty()).then_some((texts, exit))
}
