//! Which limit governs each phase of a session: the protocol tests can
//! only wait for short client `--timeout`s, so the defaults (60 s before
//! the handshake, 3600 s after) are proven here, by a reader that notes
//! the session clock's limit at every byte it hands out.

use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex};

use super::deadline::{IdleClock, DEFAULT_IDLE_TIMEOUT, DEFAULT_START_TIMEOUT};
use crate::cli::{Invocation, WrapperFlags};

/// Hands out `bytes` one per call, then EOF; notes the limit each time.
struct Spy {
    bytes: Vec<u8>,
    pos: usize,
    clock: IdleClock,
    seen: Arc<Mutex<Vec<u64>>>,
}

impl Read for Spy {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let (Some(&b), Some(slot)) = (self.bytes.get(self.pos), buf.first_mut()) else {
            return Ok(0);
        };
        if let Ok(mut s) = self.seen.lock() {
            s.push(self.clock.limit());
        }
        *slot = b;
        self.pos += 1;
        Ok(1)
    }
}

struct Sink;

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn flags(name: &str) -> WrapperFlags {
    let root = std::env::temp_dir().join(format!("rrsync-dl-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("file"), b"data\n").unwrap();
    let args = ["-ro".into(), root.into_os_string()];
    match crate::cli::parse_args_with_home(&args, None).unwrap() {
        Invocation::Forced(f) => f,
        other => panic!("{other:?}"),
    }
}

/// The limit in force at each byte the session read from `input`.
fn limits(name: &str, command: &str, input: Vec<u8>) -> Vec<u64> {
    let flags = flags(name);
    let command = command.to_string();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    // A thread of its own: the session restricts its thread with Landlock.
    std::thread::spawn(move || {
        let clock = IdleClock::new(DEFAULT_START_TIMEOUT);
        let spy = Spy {
            bytes: input,
            pos: 0,
            clock: clock.clone(),
            seen: seen2,
        };
        super::serve_timed(&flags, &command, spy, Sink, &clock)
    })
    .join()
    .unwrap();
    let v = seen.lock().unwrap().clone();
    v
}

fn ints(v: &[i32]) -> Vec<u8> {
    v.iter().flat_map(|i| i.to_le_bytes()).collect()
}

#[test]
fn short_limit_until_the_handshake_then_the_long_one() {
    // Protocol 29: our version, then the empty filter list.
    let seen = limits("pull", "rsync --server --sender . file", ints(&[29, 0]));
    assert_eq!(seen.len(), 8, "{seen:?}");
    assert!(
        seen[..4].iter().all(|&l| l == DEFAULT_START_TIMEOUT),
        "{seen:?}"
    );
    assert!(
        seen[4..].iter().all(|&l| l == DEFAULT_IDLE_TIMEOUT),
        "{seen:?}"
    );
}

#[test]
fn client_timeout_governs_from_the_first_byte() {
    let seen = limits(
        "pull-t",
        "rsync --server --sender --timeout=7 . file",
        ints(&[29, 0]),
    );
    assert_eq!(seen, vec![7; 8]);
}

#[test]
fn secluded_args_under_the_short_limit_then_the_clients() {
    let args = b"rsync\0--timeout=9\0.\0file\0\0".to_vec();
    let n = args.len();
    let input = [args, ints(&[29, 0])].concat();
    let seen = limits("secluded", "rsync --server --sender -s", input);
    assert_eq!(seen.len(), n + 8, "{seen:?}");
    assert!(
        seen[..n].iter().all(|&l| l == DEFAULT_START_TIMEOUT),
        "{seen:?}"
    );
    assert!(seen[n..].iter().all(|&l| l == 9), "{seen:?}");
}

#[test]
fn refusal_waits_under_the_short_limit_and_drains_under_five_seconds() {
    // A push into -ro: the refusal reads our version, then drains.
    let seen = limits("refused", "rsync --server . dst", ints(&[29, 1]));
    assert_eq!(seen.len(), 8, "{seen:?}");
    assert!(
        seen[..4].iter().all(|&l| l == DEFAULT_START_TIMEOUT),
        "{seen:?}"
    );
    assert!(seen[4..].iter().all(|&l| l == 5), "{seen:?}");
}
