//! `serve`'s own log (issue 13): a UTC timestamp and a level on each
//! line, `-v`/`-q`, `--log-format short`, a span per connection with the
//! peer's address and the key's fingerprint, and `--log journald`, which
//! falls back to stderr with a reason when the journal is not there.

use super::{key_line, keygen, Serve};
use crate::fixtures;
use crate::harness::{self, ensure, Output, Report, Work};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn said(text: &str) -> Output {
    Output {
        code: None,
        timed_out: false,
        stdout: String::new(),
        stderr: text.to_string(),
    }
}

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ` at the start of the line.
fn stamped(line: &str) -> bool {
    let b = line.as_bytes();
    b.len() > 20
        && b.get(4) == Some(&b'-')
        && b.get(10) == Some(&b'T')
        && line
            .split_whitespace()
            .next()
            .is_some_and(|w| w.ends_with('Z'))
}

/// `serve` with `extra` arguments, its stderr in the file `name`.
fn run_serve(work: &Work, ak: &Path, extra: &[&str], name: &str) -> (std::process::Child, String) {
    let log = work.dir.join(name);
    let child = Command::new(harness::bin())
        .arg("serve")
        .arg("--host-key")
        .arg(work.dir.join("host_key"))
        .arg("--authorized-keys")
        .arg(ak)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("create log"))
        .spawn()
        .expect("spawn rrsync-rs serve");
    (child, log.display().to_string())
}

/// The log once it holds `want`, the server exited, or 10 s passed.
fn wait_for(log: &str, want: &str, child: &mut std::process::Child) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = super::read(Path::new(log));
        let exited = matches!(child.try_wait(), Ok(Some(_)));
        if text.contains(want) || exited || Instant::now() > deadline {
            return text;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn serve_log_levels_spans_and_journal() {
    if !super::have_ssh() {
        return;
    }
    let fx = fixtures::small();
    let work = Work::new("ssh-logging");
    let key = work.dir.join("k");
    let pubkey = keygen(&key);
    let serve = Serve::start(&work, &key_line("-ro", &fx.root, &pubkey), &["-v"]);
    let mut rep = Report::new();
    let client = &harness::clients().first().expect("a client").path;
    let mut cmd = Command::new(client);
    cmd.arg("-e").arg(serve.ssh(&key)).args([
        "-a",
        "x@127.0.0.1:",
        &format!("{}/", work.path("dst").display()),
    ]);
    let out = harness::run(cmd, Duration::from_secs(25));
    let audit = serve.audit_lines(1).join("\n");
    rep.check(
        "serve's audit line says whether Landlock held",
        ensure(super::has(&audit, "landlock", ""), &audit, &out),
    );
    let log = serve.log_text();
    let done = log.lines().find(|l| l.contains("session ok")).unwrap_or("");
    rep.check(
        "lines are stamped, levelled, in the session's span",
        ensure(
            log.lines().all(stamped)
                && log.contains(" INFO listening on")
                && log.contains("DEBUG session{peer=127.0.0.1:")
                && done.contains("session{peer=127.0.0.1:")
                && done.contains(" key=SHA256:"),
            "unexpected log lines",
            &said(&format!("{log}\n{}", out.stderr)),
        ),
    );
    let ak = work.dir.join("authorized_keys");
    let busy = format!("127.0.0.1:{}", serve.port);
    // -q: warnings and errors only; short: no timestamp.
    let (mut child, path) = run_serve(
        &work,
        &ak,
        &["--listen", &busy, "-q", "--log-format", "short"],
        "quiet.log",
    );
    let text = wait_for(&path, "cannot listen", &mut child);
    let code = child.wait().ok().and_then(|s| s.code());
    rep.check(
        "-q and short",
        ensure(
            code == Some(1)
                && text.contains("ERROR cannot listen on")
                && !text.contains("INFO")
                && !text.lines().any(stamped),
            "want one unstamped error line and exit 1",
            &said(&format!("rc {code:?}\n{text}")),
        ),
    );
    // The journal, or stderr with the reason when it is not there.
    let journal = Path::new("/run/systemd/journal/socket").exists();
    let free = format!("127.0.0.1:{}", super::free_port());
    let (mut child, path) = run_serve(
        &work,
        &ak,
        &["--listen", &free, "--log", "journald"],
        "j.log",
    );
    let want = if journal { "never" } else { "listening on" };
    let text = wait_for(&path, want, &mut child);
    let alive = matches!(child.try_wait(), Ok(None));
    let _ = child.kill();
    let _ = child.wait();
    let ok = if journal {
        alive && text.is_empty()
    } else {
        alive
            && text.contains("WARN cannot log to the journal")
            && text.contains("logging to stderr")
            && text.contains("listening on")
    };
    rep.check(
        "--log journald",
        ensure(ok, "journal or a clear fallback", &said(&text)),
    );
    rep.finish("serve_log_levels_spans_and_journal");
}

/// The forced command with `RRSYNC_LOG=journald`: the client sees exactly
/// what it sees without it (the journal, or nothing when it is not
/// there, never stderr).
#[test]
fn forced_command_journal_changes_nothing_for_the_client() {
    let work = Work::new("forced-journal");
    let root = work.dir.join("root");
    std::fs::create_dir_all(&root).expect("mkdir");
    let run = |journal: bool, command: &str| {
        let mut cmd = Command::new(harness::bin());
        cmd.arg("-ro")
            .arg(&root)
            .env("SSH_ORIGINAL_COMMAND", command)
            .env("SSH_CONNECTION", "192.0.2.1 5555 192.0.2.2 22")
            .env_remove("RRSYNC_AUDIT")
            .stdin(Stdio::null());
        if journal {
            cmd.env("RRSYNC_LOG", "journald");
        } else {
            cmd.env_remove("RRSYNC_LOG");
        }
        harness::run(cmd, Duration::from_secs(10))
    };
    let mut rep = Report::new();
    for command in ["true", "ls -la", "rsync --server --daemon ."] {
        let (plain, logged) = (run(false, command), run(true, command));
        rep.check(
            command,
            ensure(
                plain.code == logged.code
                    && plain.stdout == logged.stdout
                    && plain.stderr == logged.stderr,
                &format!("without RRSYNC_LOG: {plain:?}"),
                &logged,
            ),
        );
    }
    rep.finish("forced_command_journal_changes_nothing_for_the_client");
}
