//! The cost of a session under `rrsync-rs serve`: this tree's build
//! against another, both through the real OpenSSH client and a stock
//! rsync client, in one run. It was written to price running each session
//! in a process of its own against the older build that served each in a
//! thread of the listener; it compares any two builds of `serve`.
//!
//! Run: `BENCH_OLD_BIN=PATH cargo bench --bench serve_session`.
//! Environment: `BENCH_OLD_BIN` (required: the build to compare against),
//! `RRSYNC_BIN` (the binary under test; default
//! `target/dist/rrsync-rs`, built as for `vs_stock`: both of one
//! profile), `BENCH_SESSIONS=N` (sessions per kind and binary, default
//! 30), `BENCH_RUNS=N` (large pulls per binary, default 3),
//! `BENCH_QUICK=1` (64 MiB instead of 256 MiB), `BENCH_DIR`, `BENCH_KEEP=1`
//! (keep the data, keys and each server's log there).
//!
//! Cases, each alternating between the two servers so that both see the
//! same machine load: `ssh host true` (authentication plus one session,
//! no transfer: the spawn cost stands out most here), a pull of 10 small
//! files, and a pull of one large random file (throughput: with a process
//! per session every byte is copied through the listener). Wall time is
//! the whole client command (median); `cpu` is the user+sys time of the
//! listener and the session processes it reaped (`/proc/PID/stat`
//! utime+stime+cutime+cstime, 10 ms ticks), summed over the case and
//! divided by its sessions. `ratio` = new / old.

#[allow(dead_code)]
mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::data::Rng;
use common::{TmpDir, R};

/// One `serve`, killed on drop.
struct Serve {
    child: Child,
    port: u16,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    fn start(bin: &Path, dir: &Path, pubkey: &str, root: &Path) -> R<Serve> {
        std::fs::create_dir_all(dir)?;
        let ak = dir.join("authorized_keys");
        let line = format!(
            "command=\"{} -ro {}\",restrict {pubkey}\n",
            bin.display(),
            root.display()
        );
        std::fs::write(&ak, line)?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let log = dir.join("serve.log");
        let child = Command::new(bin)
            .arg("serve")
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .arg("--host-key")
            .arg(dir.join("host_key"))
            .arg("--authorized-keys")
            .arg(&ak)
            .args(["--max-sessions", "64"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()?;
        let s = Serve { child, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut text = String::new();
        while !text.contains("listening on") {
            if Instant::now() > deadline {
                return Err("serve did not start".into());
            }
            std::thread::sleep(Duration::from_millis(20));
            text = std::fs::read_to_string(&log)?;
        }
        // E.g. a binary not named `rrsync-rs`, which `serve` will not run.
        if text.contains(" 0 usable key") {
            return Err(format!("{} accepts no key:\n{text}", bin.display()).into());
        }
        Ok(s)
    }

    fn ssh(&self, key: &Path) -> String {
        format!(
            "ssh -p {} -i {} -o IdentitiesOnly=yes -o StrictHostKeyChecking=no \
             -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR",
            self.port,
            key.display()
        )
    }

    /// User+sys seconds of the listener and its reaped children.
    fn cpu(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // After `comm)`: state ppid pgrp session tty tpgid flags minflt
        // cminflt majflt cmajflt utime stime cutime cstime ...
        let ticks: u64 = stat
            .rsplit_once(')')
            .map(|(_, r)| {
                r.split_whitespace()
                    .skip(11)
                    .take(4)
                    .filter_map(|f| f.parse::<u64>().ok())
                    .sum()
            })
            .unwrap_or(0);
        ticks as f64 / 100.0
    }
}

#[derive(Default)]
struct Stat {
    wall: Vec<f64>,
    cpu: f64,
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    s.get(s.len() / 2).copied().unwrap_or(f64::NAN)
}

fn run(mut cmd: Command) -> R<()> {
    let out = cmd.stdin(Stdio::null()).output()?;
    if !out.status.success() {
        return Err(format!(
            "{:?} failed: {}",
            cmd.get_program(),
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(())
}

/// One measured session of `what` against `s`.
fn once(s: &Serve, key: &Path, what: &str, dst: &Path) -> R<(f64, f64)> {
    let _ = std::fs::remove_dir_all(dst);
    let cpu0 = s.cpu();
    let t = Instant::now();
    let ssh = s.ssh(key);
    if what == "true" {
        let mut w = ssh.split_whitespace();
        let mut cmd = Command::new(w.next().unwrap_or("ssh"));
        cmd.args(w).args(["x@127.0.0.1", "true"]);
        run(cmd)?;
    } else {
        let mut cmd = Command::new("rsync");
        cmd.arg("-e").arg(&ssh).args([
            "-a",
            &format!("x@127.0.0.1:{what}"),
            &format!("{}/", dst.display()),
        ]);
        run(cmd)?;
    }
    let wall = t.elapsed().as_secs_f64();
    // The listener reaps a session process a moment after the client ends.
    std::thread::sleep(Duration::from_millis(30));
    Ok((wall, s.cpu() - cpu0))
}

fn main() -> R<()> {
    // The baseline is another build, which only the caller can name.
    let Some(old) = std::env::var_os("BENCH_OLD_BIN").map(PathBuf::from) else {
        return Err("set BENCH_OLD_BIN to the build to compare against".into());
    };
    let new = common::run::ensure_binary()?;
    let n: usize = std::env::var("BENCH_SESSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let mib: usize = if std::env::var_os("BENCH_QUICK").is_some() {
        64
    } else {
        256
    };
    let base = TmpDir(
        std::env::var_os("BENCH_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir)
            .join(format!("rrsync-serve-bench-{}", std::process::id())),
    );
    bench(&old, &new, &base.0, n, runs, mib)
}

fn bench(old: &Path, new: &Path, base: &Path, n: usize, runs: usize, mib: usize) -> R<()> {
    let root = base.join("root");
    std::fs::create_dir_all(root.join("small"))?;
    let mut rng = Rng::new(9);
    for i in 0..10 {
        let mut b = vec![0u8; 1024];
        rng.fill(&mut b);
        std::fs::write(root.join(format!("small/f{i}")), b)?;
    }
    let mut big = vec![0u8; mib << 20];
    rng.fill(&mut big);
    std::fs::write(root.join("big"), big)?;
    let key = base.join("key");
    run({
        let mut c = Command::new("ssh-keygen");
        c.args(["-q", "-t", "ed25519", "-N", "", "-f"]).arg(&key);
        c
    })?;
    let pubkey = std::fs::read_to_string(base.join("key.pub"))?;
    let servers = [
        Serve::start(old, &base.join("old"), pubkey.trim(), &root)?,
        Serve::start(new, &base.join("new"), pubkey.trim(), &root)?,
    ];
    let dst = base.join("dst");
    println!(
        "rrsync-rs serve: old ({}) vs new ({})",
        old.display(),
        new.display()
    );
    println!(
        "{} cores; {n} sessions per case, {runs} large pulls; median wall, mean cpu",
        std::thread::available_parallelism().map_or(0, |p| p.get())
    );
    println!(
        "{:<22} {:>12} {:>12} {:>7} {:>11} {:>11} {:>7}",
        "case", "old wall", "new wall", "ratio", "old cpu", "new cpu", "ratio"
    );
    for (case, what, count) in [
        ("ssh true", "true", n),
        ("pull 10 x 1 KiB", "small/", n),
        (&*format!("pull {mib} MiB"), "big", runs),
    ] {
        let mut st = [Stat::default(), Stat::default()];
        for i in 0..count * 2 {
            // Alternate which server goes first.
            let k = (i + i / 2) % 2;
            let (w, c) = once(&servers[k], &key, what, &dst)?;
            st[k].wall.push(w);
            st[k].cpu += c;
        }
        let (ow, nw) = (median(&st[0].wall), median(&st[1].wall));
        let (oc, nc) = (st[0].cpu / count as f64, st[1].cpu / count as f64);
        println!(
            "{case:<22} {:>10.1}ms {:>10.1}ms {:>7.2} {:>9.1}ms {:>9.1}ms {:>7.2}",
            ow * 1e3,
            nw * 1e3,
            nw / ow,
            oc * 1e3,
            nc * 1e3,
            if oc > 0.0 { nc / oc } else { f64::NAN }
        );
        if what == "big" {
            println!(
                "{:<22} {:>8.1}MiB/s {:>8.1}MiB/s {:>7.2}",
                "  throughput",
                mib as f64 / ow,
                mib as f64 / nw,
                ow / nw
            );
        }
    }
    Ok(())
}
