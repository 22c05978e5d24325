//! Checksum and compression name lists (`negotiate_the_strings`,
//! `parse_negotiate_str` and `parse_compress_choice` in `compat.c`).
//! Negotiation needs protocol 30 and the `v` capability (rsync 3.2+).

/// Checksums we offer, strongest first, in rsync's own table order so that
/// both sides pick the same one.
pub const CHECKSUM_NAMES: &[&str] = &["xxh128", "xxh3", "xxh64", "md5", "md4", "sha1", "none"];

/// Compressions we offer, in rsync's table order.
pub const COMPRESS_NAMES: &[&str] = &["zstd", "lz4", "zlibx", "zlib", "none"];

/// A parsed list of names.
pub type NameList = Vec<String>;

/// Picks our most preferred name that the peer also lists.
pub fn choose(ours: &[&'static str], theirs: &[u8]) -> Option<&'static str> {
    let theirs = String::from_utf8_lossy(theirs);
    let offered: Vec<&str> = theirs
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(alias)
        .collect();
    ours.iter().copied().find(|o| offered.contains(o))
}

fn alias(name: &str) -> &str {
    if name == "xxhash" {
        "xxh64"
    } else {
        name
    }
}

/// The token compression in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Plain tokens.
    None,
    /// zstd (`CPRES_ZSTD`).
    Zstd,
    /// Deflate with matched data fed into the dictionary (`CPRES_ZLIB`).
    Zlib,
    /// Deflate without that (`CPRES_ZLIBX`).
    ZlibX,
    /// LZ4 blocks, one per literal piece (`CPRES_LZ4`).
    Lz4,
}

impl Compression {
    /// Maps a negotiation name.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "none" => Self::None,
            "zstd" => Self::Zstd,
            "zlib" => Self::Zlib,
            "zlibx" => Self::ZlibX,
            "lz4" => Self::Lz4,
            _ => return None,
        })
    }

    /// Resolves `-z` and `--compress-choice` without negotiation.
    pub fn from_request(z: bool, choice: Option<&str>) -> Result<Self, String> {
        match choice {
            Some(c) if c.eq_ignore_ascii_case("auto") => {
                Ok(if z { Self::Zlib } else { Self::None })
            }
            Some(c) => Self::from_name(c).ok_or_else(|| format!("unknown compress name: {c}")),
            None if z => Ok(Self::Zlib),
            None => Ok(Self::None),
        }
    }
}
