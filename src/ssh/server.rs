//! The accept loop of `serve`: listeners, the limit on unauthenticated
//! connections (like sshd's `MaxStartups`), the handshake deadline (like
//! `LoginGraceTime`, but running until the `exec` request), and signals:
//! the first SIGTERM or SIGINT stops accepting and waits for running
//! transfers, a second one stops them.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use russh::server::Config;
use russh::{Disconnect, MethodKind, MethodSet, SshId};
use tokio::net::{TcpListener, TcpStream};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use super::handler::{Conn, SessionLog};
use super::{ServeArgs, Shared};

/// The russh configuration: public keys only, our host key; a connection
/// with no traffic at all for `idle` is closed.
pub fn config(key: russh::keys::PrivateKey, idle: Duration) -> Arc<Config> {
    Config {
        server_id: SshId::Standard(
            format!("SSH-2.0-rrsync-rs_{}", env!("CARGO_PKG_VERSION")).into(),
        ),
        methods: MethodSet::from(&[MethodKind::PublicKey][..]),
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
        eprintln!("rrsync-rs serve: listening on {local}");
        acceptors.push(tokio::spawn(accept(l, tx.clone())));
    }
    drop(tx);
    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    let unauth = Arc::new(Semaphore::new(a.max_unauth));
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            Some((stream, peer)) = incoming.recv() => {
                let Ok(permit) = unauth.clone().try_acquire_owned() else {
                    let log = SessionLog::new(shared.clone(), peer.to_string());
                    log.with(|r| r.refuse("too many unauthenticated connections"));
                    drop(stream);
                    continue;
                };
                let c = (shared.clone(), config.clone(), a.handshake_timeout);
                conns.spawn(connection(c.0, c.1, stream, peer, permit, c.2));
            }
            Some(_) = conns.join_next() => {}
        }
    }
    for t in acceptors {
        t.abort();
    }
    drain(&shared, conns, &mut term, &mut int).await
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

async fn drain(
    shared: &Shared,
    mut conns: JoinSet<()>,
    term: &mut tokio::signal::unix::Signal,
    int: &mut tokio::signal::unix::Signal,
) -> Result<i32, String> {
    let running = || shared.max_sessions - shared.sessions.available_permits();
    eprintln!(
        "rrsync-rs serve: stopping; waiting for {} session(s) (signal again to stop them)",
        running()
    );
    let wait = async {
        while conns.join_next().await.is_some() {}
        while running() > 0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::select! {
        () = wait => Ok(0),
        _ = term.recv() => stop(running()),
        _ = int.recv() => stop(running()),
    }
}

fn stop(n: usize) -> Result<i32, String> {
    eprintln!("rrsync-rs serve: second signal; stopping {n} running session(s)");
    std::process::exit(143)
}

async fn connection(
    shared: Arc<Shared>,
    config: Arc<Config>,
    stream: TcpStream,
    peer: SocketAddr,
    permit: OwnedSemaphorePermit,
    timeout: Duration,
) {
    let log = SessionLog::new(shared.clone(), peer.to_string());
    let started = Arc::new(AtomicBool::new(false));
    let handler = Conn::new(shared, log.clone(), started.clone(), permit);
    let deadline = tokio::time::Instant::now() + timeout;
    let running =
        match tokio::time::timeout_at(deadline, russh::server::run_stream(config, stream, handler))
            .await
        {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                log.with(|r| r.refuse(&format!("SSH handshake failed: {e}")));
                return;
            }
            Err(_) => {
                log.with(|r| r.refuse("handshake timeout"));
                return;
            }
        };
    let handle = running.handle();
    tokio::pin!(running);
    tokio::select! {
        _ = &mut running => return,
        () = tokio::time::sleep_until(deadline) => {}
    }
    if !started.load(Ordering::Relaxed) {
        log.with(|r| r.refuse("handshake timeout: no command"));
        let bye = handle.disconnect(
            Disconnect::ByApplication,
            "no command within the time limit".into(),
            String::new(),
        );
        let _ = tokio::time::timeout(Duration::from_secs(2), bye).await;
        let _ = tokio::time::timeout(Duration::from_secs(5), &mut running).await;
        return;
    }
    let _ = running.await;
}
