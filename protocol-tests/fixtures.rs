//! Deterministic source trees for the protocol suite.
//!
//! [`small`] and [`big`] are generated once per test process (seeded PRNG,
//! fixed mtimes with non-zero nanoseconds) as `BASE/root/dir/...`, next to a
//! leak sentinel `BASE/outside/secret` that no pull may ever deliver.
//! The small tree covers the awkward cases (empty dirs, 0-byte files, odd
//! names, modes 0600/0644/0755/0700 on files and dirs, in-tree, dangling and
//! `/etc` symlinks); `big` adds a 64 MiB file and 5,000 small files.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A generated source tree inside its restricted root.
#[derive(Debug)]
pub struct Fixture {
    /// `BASE/root`: the rrsync root handed to the server.
    pub root: PathBuf,
    /// `BASE/root/dir`: the tree itself (clients name it `dir`).
    pub dir: PathBuf,
    /// `BASE/outside/secret` (outside the root).
    pub secret: PathBuf,
    /// Unique content of `secret`.
    pub sentinel: String,
}

/// splitmix64: small, fast, deterministic.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// `len` pseudo-random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(len + 8);
        while v.len() < len {
            v.extend_from_slice(&self.next().to_le_bytes());
        }
        v.truncate(len);
        v
    }
    /// `len` bytes of printable text with spaces and newlines.
    pub fn text(&mut self, len: usize) -> Vec<u8> {
        const A: &[u8] = b"abcdefghijklmnopqrstuvwxyz ABCDEFGHIJ 0123456789 .,;:-_\n";
        (0..len)
            .map(|_| A[self.below(A.len() as u64) as usize])
            .collect()
    }
}

/// `secs.nanos` after a fixed epoch, for the `i`-th object.
fn mtime(i: u64) -> (u64, u32) {
    let nanos = if i.is_multiple_of(5) {
        0
    } else {
        ((i * 123_456_789 + 7) % 1_000_000_000) as u32
    };
    (1_600_000_000 + i * 3_607, nanos)
}

fn set_mtime(path: &Path, t: (u64, u32)) {
    let when = UNIX_EPOCH + Duration::new(t.0, t.1);
    let f = fs::File::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    f.set_times(
        fs::FileTimes::new()
            .set_modified(when)
            .set_accessed(SystemTime::now()),
    )
    .unwrap_or_else(|e| panic!("set_times {}: {e}", path.display()));
}

/// `touch -h -d @S.N`: std cannot set a symlink's own mtime.
fn set_link_mtime(path: &Path, t: (u64, u32)) {
    let st = Command::new("touch")
        .arg("-h")
        .arg("-d")
        .arg(format!("@{}.{:09}", t.0, t.1))
        .arg(path)
        .status()
        .expect("run touch");
    assert!(st.success(), "touch -h {}", path.display());
}

/// Builds a tree, then fixes modes and mtimes (dirs last, deepest first).
pub struct Builder {
    top: PathBuf,
    rng: Rng,
    files: Vec<(PathBuf, u32)>,
    links: Vec<PathBuf>,
    dirs: Vec<(PathBuf, u32)>,
}

impl Builder {
    pub fn new(top: &Path, seed: u64) -> Builder {
        fs::create_dir_all(top).expect("create fixture top");
        Builder {
            top: top.to_path_buf(),
            rng: Rng::new(seed),
            files: Vec::new(),
            links: Vec::new(),
            dirs: vec![(PathBuf::new(), 0o755)],
        }
    }
    pub fn dir(&mut self, rel: &str, mode: u32) -> &mut Self {
        fs::create_dir_all(self.top.join(rel)).expect("mkdir");
        self.dirs.push((PathBuf::from(rel), mode));
        self
    }
    pub fn file(&mut self, rel: &str, data: &[u8], mode: u32) -> &mut Self {
        let p = self.top.join(rel);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).expect("mkdir parent");
        }
        let mut f = fs::File::create(&p).unwrap_or_else(|e| panic!("create {}: {e}", p.display()));
        f.write_all(data).expect("write fixture file");
        self.files.push((PathBuf::from(rel), mode));
        self
    }
    pub fn random_file(&mut self, rel: &str, len: usize, mode: u32) -> &mut Self {
        let data = self.rng.bytes(len);
        self.file(rel, &data, mode)
    }
    pub fn text_file(&mut self, rel: &str, len: usize) -> &mut Self {
        let data = self.rng.text(len);
        self.file(rel, &data, 0o644)
    }
    pub fn link(&mut self, rel: &str, target: &str) -> &mut Self {
        symlink(target, self.top.join(rel)).expect("symlink");
        self.links.push(PathBuf::from(rel));
        self
    }
    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }
    /// Apply modes and mtimes.
    pub fn finish(mut self) {
        let mut i = 1;
        for (rel, mode) in &self.files {
            let p = self.top.join(rel);
            fs::set_permissions(&p, fs::Permissions::from_mode(*mode)).expect("chmod file");
            set_mtime(&p, mtime(i));
            i += 1;
        }
        for rel in &self.links {
            set_link_mtime(&self.top.join(rel), mtime(i));
            i += 1;
        }
        self.dirs
            .sort_by_key(|(p, _)| std::cmp::Reverse(p.components().count()));
        self.dirs.dedup_by(|a, b| a.0 == b.0);
        for (rel, mode) in &self.dirs {
            let p = self.top.join(rel);
            fs::set_permissions(&p, fs::Permissions::from_mode(*mode)).expect("chmod dir");
            set_mtime(&p, mtime(i));
            i += 1;
        }
    }
}

/// The awkward-but-small part shared by both trees.
fn populate_small(b: &mut Builder) {
    b.dir("empty", 0o755)
        .dir("nested", 0o755)
        .dir("nested/a", 0o755)
        .dir("nested/a/b", 0o755)
        .dir("nested/a/b/c", 0o755)
        .dir("nested/a/empty2", 0o755)
        .text_file("nested/a/b/c/deep.txt", 777)
        .file("nested/zero2", b"", 0o644)
        .file("zero.bin", b"", 0o644)
        .random_file("medium.bin", 300 * 1024 + 17, 0o644)
        .text_file("sp ace.txt", 100)
        .text_file("üñï cødé.txt", 200)
        .text_file("-rf", 10)
        .text_file("--help", 11)
        .text_file("a\\b", 12)
        .random_file("mode600.bin", 1000, 0o600)
        .random_file("mode644.bin", 1001, 0o644)
        .random_file("mode755.sh", 1002, 0o755)
        .random_file("mode700.bin", 1003, 0o700)
        .dir("sub dir with spaces", 0o755)
        .text_file("sub dir with spaces/inner file.txt", 50);
    for (d, m) in [
        ("d0600", 0o600),
        ("d0644", 0o644),
        ("d0700", 0o700),
        ("d0755", 0o755),
    ] {
        b.dir(d, m).text_file(&format!("{d}/inside.txt"), 40);
    }
    for i in 0..8 {
        let len = b.rng().below(3000) as usize;
        b.text_file(&format!("text{i}.txt"), len);
    }
    b.link("link_rel", "nested/a/b/c/deep.txt")
        .link("link_dir", "nested")
        .link("dangling", "does/not/exist")
        .link("etc_link", "/etc");
}

fn make(name: &str, big: bool) -> Fixture {
    let base = crate::harness::process_base().join(name);
    let _ = fs::remove_dir_all(&base);
    let root = base.join("root");
    let dir = root.join("dir");
    let outside = base.join("outside");
    fs::create_dir_all(&outside).expect("mkdir outside");
    let sentinel = format!(
        "RRSYNC-SENTINEL-{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    );
    let secret = outside.join("secret");
    fs::write(&secret, format!("{sentinel}\n")).expect("write sentinel");
    let mut b = Builder::new(&dir, 0x5eed_0001);
    populate_small(&mut b);
    if big {
        b.random_file("huge.bin", 64 << 20, 0o644);
        for d in 0..50 {
            b.dir(&format!("many/d{d:02}"), 0o755);
            for f in 0..100 {
                let len = b.rng().below(2048) as usize;
                b.text_file(&format!("many/d{d:02}/f{:04}.txt", d * 100 + f), len);
            }
        }
        b.dir("many", 0o755);
    }
    b.finish();
    Fixture {
        root,
        dir,
        secret,
        sentinel,
    }
}

/// The quick tree (well under 1 MiB).
pub fn small() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| make("fixture-small", false))
}

/// The full-size tree: small + 64 MiB file + 5,000 small files.
pub fn big() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| make("fixture-big", true))
}
