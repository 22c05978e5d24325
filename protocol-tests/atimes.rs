//! `--atimes` (`-U`, issue 11) against stock `rsync --server`, pull and
//! push, every client at protocols 32 to 28: each non-directory travels
//! with its access time, and the receiver sets it. A second push onto the
//! tree, with one source access time changed, itemizes and sets it as
//! stock does (and, like stock, leaves an unchanged symlink with the time
//! at which it was read).
//!
//! Reading a file moves its access time (relatime, since these are older
//! than the file's mtime), so the source's times are set again before
//! every run. Below protocol 28 stock itself cannot carry them (the flag
//! that says "same access time as before" does not fit the one-byte flags
//! and a stock pair hangs); there we end the session with a reason. `-UU`
//! (`--open-noatime`) pulls leave the server's access times alone, and
//! `--open-noatime` pushes leave those of the files the server sums for
//! `-c` and reads as a delta's basis alone.

use crate::harness::{ensure, Cell, Output, Server, Work};
use crate::pull;
use crate::push;
use std::path::Path;
use std::process::Command;

const NAMES: [&str; 4] = ["a", "sub/b", "l", "big"];

fn build(src: &Path) {
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::write(src.join("a"), b"a\n").unwrap();
    std::fs::write(src.join("sub/b"), b"b\n").unwrap();
    std::fs::write(src.join("big"), vec![7u8; 100_000]).unwrap();
    std::os::unix::fs::symlink("a", src.join("l")).unwrap();
}

/// Gives each name its own access time, `base` plus 100 per name.
fn set_atimes(dir: &Path, base: i64) {
    for (i, n) in NAMES.iter().enumerate() {
        let st = Command::new("touch")
            .args(["-h", "-a", "-d", &format!("@{}", base + 100 * i as i64)])
            .arg(dir.join(n))
            .status()
            .unwrap();
        assert!(st.success());
    }
}

/// Stock's server for the reference run (`who` is "ref"), else ours
/// under `flags`.
fn server(who: &str, flags: &[&str], root: &Path) -> Server {
    if who == "ref" {
        Server::stock(root)
    } else {
        Server::tested(flags, root)
    }
}

/// `name atime` for every name, one per line.
fn atimes(dir: &Path) -> String {
    use std::os::unix::fs::MetadataExt;
    NAMES
        .iter()
        .map(|n| match std::fs::symlink_metadata(dir.join(n)) {
            // Reading a link may have moved its time to now, on both
            // sides, a second apart or not.
            Ok(m) if m.atime() > 1_700_000_000 => format!("{n} now\n"),
            Ok(m) => format!("{n} {}\n", m.atime()),
            Err(e) => format!("{n} {e}\n"),
        })
        .collect()
}

fn same(what: &str, want: &Path, got: &Path, out: &Output) -> Result<(), String> {
    let (w, g) = (atimes(want), atimes(got));
    ensure(
        w == g,
        &format!("{what}: access times differ\nstock:\n{w}ours:\n{g}"),
        out,
    )
}

fn push_case(work: &Work, cell: &Cell, src: &Path) -> Result<(), String> {
    let spec = push::Spec::new(&["-rltU"], src);
    let mut outs = Vec::new();
    for who in ["ref", "ours"] {
        let root = work.path(&format!("{who}-{}", cell.label()));
        let server = server(who, &["-wo"], &root);
        set_atimes(src, 1_500_000_000);
        let first = push::push_with(work, cell, &server, &spec, &[]);
        ensure(
            first.code == Some(0),
            &format!("{who}: push failed"),
            &first,
        )?;
        // Again, with one access time changed: itemized as stock does.
        set_atimes(src, 1_500_000_000);
        set_atimes_one(&src.join("a"), 1_300_000_000);
        let again = push::push_with(work, cell, &server, &spec, &["-i".into()]);
        ensure(
            again.code == Some(0),
            &format!("{who}: second push failed"),
            &again,
        )?;
        outs.push((root, again));
    }
    let (r, o) = (&outs[0], &outs[1]);
    same("push", &r.0.join("dst"), &o.0.join("dst"), &o.1)?;
    // (Item flags travel from protocol 29.)
    ensure(
        cell.protocol() < 29 || o.1.stdout.contains(".f......u.. a"),
        "the changed access time was not itemized",
        &o.1,
    )?;
    ensure(
        r.1.stdout == o.1.stdout,
        &format!("itemized lines differ; stock:\n{}", r.1.stdout),
        &o.1,
    )
}

fn set_atimes_one(p: &Path, t: i64) {
    let st = Command::new("touch")
        .args(["-h", "-a", "-d", &format!("@{t}")])
        .arg(p)
        .status()
        .unwrap();
    assert!(st.success());
}

fn pull_case(work: &Work, cell: &Cell, root: &Path) -> Result<(), String> {
    let spec = pull::Spec::new(&["-rlU"], &["x:dir/"]);
    let mut outs = Vec::new();
    for who in ["ref", "ours"] {
        let dst = work.path(&format!("got-{who}-{}", cell.label()));
        let server = server(who, &["-ro"], root);
        set_atimes(&root.join("dir"), 1_400_000_000);
        let out = pull::pull_with(work, cell, &server, &spec, &dst);
        ensure(out.code == Some(0), &format!("{who}: pull failed"), &out)?;
        outs.push((dst, out));
    }
    same("pull", &outs[0].0, &outs[1].0, &outs[1].1)?;
    ensure(
        atimes(&outs[1].0).contains("a 1400000000"),
        "the pulled file did not get the server's access time",
        &outs[1].1,
    )
}

/// `-UU` (rsync's `--open-noatime` with `--atimes`): a pull reads the
/// server's files without moving their access times; with `-U` alone the
/// reads move them (the files' times are older than their mtimes, so even
/// relatime updates them), which shows the test can tell.
fn noatime_case(work: &Work, cell: &Cell, root: &Path) -> Result<(), String> {
    for (opt, kept) in [("-rlUU", true), ("-rlU", false)] {
        let spec = pull::Spec::new(&[opt], &["x:dir/"]);
        let dst = work.path(&format!("noatime-{opt}-{}", cell.label()));
        set_atimes(&root.join("dir"), 1_400_000_000);
        let server = Server::tested(&["-ro"], root);
        let out = pull::pull_with(work, cell, &server, &spec, &dst);
        ensure(out.code == Some(0), &format!("{opt}: pull failed"), &out)?;
        let after = atimes(&root.join("dir"));
        ensure(
            after.contains("big 1400000300") == kept,
            &format!("{opt}: the server's access times after the pull:\n{after}"),
            &out,
        )?;
    }
    Ok(())
}

/// `--open-noatime` on a push: the receiving side reads the files it
/// sums for `-c` and the basis of a delta without moving their access
/// times; without it the same reads move them. Stock and ours alike.
fn push_noatime_case(work: &Work, cell: &Cell, src: &Path) -> Result<(), String> {
    let cases: [(&[&str], bool, &str); 4] = [
        (&["-rc", "--open-noatime"], true, "sums"),
        (&["-rc"], false, "sums"),
        (
            &["-rI", "--inplace", "--no-whole-file", "--open-noatime"],
            true,
            "delta",
        ),
        (&["-rI", "--inplace", "--no-whole-file"], false, "delta"),
    ];
    for (opts, kept, what) in cases {
        for who in ["ref", "ours"] {
            let root = work.path(&format!("na-{who}-{what}-{kept}-{}", cell.label()));
            build(&root.join("dst"));
            set_atimes(&root.join("dst"), 1_400_000_000);
            let server = server(who, &["-wo"], &root);
            let mut big = vec![7u8; 100_000];
            if what == "delta" {
                // One block changed: the rest is copied from the basis.
                big[50_000] = 8;
            }
            std::fs::write(src.join("big"), &big).unwrap();
            let out = push::push_with(work, cell, &server, &push::Spec::new(opts, src), &[]);
            ensure(
                out.code == Some(0),
                &format!("{who} {opts:?}: push failed"),
                &out,
            )?;
            let after = atimes(&root.join("dst"));
            ensure(
                after.contains("big 1400000300") == kept,
                &format!("{who} {opts:?}: the access times after the push:\n{after}"),
                &out,
            )?;
        }
    }
    Ok(())
}

/// Below protocol 28 the session ends with a reason (a stock pair hangs).
fn refused_below_28(work: &Work, cell: &Cell, src: &Path) -> Result<(), String> {
    let spec = push::Spec::new(&["-rlU"], src);
    let root = work.path(&format!("old-{}", cell.label()));
    let out = push::push_with(work, cell, &Server::tested(&["-wo"], &root), &spec, &[]);
    ensure(
        out.code == Some(2)
            && out
                .stderr
                .contains("--atimes requires protocol 28 or higher"),
        "no readable refusal of -U below protocol 28",
        &out,
    )
}

#[test]
fn atimes_push_and_pull_match_stock() {
    pull::each_cell("atimes", |work, cell| {
        if cell.protocol() < 28 {
            let src = work.path(&format!("src-{}", cell.label()));
            build(&src);
            return refused_below_28(work, cell, &src);
        }
        let src = work.path(&format!("src-{}", cell.label()));
        build(&src);
        push_case(work, cell, &src)?;
        push_noatime_case(work, cell, &src)?;
        let root = work.path(&format!("root-{}", cell.label()));
        build(&root.join("dir"));
        pull_case(work, cell, &root)?;
        noatime_case(work, cell, &root)
    });
}
