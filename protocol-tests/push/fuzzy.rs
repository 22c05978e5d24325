//! `--fuzzy` on a push (protocol 29 and later): a file new to the
//! destination takes a similar file beside it as the basis of its delta
//! (`-yy`: in the alternate directories too), as stock's generator does,
//! so the client sends only what differs. Compared with stock in every
//! cell: the trees, the items and the client's "Matched data" and
//! "Literal data", with `--delete` and `--delete-after` too. Under `-wo` no fuzzy basis is offered (its name would
//! list the directory): the file travels whole and lands the same.

use super::{each_cell, push_vs_stock, Spec};
use crate::harness::{ensure, Output, Work};
use crate::tree::Cmp;
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

/// 200,000 bytes that do not compress into runs.
fn content(seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).max(1);
    (0..200_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

fn write(p: &Path, data: &[u8], secs: u64) {
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, data).expect("write");
    let f = std::fs::File::options().write(true).open(p).expect("open");
    f.set_modified(UNIX_EPOCH + Duration::from_secs(secs))
        .expect("mtime");
}

/// `logs/app.log` (new to the destination) and `logs/notes.txt`.
fn source(work: &Work) -> PathBuf {
    let src = work.path("fuzzy-src");
    if !src.exists() {
        let mut log = content(1);
        log.splice(0..0, b"one new line at the top\n".iter().copied());
        write(&src.join("logs/app.log"), &log, 1_700_000_000);
        write(&src.join("logs/notes.txt"), &content(3), 1_700_000_000);
    }
    src
}

/// `logs/a.log` and `logs/c.log`, new and like the destination's
/// `b.log`, and `logs/b.log`, which changes.
fn changing_source(work: &Work) -> PathBuf {
    let src = work.path("fuzzy-src2");
    if !src.exists() {
        for (name, top) in [("a.log", &b"a\n"[..]), ("c.log", b"c\n")] {
            let mut log = content(1);
            log.splice(0..0, top.iter().copied());
            write(&src.join("logs").join(name), &log, 1_700_000_000);
        }
        write(&src.join("logs/b.log"), &content(5), 1_700_000_000);
    }
    src
}

/// `b.log` is about to change when `c.log` looks for a basis: stock
/// takes it no more (`FLAG_FILE_SENT`), so `c.log` gets `zz.bin`.
fn changing(root: &Path) {
    write(&root.join("dst/logs/b.log"), &content(1), 1_600_000_000);
    write(&root.join("dst/logs/zz.bin"), &content(2), 1_600_000_000);
}

/// The destination holds yesterday's log under its rotated name, and an
/// unrelated file; `alt` (for `-yy`) holds the rotated log only.
fn rotated(root: &Path, in_alt: bool) {
    let dir = if in_alt { "alt/logs" } else { "dst/logs" };
    write(
        &root.join(dir).join("app.log.1"),
        &content(1),
        1_600_000_000,
    );
    write(&root.join("dst/logs/zzz.bin"), &content(2), 1_600_000_000);
}

/// The client's "Matched data" and "Literal data" lines and its items.
fn lines(out: &Output) -> Vec<String> {
    let mut v: Vec<String> = out
        .all()
        .lines()
        .filter(|l| {
            l.starts_with("Matched data") || l.starts_with("Literal data") || l.starts_with('>')
        })
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

fn matched(v: &[String]) -> u64 {
    v.iter()
        .find_map(|l| l.strip_prefix("Matched data: "))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.replace(',', "").parse().ok())
        .unwrap_or(0)
}

#[test]
fn fuzzy_basis_as_stock_chooses_it() {
    each_cell("push_fuzzy", |work, cell| {
        if cell.protocol() < 29 {
            return Ok(());
        }
        let (src, src2) = (source(work), changing_source(work));
        let beside = |r: &Path| rotated(r, false);
        let in_alt = |r: &Path| rotated(r, true);
        type Prep<'a> = &'a dyn Fn(&Path);
        let cases: [(&[&str], &[&str], Prep<'_>, &Path); 7] = [
            (&["-rti", "--fuzzy", "--stats"], &[], &beside, &src),
            // --delete (during) removes the rotated log before its
            // directory's files are looked at; --delete-after does not.
            (&["-rti", "-y", "--delete", "--stats"], &[], &beside, &src),
            (
                &["-rti", "-y", "--delete-after", "--stats"],
                &[],
                &beside,
                &src,
            ),
            (
                &["-rti", "-yy", "--compare-dest=../alt", "--stats"],
                &[],
                &in_alt,
                &src,
            ),
            // -y alone does not look in the alternate directory.
            (
                &["-rti", "-y", "--compare-dest=../alt", "--stats"],
                &[],
                &in_alt,
                &src,
            ),
            (&["-rti", "--fuzzy", "--stats"], &[], &changing, &src2),
            (&["-rti", "--fuzzy", "--stats"], &["-wo"], &beside, &src),
        ];
        for (opts, flags, prep, src) in cases {
            let mut spec = Spec::new(opts, src);
            spec.flags = flags;
            spec.prep = Some(prep);
            // Stock at times renames a file into `logs/` after setting the
            // directory's time: ours must hold the source's time.
            spec.cmp = Cmp {
                dir_mtime: false,
                ..Cmp::ALL
            };
            let pair = push_vs_stock(work, cell, &spec)?;
            // Whole seconds: below protocol 31 no nanoseconds travel.
            let mtime = |p: &Path| {
                let t = std::fs::metadata(p).and_then(|m| m.modified()).ok();
                t.and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .map(|d| d.as_secs())
            };
            ensure(
                mtime(&pair.ours.join("dst/logs")) == mtime(&src.join("logs")),
                &format!("{opts:?}: logs/ did not keep the source's mtime"),
                &pair.our_out,
            )?;
            let (want, got) = (lines(&pair.ref_out), lines(&pair.our_out));
            if flags.is_empty() {
                ensure(
                    want == got,
                    &format!("{opts:?}: the client's lines {got:?} differ from stock's {want:?}"),
                    &pair.our_out,
                )?;
                // Stock finds a basis unless it is only in the alternate
                // directory without -yy, or --delete removed it first.
                let has = |o: &str| opts.contains(&o);
                let found = (has("-yy") || !has("--compare-dest=../alt")) && !has("--delete");
                ensure(
                    (matched(&want) > 0) == found,
                    &format!("{opts:?}: stock matched {} bytes", matched(&want)),
                    &pair.ref_out,
                )?;
            } else {
                ensure(
                    matched(&want) > 0 && matched(&got) == 0,
                    &format!("-wo {opts:?}: matched {got:?}, stock {want:?}"),
                    &pair.our_out,
                )?;
            }
            pair.remove();
        }
        Ok(())
    });
}
