//! Deadlines from the first byte to the last (issue 9): a client that
//! falls silent, or stops reading, in any state of the session — the `-s`
//! arguments, the handshake, a refusal, the file list, the transfer — is
//! dropped by the server itself at its `--timeout`, with rsync's exit
//! code 30 (`RERR_TIMEOUT`) and a readable line on stderr (`io.c`
//! `check_timeout()`). The default limits (60 s before the handshake,
//! 3600 s after) are longer than a test may take; the unit tests in
//! `src/driver/tests.rs` prove which limit governs each phase.
//!
//! Each test keeps its end open and waits for the server to close its
//! output; the watchdog kills the server at [`LIMIT`], which fails the
//! test. No test asserts a time beyond that.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::client::{self, Client, Outcome};
use super::{assert_rejected, assert_sane, assert_says, Sandbox};

/// Kill the server after this long: far beyond every `--timeout` here.
const LIMIT: Duration = Duration::from_secs(25);
const CAPS: &str = "LsfxCIvu";
/// rsync's `RERR_TIMEOUT`.
const TIMEOUT_EXIT: i32 = 30;

/// Stays connected and silent until the server closes its output.
fn wait_silently(c: &mut Client) {
    c.r.set_multiplexed(false);
    let mut sink = [0u8; 4096];
    while c.r.read(&mut sink).map(|n| n > 0).unwrap_or(false) {}
}

/// The server gave up by itself on a silent client after `secs`.
fn assert_read_timeout(what: &str, out: &Outcome, secs: u32) {
    assert_sane(what, out);
    assert_eq!(
        out.code,
        Some(TIMEOUT_EXIT),
        "{what}: exit code\nstderr: {}",
        out.stderr
    );
    let line = format!("timeout: no data from the client for {secs} seconds");
    assert!(
        out.stderr.contains(&line),
        "{what}: wanted `{line}` on stderr:\n{}",
        out.stderr
    );
}

/// A session that the client keeps open and silent from the start.
fn silent_from_the_start(flags: &[&str], root: &std::path::Path, words: &str) -> Outcome {
    let mut c = Client::spawn_with(flags, root, words, LIMIT);
    wait_silently(&mut c);
    c.finish()
}

#[test]
fn refused_push_with_timeout_ends_when_the_client_is_silent() {
    // The refusal wants the client's version before it can speak: a client
    // that never sends it held the server forever.
    let sb = Sandbox::new("dl-refused");
    let before = sb.root_snapshot();
    let words = format!("rsync --server -re.{CAPS} --timeout=3 . dst/");
    let out = silent_from_the_start(&["-ro"], &sb.root, &words);
    assert_rejected("silent refused push", &out);
    assert!(
        out.stderr
            .contains("timeout: no data from the client for 3 seconds"),
        "silent refused push: no timeout line:\n{}",
        out.stderr
    );
    assert_eq!(before, sb.root_snapshot(), "refused push changed the root");
}

#[test]
fn refused_push_with_timeout_ends_when_the_client_stops_after_its_version() {
    // The refusal is delivered; the drain that lets the client read it
    // must end by itself too.
    let sb = Sandbox::new("dl-drain");
    let words = format!("rsync --server -re.{CAPS} --timeout=3 . dst/");
    let mut c = Client::spawn_with(&["-ro"], &sb.root, &words, LIMIT);
    assert!(c.raw(&32i32.to_le_bytes()), "write our version");
    wait_silently(&mut c);
    let out = c.finish();
    assert_rejected("refused push, then silence", &out);
    let (texts, exit) = client::messages(&out.stdout);
    assert!(
        !texts.is_empty() && exit.is_some_and(|e| e != 0),
        "refused push, then silence: the refusal did not reach the client\nstderr: {}",
        out.stderr
    );
}

#[test]
fn refused_push_drains_for_a_few_seconds_only() {
    // No --timeout: the refusal is delivered, then the drain reads for
    // five seconds at most, not for the 60 s start limit.
    let sb = Sandbox::new("dl-drain5");
    let words = format!("rsync --server -re.{CAPS} . dst/");
    let mut c = Client::spawn_with(&["-ro"], &sb.root, &words, LIMIT);
    assert!(c.raw(&32i32.to_le_bytes()), "write our version");
    wait_silently(&mut c);
    let out = c.finish();
    assert_rejected("refused push, then silence (no --timeout)", &out);
    assert!(!out.stderr.contains("timeout:"), "{}", out.stderr);
}

#[test]
fn secluded_args_that_never_come() {
    // `-s`: the arguments come on stdin before the protocol. Nothing, or
    // only the program name, then silence.
    for sent in [&b""[..], b"rsync\0", b"rsync\0--timeout=99"] {
        let sb = Sandbox::new("dl-secluded");
        let words = format!("rsync --server --sender -se.{CAPS} --timeout=2");
        let mut c = Client::spawn_with(&["-ro"], &sb.root, &words, LIMIT);
        assert!(c.raw(sent), "write the first arguments");
        wait_silently(&mut c);
        let out = c.finish();
        let what = format!("-s after {:?}", String::from_utf8_lossy(sent));
        assert_read_timeout(&what, &out, 2);
    }
}

#[test]
fn secluded_timeout_governs_after_the_arguments() {
    // The --timeout that came with the -s arguments bounds the handshake.
    let sb = Sandbox::new("dl-secluded-t");
    let words = format!("rsync --server --sender -se.{CAPS}");
    let mut c = Client::spawn_with(&["-ro"], &sb.root, &words, LIMIT);
    assert!(
        c.raw(b"rsync\0--timeout=2\0.\0dir\0\0"),
        "write the arguments"
    );
    wait_silently(&mut c);
    let out = c.finish();
    assert_read_timeout("silent after the -s arguments", &out, 2);
}

#[test]
fn silent_client_before_the_handshake() {
    let sb = Sandbox::new("dl-prehs");
    let pull = format!("rsync --server --sender -re.{CAPS} --timeout=2 . dir");
    let out = silent_from_the_start(&["-ro"], &sb.root, &pull);
    assert_read_timeout("silent before the handshake (pull)", &out, 2);
    let push = format!("rsync --server -re.{CAPS} --timeout=2 . dst/");
    let out = silent_from_the_start(&[], &sb.root, &push);
    assert_read_timeout("silent before the handshake (push)", &out, 2);
}

#[test]
fn silent_client_in_the_handshake() {
    // Protocol 32 with `v`: the server waits for our checksum list.
    let sb = Sandbox::new("dl-hs");
    let words = format!("rsync --server --sender -re.{CAPS} --timeout=2 . dir");
    let mut c = Client::spawn_with(&["-ro"], &sb.root, &words, LIMIT);
    assert!(c.raw(&32i32.to_le_bytes()), "write our version");
    wait_silently(&mut c);
    let out = c.finish();
    assert_read_timeout("silent in the handshake", &out, 2);
}

#[test]
fn silent_client_in_the_file_list() {
    // A push that starts its file list and stops.
    let sb = Sandbox::new("dl-flist");
    let words = format!("rsync --server -re.{CAPS} --timeout=2 . dst/");
    let mut c = Client::spawn_with(&[], &sb.root, &words, LIMIT);
    c.handshake(32, CAPS, b"md5", None).expect("handshake");
    assert!(c.data(&[0x19]), "write half an entry");
    wait_silently(&mut c);
    let out = c.finish();
    assert_read_timeout("silent in the file list", &out, 2);
}

#[test]
fn silent_client_in_the_transfer() {
    // A push: the whole file list, then no file data for the request.
    use super::receiver::{dir, encode_list, file, flist_opts};
    let sb = Sandbox::new("dl-xfer");
    let words = format!("rsync --server -re.{CAPS} --timeout=2 . dst/");
    let mut c = Client::spawn_with(&["-wo"], &sb.root, &words, LIMIT);
    c.handshake(32, CAPS, b"md5", None).expect("handshake");
    let list = encode_list(
        &[dir(b"."), file(b"f", 100)],
        flist_opts(false, false, false),
    );
    assert!(c.data(&list), "write the file list");
    wait_silently(&mut c);
    let out = c.finish();
    assert_read_timeout("silent in the transfer", &out, 2);
}

#[test]
fn silent_client_before_the_goodbye() {
    // A pull that ends its first phase and never sends the next.
    let sb = Sandbox::new("dl-bye");
    let words = format!("rsync --server --sender -e.{CAPS} --timeout=2 . file");
    let mut c = Client::spawn_with(&["-ro"], &sb.root, &words, LIMIT);
    c.handshake(32, CAPS, b"md5", None).expect("handshake");
    let mut b = 0i32.to_le_bytes().to_vec();
    rrsync::wire::NdxEncoder::new(32).put(&mut b, rrsync::wire::NDX_DONE);
    assert!(c.data(&b), "write the filter list and NDX_DONE");
    wait_silently(&mut c);
    let out = c.finish();
    assert_read_timeout("silent before the goodbye", &out, 2);
}

/// Runs `rrsync-rs local FLAGS ROOT localhost rsync --server WORDS`,
/// writes `input` and never reads a byte of its output; returns the
/// server's exit code (`None`: killed at [`LIMIT`]) and its stderr.
fn never_reading(
    flags: &[&str],
    root: &std::path::Path,
    words: &[&str],
    input: &[u8],
) -> (Option<i32>, String) {
    let mut child = Command::new(client::bin())
        .arg("local")
        .args(flags)
        .arg(root)
        .args(["localhost", "rsync", "--server"])
        .args(words)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rrsync-rs");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(input).expect("write the request");
    let stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Ok(Some(st)) = child.try_wait() {
            break st.code();
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop((stdin, stdout));
    (status, err.join().unwrap_or_default())
}

fn ints(v: &[i32]) -> Vec<u8> {
    v.iter().flat_map(|i| i.to_le_bytes()).collect()
}

/// `ITEM_TRANSFER` and a sum header asking for the whole file.
fn whole_file_request() -> Vec<u8> {
    [(1u16 << 15).to_le_bytes().to_vec(), ints(&[0, 0, 16, 0])].concat()
}

#[test]
fn pulling_client_that_stops_reading_is_dropped() {
    // A pull of a big file by a client that never reads: the server's
    // writes fill the pipe and must give up at the client's --timeout
    // (stock rsync: about twice it). Protocol 29 needs nothing read
    // back: version, empty filter list, a request for index 0.
    let sb = Sandbox::new("dl-noread");
    std::fs::write(sb.root.join("huge"), vec![0x5a; 32 << 20]).expect("write huge");
    let input = [ints(&[29, 0, 0]), whole_file_request()].concat();
    let words = ["--sender", "--timeout=2", ".", "huge"];
    let (code, stderr) = never_reading(&["-ro"], &sb.root, &words, &input);
    let code = code.unwrap_or_else(|| panic!("the server had to be killed\n{stderr}"));
    assert_eq!(code, TIMEOUT_EXIT, "exit code\n{stderr}");
    assert!(
        stderr.contains("timeout: the client read nothing for 2 seconds"),
        "no timeout line:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn pushing_client_that_stops_reading_is_dropped() {
    // A push onto a big basis: the generator's block sums fill the pipe
    // while the receiver waits for data that never comes. Both threads
    // of the session must end.
    use super::receiver::{encode_list, file};
    use rrsync::flist::FlistOptions;
    let sb = Sandbox::new("dl-noread-push");
    let huge = std::fs::File::create(sb.root.join("huge")).expect("create huge");
    huge.set_len(256 << 20).expect("size huge");
    let o = FlistOptions {
        protocol: 29,
        ..FlistOptions::default()
    };
    let input = [
        ints(&[29]),
        encode_list(&[file(b"huge", 1 << 20)], o),
        ints(&[0]),
    ]
    .concat();
    let words = ["--timeout=2", ".", "huge"];
    let (code, stderr) = never_reading(&[], &sb.root, &words, &input);
    let code = code.unwrap_or_else(|| panic!("the server had to be killed\n{stderr}"));
    assert_eq!(code, TIMEOUT_EXIT, "exit code\n{stderr}");
    assert!(
        stderr.contains("rrsync-rs: timeout: "),
        "no timeout line:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn the_refusal_says_why_when_the_client_listens() {
    // Guard for the tests above: a client that answers is refused in
    // words, not by the clock.
    let sb = Sandbox::new("dl-listen");
    let words = format!("rsync --server -re.{CAPS} --timeout=3 . dst/");
    let mut c = Client::spawn_with(&["-ro"], &sb.root, &words, LIMIT);
    c.handshake(32, CAPS, b"md5", None).ok();
    let out = c.finish();
    assert_rejected("refused push", &out);
    assert!(!out.stderr.contains("timeout:"), "{}", out.stderr);
    assert_says("refused push", &out, "rsync: [server]");
}

/// `/proc/PID/stat` after the command name: state first.
fn proc_stat(pid: u32) -> Option<Vec<String>> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = s.get(s.rfind(')')? + 1..)?;
    Some(rest.split_whitespace().map(str::to_string).collect())
}

/// Children of `pid` (every process whose parent it is).
fn children(pid: u32) -> Vec<u32> {
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    rd.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&p| {
            proc_stat(p).and_then(|f| f.get(1).and_then(|pp| pp.parse::<u32>().ok())) == Some(pid)
        })
        .collect()
}

fn exe_of(pid: u32) -> Option<std::path::PathBuf> {
    std::fs::read_link(format!("/proc/{pid}/exe")).ok()
}

fn signal(pid: u32, sig: rustix::process::Signal) {
    if let Some(p) = rustix::process::Pid::from_raw(pid as i32) {
        let _ = rustix::process::kill_process(p, sig);
    }
}

#[test]
fn stock_client_stopped_mid_pull_is_dropped() {
    use crate::harness::{self, Kind, Server};
    use std::os::unix::process::CommandExt;
    if harness::kind_under_test() != Kind::Ours {
        return harness::not_applicable("watches our server's own process");
    }
    let work = harness::Work::new("dl-sigstop");
    let root = work.path("root");
    std::fs::create_dir_all(&root).expect("mkdir root");
    let huge = std::fs::File::create(root.join("huge")).expect("create huge");
    huge.set_len(256 << 20).expect("size huge");
    let server = Server::tested(&["-ro"], &root);
    let bin = std::fs::canonicalize(harness::bin()).expect("server binary");
    for cl in harness::clients() {
        let dest = work.path("dest");
        std::fs::create_dir_all(&dest).expect("mkdir dest");
        let mut client = Command::new(&cl.path)
            .arg("-e")
            .arg(server.rsh(&work))
            .args(["--timeout=2", "host:huge"])
            .arg(&dest)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .expect("spawn rsync");
        let cpid = client.id();
        let mut stderr = client.stderr.take().expect("stderr");
        let err = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        // Stop the client (and its forked receiver) once data flows.
        let start = Instant::now();
        let mut server_pid = None;
        while start.elapsed() < LIMIT {
            server_pid = children(cpid)
                .into_iter()
                .find(|&p| exe_of(p).as_ref() == Some(&bin));
            let flowing = std::fs::read_dir(&dest).is_ok_and(|mut d| d.next().is_some());
            if server_pid.is_some() && flowing {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let client_exe = exe_of(cpid);
        let mut stopped = vec![cpid];
        stopped.extend(
            children(cpid)
                .into_iter()
                .filter(|&p| exe_of(p) == client_exe),
        );
        for &p in &stopped {
            signal(p, rustix::process::Signal::STOP);
        }
        let spid = server_pid.expect("no server process, or no data flowed");
        // The server must end by itself: a zombie its stopped parent holds.
        let mut exit = None;
        while start.elapsed() < LIMIT {
            match proc_stat(spid) {
                Some(f) if f.first().map(String::as_str) == Some("Z") => {
                    exit = f.get(49).and_then(|c| c.parse::<i32>().ok());
                    break;
                }
                Some(_) => std::thread::sleep(Duration::from_millis(20)),
                None => break,
            }
        }
        if let Some(g) = rustix::process::Pid::from_raw(cpid as i32) {
            let _ = rustix::process::kill_process_group(g, rustix::process::Signal::KILL);
        }
        for &p in &stopped {
            signal(p, rustix::process::Signal::CONT);
        }
        let _ = client.wait();
        let stderr = err.join().unwrap_or_default();
        let what = format!("rsync {} stopped mid-pull", cl.version);
        let status = exit.unwrap_or_else(|| panic!("{what}: the server did not end\n{stderr}"));
        assert_eq!(status >> 8, TIMEOUT_EXIT, "{what}: exit status\n{stderr}");
        assert!(
            stderr.contains("timeout: the client read nothing for 2 seconds"),
            "{what}: no timeout line:\n{stderr}"
        );
    }
}
