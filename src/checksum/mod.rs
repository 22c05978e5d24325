//! Checksums used by the rsync delta algorithm (protocols 27–32).
//!
//! - [`md`]: MD4 and MD5 in one lane or two; a matched block's sum and
//!   the file sum, or two blocks' sums, are hashed in the same pass.
//! - [`rolling`]: the weak 32-bit rolling sum of `checksum.c get_checksum1`.
//! - [`strong`]: the block and whole-file strong sums of `checksum.c
//!   get_checksum2` and `sum_init`/`sum_update`/`sum_end`, with the per-protocol
//!   MD4 variants, MD5 seed placement (`CF_CHKSUM_SEED_FIX`) and seeded xxhash.
//! - [`sum_head`]: the block-sum header of `io.c read_sum_head`/`write_sum_head`
//!   and the block sizing of `generator.c sum_sizes_sqroot`.
//! - [`whole`]: the whole-file sum of `-c` (`checksum.c file_checksum`).

pub mod md;
pub mod rolling;
pub mod strong;
pub mod sum_head;
pub mod whole;

#[cfg(test)]
mod md_tests;
#[cfg(test)]
mod rolling_tests;
#[cfg(test)]
mod strong_tests;
#[cfg(test)]
mod sum_head_tests;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod whole_tests;

pub use rolling::{checksum1, Rolling};
pub use strong::{block_sum, default_for, Digest, FileHasher, StrongKind, OUR_CHECKSUMS};
#[cfg(test)]
pub use sum_head::SumHeadReadError;
pub use sum_head::{SumHead, SumHeadError};
pub use whole::file_sum;
