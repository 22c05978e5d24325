//! The whole-file checksum of `-c` (rsync's `checksum.c file_checksum`),
//! all protocols 27 to 32: the file's first `len` bytes, `len` being the
//! size its `stat` gave, hashed with no seed (the implied MD4 of
//! protocols 27 to 29 is plain MD4 here).
//!
//! The reads stop at `len`, so a file read whole costs one `read` and no
//! second one to find its end, into one aligned buffer kept for the next.

use std::cell::RefCell;
use std::io::Read;

use super::strong::{Digest, FileHasher, StrongKind};
use crate::iobuf::IoBuf;

/// The largest read.
const CHUNK: u64 = 256 * 1024;

/// The `-c` sum of the first `len` bytes of `src` (fewer if it ends
/// sooner, as a file cut short after its `stat` does).
pub fn file_sum(kind: StrongKind, src: impl Read, len: u64) -> std::io::Result<Digest> {
    thread_local! {
        /// One aligned buffer for every file summed on this thread (see
        /// `iobuf`: a read into a plain allocation this large lands
        /// misaligned, and the kernel copies it at a third of the speed).
        static BUF: RefCell<IoBuf> = RefCell::new(IoBuf::zeroed(CHUNK as usize));
    }
    BUF.with(|b| match b.try_borrow_mut() {
        Ok(mut buf) => sum_through(kind, src, len, &mut buf),
        Err(_) => sum_through(kind, src, len, &mut IoBuf::zeroed(CHUNK as usize)),
    })
}

fn sum_through(
    kind: StrongKind,
    src: impl Read,
    len: u64,
    buf: &mut [u8],
) -> std::io::Result<Digest> {
    let kind = match kind {
        StrongKind::Md4Old => StrongKind::Md4,
        k => k,
    };
    let mut h = FileHasher::new(kind, 0);
    let size = usize::try_from(len.min(CHUNK)).unwrap_or(0);
    let buf = buf.get_mut(..size).unwrap_or_default();
    let mut src = src.take(len);
    loop {
        match src.read(buf) {
            Ok(0) => break,
            Ok(n) => h.update(buf.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(h.finish())
}
