//! The lines of a server-side `--log-file=FILE` (rsync's `log.c`:
//! `log_item` with the default log-file format `%i %n%L`, framed by
//! `logit` as `YYYY/MM/DD HH:MM:SS [PID] TEXT`), protocols 27 to 32.
//!
//! Only the text is built here; the caller supplies the timestamp and the
//! process id, so nothing here reads a clock. Unlike rsync, a name's
//! control characters are escaped (`\#ooo`, rsync's own escape for the
//! client's terminal), so a file name cannot forge a line of the log.

use std::fmt::Write as _;

use crate::flist::item::{self, ItemFlags};
use crate::flist::{FileEntry, FileKind};

/// Where the lines of a server-side `--log-file` go. The driver's
/// implementation stamps each line with the local time and the process
/// id and appends it to the file; the roles only say what happened.
pub trait TransferLog: Sync {
    /// One line of text, without its stamp or newline.
    fn line(&self, text: &str);
}

/// A role's view of the `--log-file`, if the client asked for one: the
/// lines rsync's server writes with the default format `%i %n%L`.
#[derive(Clone, Copy)]
pub struct ItemLog<'a> {
    sink: Option<&'a dyn TransferLog>,
    /// The sender's view (`<f`) rather than the receiver's (`>f`).
    sending: bool,
    /// `-t`: a changed time shows as `t`, else `T`.
    times: bool,
    /// Before protocol 29 a transfer carries no item flags: rsync marks
    /// them missing (`ITEM_MISSING_DATA`) and logs `?` for each attribute.
    flagless: bool,
}

impl std::fmt::Debug for ItemLog<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ItemLog")
            .field("on", &self.sink.is_some())
            .finish()
    }
}

impl Default for ItemLog<'_> {
    fn default() -> Self {
        ItemLog::off()
    }
}

impl<'a> ItemLog<'a> {
    /// No log file.
    pub fn off() -> Self {
        ItemLog {
            sink: None,
            sending: false,
            times: false,
            flagless: false,
        }
    }

    /// Lines go to `sink`, written from the sender's or the receiver's
    /// view, for a session at `protocol`.
    pub fn new(
        sink: Option<&'a dyn TransferLog>,
        sending: bool,
        times: bool,
        protocol: u32,
    ) -> Self {
        ItemLog {
            sink,
            sending,
            times,
            flagless: protocol < 29,
        }
    }

    /// A line of its own (`receiving file list`, the totals).
    pub fn line(&self, text: &str) {
        if let Some(s) = self.sink {
            s.line(text);
        }
    }

    /// An entry with its item flags, when they say something happened
    /// (rsync logs significant items, transfers among them). `xname` is
    /// the name a hard link points to (`=> NAME`).
    pub fn item(&self, iflags: ItemFlags, e: &FileEntry, xname: Option<&[u8]>) {
        let Some(s) = self.sink else { return };
        if !iflags.intersects(item::SIGNIFICANT) {
            return;
        }
        let link = match e.kind() {
            FileKind::Symlink => e.link_target.as_deref(),
            _ => xname,
        };
        let mut text = item_text(iflags, e.kind(), &e.name, link, self.sending, self.times);
        if self.flagless && iflags.intersects(item::TRANSFER) {
            // The itemize string is ASCII: its first two characters stay.
            let tail = text.get(ITEMIZE_LEN..).unwrap_or_default().to_string();
            text.truncate(2);
            text.push_str("?????????");
            text.push_str(&tail);
        }
        s.line(&text);
    }

    /// A deletion (`*deleting   NAME`, a directory's with a `/`).
    pub fn deleting(&self, name: &[u8], is_dir: bool) {
        if let Some(s) = self.sink {
            let slash = if is_dir && !name.ends_with(b"/") {
                "/"
            } else {
                ""
            };
            s.line(&format!("*deleting   {}{slash}", escaped(name)));
        }
    }
}

/// The length of an itemize string.
const ITEMIZE_LEN: usize = 11;

/// rsync's itemize string (`%i`): eleven characters, such as
/// `>f+++++++++` for a new file received or `cd+++++++++` for a new
/// directory. `sending` is the sender's view (`<`), else `>`; `times`
/// says whether mtimes are preserved (`t`) or not (`T`).
pub fn itemize(iflags: ItemFlags, kind: FileKind, sending: bool, times: bool) -> String {
    let has = |bit: ItemFlags| iflags.intersects(bit);
    let first = if has(item::LOCAL_CHANGE) {
        if has(item::XNAME_FOLLOWS) {
            'h'
        } else {
            'c'
        }
    } else if !has(item::TRANSFER) {
        '.'
    } else if sending {
        '<'
    } else {
        '>'
    };
    let kind = match kind {
        FileKind::File => 'f',
        FileKind::Dir => 'd',
        FileKind::Symlink => 'L',
        FileKind::Device => 'D',
        FileKind::Special => 'S',
    };
    let time = if times { 't' } else { 'T' };
    let fields = [
        (item::REPORT_CHANGE, 'c'),
        (item::REPORT_SIZE, 's'),
        (item::REPORT_TIME, time),
        (item::REPORT_PERMS, 'p'),
        (item::REPORT_OWNER, 'o'),
        (item::REPORT_GROUP, 'g'),
        (item::REPORT_ATIME, 'u'),
        (item::REPORT_ACL, 'a'),
        (item::REPORT_XATTR, 'x'),
    ];
    let mut rest: Vec<char> = fields
        .iter()
        .map(|&(bit, c)| if has(bit) { c } else { '.' })
        .collect();
    if has(item::IS_NEW) {
        rest.iter_mut().for_each(|c| *c = '+');
    } else if matches!(first, '.' | 'h' | 'c') && rest.iter().all(|&c| c == '.') {
        rest.iter_mut().for_each(|c| *c = ' ');
    }
    let mut s = String::with_capacity(11);
    s.push(first);
    s.push(kind);
    s.extend(rest);
    s
}

/// A client name or link target as a log line shows it: printable UTF-8
/// as is; every byte of a character an operator's line must not hold
/// ([`crate::audit::is_unsafe`]) and every invalid byte as `\#ooo`.
pub fn escaped(name: &[u8]) -> String {
    let mut out = String::with_capacity(name.len());
    let octal = |out: &mut String, bytes: &[u8]| {
        for byte in bytes {
            let _ = write!(out, "\\#{byte:03o}");
        }
    };
    for chunk in name.utf8_chunks() {
        for c in chunk.valid().chars() {
            if crate::audit::is_unsafe(c) {
                let mut b = [0u8; 4];
                octal(&mut out, c.encode_utf8(&mut b).as_bytes());
            } else {
                out.push(c);
            }
        }
        octal(&mut out, chunk.invalid());
    }
    out
}

/// `%i %n%L` for one entry: the itemize string, the name (a directory's
/// with a trailing `/`), and ` -> TARGET` for a symlink or ` => NAME` for
/// a hard link to an earlier entry.
pub fn item_text(
    iflags: ItemFlags,
    kind: FileKind,
    name: &[u8],
    link: Option<&[u8]>,
    sending: bool,
    times: bool,
) -> String {
    let mut s = itemize(iflags, kind, sending, times);
    s.push(' ');
    s.push_str(&escaped(name));
    if kind == FileKind::Dir && !name.ends_with(b"/") {
        s.push('/');
    }
    match (kind, link) {
        (FileKind::Symlink, Some(t)) => s.push_str(&format!(" -> {}", escaped(t))),
        (_, Some(t)) if iflags.intersects(item::XNAME_FOLLOWS) => {
            s.push_str(&format!(" => {}", escaped(t)))
        }
        _ => {}
    }
    s
}

/// One line of the log file, as `logit` frames it.
pub fn framed(stamp: &str, pid: u32, text: &str) -> String {
    format!("{stamp} [{pid}] {text}\n")
}

/// The closing line (`report` for a server with a log file).
pub fn totals(sent: u64, received: u64, total_size: u64) -> String {
    format!("sent {sent} bytes  received {received} bytes  total size {total_size}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const NEW: ItemFlags = item::IS_NEW.union(item::LOCAL_CHANGE);

    /// Flags, kind, name, link, sending, and the line stock rsync wrote.
    type Case = (
        ItemFlags,
        FileKind,
        &'static [u8],
        Option<&'static [u8]>,
        bool,
        &'static str,
    );

    // Each expectation is a line stock rsync 3.5.0 wrote as a server with
    // -M--log-file (push of a, l -> a, sub/, sub/b; then a grown file;
    // then a pull).
    #[test]
    fn lines_match_stock_rsync() {
        let recv_new = item::TRANSFER | item::IS_NEW;
        let grown = item::TRANSFER | item::REPORT_SIZE;
        let cases: [Case; 6] = [
            (recv_new, FileKind::File, b"a", None, false, ">f+++++++++ a"),
            (
                NEW,
                FileKind::Symlink,
                b"l",
                Some(b"a"),
                false,
                "cL+++++++++ l -> a",
            ),
            (NEW, FileKind::Dir, b"sub", None, false, "cd+++++++++ sub/"),
            (NEW, FileKind::Dir, b".", None, true, "cd+++++++++ ./"),
            (grown, FileKind::File, b"a", None, false, ">f.s....... a"),
            (
                recv_new,
                FileKind::File,
                b"sub/b",
                None,
                true,
                "<f+++++++++ sub/b",
            ),
        ];
        for (iflags, kind, name, link, sending, want) in cases {
            assert_eq!(item_text(iflags, kind, name, link, sending, true), want);
        }
        assert_eq!(
            totals(70, 262, 10),
            "sent 70 bytes  received 262 bytes  total size 10"
        );
        assert_eq!(
            framed("2026/12/03 05:28:09", 15440, "receiving file list"),
            "2026/12/03 05:28:09 [15440] receiving file list\n"
        );
    }

    #[test]
    fn unchanged_local_items_are_blank() {
        let s = itemize(item::LOCAL_CHANGE, FileKind::File, false, true);
        assert_eq!(s, "cf         ");
        let t = itemize(item::REPORT_TIME, FileKind::Dir, false, false);
        assert_eq!(t, ".d..T......");
        let h = item::LOCAL_CHANGE | item::XNAME_FOLLOWS;
        assert_eq!(
            item_text(h, FileKind::File, b"b", Some(b"a"), false, true),
            "hf          b => a"
        );
    }

    #[test]
    fn a_name_cannot_forge_a_line() {
        let s = item_text(
            ItemFlags::EMPTY,
            FileKind::File,
            b"x\n2026 [1] >f evil\x1b\xff",
            None,
            false,
            true,
        );
        assert!(!s.contains('\n') && !s.contains('\x1b'));
        assert!(s.ends_with("x\\#0122026 [1] >f evil\\#033\\#377"));
        // A bidirectional override cannot reorder what the operator reads.
        let b = escaped("a\u{202e}b".as_bytes());
        assert_eq!(b, "a\\#342\\#200\\#256b");
    }
}
