//! Side-by-side benchmark: rrsync-rs versus stock `rsync --server`, both
//! driven by the same stock rsync client, in one run.
//!
//! Run: `cargo bench --bench vs_stock [-- FILTER...]` (FILTERs select cases
//! whose name contains any of them, e.g. `-- pull`). Environment:
//! `BENCH_QUICK=1` (64 MiB / 2,000 files instead of 256 MiB / 10,000),
//! `BENCH_RUNS=N` (default 3), `BENCH_TIMEOUT=SECS` (per client run),
//! `RRSYNC_BIN` (binary to test; default `target/dist/rrsync-rs`, the
//! profile that is installed, rebuilt with `cargo build --profile dist`
//! when older than `src/`),
//! `BENCH_DIR` (instead of /tmp), `BENCH_KEEP=1` (keep the data there).
//!
//! What is measured: the wall time of one whole client command (`rsync -a
//! --stats -e SHIM ...`), from spawn to exit, so process start-up,
//! handshake, file list, checksums, data and the final statistics are all
//! in. No SSH is involved: the client reaches the server through `-e` (see
//! `common/run.rs`), our server as `rrsync-rs local -ro|-wo ROOT`, the stock
//! one as `rsync --server` run in ROOT. CPU is the server process's
//! alone, the client's excluded: `perf stat`'s task-clock, or where
//! `perf` is missing GNU time's user+sys (in 10 ms ticks).
//! Each case runs N times per server, alternating which server goes first,
//! and the median is reported. Data is generated once (deterministic PRNG)
//! under /tmp and removed at the end; the page cache is warm for both, and
//! `sync` runs before every measured command.
//!
//! Cases: pull (server is the sender) of one large random file into an
//! empty destination (all literal data over the delta path), of many small
//! files in 100 directories, a delta pull onto the previous version of the
//! large file (one byte changed per MiB, newer mtime; also with
//! `--cc=md5` and with `-z`), and a no-change pull (file list + quick
//! check only); then push (server is the receiver) of the same. "push delta
//! -blind" is the delta push with our server under `-wo -blind` (no block
//! sums, so every byte travels as literal data) against stock with the
//! client's `-W` (whole files, the same bytes on the wire); compare its
//! "ours" column with the "push delta" row's for the cost of `-blind`.
//!
//! Scale cases (run only when named, `-- scale`; "200k" or "1M" picks a
//! size): 200,000 and 1,000,000 files of 16 bytes in directories of
//! 1,000, pulled and pushed into an empty destination ("new") and onto
//! an identical copy ("no change"). They are generated once, on first
//! use. The "peak RSS" column is GNU time's `%M` of the server: for a
//! stock receiver, which forks, the larger of its two processes. A new
//! pull runs with `--out-format=%n`; "first file" is when the client
//! printed the first regular file's name (it has begun receiving), in a
//! run of its own before each measured one, cut short there and without
//! `perf stat` and GNU time between client and server (their start-up
//! would be in the figure).
//!
//! Reading the table: `ratio` = ours / stock, so < 1.0 means rrsync-rs
//! was faster and 2.0 means it took twice as long. `literal` is the
//! client's `--stats` "Literal data" for stock / ours: in delta cases it
//! shows how much each server's delta matching had to send. Every
//! transfer is verified (entries, sizes, mtimes, bytes); a wrong result
//! prints FAIL instead of a ratio. On the plain no-change rows the notes
//! give "walk alone": the CPU of a process that only reads every
//! directory and looks at every entry of the tree, with nothing sent
//! (`common::floor`), and its ratio to stock's server. A sender does
//! all of that and a receiver nearly all (it looks at every listed
//! file), so neither CPU on the row can go much below it. Where a case
//! ran at least four times, the notes also give "cpu pairs": the middle
//! half of the CPU ratios of the runs taken one pair at a time (stock
//! and ours back to back). A row's CPU ratio moves between runs of the
//! bench by about as much as that range is wide.

mod cases;
#[path = "../common/mod.rs"]
mod common;
mod table;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use cases::{cases, rel, Case, Kind};
use common::data::{self, Sizes};
use common::run::{Harness, Outcome, Server};
use common::{TmpDir, R};
use table::{label, last_line, median, row, State};

struct Bench {
    src: PathBuf,
    /// Destination root: `work/out` receives every transfer.
    work: PathBuf,
    h: Harness,
    runs: usize,
}

impl Bench {
    fn out(&self) -> PathBuf {
        self.work.join("out")
    }

    fn reset(&self) -> R<()> {
        if self.work.exists() {
            std::fs::remove_dir_all(&self.work)?;
        }
        std::fs::create_dir_all(&self.work)?;
        Ok(())
    }

    /// Puts the destination in the state the case starts from.
    fn prepare(&self, kind: Kind, prepared: &mut bool) -> R<()> {
        match kind {
            Kind::Big | Kind::Small => self.reset(),
            Kind::Delta => {
                self.reset()?;
                std::fs::create_dir_all(self.out())?;
                let basis = self.out().join("big.bin");
                std::fs::copy(self.src.join("data/big/big.bin"), &basis)?;
                data::set_mtime(&basis, data::T0)
            }
            Kind::Scale(n) => {
                data::generate_scale(&self.src.join(rel(kind)), n)?;
                self.reset()
            }
            Kind::NoChange | Kind::ScaleSame(_) if !*prepared => {
                if let Kind::ScaleSame(n) = kind {
                    data::generate_scale(&self.src.join(rel(kind)), n)?;
                }
                self.reset()?;
                let st = Command::new("rsync")
                    .arg("-a")
                    .arg(self.src.join(rel(kind)))
                    .arg(self.out())
                    .status()?;
                *prepared = st.success();
                if st.success() {
                    Ok(())
                } else {
                    Err("local rsync -a failed".into())
                }
            }
            Kind::NoChange | Kind::ScaleSame(_) => Ok(()),
            Kind::Snapshot(n) => {
                data::generate_snapshot(&self.src, n)?;
                self.reset()?;
                // Yesterday, twice: `prev/` for stock's --link-dest, and
                // a published snapshot holding `out/` for ours.
                let snap = self.work.join(".snapshots/2000-01-01T000000Z");
                std::fs::create_dir_all(&snap)?;
                std::os::unix::fs::symlink(
                    ".snapshots/2000-01-01T000000Z",
                    self.work.join("latest"),
                )?;
                for to in [self.work.join("prev"), snap.join("out")] {
                    let st = Command::new("rsync")
                        .arg("-a")
                        .arg(format!(
                            "{}/",
                            self.src.join(format!("snap-prev-{n}")).display()
                        ))
                        .arg(&to)
                        .status()?;
                    if !st.success() {
                        return Err("local rsync -a failed".into());
                    }
                }
                Ok(())
            }
        }
    }

    /// Where a case's result lands: under `-snapshot`, in `latest/`.
    fn result(&self, c: &Case, server: Server) -> PathBuf {
        match (c.kind, server) {
            (Kind::Snapshot(_), Server::Ours) => self.work.join("latest/out"),
            _ => self.out(),
        }
    }

    /// The client's arguments; `plain`: through the shim that does not
    /// measure the server.
    fn args(&self, c: &Case, server: Server, plain: bool) -> Vec<String> {
        let mut a: Vec<String> = ["-a", "--stats"].iter().map(|s| s.to_string()).collect();
        a.extend(c.extra.iter().map(|s| s.to_string()));
        if server == Server::Stock {
            a.extend(c.stock_extra.iter().map(|s| s.to_string()));
        }
        a.push("-e".into());
        let root = if c.push { &self.work } else { &self.src };
        a.push(self.h.rsh(server, root, c.push, c.flags, plain));
        if c.push {
            a.push(format!("{}/{}", self.src.display(), rel(c.kind)));
            a.push("host:out/".into());
        } else {
            a.push(format!("host:{}", rel(c.kind)));
            a.push(format!("{}/", self.out().display()));
        }
        a
    }

    /// Runs one case N times per server; returns the outcomes and states.
    fn measure(&self, c: &Case) -> R<[(Vec<Outcome>, State); 2]> {
        let mut res = [(Vec::new(), State::Ok), (Vec::new(), State::Ok)];
        let mut prepared = false;
        for i in 0..self.runs {
            let order = if i % 2 == 0 { [0, 1] } else { [1, 0] };
            for idx in order {
                let server = if idx == 0 {
                    Server::Stock
                } else {
                    Server::Ours
                };
                let Some((outs, state)) = res.get_mut(idx) else {
                    continue;
                };
                if !matches!(state, State::Ok) {
                    continue;
                }
                let first_file = self.first_file(c, server, &mut prepared)?;
                self.prepare(c.kind, &mut prepared)?;
                // Flush dirty pages of the previous run and the preparation
                // so that writeback does not land inside the measurement.
                rustix::fs::sync();
                let mut o = self.h.run_client(&self.args(c, server, false))?;
                o.first_file = first_file;
                let tag = format!(
                    "{:<24} {:<5} run {}/{}",
                    c.name,
                    label(server),
                    i + 1,
                    self.runs
                );
                let tail = last_line(&o.stderr);
                if !o.exit_ok {
                    *state = State::Fail(format!("client failed: {tail}"));
                    prepared = false;
                } else if let Err(e) =
                    data::verify(&self.src.join(rel(c.kind)), &self.result(c, server))
                {
                    *state = State::Fail(format!("wrong result: {e}"));
                    prepared = false;
                }
                match state {
                    State::Ok => eprintln!("{tag}: {:.3} s", o.wall.as_secs_f64()),
                    State::Fail(m) => eprintln!("{tag}: FAIL {m}\n{}", o.stderr.trim_end()),
                }
                if matches!(state, State::Ok) {
                    outs.push(o);
                }
            }
        }
        Ok(res)
    }

    /// For a case that names each file as it comes, how long the client
    /// waits for its first one, measured in a run of its own that is cut
    /// short there: through the plain shim, since `perf stat` would add
    /// its start-up to the figure.
    fn first_file(&self, c: &Case, server: Server, prepared: &mut bool) -> R<Option<Duration>> {
        if !c.extra.contains(&"--out-format=%n") {
            return Ok(None);
        }
        self.prepare(c.kind, prepared)?;
        rustix::fs::sync();
        let first = self.h.first_file(&self.args(c, server, true))?;
        // The destination is part-written: start the next run afresh.
        *prepared = false;
        Ok(first)
    }

    /// For a plain no-change case, the median CPU of only walking its
    /// tree ([`common::floor`]), run as often as the servers ran. A push
    /// walks the source: the destination holds a copy of it.
    fn floor(&self, c: &Case) -> Option<f64> {
        let plain = c.extra.is_empty() && c.flags.is_empty();
        if !plain || !matches!(c.kind, Kind::NoChange | Kind::ScaleSame(_)) || !self.h.has_perf {
            return None;
        }
        let tree = self.src.join(rel(c.kind));
        median(
            (0..self.runs)
                .filter_map(|_| common::floor::measure(&tree, &self.h.scratch))
                .collect(),
        )
    }
}

fn env_num(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> R<()> {
    if common::floor::run_if_asked() {
        return Ok(());
    }
    let quick = std::env::var("BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    let sizes = Sizes::new(quick);
    let runs = env_num("BENCH_RUNS", 3).max(1) as usize;
    let timeout = Duration::from_secs(env_num("BENCH_TIMEOUT", if quick { 120 } else { 600 }));
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let selected: Vec<Case> = cases(sizes)
        .into_iter()
        .filter(|c| match filters.is_empty() {
            true => !c.name.starts_with("scale"),
            false => filters.iter().any(|f| c.name.contains(f.as_str())),
        })
        .collect();
    if selected.is_empty() {
        return Err(format!("no case matches {filters:?}").into());
    }

    let bin = common::run::ensure_binary()?;
    let root = TmpDir(
        std::env::var_os("BENCH_DIR")
            .map_or_else(std::env::temp_dir, PathBuf::from)
            .join(format!("rrsync-bench-{}", std::process::id())),
    );
    let h = Harness::new(bin.clone(), &root.0.join("bin"), timeout)?;
    let bench = Bench {
        src: root.0.join("src"),
        work: root.0.join("work"),
        h,
        runs,
    };
    eprintln!("generating data in {} ...", root.0.display());
    data::generate(&bench.src, sizes)?;

    let mut rows = Vec::new();
    for c in &selected {
        let res = bench.measure(c)?;
        let floor = bench.floor(c);
        rows.push(row(c, &res, floor));
    }

    let version = Command::new("rsync")
        .arg("--version")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .to_string()
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!();
    println!(
        "rrsync-rs vs stock rsync --server ({}; client + stock server: {}; {} cores; {} runs, median{})",
        bin.display(),
        version.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
        cores,
        runs,
        if quick { "; BENCH_QUICK" } else { "" }
    );
    println!(
        "ratio = ours / stock (< 1.0: rrsync-rs faster); cpu = server {}",
        match (bench.h.has_perf, bench.h.has_time) {
            (true, _) => "task-clock (perf stat)",
            (false, true) => "user+sys (GNU time, 10 ms resolution)",
            (false, false) => "CPU unavailable: install perf or GNU time",
        }
    );
    println!();
    println!("| case | stock wall | ours wall | ratio | stock cpu | ours cpu | cpu ratio | peak RSS stock / ours | literal stock / ours | first file stock / ours | notes |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for r in &rows {
        println!("{r}");
    }
    drop(root);
    Ok(())
}
