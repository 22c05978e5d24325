//! Transfers through `serve`: each stock client pulls the small fixture and
//! pushes it back (trees must match), delta pulls and pushes must reuse
//! basis data (`Matched data` > 0 in `--stats`), and 8 clients at once
//! must neither fail nor see each other's data.

use super::{has, key_line, keygen, Serve};
use crate::fixtures::{self, Rng};
use crate::harness::{self, ensure, Report, Work};
use crate::tree::{self, Cmp};
use std::path::Path;

fn rsync(client: &Path, ssh: &str, args: &[&str]) -> harness::Output {
    let mut cmd = std::process::Command::new(client);
    cmd.arg("-e").arg(ssh).args(args);
    harness::run(cmd, harness::TIMEOUT)
}

fn matched_bytes(out: &harness::Output) -> u64 {
    out.stdout
        .lines()
        .find_map(|l| l.strip_prefix("Matched data: "))
        .map(|v| {
            v.chars()
                .take_while(|c| c.is_ascii_digit() || *c == ',')
                .filter(char::is_ascii_digit)
                .collect::<String>()
        })
        .and_then(|d| d.parse().ok())
        .unwrap_or(0)
}

/// Writes a tree with one 512 KiB file and a few small ones.
fn make_tree(dir: &Path, seed: u64) {
    let mut rng = Rng::new(seed);
    std::fs::create_dir_all(dir.join("sub")).expect("mkdir");
    std::fs::write(dir.join("big"), rng.bytes(512 * 1024)).expect("write big");
    for i in 0..5 {
        std::fs::write(dir.join(format!("sub/f{i}")), rng.text(300 + i * 10)).expect("write");
    }
}

/// Changes 100 bytes in the middle of `file`.
fn touch_middle(file: &Path) {
    let mut data = std::fs::read(file).expect("read");
    for b in data.iter_mut().skip(200_000).take(100) {
        *b = b.wrapping_add(1);
    }
    let before = std::fs::metadata(file)
        .and_then(|m| m.modified())
        .expect("mtime");
    std::fs::write(file, data).expect("write");
    // Same size: move the mtime so the quick check sees the change. It
    // steps from the old mtime, not from the clock: clients compare whole
    // seconds, and two calls within one second would give one mtime.
    let f = std::fs::File::options()
        .write(true)
        .open(file)
        .expect("open");
    let t = before + std::time::Duration::from_secs(100);
    f.set_modified(t).expect("set mtime");
}

#[test]
fn serve_pull_and_push_with_delta() {
    if !super::have_ssh() {
        return;
    }
    let fx = fixtures::small();
    let work = Work::new("ssh-transfer");
    let (ro_key, wo_key, rod_key) = (
        work.dir.join("ro"),
        work.dir.join("wo"),
        work.dir.join("rod"),
    );
    let (wo_root, rod_root) = (work.dir.join("wo-root"), work.dir.join("rod-root"));
    std::fs::create_dir_all(&wo_root).expect("mkdir");
    make_tree(&rod_root.join("dir"), 1);
    let keys = key_line("-ro", &fx.root, &keygen(&ro_key))
        + &key_line("-wo", &wo_root, &keygen(&wo_key))
        + &key_line("-ro", &rod_root, &keygen(&rod_key));
    let serve = Serve::start(&work, &keys, &[]);
    let mut rep = Report::new();
    let mut sessions = 0;
    for (i, client) in harness::clients().iter().enumerate() {
        let label = format!("rsync-{}", client.version);
        let dst = work.path(&format!("pull-{i}"));
        let out = rsync(
            &client.path,
            &serve.ssh(&ro_key),
            &["-a", "x@127.0.0.1:dir/", &format!("{}/", dst.display())],
        );
        sessions += 1;
        rep.check(
            &format!("{label} pull"),
            ensure(out.code == Some(0), "pull failed", &out)
                .and_then(|()| tree::same_dirs("pull via serve", &fx.dir, &dst, Cmp::SOURCE)),
        );
        let out = rsync(
            &client.path,
            &serve.ssh(&wo_key),
            &[
                "-a",
                &format!("{}/", fx.dir.display()),
                &format!("x@127.0.0.1:c{i}/"),
            ],
        );
        sessions += 1;
        rep.check(
            &format!("{label} push"),
            ensure(out.code == Some(0), "push failed", &out).and_then(|()| {
                tree::same_dirs(
                    "push via serve",
                    &fx.dir,
                    &wo_root.join(format!("c{i}")),
                    Cmp::SOURCE,
                )
            }),
        );
        // Delta pull: the destination holds the old version.
        let dst = work.path(&format!("dpull-{i}"));
        let dst_arg = format!("{}/", dst.display());
        let src = rod_root.join("dir");
        let first = rsync(
            &client.path,
            &serve.ssh(&rod_key),
            &["-a", "x@127.0.0.1:dir/", &dst_arg],
        );
        touch_middle(&src.join("big"));
        let second = rsync(
            &client.path,
            &serve.ssh(&rod_key),
            &["-a", "--stats", "x@127.0.0.1:dir/", &dst_arg],
        );
        sessions += 2;
        rep.check(
            &format!("{label} delta pull"),
            ensure(first.code == Some(0), "first pull failed", &first)
                .and_then(|()| ensure(second.code == Some(0), "second pull failed", &second))
                .and_then(|()| ensure(matched_bytes(&second) > 0, "no basis data matched", &second))
                .and_then(|()| tree::same_dirs("delta pull", &src, &dst, Cmp::SOURCE)),
        );
        // Delta push: the server holds the old version.
        let psrc = work.path(&format!("psrc-{i}"));
        make_tree(&psrc, 10 + i as u64);
        let src_arg = format!("{}/", psrc.display());
        let remote = format!("x@127.0.0.1:d{i}/");
        let first = rsync(
            &client.path,
            &serve.ssh(&wo_key),
            &["-a", &src_arg, &remote],
        );
        touch_middle(&psrc.join("big"));
        let second = rsync(
            &client.path,
            &serve.ssh(&wo_key),
            &["-a", "--stats", &src_arg, &remote],
        );
        sessions += 2;
        rep.check(
            &format!("{label} delta push"),
            ensure(first.code == Some(0), "first push failed", &first)
                .and_then(|()| ensure(second.code == Some(0), "second push failed", &second))
                .and_then(|()| ensure(matched_bytes(&second) > 0, "no basis data matched", &second))
                .and_then(|()| {
                    tree::same_dirs(
                        "delta push",
                        &psrc,
                        &wo_root.join(format!("d{i}")),
                        Cmp::SOURCE,
                    )
                }),
        );
    }
    let lines = serve.audit_lines(sessions);
    let ok = lines
        .iter()
        .filter(|l| has(l, "outcome", "ok") && has(l, "key", "SHA256:"))
        .count();
    let roles = lines
        .iter()
        .filter(|l| {
            has(l, "role", "sender") && has(l, "mode", "ro")
                || has(l, "role", "receiver") && has(l, "mode", "wo")
        })
        .count();
    rep.check(
        "audit",
        if ok == sessions && roles == sessions && lines.len() == sessions {
            Ok(())
        } else {
            Err(format!(
                "want {sessions} ok lines with key, mode and role; got:\n{}",
                lines.join("\n")
            ))
        },
    );
    rep.finish("serve_pull_and_push_with_delta");
}

#[test]
fn serve_eight_concurrent_clients() {
    if !super::have_ssh() {
        return;
    }
    let fx = fixtures::small();
    let client = harness::clients().first().expect("a client").path.clone();
    let work = Work::new("ssh-concurrent");
    // One root per pushing key: a root takes one writer at a time
    // (rrsync's lock), and separate roots show that sessions stay apart.
    let ro_key = work.dir.join("ro");
    let mut keys = key_line("-ro", &fx.root, &keygen(&ro_key));
    let wo: Vec<_> = (0..4)
        .map(|i| {
            let (key, root) = (
                work.dir.join(format!("wo{i}")),
                work.dir.join(format!("wo-root-{i}")),
            );
            std::fs::create_dir_all(&root).expect("mkdir");
            keys += &key_line("-wo", &root, &keygen(&key));
            (key, root)
        })
        .collect();
    let serve = Serve::start(&work, &keys, &[]);
    let srcs: Vec<_> = (0..4)
        .map(|i| {
            let p = work.path(&format!("src-{i}"));
            make_tree(&p, 100 + i);
            p
        })
        .collect();
    let results: Vec<Result<(), String>> = std::thread::scope(|s| {
        let mut handles = Vec::new();
        for i in 0..4 {
            let (serve, client, ro_key, fx) = (&serve, &client, &ro_key, fx);
            let dst = work.path(&format!("dst-{i}"));
            handles.push(s.spawn(move || {
                let out = rsync(
                    client,
                    &serve.ssh(ro_key),
                    &["-a", "x@127.0.0.1:dir/", &format!("{}/", dst.display())],
                );
                ensure(out.code == Some(0), &format!("pull {i} failed"), &out).and_then(|()| {
                    tree::same_dirs(&format!("pull {i}"), &fx.dir, &dst, Cmp::SOURCE)
                })
            }));
        }
        for (i, (src, (wo_key, wo_root))) in srcs.iter().zip(&wo).enumerate() {
            let (serve, client) = (&serve, &client);
            handles.push(s.spawn(move || {
                let out = rsync(
                    client,
                    &serve.ssh(wo_key),
                    &[
                        "-a",
                        &format!("{}/", src.display()),
                        &format!("x@127.0.0.1:p{i}/"),
                    ],
                );
                ensure(out.code == Some(0), &format!("push {i} failed"), &out).and_then(|()| {
                    tree::same_dirs(
                        &format!("push {i}"),
                        src,
                        &wo_root.join(format!("p{i}")),
                        Cmp::SOURCE,
                    )
                })
            }));
        }
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("thread panicked".into())))
            .collect()
    });
    let mut rep = Report::new();
    for (i, r) in results.into_iter().enumerate() {
        rep.check(&format!("client {i}"), r);
    }
    let lines = serve.audit_lines(8);
    let ok = lines.iter().filter(|l| has(l, "outcome", "ok")).count();
    rep.check(
        "audit",
        if ok == 8 && lines.len() == 8 {
            Ok(())
        } else {
            Err(format!("want 8 ok lines:\n{}", lines.join("\n")))
        },
    );
    rep.finish("serve_eight_concurrent_clients");
}
