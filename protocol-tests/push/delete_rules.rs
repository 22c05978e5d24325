//! What the client's filter rules keep from `--delete` on a push, beyond
//! the names in the directories the transfer lists:
//! - inside an extraneous directory, an excluded name stays, and so does
//!   the directory, with stock's "cannot delete non-empty directory"
//!   (a perishable rule keeps nothing there); `--max-delete` counts the
//!   same entries as stock's;
//! - a directory in the way of a file is cleared the same way, or left
//!   with stock's "could not make way" (exit 23);
//! - the destination's own per-directory rule files (`-F`'s
//!   `.rsync-filter`, `-C`'s `.cvsignore`) protect what they name, as
//!   stock reads them (the server under test runs without a mode here);
//! - under `-wo` those files are not read (their lines would reveal what
//!   they hold): their directories are kept whole, and the client is told.
//!
//! Every case but the last runs in every cell against stock first; the
//! trees, exit codes and `deleting` lines must match.

use super::{each_cell, push_vs_stock, Pair, Spec};
use crate::harness::{ensure, Work};
use crate::tree::Cmp;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

/// A kept directory's mtime is when its last entry went, which differs
/// between the two runs; files get a fixed past mtime ([`touch`]).
const CMP: Cmp = Cmp {
    dir_mtime: false,
    ..Cmp::ALL
};

/// The client's `deleting …` lines, sorted (stdout and stderr interleave
/// differently from run to run).
fn deleting(out: &crate::harness::Output) -> Vec<String> {
    let mut v: Vec<String> = out
        .all()
        .lines()
        .filter(|l| l.starts_with("deleting ") || l.starts_with("cannot delete"))
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

fn same_lines(pair: &Pair) -> Result<(), String> {
    let (want, got) = (deleting(&pair.ref_out), deleting(&pair.our_out));
    ensure(
        want == got,
        &format!("deletion lines differ from stock's {want:?}: {got:?}"),
        &pair.our_out,
    )
}

/// A source with one file and an empty `sub/`.
fn source(work: &Work) -> std::path::PathBuf {
    let src = work.path("rules-src");
    std::fs::create_dir_all(src.join("sub")).expect("mkdir src");
    write_past(&src.join("new.txt"), b"new\n");
    src
}

/// Writes `data` to `p` with a fixed mtime in the past.
fn write_past(p: &Path, data: &[u8]) {
    std::fs::write(p, data).expect("write");
    let f = std::fs::File::options().write(true).open(p).expect("open");
    f.set_modified(UNIX_EPOCH + Duration::from_secs(1_300_000_000))
        .expect("set mtime");
}

fn touch(root: &Path, names: &[&str]) {
    for n in names {
        let p = root.join(n);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        if n.ends_with('/') {
            std::fs::create_dir_all(&p).expect("mkdir");
        } else {
            write_past(&p, b"old\n");
        }
    }
}

#[test]
fn excluded_names_in_a_deleted_directory_stay() {
    each_cell("push_delete_rules_doomed", |work, cell| {
        let src = source(work);
        let prep = |root: &Path| {
            let d = root.join("dst");
            touch(
                &d,
                &["old/x.o", "old/y.c", "old/deep/z.o", "old/deep/w", "gone"],
            );
        };
        let v = cell.protocol() >= 29;
        let cases: [&[&str]; 5] = [
            &["-a", "--delete", "--exclude=*.o"],
            &["-a", "--delete-after", "--exclude=*.o"],
            &["-a", "--delete", "--exclude=*.o", "--max-delete=1"],
            &["-a", "--delete", "--filter=-p *.o"],
            &["-a", "--delete", "--delete-excluded", "--exclude=*.o"],
        ];
        for opts in cases {
            if opts.contains(&"--filter=-p *.o") && cell.protocol() < 30 {
                // The `p` modifier came with protocol 30.
                continue;
            }
            let mut o = opts.to_vec();
            if v {
                o.push("-v");
            }
            let mut spec = Spec::new(&o, &src);
            spec.prep = Some(&prep);
            spec.cmp = CMP;
            spec.stock_code = if opts.contains(&"--max-delete=1") {
                25
            } else {
                0
            };
            let pair = push_vs_stock(work, cell, &spec)?;
            if v {
                same_lines(&pair)?;
            }
            let kept = pair.ours.join("dst/old/deep/z.o").exists();
            let protects = !opts
                .iter()
                .any(|o| o.contains("-p ") || o.contains("excluded"));
            ensure(
                kept == protects,
                &format!("{opts:?}: old/deep/z.o kept: {kept}"),
                &pair.our_out,
            )?;
            pair.remove();
        }
        Ok(())
    });
}

#[test]
fn a_directory_in_the_way_keeps_what_the_rules_protect() {
    each_cell("push_delete_rules_room", |work, cell| {
        let src = work.path("room-src");
        std::fs::create_dir_all(&src).expect("mkdir src");
        write_past(&src.join("thing"), b"file\n");
        let prep = |root: &Path| {
            touch(&root.join("dst"), &["thing/a", "thing/b.o", "thing/in/c"]);
        };
        let v = if cell.protocol() >= 29 { "-v" } else { "-q" };
        for (opts, code) in [
            (vec!["-a", v, "--delete"], 0),
            (vec!["-a", v, "--delete", "--exclude=*.o"], 23),
            (vec!["-a", v, "--delete", "--max-delete=1"], 23),
        ] {
            let mut spec = Spec::new(&opts, &src);
            spec.prep = Some(&prep);
            spec.cmp = CMP;
            spec.stock_code = code;
            let pair = push_vs_stock(work, cell, &spec)?;
            if v == "-v" {
                same_lines(&pair)?;
            }
            pair.remove();
        }
        Ok(())
    });
}

/// The destination's rule files: `-F` (from protocol 29, as the client
/// sends per-directory rules no earlier) and `-C` (every protocol).
#[test]
fn rule_files_in_the_destination_protect_what_they_name() {
    each_cell("push_delete_rules_files", |work, cell| {
        let src = source(work);
        let prep = |root: &Path| {
            let d = root.join("dst");
            touch(
                &d,
                &[
                    "keep.me",
                    "gone",
                    "a.o",
                    "core",
                    "sub/skip.tmp",
                    "sub/gone2",
                    "old/k.tmp",
                    "old/j",
                    "CVS/Root",
                ],
            );
            write_past(&d.join(".rsync-filter"), b"- keep.me\n- k.tmp\n");
            write_past(&d.join("sub/.rsync-filter"), b"- skip.tmp\n");
            write_past(&d.join(".cvsignore"), b"keep.me\n");
            write_past(&d.join("sub/.cvsignore"), b"skip.tmp gone2\n");
        };
        let mut cases: Vec<&[&str]> = vec![&["-a", "--delete", "-C"]];
        if cell.protocol() >= 29 {
            cases.push(&["-a", "--delete", "-F"]);
            cases.push(&["-a", "--delete-after", "-F"]);
        }
        for opts in cases {
            let mut spec = Spec::new(opts, &src);
            spec.flags = &[];
            spec.prep = Some(&prep);
            spec.cmp = CMP;
            let pair = push_vs_stock(work, cell, &spec)?;
            ensure(
                pair.ours.join("dst/keep.me").exists()
                    && pair.ours.join("dst/sub/skip.tmp").exists(),
                &format!("{opts:?}: a name the destination's rule files protect was deleted"),
                &pair.our_out,
            )?;
            pair.remove();
        }
        Ok(())
    });
}

/// Under `-wo` no rule file is read: its directory is kept whole (more
/// than stock keeps, never less), other directories are cleaned, and the
/// client hears why.
#[test]
fn write_only_reads_no_rule_file() {
    each_cell("push_delete_rules_wo", |work, cell| {
        if cell.protocol() < 29 {
            return Ok(());
        }
        let src = source(work);
        std::fs::create_dir_all(src.join("free")).expect("mkdir");
        let root = work.path(&format!("wo-{}", cell.label()));
        let prep = |root: &Path| {
            let d = root.join("dst");
            touch(&d, &["sub/skip.tmp", "sub/other", "free/x", "gone"]);
            std::fs::write(d.join("sub/.rsync-filter"), b"- skip.tmp\n").expect("write");
        };
        super::prepare(&root, Some(&prep));
        let server = crate::harness::Server::tested(&["-wo"], &root);
        let a = crate::harness::args(&[
            "-a",
            "-F",
            "--delete",
            &format!("{}/", src.display()),
            "x:dst/",
        ]);
        let out = crate::harness::rsync(cell, &server.rsh(work), &a);
        ensure(out.code == Some(0), "the push succeeds", &out)?;
        let d = root.join("dst");
        for (name, there) in [
            ("sub/skip.tmp", true),
            ("sub/other", true),
            ("sub/.rsync-filter", true),
            ("free/x", false),
            ("gone", false),
        ] {
            ensure(
                d.join(name).exists() == there,
                &format!("{name} should be there: {there}"),
                &out,
            )?;
        }
        // A warning: MSG_INFO (stdout) below protocol 30.
        let said = if cell.protocol() >= 30 {
            &out.stderr
        } else {
            &out.stdout
        };
        ensure(
            said.contains("filter files on the server are not read in write-only mode"),
            "the client is told why",
            &out,
        )?;
        let _ = std::fs::remove_dir_all(&root);
        Ok(())
    });
}
