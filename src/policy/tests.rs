//! Tests for `policy`: directions, every refusal, forced settings and path
//! normalisation.

use std::path::PathBuf;

use super::*;
use crate::cli::{parse_original_command, Request};

fn flags(mode: Mode) -> WrapperFlags {
    WrapperFlags {
        mode,
        munge: false,
        no_del: mode == Mode::ReadOnly,
        no_lock: mode == Mode::ReadOnly,
        no_overwrite: false,
        blind: false,
        snapshot: false,
        limits: Default::default(),
        root: PathBuf::from("/srv/secret-root"),
    }
}

fn args(cmd: &str) -> ServerArgs {
    match parse_original_command(cmd) {
        Ok(Request::Rsync(a)) => a,
        other => panic!("{cmd}: {other:?}"),
    }
}

fn auth(f: &WrapperFlags, cmd: &str) -> Result<Grant, PolicyError> {
    authorize(f, args(cmd))
}

fn send(f: &WrapperFlags, cmd: &str) -> SendPermit {
    match auth(f, cmd) {
        Ok(Grant::Send(p)) => p,
        other => panic!("{cmd}: {other:?}"),
    }
}

fn recv(f: &WrapperFlags, cmd: &str) -> ReceivePermit {
    match auth(f, cmd) {
        Ok(Grant::Receive(p)) => p,
        other => panic!("{cmd}: {other:?}"),
    }
}

fn refused(f: &WrapperFlags, cmd: &str) -> String {
    let e = auth(f, cmd)
        .err()
        .unwrap_or_else(|| panic!("{cmd} was allowed"));
    let msg = e.to_string();
    assert!(!msg.contains("secret-root"), "{msg}");
    msg
}

const PULL: &str = "rsync --server --sender -vlogDtpre.iLsfxCIvu";
const PUSH: &str = "rsync --server -vlogDtpre.iLsfxCIvu";

#[test]
fn directions() {
    let rw = flags(Mode::ReadWrite);
    send(&rw, &format!("{PULL} . dir/"));
    recv(&rw, &format!("{PUSH} . dir/"));
    let ro = flags(Mode::ReadOnly);
    send(&ro, &format!("{PULL} . dir/"));
    assert_eq!(
        refused(&ro, &format!("{PUSH} . dir/")),
        "sending to read-only server is not allowed"
    );
    let wo = flags(Mode::WriteOnly);
    recv(&wo, &format!("{PUSH} . dir/"));
    assert_eq!(
        refused(&wo, &format!("{PULL} . dir/")),
        "reading from write-only server is not allowed"
    );
}

#[test]
fn always_refused() {
    let rw = flags(Mode::ReadWrite);
    for (opt, name) in [
        ("--daemon", "--daemon"),
        ("--debug=ALL", "--debug"),
        ("--copy-devices", "--copy-devices"),
        ("--write-devices", "--write-devices"),
        ("--no-munge-links", "--no-munge-links"),
    ] {
        let msg = refused(&rw, &format!("{PUSH} {opt} . d"));
        assert_eq!(
            msg,
            format!("option {name} has been disabled on this server.")
        );
    }
}

#[test]
fn acls_and_xattrs_are_served() {
    let rw = flags(Mode::ReadWrite);
    for opt in ["-A", "-X", "-AX", "-XX", "--fake-super", "--fake-super -AX"] {
        assert!(auth(&rw, &format!("{PUSH} {opt} . d")).is_ok(), "{opt}");
    }
}

#[test]
fn unsupported() {
    let rw = flags(Mode::ReadWrite);
    for (opt, name) in [
        ("--iconv=utf8", "--iconv"),
        ("-N", "-N"),
        ("--crtimes", "--crtimes"),
    ] {
        let e = auth(&rw, &format!("{PUSH} {opt} . d")).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("option {name} is not supported by this server")
        );
        assert_eq!(crate::error::exit_code(e), 4);
    }
}

#[test]
fn link_following_needs_root_slash() {
    let rw = flags(Mode::ReadWrite);
    for (opt, name) in [
        ("-L", "-L"),
        ("-vlogk", "-k"),
        ("--keep-dirlinks", "--keep-dirlinks"),
        ("-K", "-K"),
        ("--copy-unsafe-links", "--copy-unsafe-links"),
    ] {
        let e = auth(&rw, &format!("{PULL} {opt} . d")).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("option {name} has been disabled on this server.")
        );
        assert_eq!(crate::error::exit_code(e), 1);
    }
    for root in ["/", "//", "/."] {
        let mut f = flags(Mode::ReadWrite);
        f.root = PathBuf::from(root);
        assert!(send(&f, &format!("{PULL} -L -k . d")).options().copy_links);
        let r = recv(&f, &format!("{PUSH} -K --copy-unsafe-links . d"));
        assert!(r.options().keep_dirlinks);
    }
}

#[test]
fn no_del_refusals() {
    let mut f = flags(Mode::ReadWrite);
    f.no_del = true;
    for opt in [
        "--delete",
        "--delete-before",
        "--delete-during",
        "--del",
        "--delete-delay",
        "--delete-after",
        "--delete-excluded",
        "--delete-missing-args",
        "--remove-source-files",
        "--remove-sent-files",
    ] {
        let msg = refused(&f, &format!("{PUSH} {opt} . d"));
        assert!(
            msg == format!("option {opt} has been disabled on this server."),
            "{msg}"
        );
    }
    assert!(!recv(&f, &format!("{PUSH} . d")).may_delete());
    assert!(recv(&flags(Mode::ReadWrite), &format!("{PUSH} --delete . d")).may_delete());
    // -ro implies -no-del: a pull may not remove the server's files.
    let ro = flags(Mode::ReadOnly);
    assert_eq!(
        refused(&ro, &format!("{PULL} --remove-source-files . d")),
        "option --remove-source-files has been disabled on this server."
    );
}

#[test]
fn no_overwrite() {
    let mut f = flags(Mode::WriteOnly);
    f.no_overwrite = true;
    for (opt, name) in [
        ("--inplace", "--inplace"),
        ("-b", "-b"),
        ("-vb", "-b"),
        ("--backup", "--backup"),
        ("--backup-dir=b", "--backup-dir"),
        ("--partial-dir=.p", "--partial-dir"),
        ("--delay-updates", "--delay-updates"),
    ] {
        assert_eq!(
            refused(&f, &format!("{PUSH} {opt} . d")),
            format!("option {name} has been disabled on this server.")
        );
    }
    // An append changes an existing file: refused however it is spelled
    // (a client asks for --append-verify with --append twice).
    for opt in ["--append", "--append-verify", "--append --append"] {
        assert_eq!(
            refused(&f, &format!("{PUSH} {opt} . d")),
            "option --append has been disabled on this server."
        );
    }
    let p = recv(&f, &format!("{PUSH} --partial . d"));
    assert!(p.options().ignore_existing && !p.may_overwrite() && p.may_delete());
    assert!(recv(&flags(Mode::WriteOnly), &format!("{PUSH} --inplace . d")).may_overwrite());
}

#[test]
fn append_is_allowed_without_no_overwrite() {
    for mode in [Mode::ReadWrite, Mode::WriteOnly] {
        for opt in ["--append", "--append --append", "--append-verify"] {
            let p = recv(&flags(mode), &format!("{PUSH} {opt} . d"));
            assert!(p.options().append > 0 && p.may_overwrite());
        }
    }
    for mode in [Mode::ReadWrite, Mode::ReadOnly] {
        assert!(
            send(&flags(mode), &format!("{PULL} --append . d"))
                .options()
                .append
                > 0
        );
    }
}

#[test]
fn munge_is_forced() {
    let mut f = flags(Mode::ReadWrite);
    f.munge = true;
    assert!(recv(&f, &format!("{PUSH} . d")).munge_links());
    assert!(send(&f, &format!("{PULL} . d")).munge_links());
    assert!(!recv(&flags(Mode::ReadWrite), &format!("{PUSH} . d")).munge_links());
    assert!(recv(
        &flags(Mode::ReadWrite),
        &format!("{PUSH} --munge-links . d")
    )
    .munge_links());
}

#[test]
fn files_from() {
    let wo = flags(Mode::WriteOnly);
    assert_eq!(
        refused(&wo, &format!("{PUSH} --files-from=list . d")),
        "a write-only server cannot read a remote --files-from path"
    );
    assert_eq!(
        recv(&wo, &format!("{PUSH} --files-from=- --from0 . d"))
            .options()
            .files_from
            .as_deref(),
        Some("-")
    );
    let ro = flags(Mode::ReadOnly);
    let p = send(&ro, &format!("{PULL} --files-from /lists//a.txt . d"));
    assert_eq!(p.options().files_from.as_deref(), Some("lists/a.txt"));
    assert_eq!(
        refused(&ro, &format!("{PULL} --files-from=../x . d")),
        "do not use .. in --files-from (anchor the path at the root of your restricted dir)"
    );
}

#[test]
fn paths_are_normalized() {
    let rw = flags(Mode::ReadWrite);
    let p = send(&rw, &format!(r"{PULL} . /etc/passwd ./a//b/ / a/./b a\ b"));
    assert_eq!(p.paths(), ["etc/passwd", "a/b/", ".", "a/./b", "a b"]);
    let msg = refused(&rw, &format!("{PULL} . ok ../../etc/shadow"));
    assert_eq!(
        msg,
        "do not use .. in arg (anchor the path at the root of your restricted dir)"
    );
    refused(&rw, &format!("{PUSH} . a/../../b"));
    assert!(send(&rw, &format!("{PULL} .")).paths().is_empty());
}

#[test]
fn option_dirs_are_normalized() {
    let rw = flags(Mode::ReadWrite);
    let p = recv(
        &rw,
        &format!(
            "{PUSH} --backup-dir /bak//x --temp-dir ./tmp --partial-dir .rsync-partial \
                                 --link-dest=/prev --compare-dest c/ . d"
        ),
    );
    let o = p.options();
    // A receiver's directory options are relative to the destination
    // (as in stock rsync), or to the root with a leading `/`.
    assert_eq!(o.backup_dir.as_deref(), Some("bak/x"));
    assert_eq!(o.temp_dir.as_deref(), Some("d/tmp"));
    assert_eq!(o.partial_dir.as_deref(), Some(".rsync-partial"));
    let dests: Vec<&str> = o.alt_dest.iter().map(|(_, d)| d.as_str()).collect();
    assert_eq!(dests, ["prev", "d/c"]);
    // `..` may climb out of the destination but never out of the root.
    let p = recv(
        &rw,
        &format!("{PUSH} --link-dest=../prev --backup-dir=../b . d/today"),
    );
    let dests: Vec<&str> = p
        .options()
        .alt_dest
        .iter()
        .map(|(_, d)| d.as_str())
        .collect();
    assert_eq!(dests, ["d/prev"]);
    assert_eq!(p.options().backup_dir.as_deref(), Some("d/b"));
    for opt in [
        "--backup-dir=../../b",
        "--temp-dir=/x/../..",
        "--link-dest=../../prev",
        "--copy-dest=a/../../../b",
    ] {
        let msg = refused(&rw, &format!("{PUSH} {opt} . d"));
        assert!(
            msg.ends_with("points outside the restricted directory"),
            "{msg}"
        );
    }
    let msg = refused(&rw, &format!("{PUSH} --partial-dir=../p . d"));
    assert!(msg.starts_with("do not use .. in --"), "{msg}");
}

#[test]
fn error_texts_are_one_line_and_short() {
    let rw = flags(Mode::ReadWrite);
    let long = "../".repeat(2000);
    let msg = refused(&rw, &format!("{PULL} . {long}"));
    assert!(msg.len() < 160 && !msg.contains('\n'), "{msg}");
    assert_eq!(crate::error::exit_code(PolicyError::SendFromWriteOnly), 1);
    assert_eq!(
        crate::error::exit_code(PolicyError::Refused("--daemon".into())),
        1
    );
}

#[test]
fn secluded_options_are_checked_after_completion() {
    let rw = flags(Mode::ReadWrite);
    let first = args(&format!("{PUSH} -s"));
    let words: Vec<String> = ["--debug=ALL", ".", "d"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let full = crate::cli::complete_secluded(first, &words).unwrap();
    assert_eq!(
        authorize(&rw, full).unwrap_err(),
        PolicyError::Refused("--debug".into())
    );
}

#[test]
fn log_file_where_rrsync_allows_it() {
    let rw = flags(Mode::ReadWrite);
    let wo = flags(Mode::WriteOnly);
    // Anchored beneath the root, as rrsync's type-3 paths are.
    let p = recv(&rw, &format!("{PUSH} --log-file=/logs//x.log . d"));
    assert_eq!(p.options().log_file.as_deref(), Some("logs/x.log"));
    let s = auth(&rw, &format!("{PULL} --log-file=./x.log . d")).unwrap();
    assert_eq!(s.log_file().map(|(p, _)| p), Some("x.log"));
    assert!(matches!(s, Grant::Send(_)));
    let s = auth(&wo, &format!("{PUSH} --log-file=x.log . d")).unwrap();
    assert_eq!(s.log_file().map(|(p, _)| p), Some("x.log"));
    let s = auth(&rw, &format!("{PUSH} . d")).unwrap();
    assert!(s.log_file().is_none());
    assert_eq!(
        refused(&rw, &format!("{PUSH} --log-file=../x . d")),
        "do not use .. in --log-file (anchor the path at the root of your restricted dir)"
    );
    // A key that never writes, or never changes an existing file.
    let ro = flags(Mode::ReadOnly);
    let mut no_ow = flags(Mode::ReadWrite);
    no_ow.no_overwrite = true;
    for (f, cmd) in [(&ro, PULL), (&no_ow, PUSH), (&no_ow, PULL)] {
        assert_eq!(
            refused(f, &format!("{cmd} --log-file=x . d")),
            "option --log-file has been disabled on this server."
        );
    }
}

#[test]
fn mode_default_is_read_write() {
    assert_eq!(Mode::default(), Mode::ReadWrite);
}

#[test]
fn block_sums_follow_wo_and_blind() {
    let cmd = format!("{PUSH} . dir/");
    assert_eq!(
        recv(&flags(Mode::ReadWrite), &cmd).block_sums(),
        BlockSums::AsAsked
    );
    assert_eq!(
        recv(&flags(Mode::WriteOnly), &cmd).block_sums(),
        BlockSums::Coarse
    );
    for mode in [Mode::ReadWrite, Mode::WriteOnly] {
        let f = WrapperFlags {
            blind: true,
            ..flags(mode)
        };
        assert_eq!(recv(&f, &cmd).block_sums(), BlockSums::Blind);
    }
}

#[test]
fn batch_options_are_refused_up_front() {
    for mode in [Mode::ReadWrite, Mode::WriteOnly, Mode::ReadOnly] {
        let f = flags(mode);
        let base = if mode == Mode::ReadOnly { PULL } else { PUSH };
        for (opt, name) in [
            ("--only-write-batch=b", "--only-write-batch"),
            ("--write-batch=b", "--write-batch"),
            ("--read-batch", "--read-batch"),
        ] {
            let cmd = if opt == "--read-batch" {
                format!("{base} {opt} b . d")
            } else {
                format!("{base} {opt} . d")
            };
            assert_eq!(
                refused(&f, &cmd),
                format!("option {name} has been disabled on this server.")
            );
        }
    }
}
