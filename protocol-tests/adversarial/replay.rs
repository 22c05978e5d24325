//! Truncation at every byte offset of recorded valid sessions: the stock
//! rsync client (`/usr/bin/rsync`, protocol 32) pushes and pulls through
//! a tee shim, as sshd's forced command would run us; the client's bytes
//! are then replayed to fresh servers cut at each offset. With
//! `--checksum-seed` fixed the full replay is a valid session (exit 0);
//! every shorter one must fail cleanly, without panic, with bounded
//! memory, and without writing outside the root or leaving temporary
//! files. Mirrors no single rsync function: it exercises every decoder a
//! real session reaches (plain and zstd tokens).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::client::{bin, AS_LIMIT};
use super::{contains, snapshot, temporaries, Sandbox};

const SHIM: &str = "#!/bin/sh
while [ $# -gt 0 ]; do case \"$1\" in -l) shift 2;; -*) shift;; *) shift; break;; esac; done
echo \"$*\" > \"$REC.cmd\"
D=$(mktemp -d); mkfifo $D/f; exec 3<&0
tee \"$REC.c2s\" <&3 > $D/f &
TP=$!
\"$RRSYNC_BIN\" local $FLAGS \"$ROOT\" localhost \"$@\" < $D/f
# tee writes the pipe before the file: let it finish the last chunk.
sleep 0.5; kill $TP 2>/dev/null; rm -rf $D
";

/// One recorded session.
pub(super) struct Recording {
    pub(super) flags: &'static str,
    pub(super) words: String,
    pub(super) c2s: Vec<u8>,
}

pub(super) fn record(
    sb: &Sandbox,
    name: &str,
    flags: &'static str,
    args: &[&str],
) -> Option<Recording> {
    if !Path::new("/usr/bin/rsync").exists() {
        eprintln!("*** SKIPPED: no /usr/bin/rsync to record a session ***");
        return None;
    }
    let shim = sb.dir.join("shim.sh");
    std::fs::write(&shim, SHIM).ok()?;
    std::fs::set_permissions(&shim, std::os::unix::fs::PermissionsExt::from_mode(0o755)).ok()?;
    let rec = sb.dir.join(format!("rec-{name}"));
    let st = Command::new("timeout")
        .arg("60")
        .arg("/usr/bin/rsync")
        .arg("-e")
        .arg(&shim)
        .args(args)
        .current_dir(&sb.dir)
        .env("REC", &rec)
        .env("FLAGS", flags)
        .env("ROOT", &sb.root)
        .env("RRSYNC_BIN", bin())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    assert!(st.success(), "recording {name}: rsync failed: {st}");
    let words = std::fs::read_to_string(rec.with_extension("cmd"))
        .ok()?
        .trim()
        .to_string();
    let c2s = std::fs::read(rec.with_extension("c2s")).ok()?;
    Some(Recording { flags, words, c2s })
}

/// Runs a server on `input` in a fresh copy of `template` as root.
fn replay(
    template: &Path,
    work: &Path,
    r: &Recording,
    input: &[u8],
) -> (Option<i32>, String, Vec<u8>, PathBuf) {
    let root = work.join("root");
    let _ = std::fs::remove_dir_all(&root);
    copy_tree(template, &root);
    let inp = work.join("in");
    std::fs::write(&inp, input).expect("write input");
    let mut child = Command::new("prlimit")
        .arg(format!("--as={AS_LIMIT}"))
        .arg("--")
        .arg(bin())
        .arg("local")
        .arg(r.flags)
        .arg(&root)
        .arg("localhost")
        .args(r.words.split(' '))
        .stdin(std::fs::File::open(&inp).expect("open input"))
        .stdout(std::fs::File::create(work.join("out")).expect("out"))
        .stderr(std::fs::File::create(work.join("err")).expect("err"))
        .env("RUST_BACKTRACE", "1")
        .spawn()
        .expect("spawn");
    let t = Instant::now();
    let code = loop {
        if let Ok(Some(s)) = child.try_wait() {
            break s.code();
        }
        if t.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("replay of {} bytes: server hung", input.len());
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let err = std::fs::read_to_string(work.join("err")).unwrap_or_default();
    let out = std::fs::read(work.join("out")).unwrap_or_default();
    (code, err, out, root)
}

pub(super) fn copy_tree(from: &Path, to: &Path) {
    let st = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .expect("cp");
    assert!(st.success());
}

/// Replays `r` cut at every offset, on `threads` workers.
fn every_offset(sb: &Sandbox, template: &Path, r: &Recording, what: &str) {
    let outside_before = snapshot(&sb.outside);
    let n = r.c2s.len();
    let threads = 2;
    std::thread::scope(|s| {
        for t in 0..threads {
            let work = sb.dir.join(format!("w-{what}-{t}"));
            std::fs::create_dir_all(&work).expect("mkdir");
            let marker = sb.marker.clone();
            s.spawn(move || {
                for cut in (t..=n).step_by(threads) {
                    let input = r.c2s.get(..cut).unwrap_or(&[]);
                    let (code, err, out, root) = replay(template, &work, r, input);
                    let ctx = format!("{what}: cut at {cut}/{n}");
                    assert!(!err.contains("panicked"), "{ctx}: panic:\n{err}");
                    assert!(
                        !err.contains("memory allocation"),
                        "{ctx}: alloc abort:\n{err}"
                    );
                    assert!(code.is_some(), "{ctx}: killed by a signal:\n{err}");
                    if cut == n {
                        assert_eq!(code, Some(0), "{ctx}: the full replay failed:\n{err}");
                    } else {
                        assert_ne!(code, Some(0), "{ctx}: a truncated session succeeded");
                    }
                    assert!(!contains(&out, &marker), "{ctx}: sentinel bytes sent");
                    let temps = temporaries(&root);
                    assert!(
                        temps.is_empty(),
                        "{ctx}: temporary files left in the root: {temps:?}"
                    );
                }
            });
        }
    });
    assert_eq!(
        outside_before,
        snapshot(&sb.outside),
        "{what}: outside the root changed"
    );
}

pub(super) fn fixture(sb: &Sandbox) -> PathBuf {
    let src = sb.dir.join("src");
    std::fs::create_dir_all(src.join("sub")).expect("mkdir");
    std::fs::write(src.join("a.txt"), b"hello world\n".repeat(20)).expect("w");
    std::fs::write(src.join("sub/b"), b"second file with a little content\n").expect("w");
    std::os::unix::fs::symlink("a.txt", src.join("link")).expect("symlink");
    src
}

#[test]
fn truncated_push_sessions() {
    let sb = Sandbox::new("replay-push");
    let template = sb.dir.join("template");
    copy_tree(&sb.root, &template);
    fixture(&sb);
    for (what, extra) in [
        ("push plain", None),
        ("push zstd", Some("--compress-choice=zstd")),
    ] {
        let mut args = vec!["-rlt", "--checksum-seed=7"];
        args.extend(extra);
        let dst = format!("localhost:dst-{}/", what.replace(' ', "-"));
        args.extend(["src/", dst.as_str()]);
        let Some(r) = record(&sb, what, "-wo", &args) else {
            return;
        };
        every_offset(&sb, &template, &r, what);
    }
}

#[test]
fn truncated_pull_session() {
    let sb = Sandbox::new("replay-pull");
    let src = fixture(&sb);
    copy_tree(&src, &sb.root.join("pull"));
    let template = sb.dir.join("template");
    copy_tree(&sb.root, &template);
    // A basis on the client side, so the pull carries block sums.
    std::fs::create_dir_all(sb.dir.join("got")).expect("mkdir");
    std::fs::write(sb.dir.join("got/a.txt"), b"hello world\n".repeat(18)).expect("w");
    let args = [
        "-rlt",
        "--checksum-seed=7",
        "--no-whole-file",
        "localhost:pull/",
        "got/",
    ];
    let Some(r) = record(&sb, "pull", "-ro", &args) else {
        return;
    };
    every_offset(&sb, &template, &r, "pull");
}
