//! Hostile clients against `rrsync-rs` (issue 4): each test acts as a
//! stolen key would, through our own codec ([`client`]), and asserts that
//! the server
//! - ends with a clear error (an error frame or a stderr line) and a
//!   non-zero exit, without a panic or an allocation abort;
//! - stays under [`client::AS_LIMIT`] of address space (it runs under
//!   `prlimit --as`) and [`client::MAX_HWM_KB`] of resident memory;
//! - sends no byte of the sentinel files that sit next to the root, and
//!   writes nothing beside the root (the sentinel tree is compared);
//! - leaves the root as the mode allows (`-ro`: unchanged).
//!
//! Classes, each named after the upstream fix it mirrors (see
//! `docs/security.md` for the map): [`sender`] (sum header, ndx, filters
//! on a pull), [`receiver`] and [`tokens`] (file list and token stream on
//! a push), [`args`]
//! (forced command, `-s`, numeric options, multiplexing, varints),
//! [`replay`] (a recorded stock-rsync session truncated at every byte),
//! [`races`] (symlink swaps during transfers) and [`fuzz_smoke`] (random
//! bytes into every decoder, on stable).
//!
//! Run: `cargo test --release --test protocol adversarial::`.

pub mod client;

mod args;
mod deadlines;
mod echo;
mod fuzz_smoke;
mod inproc;
mod races;
mod receiver;
mod replay;
mod sender;
mod sender_inc;
pub mod stream;
mod tokens;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use client::Outcome;

/// A work directory: `root/` is served, `outside/` holds the sentinels.
pub struct Sandbox {
    pub dir: PathBuf,
    pub root: PathBuf,
    pub outside: PathBuf,
    /// Bytes that appear only in sentinel files.
    pub marker: Vec<u8>,
    before: BTreeMap<PathBuf, Vec<u8>>,
}

impl Sandbox {
    /// A fresh sandbox; `root` holds `file` (text), `dir/inner`, and a
    /// 64 KiB `big` file.
    pub fn new(name: &str) -> Sandbox {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "rrsync-adv-{}-{name}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let root = dir.join("root");
        let outside = dir.join("outside");
        let marker = format!("SENTINEL-{}-{}-DO-NOT-LEAK", std::process::id(), name).into_bytes();
        std::fs::create_dir_all(root.join("dir")).expect("mkdir root");
        std::fs::create_dir_all(outside.join("secret")).expect("mkdir outside");
        std::fs::write(root.join("file"), b"inside the root\n".repeat(64)).expect("write");
        std::fs::write(root.join("dir/inner"), b"inner file\n").expect("write");
        let big: Vec<u8> = (0..65536u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        std::fs::write(root.join("big"), big).expect("write");
        let mut sentinel = marker.clone();
        sentinel.extend_from_slice(b"\n");
        let sentinel = sentinel.repeat(64);
        for f in ["passwd", "secret/key", ".rsync-filter", "merge"] {
            std::fs::write(outside.join(f), &sentinel).expect("write sentinel");
        }
        let mut s = Sandbox {
            dir,
            root,
            outside,
            marker,
            before: BTreeMap::new(),
        };
        s.before = snapshot(&s.outside);
        s
    }

    /// The state of the root now, for "unchanged" checks.
    pub fn root_snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        snapshot(&self.root)
    }

    /// Nothing outside the root changed and nothing of it was sent.
    pub fn check_confined(&self, what: &str, out: &Outcome) {
        let after = snapshot(&self.outside);
        assert_eq!(
            self.before, after,
            "{what}: the sentinel tree outside the root changed"
        );
        assert!(
            !contains(&out.stdout, &self.marker),
            "{what}: sentinel bytes from outside the root were sent to the client"
        );
        assert!(
            !contains(out.stderr.as_bytes(), &self.marker),
            "{what}: sentinel bytes appear in the server's stderr"
        );
        let stray = self.dir.read_dir().map(|d| d.count()).unwrap_or(0);
        assert_eq!(
            stray, 2,
            "{what}: something was created beside root/ and outside/"
        );
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        } else {
            eprintln!("(kept {})", self.dir.display());
        }
    }
}

/// Every entry under `top`: file contents, symlink targets, `<dir>`.
pub fn snapshot(top: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut m = BTreeMap::new();
    let mut stack = vec![top.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let rel = p.strip_prefix(top).unwrap_or(&p).to_path_buf();
            let Ok(md) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            if md.file_type().is_symlink() {
                let t = std::fs::read_link(&p).unwrap_or_default();
                m.insert(
                    rel,
                    [b"-> ".as_slice(), t.as_os_str().as_encoded_bytes()].concat(),
                );
            } else if md.is_dir() {
                m.insert(rel, b"<dir>".to_vec());
                stack.push(p);
            } else {
                m.insert(rel, std::fs::read(&p).unwrap_or_default());
            }
        }
    }
    m
}

/// Whether `needle` occurs in `hay`.
/// The files under `root` whose names start with a dot: the temporaries
/// a session that ended early must not leave behind.
pub fn temporaries(root: &Path) -> Vec<PathBuf> {
    snapshot(root)
        .into_keys()
        .filter(|k| {
            k.file_name()
                .is_some_and(|f| f.to_string_lossy().starts_with('.'))
        })
        .collect()
}

pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// The common verdict: a clear, non-zero, panic-free, bounded refusal.
pub fn assert_rejected(what: &str, out: &Outcome) {
    assert_sane(what, out);
    assert!(
        matches!(out.code, Some(c) if c != 0),
        "{what}: expected a non-zero exit, got {:?}\nstderr: {}",
        out.code,
        out.stderr
    );
    let (texts, _) = client::messages(&out.stdout);
    assert!(
        !texts.is_empty() || out.stderr.contains("rrsync-rs") || out.stderr.contains("rsync"),
        "{what}: no error message in an error frame or on stderr\nstderr: {}",
        out.stderr
    );
}

/// The server said `expect`: the guard under test spoke, not merely some
/// later failure (such as our input ending).
pub fn assert_says(what: &str, out: &Outcome, expect: &str) {
    let text = all_text(out);
    assert!(
        text.contains(expect),
        "{what}: wanted `{expect}` in:\n{text}"
    );
}

/// A non-zero, panic-free, bounded end, with or without a message.
pub fn assert_failed(what: &str, out: &Outcome) {
    assert_sane(what, out);
    assert!(
        matches!(out.code, Some(c) if c != 0),
        "{what}: expected a non-zero exit, got {:?}",
        out.code
    );
}

/// No panic, no abort, no timeout, bounded memory (any exit code).
pub fn assert_sane(what: &str, out: &Outcome) {
    assert!(
        !out.timed_out,
        "{what}: the server had to be killed at the deadline"
    );
    for bad in [
        "panicked",
        "memory allocation of",
        "RUST_BACKTRACE",
        "stack overflow",
    ] {
        assert!(
            !out.stderr.contains(bad),
            "{what}: stderr has `{bad}`:\n{}",
            out.stderr
        );
    }
    assert!(
        out.code.is_some(),
        "{what}: killed by a signal\nstderr: {}",
        out.stderr
    );
    assert!(
        out.hwm_kb <= client::MAX_HWM_KB,
        "{what}: peak RSS {} KiB above {} KiB",
        out.hwm_kb,
        client::MAX_HWM_KB
    );
}

/// All error-frame texts joined, for message checks.
pub fn all_text(out: &Outcome) -> String {
    let (t, _) = client::messages(&out.stdout);
    format!("{}\n{}", t.join(""), out.stderr)
}
