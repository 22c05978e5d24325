//! Whole sessions in process on a fake clock: which idle limit governs
//! each phase (the protocol tests can only wait for short client
//! `--timeout`s, so the defaults, 60 s before the handshake and 3600 s
//! after, are proven here), and what a refused client reads.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use super::{run, Host, Started};
use crate::cli::{Invocation, WrapperFlags};
use crate::fs::Root;
use crate::policy::Grant;
use crate::role::machine::{DRAIN, START_LIMIT};
use crate::role::Machine;

/// Opens the root and nothing else: no lock, no Landlock.
struct TestHost;

impl Host for TestHost {
    fn start(&self, grant: &Grant) -> Result<Started, String> {
        let _ = grant;
        Err("the test host starts nothing".into())
    }

    fn default_seed(&self) -> i32 {
        0
    }
}

const IDLE: Duration = super::start::DEFAULT_IDLE;

fn flags(name: &str, mode: &str) -> WrapperFlags {
    let root = std::env::temp_dir().join(format!("rrsync-sess-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("file"), b"data\n").unwrap();
    let args = [mode.into(), root.into_os_string()];
    match crate::cli::parse_args_with_home(&args, None).unwrap() {
        Invocation::Forced(f) => f,
        other => panic!("{other:?}"),
    }
}

/// A host that opens the root for real, without the lock or Landlock.
struct RootHost(std::path::PathBuf);

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

/// The limit in force at each byte of `input`, handed over one at a
/// time, and everything the session sent.
fn limits(name: &str, mode: &str, command: &str, input: &[u8]) -> (Vec<Duration>, Vec<u8>) {
    let flags = flags(name, mode);
    let host = RootHost(flags.root.clone());
    let t0 = Instant::now();
    let mut m = Machine::new(t0, |link| run(link, &flags, &host, command));
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for b in input {
        seen.push(m.link().idle_limit().unwrap_or(START_LIMIT));
        m.handle_input(t0, std::slice::from_ref(b));
        m.poll_transmit(t0, &mut out);
    }
    (seen, out)
}

fn ints(v: &[i32]) -> Vec<u8> {
    v.iter().flat_map(|i| i.to_le_bytes()).collect()
}

#[test]
fn short_limit_until_the_handshake_then_the_long_one() {
    // Protocol 29: our version, then the empty filter list.
    let (seen, _) = limits(
        "pull",
        "-ro",
        "rsync --server --sender . file",
        &ints(&[29, 0]),
    );
    assert_eq!(seen.len(), 8);
    assert!(seen[..4].iter().all(|&l| l == START_LIMIT), "{seen:?}");
    assert!(seen[4..].iter().all(|&l| l == IDLE), "{seen:?}");
}

#[test]
fn client_timeout_governs_from_the_first_byte() {
    let (seen, _) = limits(
        "pull-t",
        "-ro",
        "rsync --server --sender --timeout=7 . file",
        &ints(&[29, 0]),
    );
    assert_eq!(seen, vec![Duration::from_secs(7); 8]);
}

#[test]
fn secluded_args_under_the_short_limit_then_the_clients() {
    let args = b"rsync\0--timeout=9\0.\0file\0\0".to_vec();
    let n = args.len();
    let input = [args, ints(&[29, 0])].concat();
    let (seen, _) = limits("secluded", "-ro", "rsync --server --sender -s", &input);
    assert_eq!(seen.len(), n + 8);
    assert!(seen[..n].iter().all(|&l| l == START_LIMIT), "{seen:?}");
    assert!(
        seen[n..].iter().all(|&l| l == Duration::from_secs(9)),
        "{seen:?}"
    );
}

#[test]
fn refusal_waits_under_the_short_limit_and_drains_under_five_seconds() {
    // A push into -ro: the refusal reads the client's version, then
    // drains.
    let (seen, out) = limits("refused", "-ro", "rsync --server . dst", &ints(&[29, 1]));
    assert_eq!(seen.len(), 8);
    assert!(seen[..4].iter().all(|&l| l == START_LIMIT), "{seen:?}");
    assert!(seen[4..].iter().all(|&l| l == DRAIN), "{seen:?}");
    // Our version (the client's 29 is spoken), the seed, then the error
    // line and the exit message.
    assert_eq!(&out[..8], &ints(&[32, 0])[..]);
    let text = String::from_utf8_lossy(&out[8..]);
    assert!(text.contains("rsync: [server] "), "{text}");
}

#[test]
fn a_refusal_speaks_the_clients_handshake_at_protocol_32() {
    // An unsupported option from a 3.x client that negotiates names: the
    // compat flags and our checksum list come before the seed, and the
    // reason comes multiplexed after it.
    let flags = flags("refused32", "-no-lock");
    let t0 = Instant::now();
    let command = "rsync --server -vlogDtpre.iLsfxCIvu --iconv=utf8 . dst";
    let mut m = Machine::new(t0, |link| run(link, &flags, &TestHost, command));
    let mut out = Vec::new();
    m.handle_input(t0, &ints(&[32]));
    m.poll_transmit(t0, &mut out);
    assert_eq!(&out[..4], &ints(&[32])[..]);
    let names = crate::proto::CHECKSUM_NAMES.join(" ");
    let at = out
        .windows(names.len())
        .position(|w| w == names.as_bytes())
        .expect("our checksum list");
    assert_eq!(usize::from(out[at - 1]), names.len(), "{out:?}");
    assert!(at > 5, "compat flags between the version and the list");
    assert!(m.outcome().is_none(), "waits for the client's list");
    let mut list = vec![3u8];
    list.extend_from_slice(b"md5");
    m.handle_input(t0, &list);
    m.poll_transmit(t0, &mut out);
    let rest = &out[at + names.len()..];
    assert_eq!(&rest[..4], &ints(&[0])[..], "the seed");
    let text = String::from_utf8_lossy(&rest[4..]);
    assert!(
        text.contains("rsync: [server] option --iconv is not supported"),
        "{text}"
    );
    // From protocol 31 the session waits for the client's exit message
    // and answers it with an empty one.
    assert!(m.outcome().is_none());
    let before = out.len();
    m.handle_input(t0, &[4, 0, 0, 7 + 86, 4, 0, 0, 0]);
    m.poll_transmit(t0, &mut out);
    assert_eq!(&out[before..], &[0, 0, 0, 7 + 86]);
    assert_eq!(m.outcome().map(|o| o.code), Some(4));
}

#[test]
fn a_refused_session_lingers_until_the_client_closes() {
    let flags = flags("linger", "-ro");
    let t0 = Instant::now();
    let command = "rsync --server . dst";
    let mut m = Machine::new(t0, |link| run(link, &flags, &TestHost, command));
    m.handle_input(t0, &ints(&[29]));
    let mut out = Vec::new();
    m.poll_transmit(t0, &mut out);
    assert_eq!(m.outcome().map(|o| o.code), Some(1));
    assert!(m.outcome().is_some_and(|o| o.refused.is_some()));
    assert!(!m.is_done(false), "still draining");
    assert!(m.wants_input());
    m.handle_input(t0, &[0u8; 100]);
    m.handle_eof(t0);
    assert!(m.is_done(false));
}

#[test]
fn a_start_failure_reaches_the_client() {
    let flags = flags("start", "-ro");
    let t0 = Instant::now();
    let command = "rsync --server --sender . file";
    let mut m = Machine::new(t0, |link| run(link, &flags, &TestHost, command));
    m.handle_input(t0, &ints(&[30]));
    let mut out = Vec::new();
    m.poll_transmit(t0, &mut out);
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains("the test host starts nothing"), "{text}");
    assert_eq!(m.outcome().map(|o| o.code), Some(5));
}

#[test]
fn a_command_that_is_not_rsync_is_told_on_stderr() {
    let flags = flags("stderr", "-ro");
    let t0 = Instant::now();
    let m = Machine::new(t0, |link| run(link, &flags, &TestHost, "ls -l"));
    let o = m.outcome().unwrap();
    assert_ne!(o.code, 0);
    assert_eq!(o.stderr.len(), 1);
    assert!(!o.linger);
}

/// The client's `--timeout` also turns keep-alives on, after half of it
/// without output; without one there are none, as with rsync.
#[test]
fn the_clients_timeout_turns_keep_alives_on() {
    for (name, command, lull) in [
        (
            "ka-7",
            "rsync --server --sender --timeout=7 . file",
            Some(3500),
        ),
        ("ka-none", "rsync --server --sender . file", None),
    ] {
        let flags = flags(name, "-ro");
        let host = RootHost(flags.root.clone());
        let t0 = Instant::now();
        let mut m = Machine::new(t0, |link| run(link, &flags, &host, command));
        m.handle_input(t0, &ints(&[31, 0]));
        let want = lull.map(Duration::from_millis);
        assert_eq!(m.link().keepalive_lull(), want, "{command}");
    }
}
