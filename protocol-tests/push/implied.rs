//! `-R --no-implied-dirs` on push: the client lists the parents of
//! `sub/deep/f2` flagged as having no content (protocol 30 and later),
//! and the receiver must leave them alone. Compared with stock in every
//! cell, under `-wo` and under `-wo -no-overwrite` (stock with
//! `--ignore-existing`):
//! - (a) the destination has `sub/deep` with other modes: kept, and
//!   `sub`'s time too;
//! - (b) `sub` is a symlink to a directory in the root: kept, the file is
//!   written through it;
//! - (c) no parents: made plainly (umask modes, not the sender's);
//! - (d) `sub` is a symlink out of the root (absolute and `../..`):
//!   nothing is written outside and the file fails with code 23, as with
//!   stock 3.5.0 (whose own lookup refuses the symlink too);
//! - plain `-R` into (a) and (c) stays as it was.
//!
//! Below protocol 30 the client lists no parents (it sends the option
//! only from 30), and both servers end the session with "ABORTING due to
//! invalid path from sender", changing nothing. The exit codes differ
//! there: ours reports rsync's code 2 to the client, while stock's
//! generator dies and its client sees the stream cut (code 12).

use super::util::{write_at, Outside};
use super::{each_cell, push_vs_stock, push_with, Pair, Spec};
use crate::harness::{self, ensure, Cell, Server, Work};
use crate::tree::{self, Cmp};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

/// The mtime `prepare` gives every directory of a prepared root.
const PREP_MTIME: i64 = 1_300_000_000;

fn source(work: &Work) -> PathBuf {
    let src = work.path("src");
    write_at(&src.join("sub/deep/f2"), b"two\n", 1_500_000_000);
    for (p, mode) in [("sub", 0o750), ("sub/deep", 0o705)] {
        std::fs::set_permissions(src.join(p), std::fs::Permissions::from_mode(mode))
            .expect("chmod");
        let f = std::fs::File::open(src.join(p)).expect("open");
        f.set_modified(UNIX_EPOCH + Duration::from_secs(1_500_000_000))
            .expect("mtime");
    }
    src
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// (a) The parents exist with modes of their own.
fn existing(root: &Path) {
    let dst = root.join("dst");
    std::fs::create_dir_all(dst.join("sub/deep")).expect("mkdir");
    chmod(&dst.join("sub"), 0o700);
    chmod(&dst.join("sub/deep"), 0o711);
}

/// (b) `sub` is a symlink to `real`, a directory in the root.
fn symlinked(root: &Path) {
    let dst = root.join("dst");
    std::fs::create_dir_all(dst.join("real/deep")).expect("mkdir");
    chmod(&dst.join("real/deep"), 0o711);
    std::os::unix::fs::symlink("real", dst.join("sub")).expect("symlink");
}

/// (c) Only the destination directory.
fn bare(root: &Path) {
    std::fs::create_dir_all(root.join("dst")).expect("mkdir");
}

/// The mtime of `dir` in `root`.
fn mtime(root: &Path, dir: &str) -> Option<i64> {
    std::fs::symlink_metadata(root.join(dir))
        .ok()
        .map(|m| m.mtime())
}

/// The directories written into get the time of the write; the others
/// must keep the prepared time in both roots.
fn kept_time(pair: &Pair, dir: &str) -> Result<(), String> {
    for root in [&pair.reference, &pair.ours] {
        ensure(
            mtime(root, dir) == Some(PREP_MTIME),
            &format!("{dir} lost its time in {}", root.display()),
            &pair.our_out,
        )?;
    }
    Ok(())
}

fn spec<'a>(src: &Path, opts: &[&str], flags: &'a [&'a str]) -> Spec<'a> {
    let mut s = Spec::new(opts, src);
    s.srcs = vec![format!("{}/./sub/deep/f2", src.display())];
    s.flags = flags;
    if flags.contains(&"-no-overwrite") {
        s.stock_extra = harness::args(&["--ignore-existing"]);
    }
    // Symlinks are made by the preparation, a moment apart.
    s.cmp = Cmp {
        dir_mtime: false,
        link_mtime: false,
        ..Cmp::ALL
    };
    s
}

/// A case's name, its preparation and a directory whose time must stay.
type Case<'a> = (&'a str, &'a dyn Fn(&Path), &'a str);

const MODES: [&[&str]; 2] = [&["-wo"], &["-wo", "-no-overwrite"]];
const NO_IMPLIED: &[&str] = &["-aR", "--no-implied-dirs"];

#[test]
fn no_implied_dirs_push_matches_stock() {
    each_cell("push_no_implied_dirs", |work, cell| {
        let src = source(work);
        if cell.proto.is_some_and(|p| p < 30) {
            old_protocol(work, cell, &src)?;
            return plain_relative(work, cell, &src).map_err(|e| format!("plain -R: {e}"));
        }
        let mut errs = Vec::new();
        for flags in MODES {
            let cases: [Case; 3] = [
                ("a: existing parents", &existing, "dst/sub"),
                ("b: symlinked parent", &symlinked, "dst/real"),
                ("c: no parents", &bare, "dst"),
            ];
            for (what, prep, still) in cases {
                let mut s = spec(&src, NO_IMPLIED, flags);
                s.prep = Some(prep);
                let r = push_vs_stock(work, cell, &s).and_then(|pair| {
                    let r = if still == "dst" {
                        Ok(())
                    } else {
                        kept_time(&pair, still)
                    };
                    pair.remove();
                    r
                });
                if let Err(e) = r {
                    errs.push(format!("{flags:?} {what}: {e}"));
                }
            }
        }
        if let Err(e) = escaping(work, cell, &src) {
            errs.push(format!("d: symlink out of the root: {e}"));
        }
        if let Err(e) = plain_relative(work, cell, &src) {
            errs.push(format!("plain -R: {e}"));
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs.join("\n    "))
        }
    });
}

/// (d) `sub` leads out of the root: nothing outside changes, and the
/// push fails with stock's code.
fn escaping(work: &Work, cell: &Cell, src: &Path) -> Result<(), String> {
    let outside = Outside::new(work, "outside");
    let name = outside
        .dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for target in [outside.dir.display().to_string(), format!("../../{name}")] {
        let prep = |root: &Path| {
            bare(root);
            std::os::unix::fs::symlink(&target, root.join("dst/sub")).expect("symlink");
        };
        let mut s = spec(src, NO_IMPLIED, &["-wo"]);
        s.prep = Some(&prep);
        s.stock_code = 23;
        let pair = push_vs_stock(work, cell, &s).map_err(|e| format!("-> {target}: {e}"))?;
        let r = outside.intact(&pair.ours, &pair.our_out).and_then(|()| {
            ensure(
                pair.our_out.all().contains("sub/deep/f2"),
                "the refusal does not name the file",
                &pair.our_out,
            )
        });
        pair.remove();
        r.map_err(|e| format!("-> {target}: {e}"))?;
    }
    Ok(())
}

/// Plain `-R` (implied directories on) into (a) and (c), as before.
fn plain_relative(work: &Work, cell: &Cell, src: &Path) -> Result<(), String> {
    for (prep, cmp) in [
        (&existing as &dyn Fn(&Path), Cmp::ALL),
        // `dst` gets the time of the push in both roots.
        (
            &bare,
            Cmp {
                dir_mtime: false,
                ..Cmp::ALL
            },
        ),
    ] {
        let mut s = spec(src, &["-aR"], &["-wo"]);
        s.cmp = cmp;
        s.prep = Some(prep);
        push_vs_stock(work, cell, &s)?.remove();
    }
    Ok(())
}

/// Below protocol 30: both servers refuse the list, and neither root
/// changes.
fn old_protocol(work: &Work, cell: &Cell, src: &Path) -> Result<(), String> {
    const MSG: &str = "ABORTING due to invalid path from sender";
    for prep in [&existing as &dyn Fn(&Path), &symlinked, &bare] {
        let mut s = spec(src, NO_IMPLIED, &["-wo"]);
        s.prep = Some(prep);
        let reference = work.path("old-ref");
        let ours = work.path("old-ours");
        let ref_out = push_with(work, cell, &Server::stock(&reference), &s, &[]);
        let our_out = push_with(work, cell, &Server::tested(s.flags, &ours), &s, &[]);
        ensure(
            ref_out.code == Some(12) && ref_out.all().contains(MSG),
            "STOCK BASELINE: want the abort (code 12)",
            &ref_out,
        )?;
        ensure(
            our_out.code == Some(2) && our_out.all().contains(MSG),
            "want the abort (code 2)",
            &our_out,
        )?;
        let fresh = work.path("old-fresh");
        super::prepare(&fresh, Some(prep));
        for root in [&reference, &ours] {
            tree::same_dirs(
                "unchanged by the abort",
                &fresh,
                root,
                s.cmp.no_root_mtime(),
            )
            .map_err(|e| format!("{e}\n      ours: {}", our_out.describe()))?;
        }
        for d in [&reference, &ours, &fresh] {
            let _ = std::fs::remove_dir_all(d);
        }
    }
    Ok(())
}
