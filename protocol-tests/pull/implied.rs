//! `-R --no-implied-dirs` on pull (issue 11): from protocol 30 rsync's
//! sender still lists the parents of a relative path, flagged as having
//! no content, and a 3.x client aborts ("invalid path from sender") when
//! they are missing. Compared with stock at protocols 30 to 32 (below 30
//! stock's own pull aborts; plain `-aR` is compared at every protocol),
//! into an empty destination and into one whose parent directories exist
//! with other modes (which the client must leave alone).

use super::{each_cell, pull_vs_stock, Spec};
use crate::harness::Work;
use crate::tree::Cmp;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

fn root(work: &Work) -> PathBuf {
    let root = work.path("root");
    let deep = root.join("sub/deep");
    std::fs::create_dir_all(&deep).expect("mkdir");
    std::fs::write(deep.join("f2"), b"two\n").expect("write");
    std::fs::write(root.join("sub/f1"), b"one\n").expect("write");
    for (p, mode) in [("sub", 0o750), ("sub/deep", 0o705)] {
        std::fs::set_permissions(root.join(p), std::fs::Permissions::from_mode(mode))
            .expect("chmod");
    }
    for p in ["sub/deep/f2", "sub/f1", "sub/deep", "sub"] {
        let f = std::fs::File::open(root.join(p)).expect("open");
        f.set_modified(UNIX_EPOCH + Duration::from_secs(1_500_000_000))
            .expect("mtime");
    }
    root
}

fn existing_parents(dst: &Path) {
    std::fs::create_dir_all(dst.join("sub/deep")).expect("mkdir");
    for (p, mode) in [("sub", 0o755), ("sub/deep", 0o700)] {
        std::fs::set_permissions(dst.join(p), std::fs::Permissions::from_mode(mode))
            .expect("chmod");
    }
}

#[test]
fn no_implied_dirs_pull_matches_stock() {
    each_cell("pull_no_implied_dirs", |work, cell| {
        let root = root(work);
        // The client creates missing parents itself, at the time of the run.
        let cmp = Cmp {
            dir_mtime: false,
            ..Cmp::ALL
        };
        // Below protocol 30 a 3.x client aborts against stock too: the
        // option is then only checked at 30 and above.
        let old = cell.proto.is_some_and(|p| p < 30);
        for opts in [&["-aR", "--no-implied-dirs"][..], &["-aR"][..]] {
            if old && opts.len() > 1 {
                continue;
            }
            let mut spec = Spec::new(opts, &["x:sub/deep/f2"]);
            spec.cmp = cmp;
            pull_vs_stock(work, cell, &root, &spec).map(|p| p.remove())?;
            let prep = |d: &Path| existing_parents(d);
            spec.prep = Some(&prep);
            pull_vs_stock(work, cell, &root, &spec).map(|p| p.remove())?;
        }
        Ok(())
    });
}
