//! Deterministic benchmark data (splitmix64 PRNG, fixed mtimes) and a
//! byte-for-byte comparison of a destination tree against its source.
//!
//! Layout under `SRC`:
//! - `data/big/big.bin`: the large random file (version 1, mtime `T0`);
//! - `data/small/dNN/fNNNNN.bin`: many small random files (mtime `T0`);
//! - `delta/big.bin`: version 2 of the large file, one byte changed per
//!   MiB, mtime `T0 + 1 day`.

use std::fs::{self, File};
use std::io::{BufWriter, Read, Write};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::R;

const MIB: usize = 1 << 20;
/// The mtime of every version-1 file (2020-09-13).
pub const T0: u64 = 1_600_000_000;

/// splitmix64: tiny, fast, deterministic.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            let n = chunk.len();
            chunk.copy_from_slice(v.get(..n).unwrap_or(&[]));
        }
    }
}

/// Sizes of the generated data.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    pub big_mib: usize,
    pub small_files: usize,
    pub small_dirs: usize,
}

impl Sizes {
    pub fn new(quick: bool) -> Self {
        if quick {
            Sizes {
                big_mib: 64,
                small_files: 2_000,
                small_dirs: 20,
            }
        } else {
            Sizes {
                big_mib: 256,
                small_files: 10_000,
                small_dirs: 100,
            }
        }
    }
}

pub fn mtime(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

pub fn set_mtime(path: &Path, secs: u64) -> R<()> {
    File::options()
        .write(true)
        .open(path)?
        .set_modified(mtime(secs))?;
    Ok(())
}

/// Writes the whole source tree under `src`.
pub fn generate(src: &Path, s: Sizes) -> R<()> {
    let big_dir = src.join("data/big");
    let delta_dir = src.join("delta");
    fs::create_dir_all(&big_dir)?;
    fs::create_dir_all(&delta_dir)?;
    let v1_path = big_dir.join("big.bin");
    let v2_path = delta_dir.join("big.bin");
    {
        let mut v1 = BufWriter::new(File::create(&v1_path)?);
        let mut v2 = BufWriter::new(File::create(&v2_path)?);
        let mut rng = Rng::new(1);
        let mut pick = Rng::new(2);
        let mut buf = vec![0u8; MIB];
        for _ in 0..s.big_mib {
            rng.fill(&mut buf);
            v1.write_all(&buf)?;
            let at = (pick.next_u64() % MIB as u64) as usize;
            if let Some(b) = buf.get_mut(at) {
                *b ^= 0xA5;
            }
            v2.write_all(&buf)?;
        }
        v1.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        v2.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    }
    set_mtime(&v1_path, T0)?;
    set_mtime(&v2_path, T0 + 86_400)?;

    let mut rng = Rng::new(3);
    let mut buf = vec![0u8; 8192];
    for d in 0..s.small_dirs {
        fs::create_dir_all(src.join(format!("data/small/d{d:02}")))?;
    }
    for i in 0..s.small_files {
        let len = 1024 + (rng.next_u64() % (8192 - 1024 + 1)) as usize;
        let data = buf.get_mut(..len).ok_or("bad len")?;
        rng.fill(data);
        let p = src.join(format!("data/small/d{:02}/f{i:05}.bin", i % s.small_dirs));
        fs::write(&p, &*data)?;
        add_meta(&p, i);
        set_mtime(&p, T0)?;
    }
    Ok(())
}

/// `n` files of 16 bytes in directories of 1,000 (`dNNNN/fNNNN`) under
/// `dir`, unless it exists already.
pub fn generate_scale(dir: &Path, n: usize) -> R<()> {
    if dir.exists() {
        return Ok(());
    }
    let tmp = dir.with_extension("tmp");
    let _ = fs::remove_dir_all(&tmp);
    eprintln!("generating {n} files in {} ...", dir.display());
    for d in 0..n.div_ceil(1000) {
        let sub = tmp.join(format!("d{d:04}"));
        fs::create_dir_all(&sub)?;
        for i in 0..1000.min(n - d * 1000) {
            fs::write(sub.join(format!("f{i:04}")), format!("{d:07}-{i:07}\n"))?;
        }
    }
    fs::rename(&tmp, dir)?;
    Ok(())
}

/// ACLs and extended attributes for the `-aAX` cases (ignored by the
/// others): every file a short attribute, every fourth a long one (sent
/// as its sum, then asked for), every tenth a named-user ACL. Best
/// effort: a file system without them leaves the files plain.
fn add_meta(p: &Path, i: usize) {
    use rustix::fs::{setxattr, XattrFlags};
    let none = XattrFlags::empty();
    let _ = setxattr(p, "user.tag", format!("t{}", i % 7).as_bytes(), none);
    if i.is_multiple_of(4) {
        let _ = setxattr(p, "user.long", &[b'L'; 100], none);
    }
    if i.is_multiple_of(10) {
        // user::rw- user:1000:r-- group::r-- mask::r-- other::r--
        let mut acl = 2u32.to_le_bytes().to_vec();
        for (tag, perm, id) in [
            (1u16, 6u16, u32::MAX),
            (2, 4, 1000),
            (4, 4, u32::MAX),
            (0x10, 4, u32::MAX),
            (0x20, 4, u32::MAX),
        ] {
            acl.extend_from_slice(&tag.to_le_bytes());
            acl.extend_from_slice(&perm.to_le_bytes());
            acl.extend_from_slice(&id.to_le_bytes());
        }
        let _ = setxattr(p, "system.posix_acl_access", &acl, none);
    }
}

/// Compares `dst` against `src`: same entries, types, sizes, whole-second
/// mtimes of regular files, and bytes. Returns the first difference.
pub fn verify(src: &Path, dst: &Path) -> Result<(), String> {
    let mut files = 0u64;
    verify_dir(src, dst, &mut files)?;
    if files == 0 {
        return Err(format!("no files under {}", src.display()));
    }
    Ok(())
}

fn names(dir: &Path) -> Result<Vec<std::ffi::OsString>, String> {
    let rd = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut v = Vec::new();
    for e in rd {
        v.push(
            e.map_err(|e| format!("{}: {e}", dir.display()))?
                .file_name(),
        );
    }
    v.sort();
    Ok(v)
}

fn verify_dir(src: &Path, dst: &Path, files: &mut u64) -> Result<(), String> {
    let (a, b) = (names(src)?, names(dst)?);
    if a != b {
        return Err(format!(
            "{}: {} entries, expected {}",
            dst.display(),
            b.len(),
            a.len()
        ));
    }
    for n in &a {
        let (s, d) = (src.join(n), dst.join(n));
        let sm = fs::symlink_metadata(&s).map_err(|e| format!("{}: {e}", s.display()))?;
        let dm = fs::symlink_metadata(&d).map_err(|e| format!("{}: {e}", d.display()))?;
        if sm.file_type() != dm.file_type() {
            return Err(format!("{}: wrong file type", d.display()));
        }
        if sm.is_dir() {
            verify_dir(&s, &d, files)?;
        } else if sm.is_file() {
            *files += 1;
            if sm.len() != dm.len() {
                return Err(format!(
                    "{}: size {} != {}",
                    d.display(),
                    dm.len(),
                    sm.len()
                ));
            }
            let secs = |m: &fs::Metadata| {
                m.modified()
                    .ok()
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .map(|d| d.as_secs())
            };
            if secs(&sm) != secs(&dm) {
                return Err(format!("{}: mtime differs", d.display()));
            }
            same_bytes(&s, &d)?;
        }
    }
    Ok(())
}

fn same_bytes(a: &Path, b: &Path) -> Result<(), String> {
    let open = |p: &Path| File::open(p).map_err(|e| format!("{}: {e}", p.display()));
    let (mut fa, mut fb) = (open(a)?, open(b)?);
    let (mut ba, mut bb) = (vec![0u8; MIB], vec![0u8; MIB]);
    let mut off = 0u64;
    loop {
        let na = read_full(&mut fa, &mut ba).map_err(|e| format!("{}: {e}", a.display()))?;
        let nb = read_full(&mut fb, &mut bb).map_err(|e| format!("{}: {e}", b.display()))?;
        if ba.get(..na) != bb.get(..nb) {
            return Err(format!(
                "{}: content differs near offset {off}",
                b.display()
            ));
        }
        if na == 0 {
            return Ok(());
        }
        off += na as u64;
    }
}

fn read_full(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while let Some(rest) = buf.get_mut(n..) {
        if rest.is_empty() {
            break;
        }
        match f.read(rest)? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// The `-snapshot` case's sources, unless they exist: `snap-prev-N/`
/// (N tiny files, yesterday's tree) and `snap-N/`, the same with every
/// hundredth file rewritten (1 % changed).
pub fn generate_snapshot(src: &Path, n: usize) -> R<()> {
    let (prev, now) = (
        src.join(format!("snap-prev-{n}")),
        src.join(format!("snap-{n}")),
    );
    generate_scale(&prev, n)?;
    if now.exists() {
        return Ok(());
    }
    let tmp = now.with_extension("tmp");
    let st = std::process::Command::new("rsync")
        .arg("-a")
        .arg(format!("{}/", prev.display()))
        .arg(&tmp)
        .status()?;
    if !st.success() {
        return Err("local rsync -a failed".into());
    }
    for i in (0..n).step_by(100) {
        let p = tmp.join(format!("d{:04}/f{:04}", i / 1000, i % 1000));
        fs::write(&p, format!("changed-{i:07}\n"))?;
        set_mtime(&p, T0 + 86_400)?;
    }
    fs::rename(&tmp, &now)?;
    Ok(())
}
