//! ACLs and extended attributes (`-A`, `-X`, issue 11) against stock
//! `rsync --server`, pull and push, with every client at protocols 32, 31
//! and 30 (below 30 the clients themselves refuse both options).
//!
//! Trees are compared with `getfattr` and `getfacl` output, path by path:
//! short and long (abbreviated, asked-for) values, the largest value the
//! file system takes, attributes on directories, named users and groups in
//! access ACLs, default ACLs on directories, files that inherit one, and
//! lists shared by several files. Each case runs twice: into an empty
//! destination, then again after the source's attributes change.

use crate::harness::{ensure, Cell, Server, Work};
use crate::pull::{self, each_cell};
use crate::push;
use std::path::Path;
use std::process::Command;

/// Runs `cmd args` in `dir`; panics with its stderr when it fails.
fn run(dir: &Path, cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn setx(dir: &Path, path: &str, name: &str, value: &[u8]) {
    rustix::fs::lsetxattr(dir.join(path), name, value, rustix::fs::XattrFlags::empty())
        .unwrap_or_else(|e| panic!("setxattr {name} on {path}: {e}"));
}

/// The largest value this file system takes for one attribute (64 KiB
/// with ext4's `ea_inode`, about 4 KiB without), found by trying.
fn largest_value(dir: &Path) -> usize {
    let probe = dir.join(".probe");
    std::fs::write(&probe, b"").unwrap();
    let (mut lo, mut hi) = (0usize, 65536usize);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        let v = vec![b'p'; mid];
        let ok = rustix::fs::setxattr(&probe, "user.probe", &v, rustix::fs::XattrFlags::empty());
        let _ = rustix::fs::removexattr(&probe, "user.probe");
        if ok.is_ok() {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    std::fs::remove_file(&probe).unwrap();
    lo
}

/// Whether this file system keeps user attributes and ACLs at all.
fn supported(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).unwrap();
    let f = dir.join(".support");
    std::fs::write(&f, b"").unwrap();
    let x = rustix::fs::setxattr(&f, "user.t", b"1", rustix::fs::XattrFlags::empty());
    let a = Command::new("setfacl")
        .args(["-m", "u:1000:r"])
        .arg(&f)
        .status();
    let _ = std::fs::remove_file(&f);
    match (x, a) {
        (Ok(()), Ok(s)) if s.success() => Ok(()),
        (x, a) => Err(format!("no user xattrs or ACLs here ({x:?}, {a:?})")),
    }
}

/// The source tree.
fn build(src: &Path) {
    std::fs::create_dir_all(src.join("d/sub")).unwrap();
    for f in [
        "plain", "short", "long", "big", "acl_file", "same1", "same2", "d/f", "d/sub/g",
    ] {
        std::fs::write(src.join(f), f.as_bytes()).unwrap();
    }
    std::os::unix::fs::symlink("plain", src.join("link")).unwrap();
    setx(src, "short", "user.a", b"x");
    setx(src, "long", "user.long", &[b'L'; 100]);
    setx(src, "long", "user.b", b"short");
    let big = largest_value(src);
    setx(src, "big", "user.big", &vec![b'B'; big]);
    for f in ["same1", "same2"] {
        setx(src, f, "user.shared", &[b'S'; 64]);
    }
    setx(src, "d", "user.dir", b"dv");
    setx(src, "d/sub", "user.long", &[b'D'; 50]);
    run(src, "setfacl", &["-m", "u:1000:rx,g:100:r", "acl_file"]);
    run(src, "setfacl", &["-d", "-m", "u:1000:rwx,g:100:rx", "d"]);
    std::fs::write(src.join("d/inherit"), b"inherit").unwrap();
    run(src, "setfacl", &["-m", "g:100:rwx", "d/sub"]);
    age(src, "@1300000000");
}

/// Gives every entry an mtime in the past: a client leaves a directory or
/// symlink time alone when it equals the source's to the second, so times
/// from the second of the transfer itself would not compare.
fn age(src: &Path, when: &str) {
    run(
        src,
        "find",
        &[".", "-exec", "touch", "-h", "-d", when, "{}", "+"],
    );
}

/// Changes for the second run: values added, changed and removed, ACLs
/// added, changed and removed.
fn change(src: &Path) {
    setx(src, "plain", "user.new", &[b'N'; 70]);
    setx(src, "long", "user.long", &[b'M'; 100]);
    run(src, "setfattr", &["-x", "user.a", "short"]);
    setx(src, "d", "user.more", &[b'Q'; 90]);
    run(src, "setfacl", &["-b", "acl_file"]);
    run(src, "setfacl", &["-m", "u:1000:r", "plain"]);
    run(src, "setfacl", &["-k", "d"]);
    run(src, "setfacl", &["-d", "-m", "g:100:rwx", "d/sub"]);
    age(src, "@1300000100");
}

/// Every path's attributes and ACLs, in path order (`getfattr`,
/// `getfacl`; symlinks are not followed and carry no ACL).
pub fn meta_of(root: &Path) -> String {
    let t = crate::tree::snapshot(root).unwrap();
    let mut all = Vec::new();
    let mut no_links = Vec::new();
    for (p, e) in &t.0 {
        let s = if p.as_os_str().is_empty() {
            ".".to_string()
        } else {
            p.display().to_string()
        };
        if e.kind != crate::tree::Kind::Symlink {
            no_links.push(s.clone());
        }
        all.push(s);
    }
    let mut a = vec!["-h", "-d", "-m", "-", "-e", "hex", "--"];
    a.extend(all.iter().map(String::as_str));
    let mut out = run(root, "getfattr", &a);
    let mut b = vec!["-n", "-p", "--"];
    b.extend(no_links.iter().map(String::as_str));
    out.push_str(&run(root, "getfacl", &b));
    out
}

fn same_meta(what: &str, want: &Path, got: &Path) -> Result<(), String> {
    let (w, g) = (meta_of(want), meta_of(got));
    if w == g {
        return Ok(());
    }
    Err(format!(
        "{what}: ACLs or xattrs differ from stock\n{}",
        pull::first_line_diff(&w, &g)
    ))
}

/// Protocol 30 and up; below, the client refuses the options itself.
fn applies(cell: &Cell) -> bool {
    cell.protocol() >= 30
}

fn pull_case(work: &Work, cell: &Cell, opts: &[&str]) -> Result<(), String> {
    if !applies(cell) {
        return Ok(());
    }
    let src = work.path(&format!("src-{}", cell.label()));
    supported(&src)?;
    build(&src);
    let spec = pull::Spec::new(opts, &["x:"]);
    let pair = pull::pull_vs_stock(work, cell, &src, &spec)?;
    same_meta(&format!("{opts:?} pull"), &pair.reference, &pair.ours)?;
    change(&src);
    let stock = pull::pull_with(work, cell, &Server::stock(&src), &spec, &pair.reference);
    let ours = pull::pull_with(
        work,
        cell,
        &Server::tested(spec.flags, &src),
        &spec,
        &pair.ours,
    );
    ensure(stock.code == Some(0), "stock second pull failed", &stock)?;
    ensure(ours.code == Some(0), "second pull failed", &ours)?;
    crate::tree::same_dirs("second pull", &pair.reference, &pair.ours, spec.cmp)?;
    same_meta(
        &format!("{opts:?} second pull"),
        &pair.reference,
        &pair.ours,
    )?;
    pair.remove();
    let _ = std::fs::remove_dir_all(&src);
    Ok(())
}

fn push_case(work: &Work, cell: &Cell, opts: &[&str]) -> Result<(), String> {
    if !applies(cell) {
        return Ok(());
    }
    let src = work.path(&format!("src-{}", cell.label()));
    supported(&src)?;
    build(&src);
    // -v: the client says whether the list went incrementally.
    let verbose: Vec<&str> = opts.iter().copied().chain(["-v"]).collect();
    let spec = push::Spec::new(&verbose, &src);
    let pair = push::push_vs_stock(work, cell, &spec)?;
    let (r, o) = (pair.reference.join("dst"), pair.ours.join("dst"));
    same_meta(&format!("{opts:?} push"), &r, &o)?;
    // The tree has subdirectories: the lists went one directory at a time.
    ensure(
        pair.our_out.all().contains("sending incremental file list"),
        "the push did not use incremental recursion",
        &pair.our_out,
    )?;
    change(&src);
    let stock = push::push_with(work, cell, &Server::stock(&pair.reference), &spec, &[]);
    let ours = push::push_with(
        work,
        cell,
        &Server::tested(spec.flags, &pair.ours),
        &spec,
        &[],
    );
    ensure(stock.code == Some(0), "stock second push failed", &stock)?;
    ensure(ours.code == Some(0), "second push failed", &ours)?;
    same_meta(&format!("{opts:?} second push"), &r, &o)?;
    pair.remove();
    let _ = std::fs::remove_dir_all(&src);
    Ok(())
}

#[test]
fn pull_acls_and_xattrs_match_stock() {
    each_cell("meta_pull_ax", |w, c| pull_case(w, c, &["-aAX"]));
}

#[test]
fn pull_xattrs_alone_match_stock() {
    each_cell("meta_pull_x", |w, c| pull_case(w, c, &["-aX"]));
}

#[test]
fn pull_acls_alone_match_stock() {
    each_cell("meta_pull_a", |w, c| pull_case(w, c, &["-aA"]));
}

#[test]
fn push_acls_and_xattrs_match_stock() {
    each_cell("meta_push_ax", |w, c| push_case(w, c, &["-aAX"]));
}

#[test]
fn push_xattrs_alone_match_stock() {
    each_cell("meta_push_x", |w, c| push_case(w, c, &["-aX"]));
}

#[test]
fn push_acls_alone_match_stock() {
    each_cell("meta_push_a", |w, c| push_case(w, c, &["-aA"]));
}

/// `-no-overwrite` never changes an existing entry's attributes or ACL,
/// whichever option asks: the file keeps them, as a stock server run with
/// `--ignore-existing` keeps its file.
#[test]
fn no_overwrite_keeps_existing_attributes() {
    each_cell("meta_no_overwrite", |work, cell| {
        if !applies(cell) {
            return Ok(());
        }
        let src = work.path(&format!("src-{}", cell.label()));
        supported(&src)?;
        build(&src);
        let prep = |root: &Path| {
            std::fs::create_dir_all(root.join("dst")).unwrap();
            std::fs::write(root.join("dst/long"), b"long").unwrap();
            setx(&root.join("dst"), "long", "user.mine", b"keep");
            run(&root.join("dst"), "setfacl", &["-m", "u:1000:rwx", "long"]);
            std::fs::create_dir_all(root.join("dst/d")).unwrap();
            setx(&root.join("dst"), "d", "user.mine", b"keep");
        };
        let mut spec = push::Spec::new(&["-aAX"], &src);
        spec.flags = &["-wo", "-no-overwrite"];
        spec.stock_extra = vec!["--ignore-existing".into()];
        spec.prep = Some(&prep);
        // The existing directory keeps its time under -no-overwrite, and
        // the existing file's was set when it was prepared.
        spec.cmp = crate::tree::Cmp {
            dir_mtime: false,
            file_mtime: false,
            ..crate::tree::Cmp::ALL
        };
        let pair = push::push_vs_stock(work, cell, &spec)?;
        let (r, o) = (pair.reference.join("dst/long"), pair.ours.join("dst/long"));
        let dir = |p: &Path| p.parent().unwrap().to_path_buf();
        let (w, g) = (meta_of_one(&dir(&r)), meta_of_one(&dir(&o)));
        ensure(
            g.contains("user.mine") && !g.contains("user.long") && g.contains("user:1000:rwx"),
            &format!("-no-overwrite changed an existing file's attributes:\n{g}"),
            &pair.our_out,
        )?;
        ensure(
            w == g,
            "differs from stock --ignore-existing",
            &pair.our_out,
        )?;
        // An existing directory's attributes and ACLs stay too (stock
        // with --ignore-existing would change them).
        let d = run(
            &pair.ours.join("dst"),
            "getfattr",
            &["-h", "-d", "-m", "-", "d"],
        );
        ensure(
            d.contains("user.mine") && !d.contains("user.dir") && !d.contains("posix_acl"),
            &format!("-no-overwrite changed an existing directory's attributes:\n{d}"),
            &pair.our_out,
        )?;
        pair.remove();
        Ok(())
    });
}

fn meta_of_one(dir: &Path) -> String {
    let mut s = run(
        dir,
        "getfattr",
        &["-h", "-d", "-m", "-", "-e", "hex", "long"],
    );
    s.push_str(&run(dir, "getfacl", &["-n", "-p", "long"]));
    s
}

/// A tree with what only root keeps: other owners, set-id bits, a FIFO, a
/// device (as root) and a symlink with its own owner.
fn build_owned(src: &Path) {
    std::fs::create_dir_all(src.join("d")).unwrap();
    std::fs::write(src.join("f"), b"f").unwrap();
    std::fs::write(src.join("d/g"), b"g").unwrap();
    run(src, "chown", &["1000:100", "f"]);
    run(src, "chmod", &["4755", "f"]);
    run(src, "chown", &["1000:1000", "d"]);
    run(src, "chmod", &["750", "d"]);
    run(src, "chmod", &["600", "d/g"]);
    run(src, "mkfifo", &["fifo"]);
    run(src, "mknod", &["cdev", "c", "1", "3"]);
    std::os::unix::fs::symlink("f", src.join("link")).unwrap();
    run(src, "chown", &["-h", "1000:100", "link"]);
    run(src, "setfacl", &["-m", "u:1000:rx,g:100:r", "d/g"]);
    run(src, "setfacl", &["-d", "-m", "u:1000:rwx", "d"]);
    setx(src, "f", "user.long", &[b'F'; 80]);
    // Other namespaces: kept as `user.rsync.trusted.…` under fake-super,
    // one short and one long (asked for, and re-read on a pull).
    setx(src, "f", "trusted.note", b"n");
    setx(src, "d/g", "trusted.long", &[b'T'; 90]);
    age(src, "@1300000000");
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// `-M--fake-super`, the usual way to back up ownership to a server that
/// does not set it: the push stores owners, set-id bits, the FIFO, the
/// device and the symlink as stock does (regular files and
/// `user.rsync.%stat`), and a pull gives them back as they were.
#[test]
fn fake_super_push_and_pull_back_match_stock() {
    each_cell("meta_fake_super", |w, c| fake_super_case(w, c, &["-a"]));
}

/// The same with ACLs and attributes, which `--fake-super` keeps in
/// attributes of rsync's own (`user.rsync.%aacl`, `%dacl`); attributes
/// of other namespaces (`trusted.`) are kept as `user.rsync.trusted.…`
/// and come back under their own names.
#[test]
fn fake_super_with_acls_and_xattrs_matches_stock() {
    each_cell("meta_fake_super_ax", |w, c| {
        if !applies(c) {
            return Ok(());
        }
        fake_super_case(w, c, &["-aAX"])
    });
}

fn fake_super_case(work: &Work, cell: &Cell, opts: &[&str]) -> Result<(), String> {
    {
        if !is_root() {
            crate::harness::skip("fake-super fixture needs root (chown, mknod)");
            return Ok(());
        }
        let src = work.path(&format!("src-{}", cell.label()));
        supported(&src)?;
        build_owned(&src);
        let mut args = opts.to_vec();
        args.push("-M--fake-super");
        let mut spec = push::Spec::new(&args, &src);
        spec.flags = &[];
        let pair = push::push_vs_stock(work, cell, &spec)?;
        let (r, o) = (pair.reference.join("dst"), pair.ours.join("dst"));
        same_meta("fake-super push", &r, &o)?;
        let again = push::push_with(work, cell, &Server::tested(&[], &pair.ours), &spec, &[]);
        ensure(
            again.code == Some(0),
            "second fake-super push failed",
            &again,
        )?;
        same_meta("fake-super second push", &r, &o)?;
        // Pull both back with fake-super: the source as it was.
        let mut back = pull::Spec::new(&args, &["x:dst/"]);
        back.flags = &["-ro"];
        let (bs, bo) = (
            work.path(&format!("back-s-{}", cell.label())),
            work.path(&format!("back-o-{}", cell.label())),
        );
        let s = pull::pull_with(work, cell, &Server::stock(&pair.reference), &back, &bs);
        let ours = pull::pull_with(
            work,
            cell,
            &Server::tested(back.flags, &pair.ours),
            &back,
            &bo,
        );
        ensure(s.code == Some(0), "stock fake-super pull failed", &s)?;
        ensure(ours.code == Some(0), "fake-super pull failed", &ours)?;
        let cmp = crate::tree::Cmp::ALL.no_root_mtime();
        crate::tree::same_dirs("fake-super pull vs stock", &bs, &bo, cmp)?;
        crate::tree::same_dirs("fake-super pull vs the source", &src, &bo, cmp)?;
        same_meta("fake-super pull vs stock", &bs, &bo)?;
        pair.remove();
        Ok(())
    }
}

/// Under `-blind` the item flags and the requests for long values do not
/// depend on the values the server holds: a second identical push still
/// reports every file with attributes as changed and asks for its long
/// values, where stock (and an ordinary key) reports nothing.
#[test]
fn blind_reveals_no_attribute_equality() {
    each_cell("meta_blind", |work, cell| {
        if !applies(cell) {
            return Ok(());
        }
        let src = work.path(&format!("src-{}", cell.label()));
        supported(&src)?;
        build(&src);
        let mut spec = push::Spec::new(&["-aXi"], &src);
        spec.flags = &["-wo", "-blind"];
        let pair = push::push_vs_stock(work, cell, &spec)?;
        same_meta(
            "-blind push",
            &pair.reference.join("dst"),
            &pair.ours.join("dst"),
        )?;
        let again = push::push_with(
            work,
            cell,
            &Server::tested(spec.flags, &pair.ours),
            &spec,
            &[],
        );
        ensure(again.code == Some(0), "second -blind push failed", &again)?;
        for f in ["long", "big", "same1", "short"] {
            let line = format!(".f........x {f}");
            ensure(
                again.stdout.contains(&line),
                &format!("no `{line}` line"),
                &again,
            )?;
        }
        same_meta(
            "-blind second push",
            &pair.reference.join("dst"),
            &pair.ours.join("dst"),
        )?;
        pair.remove();
        Ok(())
    });
}

/// The ACLs and attribute lists a client pushes are held to half of
/// `--max-alloc`: past it the session ends with a message that names
/// the budget, instead of the server growing with what the client sends
/// (stock rsync keeps every list and value for the whole session).
#[test]
fn attributes_past_the_memory_budget_end_the_session_readably() {
    each_cell("meta_budget", |work, cell| {
        if !applies(cell) {
            return Ok(());
        }
        let src = work.path(&format!("src-{}", cell.label()));
        supported(&src)?;
        std::fs::create_dir_all(&src).unwrap();
        // 200 files, each with its own 3 KiB value: 600 KiB of values,
        // past half of the smallest --max-alloc rsync takes (1 MiB).
        for i in 0..200u32 {
            let f = format!("f{i:03}");
            std::fs::write(src.join(&f), b"x").unwrap();
            let mut v = vec![b'v'; 3000];
            v[..4].copy_from_slice(&i.to_le_bytes());
            setx(&src, &f, "user.big", &v);
        }
        let root = work.path(&format!("root-{}", cell.label()));
        std::fs::create_dir_all(&root).unwrap();
        let spec = push::Spec::new(&["-rX", "--max-alloc=1M"], &src);
        let out = push::push_with(work, cell, &Server::tested(&["-wo"], &root), &spec, &[]);
        // rsync's code for a spent --max-alloc.
        ensure(
            out.code == Some(22),
            "the push passed the budget, or not with code 22",
            &out,
        )?;
        ensure(
            out.stderr
                .contains("exceed the memory budget of 524288 bytes"),
            "no message naming the budget",
            &out,
        )?;
        // The same push within a budget that holds it succeeds.
        let spec = push::Spec::new(&["-rX", "--max-alloc=4M"], &src);
        let out = push::push_with(work, cell, &Server::tested(&["-wo"], &root), &spec, &[]);
        ensure(
            out.code == Some(0),
            "the push within the budget failed",
            &out,
        )?;
        Ok(())
    });
}
