//! Our MD4 and MD5 against RFC 1320's and 1321's vectors and the `md4`
//! and `md-5` crates, in one lane and in two, over any split of the input.

use md5::Digest as _;
use proptest::prelude::*;

use super::md::{update_pair, Md4, Md5};

fn ours(parts: &[&[u8]]) -> [u8; 16] {
    let mut h = Md5::new();
    for p in parts {
        h.update(p);
    }
    h.finalize()
}

fn theirs(data: &[u8]) -> [u8; 16] {
    md5::Md5::digest(data).into()
}

fn ours4(parts: &[&[u8]]) -> [u8; 16] {
    let mut h = Md4::new();
    for p in parts {
        h.update(p);
    }
    h.finalize()
}

fn theirs4(data: &[u8]) -> [u8; 16] {
    use md4::Digest as _;
    md4::Md4::digest(data).into()
}

fn hex(d: [u8; 16]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn rfc_1321_vectors() {
    let cases: [(&[u8], &str); 4] = [
        (b"", "d41d8cd98f00b204e9800998ecf8427e"),
        (b"abc", "900150983cd24fb0d6963f7d28e17f72"),
        (b"message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        (
            b"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
            "57edf4a22be3c955ac49da2e2107b67a",
        ),
    ];
    for (input, want) in cases {
        assert_eq!(hex(ours(&[input])), want);
    }
}

#[test]
fn rfc_1320_vectors() {
    let cases: [(&[u8], &str); 4] = [
        (b"", "31d6cfe0d16ae931b73c59d7e0c089c0"),
        (b"abc", "a448017aaf21d8525fc10ae87aa6729d"),
        (b"message digest", "d9130a8164549fe818874806e1c7014b"),
        (
            b"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
            "e33b4ddc9c38f2199c3e7b164fcc0536",
        ),
    ];
    for (input, want) in cases {
        assert_eq!(hex(ours4(&[input])), want);
    }
}

/// Every length around the padding boundaries, in one update.
#[test]
fn lengths_around_the_padding() {
    let data: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
    for n in 0..data.len() {
        assert_eq!(ours(&[&data[..n]]), theirs(&data[..n]), "length {n}");
        assert_eq!(ours4(&[&data[..n]]), theirs4(&data[..n]), "MD4 length {n}");
    }
}

proptest! {
    #[test]
    fn splits_match_md5_crate(data in proptest::collection::vec(any::<u8>(), 0..600), cut in 0usize..600) {
        let cut = cut.min(data.len());
        prop_assert_eq!(ours(&[&data[..cut], &data[cut..]]), theirs(&data));
        prop_assert_eq!(ours4(&[&data[..cut], &data[cut..]]), theirs4(&data));
    }

    /// Two hashes advanced together end where each alone would, whatever
    /// each held before and however long each input is.
    #[test]
    fn pairs_match_single_lanes(
        pre_a in proptest::collection::vec(any::<u8>(), 0..130),
        pre_b in proptest::collection::vec(any::<u8>(), 0..130),
        da in proptest::collection::vec(any::<u8>(), 0..700),
        db in proptest::collection::vec(any::<u8>(), 0..700),
    ) {
        let (mut a, mut b) = (Md5::new(), Md5::new());
        a.update(&pre_a);
        b.update(&pre_b);
        update_pair(&mut a, &da, &mut b, &db);
        prop_assert_eq!(a.finalize(), theirs(&[&pre_a[..], &da].concat()));
        prop_assert_eq!(b.finalize(), theirs(&[&pre_b[..], &db].concat()));
        let (mut a, mut b) = (Md4::new(), Md4::new());
        a.update(&pre_a);
        b.update(&pre_b);
        update_pair(&mut a, &da, &mut b, &db);
        prop_assert_eq!(a.finalize(), theirs4(&[pre_a, da].concat()));
        prop_assert_eq!(b.finalize(), theirs4(&[pre_b, db].concat()));
    }
}

/// Throughput of one lane, two lanes and the `md-5` crate (release
/// build; run with `--ignored --nocapture`). Never a pass/fail timing.
#[test]
#[ignore]
fn throughput() {
    let data = vec![0x5au8; 64 << 20];
    let t = std::time::Instant::now();
    let one = ours(&[&data]);
    let t1 = t.elapsed();
    let t = std::time::Instant::now();
    let crate_sum = theirs(&data);
    let t2 = t.elapsed();
    let t = std::time::Instant::now();
    let (mut a, mut b) = (Md5::new(), Md5::new());
    update_pair(&mut a, &data, &mut b, &data);
    let t3 = t.elapsed();
    assert_eq!(one, crate_sum);
    assert_eq!(a.finalize(), one);
    assert_eq!(b.finalize(), one);
    eprintln!("64 MiB: ours {t1:?}, md-5 {t2:?}, ours two lanes (128 MiB hashed) {t3:?}");
}
