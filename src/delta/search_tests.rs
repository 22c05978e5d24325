//! The resumable search against the old one-call `run` (`matcher_oracle`):
//! any split of the file gives the same tokens and whole-file checksum, and
//! each call emits at most one buffer's worth.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::matcher_oracle::OracleMatcher;
use super::search::READ_CHUNK;
use super::signature::signature_of;
use super::*;
use crate::checksum::{Digest, StrongKind, SumHead};
use proptest::prelude::*;
use std::io::{self, Read};

const SEED: i32 = 0x1234;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Lit(Vec<u8>),
    Blk(u32, Vec<u8>),
}

impl Tok {
    fn of(t: Token<'_>) -> Self {
        match t {
            Token::Literal(d) => Tok::Lit(d.to_vec()),
            Token::Block(i, d) => Tok::Blk(i, d.to_vec()),
        }
    }

    fn len(&self) -> usize {
        match self {
            Tok::Lit(d) | Tok::Blk(_, d) => d.len(),
        }
    }
}

/// How a signature is bent before matching.
#[derive(Clone, Copy, Debug)]
enum SigMode {
    /// As the basis gives it.
    Real,
    /// Every other block keeps its weak sum but gets a wrong strong sum:
    /// weak hits that are false alarms, spending the budget.
    FalseAlarms,
    /// Every block takes the weak sum of block 0: one long run of equal
    /// weak sums, told apart by strong sums only.
    EqualWeak,
}

fn signature(basis: &[u8], blen: Option<u32>, kind: StrongKind, mode: SigMode) -> Signature {
    let head =
        SumHead::for_file(basis.len() as u64, 31, blen, kind.digest_len(), false).expect("head");
    let mut sig = signature_of(basis, head, kind, SEED, true).expect("sig");
    let first = sig.blocks.first().map(|b| b.weak);
    for (i, b) in sig.blocks.iter_mut().enumerate() {
        match mode {
            SigMode::Real => {}
            SigMode::FalseAlarms if i % 2 == 1 => {
                let mut bytes = b.strong.as_bytes().to_vec();
                if let Some(x) = bytes.first_mut() {
                    *x ^= 0xA5;
                }
                b.strong = Digest::from_slice(&bytes);
            }
            SigMode::FalseAlarms => {}
            SigMode::EqualWeak => b.weak = first.unwrap_or(b.weak),
        }
    }
    sig
}

type Outcome = (Vec<Tok>, io::Result<Digest>);

fn oracle(
    sig: &Signature,
    kind: StrongKind,
    inplace: bool,
    src: &mut impl Read,
    len: u64,
    chunk: usize,
    budget: Option<u64>,
) -> Outcome {
    let mut m = OracleMatcher::new(sig, kind, SEED, true);
    m.set_inplace(inplace);
    let mut toks = Vec::new();
    let r = m.run_with(
        src,
        len,
        &mut |t| {
            toks.push(Tok::of(t));
            Ok(())
        },
        chunk,
        budget,
    );
    (toks, r)
}

/// Feed `target` through the new form in pieces whose sizes `next` gives;
/// also returns the most file bytes the tokens of one call covered.
fn fed(
    m: &Matcher<'_>,
    target: &[u8],
    chunk: usize,
    budget: Option<u64>,
    next: &mut impl FnMut() -> usize,
) -> (Vec<Tok>, Digest, usize) {
    let mut search = m.search_with(target.len() as u64, chunk, budget);
    let mut toks: Vec<Tok> = Vec::new();
    let mut most = 0;
    let mut rest = target;
    while !rest.is_empty() {
        let want = next().clamp(1, rest.len());
        let before = toks.len();
        let n = search
            .feed(&rest[..want], &mut |t| {
                toks.push(Tok::of(t));
                Ok(())
            })
            .expect("feed");
        assert!(n > 0 && n <= want, "took {n} of {want}");
        most = most.max(toks[before..].iter().map(Tok::len).sum());
        rest = &rest[n..];
    }
    assert!(search.is_complete());
    // Nothing more to take once complete.
    assert_eq!(
        search
            .feed(b"x", &mut |_| panic!("token after the end"))
            .expect("feed"),
        0
    );
    (toks, search.finish().expect("finish"), most)
}

/// Splits: 1 byte, 7 bytes, 4096 bytes, the given sizes in turn, all at once.
fn check_all_splits(
    sig: &Signature,
    kind: StrongKind,
    inplace: bool,
    target: &[u8],
    chunk: usize,
    budget: Option<u64>,
    sizes: &[usize],
) -> Result<(), TestCaseError> {
    let (want_toks, want_sum) = oracle(
        sig,
        kind,
        inplace,
        &mut &target[..],
        target.len() as u64,
        chunk,
        budget,
    );
    let want_sum = want_sum.expect("oracle");
    let mut m = Matcher::new(sig, kind, SEED, true);
    m.set_inplace(inplace);
    let bound = chunk + 2 * sig.head.block_len as usize;
    let mut k = 0usize;
    let mut sized = || {
        k += 1;
        sizes.get(k % sizes.len().max(1)).copied().unwrap_or(1)
    };
    let results = [
        fed(&m, target, chunk, budget, &mut || 1),
        fed(&m, target, chunk, budget, &mut || 7),
        fed(&m, target, chunk, budget, &mut || 4096),
        fed(&m, target, chunk, budget, &mut sized),
        fed(&m, target, chunk, budget, &mut || usize::MAX),
    ];
    for (n, (toks, sum, most)) in results.into_iter().enumerate() {
        prop_assert_eq!(&toks, &want_toks, "split {}", n);
        prop_assert_eq!(sum, want_sum, "split {}", n);
        prop_assert!(
            most <= bound,
            "split {}: {} bytes of tokens in one call",
            n,
            most
        );
    }
    Ok(())
}

/// The basis with some edits, so blocks move, repeat and vanish.
fn edit(basis: &[u8], edits: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut t = basis.to_vec();
    for &(at, op, byte) in edits {
        let at = if t.is_empty() { 0 } else { at % (t.len() + 1) };
        match op % 4 {
            0 => t.insert(at, byte),
            1 if at < t.len() => {
                t.remove(at);
            }
            2 if at < t.len() => t[at] = byte,
            _ => {
                let end = (at + byte as usize * 7).min(t.len());
                let chunk = t[at..end].to_vec();
                t.extend_from_slice(&chunk);
            }
        }
    }
    t
}

const KINDS: [StrongKind; 4] = [
    StrongKind::Xxh128,
    StrongKind::Md5,
    StrongKind::Md4Old,
    StrongKind::Xxh3,
];
const MODES: [SigMode; 3] = [SigMode::Real, SigMode::FalseAlarms, SigMode::EqualWeak];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]
    #[test]
    fn pieces_give_the_oracles_tokens(
        basis in proptest::collection::vec(0u8..4, 0..2500),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..8),
        blen in prop_oneof![Just(None), Just(Some(1u32)), Just(Some(7)), Just(Some(64)), Just(Some(333))],
        k in 0usize..4,
        mode in 0usize..3,
        inplace in any::<bool>(),
        chunk in prop_oneof![Just(1usize), Just(5), Just(64), Just(700), Just(READ_CHUNK)],
        budget in prop_oneof![Just(None), Just(Some(0u64)), Just(Some(200)), Just(Some(5000))],
        sizes in proptest::collection::vec(1usize..900, 1..20),
    ) {
        let kind = KINDS[k];
        let target = edit(&basis, &edits);
        let sig = signature(&basis, blen, kind, MODES[mode]);
        check_all_splits(&sig, kind, inplace, &target, chunk, budget, &sizes)?;
    }
}

/// Empty files, files shorter than a block, exactly N blocks, a short last
/// block, with the real buffer and with small ones.
#[test]
fn edge_lengths_give_the_oracles_tokens() {
    let blen = 100usize;
    let pattern: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
    for basis_len in [0, 1, 99, 100, 300, 350] {
        let basis = &pattern[..basis_len];
        for target_len in [0, 1, 50, 99, 100, 101, 300, 349, 350, 351, 1000] {
            let target = &pattern[..target_len];
            for mode in MODES {
                let sig = signature(basis, Some(blen as u32), StrongKind::Md5, mode);
                for inplace in [false, true] {
                    for chunk in [1, 99, 100, 201, READ_CHUNK] {
                        check_all_splits(
                            &sig,
                            StrongKind::Md5,
                            inplace,
                            target,
                            chunk,
                            None,
                            &[3, 1, 250],
                        )
                        .unwrap();
                    }
                }
            }
        }
    }
}

fn xorshift(n: usize, mut x: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A file of several real buffers, with blocks moved and changed, in the
/// pieces the sender will use; each call emits at most one buffer.
#[test]
fn large_file_in_pieces_with_the_real_buffer() {
    let basis = xorshift(900_000, 0x9E37_79B9);
    let mut target = basis[300_000..].to_vec();
    target.extend_from_slice(&basis[..300_000]);
    target.splice(123_456..123_456, xorshift(5000, 7));
    target[700_001] ^= 1;
    target.extend_from_slice(&basis[5..1234]);
    for mode in [SigMode::Real, SigMode::FalseAlarms] {
        let sig = signature(&basis, Some(1000), StrongKind::Xxh128, mode);
        check_all_splits(
            &sig,
            StrongKind::Xxh128,
            false,
            &target,
            READ_CHUNK,
            None,
            &[65_536, 1, 300_000, 17],
        )
        .unwrap();
    }
}

/// Feeding a whole large file: each call takes at most a buffer's room and
/// emits at most a buffer's tokens, and the file takes several calls.
#[test]
fn output_per_call_is_bounded() {
    let data = xorshift(3 * READ_CHUNK + 12_345, 99);
    let sig = signature(&data, Some(700), StrongKind::Md5, SigMode::Real);
    let m = Matcher::new(&sig, StrongKind::Md5, SEED, true);
    let mut search = m.search(data.len() as u64);
    let mut rest = &data[..];
    let mut calls = 0;
    while !rest.is_empty() {
        // Each read goes to a 64-byte boundary (a misaligned one costs the
        // kernel's copy three times as much).
        let at = search.space().as_ptr() as usize;
        assert_eq!(at % crate::iobuf::ALIGN, 0, "read {calls} is misaligned");
        let mut covered = 0usize;
        let n = search
            .feed(rest, &mut |t| {
                covered += Tok::of(t).len();
                Ok(())
            })
            .expect("feed");
        assert!(n <= READ_CHUNK + 2 * 700, "took {n}");
        assert!(covered <= READ_CHUNK + 2 * 700, "emitted {covered}");
        rest = &rest[n..];
        calls += 1;
    }
    assert!(calls >= 4, "{calls} calls");
    let (_, want) = oracle(
        &sig,
        StrongKind::Md5,
        false,
        &mut &data[..],
        data.len() as u64,
        READ_CHUNK,
        None,
    );
    assert_eq!(search.finish().expect("finish"), want.expect("oracle"));
}

/// A reader that hands out `data` in pieces, then fails.
struct Failing<'a> {
    data: &'a [u8],
    piece: usize,
}

impl Read for Failing<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.data.is_empty() {
            return Err(io::Error::other("disk on fire"));
        }
        let n = out.len().min(self.piece).min(self.data.len());
        out[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// `run` over a reader in odd pieces gives the oracle's tokens; a read
/// error mid-file reaches the caller after the same tokens.
#[test]
fn run_matches_oracle_and_reports_read_errors() {
    let basis = xorshift(700_000, 5);
    let mut target = basis.clone();
    target[400_000] ^= 0xFF;
    let sig = signature(&basis, None, StrongKind::Xxh3, SigMode::Real);
    for (have, piece) in [
        (700_000usize, 4093usize),
        (700_000, 1 << 20),
        (500_000, 777),
        (0, 1),
    ] {
        let len = target.len() as u64;
        let (want_toks, want) = oracle(
            &sig,
            StrongKind::Xxh3,
            false,
            &mut Failing {
                data: &target[..have],
                piece,
            },
            len,
            READ_CHUNK,
            None,
        );
        let mut m = Matcher::new(&sig, StrongKind::Xxh3, SEED, true);
        let mut toks = Vec::new();
        let got = m.run(
            &mut Failing {
                data: &target[..have],
                piece,
            },
            len,
            &mut |t| {
                toks.push(Tok::of(t));
                Ok(())
            },
        );
        assert_eq!(toks, want_toks, "have {have}");
        match (got, want) {
            (Ok(a), Ok(b)) => assert_eq!(a, b),
            (Err(a), Err(b)) => {
                assert_eq!(a.kind(), b.kind());
                assert_eq!(a.to_string(), "disk on fire");
            }
            (a, b) => panic!("have {have}: {a:?} vs {b:?}"),
        }
    }
}

#[test]
fn misuse_is_an_error() {
    let basis = xorshift(5000, 3);
    let sig = signature(&basis, Some(100), StrongKind::Md5, SigMode::Real);
    let m = Matcher::new(&sig, StrongKind::Md5, SEED, true);
    let mut s = m.search(10);
    let room = s.space().len();
    assert_eq!(room, 10);
    let e = s.commit(room + 1, &mut |_| Ok(())).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    s.feed(&basis[..4], &mut |_| Ok(())).expect("feed");
    assert_eq!(s.space().len(), 6);
    assert_eq!(s.finish().unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
    // A sink's error stops the search and reaches the caller.
    let mut s = m.search(basis.len() as u64);
    let e = s
        .feed(&basis, &mut |_| Err(io::Error::other("full")))
        .unwrap_err();
    assert_eq!(e.to_string(), "full");
}

/// The false-alarm budget runs out at the same offset as in one pass: a
/// pause must not try a window again (that would hash it twice). The first
/// 30 blocks are false alarms, the last 10 real; swept over shifts of the
/// file against the buffer and budgets a block apart, so that some pause
/// falls on a false alarm and the budget decides whether the real blocks
/// still match.
#[test]
fn budget_spent_as_in_one_pass() {
    let blen = 8usize;
    let basis = xorshift(40 * blen, 11);
    let mut sig = signature(&basis, Some(blen as u32), StrongKind::Md5, SigMode::Real);
    for b in sig.blocks.iter_mut().take(30) {
        let mut bytes = b.strong.as_bytes().to_vec();
        bytes[0] ^= 0xA5;
        b.strong = Digest::from_slice(&bytes);
    }
    for shift in 0..blen {
        let mut target = xorshift(shift, 12);
        target.extend_from_slice(&basis);
        for chunk in [1, 2, 3, 9] {
            for spent in 25..40u64 {
                let budget = Some(spent * blen as u64);
                check_all_splits(
                    &sig,
                    StrongKind::Md5,
                    false,
                    &target,
                    chunk,
                    budget,
                    &[5, 2],
                )
                .unwrap();
            }
        }
    }
}

/// Feeds all of `target` to `search` at once; the tokens it emits.
fn feed_whole(search: &mut Search<'_>, target: &[u8]) -> Vec<Tok> {
    let mut toks = Vec::new();
    let mut rest = target;
    while !rest.is_empty() {
        let n = search
            .feed(rest, &mut |t| {
                toks.push(Tok::of(t));
                Ok(())
            })
            .expect("feed");
        rest = &rest[n..];
    }
    toks
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// A search in what earlier searches left (larger or smaller buffers,
    /// another hash kind or the same) finds exactly what a fresh one finds.
    #[test]
    fn reused_buffer_and_hash_change_nothing(
        files in proptest::collection::vec(
            (proptest::collection::vec(0u8..4, 0..3000), 0usize..4, any::<bool>()),
            1..5,
        ),
    ) {
        let mut spare = Spare::default();
        for (basis, k, new_file) in &files {
            let kind = KINDS[*k];
            let target = edit(basis, &[(basis.len() / 3, 1, 2)]);
            let sig = if *new_file {
                Signature::from_blocks(SumHead::EMPTY, Vec::new())
            } else {
                signature(basis, Some(64), kind, SigMode::Real)
            };
            let m = Matcher::new(&sig, kind, SEED, true);
            let mut fresh = m.search(target.len() as u64);
            let want = (feed_whole(&mut fresh, &target), fresh.finish().expect("finish"));
            let mut reused = m.search_reusing(target.len() as u64, &mut spare);
            let got = feed_whole(&mut reused, &target);
            prop_assert_eq!(&got, &want.0);
            prop_assert_eq!(reused.finish_into(&mut spare).expect("finish"), want.1);
        }
    }
}
