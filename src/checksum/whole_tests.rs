//! The `-c` sum: the first `len` bytes, read once for a small file, and
//! no further whatever the file holds by then.

use super::strong::StrongKind;
use super::whole::file_sum;
use std::io::{self, Read};

/// A file that has `data` and fails any read past it: what a file grown
/// since its `stat` would give, were the reads not stopped at `len`.
struct Grown<'a> {
    data: &'a [u8],
    reads: usize,
}

impl Read for Grown<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reads += 1;
        if self.data.is_empty() {
            return Err(io::Error::other("read past the stat's length"));
        }
        let n = buf.len().min(self.data.len());
        let (now, rest) = self.data.split_at(n);
        buf.get_mut(..n).unwrap_or_default().copy_from_slice(now);
        self.data = rest;
        Ok(n)
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn the_sum_covers_the_first_len_bytes_in_one_read() {
    let mut f = Grown {
        data: b"hello",
        reads: 0,
    };
    let sum = file_sum(StrongKind::Md5, &mut f, 5).unwrap();
    assert_eq!(hex(sum.as_bytes()), "5d41402abc4b2a76b9719d911017c592");
    assert_eq!(
        f.reads, 1,
        "a small file is read once, with no read for its end"
    );
    // Grown since the stat: only the first `len` bytes count.
    let mut f = Grown {
        data: b"hello, world",
        reads: 0,
    };
    let sum = file_sum(StrongKind::Md5, &mut f, 5).unwrap();
    assert_eq!(hex(sum.as_bytes()), "5d41402abc4b2a76b9719d911017c592");
}

#[test]
fn a_file_cut_short_is_summed_as_far_as_it_goes() {
    let short = file_sum(StrongKind::Md5, &b"hel"[..], 5).unwrap();
    let want = file_sum(StrongKind::Md5, &b"hel"[..], 3).unwrap();
    assert_eq!(short.as_bytes(), want.as_bytes());
    // Protocols 27 to 29: plain MD4, no seed.
    let old = file_sum(StrongKind::Md4Old, &b""[..], 0).unwrap();
    assert_eq!(hex(old.as_bytes()), "31d6cfe0d16ae931b73c59d7e0c089c0");
}

/// Each read lands at the start of a cache line, file after file.
#[test]
fn reads_land_aligned() {
    struct Probe {
        left: usize,
        aligned: Vec<bool>,
    }
    impl std::io::Read for Probe {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.aligned
                .push((buf.as_ptr() as usize).is_multiple_of(crate::iobuf::ALIGN));
            let n = buf.len().min(self.left);
            self.left -= n;
            Ok(n)
        }
    }
    for len in [200_000, 5_000, 300_000] {
        let mut p = Probe {
            left: len,
            aligned: Vec::new(),
        };
        file_sum(StrongKind::Md5, &mut p, len as u64).unwrap();
        assert!(
            !p.aligned.is_empty() && p.aligned.iter().all(|a| *a),
            "{len}: {:?}",
            p.aligned
        );
    }
}
