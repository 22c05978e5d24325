//! The `vs_stock` benchmark's table: medians, ratios, the per-pair CPU
//! spread, and one markdown row per case.

use crate::cases::Case;
use crate::common::run::{Outcome, Server};

/// How a case went for one server: every run succeeded and checked out,
/// or the first that did not, and why.
pub(crate) enum State {
    Ok,
    Fail(String),
}

pub(crate) fn label(s: Server) -> &'static str {
    match s {
        Server::Stock => "stock",
        Server::Ours => "ours",
    }
}

pub(crate) fn last_line(s: &str) -> String {
    s.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

pub(crate) fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => v.get(n / 2).copied(),
        _ => Some((v.get(n / 2 - 1)? + v.get(n / 2)?) / 2.0),
    }
}

/// The lower and upper quartiles of the CPU ratios of the runs, pair by
/// pair; `None` for fewer than four pairs.
fn pair_spread(stock: &[Outcome], ours: &[Outcome]) -> Option<(f64, f64)> {
    let mut r: Vec<f64> = stock
        .iter()
        .zip(ours)
        .filter_map(|(s, o)| Some(o.cpu? / s.cpu.filter(|&c| c > 0.0)?))
        .collect();
    if r.len() < 4 {
        return None;
    }
    r.sort_by(f64::total_cmp);
    let at = |q: usize| r.get((r.len() - 1) * q / 4).copied();
    Some((at(1)?, at(3)?))
}

fn secs(v: Option<f64>) -> String {
    v.map_or("-".into(), |s| format!("{s:.3} s"))
}

fn ratio(ours: Option<f64>, stock: Option<f64>) -> String {
    match (ours, stock) {
        (Some(o), Some(s)) if s > 0.0 => format!("{:.2}", o / s),
        _ => "-".into(),
    }
}

fn mib(b: Option<u64>) -> String {
    match b {
        Some(b) if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        Some(b) if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        Some(b) => format!("{b} B"),
        None => "-".into(),
    }
}

/// One markdown table row for a measured case.
pub(crate) fn row(c: &Case, res: &[(Vec<Outcome>, State); 2], floor: Option<f64>) -> String {
    let [(so, ss), (oo, os)] = res;
    let wall = |v: &Vec<Outcome>| median(v.iter().map(|o| o.wall.as_secs_f64()).collect());
    let cpu = |v: &Vec<Outcome>| median(v.iter().filter_map(|o| o.cpu).collect());
    let lit = |v: &Vec<Outcome>| v.last().and_then(|o| o.literal);
    let rss = |v: &Vec<Outcome>| v.iter().filter_map(|o| o.rss).max();
    let first = |v: &Vec<Outcome>| {
        median(
            v.iter()
                .filter_map(|o| o.first_file.map(|d| d.as_secs_f64()))
                .collect(),
        )
    };
    let (sw, ow, sc, oc) = (wall(so), wall(oo), cpu(so), cpu(oo));
    let (r, cr) = match (ss, os) {
        (State::Ok, State::Ok) => (format!("**{}**", ratio(ow, sw)), ratio(oc, sc)),
        _ => ("FAIL".into(), "FAIL".into()),
    };
    let note = [ss, os]
        .iter()
        .zip(["stock", "ours"])
        .filter_map(|(s, who)| match s {
            State::Ok => None,
            State::Fail(m) => Some(format!("{who}: {}", m.replace('|', "/"))),
        })
        .chain(
            pair_spread(so, oo)
                .filter(|_| matches!((ss, os), (State::Ok, State::Ok)))
                .map(|(lo, hi)| format!("cpu pairs {lo:.2}–{hi:.2}")),
        )
        .chain(floor.map(|f| {
            format!(
                "walk alone: {}, {} of stock's cpu",
                secs(Some(f)),
                ratio(Some(f), sc)
            )
        }))
        .collect::<Vec<_>>()
        .join("; ");
    let first_file = match (first(so), first(oo)) {
        (None, None) => String::new(),
        (s, o) => format!("{} / {}", secs(s), secs(o)),
    };
    format!(
        "| {} | {} | {} | {} | {} | {} | {} | {} / {} | {} / {} | {} | {} |",
        c.name,
        secs(sw),
        secs(ow),
        r,
        secs(sc),
        secs(oc),
        cr,
        mib(rss(so)),
        mib(rss(oo)),
        mib(lit(so)),
        mib(lit(oo)),
        first_file,
        note
    )
}
