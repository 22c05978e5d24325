//! The owners a push leaves, as root: `--chown` (which the client sends
//! as `--usermap=*:USER` and `--groupmap=*:GROUP`), `--usermap` and
//! `--groupmap` with ids, ranges, names and patterns, with and without
//! `--numeric-ids`, with and without incremental recursion, and the ids
//! named in ACLs. Compared with stock in every cell: the whole tree with
//! owners, the ACLs from protocol 30, the exit code, and the lines a map
//! leaves (a TO name unknown here; a malformed map ends the push with
//! code 1 in rsync's words).

use super::{each_cell, push_vs_stock, push_with, Spec};
use crate::harness::{ensure, Cell, Output, Server, Work};
use std::path::{Path, PathBuf};
use std::process::Command;

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
    if !rustix::process::geteuid().is_root() {
        crate::harness::skip("setting owners needs root");
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
    if !rustix::process::geteuid().is_root() {
        crate::harness::skip("setting owners needs root");
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
    if !rustix::process::geteuid().is_root() {
        crate::harness::skip("setting owners needs root");
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
