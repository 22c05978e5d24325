//! Privilege separation in `serve` (issue 9): every session runs in a
//! process of its own, the listener holds no descriptor of a served
//! directory, a session that ends closes its channel and frees its slot,
//! and with `--user-keys` the login name selects a Unix account whose own
//! keys are read and whose ids (groups included) the session takes.

use super::{has, key_line, keygen, Serve};
use crate::harness::{self, ensure, Report, Work};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `ssh KEY LOGIN@127.0.0.1 rsync --server --sender ... --timeout=T . dir/`
/// whose stdin stays open and silent: the session waits for the client's
/// protocol version, which never comes.
fn silent(serve: &Serve, key: &Path, login: &str, timeout: u32, log: &Path) -> Child {
    let line = serve.ssh(key);
    let mut words = line.split_whitespace();
    Command::new(words.next().unwrap_or("ssh"))
        .args(words)
        .arg(format!("{login}@127.0.0.1"))
        .args(["rsync", "--server", "--sender", "-logDtpre.iLsfxCIvu"])
        .arg(format!("--timeout={timeout}"))
        .args([".", "dir/"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).expect("create ssh log"))
        .spawn()
        .expect("spawn ssh")
}

/// The pids whose parent is `parent`.
fn children(parent: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in rd.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        // `pid (comm) state ppid ...`; comm may hold spaces.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(parent) {
            out.push(pid);
        }
    }
    out
}

/// Where each open descriptor of `pid` points, by number.
fn fds(pid: u32) -> Vec<(u32, PathBuf)> {
    let dir = PathBuf::from(format!("/proc/{pid}/fd"));
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if let (Some(n), Ok(t)) = (
            e.file_name().to_str().and_then(|s| s.parse().ok()),
            std::fs::read_link(e.path()),
        ) {
            out.push((n, t));
        }
    }
    out
}

/// A child of the listener that holds a descriptor of `root`, within 10 s.
fn session_holding(serve_pid: u32, root: &Path) -> Option<u32> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let found = children(serve_pid)
            .into_iter()
            .find(|&c| fds(c).iter().any(|(_, t)| t == root));
        if found.is_some() {
            return found;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

fn stop(mut c: Child) {
    let _ = c.kill();
    let _ = c.wait();
}

#[test]
fn serve_sessions_run_in_their_own_process() {
    if !super::have_ssh() {
        return;
    }
    let work = Work::new("ssh-privsep");
    let root = work.dir.join("root");
    std::fs::create_dir_all(root.join("dir")).expect("mkdir");
    std::fs::write(root.join("dir/f"), b"privsep\n").expect("write");
    let root = std::fs::canonicalize(&root).expect("canonicalize");
    let key = work.dir.join("key");
    let serve = Serve::start(&work, &key_line("-ro", &root, &keygen(&key)), &[]);
    let serve_pid = serve.child().id();
    let mut rep = Report::new();
    let ssh = silent(&serve, &key, "x", 20, &work.dir.join("ssh.log"));
    let child = session_holding(serve_pid, &root);
    rep.check(
        "the session is a child process holding the root",
        child.map(|_| ()).ok_or_else(|| {
            format!(
                "no child of the listener ({serve_pid}) holds {}; children: {:?}",
                root.display(),
                children(serve_pid)
            )
        }),
    );
    let listener = fds(serve_pid);
    let leaked: Vec<_> = listener
        .iter()
        .filter(|(_, t)| t.starts_with(&root))
        .collect();
    rep.check(
        "the listener holds no descriptor of the root",
        if leaked.is_empty() {
            Ok(())
        } else {
            Err(format!("listener fds into the root: {leaked:?}"))
        },
    );
    if let Some(c) = child {
        let cmdline = std::fs::read(format!("/proc/{c}/cmdline")).unwrap_or_default();
        let all = fds(c);
        // The session duplicates its stdin socket; any other socket came
        // from the listener.
        let stdin = all.iter().find(|(n, _)| *n == 0).map(|(_, t)| t.clone());
        let extra: Vec<_> = all
            .into_iter()
            .filter(|(n, t)| {
                *n > 2
                    && (t.to_string_lossy().starts_with("socket:") && Some(t) != stdin.as_ref()
                        || t.starts_with(&work.dir) && !t.starts_with(&root))
            })
            .collect();
        rep.check(
            "the session process inherited nothing of the listener",
            if extra.is_empty() && String::from_utf8_lossy(&cmdline).contains("serve-session") {
                Ok(())
            } else {
                Err(format!(
                    "cmdline {:?}, inherited fds {extra:?}",
                    String::from_utf8_lossy(&cmdline)
                ))
            },
        );
    }
    stop(ssh);
    // A pull still works, and its audit line carries what the session
    // process reported.
    let client = &harness::clients().first().expect("a client").path;
    let dst = work.path("dst");
    let mut cmd = Command::new(client);
    cmd.arg("-e").arg(serve.ssh(&key)).args([
        "-a",
        "x@127.0.0.1:dir/",
        &format!("{}/", dst.display()),
    ]);
    let out = harness::run(cmd, harness::TIMEOUT);
    let lines = serve.audit_lines(2);
    let line = lines.last().cloned().unwrap_or_default();
    rep.check(
        "pull, audit line with the session's report",
        ensure(out.code == Some(0), "pull failed", &out).and_then(|()| {
            let moved = line.contains("\"files_sent\":1,") && has(&line, "landlock", "");
            let who = has(&line, "key", "SHA256:") && has(&line, "user", "x");
            if moved && who && has(&line, "outcome", "ok") {
                Ok(())
            } else {
                Err(format!("audit line: {line}"))
            }
        }),
    );
    rep.finish("serve_sessions_run_in_their_own_process");
}

#[test]
fn serve_silent_sessions_release_their_slots() {
    if !super::have_ssh() {
        return;
    }
    let work = Work::new("ssh-slots");
    let root = work.dir.join("root");
    std::fs::create_dir_all(root.join("dir")).expect("mkdir");
    std::fs::write(root.join("dir/f"), b"slots\n").expect("write");
    let key = work.dir.join("key");
    let serve = Serve::start(
        &work,
        &key_line("-ro", &root, &keygen(&key)),
        &["--max-sessions", "2"],
    );
    let serve_pid = serve.child().id();
    let silent: Vec<Child> = (0..2)
        .map(|i| {
            silent(
                &serve,
                &key,
                "x",
                2,
                &work.dir.join(format!("silent{i}.log")),
            )
        })
        .collect();
    // Both sessions hold their slots (bounded wait: with no session
    // processes at all this moves on and the pull below shows the result).
    let deadline = Instant::now() + Duration::from_secs(3);
    while children(serve_pid).len() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let client = &harness::clients().first().expect("a client").path;
    let mut rep = Report::new();
    let mut last = None;
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        let dst = work.path("dst");
        let mut cmd = Command::new(client);
        cmd.arg("-e").arg(serve.ssh(&key)).args([
            "-a",
            "x@127.0.0.1:dir/",
            &format!("{}/", dst.display()),
        ]);
        let out = harness::run(cmd, super::SHORT);
        let ok = out.code == Some(0);
        last = Some(out);
        if ok {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let out = last.expect("at least one attempt");
    rep.check(
        "another client is served once the silent sessions time out",
        ensure(out.code == Some(0), "pull never got a slot", &out),
    );
    let deadline = Instant::now() + Duration::from_secs(8);
    let mut ended = 0;
    for mut c in silent {
        while Instant::now() < deadline && matches!(c.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(50));
        }
        if matches!(c.try_wait(), Ok(Some(_))) {
            ended += 1;
        }
        stop(c);
    }
    rep.check(
        "the silent clients' channels were closed",
        if ended == 2 {
            Ok(())
        } else {
            Err(format!("{ended} of 2 silent ssh clients ended"))
        },
    );
    rep.finish("serve_silent_sessions_release_their_slots");
}

/// A temporary Unix account (and a group it is a member of), removed on
/// drop.
struct TempAccount {
    name: String,
    group: String,
    uid: u32,
    home: PathBuf,
}

impl TempAccount {
    fn create(work: &Work) -> Result<TempAccount, String> {
        let tag = std::process::id() % 100_000;
        let (name, group) = (format!("rrps{tag}"), format!("rrpg{tag}"));
        let home = work.dir.join("home");
        let run = |args: &[&str]| -> Result<(), String> {
            let out = Command::new(args[0])
                .args(&args[1..])
                .output()
                .map_err(|e| format!("{}: {e}", args[0]))?;
            if out.status.success() {
                Ok(())
            } else {
                Err(format!(
                    "{args:?}: {}",
                    String::from_utf8_lossy(&out.stderr)
                ))
            }
        };
        let _ = run(&["userdel", &name]);
        let _ = run(&["groupdel", &group]);
        run(&["groupadd", &group])?;
        let h = home.to_string_lossy().into_owned();
        let made = run(&[
            "useradd",
            "-M",
            "-d",
            &h,
            "-s",
            "/bin/false",
            "-G",
            &group,
            &name,
        ]);
        let mut acc = TempAccount {
            name,
            group,
            uid: u32::MAX,
            home,
        };
        made?;
        let out = Command::new("id")
            .args(["-u", &acc.name])
            .output()
            .map_err(|e| e.to_string())?;
        acc.uid = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .map_err(|_| "id -u failed")?;
        Ok(acc)
    }

    fn gid_of_group(&self) -> u32 {
        let text = std::fs::read_to_string("/etc/group").unwrap_or_default();
        text.lines()
            .find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.first() == Some(&self.group.as_str()))
                    .then(|| f.get(2).and_then(|g| g.parse().ok()))
                    .flatten()
            })
            .unwrap_or(u32::MAX)
    }
}

impl Drop for TempAccount {
    fn drop(&mut self) {
        let _ = Command::new("userdel").arg(&self.name).output();
        let _ = Command::new("groupdel").arg(&self.group).output();
    }
}

/// `ssh -i KEY LOGIN@127.0.0.1 true`.
fn ssh_as(serve: &Serve, key: &Path, login: &str) -> harness::Output {
    let line = serve.ssh(key);
    let mut words = line.split_whitespace();
    let mut cmd = Command::new(words.next().unwrap_or("ssh"));
    cmd.args(words)
        .arg(format!("{login}@127.0.0.1"))
        .arg("true");
    harness::run(cmd, super::SHORT)
}

/// The audit line that contains `text`, waiting up to 10 s for it.
fn audit_line_with(serve: &Serve, text: &str) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found = std::fs::read_to_string(&serve.audit)
            .unwrap_or_default()
            .lines()
            .find(|l| l.contains(text))
            .map(str::to_string);
        if found.is_some() || Instant::now() > deadline {
            return found;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn own(p: &Path, uid: u32, gid: u32, mode: u32) {
    std::os::unix::fs::chown(p, Some(uid), Some(gid)).expect("chown");
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

#[test]
fn serve_user_keys_drop_to_the_account() {
    if !super::have_ssh() {
        return;
    }
    if !rustix::process::geteuid().is_root() {
        harness::skip("serve --user-keys needs root (the CI container runs the suite as root)");
        return;
    }
    if !Path::new("/usr/sbin/useradd").exists() {
        harness::skip("useradd not installed (package passwd)");
        return;
    }
    let work = Work::new("ssh-user-keys");
    let acc = match TempAccount::create(&work) {
        Ok(a) => a,
        Err(e) => {
            harness::skip(&format!("cannot create a temporary account: {e}"));
            return;
        }
    };
    let gid = acc.gid_of_group();
    let (pubroot, droproot) = (work.dir.join("pub"), work.dir.join("drop"));
    std::fs::create_dir_all(&pubroot).expect("mkdir");
    std::fs::create_dir_all(&droproot).expect("mkdir");
    for (name, uid, g, mode) in [
        ("mine", acc.uid, 0, 0o600),
        ("group", 0, gid, 0o640),
        ("secret", 0, 0, 0o600),
    ] {
        let p = pubroot.join(name);
        std::fs::write(&p, name).expect("write");
        own(&p, uid, g, mode);
    }
    own(&droproot, acc.uid, 0, 0o755);
    let (ro, rw, stranger) = (
        work.dir.join("ro"),
        work.dir.join("rw"),
        work.dir.join("stranger"),
    );
    let ssh_dir = acc.home.join(".ssh");
    std::fs::create_dir_all(&ssh_dir).expect("mkdir");
    let ak = ssh_dir.join("authorized_keys");
    let keys = key_line("-ro", &pubroot, &keygen(&ro)) + &key_line("", &droproot, &keygen(&rw));
    std::fs::write(&ak, keys).expect("write keys");
    own(&acc.home, acc.uid, 0, 0o755);
    own(&ssh_dir, acc.uid, 0, 0o700);
    own(&ak, acc.uid, 0, 0o600);
    // The serve-wide keys file holds a key that must not count here.
    let serve = Serve::start(
        &work,
        &key_line("-ro", &pubroot, &keygen(&stranger)),
        &["--user-keys"],
    );
    let client = &harness::clients().first().expect("a client").path;
    let rsync = |key: &Path, login: &str, args: &[&str]| {
        let mut cmd = Command::new(client);
        cmd.arg("-e").arg(serve.ssh(key));
        cmd.args(args.iter().map(|w| w.replace("LOGIN", login)));
        harness::run(cmd, super::SHORT)
    };
    let mut rep = Report::new();
    let dst = work.path("dst");
    let dst_arg = format!("{}/", dst.display());
    let out = rsync(&ro, &acc.name, &["-r", "LOGIN@127.0.0.1:./", &dst_arg]);
    rep.check(
        "pull runs with the account's user and groups",
        ensure(
            out.code == Some(23),
            "want exit 23 (secret unreadable)",
            &out,
        )
        .and_then(|()| {
            let got = |n: &str| std::fs::read_to_string(dst.join(n)).ok();
            match (got("mine"), got("group"), got("secret")) {
                (Some(_), Some(_), None) => Ok(()),
                other => Err(format!("mine/group/secret pulled: {other:?}")),
            }
        }),
    );
    let src = work.dir.join("src");
    std::fs::create_dir_all(&src).expect("mkdir");
    std::fs::write(src.join("up"), b"up").expect("write");
    let out = rsync(
        &rw,
        &acc.name,
        &["-r", &format!("{}/", src.display()), "LOGIN@127.0.0.1:in/"],
    );
    rep.check(
        "push writes files owned by the account",
        ensure(out.code == Some(0), "push failed", &out).and_then(|()| {
            match std::fs::metadata(droproot.join("in/up")).map(|m| m.uid()) {
                Ok(u) if u == acc.uid => Ok(()),
                other => Err(format!("owner of the pushed file: {other:?}")),
            }
        }),
    );
    for (what, key, login, why) in [
        (
            "login root",
            &ro,
            "root",
            "sessions as root are not permitted",
        ),
        ("unknown login", &ro, "rrps-nobody", "no such account"),
        (
            "serve-wide key",
            &stranger,
            acc.name.as_str(),
            "unknown key",
        ),
    ] {
        let out = ssh_as(&serve, key, login);
        let line = audit_line_with(&serve, why);
        rep.check(
            what,
            ensure(out.code == Some(255), "want refused", &out).and_then(|()| match line {
                Some(l) if has(&l, "outcome", "refused") => Ok(()),
                other => Err(format!("audit line with `{why}`: {other:?}")),
            }),
        );
    }
    // StrictModes: a keys file others may write is not read.
    own(&ak, acc.uid, 0, 0o620);
    let out = ssh_as(&serve, &ro, &acc.name);
    rep.check(
        "group-writable keys file",
        ensure(out.code == Some(255), "want refused", &out),
    );
    own(&ak, acc.uid, 0, 0o600);
    let out = ssh_as(&serve, &ro, &acc.name);
    rep.check(
        "keys file fixed",
        ensure(out.code == Some(0), "want ok", &out),
    );
    rep.finish("serve_user_keys_drop_to_the_account");
}
