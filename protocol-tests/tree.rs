//! Directory-tree snapshots and diffs for the protocol suite.
//!
//! A [`Tree`] maps every path below a root (the root itself is `""`) to what
//! `rsync -a` promises to reproduce: entry type, permission bits, size,
//! content hash, mtime (seconds + nanoseconds), symlink target and owner.
//! [`diff`] compares two snapshots under a [`Cmp`] policy and lists every
//! difference; [`same`] turns that into a readable `Result` that shows the
//! first differences only. Symlinks are never followed.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// What kind of filesystem object an entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink,
    Other,
}

/// One snapshotted filesystem object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub kind: Kind,
    /// Permission bits (`st_mode & 0o7777`); meaningless for symlinks.
    pub mode: u32,
    pub size: u64,
    /// xxh3-128 of the contents (files only; 0 otherwise).
    pub hash: u128,
    pub mtime: (i64, u32),
    pub target: Option<PathBuf>,
    pub uid: u32,
    pub gid: u32,
}

/// A whole snapshot: relative path (root = `""`) → entry, sorted.
#[derive(Clone, Debug, Default)]
pub struct Tree(pub BTreeMap<PathBuf, Entry>);

impl Tree {
    /// Files whose contents contain `needle` (used for leak sentinels).
    pub fn files_containing(root: &Path, needle: &[u8]) -> Vec<PathBuf> {
        let mut hits = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            let Ok(rd) = fs::read_dir(&dir) else { continue };
            for ent in rd.flatten() {
                let p = ent.path();
                let Ok(md) = fs::symlink_metadata(&p) else {
                    continue;
                };
                if md.is_dir() {
                    stack.push(p);
                } else if md.is_file() {
                    if let Ok(bytes) = fs::read(&p) {
                        if bytes.windows(needle.len().max(1)).any(|w| w == needle) {
                            hits.push(p);
                        }
                    }
                }
            }
        }
        hits
    }
}

/// Which attributes a comparison looks at.
#[derive(Clone, Copy, Debug)]
pub struct Cmp {
    /// Compare permission bits of files and directories.
    pub mode: bool,
    /// Compare uid/gid.
    pub owner: bool,
    /// Compare mtimes of regular files; `nanos` adds the sub-second part.
    pub file_mtime: bool,
    pub dir_mtime: bool,
    pub link_mtime: bool,
    pub nanos: bool,
    /// Compare the root directory's own mtime (off when rsync created it).
    pub root_mtime: bool,
}

impl Cmp {
    /// Everything (our result against the stock reference).
    pub const ALL: Cmp = Cmp {
        mode: true,
        owner: true,
        file_mtime: true,
        dir_mtime: true,
        link_mtime: true,
        nanos: true,
        root_mtime: true,
    };
    /// What `-a` must reproduce from the source at any protocol: names,
    /// types, bytes, link targets, modes, whole-second file mtimes.
    pub const SOURCE: Cmp = Cmp {
        mode: true,
        owner: false,
        file_mtime: true,
        dir_mtime: false,
        link_mtime: false,
        nanos: false,
        root_mtime: false,
    };

    /// The same policy without the root directory's mtime.
    pub fn no_root_mtime(self) -> Cmp {
        Cmp {
            root_mtime: false,
            ..self
        }
    }
}

/// Snapshot `root` recursively (without following symlinks).
pub fn snapshot(root: &Path) -> io::Result<Tree> {
    let mut map = BTreeMap::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let abs = if rel.as_os_str().is_empty() {
            root.to_path_buf()
        } else {
            root.join(&rel)
        };
        let md = fs::symlink_metadata(&abs)?;
        let ft = md.file_type();
        let kind = if ft.is_symlink() {
            Kind::Symlink
        } else if ft.is_dir() {
            Kind::Dir
        } else if ft.is_file() {
            Kind::File
        } else {
            Kind::Other
        };
        let hash = if kind == Kind::File {
            xxhash_rust::xxh3::xxh3_128(&fs::read(&abs)?)
        } else {
            0
        };
        let target = if kind == Kind::Symlink {
            Some(fs::read_link(&abs)?)
        } else {
            None
        };
        let mtime_nsec = u32::try_from(md.mtime_nsec()).unwrap_or(0);
        map.insert(
            rel.clone(),
            Entry {
                kind,
                mode: md.permissions().mode() & 0o7777,
                size: if kind == Kind::Dir { 0 } else { md.len() },
                hash,
                mtime: (md.mtime(), mtime_nsec),
                target,
                uid: md.uid(),
                gid: md.gid(),
            },
        );
        if kind == Kind::Dir {
            for ent in fs::read_dir(&abs)? {
                stack.push(rel.join(ent?.file_name()));
            }
        }
    }
    Ok(Tree(map))
}

/// One difference between two snapshots.
#[derive(Debug)]
pub struct Difference {
    pub path: PathBuf,
    pub what: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = if self.path.as_os_str().is_empty() {
            Path::new(".")
        } else {
            &self.path
        };
        write!(f, "{:?}: {}", p, self.what)
    }
}

fn fmt_time(t: (i64, u32), nanos: bool) -> String {
    if nanos {
        format!("{}.{:09}", t.0, t.1)
    } else {
        t.0.to_string()
    }
}

/// Every difference between `want` and `got` under `cmp`.
pub fn diff(want: &Tree, got: &Tree, cmp: Cmp) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut push = |path: &Path, what: String| {
        out.push(Difference {
            path: path.to_path_buf(),
            what,
        })
    };
    for (p, w) in &want.0 {
        let Some(g) = got.0.get(p) else {
            push(p, format!("missing (want {:?})", w.kind));
            continue;
        };
        if w.kind != g.kind {
            push(p, format!("type {:?}, want {:?}", g.kind, w.kind));
            continue;
        }
        if w.kind == Kind::File && (w.size != g.size || w.hash != g.hash) {
            push(
                p,
                format!("contents differ (size {} vs want {})", g.size, w.size),
            );
        }
        if w.target != g.target {
            push(
                p,
                format!("link target {:?}, want {:?}", g.target, w.target),
            );
        }
        if cmp.mode && w.kind != Kind::Symlink && w.mode != g.mode {
            push(p, format!("mode {:04o}, want {:04o}", g.mode, w.mode));
        }
        if cmp.owner && (w.uid, w.gid) != (g.uid, g.gid) {
            push(
                p,
                format!("owner {}:{}, want {}:{}", g.uid, g.gid, w.uid, w.gid),
            );
        }
        let check_time = match w.kind {
            Kind::File | Kind::Other => cmp.file_mtime,
            Kind::Dir => cmp.dir_mtime,
            Kind::Symlink => cmp.link_mtime,
        };
        let check_time = check_time && (cmp.root_mtime || !p.as_os_str().is_empty());
        let (wt, gt) = if cmp.nanos {
            (w.mtime, g.mtime)
        } else {
            ((w.mtime.0, 0), (g.mtime.0, 0))
        };
        if check_time && wt != gt {
            push(
                p,
                format!(
                    "mtime {}, want {}",
                    fmt_time(g.mtime, cmp.nanos),
                    fmt_time(w.mtime, cmp.nanos)
                ),
            );
        }
    }
    for (p, g) in &got.0 {
        if !want.0.contains_key(p) {
            push(p, format!("unexpected extra {:?}", g.kind));
        }
    }
    out
}

/// `Ok` when the trees agree; otherwise the first differences, readably.
pub fn same(what: &str, want: &Tree, got: &Tree, cmp: Cmp) -> Result<(), String> {
    let d = diff(want, got, cmp);
    if d.is_empty() {
        return Ok(());
    }
    let mut msg = format!(
        "{what}: {} difference(s) ({} vs {} entries):",
        d.len(),
        got.0.len(),
        want.0.len()
    );
    for x in d.iter().take(15) {
        msg.push_str(&format!("\n      {x}"));
    }
    if d.len() > 15 {
        msg.push_str(&format!("\n      ... and {} more", d.len() - 15));
    }
    Err(msg)
}

/// Snapshot both roots and compare them.
pub fn same_dirs(what: &str, want: &Path, got: &Path, cmp: Cmp) -> Result<(), String> {
    let w = snapshot(want).map_err(|e| format!("{what}: snapshot {}: {e}", want.display()))?;
    let g = snapshot(got).map_err(|e| format!("{what}: snapshot {}: {e}", got.display()))?;
    same(what, &w, &g, cmp)
}
