//! Push transfers that must match stock `rsync --server` byte for byte
//! (issue 3, "Done when" 1, 3 and 5): the full fixture tree under `-wo` and
//! under no mode flag, `--delete` (with an excluded survivor), and one case
//! each for `--inplace`, `--mkpath`, `--backup-dir`, `--link-dest` and
//! `--dry-run`. Every case runs across the client × protocol matrix; the
//! big tree only at native protocols and 29.

use super::util::{self, inode, seed, src_arg, write_at};
use super::{each_cell, is_heavy, push_vs_stock, Spec};
use crate::fixtures;
use crate::harness::{ensure, Server};
use crate::tree::{self, Cmp};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[test]
fn full_tree_matches_stock() {
    each_cell("push_full_tree", |work, cell| {
        let fx = if is_heavy(cell) {
            fixtures::big()
        } else {
            fixtures::small()
        };
        let spec = Spec::new(&["-a"], &fx.dir);
        let reference = work.path("ref");
        let ref_out = super::push_with(work, cell, &Server::stock(&reference), &spec, &[]);
        ensure(
            ref_out.code == Some(0),
            "STOCK BASELINE push failed",
            &ref_out,
        )?;
        let mut errs = Vec::new();
        for flags in [&["-wo"][..], &[][..]] {
            let ours = work.path("ours");
            let out = super::push_with(work, cell, &Server::tested(flags, &ours), &spec, &[]);
            let r = ensure(out.code == Some(0), "push failed", &out)
                .and_then(|()| {
                    tree::same_dirs("vs stock", &reference, &ours, Cmp::ALL.no_root_mtime())
                })
                .and_then(|()| {
                    tree::same_dirs("vs source", &fx.dir, &ours.join("dst"), Cmp::SOURCE)
                });
            if let Err(e) = r {
                errs.push(format!("flags {flags:?}: {e}"));
            }
            let _ = std::fs::remove_dir_all(&ours);
        }
        let _ = std::fs::remove_dir_all(&reference);
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs.join("\n    "))
        }
    });
}

/// The small tree plus extras the source does not have.
pub(super) fn prefill_extras(root: &Path) {
    let dst = root.join("dst");
    seed(&fixtures::small().dir, &dst);
    write_at(&dst.join("extra.txt"), b"extra", 1_500_000_000);
    write_at(&dst.join("extra_dir/deeper/x"), b"x", 1_500_000_000);
    write_at(&dst.join("nested/extra"), b"e", 1_500_000_000);
    write_at(
        &dst.join("keep.log"),
        b"excluded, must survive",
        1_500_000_000,
    );
    write_at(
        &dst.join("nested/a/keep2.log"),
        b"excluded too",
        1_500_000_000,
    );
    std::fs::remove_dir_all(dst.join("empty")).expect("rm empty");
    write_at(
        &dst.join("empty"),
        b"a file where a dir belongs",
        1_500_000_000,
    );
}

#[test]
fn delete_matches_stock() {
    let fx = fixtures::small();
    each_cell("push_delete", |work, cell| {
        let mut errs = Vec::new();
        for del in [
            "--delete",
            "--delete-after",
            "--delete-delay",
            "--delete-excluded",
        ] {
            let mut spec = Spec::new(&["-a", del, "--exclude=*.log"], &fx.dir);
            spec.flags = &[];
            spec.prep = Some(&prefill_extras);
            let r = push_vs_stock(work, cell, &spec).and_then(|pair| {
                let dst = pair.ours.join("dst");
                let survived =
                    dst.join("keep.log").exists() && dst.join("nested/a/keep2.log").exists();
                let r = if del == "--delete-excluded" {
                    ensure(
                        !survived,
                        "excluded files survived --delete-excluded",
                        &pair.our_out,
                    )
                } else {
                    ensure(survived, "an --exclude'd file was deleted", &pair.our_out)
                };
                let r = r.and_then(|()| {
                    ensure(
                        !dst.join("extra_dir").exists(),
                        "extra_dir not deleted",
                        &pair.our_out,
                    )
                });
                pair.remove();
                r
            });
            if let Err(e) = r {
                errs.push(format!("{del}: {e}"));
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs.join("\n    "))
        }
    });
}

/// Seeds `dst` and then alters `medium.bin` in place (same size, old
/// mtime): remembers its inode per root.
fn altered_seed(root: &Path, inodes: &Mutex<HashMap<PathBuf, (u64, u64)>>) {
    let dst = root.join("dst");
    seed(&fixtures::small().dir, &dst);
    let p = dst.join("medium.bin");
    let mut data = std::fs::read(&p).expect("read medium");
    for i in (0..data.len()).step_by(50_000) {
        if let Some(b) = data.get_mut(i) {
            *b ^= 0xff;
        }
    }
    write_at(&p, &data, 1_400_000_000);
    if let (Ok(mut m), Some(i)) = (inodes.lock(), inode(&p)) {
        m.insert(root.to_path_buf(), i);
    }
}

#[test]
fn inplace_keeps_inode() {
    let fx = fixtures::small();
    let inodes = Mutex::new(HashMap::new());
    let prep = |root: &Path| altered_seed(root, &inodes);
    each_cell("push_inplace", |work, cell| {
        let mut spec = Spec::new(&["-a", "--inplace", "--no-whole-file"], &fx.dir);
        spec.prep = Some(&prep);
        let pair = push_vs_stock(work, cell, &spec)?;
        let f = pair.ours.join("dst/medium.bin");
        let before = inodes.lock().ok().and_then(|m| m.get(&pair.ours).copied());
        let r = ensure(
            before.is_some() && inode(&f) == before,
            "--inplace replaced the file (inode changed)",
            &pair.our_out,
        );
        pair.remove();
        r
    });
}

#[test]
fn mkpath() {
    let fx = fixtures::small();
    each_cell("push_mkpath", |work, cell| {
        let mut spec = Spec::new(&["-a", "--mkpath"], &fx.dir);
        spec.dest = "x:a/b/c/".to_string();
        // The intermediate directories are created now.
        spec.cmp = Cmp {
            dir_mtime: false,
            ..Cmp::ALL
        };
        push_vs_stock(work, cell, &spec)?.remove();
        let mut spec = Spec::new(&["-a", "--mkpath"], &fx.dir);
        spec.srcs = vec![fx.dir.join("sp ace.txt").display().to_string()];
        spec.dest = "x:new/deep/renamed.txt".to_string();
        spec.cmp = Cmp {
            dir_mtime: false,
            ..Cmp::ALL
        };
        let pair = push_vs_stock(work, cell, &spec)?;
        let r = ensure(
            pair.ours.join("new/deep/renamed.txt").is_file(),
            "--mkpath single file did not arrive",
            &pair.our_out,
        );
        pair.remove();
        r
    });
}

#[test]
fn backup_dir() {
    let fx = fixtures::small();
    let inodes = Mutex::new(HashMap::new());
    let prep = |root: &Path| {
        altered_seed(root, &inodes);
        write_at(
            &root.join("dst/nested/a/b/c/deep.txt"),
            b"older",
            1_400_000_000,
        );
        write_at(&root.join("dst/text3.txt"), b"older 3", 1_400_000_000);
    };
    each_cell("push_backup_dir", |work, cell| {
        let mut errs = Vec::new();
        for (opts, backup) in [
            (&["-a", "-b", "--backup-dir=bak"][..], "bak/medium.bin"),
            (
                &["-a", "--backup", "--backup-dir=bak2", "--suffix=.old"][..],
                "bak2/medium.bin.old",
            ),
            (&["-a", "-b"][..], "medium.bin~"),
        ] {
            let mut spec = Spec::new(opts, &fx.dir);
            spec.prep = Some(&prep);
            // Backup directories are created now: their mtimes differ.
            spec.cmp = Cmp {
                dir_mtime: false,
                ..Cmp::ALL
            };
            let r = push_vs_stock(work, cell, &spec).and_then(|pair| {
                let r = ensure(
                    pair.ours.join("dst").join(backup).is_file(),
                    &format!("no backup {backup}"),
                    &pair.our_out,
                );
                pair.remove();
                r
            });
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

#[test]
fn link_dest_hard_links_unchanged_files() {
    let fx = fixtures::small();
    let prep = |root: &Path| {
        seed(&fx.dir, &root.join("prev"));
        write_at(
            &root.join("prev/text2.txt"),
            b"changed since",
            1_400_000_000,
        );
    };
    each_cell("push_link_dest", |work, cell| {
        let mut spec = Spec::new(&["-a", "--link-dest=../prev"], &fx.dir);
        spec.dest = "x:cur/".to_string();
        spec.prep = Some(&prep);
        let pair = push_vs_stock(work, cell, &spec)?;
        let t = util::snap(&fx.dir);
        let mut bad = Vec::new();
        for (p, e) in &t.0 {
            // Stock links symlinks too (CAN_HARDLINK_SYMLINK on Linux).
            if !matches!(e.kind, tree::Kind::File | tree::Kind::Symlink) {
                continue;
            }
            let linked =
                inode(&pair.ours.join("cur").join(p)) == inode(&pair.ours.join("prev").join(p));
            if linked == (p == Path::new("text2.txt")) {
                bad.push(p.clone());
            }
        }
        let r = ensure(
            bad.is_empty(),
            &format!("hard-link state wrong (want linked iff unchanged) for {bad:?}"),
            &pair.our_out,
        );
        pair.remove();
        r
    });
}

#[test]
fn dry_run_changes_nothing() {
    let fx = fixtures::small();
    each_cell("push_dry_run", |work, cell| {
        let mut spec = Spec::new(&["-a", "-n", "-i", "--delete"], &fx.dir);
        spec.flags = &[];
        spec.prep = Some(&prefill_extras);
        let untouched = work.path("untouched");
        super::prepare(&untouched, Some(&prefill_extras));
        let before = util::snap(&untouched);
        let pair = push_vs_stock(work, cell, &spec)?;
        let r = tree::same(
            "dry run vs untouched prefill",
            &before,
            &util::snap(&pair.ours),
            Cmp::ALL.no_root_mtime(),
        )
        .map_err(|e| format!("{e}\n      {}", pair.our_out.describe()))
        .and_then(|()| {
            let mut want: Vec<&str> = pair.ref_out.stdout.lines().collect();
            let mut got: Vec<&str> = pair.our_out.stdout.lines().collect();
            want.sort_unstable();
            got.sort_unstable();
            // Below 29 stock prints nameless "*deleting" lines only.
            ensure(
                want == got || cell.protocol() < 29,
                &format!("itemized -n output differs from stock:\n      stock: {want:?}"),
                &pair.our_out,
            )
        });
        pair.remove();
        r?;
        // Into an empty root: nothing at all is created.
        let empty = work.path("dry-empty");
        std::fs::create_dir_all(&empty).expect("mkdir empty root");
        let server = Server::tested(&["-wo"], &empty);
        let out = util::push(
            work,
            cell,
            &server,
            &["-a", "-n", "--mkpath"],
            &[src_arg(&fx.dir)],
            "x:dst/a/",
        );
        ensure(
            out.code == Some(0) && std::fs::read_dir(&empty).map(|d| d.count()).unwrap_or(1) == 0,
            "dry run into an empty root created something (or failed)",
            &out,
        )
    });
}
