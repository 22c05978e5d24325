//! Where received names land (`get_local_name` in `main.c`): into the
//! destination directory, created if needed (with `--mkpath`, its parents
//! too), or, for a single file, as the destination name itself.

use std::io;

use super::out::Outbox;
use super::{List, ReceiverConfig, RecvError};
use crate::fs::{RelPath, Writer};

/// The resolved destination.
#[derive(Debug, Clone)]
pub(crate) struct Dest {
    /// Directory the list's names are relative to.
    pub(crate) base: RelPath,
    /// For a lone file: the name to give it (relative to the root).
    pub(crate) single: Option<RelPath>,
    /// The destination directory was created for this transfer, so the
    /// top directory counts as new.
    pub(crate) created: bool,
}

impl Dest {
    /// Where entry `name` goes beneath the root.
    pub(crate) fn path_of(&self, name: &[u8]) -> Result<RelPath, crate::fs::PathError> {
        self.path_in(name, Vec::new())
    }

    /// [`Self::path_of`] in `buf`'s allocation (see [`RelPath::from_buf`]).
    pub(crate) fn path_in(
        &self,
        name: &[u8],
        mut buf: Vec<u8>,
    ) -> Result<RelPath, crate::fs::PathError> {
        if let Some(s) = &self.single {
            return Ok(s.clone());
        }
        if name == b"." {
            return Ok(self.base.clone());
        }
        buf.clear();
        if !self.base.is_root() {
            buf.extend_from_slice(self.base.as_bytes());
            buf.push(b'/');
        }
        buf.extend_from_slice(name);
        RelPath::from_buf(buf)
    }
}

fn dest_err(msg: String) -> RecvError {
    RecvError::Dest(msg)
}

/// Decides the destination for this list.
pub(crate) fn resolve(
    cfg: &ReceiverConfig<'_>,
    w: &Writer<'_>,
    list: &List,
    out: &Outbox<'_>,
) -> Result<Dest, RecvError> {
    let raw = if cfg.dest.is_empty() {
        b".".to_vec()
    } else {
        cfg.dest.clone()
    };
    let trailing = raw.ends_with(b"/");
    let path = RelPath::new(&raw).map_err(|e| dest_err(format!("invalid destination: {e}")))?;
    let shown = String::from_utf8_lossy(&raw).into_owned();
    let total = list.received().len();
    let root = cfg.root;
    match root.stat(&path) {
        Ok(m) if m.is_dir() => {
            return Ok(Dest {
                base: path,
                single: None,
                created: false,
            })
        }
        Ok(_) if total > 1 => {
            return Err(dest_err(
                "ERROR: destination must be a directory when copying more than 1 file".into(),
            ))
        }
        Ok(_) if list.first_entry().is_some_and(|e| e.is_dir()) => {
            return Err(dest_err(
                "ERROR: cannot overwrite non-directory with a directory".into(),
            ))
        }
        Ok(_) => return Ok(single(path)),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(dest_err(format!(
                "ERROR: cannot stat destination \"{shown}\": {}",
                crate::role::text::strerror(&e)
            )))
        }
        Err(_) => {}
    }
    let need_dir = total > 1
        || trailing
        || list
            .first_entry()
            .is_some_and(|e| e.is_dir() && e.name == b".");
    if !need_dir {
        if cfg.opts.mkpath {
            if let Some(parent) = path.parent() {
                make_path(cfg, w, &parent)?;
            }
        }
        return Ok(single(path));
    }
    if cfg.opts.mkpath {
        make_path(cfg, w, &path)?;
    } else {
        if !cfg.opts.dry_run {
            if let Err(e) = w.mkdir(&path, 0o755) {
                out.rsyserr("Receiver", &format!("mkdir \"{shown}\" failed"), &e);
                return Err(dest_err(format!(
                    "ERROR: cannot create destination directory \"{shown}\""
                )));
            }
        }
        if cfg.opts.verbose > 0 || cfg.opts.itemize {
            let trimmed = shown.trim_end_matches('/');
            let line = format!("created directory {trimmed}\n");
            out.msg(crate::wire::MsgCode::Info, line.as_bytes());
        }
    }
    Ok(Dest {
        base: path,
        single: None,
        created: true,
    })
}

fn single(path: RelPath) -> Dest {
    let base = path.parent().unwrap_or_else(RelPath::root);
    Dest {
        base,
        single: Some(path),
        created: false,
    }
}

/// `--mkpath`: creates every missing directory of `path`.
fn make_path(cfg: &ReceiverConfig<'_>, w: &Writer<'_>, path: &RelPath) -> Result<(), RecvError> {
    if cfg.opts.dry_run {
        return Ok(());
    }
    make_dirs(w, path)
        .map_err(|e| dest_err(format!("mkdir failed: {}", crate::role::text::strerror(&e))))
}

/// `--backup`: `name~` beside the file, or `DIR/name` with `--backup-dir`.
pub(crate) fn backup_path(
    o: &super::RecvOptions,
    path: &RelPath,
    name: &[u8],
) -> io::Result<RelPath> {
    let suffix: &[u8] = if o.suffix.is_empty() && o.backup_dir.is_none() {
        b"~"
    } else {
        &o.suffix
    };
    let mut v = match &o.backup_dir {
        Some(d) => [d.as_bytes(), b"/", name].concat(),
        None => path.as_bytes().to_vec(),
    };
    v.extend_from_slice(suffix);
    RelPath::new(&v).map_err(io::Error::from)
}

/// `--backup` of whatever `path` names before it is replaced: a hard link
/// at the backup name (`make_backup` in `backup.c` renames; a link keeps
/// the name in place until the replacement lands on it).
pub(crate) fn make_backup(
    o: &super::RecvOptions,
    w: &Writer<'_>,
    path: &RelPath,
    name: &[u8],
    permit: &crate::policy::OverwritePermit,
) -> io::Result<()> {
    let b = backup_path(o, path, name)?;
    if let Some(parent) = b.parent() {
        let _ = make_dirs(w, &parent);
    }
    w.backup(path, &b, permit)
}

/// Creates every missing directory of `dir`; existing ones are left alone.
pub(crate) fn make_dirs(w: &Writer<'_>, dir: &RelPath) -> io::Result<()> {
    let mut cur = Vec::new();
    for c in dir.components() {
        if !cur.is_empty() {
            cur.push(b'/');
        }
        cur.extend_from_slice(c);
        match w.mkdir(&RelPath::new(&cur).map_err(io::Error::from)?, 0o755) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
