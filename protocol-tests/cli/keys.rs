//! `check` and `authorize`'s file work against real files and keys from
//! `ssh-keygen`: what `check` reports and its exit code, `--migrate`,
//! `authorize --replace/--remove/--list`, and, as root, the owner and
//! mode of the file written for another user.

use super::rr;
use crate::harness::{self, Work};
use crate::openssh::keygen;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// A home directory with `.ssh` (0700) and a served root; the program
/// path is a link outside any build directory.
struct Home {
    work: Work,
    keys: PathBuf,
    root: PathBuf,
    prog: PathBuf,
}

fn home(name: &str) -> Home {
    let work = Work::new(name);
    let ssh = work.dir.join("home/.ssh");
    std::fs::create_dir_all(&ssh).unwrap();
    std::fs::set_permissions(&ssh, std::fs::Permissions::from_mode(0o700)).unwrap();
    let root = work.dir.join("root");
    std::fs::create_dir_all(&root).unwrap();
    let prog = work.dir.join("bin/rrsync-rs");
    std::fs::create_dir_all(prog.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(harness::bin(), &prog).unwrap();
    Home {
        keys: ssh.join("authorized_keys"),
        root,
        prog,
        work,
    }
}

fn write_keys(h: &Home, text: &str, mode: u32) {
    std::fs::write(&h.keys, text).unwrap();
    std::fs::set_permissions(&h.keys, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn check_reports_grants_and_problems() {
    if !crate::ssh::have_ssh() {
        return;
    }
    let h = home("cli-check");
    let k1 = keygen(&h.work.dir.join("k1"));
    let k2 = keygen(&h.work.dir.join("k2"));
    let good = format!(
        "command=\"{} -ro {}\",restrict {k1}\n",
        s(&h.prog),
        s(&h.root)
    );
    write_keys(&h, &good, 0o600);
    let out = rr(&["check", &s(&h.keys)], &[]);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    assert!(
        out.stdout.contains("ssh-ed25519 SHA256:"),
        "{}",
        out.describe()
    );
    assert!(
        out.stdout.contains("pull only (read-only)"),
        "{}",
        out.describe()
    );
    assert!(out.stdout.contains("0 problem(s)"), "{}", out.describe());
    let line = format!(
        "command=\"{} -ro {}\",restrict {k1}",
        s(&h.prog),
        s(&h.root)
    );
    assert_eq!(rr(&["check", "--line", &line], &[]).code, Some(0));

    let bad = format!(
        "{good}command=\"rrsync-rs -wo ~/x\" {k1}\ncommand=\"/nonexistent/rrsync-rs /nope\",restrict,from=\"10.0.0.1\" {k2}\n"
    );
    write_keys(&h, &bad, 0o666);
    let out = rr(&["check", &s(&h.keys)], &[]);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    for w in [
        "group- or world-writable",
        "the same key as line 1",
        "no `restrict`",
        "`~` in command=",
        "the program /nonexistent/rrsync-rs does not exist",
        "the root /nope does not exist",
        "serve cannot enforce this: from=",
    ] {
        assert!(out.stdout.contains(w), "lacks {w}: {}", out.describe());
    }
    let out = rr(&["check", &s(&h.work.dir.join("none"))], &[]);
    assert_eq!(out.code, Some(2), "{}", out.describe());
}

#[test]
fn check_migrate_rewrites_rrsync_lines() {
    if !crate::ssh::have_ssh() {
        return;
    }
    let h = home("cli-migrate");
    let k1 = keygen(&h.work.dir.join("k1"));
    let k2 = keygen(&h.work.dir.join("k2"));
    let text = format!(
        "# keys\ncommand=\"/usr/bin/rrsync -ro {r}\",no-pty {k1}\ncommand=\"python3 /usr/share/doc/rsync/support/rrsync -wo -no-del {r}\" {k2}\n",
        r = s(&h.root)
    );
    write_keys(&h, &text, 0o600);
    let out = rr(
        &["check", "--migrate", "--program", &s(&h.prog), &s(&h.keys)],
        &[],
    );
    assert_eq!(out.code, Some(0), "{}", out.describe());
    let want = format!(
        "# keys\ncommand=\"{p} -ro {r}\",no-pty,restrict {k1}\ncommand=\"{p} -wo -no-del {r}\",restrict {k2}\n",
        p = s(&h.prog),
        r = s(&h.root)
    );
    assert_eq!(out.stdout, want, "{}", out.describe());
    // The migrated file passes check.
    write_keys(&h, &out.stdout, 0o600);
    let out = rr(&["check", &s(&h.keys)], &[]);
    assert_eq!(out.code, Some(0), "{}", out.describe());
}

#[test]
fn authorize_replaces_removes_and_lists() {
    if !crate::ssh::have_ssh() {
        return;
    }
    let h = home("cli-authorize");
    let k1 = keygen(&h.work.dir.join("k1"));
    keygen(&h.work.dir.join("k2"));
    let (p1, p2) = (s(&h.work.dir.join("k1.pub")), s(&h.work.dir.join("k2.pub")));
    let (root, keys, prog) = (s(&h.root), s(&h.keys), s(&h.prog));
    let add = |flag: &str, key: &str, more: &[&str]| {
        let mut a = vec![
            "authorize",
            flag,
            &root,
            key,
            "--file",
            &keys,
            "--program",
            &prog,
        ];
        a.extend_from_slice(more);
        rr(&a, &[])
    };
    assert_eq!(add("-ro", &p1, &[]).code, Some(0));
    assert_eq!(add("-wo", &p2, &[]).code, Some(0));
    let out = add("-no-del", &p1, &[]);
    assert_eq!(
        out.code,
        Some(1),
        "a second line for a key: {}",
        out.describe()
    );
    let out = add("-no-del", &p1, &["--replace"]);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    let text = std::fs::read_to_string(&h.keys).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(
        text.lines()
            .next()
            .unwrap()
            .contains(&format!("{prog} -no-del {root}")),
        "{text}"
    );

    let out = rr(&["authorize", "--list", "--file", &keys], &[]);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", out.describe());
    assert!(lines[0].starts_with("1: ssh-ed25519 SHA256:") && lines[0].contains("[-no-del]"));
    assert!(lines[1].contains("push only"), "{}", out.describe());

    let fp = lines[0].split_whitespace().nth(2).unwrap();
    let out = rr(&["authorize", "--remove", fp, "--file", &keys], &[]);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    let out = rr(&["authorize", "--remove", &p2, "--file", &keys], &[]);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    assert_eq!(std::fs::read_to_string(&h.keys).unwrap(), "");
    let out = rr(&["authorize", "--remove", &k1, "--file", &keys], &[]);
    assert_eq!(
        out.code,
        Some(1),
        "nothing left to remove: {}",
        out.describe()
    );

    let out = rr(&["authorize", "-ro", &root, &p1], &[]);
    assert!(out.stderr.contains("build directory"), "{}", out.describe());
}

/// As root, the file written for another user's home is that user's,
/// 0600 in a 0700 `.ssh`; `--user` names the owner explicitly.
#[test]
fn authorize_as_root_gives_the_file_to_the_user() {
    if !rustix::process::geteuid().is_root() {
        harness::not_applicable("ownership needs root");
        return;
    }
    if !crate::ssh::have_ssh() {
        return;
    }
    let h = home("cli-owner");
    keygen(&h.work.dir.join("k1"));
    let p1 = s(&h.work.dir.join("k1.pub"));
    let user_home = h.work.dir.join("user");
    std::fs::create_dir_all(&user_home).unwrap();
    std::os::unix::fs::chown(&user_home, Some(65534), Some(65534)).unwrap();
    let keys = user_home.join(".ssh/authorized_keys");
    let (root, prog) = (s(&h.root), s(&h.prog));
    let out = rr(
        &[
            "authorize",
            "-ro",
            &root,
            &p1,
            "--file",
            &s(&keys),
            "--program",
            &prog,
        ],
        &[],
    );
    assert_eq!(out.code, Some(0), "{}", out.describe());
    let meta = |p: &Path| std::fs::metadata(p).unwrap();
    let (f, d) = (meta(&keys), meta(keys.parent().unwrap()));
    assert_eq!((f.uid(), f.mode() & 0o777), (65534, 0o600));
    assert_eq!((d.uid(), d.mode() & 0o777), (65534, 0o700));
    let out = rr(
        &[
            "authorize",
            "-wo",
            &root,
            &p1,
            "--file",
            &s(&keys),
            "--program",
            &prog,
            "--replace",
            "--user",
            "root",
        ],
        &[],
    );
    assert_eq!(out.code, Some(0), "{}", out.describe());
    assert_eq!(meta(&keys).uid(), 0);
    let out = rr(
        &[
            "authorize",
            "--list",
            "--file",
            &s(&keys),
            "--user",
            "no-such-user-x",
        ],
        &[],
    );
    assert_eq!(
        out.code,
        Some(0),
        "--list does not write: {}",
        out.describe()
    );
    let out = rr(
        &[
            "authorize",
            "--remove",
            &p1,
            "--file",
            &s(&keys),
            "--user",
            "no-such-user-x",
        ],
        &[],
    );
    assert_eq!(out.code, Some(1), "{}", out.describe());
    assert!(out.stderr.contains("no user"), "{}", out.describe());
}
