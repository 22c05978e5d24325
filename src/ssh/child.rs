//! The session process of `serve` (privilege separation, as OpenSSH's
//! sshd forks a process per session and drops to the user in it). The
//! listener never serves a request itself: after authentication it runs
//! its own binary again as
//!
//! ```text
//! rrsync-rs serve-session [--as UID GID G1,G2,...] FLAGS -- DIR
//! ```
//!
//! with the client's command in `SSH_ORIGINAL_COMMAND`, the channel as
//! stdin/stdout and stderr forwarded to the client: the forced command's
//! code path ([`crate::driver::serve_command`]), in a process of its own.
//! The words come from the listener only (the key line's flags and root,
//! the account it looked up); a client chooses only the command, which
//! is parsed as under sshd.
//!
//! `--as` makes the process drop to that account before it reads a byte
//! from the client or opens anything: supplementary groups, group, then
//! user, all real, effective and saved ids, then `no_new_privs`. At the end
//! the process reports what it moved on the reverse direction of its
//! stdin (a socket), and the listener writes the audit line: the audit log
//! stays out of reach of a process running as a client's account.
//! Independent of the rsync protocol version.

use std::ffi::OsString;
use std::io;
use std::os::fd::AsFd;
use std::path::Path;

use super::account::Account;
use std::fmt::Write as _;

use crate::audit::{Served, Transfer};
use crate::cli::{self, Invocation, WrapperFlags};

/// The first word of the internal command line.
pub const ENTRY: &str = "serve-session";
/// The first word of the report line.
const REPORT: &str = "rrsync-report-2";

/// The command that runs one session: our own binary (the file this
/// process runs, even if it was replaced on disk), the internal words,
/// the client's command and nothing else from our environment.
pub fn command(
    flags: &WrapperFlags,
    account: Option<&Account>,
    request: &str,
) -> std::process::Command {
    use std::os::unix::process::CommandExt;
    let exe = if Path::new("/proc/self/exe").exists() {
        std::path::PathBuf::from("/proc/self/exe")
    } else {
        std::env::current_exe().unwrap_or_else(|_| "rrsync-rs".into())
    };
    let mut cmd = std::process::Command::new(exe);
    cmd.arg0("rrsync-rs").args(words(flags, account));
    cmd.env_clear().env("SSH_ORIGINAL_COMMAND", request);
    cmd.env("PATH", "/usr/local/bin:/usr/bin:/bin");
    let home = account
        .map(|a| a.home.clone().into_os_string())
        .or_else(|| std::env::var_os("HOME"));
    if let Some(h) = home {
        cmd.env("HOME", h);
    }
    // Its own process group: a terminal's ^C reaches the listener, which
    // drains, and not the sessions.
    cmd.process_group(0);
    cmd
}

/// `serve-session [--as UID GID GROUPS] FLAGS -- DIR`.
pub fn words(flags: &WrapperFlags, account: Option<&Account>) -> Vec<OsString> {
    let mut w: Vec<OsString> = vec![ENTRY.into()];
    if let Some(a) = account {
        let groups: Vec<String> = a.groups.iter().map(u32::to_string).collect();
        w.extend([
            "--as".into(),
            a.uid.to_string().into(),
            a.gid.to_string().into(),
        ]);
        w.push(groups.join(",").into());
    }
    w.extend(flags.flag_words().into_iter().map(OsString::from));
    w.push("--".into());
    w.push(flags.root.clone().into_os_string());
    w
}

/// The ids to drop to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ids {
    uid: u32,
    gid: u32,
    groups: Vec<u32>,
}

/// Splits `--as UID GID GROUPS` off the front of the words after
/// [`ENTRY`]; `None` if they are malformed.
pub fn parse_as(args: &[OsString]) -> Option<(Option<Ids>, &[OsString])> {
    let Some((first, rest)) = args.split_first() else {
        return Some((None, args));
    };
    if first != "--as" {
        return Some((None, args));
    }
    let num = |s: &str| s.parse::<u32>().ok().filter(|&v| v != u32::MAX);
    let word = |i: usize| rest.get(i).and_then(|s| s.to_str());
    let (uid, gid) = (num(word(0)?)?, num(word(1)?)?);
    let groups = word(2)?
        .split(',')
        .filter(|g| !g.is_empty())
        .map(num)
        .collect::<Option<Vec<u32>>>()?;
    Some((
        Some(Ids { uid, gid, groups }),
        rest.get(3..).unwrap_or_default(),
    ))
}

/// Runs the session process; returns its exit code.
pub fn main(args: &[OsString]) -> i32 {
    let start = crate::error::code::START_CLIENT;
    let Some((ids, rest)) = parse_as(args) else {
        eprintln!("rrsync-rs: cannot start the session (bad internal arguments)");
        return start;
    };
    if let Some(ids) = &ids {
        if let Err(e) = drop_to(ids) {
            eprintln!("rrsync-rs: cannot start the session ({e})");
            return start;
        }
    }
    let flags = match cli::parse_args_with_home(rest, None) {
        Ok(Invocation::Forced(f)) => f,
        _ => {
            eprintln!("rrsync-rs: cannot start the session (bad internal arguments)");
            return start;
        }
    };
    let Some(request) = std::env::var_os("SSH_ORIGINAL_COMMAND") else {
        eprintln!("rrsync-rs: cannot start the session (no command)");
        return start;
    };
    let request = request.to_string_lossy();
    let served = crate::driver::serve_command(&flags, &request);
    let landlock = crate::sandbox::last_status().map(crate::sandbox::Status::name);
    report(&encode(&served, landlock));
    served.code
}

/// Drops to `ids` for good. The set*id system calls change the calling
/// thread only, so this runs first thing in `main` of a freshly executed
/// process, which has no other thread, and checks that it has none.
fn drop_to(ids: &Ids) -> io::Result<()> {
    use rustix::process::{getegid, geteuid, getgid, getuid};
    use rustix::thread::{set_thread_groups, set_thread_res_gid, set_thread_res_uid};
    use rustix::{fs::Gid, fs::Uid};
    let threads = std::fs::read_dir("/proc/self/task")?.count();
    if threads != 1 {
        return Err(io::Error::other("the process has more than one thread"));
    }
    let (uid, gid) = (Uid::from_raw(ids.uid), Gid::from_raw(ids.gid));
    let groups: Vec<Gid> = ids.groups.iter().map(|g| Gid::from_raw(*g)).collect();
    set_thread_groups(&groups)?;
    set_thread_res_gid(gid, gid, gid)?;
    set_thread_res_uid(uid, uid, uid)?;
    let held = getuid() == uid && geteuid() == uid && getgid() == gid && getegid() == gid;
    let back = ids.uid != 0 && set_thread_res_uid(Uid::ROOT, Uid::ROOT, Uid::ROOT).is_ok();
    if !held || back {
        return Err(io::Error::other("the account change did not hold"));
    }
    rustix::thread::set_no_new_privs(true)?;
    Ok(())
}

/// The report line: exit code, what moved, Landlock status, and the
/// driver's refusal (hex, so no byte of it can break the line), or `-`.
pub fn encode(s: &Served, landlock: Option<&str>) -> String {
    let t = &s.transfer;
    let refused = match &s.refused {
        Some(why) => why.bytes().fold(String::new(), |mut h, b| {
            let _ = write!(h, "{b:02x}");
            h
        }),
        None => "-".into(),
    };
    format!(
        "{REPORT} {} {} {} {} {} {} {} {} {} {} {} {refused}\n",
        s.code,
        t.files_sent,
        t.files_received,
        t.deleted,
        t.bytes_in,
        t.bytes_out,
        t.added,
        t.changed,
        t.bytes_written,
        t.snapshot
            .as_deref()
            .filter(|n| crate::fs::snapshot::is_snapshot_name(n))
            .unwrap_or("-"),
        landlock.unwrap_or("-")
    )
}

/// The refusal field of a report line.
fn unhex(field: &str) -> Option<Option<String>> {
    if field == "-" {
        return Some(None);
    }
    let bytes = field.as_bytes();
    if !bytes.len().is_multiple_of(2) || bytes.len() > 3000 {
        return None;
    }
    let digits: Option<Vec<u8>> = bytes
        .chunks(2)
        .map(|p| {
            std::str::from_utf8(p)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect();
    Some(Some(String::from_utf8_lossy(&digits?).into_owned()))
}

/// What a session process reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Its exit code, what it moved and what its driver refused.
    pub served: Served,
    /// Whether it ran under Landlock.
    pub landlock: Option<&'static str>,
}

/// Parses a report line; anything else is `None`.
pub fn decode(line: &[u8]) -> Option<Report> {
    let text = std::str::from_utf8(line).ok()?.strip_suffix('\n')?;
    let w: Vec<&str> = text.split(' ').collect();
    let [REPORT, code, sent, recv, del, bin, bout, added, changed, written, snap, ll, refused] =
        w.as_slice()
    else {
        return None;
    };
    let n = |s: &str| s.parse::<u64>().ok();
    let landlock = ["on", "partial", "off"].into_iter().find(|s| s == ll);
    Some(Report {
        served: Served {
            code: code.parse().ok()?,
            transfer: Transfer {
                files_sent: n(sent)?,
                files_received: n(recv)?,
                deleted: n(del)?,
                bytes_in: n(bin)?,
                bytes_out: n(bout)?,
                added: n(added)?,
                changed: n(changed)?,
                bytes_written: n(written)?,
                snapshot: Some(snap.to_string())
                    .filter(|n| crate::fs::snapshot::is_snapshot_name(n)),
            },
            refused: unhex(refused)?,
        },
        landlock,
    })
}

/// Writes `line` on the reverse direction of stdin; the listener may be
/// gone, which is no error of the session's.
fn report(line: &str) {
    let stdin = io::stdin();
    let mut rest = line.as_bytes();
    while !rest.is_empty() {
        match rustix::io::write(stdin.as_fd(), rest) {
            Ok(0) | Err(_) => return,
            Ok(n) => rest = rest.get(n..).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::policy::Mode;
    use std::path::PathBuf;

    fn flags() -> WrapperFlags {
        WrapperFlags {
            mode: Mode::ReadOnly,
            munge: true,
            no_del: true,
            no_lock: true,
            no_overwrite: false,
            blind: true,
            snapshot: true,
            limits: crate::cli::Limits {
                bytes: Some(1 << 30),
                files: Some(1000),
            },
            root: PathBuf::from("/srv/-x"),
        }
    }

    #[test]
    fn words_round_trip() {
        let acc = Account {
            name: "a".into(),
            uid: 1001,
            gid: 100,
            groups: vec![100, 27],
            home: "/home/a".into(),
        };
        let w = words(&flags(), Some(&acc));
        assert_eq!(w.first().unwrap(), ENTRY);
        let (ids, rest) = parse_as(&w[1..]).unwrap();
        let ids = ids.unwrap();
        assert_eq!(
            (ids.uid, ids.gid, ids.groups.clone()),
            (1001, 100, vec![100, 27])
        );
        match cli::parse_args_with_home(rest, None).unwrap() {
            Invocation::Forced(f) => assert_eq!(f, flags()),
            other => panic!("{other:?}"),
        }
        let w = words(&flags(), None);
        let (ids, rest) = parse_as(&w[1..]).unwrap();
        assert!(ids.is_none());
        assert_eq!(rest.len(), w.len() - 1);
    }

    #[test]
    fn bad_ids_are_refused() {
        let v = |s: &[&str]| s.iter().map(OsString::from).collect::<Vec<_>>();
        assert!(parse_as(&v(&["--as", "x", "1", "1"])).is_none());
        assert!(parse_as(&v(&["--as", "1", "1"])).is_none());
        assert!(parse_as(&v(&["--as", "1", "4294967295", ""])).is_none());
        assert!(parse_as(&v(&["--as", "1", "2", "3,x"])).is_none());
        let (ids, _) = parse_as(&v(&["--as", "1", "2", ""])).unwrap();
        assert!(ids.unwrap().groups.is_empty());
    }

    #[test]
    fn report_round_trip() {
        let t = Transfer {
            files_sent: 1,
            files_received: 2,
            deleted: 3,
            bytes_in: 4,
            bytes_out: 5,
            added: 6,
            changed: 7,
            bytes_written: 8,
            snapshot: Some("2026-12-04T221503Z-2".into()),
        };
        let s = Served {
            code: 23,
            transfer: t,
            refused: None,
        };
        let r = decode(encode(&s, Some("on")).as_bytes()).unwrap();
        assert_eq!((&r.served, r.landlock), (&s, Some("on")));
        assert_eq!(decode(encode(&s, None).as_bytes()).unwrap().landlock, None);
        // A refusal travels whole, whatever bytes it holds.
        let refused = Served {
            code: 1,
            transfer: Transfer::default(),
            refused: Some("option --x has been disabled\n on this server. é".into()),
        };
        let r = decode(encode(&refused, None).as_bytes()).unwrap();
        assert_eq!(r.served, refused);
        assert!(decode(b"rrsync-report-1 0 1 2 3 4 5 on -").is_none());
        assert!(decode(b"other 0 1 2 3 4 5 on -\n").is_none());
        assert!(decode(b"rrsync-report-1 0 1 2 3 4 x on -\n").is_none());
        assert!(decode(b"rrsync-report-1 0 1 2 3 4 5 on zz\n").is_none());
    }
}
