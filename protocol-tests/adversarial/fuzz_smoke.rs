//! Fuzz smoke on stable: property tests that feed mutated inputs into
//! every decoder entry point of `rrsync::fuzzing` (the functions the
//! cargo-fuzz targets in `fuzz/` call), 2,000 cases each. Inputs are
//! splices of random bytes into base samples: valid encodings built with
//! our own encoders, plus the corpus recorded from real sessions by
//! `fuzz/seed.py` when it exists. Passing means: no panic, no abort, no
//! hang (each case is bounded inside the entry points).

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use rrsync::flist::{FileEntry, FlistEncoder, FlistOptions};
use rrsync::proto::Compression;
use rrsync::token::TokenEncoder;

const CASES: u32 = 2000;

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut v: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| std::fs::read(e.path()).ok())
                .filter(|b| b.len() <= 1 << 16)
                .take(64)
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn sample_flist() -> Vec<u8> {
    let o = FlistOptions {
        protocol: 32,
        varint_flags: true,
        preserve_links: true,
        safe_flist: true,
        ..FlistOptions::default()
    };
    let mut enc = FlistEncoder::new(o);
    let mut out = vec![5 | 0x08 | 0x40, 0x10];
    let mut d = FileEntry::new(b".".to_vec(), 0o040755);
    d.mtime = 1;
    enc.encode(&d, &mut out, &mut |_| None, &mut |_| None);
    let mut f = FileEntry::new(b"dir/file".to_vec(), 0o100644);
    f.size = 1234;
    enc.encode(&f, &mut out, &mut |_| None, &mut |_| None);
    let mut l = FileEntry::new(b"link".to_vec(), 0o120777);
    l.link_target = Some(b"dir/file".to_vec());
    enc.encode(&l, &mut out, &mut |_| None, &mut |_| None);
    enc.end(&mut out, 0);
    out
}

fn sample_tokens(c: Compression) -> Vec<u8> {
    let mut out = vec![4u8];
    if let Ok(mut e) = TokenEncoder::new(c, None) {
        let _ = e.literal(b"hello hello hello hello", &mut out);
        let _ = e.block(1, &[0x5A; 700], &mut out);
        let _ = e.literal(&[7u8; 3000], &mut out);
        let _ = e.block(3, &[0x5A; 700], &mut out);
        let _ = e.end(&mut out);
    }
    out
}

fn smoke(target: &str, mut bases: Vec<Vec<u8>>, f: fn(&[u8])) {
    bases.extend(corpus(target));
    bases.push(Vec::new());
    let n = bases.len();
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    let strat = (
        0..n,
        any::<u16>(),
        any::<u8>(),
        proptest::collection::vec(any::<u8>(), 0..64),
    );
    runner
        .run(&strat, |(i, pos, del, ins)| {
            let base = &bases[i];
            let p = usize::from(pos) % (base.len() + 1);
            let q = (p + usize::from(del % 8)).min(base.len());
            let mut input = base[..p].to_vec();
            input.extend_from_slice(&ins);
            input.extend_from_slice(&base[q..]);
            f(&input);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{target}: {e}"));
}

#[test]
fn fuzz_smoke_wire() {
    smoke(
        "varint",
        vec![vec![0, 0x81, 0x02, 0xF0, 1, 2, 3, 4]],
        rrsync::fuzzing::varint,
    );
    smoke(
        "mux",
        vec![[&[3u8, 0, 0, 7][..], b"abc", &[4, 0, 0, 29, 1, 0, 0, 0]].concat()],
        rrsync::fuzzing::mux,
    );
    smoke(
        "ndx",
        vec![vec![5, 1, 1, 0, 0xFE, 1, 0x2B, 0xFF, 0x64]],
        rrsync::fuzzing::ndx,
    );
    smoke(
        "handshake",
        vec![[&[1u8][..], &32i32.to_le_bytes(), &[3], b"md5"].concat()],
        rrsync::fuzzing::handshake,
    );
}

#[test]
fn fuzz_smoke_flist_and_sums() {
    smoke("flist", vec![sample_flist()], rrsync::fuzzing::flist);
    let mut sh = vec![5u8 | (1 << 3)];
    for v in [2i32, 700, 16, 100] {
        sh.extend_from_slice(&v.to_le_bytes());
    }
    sh.extend_from_slice(&[0u8; 40]);
    smoke("sum_head", vec![sh], rrsync::fuzzing::sum_head);
    // -AX, a file: a literal access ACL with one named user, a literal
    // attribute list with one short and one abbreviated value; then a
    // directory referring back to both and adding a default ACL.
    let mut m = vec![0b0000_0111u8, 0, 16, 1, 0x83, 0xe8, 22, 0, 2];
    m.extend_from_slice(&[7, 1, b'u', b's', b'e', b'r', b'.', b'a', 0, b'x']);
    m.extend_from_slice(&[7, 40, b'u', b's', b'e', b'r', b'.', b'b', 0]);
    m.extend_from_slice(&[0x5a; 16]);
    m.extend_from_slice(&[1, 0, 0, 1]);
    m.extend_from_slice(&[2, 40, 0]);
    smoke("meta", vec![m], rrsync::fuzzing::meta);
}

#[test]
fn fuzz_smoke_tokens() {
    smoke(
        "token_plain",
        vec![sample_tokens(Compression::None)],
        rrsync::fuzzing::token_plain,
    );
    smoke(
        "token_zstd",
        vec![sample_tokens(Compression::Zstd)],
        rrsync::fuzzing::token_zstd,
    );
    smoke(
        "token_lz4",
        vec![sample_tokens(Compression::Lz4)],
        rrsync::fuzzing::token_lz4,
    );
    let mut z = vec![0u8];
    z.extend(sample_tokens(Compression::Zlib));
    smoke("token_zlib", vec![z], rrsync::fuzzing::token_zlib);
}

#[test]
fn fuzz_smoke_text() {
    let rules = [
        &b"- *.o"[..],
        b"+ */",
        b"dir-merge .rsync-filter",
        b"- foo\\",
    ];
    let mut fl = vec![5u8];
    for r in rules {
        fl.extend_from_slice(&(r.len() as i32).to_le_bytes());
        fl.extend_from_slice(r);
    }
    fl.extend_from_slice(&0i32.to_le_bytes());
    smoke("filter_rules", vec![fl], rrsync::fuzzing::filter_rules);
    let cmd = b"rsync --server --sender -vlogDtpre.iLsfxCIvu --timeout=5 -B 2048 . dir/".to_vec();
    smoke(
        "forced_command",
        vec![cmd.clone()],
        rrsync::fuzzing::forced_command,
    );
    let argv: Vec<u8> = cmd
        .split(|&b| b == b' ')
        .skip(1)
        .collect::<Vec<_>>()
        .join(&0u8);
    smoke("server_args", vec![argv], rrsync::fuzzing::server_args);
    smoke(
        "secluded_args",
        vec![b"\0rsync\0-rlt\0--delete\0.\0dst/\0\0".to_vec()],
        rrsync::fuzzing::secluded_args,
    );
}
