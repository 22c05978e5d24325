//! A local attacker racing the filesystem (the CVE-2026-53785 family:
//! symlink races on the sender's opens, mkdir, temporary files): while
//! the stock client pulls or pushes a directory inside the root, another
//! thread swaps that directory for a symlink (to `/` or to the sentinel
//! tree) and back in a tight loop. 200 transfers each; no byte from
//! outside the root may arrive, and nothing outside it may change.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::client::bin;
use super::{contains, snapshot, Sandbox};

const ITERATIONS: usize = 200;

/// Swaps `root/dir` with a symlink to each of `targets` until `stop`.
fn swapper(
    root: &Path,
    targets: Vec<std::path::PathBuf>,
    stop: Arc<AtomicBool>,
    swaps: Arc<AtomicUsize>,
) -> std::thread::JoinHandle<()> {
    let dir = root.join("dir");
    let real = root.join("dir.real");
    let link = root.join("dir.link");
    std::thread::spawn(move || {
        let mut i = 0;
        while !stop.load(Ordering::Relaxed) {
            let t = &targets[i % targets.len()];
            i += 1;
            let _ = std::fs::remove_file(&link);
            if std::os::unix::fs::symlink(t, &link).is_err() {
                continue;
            }
            if std::fs::rename(&dir, &real).is_ok() {
                let _ = std::fs::rename(&link, &dir);
                std::thread::yield_now();
                let _ = std::fs::rename(&dir, &link);
                let _ = std::fs::rename(&real, &dir);
                swaps.fetch_add(1, Ordering::Relaxed);
            }
            std::thread::yield_now();
        }
        // Leave the real directory in place.
        if !dir.is_dir() || dir.is_symlink() {
            let _ = std::fs::remove_file(&dir);
            let _ = std::fs::rename(&real, &dir);
        }
    })
}

fn rsync(flags: &str, root: &Path, args: &[&str], cwd: &Path) -> bool {
    let rsh = format!("{} local {flags} {}", bin().display(), root.display());
    let mut child = match Command::new("/usr/bin/rsync")
        .arg("-e")
        .arg(&rsh)
        .args(args)
        .current_dir(cwd)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(_) => return false,
    };
    for _ in 0..3000 {
        if let Ok(Some(s)) = child.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut err);
            }
            assert!(!err.contains("panicked"), "server panicked:\n{err}");
            return s.success();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("a raced transfer hung for 30 s");
}

fn have_rsync() -> bool {
    let ok = Path::new("/usr/bin/rsync").exists();
    if !ok {
        eprintln!("*** SKIPPED: no /usr/bin/rsync for the race tests ***");
    }
    ok
}

#[test]
fn race_pull_with_symlink_swaps() {
    if !have_rsync() {
        return;
    }
    let sb = Sandbox::new("race-pull");
    for i in 0..20 {
        std::fs::write(
            sb.root.join(format!("dir/f{i}")),
            format!("inside {i}\n").repeat(50),
        )
        .expect("w");
    }
    let passwd = std::fs::read("/etc/passwd").unwrap_or_default();
    let passwd_line = passwd.split(|&b| b == b'\n').next().unwrap_or(&[]).to_vec();
    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicUsize::new(0));
    let sw = swapper(
        &sb.root,
        vec!["/".into(), sb.outside.clone(), "../outside".into()],
        stop.clone(),
        swaps.clone(),
    );
    let mut ok = 0;
    for n in 0..ITERATIONS {
        let dst = sb.dir.join("got");
        let _ = std::fs::remove_dir_all(&dst);
        if rsync(
            "-ro",
            &sb.root,
            &["-rlt", "localhost:dir/", "got/"],
            &sb.dir,
        ) {
            ok += 1;
        }
        for (p, data) in snapshot(&dst) {
            assert!(
                !contains(&data, &sb.marker),
                "iteration {n}: sentinel bytes in {}",
                p.display()
            );
            assert!(
                passwd_line.len() < 8 || !contains(&data, &passwd_line),
                "iteration {n}: /etc/passwd in {}",
                p.display()
            );
        }
    }
    stop.store(true, Ordering::Relaxed);
    let _ = sw.join();
    eprintln!(
        "race pull: {ok}/{ITERATIONS} transfers completed, {} swaps",
        swaps.load(Ordering::Relaxed)
    );
    assert!(
        swaps.load(Ordering::Relaxed) > 0,
        "the swapper never swapped"
    );
}

#[test]
fn race_push_with_symlink_swaps() {
    if !have_rsync() {
        return;
    }
    let sb = Sandbox::new("race-push");
    let src = sb.dir.join("src");
    std::fs::create_dir_all(src.join("sub")).expect("mkdir");
    for i in 0..10 {
        std::fs::write(src.join(format!("p{i}")), b"pushed p\n").expect("w");
        std::fs::write(src.join(format!("sub/q{i}")), b"pushed\n").expect("w");
    }
    let before = snapshot(&sb.outside);
    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicUsize::new(0));
    let sw = swapper(
        &sb.root,
        vec![
            sb.outside.clone(),
            "../outside".into(),
            sb.outside.join("secret"),
        ],
        stop.clone(),
        swaps.clone(),
    );
    let mut ok = 0;
    for n in 0..ITERATIONS {
        if rsync(
            "-wo",
            &sb.root,
            &["-rlt", "--delete", "src/", "localhost:dir/"],
            &sb.dir,
        ) {
            ok += 1;
        }
        if n % 20 == 0 {
            assert_eq!(
                before,
                snapshot(&sb.outside),
                "iteration {n}: outside the root changed"
            );
        }
    }
    stop.store(true, Ordering::Relaxed);
    let _ = sw.join();
    assert_eq!(before, snapshot(&sb.outside), "outside the root changed");
    eprintln!(
        "race push: {ok}/{ITERATIONS} transfers completed, {} swaps",
        swaps.load(Ordering::Relaxed)
    );
    assert!(
        swaps.load(Ordering::Relaxed) > 0,
        "the swapper never swapped"
    );
}
