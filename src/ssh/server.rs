//! The accept loop of `serve`: listeners, the limits on unauthenticated
//! connections ([`super::preauth`]: sshd's `MaxStartups` random early
//! drop and `PerSourceMaxStartups`), two deadlines (like sshd's
//! `LoginGraceTime`: `--login-grace-time` from connect to authentication,
//! and `--handshake-timeout` from connect to the `exec` request), and
//! signals: the first SIGTERM or SIGINT stops accepting and waits for
//! running transfers, a second one stops them; SIGHUP re-reads the keys
//! file and reopens the audit log and the `--log` file (for logrotate),
//! and stops nothing.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use russh::keys::Algorithm;
use russh::server::Config;
use russh::{Disconnect, MethodKind, MethodSet, Preferred, SshId};
use tokio::net::{TcpListener, TcpStream};
use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::handler::{Conn, SessionLog};
use super::preauth::{self, PreAuth, Slot};
use super::{ServeArgs, Shared};

/// Signature algorithms refused, as sshd's default
/// `PubkeyAcceptedAlgorithms` refuses them: `ssh-rsa` (RSA with SHA-1).
/// RSA keys sign with `rsa-sha2-256` or `rsa-sha2-512`.
pub fn weak_algorithm(a: &Algorithm) -> bool {
    matches!(a, Algorithm::Rsa { hash: None })
}

/// The russh configuration: public keys only, our host key; a connection
/// with no traffic at all for `idle` is closed.
pub fn config(key: russh::keys::PrivateKey, idle: Duration) -> Arc<Config> {
    Config {
        server_id: SshId::Standard(
            format!("SSH-2.0-rrsync-rs_{}", env!("CARGO_PKG_VERSION")).into(),
        ),
        methods: MethodSet::from(&[MethodKind::PublicKey][..]),
        preferred: Preferred {
            key: Preferred::default()
                .key
                .iter()
                .filter(|a| !weak_algorithm(a))
                .cloned()
                .collect::<Vec<_>>()
                .into(),
            ..Preferred::default()
        },
        auth_rejection_time: Duration::from_millis(300),
        auth_rejection_time_initial: Some(Duration::ZERO),
        keys: vec![key],
        channel_buffer_size: 16,
        max_auth_attempts: 6,
        // Keepalive replies count as traffic, so a transfer that is silent
        // for long (a big file list being built) stays up; a peer that is
        // gone is found by the keepalives, one that answers nothing at all
        // by this bound. The session process keeps its own deadlines.
        inactivity_timeout: Some(idle),
        keepalive_interval: Some(Duration::from_secs(60)),
        keepalive_max: 5,
        nodelay: true,
        ..Config::default()
    }
    .into()
}

/// The signals `serve` acts on.
struct Signals {
    term: Signal,
    int: Signal,
    hup: Signal,
}

impl Signals {
    fn new() -> Result<Signals, String> {
        let on = |k| signal(k).map_err(|e| format!("cannot handle signals: {e}"));
        Ok(Signals {
            term: on(SignalKind::terminate())?,
            int: on(SignalKind::interrupt())?,
            hup: on(SignalKind::hangup())?,
        })
    }
}

/// Serves until a signal; returns the exit code.
pub async fn run(shared: Arc<Shared>, config: Arc<Config>, a: &ServeArgs) -> Result<i32, String> {
    let (tx, mut incoming) = mpsc::channel::<(TcpStream, SocketAddr)>(16);
    let mut acceptors = Vec::new();
    for addr in &a.listen {
        let l = TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let local = l
            .local_addr()
            .map(|s| s.to_string())
            .unwrap_or_else(|_| addr.clone());
        tracing::info!("listening on {local}");
        acceptors.push(tokio::spawn(accept(l, tx.clone())));
    }
    drop(tx);
    let mut sig = Signals::new()?;
    let pre = PreAuth::new(a.startups);
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = sig.term.recv() => break,
            _ = sig.int.recv() => break,
            _ = sig.hup.recv() => super::reload(&shared),
            Some((stream, peer)) = incoming.recv() => {
                let Some(slot) = admit(&pre, stream.peer_addr().unwrap_or(peer), &stream) else {
                    continue;
                };
                let c = (shared.clone(), config.clone(), deadlines(a));
                conns.spawn(connection(c.0, c.1, stream, peer, slot, c.2));
            }
            Some(_) = conns.join_next() => {}
        }
    }
    for t in acceptors {
        t.abort();
    }
    drain(&shared, conns, &mut sig).await
}

/// A place among the unauthenticated connections, or a drop: sshd's
/// `Not allowed at this time` to the client (best effort, never
/// waiting) and a rate-limited line for the operator.
fn admit(pre: &Arc<PreAuth>, peer: SocketAddr, stream: &TcpStream) -> Option<Slot> {
    match pre.admit(peer.ip(), preauth::roll()) {
        Ok(slot) => Some(slot),
        Err(why) => {
            let _ = stream.try_write(b"Not allowed at this time\r\n");
            if let Some(line) = pre.note_drop(why, &peer.to_string(), std::time::Instant::now()) {
                tracing::warn!("{line}");
            }
            None
        }
    }
}

async fn accept(l: TcpListener, tx: mpsc::Sender<(TcpStream, SocketAddr)>) {
    loop {
        match l.accept().await {
            Ok(c) => {
                if tx.send(c).await.is_err() {
                    return;
                }
            }
            // EMFILE and friends: back off instead of spinning.
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

async fn drain(shared: &Shared, mut conns: JoinSet<()>, sig: &mut Signals) -> Result<i32, String> {
    let running = || shared.max_sessions - shared.sessions.available_permits();
    tracing::info!(
        "stopping; waiting for {} session(s) (signal again to stop them)",
        running()
    );
    let wait = async {
        while conns.join_next().await.is_some() {}
        while running() > 0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::pin!(wait);
    loop {
        tokio::select! {
            () = &mut wait => return Ok(0),
            _ = sig.term.recv() => return stop(running()),
            _ = sig.int.recv() => return stop(running()),
            _ = sig.hup.recv() => super::reload(shared),
        }
    }
}

fn stop(n: usize) -> Result<i32, String> {
    tracing::warn!("second signal; stopping {n} running session(s)");
    std::process::exit(143)
}

/// When a connection must have authenticated, and run its command.
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    /// `--login-grace-time`: connect to authentication.
    pub auth: Duration,
    /// `--handshake-timeout`: connect to the `exec` request.
    pub exec: Duration,
}

fn deadlines(a: &ServeArgs) -> Deadlines {
    Deadlines {
        auth: a.login_grace.min(a.handshake_timeout),
        exec: a.handshake_timeout,
    }
}

/// The socket, once more, to close it under russh when a deadline
/// passes (russh's session task has no abort).
struct Closer(Option<std::net::TcpStream>);

impl Closer {
    fn split(stream: TcpStream) -> Option<(TcpStream, Closer)> {
        let std = stream.into_std().ok()?;
        let dup = std.try_clone().ok();
        Some((TcpStream::from_std(std).ok()?, Closer(dup)))
    }
    fn close(&self) {
        if let Some(s) = &self.0 {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }
}

async fn connection(
    shared: Arc<Shared>,
    config: Arc<Config>,
    stream: TcpStream,
    peer: SocketAddr,
    slot: Slot,
    limits: Deadlines,
) {
    let Some((stream, closer)) = Closer::split(stream) else {
        return;
    };
    let log = SessionLog::new(shared.clone(), peer.to_string());
    let started = Arc::new(AtomicBool::new(false));
    // The handler holds this permit until it authenticates the client.
    let gate = Arc::new(Semaphore::new(1));
    let Ok(permit) = gate.clone().try_acquire_owned() else {
        return;
    };
    let handler = Conn::new(shared, log.clone(), started.clone(), permit);
    let now = Instant::now();
    let (auth_by, exec_by) = (now + limits.auth, now + limits.exec);
    let running =
        match tokio::time::timeout_at(auth_by, russh::server::run_stream(config, stream, handler))
            .await
        {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                log.with(|r| r.refuse(&format!("SSH handshake failed: {e}")));
                return;
            }
            Err(_) => {
                log.with(|r| r.refuse("not authenticated within the login grace time"));
                closer.close();
                return;
            }
        };
    let handle = running.handle();
    tokio::pin!(running);
    tokio::select! {
        biased;
        _ = &mut running => return,
        _ = gate.acquire() => {}
        () = tokio::time::sleep_until(auth_by) => {
            log.with(|r| r.refuse("not authenticated within the login grace time"));
            bye(&handle, &mut running, &closer, "authentication took too long").await;
            return;
        }
    }
    drop(slot);
    tokio::select! {
        _ = &mut running => return,
        () = tokio::time::sleep_until(exec_by) => {}
    }
    if !started.load(Ordering::Relaxed) {
        log.with(|r| r.refuse("handshake timeout: no command"));
        bye(
            &handle,
            &mut running,
            &closer,
            "no command within the time limit",
        )
        .await;
        return;
    }
    let _ = running.await;
}

/// Disconnects, then closes the socket if the peer does not let go.
async fn bye<F: std::future::Future + Unpin>(
    handle: &russh::server::Handle,
    running: &mut F,
    closer: &Closer,
    why: &str,
) {
    let msg = handle.disconnect(Disconnect::ByApplication, why.into(), String::new());
    let _ = tokio::time::timeout(Duration::from_secs(2), msg).await;
    if tokio::time::timeout(Duration::from_secs(1), &mut *running)
        .await
        .is_err()
    {
        closer.close();
        let _ = tokio::time::timeout(Duration::from_secs(5), running).await;
    }
}
