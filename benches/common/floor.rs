//! The floor under a no-change run: what it costs only to read every
//! directory of the tree and look at every entry (`getdents64` and one
//! `statx` per name, as `DirEntry::metadata` makes them), with no
//! protocol, no filter, no sorting and no sandbox. A sender does all of
//! it on a no-change run, to list each file; a receiver looks at every
//! listed file to compare it with what it has, which is nearly all of it
//! (the `statx` calls; without `--delete` it need not read directories).
//!
//! The bench runs itself as the walker (the environment variable
//! [`FLOOR_ENV`] names the tree) under the same `perf stat` as the
//! servers, so the figure is comparable with their CPU columns.

use std::path::Path;
use std::process::{Command, Stdio};

/// Names the tree when the bench binary is started as the walker.
pub const FLOOR_ENV: &str = "VS_STOCK_FLOOR_WALK";

/// When this process was started as the walker: walks the tree, prints
/// the number of entries and returns true (the caller then exits). A
/// tree it cannot read, or an empty one, fails the process, so that no
/// floor is reported for it.
pub fn run_if_asked() -> bool {
    let Some(dir) = std::env::var_os(FLOOR_ENV) else {
        return false;
    };
    match walk(Path::new(&dir)) {
        0 => std::process::exit(1),
        n => println!("{n}"),
    }
    true
}

fn walk(dir: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut n = 0;
    for e in rd.flatten() {
        // `DirEntry::metadata` does not follow a final symlink.
        let Ok(m) = e.metadata() else {
            continue;
        };
        n += 1;
        if m.is_dir() {
            n += walk(&e.path());
        }
    }
    n
}

/// The walker's CPU in seconds (`perf stat`'s task-clock) over `tree`,
/// once; `None` without `perf` or when the walk failed.
pub fn measure(tree: &Path, scratch: &Path) -> Option<f64> {
    let exe = std::env::current_exe().ok()?;
    let out = scratch.join("floor.perf");
    let st = Command::new("perf")
        .args(["stat", "-x,", "-e", "task-clock", "-o"])
        .arg(&out)
        .arg(exe)
        .env(FLOOR_ENV, tree)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    if !st.success() {
        return None;
    }
    super::run::parse_task_clock(&std::fs::read_to_string(&out).ok()?)
}
