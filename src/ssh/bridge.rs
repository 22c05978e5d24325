//! The SSH channel as the stdin/stdout of a session process, as sshd's
//! `session.c` wires a forced command's pipes to the channel: after an
//! `exec` request, [`run`] starts the session process ([`super::child`]:
//! the forced command's code path, in a process of its own), copies the
//! channel's data to its stdin and its stdout back as channel data, its
//! stderr as extended data (stream 1), and sends its exit status, EOF and
//! close when it has ended. The copy knows nothing of the rsync protocol,
//! so it serves every version (27-32); the session process keeps its own
//! deadlines, and once it has exited the channel is closed within
//! [`GRACE`] even if the client stopped reading.
//!
//! Memory per session in this process stays flat: at most [`QUEUE`]
//! chunks of the client's data wait for the session process, and one
//! chunk of at most [`CHUNK`] bytes of its output waits for the channel
//! window; the pipes and russh's channel buffer bound the rest.

use std::io;
use std::os::fd::OwnedFd;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use russh::server::Msg;
use russh::{ChannelMsg, ChannelReadHalf, ChannelWriteHalf};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::mpsc;

use super::account::Account;
use super::child::{self, Report};
use super::handler::SessionLog;
use crate::cli::WrapperFlags;

/// Largest chunk of the session's output sent at once.
pub const CHUNK: usize = 32 * 1024;
/// Chunks of the client's data in flight.
pub const QUEUE: usize = 8;
/// How long the output of a session process that has exited may take to
/// drain before the channel is closed anyway.
pub const GRACE: Duration = Duration::from_secs(10);
/// The longest report line read from a session process.
const MAX_REPORT: u64 = 4096;

/// Who runs a session: root and mode from the key line, and the account
/// the session process drops to (`serve --user-keys`), if any.
#[derive(Debug, Clone)]
pub struct Launch {
    /// Root and mode.
    pub flags: WrapperFlags,
    /// The account, when the session runs as one.
    pub account: Option<Account>,
}

/// A session channel that has been opened but has not run a command yet.
pub struct Pending {
    /// Our half for sending.
    pub write: ChannelWriteHalf<Msg>,
    /// The client's data, once a command runs.
    pub input: mpsc::Receiver<Bytes>,
}

/// Starts reading `read` at once (so requests before `exec` never fill
/// russh's channel buffer) and returns the channel ready for a command.
/// Data is passed on only after an `exec` request; before that, and after
/// the command stops reading, it is discarded.
pub fn open(read: ChannelReadHalf, write: ChannelWriteHalf<Msg>) -> Pending {
    let (tx, rx) = mpsc::channel(QUEUE);
    tokio::spawn(pump(read, tx));
    Pending { write, input: rx }
}

async fn pump(mut read: ChannelReadHalf, tx: mpsc::Sender<Bytes>) {
    let mut tx = Some(tx);
    let mut exec = false;
    while let Some(msg) = read.wait().await {
        match msg {
            ChannelMsg::Exec { .. } => exec = true,
            ChannelMsg::Data { data } if exec => {
                if let Some(t) = &tx {
                    if t.send(data).await.is_err() {
                        tx = None;
                    }
                }
            }
            ChannelMsg::Eof => tx = None,
            ChannelMsg::Close => break,
            _ => {}
        }
    }
}

/// Runs `command` for this channel in a session process and reports the
/// exit status, then EOF and close; `log` gets the outcome.
pub async fn run(
    pending: Pending,
    launch: Launch,
    command: String,
    log: &SessionLog,
    busy: Option<String>,
) {
    let Pending { write, input } = pending;
    let code = match busy {
        Some(b) => {
            log.with(|r| r.refuse(&b));
            let _ = write
                .extended_data_bytes(1, Bytes::from(format!("rrsync-rs: {b}\n")))
                .await;
            1
        }
        None => match session(&write, input, &launch, &command).await {
            Ok(rep) => {
                log.with(|r| {
                    r.served(&rep.served);
                    r.landlock = rep.landlock;
                });
                rep.served.code
            }
            Err(e) => {
                log.in_span(|| tracing::error!("cannot start a session process: {e}"));
                log.with(|r| r.refuse("cannot start the session process"));
                let line = Bytes::from_static(b"rrsync-rs: cannot start the session\n");
                let _ = write.extended_data_bytes(1, line).await;
                crate::error::code::START_CLIENT
            }
        },
    };
    log.with(|r| r.finish(Some(code)));
    let _ = write.exit_status(u32::try_from(code).unwrap_or(1)).await;
    let _ = write.eof().await;
    let _ = write.close().await;
}

/// Starts the session process and copies until it has ended.
async fn session(
    write: &ChannelWriteHalf<Msg>,
    input: mpsc::Receiver<Bytes>,
    launch: &Launch,
    command: &str,
) -> io::Result<Report> {
    // Every descriptor here is close-on-exec: a session process gets its
    // own three and nothing of the listener or of another session.
    let (ours, theirs) = std::os::unix::net::UnixStream::pair()?;
    let mut cmd = tokio::process::Command::from(child::command(
        &launch.flags,
        launch.account.as_ref(),
        command,
    ));
    cmd.stdin(Stdio::from(OwnedFd::from(theirs)))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut proc = cmd.spawn()?;
    drop(cmd);
    ours.set_nonblocking(true)?;
    let (back, to_child) = tokio::net::UnixStream::from_std(ours)?.into_split();
    let feeder = tokio::spawn(feed(input, to_child));
    let (out, err) = (proc.stdout.take(), proc.stderr.take());
    let io = async {
        tokio::join!(
            forward(out, write, None),
            forward(err, write, Some(1)),
            read_report(back)
        )
    };
    tokio::pin!(io);
    let mut exited: Option<io::Result<ExitStatus>> = None;
    let copied = loop {
        tokio::select! {
            r = &mut io => break Some(r),
            st = proc.wait(), if exited.is_none() => exited = Some(st),
            () = tokio::time::sleep(GRACE), if exited.is_some() => break None,
        }
    };
    feeder.abort();
    let status = match exited {
        Some(st) => st?,
        None => reap(&mut proc).await?,
    };
    let (sent, report) = match copied {
        Some((sent, _, report)) => (sent, report),
        None => (false, None),
    };
    Ok(outcome(status, sent, report))
}

/// Waits for a session process whose output has ended; kills it if it
/// does not exit within [`GRACE`].
async fn reap(proc: &mut tokio::process::Child) -> io::Result<ExitStatus> {
    if let Ok(st) = tokio::time::timeout(GRACE, proc.wait()).await {
        return st;
    }
    let _ = proc.start_kill();
    proc.wait().await
}

/// The exit code the client gets: the process's own, or 128 + the signal
/// that ended it (as a shell reports it); a transfer whose output could
/// not all be delivered is no success.
fn outcome(status: ExitStatus, sent: bool, report: Option<Report>) -> Report {
    use std::os::unix::process::ExitStatusExt;
    let code = status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
    if let Some(sig) = status.signal() {
        tracing::warn!("a session process was ended by signal {sig}");
    }
    let mut rep = report.unwrap_or(Report {
        served: crate::audit::Served {
            code,
            ..Default::default()
        },
        landlock: None,
    });
    rep.served.code = if !sent && code == 0 {
        crate::error::code::STREAM_IO
    } else {
        code
    };
    rep
}

/// The client's data to the session process's stdin; EOF when the client
/// sends EOF or the channel goes away.
async fn feed(mut input: mpsc::Receiver<Bytes>, mut to: OwnedWriteHalf) {
    while let Some(b) = input.recv().await {
        if to.write_all(&b).await.is_err() {
            return;
        }
    }
    let _ = to.shutdown().await;
}

/// Copies `src` to the channel (`ext` = extended data stream); false if
/// the channel refused data (the process then gets EPIPE, as under sshd).
async fn forward<R: AsyncRead + Unpin>(
    src: Option<R>,
    write: &ChannelWriteHalf<Msg>,
    ext: Option<u32>,
) -> bool {
    let Some(mut src) = src else { return true };
    let mut buf = BytesMut::with_capacity(CHUNK);
    loop {
        buf.reserve(CHUNK);
        let n = match src.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return true,
            Ok(n) => n,
        };
        let chunk = buf.split_to(n).freeze();
        let sent = match ext {
            None => write.data_bytes(chunk).await,
            Some(c) => write.extended_data_bytes(c, chunk).await,
        };
        if sent.is_err() {
            return false;
        }
    }
}

/// The report line the session process writes back on its stdin socket.
async fn read_report(back: OwnedReadHalf) -> Option<Report> {
    let mut line = Vec::new();
    back.take(MAX_REPORT).read_to_end(&mut line).await.ok()?;
    child::decode(&line)
}
