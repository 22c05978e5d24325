//! What each server option does to [`Options`], after the `case` arms and
//! `POPT_ARG_VAL` entries of rsync's `options.c parse_arguments()`
//! (rsync 3.5.0; the same options exist back to protocol 27 clients).

use super::numbers::{parse_int, parse_size};
use super::opt_table::Opt;
use super::options::{AltDest, Options};
use super::{snippet, CliError};

/// Longest path-like option value accepted (rsync's own buffers are
/// MAXPATHLEN, 1024 or 4096).
const MAX_PATH_VALUE: usize = 4096;
/// Longest other string value.
const MAX_TEXT_VALUE: usize = 1024;
/// Longest checksum/compression name list.
const MAX_NAME_VALUE: usize = 64;
/// Largest `--max-alloc` we accept (anything bigger is not a sane cap).
const MAX_ALLOC_LIMIT: u64 = 16 << 30;
/// Smallest `--max-alloc` rsync accepts.
const MIN_ALLOC: u64 = 1 << 20;
/// `MAX_BLOCK_SIZE` for protocol 30 and later.
const MAX_BLOCK_SIZE: u64 = 1 << 17;

/// Applies one option (with its value, for options that take one).
pub(crate) fn apply(opt: Opt, value: Option<&str>, o: &mut Options) -> Result<(), CliError> {
    if opt.takes_value() {
        let v = value.ok_or(CliError::MissingValue(opt.name()))?;
        apply_valued(opt, v, o)
    } else {
        apply_flag(opt, o);
        Ok(())
    }
}

fn inc(n: &mut u8) {
    *n = n.saturating_add(1);
}

fn apply_flag(opt: Opt, o: &mut Options) {
    use Opt::*;
    match opt {
        Server => o.server = true,
        Sender => o.sender = true,
        Secluded => o.secluded = true,
        Verbose => inc(&mut o.verbose),
        NoVerbose => o.verbose = 0,
        Quiet => o.quiet = true,
        Backup => o.backup = true,
        NoBackup => o.backup = false,
        Update => o.update = true,
        DryRun => o.dry_run = true,
        Links => o.links = true,
        NoLinks => o.links = false,
        Dirs => o.dirs = true,
        NoDirs => o.dirs = false,
        KeepDirlinks => o.keep_dirlinks = true,
        CopyDirlinks => o.copy_dirlinks = true,
        CopyLinks => o.copy_links = true,
        CopyUnsafeLinks => o.copy_unsafe_links = true,
        SafeLinks => o.safe_links = true,
        MungeLinks => o.munge_links = true,
        NoMungeLinks => {
            o.munge_links = false;
            o.no_munge_links = true;
        }
        PruneEmptyDirs => o.prune_empty_dirs = true,
        NoPruneEmptyDirs => o.prune_empty_dirs = false,
        OmitDirTimes => o.omit_dir_times = true,
        NoOmitDirTimes => o.omit_dir_times = false,
        OmitLinkTimes => o.omit_link_times = true,
        NoOmitLinkTimes => o.omit_link_times = false,
        Fuzzy => inc(&mut o.fuzzy),
        NoFuzzy => o.fuzzy = 0,
        WholeFile => o.whole_file = Some(true),
        NoWholeFile => o.whole_file = Some(false),
        HardLinks => inc(&mut o.hard_links),
        NoHardLinks => o.hard_links = 0,
        Owner => o.owner = true,
        NoOwner => o.owner = false,
        Group => o.group = true,
        NoGroup => o.group = false,
        DevSpecials => {
            o.devices = true;
            o.specials = true;
        }
        NoDevSpecials => {
            o.devices = false;
            o.specials = false;
        }
        Devices => o.devices = true,
        NoDevices => o.devices = false,
        Specials => o.specials = true,
        NoSpecials => o.specials = false,
        Times => o.times = true,
        NoTimes => o.times = false,
        Atimes => inc(&mut o.atimes),
        NoAtimes => o.atimes = 0,
        Crtimes => o.crtimes = true,
        NoCrtimes => o.crtimes = false,
        Perms => o.perms = true,
        NoPerms => o.perms = false,
        Executability => o.executability = true,
        Acls => o.acls = true,
        NoAcls => o.acls = false,
        Xattrs => inc(&mut o.xattrs),
        NoXattrs => o.xattrs = 0,
        Recursive => o.recursive = true,
        NoRecursive => o.recursive = false,
        Checksum => o.checksum = true,
        NoChecksum => o.checksum = false,
        CvsExclude => o.cvs_exclude = true,
        IgnoreTimes => o.ignore_times = true,
        Relative => o.relative = true,
        NoRelative => o.relative = false,
        ImpliedDirs => o.implied_dirs = true,
        NoImpliedDirs => o.implied_dirs = false,
        OneFileSystem => inc(&mut o.one_file_system),
        NoOneFileSystem => o.one_file_system = 0,
        Sparse => o.sparse = true,
        NoSparse => o.sparse = false,
        Compress => inc(&mut o.compress),
        NoCompress => {
            o.compress = 0;
            o.new_compress = false;
            o.old_compress = false;
            o.compress_choice = None;
        }
        NewCompress => {
            o.new_compress = true;
            o.old_compress = false;
        }
        OldCompress => {
            o.old_compress = true;
            o.new_compress = false;
        }
        ListOnly => o.list_only = true,
        Delete => o.delete = true,
        DeleteBefore => o.delete_before = true,
        // --del, --delete-during and --delete-delay share one rsync
        // variable, so the last one wins.
        DeleteDuring => {
            o.delete_during = true;
            o.delete_delay = false;
        }
        DeleteDelay => {
            o.delete_delay = true;
            o.delete_during = false;
        }
        DeleteAfter => o.delete_after = true,
        DeleteExcluded => o.delete_excluded = true,
        DeleteMissingArgs => o.delete_missing_args = true,
        IgnoreMissingArgs => o.ignore_missing_args = true,
        Force => o.force = true,
        NoForce => o.force = false,
        SizeOnly => o.size_only = true,
        Stats => o.stats = true,
        Super => o.super_ = true,
        NoSuper => {
            o.super_ = false;
            o.fake_super = false;
        }
        FakeSuper => o.fake_super = true,
        IgnoreErrors => o.ignore_errors = true,
        NoIgnoreErrors => o.ignore_errors = false,
        NumericIds => o.numeric_ids = true,
        NoNumericIds => o.numeric_ids = false,
        UseQsort => o.use_qsort = true,
        IgnoreExisting => o.ignore_existing = true,
        Existing => o.existing = true,
        Fsync => o.fsync = true,
        Append => inc(&mut o.append),
        AppendVerify => o.append = 2,
        NoAppend => o.append = 0,
        Inplace => o.inplace = true,
        NoInplace => o.inplace = false,
        Partial => o.partial = true,
        NoPartial => o.partial = false,
        DelayUpdates => o.delay_updates = true,
        NoDelayUpdates => o.delay_updates = false,
        From0 => o.from0 = true,
        NoFrom0 => o.from0 = false,
        RemoveSourceFiles => o.remove_source_files = true,
        WriteDevices => o.write_devices = true,
        NoWriteDevices => o.write_devices = false,
        CopyDevices => o.copy_devices = true,
        Preallocate => o.preallocate = true,
        OpenNoatime => o.open_noatime = true,
        NoOpenNoatime => o.open_noatime = false,
        Mkpath => o.mkpath = true,
        NoMkpath => o.mkpath = false,
        Msgs2stderr => o.msgs2stderr = Some(true),
        NoMsgs2stderr => o.msgs2stderr = Some(false),
        Daemon => o.daemon = true,
        Progress => o.progress = true,
        NoBwlimit => o.bwlimit = None,
        NoTimeout => o.timeout = None,
        // Valued options never reach here (see `apply`).
        _ => {}
    }
}

fn bad(opt: Opt, v: &str, why: &'static str) -> CliError {
    CliError::BadValue {
        opt: opt.name(),
        value: snippet(v),
        why,
    }
}

/// A non-empty string of at most `max` bytes.
fn text(opt: Opt, v: &str, max: usize) -> Result<String, CliError> {
    if v.is_empty() {
        return Err(bad(opt, v, "empty"));
    }
    if v.len() > max {
        return Err(bad(opt, v, "too long"));
    }
    Ok(v.to_owned())
}

/// A checksum or compression name list: `[A-Za-z0-9_,+-]`.
fn names(opt: Opt, v: &str) -> Result<String, CliError> {
    let ok = v
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_,+-".contains(&b));
    if !ok {
        return Err(bad(opt, v, "not a list of names"));
    }
    text(opt, v, MAX_NAME_VALUE)
}

fn i32_in(opt: Opt, v: &str, min: i32, max: i32) -> Result<i32, CliError> {
    let n = parse_int(opt.name(), v, min.into(), max.into())?;
    i32::try_from(n).map_err(|_| bad(opt, v, "out of range"))
}

fn u32_in(opt: Opt, v: &str, max: u32) -> Result<u32, CliError> {
    let n = parse_int(opt.name(), v, 0, max.into())?;
    u32::try_from(n).map_err(|_| bad(opt, v, "out of range"))
}

fn u32_of(opt: Opt, v: &str, n: u64) -> Result<u32, CliError> {
    u32::try_from(n).map_err(|_| bad(opt, v, "out of range"))
}

fn apply_valued(opt: Opt, v: &str, o: &mut Options) -> Result<(), CliError> {
    use Opt::*;
    let i32_max = i32::MAX.unsigned_abs();
    match opt {
        Capabilities => parse_capabilities(v, o)?,
        BlockSize => {
            let n = parse_size(opt.name(), v, b'b')?;
            if n > MAX_BLOCK_SIZE {
                return Err(bad(opt, v, "larger than 128 KiB"));
            }
            o.block_size = (n != 0).then(|| u32_of(opt, v, n)).transpose()?;
        }
        ModifyWindow => o.modify_window = Some(i32_in(opt, v, i32::MIN, i32::MAX)?),
        TempDir => o.temp_dir = Some(text(opt, v, MAX_PATH_VALUE)?),
        CompressLevel => o.compress_level = Some(i32_in(opt, v, -131_072, 22)?),
        CompressThreads => o.compress_threads = Some(u32_in(opt, v, 256)?),
        CompressChoice => o.compress_choice = Some(names(opt, v)?),
        SkipCompress => o.skip_compress = Some(text(opt, v, MAX_TEXT_VALUE)?),
        ChecksumChoice => o.checksum_choice = Some(names(opt, v)?),
        LogFormat => o.log_format = Some(text(opt, v, MAX_TEXT_VALUE)?),
        Timeout => {
            let n = u32_in(opt, v, i32_max)?;
            o.timeout = (n != 0).then_some(n);
        }
        Bwlimit => {
            let n = parse_size(opt.name(), v, b'K')?;
            if n != 0 && n < 512 {
                return Err(bad(opt, v, "smaller than 512 bytes"));
            }
            let kib = u32_of(opt, v, n.saturating_add(512) / 1024)?;
            o.bwlimit = (kib != 0).then_some(kib);
        }
        BackupDir => o.backup_dir = Some(text(opt, v, MAX_PATH_VALUE)?),
        Suffix => {
            if v.len() > MAX_TEXT_VALUE {
                return Err(bad(opt, v, "too long"));
            }
            o.suffix = Some(v.to_owned());
        }
        MaxDelete => o.max_delete = Some(i64::from(i32_in(opt, v, i32::MIN, i32::MAX)?.max(0))),
        MinSize => o.min_size = Some(parse_size(opt.name(), v, b'b')?),
        MaxSize => o.max_size = Some(parse_size(opt.name(), v, b'b')?),
        MaxAlloc => {
            let n = parse_size(opt.name(), v, b'B')?;
            if n == 0 {
                return Err(bad(opt, v, "must be greater than zero"));
            }
            if !(MIN_ALLOC..=MAX_ALLOC_LIMIT).contains(&n) {
                return Err(bad(opt, v, "must be between 1 MiB and 16 GiB"));
            }
            o.max_alloc = Some(n);
        }
        ChecksumSeed => {
            // The seed travels as an int32; accept signed or unsigned text.
            let n = parse_int(opt.name(), v, i32::MIN.into(), u32::MAX.into())?;
            let seed = match i32::try_from(n) {
                Ok(signed) if signed < 0 => signed.cast_unsigned(),
                _ => u32::try_from(n).map_err(|_| bad(opt, v, "out of range"))?,
            };
            o.checksum_seed = (seed != 0).then_some(seed);
        }
        PartialDir => o.partial_dir = Some(text(opt, v, MAX_PATH_VALUE)?),
        Usermap => o.usermap = Some(text(opt, v, MAX_TEXT_VALUE)?),
        Groupmap => o.groupmap = Some(text(opt, v, MAX_TEXT_VALUE)?),
        CompareDest => o
            .alt_dest
            .push((AltDest::Compare, text(opt, v, MAX_PATH_VALUE)?)),
        CopyDest => o
            .alt_dest
            .push((AltDest::Copy, text(opt, v, MAX_PATH_VALUE)?)),
        LinkDest => o
            .alt_dest
            .push((AltDest::Link, text(opt, v, MAX_PATH_VALUE)?)),
        Info => o.info = Some(text(opt, v, MAX_TEXT_VALUE)?),
        Debug => o.debug = Some(text(opt, v, MAX_TEXT_VALUE)?),
        Stderr => parse_stderr(v, o)?,
        FilesFrom => o.files_from = Some(text(opt, v, MAX_PATH_VALUE)?),
        Iconv => o.iconv = Some(text(opt, v, MAX_TEXT_VALUE)?),
        LogFile => o.log_file = Some(text(opt, v, MAX_PATH_VALUE)?),
        OnlyWriteBatch => {
            o.only_write_batch = Some(text(opt, v, MAX_PATH_VALUE)?);
            // main.c: "if (write_batch < 0) dry_run = 1;"
            o.dry_run = true;
        }
        WriteBatch | ReadBatch => {
            text(opt, v, MAX_PATH_VALUE)?;
            o.batch = Some(opt.name());
        }
        StopAfter => o.stop_after = Some(u32_in(opt, v, i32_max)?),
        StopAt => o.stop_at = Some(text(opt, v, MAX_TEXT_VALUE)?),
        // Flags never reach here (see `apply`).
        _ => {}
    }
    Ok(())
}

/// The `-e` blob of `maybe_add_e_option()`: `[VER.SUB]` or `.`, then the
/// capability letters (rrsync accepts `\d*\.\w*`).
fn parse_capabilities(v: &str, o: &mut Options) -> Result<(), CliError> {
    let opt = Opt::Capabilities;
    if v.len() > MAX_NAME_VALUE {
        return Err(bad(opt, v, "too long"));
    }
    let (ver, rest) = v
        .split_once('.')
        .ok_or_else(|| bad(opt, v, "not a capability string"))?;
    let word_chars = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !ver.bytes().all(|b| b.is_ascii_digit()) || !word_chars(rest) {
        return Err(bad(opt, v, "not a capability string"));
    }
    let mut letters = rest;
    o.client_prerelease = None;
    if !ver.is_empty() {
        let sub_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (sub, tail) = rest.split_at(sub_len);
        let ver: u32 = ver.parse().map_err(|_| bad(opt, v, "bad version"))?;
        let sub: u32 = if sub.is_empty() {
            0
        } else {
            sub.parse().map_err(|_| bad(opt, v, "bad version"))?
        };
        o.client_prerelease = Some((ver, sub));
        letters = tail;
    }
    o.capabilities = Some(letters.to_owned());
    Ok(())
}

/// `--stderr=errors|all|client` (any non-empty prefix, as rsync allows).
fn parse_stderr(v: &str, o: &mut Options) -> Result<(), CliError> {
    let mode = ["errors", "all", "client"]
        .into_iter()
        .find(|m| !v.is_empty() && m.starts_with(v))
        .ok_or_else(|| bad(Opt::Stderr, v, "not one of errors, all, client"))?;
    o.msgs2stderr = match mode {
        "all" => Some(true),
        "client" => Some(false),
        _ => None,
    };
    o.stderr_mode = Some(mode.to_owned());
    Ok(())
}
