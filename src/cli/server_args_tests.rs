//! Tests for `server_args`: byte-exact command lines from rsync 3.5.0 and
//! openrsync, every option `server_options()` can emit, and rejections.

use super::*;

fn parse(cmd: &str) -> Result<ServerArgs, CliError> {
    match parse_original_command(cmd)? {
        Request::Rsync(a) => Ok(a),
        Request::True => panic!("unexpected true"),
    }
}

fn ok(cmd: &str) -> ServerArgs {
    parse(cmd).unwrap_or_else(|e| panic!("{cmd}: {e}"))
}

fn opts(cmd: &str) -> Options {
    ok(cmd).options
}

#[test]
fn stock_pull_av() {
    let a = ok("rsync --server --sender -vlogDtpre.iLsfxCIvu . dir/");
    assert!(a.sender && a.options.sender && a.options.server);
    let o = &a.options;
    assert_eq!(o.verbose, 1);
    assert!(o.links && o.owner && o.group && o.devices && o.specials);
    assert!(o.times && o.perms && o.recursive);
    assert_eq!(o.capabilities.as_deref(), Some("iLsfxCIvu"));
    assert_eq!(o.client_prerelease, None);
    assert!(o.compress == 0 && !o.relative && o.implied_dirs);
    assert_eq!(a.paths, ["dir/"]);
}

#[test]
fn stock_push_av() {
    let a = ok("rsync --server -vlogDtpre.iLsfxCIvu . dir/");
    assert!(!a.sender && !a.options.sender);
    assert_eq!(a.paths, ["dir/"]);
}

#[test]
fn stock_push_avz_partial() {
    let o = opts("rsync --server -vlogDtprze.iLsfxCIvu --partial . dir/");
    assert_eq!(o.compress, 1);
    assert!(o.partial);
}

#[test]
fn stock_files_from_pull() {
    let a = ok("rsync --server --sender -vlogDtpRe.LsfxCIvu --files-from=- --from0 . dir/");
    assert!(a.options.relative && a.options.from0);
    assert_eq!(a.options.files_from.as_deref(), Some("-"));
    assert_eq!(a.options.capabilities.as_deref(), Some("LsfxCIvu"));
}

#[test]
fn stock_choices() {
    assert_eq!(
        opts("rsync --server -vlogDtpre.iLsfxCIvu --compress-choice=zstd . d")
            .compress_choice
            .as_deref(),
        Some("zstd")
    );
    assert!(opts("rsync --server -vlogDtpre.iLsfxCIvu --new-compress . d").new_compress);
    assert!(opts("rsync --server -vlogDtpre.iLsfxCIvu --old-compress . d").old_compress);
    assert_eq!(
        opts("rsync --server -vlogDtpre.iLsfxCIvu --checksum-choice=md5 . d")
            .checksum_choice
            .as_deref(),
        Some("md5")
    );
    assert_eq!(
        opts("rsync --server -e.iLsfxCIvu --checksum-choice=xxh128,md5 . d")
            .checksum_choice
            .as_deref(),
        Some("xxh128,md5")
    );
}

#[test]
fn protocol_29_has_no_e() {
    let o = opts("rsync --server -vlogDtpr . dir/");
    assert_eq!(o.capabilities, None);
    let o2 = opts("rsync --server --sender -vlogDtpre.LsfxCIvu . dir/");
    assert!(!o2.capabilities.unwrap().contains('i'));
}

#[test]
fn prerelease_capability_blob() {
    let o = opts("rsync --server -vlogDtpre32.1iLsfxCIvu . d");
    assert_eq!(o.client_prerelease, Some((32, 1)));
    assert_eq!(o.capabilities.as_deref(), Some("iLsfxCIvu"));
    assert_eq!(
        opts("rsync --server -e. . d").capabilities.as_deref(),
        Some("")
    );
}

#[test]
fn bad_capability_blobs() {
    for cmd in [
        "rsync --server -vlogDtpre . d",
        "rsync --server -vlogDtpre iLsfx . d",
        "rsync --server -eiLsfx . d",
        "rsync --server -e.iL/sfx . d",
        "rsync --server -ex.y . d",
    ] {
        assert!(parse(cmd).is_err(), "{cmd}");
    }
}

#[test]
fn verbose_and_counted_letters() {
    assert_eq!(opts("rsync --server -vvlogDtprze.iLsfxCIvu . d").verbose, 2);
    let o = opts("rsync --server --sender -vvvHHxxUUXXyyzz . d");
    assert_eq!((o.verbose, o.hard_links, o.one_file_system), (3, 2, 2));
    assert_eq!((o.atimes, o.xattrs, o.fuzzy, o.compress), (2, 2, 2, 2));
    assert_eq!(opts("rsync --server --append --append . d").append, 2);
    assert_eq!(opts("rsync --server --append-verify . d").append, 2);
}

#[test]
fn secluded_command_line_and_stdin() {
    let first = ok("rsync --server --sender -svlogDtpre.iLsfxCIvu");
    assert!(first.options.secluded && first.sender && first.paths.is_empty());
    let stdin: &[u8] = b"rsync\0--partial\0--timeout\x0030\0.\0dir with space/\0-odd\0\0";
    let (words, _) = decode_secluded_args(stdin).unwrap();
    let full = complete_secluded(first, &words).unwrap();
    assert!(full.sender && full.options.partial && full.options.recursive);
    assert_eq!(full.options.timeout, Some(30));
    assert_eq!(full.paths, ["dir with space/", "-odd"]);
}

#[test]
fn secluded_misuse() {
    let first = ok("rsync --server -se.iLsfxCIvu");
    let sneaky = vec!["--sender".to_owned(), ".".to_owned(), "x".to_owned()];
    assert_eq!(
        complete_secluded(first.clone(), &sneaky),
        Err(CliError::Misplaced("--sender"))
    );
    let no_dot = vec!["--partial".to_owned()];
    assert_eq!(complete_secluded(first, &no_dot), Err(CliError::MissingDot));
    assert_eq!(
        parse("rsync --server -se.iLsfxCIvu . x"),
        Err(CliError::SecludedPathsOnCommandLine)
    );
    let plain = ok("rsync --server -e.iLsfxCIvu . x");
    assert!(complete_secluded(plain, &[]).is_err());
}

#[test]
fn escaped_path() {
    assert_eq!(
        ok(r"rsync --server --sender -vlogDtpre.iLsfxCIvu . a\ b").paths,
        ["a b"]
    );
    assert_eq!(
        ok(r"rsync --server --sender -r . a\\b c\$d").paths,
        [r"a\b", "c$d"]
    );
}

#[test]
fn openrsync_shapes() {
    let a = ok("rsync --server --sender -l -p -r -t . dir");
    assert!(
        a.sender && a.options.links && a.options.perms && a.options.recursive && a.options.times
    );
    assert_eq!(a.options.capabilities, None);
    let o = opts(
        "rsync --server --delete --numeric-ids -g -l -n -o -p -D -r -t -v -v -x -x --specials \
               --no-specials . dst",
    );
    assert!(o.delete && o.numeric_ids && o.dry_run && o.devices && !o.specials);
    assert_eq!((o.verbose, o.one_file_system), (2, 2));
    let o = opts("rsync --server --delete-before --delete-excluded --inplace -S -H -u --progress --backup \
                      --ignore-existing --ignore-non-existing --max-size=1000 --min-size=10 --relative --dirs \
                      --delay-updates -L -k --ignore-times --compare-dest=/base . dst");
    assert!(o.delete && o.delete_before && o.delete_excluded && o.inplace && o.sparse && o.update);
    assert!(o.progress && o.backup && o.ignore_existing && o.existing && o.relative && o.dirs);
    assert!(o.delay_updates && o.copy_links && o.copy_dirlinks && o.ignore_times);
    assert_eq!((o.max_size, o.min_size), (Some(1000), Some(10)));
    assert_eq!(o.alt_dest, [(AltDest::Compare, "/base".to_owned())]);
}

#[test]
fn values_as_next_word() {
    let o = opts("rsync --server -vlogDtpre.iLsfxCIvu --backup-dir bak --partial-dir .p --temp-dir /t \
               --compare-dest c1 --copy-dest c2 --link-dest ../l --files-from list --suffix .old -B 2048 -T t2 . d");
    assert_eq!(o.backup_dir.as_deref(), Some("bak"));
    assert!(o.backup);
    assert_eq!(o.partial_dir.as_deref(), Some(".p"));
    assert_eq!(o.temp_dir.as_deref(), Some("t2"));
    assert_eq!(o.files_from.as_deref(), Some("list"));
    assert_eq!(o.suffix.as_deref(), Some(".old"));
    assert_eq!(o.block_size, Some(2048));
    let names: Vec<_> = o
        .alt_dest
        .iter()
        .map(|(k, v)| (k.option_name(), v.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("--compare-dest", "c1"),
            ("--copy-dest", "c2"),
            ("--link-dest", "../l")
        ]
    );
}

#[test]
fn escaped_option_value() {
    assert_eq!(
        opts(r"rsync --server -r --backup-dir=old\ files . d")
            .backup_dir
            .as_deref(),
        Some("old files")
    );
    assert_eq!(
        opts(r"rsync --server -r --backup-dir old\ files . d")
            .backup_dir
            .as_deref(),
        Some("old files")
    );
}

#[test]
fn negations() {
    let o = opts("rsync --server --sender -dlogDtpre.iLsfxCIvu --no-r --no-W --no-relative --no-implied-dirs \
               --no-specials --no-msgs2stderr . d");
    assert!(o.dirs && !o.recursive && !o.relative && !o.implied_dirs && o.devices && !o.specials);
    assert_eq!(o.whole_file, Some(false));
    assert_eq!(o.msgs2stderr, Some(false));
    let o = opts("rsync --server -W --msgs2stderr --specials --no-D . d");
    assert_eq!(o.whole_file, Some(true));
    assert_eq!(o.msgs2stderr, Some(true));
    assert!(!o.devices && !o.specials);
}

/// One line with every option rsync 3.5.0's server_options() can emit.
#[test]
fn every_server_options_emission() {
    let cmd =
        "rsync --server --sender -svqbunldKmOJyyLkWHHogDtUUNpEAXXrcCIRxxSze.iLsfxCIvu --iconv=utf8";
    let first = ok(cmd);
    let rest = "--list-only --no-r --compress-level=3 --no-specials --log-format=%i%I --msgs2stderr -B1024 \
                --timeout=60 --bwlimit=100 --backup-dir bak --suffix=~x --checksum-choice=xxh3 \
                --compress-choice=lz4 --max-delete=-1 --min-size=1K --max-size=2M --delete-delay \
                --delete-excluded --force --only-write-batch=X --super --size-only --stats --skip-compress=gz/zip \
                --max-alloc=2G --delete-missing-args --ignore-missing-args -@-1 --modify-window=2 \
                --checksum-seed=7 --partial-dir .p --delay-updates --partial --ignore-errors --copy-unsafe-links \
                --safe-links --numeric-ids --use-qsort --usermap=0:1 --groupmap=0:1 --ignore-existing --existing \
                --temp-dir tmp --fsync --link-dest L --info=progress2 --append --append --inplace --no-W \
                --files-from list --from0 --no-relative --no-implied-dirs --write-devices --remove-source-files \
                --remove-sent-files --copy-devices --preallocate --open-noatime --mkpath . a b";
    let words: Vec<String> = rest
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    let a = complete_secluded(first, &words).unwrap();
    let o = &a.options;
    assert!(o.secluded && o.quiet && o.backup && o.update && o.dry_run && o.links && o.dirs);
    assert!(o.keep_dirlinks && o.prune_empty_dirs && o.omit_dir_times && o.omit_link_times);
    assert!(o.copy_links && o.copy_dirlinks && o.owner && o.group && o.devices && !o.specials);
    assert!(o.times && o.crtimes && o.perms && o.executability && o.acls && !o.recursive);
    assert!(
        o.checksum && o.cvs_exclude && o.ignore_times && !o.relative && o.sparse && !o.implied_dirs
    );
    assert_eq!(
        (
            o.verbose,
            o.fuzzy,
            o.hard_links,
            o.atimes,
            o.xattrs,
            o.one_file_system,
            o.compress
        ),
        (1, 2, 2, 2, 2, 2, 1)
    );
    assert_eq!(o.iconv.as_deref(), Some("utf8"));
    assert!(o.list_only);
    assert_eq!(o.compress_level, Some(3));
    assert_eq!(o.log_format.as_deref(), Some("%i%I"));
    assert_eq!(o.msgs2stderr, Some(true));
    assert_eq!(
        (o.block_size, o.timeout, o.bwlimit),
        (Some(1024), Some(60), Some(100))
    );
    assert_eq!(o.backup_dir.as_deref(), Some("bak"));
    assert_eq!(o.suffix.as_deref(), Some("~x"));
    assert_eq!(o.checksum_choice.as_deref(), Some("xxh3"));
    assert_eq!(o.compress_choice.as_deref(), Some("lz4"));
    assert_eq!(o.max_delete, Some(0));
    assert_eq!((o.min_size, o.max_size), (Some(1024), Some(2 << 20)));
    assert!(
        o.delete
            && o.delete_delay
            && o.delete_excluded
            && o.force
            && o.super_
            && o.size_only
            && o.stats
    );
    assert_eq!(o.only_write_batch.as_deref(), Some("X"));
    assert_eq!(o.skip_compress.as_deref(), Some("gz/zip"));
    assert_eq!(o.max_alloc, Some(2 << 30));
    assert!(o.delete_missing_args && o.ignore_missing_args);
    assert_eq!(o.modify_window, Some(2));
    assert_eq!(o.checksum_seed, Some(7));
    assert_eq!(o.partial_dir.as_deref(), Some(".p"));
    assert!(o.delay_updates && o.partial && o.ignore_errors && o.copy_unsafe_links && o.safe_links);
    assert!(o.numeric_ids && o.use_qsort && o.ignore_existing && o.existing && o.fsync);
    assert_eq!(
        (o.usermap.as_deref(), o.groupmap.as_deref()),
        (Some("0:1"), Some("0:1"))
    );
    assert_eq!(o.temp_dir.as_deref(), Some("tmp"));
    assert_eq!(o.alt_dest, [(AltDest::Link, "L".to_owned())]);
    assert_eq!(o.info.as_deref(), Some("progress2"));
    assert_eq!(o.append, 2);
    assert!(o.inplace && o.from0 && o.write_devices && o.remove_source_files && o.copy_devices);
    assert_eq!(o.whole_file, Some(false));
    assert_eq!(o.files_from.as_deref(), Some("list"));
    assert!(o.preallocate && o.open_noatime && o.mkpath);
    assert_eq!(a.paths, ["a", "b"]);
}

#[test]
fn numeric_ranges() {
    let bad = |cmd: &str| {
        assert!(
            matches!(parse(cmd), Err(CliError::BadValue { .. })),
            "{cmd}"
        )
    };
    bad("rsync --server -B131073 . d");
    bad("rsync --server -B1x . d");
    bad("rsync --server --timeout=-1 . d");
    bad("rsync --server --timeout=abc . d");
    bad("rsync --server --max-alloc=0 . d");
    bad("rsync --server --max-alloc=100 . d");
    bad("rsync --server --max-alloc=1T . d");
    bad("rsync --server --bwlimit=100b . d");
    bad("rsync --server --compress-level=99 . d");
    bad("rsync --server --max-delete=99999999999 . d");
    bad("rsync --server --min-size=-1 . d");
    bad("rsync --server --checksum-seed=99999999999 . d");
    bad("rsync --server --compress-choice=z;rm . d");
    bad("rsync --server --stderr=bogus . d");
    bad("rsync --server --suffix=a/b . d");
    assert_eq!(
        opts("rsync --server -B131072 . d").block_size,
        Some(131_072)
    );
    assert_eq!(opts("rsync --server -B0 . d").block_size, None);
    assert_eq!(opts("rsync --server --bwlimit=1M . d").bwlimit, Some(1024));
    assert_eq!(opts("rsync --server --bwlimit=0 . d").bwlimit, None);
    assert_eq!(opts("rsync --server --timeout=0 . d").timeout, None);
    assert_eq!(
        opts("rsync --server --max-delete=5 . d").max_delete,
        Some(5)
    );
    assert_eq!(opts("rsync --server -@-1 . d").modify_window, Some(-1));
    assert_eq!(
        opts("rsync --server --checksum-seed=-1 . d").checksum_seed,
        Some(u32::MAX)
    );
    assert_eq!(
        opts("rsync --server --checksum-seed=0 . d").checksum_seed,
        None
    );
    assert_eq!(
        opts("rsync --server --compress-level=-1 . d").compress_level,
        Some(-1)
    );
    assert_eq!(
        opts("rsync --server --stderr=c . d").stderr_mode.as_deref(),
        Some("client")
    );
}

#[test]
fn cross_option_rules() {
    assert!(matches!(
        parse("rsync --server -r --delete-before --delete-after . d"),
        Err(CliError::Conflict(_))
    ));
    assert!(matches!(
        parse("rsync --server -r --del --delete-after . d"),
        Err(CliError::Conflict(_))
    ));
    let o = opts("rsync --server -r --delete-delay --delete-during . d");
    assert!(o.delete_during && !o.delete_delay && o.delete);
    assert!(opts("rsync --server -r --delete-excluded . d").delete);
    assert!(matches!(
        parse("rsync --server -r --suffix= . d"),
        Err(CliError::Conflict(_))
    ));
    assert!(opts("rsync --server -r --suffix= --backup-dir=b . d").backup);
    assert!(opts("rsync --server --only-write-batch=x . d").dry_run);
}

#[test]
fn paths_after_dot_are_literal() {
    assert_eq!(
        ok("rsync --server --sender -r . -rf --delete .").paths,
        ["-rf", "--delete", "."]
    );
    assert!(ok("rsync --server --sender -r .").paths.is_empty());
    assert_eq!(ok("rsync --server -r -- . x").paths, ["x"]);
}

#[test]
fn rejections() {
    use CliError::*;
    let cases: &[(&str, CliError)] = &[
        (
            "rsync --server -r --exclude=x . d",
            UnknownOption("--exclude".into()),
        ),
        ("rsync --server -a . d", UnknownOption("-a".into())),
        ("rsync --server -vP . d", UnknownOption("-P".into())),
        (
            "rsync --server --rsh=ssh . d",
            UnknownOption("--rsh".into()),
        ),
        (
            "rsync --server --insecure-links . d",
            UnknownOption("--insecure-links".into()),
        ),
        (
            "rsync --server --devices-and-specials . d",
            UnknownOption("--devices-and-specials".into()),
        ),
        ("rsync --server --D . d", UnknownOption("--D".into())),
        ("rsync --server -r --sender . d", Misplaced("--sender")),
        ("rsync --server --server . d", Misplaced("--server")),
        ("rsync --server -r d", UnexpectedArgument("d".into())),
        ("rsync --server -r", MissingDot),
        ("rsync --server -r - . d", UnexpectedArgument("-".into())),
        (
            "rsync --server -r -- -v . d",
            UnexpectedArgument("-v".into()),
        ),
        ("rsync --server --links=1 . d", UnexpectedValue("--links")),
        ("rsync --server -r --timeout", MissingValue("--timeout")),
        ("rsync --server -rB", MissingValue("--block-size")),
        ("rsync --server -re", MissingValue("-e")),
        ("rsync --sender --server . d", NotServer),
        ("rsync -r --server . d", NotServer),
        ("rsync", NotServer),
    ];
    for (cmd, want) in cases {
        assert_eq!(&parse(cmd).unwrap_err(), want, "{cmd}");
    }
    // A lone `--` ends the options; the `.` must still follow.
    assert!(parse("rsync --server -- . d").is_ok());
}

#[test]
fn unknown_option_name_is_truncated() {
    let cmd = format!("rsync --server --{} . d", "x".repeat(5000));
    let msg = parse(&cmd).unwrap_err().to_string();
    assert!(msg.len() < 160, "{msg}");
}

#[test]
fn lenient_parse_reads_what_the_handshake_needs_past_bad_words() {
    let words: Vec<String> = [
        "--sender",
        "-vlogDtpre.iLsfxCIvu",
        "--bogus",
        "-zQ",
        "--checksum-choice=md5",
        "--zc",
        "zstd",
        "--checksum-seed=nope",
        ".",
        "--compress-choice=zlib",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let o = super::parse_lenient(&words);
    assert_eq!(o.capabilities.as_deref(), Some("iLsfxCIvu"));
    assert_eq!(o.compress, 1);
    assert_eq!(o.checksum_choice.as_deref(), Some("md5"));
    assert_eq!(o.compress_choice.as_deref(), Some("zstd"));
    assert_eq!(o.checksum_seed, None);
}
