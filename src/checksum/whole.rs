//! The whole-file checksum of `-c` (rsync's `checksum.c file_checksum`),
//! all protocols 27 to 32: the file's first `len` bytes, `len` being the
//! size its `stat` gave, hashed with no seed (the implied MD4 of
//! protocols 27 to 29 is plain MD4 here).
//!
//! The reads stop at `len`, so a file read whole costs one `read` and no
//! second one to find its end, and the buffer is no larger than the file.

use std::io::Read;

use super::strong::{Digest, FileHasher, StrongKind};

/// The largest read.
const CHUNK: u64 = 256 * 1024;

/// The `-c` sum of the first `len` bytes of `src` (fewer if it ends
/// sooner, as a file cut short after its `stat` does).
pub fn file_sum(kind: StrongKind, src: impl Read, len: u64) -> std::io::Result<Digest> {
    let kind = match kind {
        StrongKind::Md4Old => StrongKind::Md4,
        k => k,
    };
    let mut h = FileHasher::new(kind, 0);
    let size = usize::try_from(len.min(CHUNK)).unwrap_or(0);
    let mut buf = vec![0u8; size];
    let mut src = src.take(len);
    loop {
        match src.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => h.update(buf.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(h.finish())
}
