//! Strong checksums: `checksum.c get_checksum2` (block sums) and
//! `sum_init`/`sum_update`/`sum_end` (whole-file transfer sums), protocols 27–32.
//!
//! What the protocol distinguishes, per kind:
//!
//! | kind | block sum | whole-file sum | digest |
//! |---|---|---|---|
//! | `Md4Old` (27–29, not negotiated) | MD4(data ‖ seed) if seed≠0 | MD4(seed ‖ data), seed always | 16 |
//! | `Md4` (named "md4") | MD4(data ‖ seed) if seed≠0 | MD4(data) | 16 |
//! | `Md5` | MD5(seed ‖ data) with `CF_CHKSUM_SEED_FIX`, else MD5(data ‖ seed); seed only if ≠0 | MD5(data) | 16 |
//! | `Xxh64`, `Xxh3` | XXH64/XXH3-64 with the seed (sign-extended) | unseeded | 8 |
//! | `Xxh128` | XXH3-128 with the seed; low then high half | unseeded | 16 |
//! | `Sha1` | SHA1(seed ‖ data), seed only if ≠0 | SHA1(data) | 20 |
//! | `None` | (never used: `none` forces whole-file) | one zero byte | 1 |
//!
//! Seeds are written as 4 little-endian bytes. For protocols ≥ 27 rsync's
//! own MD4 always pads the final block (including an empty or 64-multiple
//! tail) and counts bits modulo 2^64, i.e. it is standard MD4. The archaic
//! (< 21) and "busted" (21–26) variants, which skip the padding on 64-byte
//! multiples, are not implemented: the server speaks protocols 27–32 only.
//!
//! An rsync linked against an OpenSSL that still provides MD4 computes the
//! negotiated `md4` block sum with the seed *prepended*; builds on OpenSSL 3
//! (and the built-in code we mirror) append it. Negotiating `md4` at all
//! needs both sides to lack md5 and xxhash, so this is documented, not
//! modelled.

use sha1::{Digest as _, Sha1};
use xxhash_rust::xxh3::{xxh3_128_with_seed, xxh3_64_with_seed, Xxh3};
use xxhash_rust::xxh64::{xxh64, Xxh64};

use super::md::{update_pair, Md, Md4, Md4Rounds, Md5, Md5Rounds, Rounds};

/// Checksum names we offer in the `v` negotiation, best first
/// (`compat.c negotiate_the_strings`, rsync 3.5.0's table order).
pub const OUR_CHECKSUMS: &[&str] = &["xxh128", "xxh3", "xxh64", "md5", "md4", "sha1", "none"];

/// Longest digest any kind produces (SHA1's 20 bytes; a block sum is
/// still sent with at most 16 of them).
pub const MAX_DIGEST_LEN: usize = 20;

/// A strong checksum algorithm as rsync distinguishes them on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StrongKind {
    /// "none": no block sums, a one-byte zero file sum.
    None,
    /// Implied MD4 of protocols 27–29 (`CSUM_MD4_OLD`).
    Md4Old,
    /// MD4 chosen by name (`CSUM_MD4`).
    Md4,
    /// MD5 (`CSUM_MD5`): negotiated, or implied for protocol ≥ 30.
    Md5,
    /// XXH64 ("xxh64", alias "xxhash").
    Xxh64,
    /// XXH3 64-bit ("xxh3").
    Xxh3,
    /// XXH3 128-bit ("xxh128").
    Xxh128,
    /// SHA-1 ("sha1", `CSUM_SHA1`): only by name.
    Sha1,
}

impl StrongKind {
    /// `parse_csum_name`: a checksum name (case-insensitive) or "auto".
    /// "auto" resolves by protocol; protocols below 27 give `None`.
    pub fn from_name(name: &str, protocol: u32) -> Option<Self> {
        let n = name.to_ascii_lowercase();
        Some(match n.as_str() {
            "auto" => return Self::implied(protocol),
            "xxh128" => Self::Xxh128,
            "xxh3" => Self::Xxh3,
            "xxh64" | "xxhash" => Self::Xxh64,
            "md5" => Self::Md5,
            "md4" => Self::Md4,
            "sha1" => Self::Sha1,
            "none" => Self::None,
            _ => return None,
        })
    }

    /// The un-negotiated choice for a protocol (the `auto` branch of
    /// `parse_csum_name`).
    pub fn implied(protocol: u32) -> Option<Self> {
        match protocol {
            30.. => Some(Self::Md5),
            27..=29 => Some(Self::Md4Old),
            _ => None,
        }
    }

    /// The name rsync uses for this kind.
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Md4Old | Self::Md4 => "md4",
            Self::Md5 => "md5",
            Self::Xxh64 => "xxh64",
            Self::Xxh3 => "xxh3",
            Self::Xxh128 => "xxh128",
            Self::Sha1 => "sha1",
        }
    }

    /// Whether block sums and the file sum of this kind are hashed two
    /// at a time ([`block_sums_pair`], [`FileHasher::pair_with_block`]).
    pub fn hashes_in_pairs(self) -> bool {
        matches!(self, Self::Md4 | Self::Md4Old | Self::Md5)
    }

    /// `csum_len_for_type(kind, 0)`: bytes of a full digest, which is also
    /// the length of the whole-file sum on the wire (`xfer_sum_len`).
    pub fn digest_len(self) -> usize {
        match self {
            Self::None => 1,
            Self::Xxh64 | Self::Xxh3 => 8,
            Self::Md4Old | Self::Md4 | Self::Md5 | Self::Xxh128 => 16,
            Self::Sha1 => 20,
        }
    }
}

/// The checksum kind for a session: the negotiated name if any, else the
/// protocol's implied one.
pub fn default_for(protocol: u32, negotiated: Option<&str>) -> Option<StrongKind> {
    match negotiated {
        Some(name) => StrongKind::from_name(name, protocol),
        None => StrongKind::implied(protocol),
    }
}

/// A digest of up to 16 bytes.
/// Ordered bytewise (digests of one length compare like their bytes).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Digest {
    bytes: [u8; MAX_DIGEST_LEN],
    len: u8,
}

impl Digest {
    /// Build from a slice of at most 16 bytes (longer input is truncated).
    pub fn from_slice(s: &[u8]) -> Self {
        let mut bytes = [0u8; MAX_DIGEST_LEN];
        let n = s.len().min(MAX_DIGEST_LEN);
        bytes[..n].copy_from_slice(&s[..n]);
        Self {
            bytes,
            len: n as u8,
        }
    }

    /// The digest bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len).min(MAX_DIGEST_LEN)]
    }

    /// The first `n` bytes (the whole digest if shorter), as sent with an
    /// `s2length` of `n`.
    pub fn truncated(&self, n: usize) -> Self {
        let n = n.min(usize::from(self.len));
        let mut d = *self;
        d.len = n as u8;
        d.bytes[n..].fill(0);
        d
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether the digest has no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl std::fmt::Debug for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Digest(")?;
        for b in self.as_bytes() {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

/// `checksum_seed` as xxhash takes it: C converts the `int` to an unsigned
/// 64-bit value, sign-extending.
fn xxh_seed(seed: i32) -> u64 {
    i64::from(seed) as u64
}

/// `get_checksum2`: the strong sum of one block (full length; truncate to
/// `s2length` for the wire with [`Digest::truncated`]).
pub fn block_sum(kind: StrongKind, seed: i32, proper_seed_order: bool, data: &[u8]) -> Digest {
    let seed_le = seed.to_le_bytes();
    match kind {
        StrongKind::None => Digest::from_slice(&[0]),
        StrongKind::Md4 | StrongKind::Md4Old => {
            let first = md_seed_first(kind, proper_seed_order);
            let mut h = md_block_start::<Md4Rounds>(seed, first);
            h.update(data);
            md_block_end(h, seed, first)
        }
        StrongKind::Md5 => {
            let first = md_seed_first(kind, proper_seed_order);
            let mut h = md_block_start::<Md5Rounds>(seed, first);
            h.update(data);
            md_block_end(h, seed, first)
        }
        StrongKind::Sha1 => {
            // rsync hashes SHA-1 through OpenSSL's digest API, which puts
            // a non-zero seed first whatever the seed order.
            let mut h = Sha1::new();
            if seed != 0 {
                h.update(seed_le);
            }
            h.update(data);
            Digest::from_slice(&h.finalize())
        }
        StrongKind::Xxh64 => Digest::from_slice(&xxh64(data, xxh_seed(seed)).to_le_bytes()),
        StrongKind::Xxh3 => {
            Digest::from_slice(&xxh3_64_with_seed(data, xxh_seed(seed)).to_le_bytes())
        }
        StrongKind::Xxh128 => {
            Digest::from_slice(&xxh3_128_with_seed(data, xxh_seed(seed)).to_le_bytes())
        }
    }
}

/// Whether an MD4 or MD5 block sum puts its seed first: MD5 with
/// `CF_CHKSUM_SEED_FIX`; MD4 always puts it last.
fn md_seed_first(kind: StrongKind, proper_seed_order: bool) -> bool {
    kind == StrongKind::Md5 && proper_seed_order
}

/// An MD4 or MD5 block sum's hash after its leading seed, if it has one.
fn md_block_start<R: Rounds>(seed: i32, seed_first: bool) -> Md<R> {
    let mut h = Md::new();
    if seed != 0 && seed_first {
        h.update(&seed.to_le_bytes());
    }
    h
}

/// The block sum from its hash over the data: the trailing seed, if it
/// has one, then the digest.
fn md_block_end<R: Rounds>(mut h: Md<R>, seed: i32, seed_first: bool) -> Digest {
    if seed != 0 && !seed_first {
        h.update(&seed.to_le_bytes());
    }
    Digest::from_slice(&h.finalize())
}

/// Two block sums of one MD kind at once.
fn md_pair<R: Rounds>(seed: i32, seed_first: bool, a: &[u8], b: &[u8]) -> [Digest; 2] {
    let (mut ha, mut hb) = (
        md_block_start::<R>(seed, seed_first),
        md_block_start::<R>(seed, seed_first),
    );
    update_pair(&mut ha, a, &mut hb, b);
    [
        md_block_end(ha, seed, seed_first),
        md_block_end(hb, seed, seed_first),
    ]
}

/// The block sums of two blocks at once, as [`block_sum`] gives each, for
/// the kinds hashed in two lanes (MD4 and MD5); `None` for the others.
pub fn block_sums_pair(
    kind: StrongKind,
    seed: i32,
    proper_seed_order: bool,
    a: &[u8],
    b: &[u8],
) -> Option<[Digest; 2]> {
    let first = md_seed_first(kind, proper_seed_order);
    match kind {
        StrongKind::Md5 => Some(md_pair::<Md5Rounds>(seed, first, a, b)),
        StrongKind::Md4 | StrongKind::Md4Old => Some(md_pair::<Md4Rounds>(seed, first, a, b)),
        _ => None,
    }
}

#[derive(Clone)]
enum State {
    None,
    Md4(Md4),
    Md5(Md5),
    Sha1(Sha1),
    Xxh64(Xxh64),
    Xxh3(Box<Xxh3>),
    Xxh128(Box<Xxh3>),
}

/// `sum_init`/`sum_update`/`sum_end`: the whole-file checksum that follows
/// a file's tokens (sender `match_sums`, receiver `receive_data`).
#[derive(Clone)]
pub struct FileHasher {
    state: State,
}

impl FileHasher {
    /// `sum_init(kind, seed)`. Only the implied MD4 of protocols 27–29 uses
    /// the seed (prepended, even when zero).
    pub fn new(kind: StrongKind, seed: i32) -> Self {
        let state = match kind {
            StrongKind::None => State::None,
            StrongKind::Md4 => State::Md4(Md4::new()),
            StrongKind::Md4Old => {
                let mut h = Md4::new();
                h.update(&seed.to_le_bytes());
                State::Md4(h)
            }
            StrongKind::Md5 => State::Md5(Md5::new()),
            StrongKind::Sha1 => State::Sha1(Sha1::new()),
            StrongKind::Xxh64 => State::Xxh64(Xxh64::new(0)),
            StrongKind::Xxh3 => State::Xxh3(Box::new(Xxh3::new())),
            StrongKind::Xxh128 => State::Xxh128(Box::new(Xxh3::new())),
        };
        Self { state }
    }

    /// `sum_update`.
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.state {
            State::None => {}
            State::Md4(h) => h.update(data),
            State::Md5(h) => h.update(data),
            State::Sha1(h) => h.update(data),
            State::Xxh64(h) => h.update(data),
            State::Xxh3(h) | State::Xxh128(h) => h.update(data),
        }
    }

    /// For an MD4 or MD5 file sum: the block sum of `block` (as
    /// [`block_sum`] gives it for this kind) and this hash advanced over
    /// `data`, in one two-lane pass (a matched block is hashed for both).
    /// `None` for other kinds.
    pub fn pair_with_block(
        &self,
        seed: i32,
        proper_seed_order: bool,
        block: &[u8],
        data: &[u8],
    ) -> Option<(Digest, FileHasher)> {
        fn pair<R: Rounds>(
            file: &Md<R>,
            seed: i32,
            seed_first: bool,
            block: &[u8],
            data: &[u8],
        ) -> (Digest, Md<R>) {
            let mut file = file.clone();
            let mut h = md_block_start::<R>(seed, seed_first);
            update_pair(&mut h, block, &mut file, data);
            (md_block_end(h, seed, seed_first), file)
        }
        let first = |kind| md_seed_first(kind, proper_seed_order);
        let (digest, state) = match &self.state {
            State::Md5(f) => {
                let (d, f) = pair(f, seed, first(StrongKind::Md5), block, data);
                (d, State::Md5(f))
            }
            State::Md4(f) => {
                let (d, f) = pair(f, seed, first(StrongKind::Md4), block, data);
                (d, State::Md4(f))
            }
            _ => return None,
        };
        Some((digest, FileHasher { state }))
    }

    /// `sum_end`: the digest, `digest_len()` bytes long.
    pub fn finish(self) -> Digest {
        self.digest()
    }

    /// [`Self::finish`] without giving the state up, so that it can be
    /// [restarted](Self::restart) for the next file.
    pub fn digest(&self) -> Digest {
        match &self.state {
            State::None => Digest::from_slice(&[0]),
            State::Md4(h) => Digest::from_slice(&h.clone().finalize()),
            State::Md5(h) => Digest::from_slice(&h.clone().finalize()),
            State::Sha1(h) => Digest::from_slice(&h.clone().finalize()),
            State::Xxh64(h) => Digest::from_slice(&h.digest().to_le_bytes()),
            State::Xxh3(h) => Digest::from_slice(&h.digest().to_le_bytes()),
            State::Xxh128(h) => Digest::from_slice(&h.digest128().to_le_bytes()),
        }
    }

    /// `sum_init(kind, seed)` in place: the same as a new hasher, but an
    /// XXH3 state already allocated is reset rather than allocated again.
    pub fn restart(&mut self, kind: StrongKind, seed: i32) {
        match (&mut self.state, kind) {
            (State::Xxh3(h), StrongKind::Xxh3) | (State::Xxh128(h), StrongKind::Xxh128) => {
                h.reset()
            }
            _ => *self = Self::new(kind, seed),
        }
    }
}
