//! MD4 (RFC 1320) and MD5 (RFC 1321), the strong sums of rsync: MD4 for
//! protocols 27–29 and clients that negotiate `md4`, MD5 for protocols 30
//! and 31 and clients that negotiate `md5` (`checksum.c`, through OpenSSL
//! or rsync's own `mdfour.c` and `md5.c`), in one lane or two.
//!
//! Why our own: a delta over unchanged data hashes every byte twice,
//! once for the block's sum and once for the whole-file sum. Each hash's
//! steps are one dependency chain, so a single hash leaves most of the
//! core idle; [`update_pair`] runs two hashes step for step in one loop,
//! which costs little more than one. The two share everything but their
//! rounds: state, padding and length encoding are the same.

use std::marker::PhantomData;

/// The initial state.
const INIT: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];

/// The rounds of one algorithm, for `N` independent lanes.
pub trait Rounds {
    /// Compresses one 64-byte block (as 16 words) into each lane's state.
    fn rounds<const N: usize>(s: &mut [[u32; 4]; N], m: &[[u32; 16]; N]);
}

/// MD5's rounds.
#[derive(Clone, Copy)]
pub struct Md5Rounds;

/// MD4's rounds.
#[derive(Clone, Copy)]
pub struct Md4Rounds;

/// An MD5 hash in progress.
pub type Md5 = Md<Md5Rounds>;

/// An MD4 hash in progress.
pub type Md4 = Md<Md4Rounds>;

/// An MD4 or MD5 hash in progress.
pub struct Md<R> {
    rounds: PhantomData<R>,
    state: [u32; 4],
    /// Bytes of an incomplete 64-byte block.
    buf: [u8; 64],
    held: usize,
    /// Bytes hashed so far.
    len: u64,
}

impl<R> Clone for Md<R> {
    fn clone(&self) -> Self {
        Self {
            rounds: PhantomData,
            state: self.state,
            buf: self.buf,
            held: self.held,
            len: self.len,
        }
    }
}

impl<R: Rounds> Default for Md<R> {
    fn default() -> Self {
        Self::new()
    }
}

impl<R: Rounds> Md<R> {
    /// A fresh hash.
    pub fn new() -> Self {
        Self {
            rounds: PhantomData,
            state: INIT,
            buf: [0; 64],
            held: 0,
            len: 0,
        }
    }

    /// Hashes `data`.
    pub fn update(&mut self, data: &[u8]) {
        let mut feed = Feed::start(self, data);
        while let Some(m) = feed.next() {
            compress(self, &m);
        }
        feed.keep_rest(self);
    }

    /// The digest.
    pub fn finalize(mut self) -> [u8; 16] {
        let bits = self.len.wrapping_mul(8);
        let mut pad = [0u8; 64];
        pad[0] = 0x80;
        let n = if self.held < 56 {
            56 - self.held
        } else {
            120 - self.held
        };
        self.update(pad.get(..n).unwrap_or_default());
        self.update(&bits.to_le_bytes());
        let mut out = [0u8; 16];
        for (o, w) in out.chunks_exact_mut(4).zip(self.state) {
            o.copy_from_slice(&w.to_le_bytes());
        }
        out
    }
}

/// Hashes `da` into `a` and `db` into `b`, two blocks at a time while
/// both have one.
pub fn update_pair<R: Rounds>(a: &mut Md<R>, da: &[u8], b: &mut Md<R>, db: &[u8]) {
    let mut fa = Feed::start(a, da);
    let mut fb = Feed::start(b, db);
    loop {
        match (fa.next(), fb.next()) {
            (Some(ma), Some(mb)) => {
                let mut s = [a.state, b.state];
                R::rounds(&mut s, &[ma, mb]);
                [a.state, b.state] = s;
            }
            (Some(ma), None) => {
                compress(a, &ma);
                while let Some(m) = fa.next() {
                    compress(a, &m);
                }
                break;
            }
            (None, Some(mb)) => {
                compress(b, &mb);
                while let Some(m) = fb.next() {
                    compress(b, &m);
                }
                break;
            }
            (None, None) => break,
        }
    }
    fa.keep_rest(a);
    fb.keep_rest(b);
}

/// The whole blocks of one update: the held bytes completed from the
/// data, if that fills them, then the data's own blocks.
struct Feed<'d> {
    first: Option<[u8; 64]>,
    blocks: std::slice::ChunksExact<'d, u8>,
}

impl<'d> Feed<'d> {
    fn start<R>(h: &mut Md<R>, data: &'d [u8]) -> Self {
        h.len = h.len.wrapping_add(data.len() as u64);
        let mut data = data;
        let mut first = None;
        if h.held > 0 {
            let take = (64 - h.held).min(data.len());
            let (head, rest) = data.split_at(take);
            if let Some(dst) = h.buf.get_mut(h.held..h.held + take) {
                dst.copy_from_slice(head);
            }
            h.held += take;
            data = rest;
            if h.held == 64 {
                first = Some(h.buf);
                h.held = 0;
            }
        }
        Self {
            first,
            blocks: data.chunks_exact(64),
        }
    }

    fn next(&mut self) -> Option<[u32; 16]> {
        match self.first.take() {
            Some(b) => Some(words(&b)),
            None => self.blocks.next().map(words),
        }
    }

    /// Holds the bytes after the last whole block (the buffer is empty
    /// whenever there are any: the data first completed it).
    fn keep_rest<R>(self, h: &mut Md<R>) {
        let rest = self.blocks.remainder();
        if let Some(dst) = h.buf.get_mut(..rest.len()) {
            if !rest.is_empty() {
                dst.copy_from_slice(rest);
                h.held = rest.len();
            }
        }
    }
}

fn words(block: &[u8]) -> [u32; 16] {
    let mut m = [0u32; 16];
    for (w, b) in m.iter_mut().zip(block.chunks_exact(4)) {
        *w = u32::from_le_bytes(b.try_into().unwrap_or_default());
    }
    m
}

fn compress<R: Rounds>(h: &mut Md<R>, m: &[u32; 16]) {
    let mut s = [h.state];
    R::rounds(&mut s, &[*m]);
    [h.state] = s;
}

#[inline(always)]
fn ff(x: u32, y: u32, z: u32) -> u32 {
    z ^ (x & (y ^ z))
}

#[inline(always)]
fn gg(x: u32, y: u32, z: u32) -> u32 {
    (x & z) | (y & !z)
}

#[inline(always)]
fn hh(x: u32, y: u32, z: u32) -> u32 {
    x ^ y ^ z
}

#[inline(always)]
fn ii(x: u32, y: u32, z: u32) -> u32 {
    y ^ (x | !z)
}

impl Rounds for Md5Rounds {
    /// The 64 steps, each done for every lane before the next.
    #[inline(always)]
    fn rounds<const N: usize>(s: &mut [[u32; 4]; N], m: &[[u32; 16]; N]) {
        md5_rounds(s, m);
    }
}

#[inline(always)]
#[allow(clippy::needless_range_loop)]
fn md5_rounds<const N: usize>(s: &mut [[u32; 4]; N], m: &[[u32; 16]; N]) {
    let [mut a, mut b, mut c, mut d] = load(s);
    macro_rules! st {
        ($f:ident, $a:ident, $b:ident, $c:ident, $d:ident, $g:expr, $k:expr, $r:expr) => {
            for l in 0..N {
                $a[l] = $b[l].wrapping_add(
                    $a[l]
                        .wrapping_add($f($b[l], $c[l], $d[l]))
                        .wrapping_add($k)
                        .wrapping_add(m[l][$g])
                        .rotate_left($r),
                );
            }
        };
    }
    st!(ff, a, b, c, d, 0, 0xd76aa478, 7);
    st!(ff, d, a, b, c, 1, 0xe8c7b756, 12);
    st!(ff, c, d, a, b, 2, 0x242070db, 17);
    st!(ff, b, c, d, a, 3, 0xc1bdceee, 22);
    st!(ff, a, b, c, d, 4, 0xf57c0faf, 7);
    st!(ff, d, a, b, c, 5, 0x4787c62a, 12);
    st!(ff, c, d, a, b, 6, 0xa8304613, 17);
    st!(ff, b, c, d, a, 7, 0xfd469501, 22);
    st!(ff, a, b, c, d, 8, 0x698098d8, 7);
    st!(ff, d, a, b, c, 9, 0x8b44f7af, 12);
    st!(ff, c, d, a, b, 10, 0xffff5bb1, 17);
    st!(ff, b, c, d, a, 11, 0x895cd7be, 22);
    st!(ff, a, b, c, d, 12, 0x6b901122, 7);
    st!(ff, d, a, b, c, 13, 0xfd987193, 12);
    st!(ff, c, d, a, b, 14, 0xa679438e, 17);
    st!(ff, b, c, d, a, 15, 0x49b40821, 22);
    st!(gg, a, b, c, d, 1, 0xf61e2562, 5);
    st!(gg, d, a, b, c, 6, 0xc040b340, 9);
    st!(gg, c, d, a, b, 11, 0x265e5a51, 14);
    st!(gg, b, c, d, a, 0, 0xe9b6c7aa, 20);
    st!(gg, a, b, c, d, 5, 0xd62f105d, 5);
    st!(gg, d, a, b, c, 10, 0x02441453, 9);
    st!(gg, c, d, a, b, 15, 0xd8a1e681, 14);
    st!(gg, b, c, d, a, 4, 0xe7d3fbc8, 20);
    st!(gg, a, b, c, d, 9, 0x21e1cde6, 5);
    st!(gg, d, a, b, c, 14, 0xc33707d6, 9);
    st!(gg, c, d, a, b, 3, 0xf4d50d87, 14);
    st!(gg, b, c, d, a, 8, 0x455a14ed, 20);
    st!(gg, a, b, c, d, 13, 0xa9e3e905, 5);
    st!(gg, d, a, b, c, 2, 0xfcefa3f8, 9);
    st!(gg, c, d, a, b, 7, 0x676f02d9, 14);
    st!(gg, b, c, d, a, 12, 0x8d2a4c8a, 20);
    st!(hh, a, b, c, d, 5, 0xfffa3942, 4);
    st!(hh, d, a, b, c, 8, 0x8771f681, 11);
    st!(hh, c, d, a, b, 11, 0x6d9d6122, 16);
    st!(hh, b, c, d, a, 14, 0xfde5380c, 23);
    st!(hh, a, b, c, d, 1, 0xa4beea44, 4);
    st!(hh, d, a, b, c, 4, 0x4bdecfa9, 11);
    st!(hh, c, d, a, b, 7, 0xf6bb4b60, 16);
    st!(hh, b, c, d, a, 10, 0xbebfbc70, 23);
    st!(hh, a, b, c, d, 13, 0x289b7ec6, 4);
    st!(hh, d, a, b, c, 0, 0xeaa127fa, 11);
    st!(hh, c, d, a, b, 3, 0xd4ef3085, 16);
    st!(hh, b, c, d, a, 6, 0x04881d05, 23);
    st!(hh, a, b, c, d, 9, 0xd9d4d039, 4);
    st!(hh, d, a, b, c, 12, 0xe6db99e5, 11);
    st!(hh, c, d, a, b, 15, 0x1fa27cf8, 16);
    st!(hh, b, c, d, a, 2, 0xc4ac5665, 23);
    st!(ii, a, b, c, d, 0, 0xf4292244, 6);
    st!(ii, d, a, b, c, 7, 0x432aff97, 10);
    st!(ii, c, d, a, b, 14, 0xab9423a7, 15);
    st!(ii, b, c, d, a, 5, 0xfc93a039, 21);
    st!(ii, a, b, c, d, 12, 0x655b59c3, 6);
    st!(ii, d, a, b, c, 3, 0x8f0ccc92, 10);
    st!(ii, c, d, a, b, 10, 0xffeff47d, 15);
    st!(ii, b, c, d, a, 1, 0x85845dd1, 21);
    st!(ii, a, b, c, d, 8, 0x6fa87e4f, 6);
    st!(ii, d, a, b, c, 15, 0xfe2ce6e0, 10);
    st!(ii, c, d, a, b, 6, 0xa3014314, 15);
    st!(ii, b, c, d, a, 13, 0x4e0811a1, 21);
    st!(ii, a, b, c, d, 4, 0xf7537e82, 6);
    st!(ii, d, a, b, c, 11, 0xbd3af235, 10);
    st!(ii, c, d, a, b, 2, 0x2ad7d2bb, 15);
    st!(ii, b, c, d, a, 9, 0xeb86d391, 21);
    add_back(s, [a, b, c, d]);
}

impl Rounds for Md4Rounds {
    /// The 48 steps, each done for every lane before the next.
    #[inline(always)]
    fn rounds<const N: usize>(s: &mut [[u32; 4]; N], m: &[[u32; 16]; N]) {
        md4_rounds(s, m);
    }
}

/// MD4's second round function (its first and third are MD5's `ff`
/// and `hh`).
#[inline(always)]
fn g4(x: u32, y: u32, z: u32) -> u32 {
    (x & y) | (x & z) | (y & z)
}

#[inline(always)]
#[allow(clippy::needless_range_loop)]
fn md4_rounds<const N: usize>(s: &mut [[u32; 4]; N], m: &[[u32; 16]; N]) {
    let [mut a, mut b, mut c, mut d] = load(s);
    macro_rules! st {
        ($f:ident, $a:ident, $b:ident, $c:ident, $d:ident, $g:expr, $k:expr, $r:expr) => {
            for l in 0..N {
                $a[l] = $a[l]
                    .wrapping_add($f($b[l], $c[l], $d[l]))
                    .wrapping_add($k)
                    .wrapping_add(m[l][$g])
                    .rotate_left($r);
            }
        };
    }
    st!(ff, a, b, c, d, 0, 0x00000000, 3);
    st!(ff, d, a, b, c, 1, 0x00000000, 7);
    st!(ff, c, d, a, b, 2, 0x00000000, 11);
    st!(ff, b, c, d, a, 3, 0x00000000, 19);
    st!(ff, a, b, c, d, 4, 0x00000000, 3);
    st!(ff, d, a, b, c, 5, 0x00000000, 7);
    st!(ff, c, d, a, b, 6, 0x00000000, 11);
    st!(ff, b, c, d, a, 7, 0x00000000, 19);
    st!(ff, a, b, c, d, 8, 0x00000000, 3);
    st!(ff, d, a, b, c, 9, 0x00000000, 7);
    st!(ff, c, d, a, b, 10, 0x00000000, 11);
    st!(ff, b, c, d, a, 11, 0x00000000, 19);
    st!(ff, a, b, c, d, 12, 0x00000000, 3);
    st!(ff, d, a, b, c, 13, 0x00000000, 7);
    st!(ff, c, d, a, b, 14, 0x00000000, 11);
    st!(ff, b, c, d, a, 15, 0x00000000, 19);
    st!(g4, a, b, c, d, 0, 0x5a827999, 3);
    st!(g4, d, a, b, c, 4, 0x5a827999, 5);
    st!(g4, c, d, a, b, 8, 0x5a827999, 9);
    st!(g4, b, c, d, a, 12, 0x5a827999, 13);
    st!(g4, a, b, c, d, 1, 0x5a827999, 3);
    st!(g4, d, a, b, c, 5, 0x5a827999, 5);
    st!(g4, c, d, a, b, 9, 0x5a827999, 9);
    st!(g4, b, c, d, a, 13, 0x5a827999, 13);
    st!(g4, a, b, c, d, 2, 0x5a827999, 3);
    st!(g4, d, a, b, c, 6, 0x5a827999, 5);
    st!(g4, c, d, a, b, 10, 0x5a827999, 9);
    st!(g4, b, c, d, a, 14, 0x5a827999, 13);
    st!(g4, a, b, c, d, 3, 0x5a827999, 3);
    st!(g4, d, a, b, c, 7, 0x5a827999, 5);
    st!(g4, c, d, a, b, 11, 0x5a827999, 9);
    st!(g4, b, c, d, a, 15, 0x5a827999, 13);
    st!(hh, a, b, c, d, 0, 0x6ed9eba1, 3);
    st!(hh, d, a, b, c, 8, 0x6ed9eba1, 9);
    st!(hh, c, d, a, b, 4, 0x6ed9eba1, 11);
    st!(hh, b, c, d, a, 12, 0x6ed9eba1, 15);
    st!(hh, a, b, c, d, 2, 0x6ed9eba1, 3);
    st!(hh, d, a, b, c, 10, 0x6ed9eba1, 9);
    st!(hh, c, d, a, b, 6, 0x6ed9eba1, 11);
    st!(hh, b, c, d, a, 14, 0x6ed9eba1, 15);
    st!(hh, a, b, c, d, 1, 0x6ed9eba1, 3);
    st!(hh, d, a, b, c, 9, 0x6ed9eba1, 9);
    st!(hh, c, d, a, b, 5, 0x6ed9eba1, 11);
    st!(hh, b, c, d, a, 13, 0x6ed9eba1, 15);
    st!(hh, a, b, c, d, 3, 0x6ed9eba1, 3);
    st!(hh, d, a, b, c, 11, 0x6ed9eba1, 9);
    st!(hh, c, d, a, b, 7, 0x6ed9eba1, 11);
    st!(hh, b, c, d, a, 15, 0x6ed9eba1, 15);
    add_back(s, [a, b, c, d]);
}

/// The lanes' states as four columns, `a` to `d`.
#[inline(always)]
#[allow(clippy::needless_range_loop)]
fn load<const N: usize>(s: &[[u32; 4]; N]) -> [[u32; N]; 4] {
    let mut v = [[0u32; N]; 4];
    for l in 0..N {
        [v[0][l], v[1][l], v[2][l], v[3][l]] = s[l];
    }
    v
}

/// Adds the columns back into the lanes' states (the end of a block).
#[inline(always)]
#[allow(clippy::needless_range_loop)]
fn add_back<const N: usize>(s: &mut [[u32; 4]; N], v: [[u32; N]; 4]) {
    for l in 0..N {
        for (w, col) in s[l].iter_mut().zip(v) {
            *w = w.wrapping_add(col[l]);
        }
    }
}
