//! The option table: long names and short letters a server accepts,
//! after rsync's popt table in `options.c` (`long_options[]`) restricted to
//! what `server_options()` emits, what rrsync's `cull-options` list allows
//! and what openrsync's `fargs.c` sends. Anything else is unknown.

/// One server option. The action for each is in `opt_apply`.
#[rustfmt::skip]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Opt {
    Server, Sender, Secluded, Verbose, NoVerbose, Quiet,
    Backup, NoBackup, Update, DryRun, Links, NoLinks, Dirs, NoDirs,
    KeepDirlinks, CopyDirlinks, CopyLinks, CopyUnsafeLinks, SafeLinks,
    MungeLinks, NoMungeLinks, PruneEmptyDirs, NoPruneEmptyDirs,
    OmitDirTimes, NoOmitDirTimes, OmitLinkTimes, NoOmitLinkTimes,
    Fuzzy, NoFuzzy, WholeFile, NoWholeFile, HardLinks, NoHardLinks,
    Owner, NoOwner, Group, NoGroup, DevSpecials, NoDevSpecials,
    Devices, NoDevices, Specials, NoSpecials, Times, NoTimes,
    Atimes, NoAtimes, Crtimes, NoCrtimes, Perms, NoPerms, Executability,
    Acls, NoAcls, Xattrs, NoXattrs, Recursive, NoRecursive,
    Checksum, NoChecksum, CvsExclude, IgnoreTimes, Relative, NoRelative,
    ImpliedDirs, NoImpliedDirs, OneFileSystem, NoOneFileSystem,
    Sparse, NoSparse, Compress, NoCompress, NewCompress, OldCompress,
    ListOnly, Delete, DeleteBefore, DeleteDuring, DeleteDelay, DeleteAfter,
    DeleteExcluded, DeleteMissingArgs, IgnoreMissingArgs, Force, NoForce,
    SizeOnly, Stats, Super, NoSuper, FakeSuper, IgnoreErrors, NoIgnoreErrors,
    NumericIds, NoNumericIds, UseQsort, IgnoreExisting, Existing, Fsync,
    Append, AppendVerify, NoAppend, Inplace, NoInplace, Partial, NoPartial,
    DelayUpdates, NoDelayUpdates, From0, NoFrom0, RemoveSourceFiles,
    WriteDevices, NoWriteDevices, CopyDevices, Preallocate,
    OpenNoatime, NoOpenNoatime, Mkpath, NoMkpath, Msgs2stderr, NoMsgs2stderr,
    Daemon, Progress, NoBwlimit, NoTimeout,
    // Options that take a value.
    Capabilities, BlockSize, ModifyWindow, TempDir, CompressLevel,
    CompressThreads, CompressChoice, SkipCompress, ChecksumChoice, LogFormat,
    Timeout, Bwlimit, BackupDir, Suffix, MaxDelete, MinSize, MaxSize,
    MaxAlloc, ChecksumSeed, PartialDir, Usermap, Groupmap, CompareDest,
    CopyDest, LinkDest, Info, Debug, Stderr, FilesFrom, Iconv, LogFile,
    OnlyWriteBatch, WriteBatch, ReadBatch, StopAfter, StopAt,
}

/// Spelling (`--long`, or `-X` for letters with no long form a client
/// sends), short letter, option. The first entry for an
/// option is its canonical name, used in error messages.
pub(crate) const TABLE: &[(&str, Option<char>, Opt)] = &[
    ("--server", None, Opt::Server),
    ("--sender", None, Opt::Sender),
    ("--secluded-args", Some('s'), Opt::Secluded),
    ("--verbose", Some('v'), Opt::Verbose),
    ("--no-verbose", None, Opt::NoVerbose),
    ("--no-v", None, Opt::NoVerbose),
    ("--quiet", Some('q'), Opt::Quiet),
    ("--backup", Some('b'), Opt::Backup),
    ("--no-backup", None, Opt::NoBackup),
    ("--update", Some('u'), Opt::Update),
    ("--dry-run", Some('n'), Opt::DryRun),
    ("--links", Some('l'), Opt::Links),
    ("--no-links", None, Opt::NoLinks),
    ("--no-l", None, Opt::NoLinks),
    ("--dirs", Some('d'), Opt::Dirs),
    ("--no-dirs", None, Opt::NoDirs),
    ("--no-d", None, Opt::NoDirs),
    ("--keep-dirlinks", Some('K'), Opt::KeepDirlinks),
    ("--copy-dirlinks", Some('k'), Opt::CopyDirlinks),
    ("--copy-links", Some('L'), Opt::CopyLinks),
    ("--copy-unsafe-links", None, Opt::CopyUnsafeLinks),
    ("--safe-links", None, Opt::SafeLinks),
    ("--munge-links", None, Opt::MungeLinks),
    ("--no-munge-links", None, Opt::NoMungeLinks),
    ("--prune-empty-dirs", Some('m'), Opt::PruneEmptyDirs),
    ("--no-prune-empty-dirs", None, Opt::NoPruneEmptyDirs),
    ("--no-m", None, Opt::NoPruneEmptyDirs),
    ("--omit-dir-times", Some('O'), Opt::OmitDirTimes),
    ("--no-omit-dir-times", None, Opt::NoOmitDirTimes),
    ("--no-O", None, Opt::NoOmitDirTimes),
    ("--omit-link-times", Some('J'), Opt::OmitLinkTimes),
    ("--no-omit-link-times", None, Opt::NoOmitLinkTimes),
    ("--no-J", None, Opt::NoOmitLinkTimes),
    ("--fuzzy", Some('y'), Opt::Fuzzy),
    ("--no-fuzzy", None, Opt::NoFuzzy),
    ("--no-y", None, Opt::NoFuzzy),
    ("--whole-file", Some('W'), Opt::WholeFile),
    ("--no-whole-file", None, Opt::NoWholeFile),
    ("--no-W", None, Opt::NoWholeFile),
    ("--hard-links", Some('H'), Opt::HardLinks),
    ("--no-hard-links", None, Opt::NoHardLinks),
    ("--no-H", None, Opt::NoHardLinks),
    ("--owner", Some('o'), Opt::Owner),
    ("--no-owner", None, Opt::NoOwner),
    ("--no-o", None, Opt::NoOwner),
    ("--group", Some('g'), Opt::Group),
    ("--no-group", None, Opt::NoGroup),
    ("--no-g", None, Opt::NoGroup),
    ("-D", Some('D'), Opt::DevSpecials),
    ("--no-D", None, Opt::NoDevSpecials),
    ("--devices", None, Opt::Devices),
    ("--no-devices", None, Opt::NoDevices),
    ("--specials", None, Opt::Specials),
    ("--no-specials", None, Opt::NoSpecials),
    ("--times", Some('t'), Opt::Times),
    ("--no-times", None, Opt::NoTimes),
    ("--no-t", None, Opt::NoTimes),
    ("--atimes", Some('U'), Opt::Atimes),
    ("--no-atimes", None, Opt::NoAtimes),
    ("--no-U", None, Opt::NoAtimes),
    ("--crtimes", Some('N'), Opt::Crtimes),
    ("--no-crtimes", None, Opt::NoCrtimes),
    ("--no-N", None, Opt::NoCrtimes),
    ("--perms", Some('p'), Opt::Perms),
    ("--no-perms", None, Opt::NoPerms),
    ("--no-p", None, Opt::NoPerms),
    ("--executability", Some('E'), Opt::Executability),
    ("--acls", Some('A'), Opt::Acls),
    ("--no-acls", None, Opt::NoAcls),
    ("--no-A", None, Opt::NoAcls),
    ("--xattrs", Some('X'), Opt::Xattrs),
    ("--no-xattrs", None, Opt::NoXattrs),
    ("--no-X", None, Opt::NoXattrs),
    ("--recursive", Some('r'), Opt::Recursive),
    ("--no-recursive", None, Opt::NoRecursive),
    ("--no-r", None, Opt::NoRecursive),
    ("--checksum", Some('c'), Opt::Checksum),
    ("--no-checksum", None, Opt::NoChecksum),
    ("--no-c", None, Opt::NoChecksum),
    ("--cvs-exclude", Some('C'), Opt::CvsExclude),
    ("--ignore-times", Some('I'), Opt::IgnoreTimes),
    ("--relative", Some('R'), Opt::Relative),
    ("--no-relative", None, Opt::NoRelative),
    ("--no-R", None, Opt::NoRelative),
    ("--implied-dirs", None, Opt::ImpliedDirs),
    ("--i-d", None, Opt::ImpliedDirs),
    ("--no-implied-dirs", None, Opt::NoImpliedDirs),
    ("--no-i-d", None, Opt::NoImpliedDirs),
    ("--one-file-system", Some('x'), Opt::OneFileSystem),
    ("--no-one-file-system", None, Opt::NoOneFileSystem),
    ("--no-x", None, Opt::NoOneFileSystem),
    ("--sparse", Some('S'), Opt::Sparse),
    ("--no-sparse", None, Opt::NoSparse),
    ("--no-S", None, Opt::NoSparse),
    ("--compress", Some('z'), Opt::Compress),
    ("--no-compress", None, Opt::NoCompress),
    ("--no-z", None, Opt::NoCompress),
    ("--new-compress", None, Opt::NewCompress),
    ("--old-compress", None, Opt::OldCompress),
    ("--list-only", None, Opt::ListOnly),
    ("--delete", None, Opt::Delete),
    ("--delete-before", None, Opt::DeleteBefore),
    ("--delete-during", None, Opt::DeleteDuring),
    ("--del", None, Opt::DeleteDuring),
    ("--delete-delay", None, Opt::DeleteDelay),
    ("--delete-after", None, Opt::DeleteAfter),
    ("--delete-excluded", None, Opt::DeleteExcluded),
    ("--delete-missing-args", None, Opt::DeleteMissingArgs),
    ("--ignore-missing-args", None, Opt::IgnoreMissingArgs),
    ("--force", None, Opt::Force),
    ("--no-force", None, Opt::NoForce),
    ("--size-only", None, Opt::SizeOnly),
    ("--stats", None, Opt::Stats),
    ("--super", None, Opt::Super),
    ("--no-super", None, Opt::NoSuper),
    ("--fake-super", None, Opt::FakeSuper),
    ("--ignore-errors", None, Opt::IgnoreErrors),
    ("--no-ignore-errors", None, Opt::NoIgnoreErrors),
    ("--numeric-ids", None, Opt::NumericIds),
    ("--no-numeric-ids", None, Opt::NoNumericIds),
    ("--use-qsort", None, Opt::UseQsort),
    ("--qsort", None, Opt::UseQsort),
    ("--ignore-existing", None, Opt::IgnoreExisting),
    ("--existing", None, Opt::Existing),
    ("--ignore-non-existing", None, Opt::Existing),
    ("--fsync", None, Opt::Fsync),
    ("--append", None, Opt::Append),
    ("--append-verify", None, Opt::AppendVerify),
    ("--no-append", None, Opt::NoAppend),
    ("--inplace", None, Opt::Inplace),
    ("--no-inplace", None, Opt::NoInplace),
    ("--partial", None, Opt::Partial),
    ("--no-partial", None, Opt::NoPartial),
    ("--delay-updates", None, Opt::DelayUpdates),
    ("--no-delay-updates", None, Opt::NoDelayUpdates),
    ("--from0", None, Opt::From0),
    ("--no-from0", None, Opt::NoFrom0),
    ("--remove-source-files", None, Opt::RemoveSourceFiles),
    ("--remove-sent-files", None, Opt::RemoveSourceFiles),
    ("--write-devices", None, Opt::WriteDevices),
    ("--no-write-devices", None, Opt::NoWriteDevices),
    ("--copy-devices", None, Opt::CopyDevices),
    ("--preallocate", None, Opt::Preallocate),
    ("--open-noatime", None, Opt::OpenNoatime),
    ("--no-open-noatime", None, Opt::NoOpenNoatime),
    ("--mkpath", None, Opt::Mkpath),
    ("--no-mkpath", None, Opt::NoMkpath),
    ("--msgs2stderr", None, Opt::Msgs2stderr),
    ("--no-msgs2stderr", None, Opt::NoMsgs2stderr),
    ("--daemon", None, Opt::Daemon),
    ("--progress", None, Opt::Progress),
    ("--no-bwlimit", None, Opt::NoBwlimit),
    ("--no-timeout", None, Opt::NoTimeout),
    ("-e", Some('e'), Opt::Capabilities),
    ("--block-size", Some('B'), Opt::BlockSize),
    ("--modify-window", Some('@'), Opt::ModifyWindow),
    ("--temp-dir", Some('T'), Opt::TempDir),
    ("--compress-level", None, Opt::CompressLevel),
    ("--zl", None, Opt::CompressLevel),
    ("--compress-threads", None, Opt::CompressThreads),
    ("--zt", None, Opt::CompressThreads),
    ("--compress-choice", None, Opt::CompressChoice),
    ("--zc", None, Opt::CompressChoice),
    ("--skip-compress", None, Opt::SkipCompress),
    ("--checksum-choice", None, Opt::ChecksumChoice),
    ("--cc", None, Opt::ChecksumChoice),
    ("--log-format", None, Opt::LogFormat),
    ("--out-format", None, Opt::LogFormat),
    ("--timeout", None, Opt::Timeout),
    ("--bwlimit", None, Opt::Bwlimit),
    ("--backup-dir", None, Opt::BackupDir),
    ("--suffix", None, Opt::Suffix),
    ("--max-delete", None, Opt::MaxDelete),
    ("--min-size", None, Opt::MinSize),
    ("--max-size", None, Opt::MaxSize),
    ("--max-alloc", None, Opt::MaxAlloc),
    ("--checksum-seed", None, Opt::ChecksumSeed),
    ("--partial-dir", None, Opt::PartialDir),
    ("--usermap", None, Opt::Usermap),
    ("--groupmap", None, Opt::Groupmap),
    ("--compare-dest", None, Opt::CompareDest),
    ("--copy-dest", None, Opt::CopyDest),
    ("--link-dest", None, Opt::LinkDest),
    ("--info", None, Opt::Info),
    ("--debug", None, Opt::Debug),
    ("--stderr", None, Opt::Stderr),
    ("--files-from", None, Opt::FilesFrom),
    ("--iconv", None, Opt::Iconv),
    ("--log-file", None, Opt::LogFile),
    ("--only-write-batch", None, Opt::OnlyWriteBatch),
    ("--write-batch", None, Opt::WriteBatch),
    ("--read-batch", None, Opt::ReadBatch),
    ("--stop-after", None, Opt::StopAfter),
    ("--time-limit", None, Opt::StopAfter),
    ("--stop-at", None, Opt::StopAt),
];

/// Options every key refuses, whatever its flags (rrsync's list, and
/// rsync's batch options, in which a server never takes part). The
/// policy (`policy::authorize`) decides; a test holds it, this list, the
/// help, the manual and README to the same options.
pub const ALWAYS_REFUSED: &[&str] = &[
    "--daemon",
    "--debug",
    "--copy-devices",
    "--write-devices",
    "--no-munge-links",
    "--only-write-batch",
    "--write-batch",
    "--read-batch",
];

/// Options refused unless DIR is `/`: they follow symlinks, which could
/// lead out of the root.
pub const REFUSED_BELOW_ROOT: &[&str] = &[
    "--copy-links",
    "--copy-dirlinks",
    "--keep-dirlinks",
    "--copy-unsafe-links",
];

/// Options not implemented here, refused as not supported.
pub const NOT_SUPPORTED: &[&str] = &["--iconv", "--crtimes"];

/// The paragraph of the help that lists them.
pub fn refused_paragraph() -> String {
    let short = |n: &&str| match lookup_long(n.trim_start_matches("--")).map(Opt::short) {
        Some(Some(c)) => format!("{n} (-{c})"),
        _ => (*n).to_string(),
    };
    let list = |l: &[&str]| l.iter().map(short).collect::<Vec<_>>().join(", ");
    format!(
        "Always refused: {}; and, unless DIR is /, {}. Not supported: {}.",
        list(ALWAYS_REFUSED),
        list(REFUSED_BELOW_ROOT),
        list(NOT_SUPPORTED)
    )
}

/// Looks up a long option name (without the leading `--`).
pub(crate) fn lookup_long(name: &str) -> Option<Opt> {
    TABLE
        .iter()
        .find(|(n, _, _)| n.strip_prefix("--") == Some(name))
        .map(|&(_, _, o)| o)
}

/// Looks up a short option letter.
pub(crate) fn lookup_short(c: char) -> Option<Opt> {
    TABLE
        .iter()
        .find(|(_, s, _)| *s == Some(c))
        .map(|&(_, _, o)| o)
}

impl Opt {
    /// Whether the option takes a value (`--opt=V`, `--opt V`, `-XV`).
    pub(crate) fn takes_value(self) -> bool {
        use Opt::*;
        matches!(
            self,
            Capabilities
                | BlockSize
                | ModifyWindow
                | TempDir
                | CompressLevel
                | CompressThreads
                | CompressChoice
                | SkipCompress
                | ChecksumChoice
                | LogFormat
                | Timeout
                | Bwlimit
                | BackupDir
                | Suffix
                | MaxDelete
                | MinSize
                | MaxSize
                | MaxAlloc
                | ChecksumSeed
                | PartialDir
                | Usermap
                | Groupmap
                | CompareDest
                | CopyDest
                | LinkDest
                | Info
                | Debug
                | Stderr
                | FilesFrom
                | Iconv
                | LogFile
                | OnlyWriteBatch
                | WriteBatch
                | ReadBatch
                | StopAfter
                | StopAt
        )
    }

    /// The option's short letter, if it has one.
    pub(crate) fn short(self) -> Option<char> {
        TABLE
            .iter()
            .find(|(_, _, o)| *o == self)
            .and_then(|&(_, c, _)| c)
    }

    /// Canonical name for messages: the first table spelling (`--long`, or
    /// `-D`/`-e`, which have no long form a client sends).
    pub(crate) fn name(self) -> &'static str {
        TABLE
            .iter()
            .find(|(_, _, o)| *o == self)
            .map_or("--?", |&(n, _, _)| n)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn every_option_has_a_canonical_name() {
        for &(_, _, o) in TABLE {
            let n = o.name();
            assert_ne!(n, "--?", "{o:?}");
            assert!(n.starts_with('-'));
        }
    }

    #[test]
    fn short_letters_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for &(_, s, _) in TABLE {
            if let Some(c) = s {
                assert!(seen.insert(c), "duplicate -{c}");
            }
        }
    }

    #[test]
    fn lookups() {
        assert_eq!(lookup_long("no-W"), Some(Opt::NoWholeFile));
        assert_eq!(lookup_short('D'), Some(Opt::DevSpecials));
        assert_eq!(lookup_long("D"), None);
        assert_eq!(lookup_long("rsh"), None);
        assert_eq!(lookup_long(""), None);
        assert_eq!(lookup_long("exclude"), None);
        assert_eq!(lookup_short('a'), None);
        assert_eq!(Opt::CopyLinks.name(), "--copy-links");
        assert_eq!(Opt::UseQsort.name(), "--use-qsort");
        assert!(Opt::BlockSize.takes_value());
        assert!(!Opt::Links.takes_value());
    }
}
