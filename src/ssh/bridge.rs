//! The SSH channel as one more driver of the protocol core: the bytes of
//! an `exec` channel become the `Read`/`Write` pair that
//! [`crate::driver::serve`] pumps, exactly as stdin/stdout are under sshd
//! (where sshd's `session.c` wires the forced command's pipes to the
//! channel). Independent of the rsync protocol version.
//!
//! `serve` is blocking, so it runs on its own thread. Between that thread
//! and the async side sit two bounded queues of at most [`QUEUE`] chunks
//! of at most [`CHUNK`] bytes each, so a session holds a flat amount of
//! memory whatever the speed of the client or the disk; russh's channel
//! window and its per-channel buffer bound the rest.

use bytes::Bytes;
use russh::server::Msg;
use russh::{ChannelMsg, ChannelReadHalf, ChannelWriteHalf};
use std::io::{self, Read, Write};
use tokio::sync::mpsc;

use super::handler::SessionLog;
use crate::cli::WrapperFlags;

/// Largest chunk handed across a queue.
pub const CHUNK: usize = 32 * 1024;
/// Chunks in flight per direction.
pub const QUEUE: usize = 8;

/// The client's bytes, read by the `serve` thread.
pub struct ChanReader {
    rx: mpsc::Receiver<Bytes>,
    cur: Bytes,
}

impl Read for ChanReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.cur.is_empty() {
            match self.rx.blocking_recv() {
                Some(b) => self.cur = b,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.cur.len());
        let head = self.cur.split_to(n);
        buf.get_mut(..n)
            .ok_or_else(|| io::Error::other("short buffer"))?
            .copy_from_slice(&head);
        Ok(n)
    }
}

/// Our bytes for the client, written by the `serve` thread.
pub struct ChanWriter {
    tx: mpsc::Sender<Bytes>,
    buf: Vec<u8>,
}

impl ChanWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(chunk)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "SSH channel closed"))
    }
}

impl Write for ChanWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = CHUNK.saturating_sub(self.buf.len());
        let n = room.min(data.len());
        self.buf
            .extend_from_slice(data.get(..n).unwrap_or_default());
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

impl Drop for ChanWriter {
    fn drop(&mut self) {
        let _ = self.send();
    }
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

/// Runs `command` for this channel and reports the exit status, then EOF
/// and close; `log` gets the outcome.
pub async fn run(
    pending: Pending,
    flags: WrapperFlags,
    command: String,
    log: &SessionLog,
    busy: Option<String>,
) {
    let Pending { write, input } = pending;
    if let Some(b) = &busy {
        log.with(|r| r.refuse(b));
    }
    // The record already holds a parse error (`Record::set_command`).
    let refusal = busy.or_else(|| {
        crate::cli::parse_original_command(&command)
            .err()
            .map(|e| e.to_string())
    });
    let code = match refusal {
        Some(msg) => {
            let line = format!("rrsync-rs: {msg}\n");
            let _ = write.extended_data_bytes(1, Bytes::from(line)).await;
            1
        }
        None => {
            let (code, transfer) = run_serve(&write, input, flags, command).await;
            log.with(|r| {
                r.transfer = Some(transfer).filter(|t| *t != crate::audit::Transfer::default())
            });
            code
        }
    };
    log.with(|r| r.finish(Some(code)));
    let _ = write.exit_status(u32::try_from(code).unwrap_or(1)).await;
    let _ = write.eof().await;
    let _ = write.close().await;
}

async fn run_serve(
    write: &ChannelWriteHalf<Msg>,
    input: mpsc::Receiver<Bytes>,
    flags: WrapperFlags,
    command: String,
) -> (i32, crate::audit::Transfer) {
    let (out_tx, mut out_rx) = mpsc::channel::<Bytes>(QUEUE);
    let (code_tx, code_rx) = tokio::sync::oneshot::channel();
    let reader = ChanReader {
        rx: input,
        cur: Bytes::new(),
    };
    let writer = ChanWriter {
        tx: out_tx,
        buf: Vec::with_capacity(CHUNK),
    };
    let spawned = std::thread::Builder::new()
        .name("rrsync-session".into())
        .spawn(move || {
            let done = crate::driver::serve_counted(&flags, &command, reader, writer);
            let _ = code_tx.send(done);
        });
    if spawned.is_err() {
        return (
            crate::error::code::START_CLIENT,
            crate::audit::Transfer::default(),
        );
    }
    let mut failed = false;
    while let Some(chunk) = out_rx.recv().await {
        if write.data_bytes(chunk).await.is_err() {
            failed = true;
            break;
        }
    }
    drop(out_rx);
    let none = crate::audit::Transfer::default();
    let (code, transfer) = code_rx
        .await
        .unwrap_or((crate::error::code::STREAM_IO, none));
    if failed && code == 0 {
        return (crate::error::code::STREAM_IO, transfer);
    }
    (code, transfer)
}
