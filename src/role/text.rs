//! The words of our error lines: rsync's `rsyserr` (`log.c`) shows a
//! failed system call as `MSG: STRERROR (ERRNO)`, and names a client path
//! in double quotes. The two errors by which the confinement stops a name
//! are said in words, never as a bare errno and never with a server path.

use std::io;

/// Said instead of `Invalid cross-device link`: `openat2` with
/// `RESOLVE_BENEATH` fails with `EXDEV` when a name leads out of the root.
pub const ESCAPE_TEXT: &str = "refusing to follow a symlink out of the served directory";
/// Said instead of `Too many levels of symbolic links`: the root refuses a
/// symlink where it wants a file or directory (`O_NOFOLLOW`,
/// `RESOLVE_NO_MAGICLINKS`).
pub const SYMLINK_TEXT: &str = "refusing to follow a symlink";

/// Said once when `--delete` meets a per-directory filter file in the
/// destination under `-wo` or `-blind`: its lines would tell the client
/// what the file holds, so it is not read, and nothing in its directory
/// or below is deleted.
pub const UNREAD_MERGE: &str =
    "rrsync-rs: filter files on the server are not read in write-only mode; \
     nothing is deleted in a directory that holds one";

/// The C library's text for an error, without Rust's `(os error N)`;
/// the two errors by which the confinement stops a name are said in words.
pub fn strerror(err: &io::Error) -> String {
    match err.raw_os_error() {
        Some(n) if n == rustix::io::Errno::XDEV.raw_os_error() => return ESCAPE_TEXT.into(),
        Some(n) if n == rustix::io::Errno::LOOP.raw_os_error() => return SYMLINK_TEXT.into(),
        _ => {}
    }
    let s = err.to_string();
    match s.rfind(" (os error ") {
        Some(i) => s.get(..i).unwrap_or(&s).to_string(),
        None => s,
    }
}

/// The warning for filter rules dropped because their merge file is not
/// beneath the root (rsync 3.5's `--confine-root` drops them too).
pub fn skipped_rules(who: &str, n: usize) -> String {
    format!("rsync: [{who}] skipped {n} filter rule(s) naming a merge file outside the served directory")
}

/// Quotes a client path for an error line, lossily for non-UTF-8 names.
pub fn quoted(name: &[u8]) -> String {
    format!("\"{}\"", String::from_utf8_lossy(name))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn confinement_errors_are_said_in_words() {
        let e = |n: rustix::io::Errno| io::Error::from_raw_os_error(n.raw_os_error());
        assert_eq!(strerror(&e(rustix::io::Errno::XDEV)), ESCAPE_TEXT);
        assert_eq!(strerror(&e(rustix::io::Errno::LOOP)), SYMLINK_TEXT);
        assert_eq!(
            strerror(&e(rustix::io::Errno::NOENT)),
            "No such file or directory"
        );
    }
}
