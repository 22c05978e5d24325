//! The receiver's writer: the only way to change the tree beneath a
//! [`Root`], and where `-no-del` and `-no-overwrite` hold by construction.
//!
//! Upstream rsync's receiver and generator (`receiver.c`, `generator.c`,
//! `backup.c`, `hlink.c`, `delete.c`) call `do_unlink()`, `do_rename()`,
//! `do_rmdir()`, `do_chmod()` and friends wherever they need to; rrsync
//! can only hide options. Here, for every protocol (27-32), the raw
//! syscalls are private to [`crate::fs`] and [`Writer`] is their one
//! holder. It keeps a ledger of the names this session created, each as
//! (directory identity, component), and whether the object behind it is
//! new too (a new hard link to an old file is a new name, not a new
//! file). It applies one rule:
//!
//! - creating a name never touches an existing one (`O_EXCL`, `mkdirat`,
//!   `symlinkat`, `linkat`, `RENAME_NOREPLACE`), and the name joins the
//!   ledger;
//! - removing a name, or moving it away, needs a [`DeletePermit`] unless
//!   the ledger holds it (a temporary or partial file this session made);
//! - replacing a name's contents, or changing its mode, owner or times,
//!   needs an [`OverwritePermit`] unless the ledger holds it as a new
//!   object (a hard link shares its inode with an older name).
//!
//! Under `-no-del` no `DeletePermit` exists, so no name that existed when
//! the session began can disappear; a replacement keeps the name
//! (`rename` over it, and backups are hard links, never moves). Under
//! `-no-overwrite` no `OverwritePermit` exists, so no existing entry
//! changes. The kernel still updates a directory's mtime when a new name
//! appears in it; that is the new name, not a change the writer makes.
//!
//! Files handed out by [`Writer::create_temp`] and
//! [`Writer::open_for_update`] get their attributes through the `*_fd`
//! methods; those act on a file this writer opened.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::sync::Mutex;

use super::meta::{statx_at, statx_fd, FileType};
use super::{write, Handle, RelPath, Root};
use crate::policy::{DeletePermit, OverwritePermit};
use rustix::io::Errno;

/// One name: its directory's identity (device, inode) and the component.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Name {
    dev: u64,
    ino: u64,
    name: Vec<u8>,
}

/// What the ledger knows of a name this session created.
#[derive(Debug, Clone, Copy)]
struct Made {
    /// The object is new too (not a new name for an older object).
    new_object: bool,
    /// A regular file [`Writer::create_temp`] made: moving it changes
    /// what no directory path leads to.
    temp_file: bool,
}

/// The error of a change the writer refuses: the name existed before this
/// session and the permit that change needs is absent.
#[derive(Debug, thiserror::Error)]
#[error("refusing to change a name this session did not create")]
pub struct Denied;

/// Whether `e` is the writer's refusal (as opposed to a failed syscall).
pub fn is_denied(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|x| x.is::<Denied>())
}

fn denied() -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, Denied)
}

/// The receiver's guarded write access to a [`Root`] (see the module
/// documentation). Shared by the generator and receiver threads.
#[derive(Debug)]
pub struct Writer<'r> {
    root: &'r Root,
    /// Names this session created, and what each is.
    created: Mutex<HashMap<Name, Made>>,
    /// Whether a name a temporary file is renamed to joins the ledger:
    /// only when a permit is missing, for the ledger is what stands in
    /// for it.
    remember_final: bool,
    /// What this session may add (`-max-bytes`, `-max-files`).
    quota: std::sync::Arc<super::Quota>,
    /// The last directory a name was looked up in, with its device and
    /// inode (see [`Self::dir_id`]).
    last_dir: Mutex<Option<(DirFd, u64, u64)>>,
}

/// A directory [`Writer::dir_id`] has looked at: the root's remembered
/// parent (held, so that no other directory can take its place while it
/// is remembered), or the root itself.
#[derive(Debug)]
enum DirFd {
    Parent(std::sync::Arc<rustix::fd::OwnedFd>),
    Root,
}

/// What a check asks of a name without a permit.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Need {
    /// The name is new (it may be removed or moved away).
    Name,
    /// The object is new as well (its attributes may change).
    Object,
}

impl<'r> Writer<'r> {
    /// A writer with an empty ledger: every name in the tree is someone
    /// else's.
    pub fn new(root: &'r Root) -> Writer<'r> {
        Writer {
            root,
            created: Mutex::new(HashMap::new()),
            remember_final: true,
            quota: std::sync::Arc::default(),
            last_dir: Mutex::new(None),
        }
    }

    /// A writer for a session that holds the permits given. When it
    /// holds both, every later change to a file it renamed into place
    /// comes with a permit, so the ledger forgets the file's name with
    /// its temporary one and its memory does not grow with the number of
    /// files (it still holds the directories, symlinks and nodes made in
    /// place). Without a permit it remembers every name, as
    /// [`Self::new`]. This never allows more: a name the ledger lacks is
    /// someone else's.
    pub fn for_session(
        root: &'r Root,
        delete: Option<&DeletePermit>,
        overwrite: Option<&OverwritePermit>,
        limits: crate::cli::Limits,
    ) -> Writer<'r> {
        Writer {
            remember_final: delete.is_none() || overwrite.is_none(),
            quota: std::sync::Arc::new(super::Quota::new(limits)),
            ..Self::new(root)
        }
    }

    /// The session's counters against its limits (the receiver charges
    /// the bytes it writes here).
    pub fn quota(&self) -> &std::sync::Arc<super::Quota> {
        &self.quota
    }

    /// The root, for reading.
    pub fn root(&self) -> &'r Root {
        self.root
    }

    fn name_in(&self, dir: &Handle<'_>, name: &[u8]) -> io::Result<Name> {
        let (dev, ino) = self.dir_id(dir)?;
        Ok(Name {
            dev,
            ino,
            name: name.to_vec(),
        })
    }

    /// The device and inode of `dir`. An open directory is one directory
    /// for as long as it is open, so the one every file of a directory is
    /// made in is looked at once, not twice per file.
    fn dir_id(&self, dir: &Handle<'_>) -> io::Result<(u64, u64)> {
        use rustix::fd::AsRawFd;
        let this = match dir {
            Handle::Shared(fd) => DirFd::Parent(std::sync::Arc::clone(fd)),
            Handle::Borrowed(fd) if fd.as_raw_fd() == self.root.fd().as_raw_fd() => DirFd::Root,
            Handle::Borrowed(_) => {
                let m = statx_fd(dir)?;
                return Ok((m.dev, m.ino));
            }
        };
        let mut last = self.last_dir.lock().unwrap_or_else(|p| p.into_inner());
        let same = |(held, _, _): &&(DirFd, u64, u64)| match (held, &this) {
            (DirFd::Parent(a), DirFd::Parent(b)) => std::sync::Arc::ptr_eq(a, b),
            (DirFd::Root, DirFd::Root) => true,
            _ => false,
        };
        if let Some((_, dev, ino)) = last.as_ref().filter(same) {
            return Ok((*dev, *ino));
        }
        let m = statx_fd(dir)?;
        *last = Some((this, m.dev, m.ino));
        Ok((m.dev, m.ino))
    }

    /// Records a name this session just created (best effort: a name that
    /// cannot be recorded is treated as someone else's).
    fn note(&self, dir: &Handle<'_>, name: &[u8], new_object: bool) {
        let made = Made {
            new_object,
            temp_file: false,
        };
        self.note_made(dir, name, made);
    }

    fn note_made(&self, dir: &Handle<'_>, name: &[u8], made: Made) {
        if let (Ok(n), Ok(mut set)) = (self.name_in(dir, name), self.created.lock()) {
            set.insert(n, made);
        }
    }

    /// Records the name a temporary file was renamed to (see
    /// [`Self::for_session`]).
    fn note_final(&self, dir: &Handle<'_>, name: &[u8], made: Made) {
        if self.remember_final {
            self.note_made(dir, name, made);
        }
    }

    fn forget(&self, n: &Name) {
        if let Ok(mut set) = self.created.lock() {
            set.remove(n);
        }
    }

    fn made(&self, n: &Name) -> Option<Made> {
        self.created.lock().ok().and_then(|set| set.get(n).copied())
    }

    fn owns(&self, n: &Name, need: Need) -> bool {
        self.made(n)
            .is_some_and(|m| m.new_object || need == Need::Name)
    }

    /// Resolves `path`'s directory and checks that `path` may change:
    /// with `permit`, or because this session created it.
    fn allowed<'a, P>(
        &'a self,
        path: &'a RelPath,
        permit: Option<&P>,
        need: Need,
    ) -> io::Result<(Handle<'a>, &'a [u8], Name)> {
        let (dir, name) = self.root.split(path)?;
        let n = self.name_in(&dir, name)?;
        if permit.is_none() && !self.owns(&n, need) {
            return Err(denied());
        }
        Ok((dir, name, n))
    }

    /// [`Self::allowed`] for a change made in place to `path`'s object
    /// (mode, owner, times, attributes). In a snapshot being made, an
    /// object with more than one name may be an earlier snapshot's too:
    /// it is first replaced by a private copy (see `cow`), so the change
    /// reaches this snapshot only.
    fn allowed_in_place<'a>(
        &'a self,
        path: &'a RelPath,
        overwrite: Option<&OverwritePermit>,
    ) -> io::Result<(Handle<'a>, &'a [u8], Name)> {
        let r = self.allowed(path, overwrite, Need::Object)?;
        if self.root.is_cow() {
            super::cow::unshare(&r.0, r.1, &self.quota)?;
        }
        Ok(r)
    }

    /// Whether `path`'s mode, owner, times or contents may change.
    pub fn may_change(&self, path: &RelPath, overwrite: Option<&OverwritePermit>) -> bool {
        self.allowed(path, overwrite, Need::Object).is_ok()
    }

    // ---- Creating: never touches an existing name. ----

    /// `mkdir`; fails with `EEXIST` on any existing name.
    pub fn mkdir(&self, path: &RelPath, mode: u32) -> io::Result<()> {
        self.quota.charge_name()?;
        let (dir, name) = self.root.split(path)?;
        write::mkdir(&dir, name, mode)?;
        self.note(&dir, name, true);
        Ok(())
    }

    /// Creates `.{base}.XXXXXX` in directory `dir`, opened read-write;
    /// returns the file and its path.
    pub fn create_temp(
        &self,
        dir: &RelPath,
        base: &[u8],
        mode: u32,
    ) -> io::Result<(File, RelPath)> {
        self.quota.charge_name()?;
        let d = self.root.open_parent(dir.as_bytes())?;
        let (f, name) = write::create_temp(&d, base, mode)?;
        let made = Made {
            new_object: true,
            temp_file: true,
        };
        self.note_made(&d, &name, made);
        Ok((f, dir.join(&name)?))
    }

    /// A new symlink `at` holding `target`.
    pub fn symlink(&self, target: &[u8], at: &RelPath) -> io::Result<()> {
        self.quota.charge_name()?;
        let (dir, name) = self.root.split(at)?;
        write::symlink(target, &dir, name)?;
        self.note(&dir, name, true);
        Ok(())
    }

    /// A new name `new` for the object at `existing`, which is unchanged.
    pub fn hard_link(&self, existing: &RelPath, new: &RelPath) -> io::Result<()> {
        self.quota.charge_name()?;
        let (edir, ename) = self.root.split(existing)?;
        let (ndir, nname) = self.root.split(new)?;
        write::hard_link(&edir, ename, &ndir, nname)?;
        self.note(&ndir, nname, false);
        Ok(())
    }

    /// A new device, FIFO or socket node.
    pub fn mknod(
        &self,
        path: &RelPath,
        kind: FileType,
        mode: u32,
        rdev: (u32, u32),
    ) -> io::Result<()> {
        self.quota.charge_name()?;
        let (dir, name) = self.root.split(path)?;
        write::mknod(&dir, name, kind, mode, rdev)?;
        self.note(&dir, name, true);
        Ok(())
    }

    // ---- Moving and replacing. ----

    /// Renames `from`, a name this session created, to `to`. An existing
    /// `to` is replaced only with `overwrite`; without it the rename
    /// fails with `EEXIST` (`RENAME_NOREPLACE`, atomic against races).
    pub fn place(
        &self,
        from: &RelPath,
        to: &RelPath,
        overwrite: Option<&OverwritePermit>,
    ) -> io::Result<()> {
        let (fdir, fname, fnm) = self.allowed(from, None::<&DeletePermit>, Need::Name)?;
        let (tdir, tname) = self.root.split(to)?;
        let made = self.made(&fnm).unwrap_or(Made {
            new_object: false,
            temp_file: false,
        });
        // Moving a directory or a symlink can change where a remembered
        // directory path leads, and so can replacing a symlink. A
        // temporary regular file is neither, and cannot replace a
        // directory (`EISDIR`): only a symlink it replaces may have been
        // on that path, and only if the path followed one.
        if made.temp_file {
            self.root.forget_linked_parent();
        } else {
            self.root.forget_parent();
        }
        // With the permit and no ledger of final names to keep, whether
        // `to` existed changes nothing: one rename, not a refused one and
        // a second.
        let replace = overwrite.is_some() && !self.remember_final;
        match write::rename(&fdir, fname, &tdir, tname, !replace) {
            Ok(()) => self.note_final(&tdir, tname, made),
            Err(e) => {
                // EEXIST, or EINVAL where the filesystem lacks NOREPLACE.
                let code = e.raw_os_error();
                let busy = [Errno::EXIST, Errno::INVAL].map(|x| Some(x.raw_os_error()));
                if overwrite.is_none() || !busy.contains(&code) {
                    return Err(e);
                }
                write::rename(&fdir, fname, &tdir, tname, false)?;
            }
        }
        self.forget(&fnm);
        Ok(())
    }

    /// Makes `path` a hard link to `existing`, replacing what `path` names
    /// in one rename (the name never disappears).
    pub fn link_over(
        &self,
        existing: &RelPath,
        path: &RelPath,
        overwrite: &OverwritePermit,
    ) -> io::Result<()> {
        let tmp = self.link_beside(existing, path)?;
        self.place_or_drop(&tmp, path, overwrite)
    }

    /// `--backup`: `to` becomes a hard link to the file at `path` (which is
    /// left in place for the caller to replace), replacing an older `to`.
    pub fn backup(
        &self,
        path: &RelPath,
        to: &RelPath,
        overwrite: &OverwritePermit,
    ) -> io::Result<()> {
        let tmp = self.link_beside(path, to)?;
        self.place_or_drop(&tmp, to, overwrite)
    }

    /// A fresh temporary hard link to `existing` in `beside`'s directory.
    fn link_beside(&self, existing: &RelPath, beside: &RelPath) -> io::Result<RelPath> {
        self.quota.charge_name()?;
        let dir = beside.parent().unwrap_or_else(RelPath::root);
        let base = beside.file_name().unwrap_or(b"link");
        let (edir, ename) = self.root.split(existing)?;
        let d = self.root.open_parent(dir.as_bytes())?;
        let name = write::link_temp(&edir, ename, &d, base)?;
        self.note(&d, &name, false);
        Ok(dir.join(&name)?)
    }

    fn place_or_drop(
        &self,
        tmp: &RelPath,
        to: &RelPath,
        overwrite: &OverwritePermit,
    ) -> io::Result<()> {
        let r = self.place(tmp, to, Some(overwrite));
        if r.is_err() {
            let _ = self.remove(tmp, None);
        }
        r
    }

    // ---- Removing. ----

    /// Removes a non-directory: one this session created, or any with the
    /// deletion permit.
    pub fn remove(&self, path: &RelPath, delete: Option<&DeletePermit>) -> io::Result<()> {
        let (dir, name, n) = self.allowed(path, delete, Need::Name)?;
        // The name may be a symlink the remembered directory was reached by.
        self.root.forget_linked_parent();
        write::unlink(&dir, name)?;
        self.forget(&n);
        Ok(())
    }

    /// Removes an empty directory, under the same rule as [`Self::remove`].
    pub fn remove_dir(&self, path: &RelPath, delete: Option<&DeletePermit>) -> io::Result<()> {
        let (dir, name, n) = self.allowed(path, delete, Need::Name)?;
        self.root.forget_parent();
        write::rmdir(&dir, name)?;
        self.forget(&n);
        Ok(())
    }

    // ---- Changing attributes and contents. ----

    /// Sets the permission bits of `path` itself.
    pub fn chmod(
        &self,
        path: &RelPath,
        mode: u32,
        overwrite: Option<&OverwritePermit>,
    ) -> io::Result<()> {
        let (dir, name, _) = self.allowed_in_place(path, overwrite)?;
        write::chmod(&dir, name, mode)
    }

    /// Changes the owner and/or group of `path` itself.
    pub fn chown(
        &self,
        path: &RelPath,
        uid: Option<u32>,
        gid: Option<u32>,
        overwrite: Option<&OverwritePermit>,
    ) -> io::Result<()> {
        let (dir, name, _) = self.allowed_in_place(path, overwrite)?;
        write::chown(&dir, name, uid, gid)
    }

    /// Sets the mtime and the atime of `path` itself, each if given.
    pub fn set_times(
        &self,
        path: &RelPath,
        mtime: Option<(i64, u32)>,
        atime: Option<(i64, u32)>,
        overwrite: Option<&OverwritePermit>,
    ) -> io::Result<()> {
        let (dir, name, _) = self.allowed_in_place(path, overwrite)?;
        write::set_times(&dir, name, mtime, atime)
    }

    /// Opens an existing regular file for writing in place (`--inplace`).
    /// Never in a snapshot being made, whose files may be shared.
    pub fn open_for_update(&self, path: &RelPath, _: &OverwritePermit) -> io::Result<File> {
        if self.root.is_cow() {
            return Err(denied());
        }
        let (dir, name) = self.root.split(path)?;
        write::open_existing_for_write(&dir, name)
    }

    /// Opens `path` (a regular file or a directory) to change its
    /// extended attributes or ACLs: with `overwrite`, or because this
    /// session created it. `None` for other types. Returns the metadata
    /// of what was opened too.
    pub fn open_meta(
        &self,
        path: &RelPath,
        overwrite: Option<&OverwritePermit>,
    ) -> io::Result<Option<(super::xattr::MetaMut, super::Meta)>> {
        let (dir, name, _) = self.allowed_in_place(path, overwrite)?;
        let opened = super::xattr::open_meta_in(&dir, name)?;
        Ok(opened.map(|(fd, m)| (super::xattr::MetaMut(fd), m)))
    }

    /// The attributes of `file`, open as `path` (a temporary file this
    /// session created, or with `overwrite` the file itself): the same
    /// checks as [`Self::open_meta`], and `file` must be what `path` names.
    /// Returns the file's metadata too.
    pub fn meta_of(
        &self,
        file: &File,
        path: &RelPath,
        overwrite: Option<&OverwritePermit>,
    ) -> io::Result<(super::xattr::MetaMut, super::Meta)> {
        let (dir, name, _) = self.allowed(path, overwrite, Need::Object)?;
        let at = statx_at(&dir, name, rustix::fs::AtFlags::SYMLINK_NOFOLLOW)?;
        let of_file = statx_fd(file)?;
        if !at.same_file(&of_file) || (self.root.is_cow() && of_file.nlink > 1) {
            return Err(denied());
        }
        let fd = rustix::io::fcntl_dupfd_cloexec(file, 0)?;
        Ok((super::xattr::MetaMut(super::xattr::MetaFd(fd)), of_file))
    }

    /// `fchmod` on a file this writer opened.
    pub fn chmod_fd(&self, file: &File, mode: u32) -> io::Result<()> {
        write::chmod_fd(file, mode)
    }

    /// `fchown` on a file this writer opened.
    pub fn chown_fd(&self, file: &File, uid: Option<u32>, gid: Option<u32>) -> io::Result<()> {
        write::chown_fd(file, uid, gid)
    }

    /// `futimens` on a file this writer opened.
    pub fn set_times_fd(
        &self,
        file: &File,
        mtime: Option<(i64, u32)>,
        atime: Option<(i64, u32)>,
    ) -> io::Result<()> {
        write::set_times_fd(file, mtime, atime)
    }
}
