//! The cases of the `vs_stock` benchmark: what each transfers, in which
//! direction, with which client and wrapper flags, and from which part
//! of the generated data.

use crate::common::data::Sizes;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Big,
    Small,
    Delta,
    NoChange,
    /// N tiny files into an empty destination.
    Scale(usize),
    /// N tiny files, all already there (the nightly no-change run).
    ScaleSame(usize),
    /// N tiny files, 1 % changed since yesterday's snapshot: ours under
    /// `-snapshot`, stock with the client's `--link-dest`.
    Snapshot(usize),
}

/// The scale cases' tree sizes. They run only when named (`-- scale`).
const SCALES: [(usize, &str); 2] = [(200_000, "200k"), (1_000_000, "1M")];

pub(crate) struct Case {
    pub(crate) name: String,
    pub(crate) push: bool,
    pub(crate) kind: Kind,
    pub(crate) extra: &'static [&'static str],
    /// Wrapper flags for our server besides `-ro`/`-wo`.
    pub(crate) flags: &'static [&'static str],
    /// Client flags for the stock server's runs only: the stock work that
    /// matches `flags` (`-W` for `-blind`, which sends every byte).
    pub(crate) stock_extra: &'static [&'static str],
}

pub(crate) fn cases(s: Sizes) -> Vec<Case> {
    let mut v = Vec::new();
    for push in [false, true] {
        let dir = if push { "push" } else { "pull" };
        let mut add = |name: String, kind, extra| {
            v.push(Case {
                name,
                push,
                kind,
                extra,
                flags: &[],
                stock_extra: &[],
            })
        };
        add(format!("{dir} 1 file {} MiB", s.big_mib), Kind::Big, &[]);
        add(
            format!("{dir} {} small files", s.small_files),
            Kind::Small,
            &[],
        );
        add(
            format!("{dir} {} small files -aAX", s.small_files),
            Kind::Small,
            &["-AX"],
        );
        add(format!("{dir} delta 1 B/MiB"), Kind::Delta, &[]);
        if !push {
            add(format!("{dir} delta --cc=md5"), Kind::Delta, &["--cc=md5"]);
            add(format!("{dir} delta -z"), Kind::Delta, &["-z"]);
            // MD4 block and file sums (rsync 2.6.9, openrsync).
            add(
                format!("{dir} delta --protocol=29"),
                Kind::Delta,
                &["--protocol=29"],
            );
        }
        add(format!("{dir} no change"), Kind::NoChange, &[]);
        // Every file read and summed on both sides (`file_checksum`).
        add(format!("{dir} no change -c"), Kind::NoChange, &["-c"]);
        for (n, label) in SCALES {
            for (kind, what) in [(Kind::Scale(n), "new"), (Kind::ScaleSame(n), "unchanged")] {
                // A new pull names each file as it comes (the first-file
                // column); the client's lines cost both servers alike.
                let extra: &'static [&'static str] = match (push, kind) {
                    (false, Kind::Scale(_)) => &["--out-format=%n"],
                    _ => &[],
                };
                v.push(Case {
                    name: format!("scale {label} {dir} {what}"),
                    push,
                    kind,
                    extra,
                    flags: &[],
                    stock_extra: &[],
                });
            }
        }
        if push {
            v.push(Case {
                name: "push 20000 files 1% changed -snapshot (stock --link-dest)".into(),
                push,
                kind: Kind::Snapshot(20_000),
                extra: &[],
                flags: &["-snapshot"],
                stock_extra: &["--link-dest=../prev"],
            });
            v.push(Case {
                name: format!("{dir} delta -blind"),
                push,
                kind: Kind::Delta,
                extra: &[],
                flags: &["-blind"],
                stock_extra: &["-W"],
            });
        }
    }
    v
}

/// Source path, relative to SRC, of a case's data.
pub(crate) fn rel(kind: Kind) -> String {
    match kind {
        Kind::Big => "data/big/".into(),
        Kind::Small => "data/small/".into(),
        Kind::Delta => "delta/".into(),
        Kind::NoChange => "data/".into(),
        Kind::Scale(n) | Kind::ScaleSame(n) => format!("scale-{n}/"),
        Kind::Snapshot(n) => format!("snap-{n}/"),
    }
}
