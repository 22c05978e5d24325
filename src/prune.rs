//! `rrsync-rs prune`: the operator's retention for `-snapshot`
//! directories (ours; rsync has none, rsnapshot and restic's `forget`
//! are the models for the `--keep-*` rules).
//!
//! [`keep`] decides, without touching anything: a snapshot stays when
//! any rule keeps it, and the one `latest` names and the newest always
//! stay. [`run`] prints the decision and, with `--yes`, removes the rest
//! through [`crate::fs::snapshot::remove`]. It never sees `.partial`, the
//! push in progress (not a snapshot name), so it is safe beside a push.

use std::ffi::OsString;

use crate::cli::commands::{parse, PruneCli};
use crate::fs::snapshot::{self, snapshot_time};

/// How many buckets of each kind to keep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    /// The newest N.
    pub last: usize,
    /// The newest of each of the last N days.
    pub daily: usize,
    /// ... ISO weeks.
    pub weekly: usize,
    /// ... months.
    pub monthly: usize,
    /// ... years.
    pub yearly: usize,
}

/// For each snapshot (names oldest first), the reasons it is kept; an
/// empty list means it goes.
pub fn keep(names: &[String], latest: Option<&str>, p: Policy) -> Vec<Vec<&'static str>> {
    let mut why: Vec<Vec<&'static str>> = vec![Vec::new(); names.len()];
    let newest_first: Vec<usize> = (0..names.len()).rev().collect();
    let rules: [(&'static str, usize, fn(&jiff::civil::Date) -> (i16, i16)); 4] = [
        ("daily", p.daily, |d| (d.year(), d.day_of_year())),
        ("weekly", p.weekly, |d| {
            let w = d.iso_week_date();
            (w.year(), i16::from(w.week()))
        }),
        ("monthly", p.monthly, |d| (d.year(), i16::from(d.month()))),
        ("yearly", p.yearly, |d| (d.year(), 0)),
    ];
    for &i in newest_first.iter().take(p.last) {
        push(&mut why, i, "last");
    }
    for (label, n, bucket) in rules {
        let mut seen: Vec<(i16, i16)> = Vec::new();
        for &i in &newest_first {
            if seen.len() >= n {
                break;
            }
            let Some(t) = names.get(i).and_then(|s| snapshot_time(s)) else {
                continue;
            };
            let b = bucket(&t.to_zoned_datetime(jiff::tz::TimeZone::UTC).date());
            if !seen.contains(&b) {
                seen.push(b);
                push(&mut why, i, label);
            }
        }
    }
    if let Some(last) = newest_first.first() {
        push(&mut why, *last, "newest");
    }
    if let Some(i) = latest.and_then(|l| names.iter().position(|n| n == l)) {
        push(&mut why, i, "latest");
    }
    why
}

fn push(why: &mut [Vec<&'static str>], i: usize, label: &'static str) {
    if let Some(w) = why.get_mut(i) {
        if !w.contains(&label) {
            w.push(label);
        }
    }
}

/// `rrsync-rs prune DIR --keep-... [--yes]`; returns the exit code.
pub fn run(args: Vec<OsString>) -> i32 {
    let cli: PruneCli = match parse(args) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let policy = Policy {
        last: cli.keep_last,
        daily: cli.keep_daily,
        weekly: cli.keep_weekly,
        monthly: cli.keep_monthly,
        yearly: cli.keep_yearly,
    };
    let fail = |what: &str, e: std::io::Error| {
        eprintln!("rrsync-rs prune: {what} {}: {e}", cli.dir.display());
        1
    };
    let top = match crate::fs::Root::open(&cli.dir) {
        Ok(t) => t,
        Err(e) => return fail("cannot open", e),
    };
    let (names, latest) = match snapshot::list(&top) {
        Ok(l) => l,
        Err(e) => return fail("cannot list the snapshots of", e),
    };
    let decision = keep(&names, latest.as_deref(), policy);
    let mut code = 0;
    for (name, why) in names.iter().zip(&decision) {
        if !why.is_empty() {
            println!("keep    {name}  ({})", why.join(", "));
        } else if !cli.yes {
            println!("remove  {name}  (dry run: add --yes to remove)");
        } else {
            match snapshot::remove(&top, name) {
                Ok(()) => println!("removed {name}"),
                Err(e) => {
                    eprintln!("rrsync-rs prune: cannot remove {name}: {e}");
                    code = 1;
                }
            }
        }
    }
    code
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn kept(n: &[String], why: &[Vec<&str>]) -> Vec<String> {
        n.iter()
            .zip(why)
            .filter(|(_, w)| !w.is_empty())
            .map(|(n, _)| n.clone())
            .collect()
    }

    #[test]
    fn daily_keeps_the_newest_of_each_day() {
        let n = names(&[
            "2026-11-30T010000Z",
            "2026-12-01T010000Z",
            "2026-12-01T230000Z",
            "2026-12-02T010000Z",
            "2026-12-03T010000Z",
            "2026-12-03T020000Z-2",
        ]);
        let p = Policy {
            daily: 2,
            ..Policy::default()
        };
        let why = keep(&n, Some("2026-12-03T020000Z-2"), p);
        assert_eq!(
            kept(&n, &why),
            names(&["2026-12-02T010000Z", "2026-12-03T020000Z-2"])
        );
        let p = Policy {
            daily: 10,
            ..Policy::default()
        };
        let why = keep(&n, None, p);
        assert_eq!(kept(&n, &why).len(), 4, "one per day: {why:?}");
        assert!(why[1].is_empty(), "the earlier of two on Dec 1 goes");
    }

    #[test]
    fn latest_and_newest_always_stay() {
        let n = names(&[
            "2026-01-01T000000Z",
            "2026-06-01T000000Z",
            "2026-12-01T000000Z",
        ]);
        let why = keep(&n, Some("2026-01-01T000000Z"), Policy::default());
        assert_eq!(why[0], vec!["latest"]);
        assert!(why[1].is_empty());
        assert_eq!(why[2], vec!["newest"]);
    }

    #[test]
    fn weekly_monthly_yearly_and_last() {
        let n = names(&[
            "2024-03-01T000000Z",
            "2025-01-05T000000Z",
            "2025-01-06T000000Z",
            "2025-02-01T000000Z",
            "2025-02-02T000000Z",
        ]);
        let p = Policy {
            monthly: 2,
            ..Policy::default()
        };
        assert_eq!(
            kept(&n, &keep(&n, None, p)),
            names(&["2025-01-06T000000Z", "2025-02-02T000000Z"])
        );
        // 2025-01-05 is a Sunday (ISO week 1), 2025-01-06 a Monday (week 2).
        let p = Policy {
            weekly: 3,
            ..Policy::default()
        };
        assert_eq!(
            kept(&n, &keep(&n, None, p)),
            names(&[
                "2025-01-05T000000Z",
                "2025-01-06T000000Z",
                "2025-02-02T000000Z"
            ])
        );
        let p = Policy {
            yearly: 5,
            last: 2,
            ..Policy::default()
        };
        assert_eq!(
            kept(&n, &keep(&n, None, p)),
            names(&[
                "2024-03-01T000000Z",
                "2025-02-01T000000Z",
                "2025-02-02T000000Z"
            ])
        );
    }
}
