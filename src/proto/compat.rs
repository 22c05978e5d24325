//! Compat flags (`CF_*` in `compat.c`), chosen by the server from the
//! client's `-e.` capability letters (`maybe_add_e_option` in `options.c`).
//! Protocol 30 and later.

/// The letters a client put after `-e.`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities(String);

impl Capabilities {
    /// Parses the capability letters (the part after the `.`).
    pub fn parse(letters: &str) -> Self {
        Self(
            letters
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(64)
                .collect(),
        )
    }

    /// Whether the client sent letter `c`.
    pub fn has(&self, c: char) -> bool {
        self.0.contains(c)
    }

    /// The pre-release `V` letter: compat flags travel as a single byte.
    pub fn legacy_varint_byte(&self) -> bool {
        self.has('V')
    }
}

/// The compat flag bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CompatFlags(u32);

impl CompatFlags {
    /// Incremental recursion.
    pub const INC_RECURSE: u32 = 1 << 0;
    /// The receiver can set symlink times.
    pub const SYMLINK_TIMES: u32 = 1 << 1;
    /// Symlink targets are converted with iconv.
    pub const SYMLINK_ICONV: u32 = 1 << 2;
    /// I/O errors are reported at the end of the file list.
    pub const SAFE_FLIST: u32 = 1 << 3;
    /// Avoid the xattr hardlink optimisation.
    pub const AVOID_XATTR_OPTIM: u32 = 1 << 4;
    /// The checksum seed is mixed in before the data (MD5).
    pub const CHKSUM_SEED_FIX: u32 = 1 << 5;
    /// `--inplace` with `--partial-dir` behaviour.
    pub const INPLACE_PARTIAL_DIR: u32 = 1 << 6;
    /// File-list flags are varints; checksum/compression names negotiated.
    pub const VARINT_FLIST_FLAGS: u32 = 1 << 7;
    /// The names of uid/gid 0 are sent.
    pub const ID0_NAMES: u32 = 1 << 8;

    /// The flags a server running on Linux sends for these capabilities.
    /// Incremental recursion is set when the client sent `i` and
    /// `allow_inc` says the session can use it; iconv is declined.
    pub fn for_client(protocol: u32, caps: &Capabilities, allow_inc: bool) -> Self {
        if protocol < 30 {
            return Self(0);
        }
        let mut f = Self::SYMLINK_TIMES;
        if allow_inc && caps.has('i') {
            f |= Self::INC_RECURSE;
        }
        for (letter, bit) in [
            ('f', Self::SAFE_FLIST),
            ('x', Self::AVOID_XATTR_OPTIM),
            ('C', Self::CHKSUM_SEED_FIX),
            ('I', Self::INPLACE_PARTIAL_DIR),
            ('u', Self::ID0_NAMES),
            ('v', Self::VARINT_FLIST_FLAGS),
            ('V', Self::VARINT_FLIST_FLAGS),
        ] {
            if caps.has(letter) {
                f |= bit;
            }
        }
        Self(f)
    }

    /// The raw bits.
    pub fn bits(self) -> u32 {
        self.0
    }

    /// Whether `bit` is set.
    pub fn contains(self, bit: u32) -> bool {
        self.0 & bit != 0
    }
}
