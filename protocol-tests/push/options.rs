//! Client options that the server must act on, not only accept, on push:
//! - `--safe-links`: the receiver does not make a symlink that leads out
//!   of the transfer (absolute, empty, climbing above the top, or with a
//!   `..` after another step, as rsync 3.4 and later judge it), and with
//!   `-v` the client prints stock's "ignoring unsafe symlink" lines;
//! - `--sparse`: runs of zeros become holes, so the file takes no more
//!   disk than stock's copy, far less than its length;
//! - `--fsync`: each file is synced before it is put in place (what the
//!   client can see is that the push succeeds as with stock);
//! - making room without `--delete`: what is in the way of another type
//!   goes when it is a file or an empty directory, a directory with
//!   contents only with `--force`.
//!
//! Each runs in every cell against stock first, and the trees must match.

use super::{each_cell, push_vs_stock, Spec};
use crate::fixtures;
use crate::harness::{ensure, Work};
use std::os::unix::fs::symlink;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Sets `path`'s mtime (not following a symlink) to a fixed past time:
/// with a tree made a moment before the push, the two servers' copies
/// showed mtimes that differed with when each ran.
fn set_past_mtime(path: &Path) {
    let t = rustix::fs::Timespec {
        tv_sec: 1_600_000_000,
        tv_nsec: 0,
    };
    let ts = rustix::fs::Timestamps {
        last_access: t,
        last_modification: t,
    };
    rustix::fs::utimensat(
        rustix::fs::CWD,
        path,
        &ts,
        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
    )
    .expect("set mtime");
}

/// A source with safe and unsafe links.
fn links_source(work: &Work) -> PathBuf {
    let src = work.path("links-src");
    std::fs::create_dir_all(src.join("sub")).expect("mkdir src");
    std::fs::write(src.join("file"), b"data\n").expect("write file");
    for (target, name) in [
        ("file", "safe"),
        ("sub/../file", "safe_dotdot"),
        ("../file", "sub/back"),
        ("/etc/passwd", "abs"),
        ("../outside", "up"),
        ("../../outside", "sub/up2"),
    ] {
        symlink(target, src.join(name)).expect("symlink");
    }
    for entry in [
        "file",
        "safe",
        "safe_dotdot",
        "sub/back",
        "abs",
        "up",
        "sub/up2",
        "sub",
        "",
    ] {
        set_past_mtime(&src.join(entry));
    }
    src
}

/// The "ignoring unsafe symlink" lines of `text`, sorted.
fn ignoring(text: &str) -> Vec<&str> {
    let mut v: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("ignoring unsafe symlink"))
        .collect();
    v.sort_unstable();
    v
}

#[test]
fn safe_links_leaves_out_what_leads_outside() {
    each_cell("push_safe_links", |work, cell| {
        let src = links_source(work);
        let spec = Spec::new(&["-av", "--safe-links"], &src);
        let pair = push_vs_stock(work, cell, &spec)?;
        let dst = pair.ours.join("dst");
        // `sub/../file` stays inside, but rsync 3.4 and later refuse a
        // `..` after another step (CVE-2024-12088).
        for gone in ["abs", "up", "sub/up2", "safe_dotdot"] {
            ensure(
                std::fs::symlink_metadata(dst.join(gone)).is_err(),
                &format!("unsafe link {gone} was made"),
                &pair.our_out,
            )?;
        }
        for kept in ["safe", "sub/back"] {
            ensure(
                std::fs::symlink_metadata(dst.join(kept)).is_ok(),
                &format!("safe link {kept} is missing"),
                &pair.our_out,
            )?;
        }
        let (want, got) = (&pair.ref_out.stdout, &pair.our_out.stdout);
        ensure(
            ignoring(want) == ignoring(got) && ignoring(want).len() == 4,
            "the \"ignoring unsafe symlink\" lines differ from stock's",
            &pair.our_out,
        )?;
        pair.remove();
        Ok(())
    });
}

#[test]
fn fsync_push_matches_stock() {
    let fx = fixtures::small();
    each_cell("push_fsync", |work, cell| {
        let spec = Spec::new(&["-a", "--fsync"], &fx.dir);
        push_vs_stock(work, cell, &spec)?.remove();
        Ok(())
    });
}

#[test]
fn sparse_push_leaves_holes() {
    use std::os::unix::fs::MetadataExt;
    each_cell("push_sparse", |work, cell| {
        let src = work.path("sparse-src");
        std::fs::create_dir_all(&src).expect("mkdir src");
        let mut data = vec![0u8; 6 << 20];
        for (i, b) in data.iter_mut().enumerate().take(20_000) {
            *b = (i % 251) as u8 | 1;
        }
        if let Some(b) = data.get_mut(3 << 20) {
            *b = 7;
        }
        std::fs::write(src.join("disk.img"), &data).expect("write disk.img");
        set_past_mtime(&src.join("disk.img"));
        set_past_mtime(&src);
        let spec = Spec::new(&["-aS"], &src);
        let pair = push_vs_stock(work, cell, &spec)?;
        let used = |root: &Path| {
            std::fs::metadata(root.join("dst/disk.img")).map_or(u64::MAX, |m| m.blocks() * 512)
        };
        let (ours, stock) = (used(&pair.ours), used(&pair.reference));
        ensure(
            ours <= stock.saturating_add(64 << 10) && ours < (1 << 20),
            &format!("disk.img takes {ours} bytes on disk (stock's copy {stock})"),
            &pair.our_out,
        )?;
        pair.remove();
        Ok(())
    });
}

/// The destination's entries in the way of the source's other types: an
/// empty directory and a full one where files come, a file where a
/// directory comes, an empty directory where a symlink comes.
fn in_the_way(root: &Path) {
    let dst = root.join("dst");
    std::fs::create_dir_all(dst.join("empty")).expect("mkdir empty");
    std::fs::create_dir_all(dst.join("full/inner")).expect("mkdir full");
    std::fs::write(dst.join("full/inner/z"), b"z\n").expect("write z");
    std::fs::write(dst.join("was_file"), b"f\n").expect("write was_file");
    // A file of the mode the directory comes with: the directory made in
    // its place must be looked at anew, not taken for the file.
    std::fs::set_permissions(dst.join("was_file"), std::fs::Permissions::from_mode(0o755))
        .expect("chmod was_file");
    std::fs::create_dir_all(dst.join("link")).expect("mkdir link");
    for p in [
        "full/inner/z",
        "full/inner",
        "full",
        "empty",
        "was_file",
        "link",
    ] {
        set_past_mtime(&dst.join(p));
    }
}

/// A push without `--delete` makes room as stock does: what is empty or
/// not a directory goes, a directory with contents only with `--force`
/// (without it: stock's lines, exit 23, the rest of the tree arrives).
#[test]
fn room_is_made_without_delete_as_stock_makes_it() {
    each_cell("push_make_room", |work, cell| {
        let src = work.path("room-src");
        std::fs::create_dir_all(src.join("was_file")).expect("mkdir src");
        for f in ["empty", "full", "was_file/in", "other"] {
            std::fs::write(src.join(f), b"new\n").expect("write");
        }
        symlink("other", src.join("link")).expect("symlink");
        for p in [
            "empty",
            "full",
            "was_file/in",
            "was_file",
            "other",
            "link",
            "",
        ] {
            set_past_mtime(&src.join(p));
        }
        let prep = |root: &Path| in_the_way(root);
        for (force, code) in [(false, 23), (true, 0)] {
            let mut opts = vec!["-a"];
            if force {
                opts.push("--force");
            }
            let mut spec = Spec::new(&opts, &src);
            spec.prep = Some(&prep);
            spec.stock_code = code;
            let pair = push_vs_stock(work, cell, &spec)?;
            let full = pair.ours.join("dst/full");
            ensure(
                full.is_dir() != force,
                &format!(
                    "with force={force}, dst/full is a directory: {}",
                    full.is_dir()
                ),
                &pair.our_out,
            )?;
            pair.remove();
        }
        Ok(())
    });
}

/// `-no-overwrite` with `--delete`: a file where the source has a
/// directory stays, as stock's `--ignore-existing --delete` leaves it
/// (nor is the directory made early over it under incremental
/// recursion).
#[test]
fn no_overwrite_keeps_a_file_where_a_directory_comes() {
    each_cell("push_no_overwrite_dir", |work, cell| {
        let src = work.path("now-src");
        std::fs::create_dir_all(src.join("thing/deeper")).expect("mkdir src");
        std::fs::write(src.join("thing/deeper/f"), b"new\n").expect("write f");
        for p in ["thing/deeper/f", "thing/deeper", "thing", ""] {
            set_past_mtime(&src.join(p));
        }
        let prep = |root: &Path| {
            let dst = root.join("dst");
            std::fs::create_dir_all(&dst).expect("mkdir dst");
            std::fs::write(dst.join("thing"), b"old\n").expect("write thing");
            set_past_mtime(&dst.join("thing"));
        };
        let mut spec = Spec::new(&["-a", "--delete"], &src);
        spec.flags = &["-wo", "-no-overwrite"];
        spec.stock_extra = crate::harness::args(&["--ignore-existing"]);
        spec.prep = Some(&prep);
        // The directory's contents cannot be made beneath the file: 23.
        spec.stock_code = 23;
        // Unlike stock's --ignore-existing, existing directories keep
        // their times under -no-overwrite.
        spec.cmp.dir_mtime = false;
        let pair = push_vs_stock(work, cell, &spec)?;
        let thing = pair.ours.join("dst/thing");
        ensure(
            std::fs::read(&thing).ok().as_deref() == Some(&b"old\n"[..]),
            "the existing file dst/thing was replaced",
            &pair.our_out,
        )?;
        pair.remove();
        Ok(())
    });
}
