//! `--sparse` (`-S`): runs of zeros in a received file become holes
//! (`write_sparse` and `sparse_end` in rsync's `fileio.c`; all protocols).
//!
//! A run of at least [`HOLE`] zero bytes, or zeros that end a buffer, is
//! skipped with a seek instead of written; the file is new (a temporary
//! file), so what is skipped reads back as zeros. The file's length is set
//! once its data is all in, so a hole at its end is kept too. The client
//! passes `-S` on to the server on a push; a pull's sparse writing is the
//! client's own.

use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};

/// The shortest run of zeros inside a buffer that becomes a hole: one
/// file-system block.
const HOLE: usize = 4096;

/// Writes `data` at `f`'s position, seeking over runs of zeros.
pub(super) fn write(f: &mut File, data: &[u8]) -> io::Result<()> {
    let mut rest = data;
    while !rest.is_empty() {
        let zeros = rest.iter().take_while(|&&b| b == 0).count();
        if zeros >= HOLE || zeros == rest.len() {
            f.seek(SeekFrom::Current(i64::try_from(zeros).unwrap_or(i64::MAX)))?;
            rest = rest.get(zeros..).unwrap_or_default();
            continue;
        }
        let end = zero_run(rest).unwrap_or(rest.len());
        let (now, later) = rest.split_at(end);
        f.write_all(now)?;
        rest = later;
    }
    Ok(())
}

/// Where the first run of [`HOLE`] zeros (or zeros to the end) starts,
/// after the first byte.
fn zero_run(data: &[u8]) -> Option<usize> {
    let mut start = None;
    for (i, &b) in data.iter().enumerate() {
        match (b, start) {
            (0, None) => start = Some(i),
            (0, Some(s)) if i + 1 - s >= HOLE => return Some(s),
            (0, Some(_)) => {}
            _ => start = None,
        }
    }
    start
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use std::io::Read;
    use std::os::unix::fs::MetadataExt;

    fn temp(name: &str) -> (std::path::PathBuf, File) {
        let p = std::env::temp_dir().join(format!("rrsync-sparse-{}-{name}", std::process::id()));
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&p)
            .unwrap();
        (p, f)
    }

    /// Writes `pieces` sparsely, sets the length, and reads it back.
    fn round_trip(name: &str, pieces: &[Vec<u8>]) -> (Vec<u8>, u64) {
        let (p, mut f) = temp(name);
        let mut len = 0;
        for piece in pieces {
            write(&mut f, piece).unwrap();
            len += piece.len() as u64;
        }
        f.set_len(len).unwrap();
        let mut back = Vec::new();
        File::open(&p).unwrap().read_to_end(&mut back).unwrap();
        let blocks = f.metadata().unwrap().blocks() * 512;
        let _ = std::fs::remove_file(&p);
        (back, blocks)
    }

    #[test]
    fn zeros_read_back_and_take_no_space() {
        let mut a = vec![7u8; 10_000];
        a.extend(vec![0u8; 1 << 20]);
        a.extend(vec![9u8; 3]);
        let tail = vec![0u8; 1 << 20];
        let pieces = vec![a.clone(), vec![0u8; 100], vec![5u8; 1], tail.clone()];
        let (back, blocks) = round_trip("holes", &pieces);
        assert_eq!(back, pieces.concat());
        // Only the non-zero parts take space (file systems without holes
        // would take it all; the ones tests run on have them).
        assert!(blocks < 256 * 1024, "{blocks} bytes allocated");
    }

    #[test]
    fn short_zero_runs_inside_data_are_written() {
        let mut d = vec![1u8; 100];
        d.extend(vec![0u8; HOLE - 1]);
        d.extend(vec![2u8; 100]);
        let (back, _) = round_trip("short", &[d.clone()]);
        assert_eq!(back, d);
    }

    #[test]
    fn zero_run_finds_the_first_long_run() {
        let mut d = vec![1u8, 0, 0, 1];
        d.extend(vec![0u8; HOLE]);
        assert_eq!(zero_run(&d), Some(4));
        assert_eq!(zero_run(&[1, 2, 0]), Some(2));
        assert_eq!(zero_run(&[1, 2]), None);
    }
}
