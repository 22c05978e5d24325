//! More push options against stock (issue 3, "Options"):
//! - `--compare-dest`, `--copy-dest`, `--link-dest` with a destination
//!   that already holds some files (one identical to the source, one
//!   stale): the tree must equal stock's (stock's `try_dests_reg` also
//!   acts on existing files, and `try_dests_non` on symlinks);
//! - `--max-delete=N` stops deleting after N entries, warns
//!   "Deletions stopped due to --max-delete limit" and exits 25 like stock
//!   (the same number of deletions; which ones go first may differ);
//! - `-H` keeps hard-link groups (same inode in the root);
//! - a push into an identical copy changes nothing (no mtime rewrites);
//! - `-i` itemized output equals stock's for these option sets (compared
//!   sorted, from protocol 29 on where item flags travel on the wire).

use super::basic::prefill_extras;
use super::util::{inode, seed, write_at};
use super::{each_cell, push_vs_stock, Spec};
use crate::fixtures;
use crate::harness::{ensure, Server, Work};
use std::path::Path;

fn alt_prep(root: &Path) {
    let fx = fixtures::small();
    seed(&fx.dir, &root.join("prev"));
    write_at(
        &root.join("prev/text2.txt"),
        b"changed since",
        1_400_000_000,
    );
    std::fs::create_dir_all(root.join("cur")).expect("mkdir cur");
    std::fs::copy(fx.dir.join("text1.txt"), root.join("cur/text1.txt")).expect("copy text1");
    let f = std::fs::File::options()
        .write(true)
        .open(root.join("cur/text1.txt"))
        .expect("open text1");
    let md = std::fs::metadata(fx.dir.join("text1.txt")).expect("stat text1");
    f.set_modified(md.modified().expect("mtime"))
        .expect("set mtime");
    write_at(&root.join("cur/text3.txt"), b"stale", 1_400_000_000);
}

#[test]
fn alt_dests_over_existing_files() {
    let fx = fixtures::small();
    each_cell("push_alt_dests", |_work, cell| {
        let work = Work::new("push_alt_dests_cell");
        let mut errs = Vec::new();
        for opt in [
            "--compare-dest=../prev",
            "--copy-dest=../prev",
            "--link-dest=../prev",
        ] {
            let mut spec = Spec::new(&["-a", opt], &fx.dir);
            spec.dest = "x:cur/".to_string();
            spec.prep = Some(&alt_prep);
            match push_vs_stock(&work, cell, &spec) {
                Ok(pair) => pair.remove(),
                Err(e) => errs.push(format!("{opt}: {e}")),
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs.join("\n    "))
        }
    });
}

#[test]
fn max_delete_stops_and_exits_25() {
    let fx = fixtures::small();
    let src = crate::tree::snapshot(&fx.dir).expect("snapshot source");
    each_cell("push_max_delete", |work, cell| {
        let mut spec = Spec::new(&["-a", "--delete", "--max-delete=2"], &fx.dir);
        spec.flags = &[];
        spec.prep = Some(&prefill_extras);
        spec.stock_code = 25;
        let untouched = work.path("untouched");
        super::prepare(&untouched, Some(&prefill_extras));
        let before = crate::tree::snapshot(&untouched.join("dst")).expect("snapshot prefill");
        // Which entries go first differs from stock (its order is an
        // implementation detail): compare counts, the warning and exit 25.
        let r_root = work.path("mref");
        let o_root = work.path("mours");
        let stock = super::push_with(work, cell, &Server::stock(&r_root), &spec, &[]);
        let ours = super::push_with(work, cell, &Server::tested(&[], &o_root), &spec, &[]);
        ensure(
            stock.code == Some(25),
            "STOCK BASELINE: want exit 25",
            &stock,
        )?;
        ensure(ours.code == Some(25), "want exit 25 (stock: 25)", &ours)?;
        // A warning: on stderr from protocol 30, and below as an info
        // line on stdout (MSG_INFO), the tag a 2.6 client reads.
        let said = if cell.protocol() >= 30 {
            &ours.stderr
        } else {
            &ours.stdout
        };
        ensure(
            said.contains("Deletions stopped due to --max-delete limit"),
            "no \"Deletions stopped due to --max-delete limit\" warning",
            &ours,
        )?;
        let gone = |root: &Path| {
            let after = crate::tree::snapshot(&root.join("dst")).unwrap_or_default();
            before
                .0
                .keys()
                .filter(|p| !after.0.contains_key(*p))
                .count()
        };
        let (want, got) = (gone(&r_root), gone(&o_root));
        ensure(
            got == want,
            &format!("{got} entries deleted, stock deleted {want}"),
            &ours,
        )?;
        let after = crate::tree::snapshot(&o_root.join("dst")).unwrap_or_default();
        let missing: Vec<_> = src.0.keys().filter(|p| !after.0.contains_key(*p)).collect();
        ensure(
            missing.is_empty(),
            &format!("source entries missing: {missing:?}"),
            &ours,
        )
    });
}

/// The small tree plus hard-link groups (2 and 3 names).
fn linked_source(work: &Work) -> std::path::PathBuf {
    let src = work.path("hl-src");
    seed(&fixtures::small().dir, &src);
    let link = |a: &str, b: &str| std::fs::hard_link(src.join(a), src.join(b)).expect("link");
    link("medium.bin", "hl1");
    link("medium.bin", "nested/hl2");
    link("text4.txt", "d0755/t4");
    // Restore the directories' mtimes touched by the links.
    for d in ["", "nested", "d0755"] {
        let from = fixtures::small().dir.join(d);
        let t = std::fs::metadata(&from)
            .and_then(|m| m.modified())
            .expect("mtime");
        let f = std::fs::File::open(src.join(d)).expect("open dir");
        f.set_modified(t).expect("set dir mtime");
    }
    src
}

#[test]
fn hard_links() {
    let base = Work::new("push_hard_links_src");
    let src = linked_source(&base);
    each_cell("push_hard_links", |work, cell| {
        let pair = push_vs_stock(work, cell, &Spec::new(&["-aH"], &src))?;
        let d = pair.ours.join("dst");
        let groups = [
            vec!["medium.bin", "hl1", "nested/hl2"],
            vec!["text4.txt", "d0755/t4"],
        ];
        let mut bad = Vec::new();
        for g in &groups {
            let first = inode(&d.join(g[0]));
            if first.is_none() || g.iter().any(|n| inode(&d.join(n)) != first) {
                bad.push(g.join(" = "));
            }
        }
        let r = ensure(
            bad.is_empty(),
            &format!("-H: not one inode: {bad:?}"),
            &pair.our_out,
        );
        pair.remove();
        r
    });
}

/// Client options, source, destination and an optional change to the
/// destination before the run.
type ItemizeCase<'a> = (Vec<&'a str>, &'a Path, &'a str, Option<&'a dyn Fn(&Path)>);

#[test]
fn itemized_output_matches_stock() {
    let fx = fixtures::small();
    let base = Work::new("push_itemize_src");
    let hl = linked_source(&base);
    each_cell("push_itemize", |work, cell| {
        if cell.protocol() < 29 {
            return Ok(());
        }
        let mut errs = Vec::new();
        // Every top-level file of the source already there with other
        // contents: without -t each is transferred and gets the time of
        // the transfer, which stock itemizes as `T`.
        let stale = |root: &Path| {
            std::fs::create_dir_all(root.join("dst")).unwrap();
            for f in std::fs::read_dir(&fx.dir).unwrap().flatten() {
                if f.file_type().unwrap().is_file() {
                    std::fs::write(root.join("dst").join(f.file_name()), b"stale").unwrap();
                }
            }
        };
        let cases: Vec<ItemizeCase<'_>> = vec![
            (vec!["-ai"], &fx.dir, "x:dst/", None),
            (vec!["-rli"], &fx.dir, "x:dst/", Some(&stale)),
            (
                vec!["-ai", "--delete"],
                &fx.dir,
                "x:dst/",
                Some(&prefill_extras),
            ),
            (vec!["-aiH"], &hl, "x:dst/", None),
            (
                vec!["-ai", "--link-dest=../prev"],
                &fx.dir,
                "x:cur/",
                Some(&alt_prep),
            ),
            (
                vec!["-ai", "--compare-dest=../prev"],
                &fx.dir,
                "x:cur/",
                Some(&alt_prep),
            ),
        ];
        for (opts, src, dest, prep) in cases {
            let mut spec = Spec::new(&opts, src);
            spec.dest = dest.to_string();
            spec.flags = &[];
            spec.prep = prep;
            let (r_root, o_root) = (work.path("iref"), work.path("iours"));
            let stock = super::push_with(work, cell, &Server::stock(&r_root), &spec, &[]);
            let ours = super::push_with(work, cell, &Server::tested(&[], &o_root), &spec, &[]);
            let mut want: Vec<&str> = stock.stdout.lines().collect();
            let mut got: Vec<&str> = ours.stdout.lines().collect();
            want.sort_unstable();
            got.sort_unstable();
            let missing: Vec<_> = want.iter().filter(|l| !got.contains(l)).collect();
            let extra: Vec<_> = got.iter().filter(|l| !want.contains(l)).collect();
            let r = if stock.code != Some(0) {
                Err(format!("STOCK BASELINE failed\n      {}", stock.describe()))
            } else if missing.is_empty() && extra.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "itemized lines differ:\n      only stock: {missing:?}\n      only ours:  {extra:?}"
                ))
            };
            if let Err(e) = r {
                errs.push(format!("{}: {e}", opts.join(" ")));
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs.join("\n    "))
        }
    });
}

/// A push into an identical copy (made by local `rsync -a`, so with
/// nanosecond mtimes) changes nothing at all, at every protocol: stock
/// compares mtimes at the precision the protocol carries (seconds below
/// 31) and leaves equal ones alone.
#[test]
fn noop_push_changes_nothing() {
    let fx = fixtures::small();
    each_cell("push_noop", |work, cell| {
        for (tag, server) in [
            ("STOCK BASELINE", Server::stock(&work.path("nref"))),
            ("ours", Server::tested(&["-wo"], &work.path("nours"))),
        ] {
            seed(&fx.dir, &server.root.join("dst"));
            let before = crate::tree::snapshot(&server.root).expect("snapshot");
            let out = super::util::push(
                work,
                cell,
                &server,
                &["-a"],
                &[super::util::src_arg(&fx.dir)],
                "x:dst/",
            );
            ensure(out.code == Some(0), &format!("{tag}: push failed"), &out)?;
            let after = crate::tree::snapshot(&server.root).expect("snapshot");
            crate::tree::same(
                &format!("{tag}: no-op push"),
                &before,
                &after,
                crate::tree::Cmp::ALL.no_root_mtime(),
            )
            .map_err(|e| format!("{e}\n      {}", out.describe()))?;
        }
        Ok(())
    });
}
