//! The typed server options: one field for every option that rsync's
//! `options.c server_options()` can put on a server command line (rsync
//! 2.6.9 to 3.5.0, protocols 27-32), plus the few extra ones openrsync
//! sends (`--progress`, `--backup`, `--ignore-non-existing`, ...).
//!
//! Fields keep rsync's meaning; counters are `u8` where rsync counts
//! repeated letters (`-vv`, `-HH`, `-xx`, `-UU`, `-XX`, `-yy`, `-zz`,
//! `--append --append`). Nothing here is validated against policy.

/// Which `--*-dest` option named an alternate basis directory
/// (`options.c alt_dest_opt()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AltDest {
    /// `--compare-dest`
    Compare,
    /// `--copy-dest`
    Copy,
    /// `--link-dest`
    Link,
}

impl AltDest {
    /// The long option name, e.g. `--link-dest`.
    pub fn option_name(self) -> &'static str {
        match self {
            AltDest::Compare => "--compare-dest",
            AltDest::Copy => "--copy-dest",
            AltDest::Link => "--link-dest",
        }
    }
}

/// Every option a client can send to `rsync --server`.
///
/// `Default` is rsync's default (note `implied_dirs` is `true`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `--server` was given.
    pub server: bool,
    /// `--sender`: the server sends (client pulls).
    pub sender: bool,
    /// `-s`: the real arguments follow on stdin.
    pub secluded: bool,
    /// `-v` count.
    pub verbose: u8,
    /// `-q`.
    pub quiet: bool,
    /// `-r` / `--recursive` (cleared by `--no-r`).
    pub recursive: bool,
    /// `-d` / `--dirs`.
    pub dirs: bool,
    /// `-R` / `--relative` (cleared by `--no-relative`).
    pub relative: bool,
    /// `--implied-dirs` (default on; cleared by `--no-implied-dirs`).
    pub implied_dirs: bool,
    /// `-l`.
    pub links: bool,
    /// `-L` / `--copy-links`.
    pub copy_links: bool,
    /// `-k` / `--copy-dirlinks`.
    pub copy_dirlinks: bool,
    /// `-K` / `--keep-dirlinks`.
    pub keep_dirlinks: bool,
    /// `--safe-links`.
    pub safe_links: bool,
    /// `--copy-unsafe-links`.
    pub copy_unsafe_links: bool,
    /// `--munge-links`.
    pub munge_links: bool,
    /// The client sent `--no-munge-links`.
    pub no_munge_links: bool,
    /// `-p`.
    pub perms: bool,
    /// `-E`.
    pub executability: bool,
    /// `-t`.
    pub times: bool,
    /// `-U` count (2 also implies `--open-noatime` in rsync).
    pub atimes: u8,
    /// `-N`.
    pub crtimes: bool,
    /// `-O`.
    pub omit_dir_times: bool,
    /// `-J`.
    pub omit_link_times: bool,
    /// `-o`.
    pub owner: bool,
    /// `-g`.
    pub group: bool,
    /// Devices (`-D`, `--devices`).
    pub devices: bool,
    /// Specials (`-D`, `--specials`; cleared by `--no-specials`).
    pub specials: bool,
    /// `-H` count.
    pub hard_links: u8,
    /// `-A`.
    pub acls: bool,
    /// `-X` count.
    pub xattrs: u8,
    /// `--numeric-ids`.
    pub numeric_ids: bool,
    /// `-c`.
    pub checksum: bool,
    /// `-C`.
    pub cvs_exclude: bool,
    /// `-W` (`Some(true)`), `--no-W` (`Some(false)`), or unset.
    pub whole_file: Option<bool>,
    /// `-x` count.
    pub one_file_system: u8,
    /// `-S`.
    pub sparse: bool,
    /// `-z` count (`-zz` is the old way to ask for zlibx).
    pub compress: u8,
    /// `--compress-choice=NAME`.
    pub compress_choice: Option<String>,
    /// `--compress-level=N`.
    pub compress_level: Option<i32>,
    /// `--compress-threads=N`.
    pub compress_threads: Option<u32>,
    /// `--new-compress` (zlibx).
    pub new_compress: bool,
    /// `--old-compress` (zlib).
    pub old_compress: bool,
    /// `--skip-compress=LIST`.
    pub skip_compress: Option<String>,
    /// `--checksum-choice=NAME[,NAME]`.
    pub checksum_choice: Option<String>,
    /// Capability letters after the `.` of the `-e` blob (`iLsfxCIvu`);
    /// `None` when no `e` was sent (protocol < 30 clients).
    pub capabilities: Option<String>,
    /// Pre-release `VER.SUB` at the start of the `-e` blob, if any.
    pub client_prerelease: Option<(u32, u32)>,
    /// `-u`.
    pub update: bool,
    /// `-n` (also set by `--only-write-batch`, as rsync does).
    pub dry_run: bool,
    /// `-b` (also implied by `--backup-dir`).
    pub backup: bool,
    /// `--backup-dir DIR`.
    pub backup_dir: Option<String>,
    /// `--suffix=S`.
    pub suffix: Option<String>,
    /// Any deletion mode is on (`--delete`, a `--delete-WHEN`, or
    /// `--delete-excluded`).
    pub delete: bool,
    /// `--delete-before`.
    pub delete_before: bool,
    /// `--delete-during` / `--del`.
    pub delete_during: bool,
    /// `--delete-after`.
    pub delete_after: bool,
    /// `--delete-delay`.
    pub delete_delay: bool,
    /// `--delete-excluded`.
    pub delete_excluded: bool,
    /// `--delete-missing-args`.
    pub delete_missing_args: bool,
    /// `--ignore-missing-args`.
    pub ignore_missing_args: bool,
    /// `--force`.
    pub force: bool,
    /// `--max-delete=N`; negative values are stored as 0 ("no deletions").
    pub max_delete: Option<i64>,
    /// `--min-size=SIZE`, in bytes.
    pub min_size: Option<u64>,
    /// `--max-size=SIZE`, in bytes.
    pub max_size: Option<u64>,
    /// `--size-only`.
    pub size_only: bool,
    /// `-I`.
    pub ignore_times: bool,
    /// `--ignore-existing`.
    pub ignore_existing: bool,
    /// `--existing` / `--ignore-non-existing`.
    pub existing: bool,
    /// `--partial`.
    pub partial: bool,
    /// `--partial-dir DIR`.
    pub partial_dir: Option<String>,
    /// `--delay-updates`.
    pub delay_updates: bool,
    /// `--temp-dir DIR` / `-T DIR`.
    pub temp_dir: Option<String>,
    /// `--inplace`.
    pub inplace: bool,
    /// `--append` count (2 = `--append-verify`).
    pub append: u8,
    /// `--files-from=FILE` (`-` = the list arrives over the protocol).
    pub files_from: Option<String>,
    /// `--from0`.
    pub from0: bool,
    /// `--list-only`.
    pub list_only: bool,
    /// `-m`.
    pub prune_empty_dirs: bool,
    /// `--remove-source-files` (or the old `--remove-sent-files`).
    pub remove_source_files: bool,
    /// `--compare-dest`, `--copy-dest`, `--link-dest`, in order.
    pub alt_dest: Vec<(AltDest, String)>,
    /// `-y` count.
    pub fuzzy: u8,
    /// `--mkpath`.
    pub mkpath: bool,
    /// `-B SIZE`, at most 128 KiB; `None` when unset or 0.
    pub block_size: Option<u32>,
    /// `--timeout=SECS`; `None` when unset or 0.
    pub timeout: Option<u32>,
    /// `--bwlimit`, in KiB per second; `None` when unset or 0.
    pub bwlimit: Option<u32>,
    /// `--max-alloc=SIZE`, in bytes.
    pub max_alloc: Option<u64>,
    /// `--stats`.
    pub stats: bool,
    /// `--log-format=FMT` (the client's hint: `%i`, `%i%I`, `%o`, `X`).
    pub log_format: Option<String>,
    /// `--ignore-errors`.
    pub ignore_errors: bool,
    /// `--checksum-seed=N` as the 32-bit wire value; `None` when 0.
    pub checksum_seed: Option<u32>,
    /// `--iconv=SET`.
    pub iconv: Option<String>,
    /// `--usermap=MAP`.
    pub usermap: Option<String>,
    /// `--groupmap=MAP`.
    pub groupmap: Option<String>,
    /// `--fsync`.
    pub fsync: bool,
    /// `--preallocate`.
    pub preallocate: bool,
    /// `--open-noatime`.
    pub open_noatime: bool,
    /// `--use-qsort` (also `--qsort`).
    pub use_qsort: bool,
    /// `--msgs2stderr` / `--no-msgs2stderr`.
    pub msgs2stderr: Option<bool>,
    /// `--stderr=errors|all|client`, canonical word.
    pub stderr_mode: Option<String>,
    /// `--modify-window=N` / `-@N`.
    pub modify_window: Option<i32>,
    /// `--super`.
    pub super_: bool,
    /// `--fake-super`.
    pub fake_super: bool,
    /// `--daemon`.
    pub daemon: bool,
    /// `--log-file=FILE`.
    pub log_file: Option<String>,
    /// `--copy-devices`.
    pub copy_devices: bool,
    /// `--write-devices`.
    pub write_devices: bool,
    /// `--debug=FLAGS`.
    pub debug: Option<String>,
    /// `--info=FLAGS`.
    pub info: Option<String>,
    /// `--stop-after=MINS` / `--time-limit=MINS`.
    pub stop_after: Option<u32>,
    /// `--stop-at=TIME`, unparsed.
    pub stop_at: Option<String>,
    /// `--only-write-batch=NAME` (the name is the client's; unused here).
    pub only_write_batch: Option<String>,
    /// `--write-batch=NAME` or `--read-batch=NAME`: which one (a client
    /// sends them only through `-M`; a server never takes part in a batch).
    pub batch: Option<&'static str>,
    /// How the client spelled each option it sent: (canonical name,
    /// spelling), e.g. `("--backup", "-b")`, the last spelling of each.
    pub spelled: Vec<(&'static str, String)>,
    /// `--progress` (openrsync sends it; meaningless on a server).
    pub progress: bool,
}

impl Options {
    /// The option named `canonical` the way the client wrote it (`-b` for
    /// `--backup` when it came in a bundle), or `canonical` itself.
    pub fn spelling(&self, canonical: &str) -> String {
        self.spelled
            .iter()
            .find(|(c, _)| *c == canonical)
            .map_or_else(|| canonical.to_string(), |(_, s)| s.clone())
    }

    /// Remembers that `canonical` was written as `as_written`.
    pub(crate) fn spell(&mut self, canonical: &'static str, as_written: String) {
        match self.spelled.iter_mut().find(|(c, _)| *c == canonical) {
            Some(e) => e.1 = as_written,
            None => self.spelled.push((canonical, as_written)),
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            server: false,
            sender: false,
            secluded: false,
            verbose: 0,
            quiet: false,
            recursive: false,
            dirs: false,
            relative: false,
            implied_dirs: true,
            links: false,
            copy_links: false,
            copy_dirlinks: false,
            keep_dirlinks: false,
            safe_links: false,
            copy_unsafe_links: false,
            munge_links: false,
            no_munge_links: false,
            perms: false,
            executability: false,
            times: false,
            atimes: 0,
            crtimes: false,
            omit_dir_times: false,
            omit_link_times: false,
            owner: false,
            group: false,
            devices: false,
            specials: false,
            hard_links: 0,
            acls: false,
            xattrs: 0,
            numeric_ids: false,
            checksum: false,
            cvs_exclude: false,
            whole_file: None,
            one_file_system: 0,
            sparse: false,
            compress: 0,
            compress_choice: None,
            compress_level: None,
            compress_threads: None,
            new_compress: false,
            old_compress: false,
            skip_compress: None,
            checksum_choice: None,
            capabilities: None,
            client_prerelease: None,
            update: false,
            dry_run: false,
            backup: false,
            backup_dir: None,
            suffix: None,
            delete: false,
            delete_before: false,
            delete_during: false,
            delete_after: false,
            delete_delay: false,
            delete_excluded: false,
            delete_missing_args: false,
            ignore_missing_args: false,
            force: false,
            max_delete: None,
            min_size: None,
            max_size: None,
            size_only: false,
            ignore_times: false,
            ignore_existing: false,
            existing: false,
            partial: false,
            partial_dir: None,
            delay_updates: false,
            temp_dir: None,
            inplace: false,
            append: 0,
            files_from: None,
            from0: false,
            list_only: false,
            prune_empty_dirs: false,
            remove_source_files: false,
            alt_dest: Vec::new(),
            fuzzy: 0,
            mkpath: false,
            block_size: None,
            timeout: None,
            bwlimit: None,
            max_alloc: None,
            stats: false,
            log_format: None,
            ignore_errors: false,
            checksum_seed: None,
            iconv: None,
            usermap: None,
            groupmap: None,
            fsync: false,
            preallocate: false,
            open_noatime: false,
            use_qsort: false,
            msgs2stderr: None,
            stderr_mode: None,
            modify_window: None,
            super_: false,
            fake_super: false,
            daemon: false,
            log_file: None,
            copy_devices: false,
            write_devices: false,
            debug: None,
            info: None,
            stop_after: None,
            stop_at: None,
            only_write_batch: None,
            batch: None,
            spelled: Vec::new(),
            progress: false,
        }
    }
}
