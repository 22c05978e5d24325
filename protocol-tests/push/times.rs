//! When a push sets the time of an entry that is already there and
//! unchanged (rsync's `same_time`, `mtime_differs` and
//! `maybe_ATTRS_ACCURATE_TIME`): the destination's file, directory and
//! symlink have the source's second but other nanoseconds. With
//! `--modify-window` 0 the seconds decide, with a negative window the
//! nanoseconds too, with a positive one the window; after `-c` an
//! unchanged file gets the client's time to the nanosecond (none before
//! protocol 31), without an item. Compared with stock in every cell:
//! the whole tree, nanoseconds included, and the items.

use super::util::sorted_lines;
use super::{each_cell, push_with, Spec};
use crate::harness::{ensure, Server};
use crate::tree::Cmp;
use std::path::Path;
use std::process::Command;

fn touch(dir: &Path, when: &str, names: &[&str]) {
    let st = Command::new("touch")
        .args(["-h", "-d", when])
        .args(names)
        .current_dir(dir)
        .status()
        .expect("touch");
    assert!(st.success(), "touch {names:?}");
}

/// `f`, `d/` and `l -> f`, at `when`; the top directory long before.
fn tree(dir: &Path, when: &str) {
    std::fs::create_dir_all(dir.join("d")).expect("mkdir");
    std::fs::write(dir.join("f"), b"hello\n").expect("write");
    let _ = std::fs::remove_file(dir.join("l"));
    std::os::unix::fs::symlink("f", dir.join("l")).expect("symlink");
    touch(dir, when, &["f", "d", "l"]);
    touch(dir, "@1600000000", &["."]);
}

#[test]
fn unchanged_entries_get_their_time_as_stock_sets_it() {
    each_cell("push_times", |work, cell| {
        let src = work.path("times-src");
        tree(&src, "@1700000000.25");
        for opts in [
            &["-ai"][..],
            &["-aic"],
            &["-ai", "--modify-window=-1"],
            &["-ai", "--modify-window=1"],
            &["-aic", "--modify-window=1"],
        ] {
            // Not `Spec::prep`: it gives every directory one whole second.
            let spec = Spec::new(opts, &src);
            let (r, o) = (work.path("times-ref"), work.path("times-ours"));
            tree(&r.join("dst"), "@1700000000.75");
            tree(&o.join("dst"), "@1700000000.75");
            let want = push_with(work, cell, &Server::stock(&r), &spec, &[]);
            let got = push_with(work, cell, &Server::tested(&[], &o), &spec, &[]);
            ensure(want.code == Some(0), "stock failed", &want)?;
            ensure(got.code == Some(0), &format!("{opts:?} failed"), &got)?;
            let cmd = format!("{opts:?}");
            crate::tree::same_dirs(&cmd, &r, &o, Cmp::ALL.no_root_mtime())
                .map_err(|e| format!("{e}\n      ours: {}", got.describe()))?;
            let (w, g) = (sorted_lines(&want.stdout), sorted_lines(&got.stdout));
            ensure(
                w == g,
                &format!("{cmd}: items differ from stock's {w:?}"),
                &got,
            )?;
        }
        Ok(())
    });
}
