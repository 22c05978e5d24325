#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::strong::*;
use md4::{Digest as _, Md4};
use md5::Md5;

fn hex(d: &Digest) -> String {
    d.as_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

fn md4(parts: &[&[u8]]) -> Vec<u8> {
    let mut h = Md4::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().to_vec()
}

fn md5(parts: &[&[u8]]) -> Vec<u8> {
    let mut h = Md5::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().to_vec()
}

#[test]
fn md4_rfc1320_vectors_with_zero_seed() {
    let cases: &[(&[u8], &str)] = &[
        (b"", "31d6cfe0d16ae931b73c59d7e0c089c0"),
        (b"a", "bde52cb31de33e46245e05fbdbd6fb24"),
        (b"abc", "a448017aaf21d8525fc10ae87aa6729d"),
        (b"message digest", "d9130a8164549fe818874806e1c7014b"),
        (
            b"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
            "e33b4ddc9c38f2199c3e7b164fcc0536",
        ),
    ];
    for (input, want) in cases {
        assert_eq!(hex(&block_sum(StrongKind::Md4, 0, true, input)), *want);
        assert_eq!(hex(&block_sum(StrongKind::Md4Old, 0, false, input)), *want);
        // The negotiated md4 whole-file sum is plain MD4.
        let mut f = FileHasher::new(StrongKind::Md4, 1234);
        f.update(input);
        assert_eq!(hex(&f.finish()), *want);
    }
}

#[test]
fn md4_block_sum_appends_seed() {
    let seed: i32 = 0x1234_5678;
    let data = vec![7u8; 128]; // a 64-byte multiple: padding still applied
    let want = md4(&[&data, &seed.to_le_bytes()]);
    assert_eq!(
        block_sum(StrongKind::Md4Old, seed, false, &data).as_bytes(),
        &want[..]
    );
    assert_eq!(
        block_sum(StrongKind::Md4, seed, true, &data).as_bytes(),
        &want[..]
    );
    let neg = -5i32;
    let want = md4(&[b"xyz", &neg.to_le_bytes()]);
    assert_eq!(
        block_sum(StrongKind::Md4, neg, true, b"xyz").as_bytes(),
        &want[..]
    );
}

#[test]
fn md4_old_file_sum_prepends_seed_even_zero() {
    let data = b"hello world, the file body";
    let mut f = FileHasher::new(StrongKind::Md4Old, 0);
    f.update(&data[..5]);
    f.update(&data[5..]);
    assert_eq!(f.finish().as_bytes(), &md4(&[&[0, 0, 0, 0], data])[..]);
    let mut f = FileHasher::new(StrongKind::Md4Old, 77);
    f.update(data);
    assert_eq!(
        f.finish().as_bytes(),
        &md4(&[&77i32.to_le_bytes(), data])[..]
    );
}

#[test]
fn md5_seed_order() {
    let seed = 99i32;
    let s = seed.to_le_bytes();
    let d = b"block data";
    assert_eq!(
        block_sum(StrongKind::Md5, seed, true, d).as_bytes(),
        &md5(&[&s, d])[..]
    );
    assert_eq!(
        block_sum(StrongKind::Md5, seed, false, d).as_bytes(),
        &md5(&[d, &s])[..]
    );
    assert_eq!(
        block_sum(StrongKind::Md5, 0, true, d).as_bytes(),
        &md5(&[d])[..]
    );
    assert_eq!(
        hex(&block_sum(StrongKind::Md5, 0, false, b"abc")),
        "900150983cd24fb0d6963f7d28e17f72"
    );
    // Whole-file MD5 ignores the seed.
    let mut f = FileHasher::new(StrongKind::Md5, seed);
    f.update(b"abc");
    assert_eq!(hex(&f.finish()), "900150983cd24fb0d6963f7d28e17f72");
}

#[test]
fn xxhash_seeds_and_layout() {
    use xxhash_rust::{xxh3, xxh64};
    let d = b"some block";
    let b = block_sum(StrongKind::Xxh64, -1, true, d);
    assert_eq!(b.as_bytes(), &xxh64::xxh64(d, u64::MAX).to_le_bytes());
    let b = block_sum(StrongKind::Xxh3, 42, true, d);
    assert_eq!(b.as_bytes(), &xxh3::xxh3_64_with_seed(d, 42).to_le_bytes());
    let b = block_sum(StrongKind::Xxh128, 42, true, d);
    let v = xxh3::xxh3_128_with_seed(d, 42);
    let mut want = (v as u64).to_le_bytes().to_vec();
    want.extend_from_slice(&((v >> 64) as u64).to_le_bytes());
    assert_eq!(b.as_bytes(), &want[..]);
    // Whole-file xxhash sums are unseeded.
    for (k, len) in [
        (StrongKind::Xxh64, 8),
        (StrongKind::Xxh3, 8),
        (StrongKind::Xxh128, 16),
    ] {
        let mut f = FileHasher::new(k, 12345);
        f.update(d);
        let got = f.finish();
        assert_eq!(got.len(), len);
        assert_eq!(got, block_sum(k, 0, true, d));
    }
}

/// The self-test `checksum.c verify_digest` runs on XXH3 streaming.
#[test]
fn xxh3_streaming_self_test() {
    let buf: Vec<u8> = (0..32816).map(|j| b' ' + (j % 96) as u8).collect();
    let mut f = FileHasher::new(StrongKind::Xxh3, 0);
    for n in [32816usize, 31152, 32474, 9322] {
        f.update(&buf[..n]);
    }
    assert_eq!(
        f.finish().as_bytes(),
        &0xadbc_f16d_4678_d1deu64.to_le_bytes()
    );
}

#[test]
fn none_is_one_zero_byte() {
    assert_eq!(StrongKind::None.digest_len(), 1);
    let mut f = FileHasher::new(StrongKind::None, 3);
    f.update(b"x");
    assert_eq!(f.finish().as_bytes(), &[0]);
}

#[test]
fn names_and_defaults() {
    assert_eq!(
        StrongKind::from_name("XXH128", 31),
        Some(StrongKind::Xxh128)
    );
    assert_eq!(StrongKind::from_name("xxhash", 31), Some(StrongKind::Xxh64));
    assert_eq!(StrongKind::from_name("md4", 28), Some(StrongKind::Md4));
    assert_eq!(StrongKind::from_name("SHA1", 31), Some(StrongKind::Sha1));
    assert_eq!(StrongKind::from_name("sha256", 31), None);
    assert_eq!(StrongKind::from_name("auto", 29), Some(StrongKind::Md4Old));
    assert_eq!(default_for(30, None), Some(StrongKind::Md5));
    assert_eq!(default_for(27, None), Some(StrongKind::Md4Old));
    assert_eq!(default_for(26, None), None);
    assert_eq!(default_for(32, Some("xxh3")), Some(StrongKind::Xxh3));
    for n in OUR_CHECKSUMS {
        let k = StrongKind::from_name(n, 32).map(StrongKind::name);
        assert_eq!(k, Some(*n));
    }
    assert_eq!(StrongKind::Xxh3.digest_len(), 8);
    assert_eq!(StrongKind::Md5.digest_len(), 16);
}

#[test]
fn digest_truncation() {
    let d = block_sum(StrongKind::Md5, 0, true, b"abc");
    let t = d.truncated(2);
    assert_eq!(t.as_bytes(), &[0x90, 0x01]);
    assert_eq!(d.truncated(99), d);
}

#[test]
fn sha1_block_and_file_sums() {
    // FIPS 180 "abc": the file sum is unseeded and 20 bytes long.
    let mut h = FileHasher::new(StrongKind::Sha1, 77);
    h.update(b"ab");
    h.update(b"c");
    let d = h.finish();
    assert_eq!(hex(&d), "a9993e364706816aba3e25717850c26c9cd0d89d");
    assert_eq!(StrongKind::Sha1.digest_len(), 20);
    // A zero seed adds nothing to a block sum, whatever the order flag.
    assert_eq!(block_sum(StrongKind::Sha1, 0, false, b"abc"), d);
    // A non-zero seed goes first (4 little-endian bytes), in both orders:
    // SHA1("\x01\x00\x00\x00abc").
    let seeded = block_sum(StrongKind::Sha1, 1, false, b"abc");
    assert_eq!(seeded, block_sum(StrongKind::Sha1, 1, true, b"abc"));
    let mut h = FileHasher::new(StrongKind::Sha1, 0);
    h.update(&[1, 0, 0, 0]);
    h.update(b"abc");
    assert_eq!(seeded, h.finish());
    assert_ne!(seeded, d);
}
