//! The owners a push leaves, as root: `--chown` (which the client sends
//! as `--usermap=*:USER` and `--groupmap=*:GROUP`), `--usermap` and
//! `--groupmap` with ids, ranges, names and patterns, with and without
//! `--numeric-ids`, with and without incremental recursion, and the ids
//! named in ACLs. Compared with stock in every cell: the whole tree with
//! owners, the ACLs from protocol 30, the exit code, and the lines a map
//! leaves (a TO name unknown here; a malformed map ends the push with
//! code 1 in rsync's words).

use super::util::sorted_lines;
use super::{each_cell, push_vs_stock, push_with, Spec};
use crate::harness::{ensure, Cell, Output, Server, Work};
use crate::tree::Cmp;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether the tests can set owners; skips the test when not.
fn as_root() -> bool {
    let root = rustix::process::geteuid().is_root();
    if !root {
        crate::harness::skip("setting owners needs root");
    }
    root
}

fn sh(dir: &Path, cmd: &str, args: &[&str]) {
    let st = Command::new(cmd)
        .args(args)
        .current_dir(dir)
        .status()
        .expect("spawn");
    assert!(st.success(), "{cmd} {args:?} failed");
}

/// Files owned by root, by a named and an unnamed uid in a range, and by
/// a uid outside it, in the top directory and one level down (a sub-list
/// under incremental recursion); with `acls`, ACL entries naming them.
fn source(work: &Work, acls: bool) -> PathBuf {
    let src = work.path(if acls { "owners-acl-src" } else { "owners-src" });
    std::fs::create_dir_all(src.join("d/e")).expect("mkdir");
    for (name, owner) in [
        ("f0", "0:0"),
        ("f1500", "1500:1500"),
        ("d/g3000", "3000:100"),
        ("d/e/h1600", "1600:0"),
    ] {
        std::fs::write(src.join(name), name).expect("write");
        sh(&src, "chown", &[owner, name]);
    }
    sh(&src, "chown", &["1500:1500", "d"]);
    if acls {
        sh(&src, "setfacl", &["-m", "u:1500:r,u:0:rw,g:3000:r", "f0"]);
        sh(&src, "setfacl", &["-m", "u:1600:rx,g:0:r", "d/e/h1600"]);
    }
    let all = ["f0", "f1500", "d/g3000", "d/e/h1600", "d/e", "d", "."];
    let mut touch = vec!["-d", "@1300000000"];
    touch.extend(all);
    sh(&src, "touch", &touch);
    src
}

/// One push against stock; the client's output with ours.
fn case(
    work: &Work,
    cell: &Cell,
    opts: &[&str],
    src: &Path,
    flags: &'static [&'static str],
) -> Result<Output, String> {
    let mut spec = Spec::new(opts, src);
    spec.flags = flags;
    let pair = push_vs_stock(work, cell, &spec)?;
    pair.remove();
    Ok(pair.our_out)
}

#[test]
fn chown_and_maps_set_the_owners_stock_sets() {
    if !as_root() {
        return;
    }
    each_cell("push_owners", |work, cell| {
        let src = source(work, false);
        let cases: [(&[&str], &'static [&'static str]); 8] = [
            (&["-a", "--chown=7:8"], &["-wo"]),
            (&["-a", "--chown=:9"], &[]),
            (
                &["-a", "--usermap=0:5,1000-2000:6,*:7", "--groupmap=root:9"],
                &["-wo"],
            ),
            // A name rule, a pattern, and the first match winning.
            (
                &["-a", "--usermap=r?ot:4,*:5", "--groupmap=1500:2,[r]*:3"],
                &[],
            ),
            (&["-a", "--numeric-ids", "--chown=9:9"], &["-wo"]),
            // No names travel: the name rule matches nothing, the
            // nameless one (empty FROM) everything but id 0's.
            (&["-a", "--numeric-ids", "--usermap=root:5,:6"], &["-wo"]),
            (
                &[
                    "-a",
                    "--no-inc-recursive",
                    "--usermap=1600:3",
                    "--groupmap=*:4",
                ],
                &[],
            ),
            (&["-a", "--no-o", "--groupmap=*:4"], &[]),
        ];
        for (opts, flags) in cases {
            case(work, cell, opts, &src, flags)?;
        }
        Ok(())
    });
}

/// A TO name unknown here drops its rule with a line, and the push goes
/// on; a malformed map ends it in rsync's words. From protocol 30 the
/// exit codes are stock's too. Below, stock's are its own accidents: its
/// receiver writes the unknown-name line to stderr at 29 (exit 0) but
/// sends it in the stream at 27 and 28 (exit 23), where ours sends an
/// info line (exit 0); and a client before 31 gets no exit message from
/// stock, so it reports the closed connection (12) or stock's exit
/// status (1).
#[test]
fn map_lines_and_refusals_read_as_stocks() {
    if !as_root() {
        return;
    }
    each_cell("push_owner_lines", |work, cell| {
        let src = source(work, false);
        let modern = cell.protocol() >= 30;
        let unknown = "Unknown --usermap name on receiver: no-such-user-here";
        let opts = ["-a", "--usermap=0:no-such-user-here,*:3"];
        let out = if modern {
            case(work, cell, &opts, &src, &["-wo"])?
        } else {
            let spec = Spec::new(&opts, &src);
            let root = work.path("owner-lines-old");
            push_with(work, cell, &Server::tested(spec.flags, &root), &spec, &[])
        };
        ensure(out.all().contains(unknown), "no unknown-name line", &out)?;
        // Below 30 the line goes as info: the push does not count as
        // failed (stock: 0 at 29, 23 at 27 and 28).
        ensure(
            out.code == Some(0),
            "the unknown name is not a failure",
            &out,
        )?;
        for (map, line) in [
            ("--usermap=foo", "No colon found in --usermap: foo"),
            ("--groupmap=1x:2", "Invalid number in --groupmap: 1x"),
            (
                "--usermap=1:2,x:",
                "No name found after colon --usermap: x:",
            ),
        ] {
            let spec = Spec::new(&["-a", map], &src);
            let root = work.path("owner-lines-bad");
            for server in [Server::stock(&root), Server::tested(spec.flags, &root)] {
                let out = push_with(work, cell, &server, &spec, &[]);
                let code_ok = if cell.protocol() >= 31 {
                    out.code == Some(1)
                } else {
                    out.code.is_some_and(|c| c != 0)
                };
                ensure(code_ok, &format!("`{map}`: exit code"), &out)?;
                ensure(
                    out.all().contains(line),
                    &format!("`{map}`: no `{line}`"),
                    &out,
                )?;
                let landed = std::fs::read_dir(root.join("dst")).map_or(0, |d| d.count());
                ensure(landed == 0, &format!("`{map}`: files landed"), &out)?;
            }
        }
        Ok(())
    });
}

/// ACL entries name users and groups too: they are mapped as stock maps
/// them, which under incremental recursion with `--numeric-ids` leaves
/// them alone while the entries' owners are mapped.
#[test]
fn acl_ids_are_mapped_as_stock_maps_them() {
    if !as_root() {
        return;
    }
    each_cell("push_owner_acls", |work, cell| {
        if cell.protocol() < 30 {
            return Ok(());
        }
        let src = source(work, true);
        for opts in [
            &["-aA", "--usermap=1500:4,root:6", "--groupmap=*:5"][..],
            &["-aA", "--numeric-ids", "--usermap=1500:4,1600:7"],
            &[
                "-aA",
                "--numeric-ids",
                "--no-inc-recursive",
                "--usermap=1500:4",
            ],
            &["-aA", "--numeric-ids", "--groupmap=3000:4"],
        ] {
            let mut spec = Spec::new(opts, &src);
            spec.flags = &[];
            let pair = push_vs_stock(work, cell, &spec)?;
            let (want, got) = (
                crate::meta::meta_of(&pair.reference.join("dst")),
                crate::meta::meta_of(&pair.ours.join("dst")),
            );
            if want != got {
                return Err(format!(
                    "{opts:?}: ACLs differ from stock\n{}",
                    crate::pull::first_line_diff(&want, &got)
                ));
            }
            pair.remove();
        }
        Ok(())
    });
}

/// `d/` and `d/s` (set-uid) owned by 1500, `g` by root, `l -> g` by 1500,
/// all at one time.
fn settled_source(work: &Work) -> PathBuf {
    let src = work.path("settled-src");
    std::fs::create_dir_all(src.join("d")).expect("mkdir");
    std::fs::write(src.join("d/s"), "s").expect("write");
    std::fs::write(src.join("g"), "g").expect("write");
    let _ = std::fs::remove_file(src.join("l"));
    std::os::unix::fs::symlink("g", src.join("l")).expect("symlink");
    sh(&src, "chown", &["-h", "1500:1500", "d", "d/s", "l"]);
    sh(&src, "chmod", &["4755", "d/s"]);
    sh(
        &src,
        "touch",
        &["-h", "-d", "@1300000000", "d/s", "g", "l", "d", "."],
    );
    src
}

/// The `ctime` of each of `names` beneath `dir`.
fn ctimes(dir: &Path, names: &[&str]) -> Vec<(i64, i64)> {
    use std::os::unix::fs::MetadataExt;
    let at = |n: &str| std::fs::symlink_metadata(dir.join(n)).expect("lstat");
    names
        .iter()
        .map(|n| (at(n).ctime(), at(n).ctime_nsec()))
        .collect()
}

/// A push as root changes an owner only where it differs, as stock's
/// `set_file_attrs` does: entries whose owners are right keep their
/// `ctime`. The destination's copy of the set-uid `d/s` is root's, and
/// its `l` too: `d/s` changes owner, loses its set-uid bit to the kernel
/// and gets it back (stock itemizes that as `p`, from its second look),
/// and the unchanged `l` gets its owner. Compared with stock in every
/// cell: the tree with owners and modes, the items, and the `ctime`s.
#[test]
fn owners_change_only_where_they_differ() {
    if !as_root() {
        return;
    }
    each_cell("push_owner_settled", |work, cell| {
        let src = settled_source(work);
        let spec = Spec::new(&["-ai"], &src);
        let (r, o) = (work.path("settled-ref"), work.path("settled-ours"));
        let mut outs = Vec::new();
        for (root, server) in [(&r, Server::stock(&r)), (&o, Server::tested(&[], &o))] {
            std::fs::create_dir_all(root).expect("mkdir");
            let dst = root.join("dst");
            sh(root, "cp", &["-a", &src.to_string_lossy(), "dst"]);
            sh(&dst, "chown", &["-h", "0:0", "d/s", "l"]);
            sh(&dst, "chmod", &["4755", "d/s"]);
            let kept = [".", "d", "g"];
            let before = ctimes(&dst, &kept);
            let out = push_with(work, cell, &server, &spec, &[]);
            ensure(out.code == Some(0), "the push failed", &out)?;
            ensure(
                ctimes(&dst, &kept) == before,
                "an entry whose owner was right changed (ctime)",
                &out,
            )?;
            outs.push(out);
        }
        crate::tree::same_dirs("-ai", &r, &o, Cmp::ALL.no_root_mtime())?;
        if let [want, got] = &outs[..] {
            let (w, g) = (sorted_lines(&want.stdout), sorted_lines(&got.stdout));
            ensure(w == g, &format!("items differ from stock's {w:?}"), got)?;
        }
        Ok(())
    });
}
