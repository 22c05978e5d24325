//! Tests for the confined file system: path validation, in-tree operations
//! and every escape attempt through symlinks (absolute, relative `..`,
//! intermediate and final components).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::policy::{DeletePermit, OverwritePermit};
use std::io::{Read, Write};
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// A fresh `base/{root,outside}` layout, removed on drop.
struct Fixture {
    base: PathBuf,
    root: Root,
}

impl Fixture {
    fn new() -> Fixture {
        static N: AtomicU32 = AtomicU32::new(0);
        let base = std::env::temp_dir().join(format!(
            "rrsync-fs-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(base.join("root/sub")).unwrap();
        std::fs::create_dir_all(base.join("outside")).unwrap();
        std::fs::write(base.join("outside/secret"), b"secret").unwrap();
        std::fs::write(base.join("root/sub/file"), b"hello").unwrap();
        symlink(base.join("outside"), base.join("root/evil")).unwrap();
        symlink("../outside", base.join("root/evil_rel")).unwrap();
        symlink("/etc", base.join("root/etc_link")).unwrap();
        symlink("../outside/secret", base.join("root/secret_link")).unwrap();
        symlink("sub/file", base.join("root/good_link")).unwrap();
        symlink("sub", base.join("root/good_dir_link")).unwrap();
        let root = Root::open(&base.join("root")).unwrap();
        Fixture { base, root }
    }

    fn p(&self, rel: &str) -> PathBuf {
        self.base.join(rel)
    }

    fn outside_listing(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.p("outside"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

fn rp(s: &str) -> RelPath {
    RelPath::new(s.as_bytes()).unwrap()
}

fn escape_err(e: &std::io::Error) -> bool {
    let code = e.raw_os_error();
    code == Some(rustix::io::Errno::XDEV.raw_os_error())
        || code == Some(rustix::io::Errno::LOOP.raw_os_error())
}

#[test]
fn relpath_validation() {
    assert_eq!(RelPath::new(b"/etc"), Err(PathError::Absolute));
    assert_eq!(RelPath::new(b"a/../b"), Err(PathError::DotDot));
    assert_eq!(RelPath::new(b".."), Err(PathError::DotDot));
    assert_eq!(RelPath::new(b"a/b\0c"), Err(PathError::Nul));
    assert_eq!(RelPath::new(&[b'a'; 256]), Err(PathError::ComponentTooLong));
    assert_eq!(RelPath::new(&[b'a'; 4097]), Err(PathError::TooLong));
    assert!(RelPath::new(b"").unwrap().is_root());
    assert!(RelPath::new(b".").unwrap().is_root());
    assert!(RelPath::new(b"./").unwrap().is_root());
    let p = RelPath::new(b"./a//b/./c/").unwrap();
    assert_eq!(p.as_bytes(), b"a/b/c");
    assert!(p.had_trailing_slash());
    assert_eq!(
        p.components().collect::<Vec<_>>(),
        vec![&b"a"[..], b"b", b"c"]
    );
    assert_eq!(p.file_name(), Some(&b"c"[..]));
    assert_eq!(p.parent().unwrap().as_bytes(), b"a/b");
    assert!(rp("a").parent().unwrap().is_root());
    assert_eq!(RelPath::root().parent(), None);
    assert_eq!(p.join(b"d/e").unwrap().as_bytes(), b"a/b/c/d/e");
    assert_eq!(p.join(b".."), Err(PathError::DotDot));
    assert_eq!(RelPath::root().join(b"x").unwrap().as_bytes(), b"x");
    assert_eq!(check_name(b"a/b"), Err(PathError::NotAName));
    assert_eq!(check_name(b".."), Err(PathError::NotAName));
    let non_utf8 = RelPath::new(b"\xff\xfe/x").unwrap();
    assert_eq!(non_utf8.as_bytes(), b"\xff\xfe/x");
}

/// A directory's names, read into a new buffer.
fn names_of(d: &Dir, max: usize) -> std::io::Result<Names> {
    let mut names = Names::default();
    d.read_names_into(max, &mut names)?;
    Ok(names)
}

#[test]
fn in_tree_reads() {
    let f = Fixture::new();
    let r = &f.root;
    assert!(!r.is_slash());
    let m = r.lstat(&rp("sub/file")).unwrap();
    assert_eq!(m.file_type, FileType::File);
    assert_eq!(m.size, 5);
    let mut s = String::new();
    r.open_file(&rp("sub/file"))
        .unwrap()
        .read_to_string(&mut s)
        .unwrap();
    assert_eq!(s, "hello");
    assert!(r.lstat(&rp("good_link")).unwrap().is_symlink());
    assert_eq!(r.stat(&rp("good_link")).unwrap().size, 5);
    assert_eq!(r.read_link(&rp("good_link")).unwrap(), b"sub/file");
    // A final symlink is never followed by open_file, even in-tree.
    assert!(r.open_file(&rp("good_link")).is_err());
    assert!(r.open_file(&rp("sub")).is_err());
    // Intermediate in-tree symlinks are fine.
    assert!(r.lstat(&rp("good_dir_link/file")).unwrap().is_file());
    assert!(r.open_dir(&rp("good_dir_link")).is_err());
    assert!(r.open_dir_follow(&rp("good_dir_link")).is_ok());
    assert!(r.lstat(&RelPath::root()).unwrap().is_dir());

    let d = r.open_dir(&RelPath::root()).unwrap();
    let mut names = d.read_entries(DEFAULT_MAX_ENTRIES).unwrap();
    names.sort();
    assert_eq!(names.len(), 7);
    assert!(names.contains(&b"sub".to_vec()));
    assert!(d.read_entries(3).is_err());
    let one_buffer = names_of(&d, DEFAULT_MAX_ENTRIES).unwrap();
    let each = d.read_entries(DEFAULT_MAX_ENTRIES).unwrap();
    assert_eq!(one_buffer.len(), each.len());
    for (i, name) in each.iter().enumerate() {
        assert_eq!(one_buffer.get(i), Some(name.as_slice()));
        let c = one_buffer.get_c(i).unwrap();
        assert_eq!(c.to_bytes(), name.as_slice());
        assert_eq!(
            d.lstat_c(c).unwrap().is_dir(),
            d.lstat_at(name).unwrap().is_dir()
        );
    }
    assert_eq!(one_buffer.get(each.len()), None);
    assert_eq!(one_buffer.get_c(each.len()), None);
    assert!(d.lstat_c(c"..").is_err());
    assert!(d.lstat_c(c"sub/x").is_err());
    assert!(names_of(&d, 3).is_err());
    assert!(d.lstat_at(b"evil").unwrap().is_symlink());
    assert_eq!(d.read_link_at(b"evil_rel").unwrap(), b"../outside");
    assert!(d.open_dir_at(b"evil").is_err());
    assert!(d.open_dir_at(b"good_dir_link").is_err());
    assert!(d.open_file_at(b"secret_link").is_err());
    assert!(d.open_dir_at(b"..").is_err());
    assert!(d.lstat_at(b"sub/file").is_err());
    let sub = d.open_dir_at(b"sub").unwrap();
    assert!(sub.meta().unwrap().is_dir());
    // A buffer filled from a bigger directory holds the smaller one's
    // names alone once it is filled again.
    let mut reused = one_buffer;
    sub.read_names_into(DEFAULT_MAX_ENTRIES, &mut reused)
        .unwrap();
    let fresh = names_of(&sub, DEFAULT_MAX_ENTRIES).unwrap();
    assert_eq!(reused.len(), fresh.len());
    for i in 0..=fresh.len() {
        assert_eq!(reused.get_c(i), fresh.get_c(i));
    }
    assert!(reused.held() > 0);
    let mut s = String::new();
    sub.open_file_at(b"file")
        .unwrap()
        .read_to_string(&mut s)
        .unwrap();
    assert_eq!(s, "hello");
}

#[test]
fn escaping_symlinks_reads() {
    let f = Fixture::new();
    let r = &f.root;
    for link in ["etc_link", "evil", "evil_rel", "secret_link"] {
        assert!(r.lstat(&rp(link)).unwrap().is_symlink(), "{link}");
        let e = r.stat(&rp(link)).unwrap_err();
        assert!(escape_err(&e), "{link}: {e}");
        assert!(r.open_file(&rp(link)).is_err(), "{link}");
        assert!(r.open_dir(&rp(link)).is_err(), "{link}");
        assert!(r.open_dir_follow(&rp(link)).is_err(), "{link}");
    }
    assert_eq!(r.read_link(&rp("etc_link")).unwrap(), b"/etc");
    assert_eq!(r.read_link(&rp("evil_rel")).unwrap(), b"../outside");
    for p in ["etc_link/passwd", "evil/secret", "evil_rel/secret"] {
        let e = r.open_file(&rp(p)).unwrap_err();
        assert!(escape_err(&e), "{p}: {e}");
        assert!(escape_err(&r.lstat(&rp(p)).unwrap_err()), "{p}");
    }
    assert!(RelPath::new(b"evil/..").is_err());
}

fn permits() -> (DeletePermit, OverwritePermit) {
    (DeletePermit::for_tests(), OverwritePermit::for_tests())
}

#[test]
fn escaping_symlinks_writes() {
    let f = Fixture::new();
    let w = Writer::new(&f.root);
    let (del, ow) = permits();
    let (del, ow) = (Some(&del), Some(&ow));
    let before = f.outside_listing();
    w.symlink(b"x", &rp("own")).unwrap();
    for dir in ["evil", "evil_rel", "etc_link"] {
        let x = rp(&format!("{dir}/x"));
        let secret = rp(&format!("{dir}/secret"));
        assert!(escape_err(&w.mkdir(&x, 0o755).unwrap_err()), "{dir}");
        assert!(escape_err(
            &w.create_temp(&rp(dir), b"f", 0o600).unwrap_err()
        ));
        assert!(escape_err(&w.place(&rp("own"), &x, ow).unwrap_err()));
        assert!(escape_err(
            &w.place(&secret, &rp("stolen"), ow).unwrap_err()
        ));
        assert!(escape_err(&w.symlink(b"t", &x).unwrap_err()));
        assert!(escape_err(
            &w.hard_link(&secret, &rp("stolen")).unwrap_err()
        ));
        assert!(escape_err(&w.hard_link(&rp("sub/file"), &x).unwrap_err()));
        let ow1 = OverwritePermit::for_tests();
        assert!(escape_err(
            &w.link_over(&secret, &rp("sub/file"), &ow1).unwrap_err()
        ));
        assert!(escape_err(
            &w.backup(&rp("sub/file"), &x, &ow1).unwrap_err()
        ));
        assert!(escape_err(
            &w.set_times(&secret, Some((1, 0)), None, ow).unwrap_err()
        ));
        assert!(escape_err(&w.chmod(&secret, 0o777, ow).unwrap_err()));
        assert!(escape_err(&w.chown(&secret, None, None, ow).unwrap_err()));
        assert!(escape_err(&w.remove(&secret, del).unwrap_err()));
        assert!(escape_err(&w.remove_dir(&x, del).unwrap_err()));
        assert!(escape_err(&w.open_for_update(&secret, &ow1).unwrap_err()));
        assert!(escape_err(
            &w.mknod(&x, FileType::Fifo, 0o600, (0, 0)).unwrap_err()
        ));
    }
    // Acting on the escaping link itself touches the link, not the target.
    let ow1 = OverwritePermit::for_tests();
    assert!(w.chmod(&rp("secret_link"), 0o777, ow).is_err());
    assert!(w.open_for_update(&rp("secret_link"), &ow1).is_err());
    w.set_times(&rp("secret_link"), Some((1000, 5)), None, ow)
        .unwrap();
    assert_eq!(f.root.lstat(&rp("secret_link")).unwrap().mtime_sec, 1000);
    w.chown(&rp("secret_link"), None, None, ow).unwrap();
    w.remove(&rp("secret_link"), del).unwrap();
    w.remove(&rp("evil"), del).unwrap();

    assert_eq!(f.outside_listing(), before);
    assert_eq!(std::fs::read(f.p("outside/secret")).unwrap(), b"secret");
    let m = std::fs::metadata(f.p("outside/secret")).unwrap();
    assert_ne!(m.permissions().mode() & 0o777, 0o777);
    assert!(std::fs::metadata(f.p("outside")).is_ok());
}

#[test]
fn in_tree_writes() {
    let f = Fixture::new();
    let r = &f.root;
    let w = Writer::new(r);
    let (del, ow) = permits();
    w.mkdir(&rp("new"), 0o755).unwrap();
    assert!(r.lstat(&rp("new")).unwrap().is_dir());
    let (mut file, tmp) = w.create_temp(&rp("new"), b"data.txt", 0o600).unwrap();
    let name = tmp.file_name().unwrap().to_vec();
    assert!(name.starts_with(b".data.txt."));
    assert_eq!(name.len(), b".data.txt.".len() + 6);
    file.write_all(b"payload").unwrap();
    w.set_times_fd(&file, Some((1_000_000, 123)), Some((2_000_000, 0)))
        .unwrap();
    w.chmod_fd(&file, 0o640).unwrap();
    drop(file);
    let dst = rp("new/data.txt");
    w.place(&tmp, &dst, None).unwrap();
    let m = r.lstat(&dst).unwrap();
    assert_eq!(
        (m.size, m.mtime_sec, m.mtime_nsec, m.atime_sec),
        (7, 1_000_000, 123, 2_000_000)
    );
    assert_eq!(m.perms(), 0o640);
    // Created by this session: its attributes may change without permits.
    w.chmod(&dst, 0o604, None).unwrap();
    assert_eq!(r.lstat(&dst).unwrap().perms(), 0o604);
    w.set_times(&dst, Some((42, 7)), None, None).unwrap();
    let m2 = r.lstat(&dst).unwrap();
    assert_eq!(
        (m2.mtime_sec, m2.mtime_nsec, m2.atime_sec),
        (42, 7, 2_000_000)
    );
    w.chown(&dst, Some(m.uid), Some(m.gid), None).unwrap();

    let mut u = w.open_for_update(&dst, &ow).unwrap();
    u.write_all(b"PAY").unwrap();
    drop(u);
    assert_eq!(std::fs::read(f.p("root/new/data.txt")).unwrap(), b"PAYload");

    w.symlink(b"data.txt", &rp("new/l")).unwrap();
    assert_eq!(r.read_link(&rp("new/l")).unwrap(), b"data.txt");
    assert_eq!(
        w.chmod(&rp("new/l"), 0o777, None)
            .unwrap_err()
            .raw_os_error(),
        Some(rustix::io::Errno::OPNOTSUPP.raw_os_error())
    );
    w.hard_link(&dst, &rp("new/h")).unwrap();
    assert_eq!(r.lstat(&rp("new/h")).unwrap().nlink, 2);
    w.hard_link(&rp("new/l"), &rp("new/hl")).unwrap();
    assert!(r.lstat(&rp("new/hl")).unwrap().is_symlink());
    w.mknod(&rp("new/fifo"), FileType::Fifo, 0o600, (0, 0))
        .unwrap();
    assert_eq!(r.lstat(&rp("new/fifo")).unwrap().file_type, FileType::Fifo);
    assert!(r.open_file(&rp("new/fifo")).is_err());
    // The sender's open, which takes the walk's word for the kind: a
    // FIFO put in a file's place opens at once and is refused.
    assert!(r.open_source(&rp("new/fifo"), false).is_err());
    assert!(w.open_for_update(&rp("new/fifo"), &ow).is_err());

    // The root itself: attributes can be set with the permit, it cannot
    // be removed.
    assert!(is_denied(
        &w.set_times(&RelPath::root(), Some((5, 0)), None, None)
            .unwrap_err()
    ));
    w.set_times(&RelPath::root(), Some((5, 0)), None, Some(&ow))
        .unwrap();
    assert_eq!(r.lstat(&RelPath::root()).unwrap().mtime_sec, 5);
    w.chmod(&RelPath::root(), 0o755, Some(&ow)).unwrap();
    assert!(w.remove_dir(&RelPath::root(), Some(&del)).is_err());
    assert!(w.remove(&RelPath::root(), Some(&del)).is_err());

    // Names this session created go without the deletion permit.
    for n in ["new/l", "new/h", "new/hl", "new/fifo", "new/data.txt"] {
        w.remove(&rp(n), None).unwrap();
    }
    assert!(w.remove_dir(&rp("sub"), Some(&del)).is_err());
    w.remove_dir(&rp("new"), None).unwrap();
    assert!(r.lstat(&rp("new")).is_err());
    let long = vec![b'x'; 255];
    let (_, tmp) = w.create_temp(&RelPath::root(), &long, 0o600).unwrap();
    assert_eq!(tmp.as_bytes().len(), 255);
    assert!(Path::new(&f.p("root")).exists());
}

/// The writer's rule: names that existed before the session neither
/// disappear nor change without the matching permit; its own names do.
#[test]
fn writer_guards_existing_names() {
    let f = Fixture::new();
    let r = &f.root;
    let w = Writer::new(r);
    let (del, ow) = permits();
    let file = rp("sub/file");
    let before = r.lstat(&file).unwrap();
    let denied = |e: std::io::Error| assert!(is_denied(&e), "{e}");
    denied(w.remove(&file, None).unwrap_err());
    denied(w.remove_dir(&rp("sub"), None).unwrap_err());
    denied(w.chmod(&file, 0o777, None).unwrap_err());
    denied(w.chown(&file, None, None, None).unwrap_err());
    denied(w.set_times(&file, Some((1, 0)), None, None).unwrap_err());
    assert!(!w.may_change(&file, None));
    assert!(w.may_change(&file, Some(&ow)));
    // A pre-existing name is never moved away, even with both permits.
    denied(w.place(&file, &rp("moved"), Some(&ow)).unwrap_err());
    // A new name never replaces an existing one without the permit.
    let (_, tmp) = w.create_temp(&rp("sub"), b"file", 0o600).unwrap();
    assert_eq!(
        w.place(&tmp, &file, None).unwrap_err().raw_os_error(),
        Some(rustix::io::Errno::EXIST.raw_os_error())
    );
    let after = r.lstat(&file).unwrap();
    assert!(after.same_file(&before) && after.mode == before.mode);
    assert_eq!(std::fs::read(f.p("root/sub/file")).unwrap(), b"hello");
    // Backups and hard links keep the name: it is replaced, not removed.
    w.backup(&file, &rp("sub/file~"), &ow).unwrap();
    assert!(r.lstat(&rp("sub/file~")).unwrap().same_file(&before));
    w.place(&tmp, &file, Some(&ow)).unwrap();
    assert!(!r.lstat(&file).unwrap().same_file(&before));
    w.link_over(&rp("sub/file~"), &file, &ow).unwrap();
    assert!(r.lstat(&file).unwrap().same_file(&before));
    // A new hard link to an old file is a new name, not a new file: it
    // may go, but the shared inode's attributes may not change.
    w.hard_link(&rp("sub/file~"), &rp("sub/link")).unwrap();
    denied(w.chmod(&rp("sub/link"), 0o777, None).unwrap_err());
    denied(
        w.set_times(&rp("sub/link"), Some((1, 0)), None, None)
            .unwrap_err(),
    );
    w.remove(&rp("sub/link"), None).unwrap();
    // Replaced names stay someone else's; the backup name is new.
    denied(w.remove(&file, None).unwrap_err());
    w.remove(&rp("sub/file~"), None).unwrap();
    w.remove(&file, Some(&del)).unwrap();
    let names: Vec<_> = std::fs::read_dir(f.p("root/sub")).unwrap().collect();
    assert!(names.is_empty(), "{names:?}");
}

/// The ledger tells one directory from another: a name made in one is
/// not a name of the same spelling in another, or in the root, however
/// the writer remembers the directory it last looked at.
#[test]
fn the_ledger_tells_directories_apart() {
    let f = Fixture::new();
    let r = &f.root;
    std::fs::create_dir(f.p("root/a")).unwrap();
    std::fs::write(f.p("root/file"), b"top").unwrap();
    let w = Writer::new(r);
    let denied = |e: std::io::Error| assert!(is_denied(&e), "{e}");
    w.symlink(b"t", &rp("a/file")).unwrap();
    denied(w.remove(&rp("sub/file"), None).unwrap_err());
    denied(w.remove(&rp("file"), None).unwrap_err());
    w.symlink(b"t", &rp("a/top")).unwrap();
    std::fs::write(f.p("root/top"), b"top").unwrap();
    denied(w.remove(&rp("top"), None).unwrap_err());
    w.remove(&rp("a/file"), None).unwrap();
    w.remove(&rp("a/top"), None).unwrap();
    assert_eq!(std::fs::read(f.p("root/sub/file")).unwrap(), b"hello");
    assert_eq!(std::fs::read(f.p("root/top")).unwrap(), b"top");
}

/// A session that may overwrite but not delete (`-no-del`) replaces an
/// existing name in one rename only after the name is known to be new:
/// a replaced name stays someone else's, and may not be removed.
#[test]
fn a_replaced_name_stays_someone_elses_without_the_delete_permit() {
    let f = Fixture::new();
    let r = &f.root;
    let (del, ow) = permits();
    let limits = crate::cli::Limits::default();
    let file = rp("sub/file");
    let w = Writer::for_session(r, None, Some(&ow), limits);
    let (_, tmp) = w.create_temp(&rp("sub"), b"file", 0o600).unwrap();
    w.place(&tmp, &file, Some(&ow)).unwrap();
    assert!(is_denied(&w.remove(&file, None).unwrap_err()));
    // With both permits, the one rename replaces it.
    let w = Writer::for_session(r, Some(&del), Some(&ow), limits);
    let (mut t, tmp) = w.create_temp(&rp("sub"), b"file", 0o600).unwrap();
    t.write_all(b"new").unwrap();
    w.place(&tmp, &file, Some(&ow)).unwrap();
    assert_eq!(std::fs::read(f.p("root/sub/file")).unwrap(), b"new");
}

/// The remembered parent directory never outlives a change to the tree:
/// after a directory is removed (or a name renamed) through the writer,
/// a name under the same path resolves in the directory that now stands
/// there; and while it is remembered, a symlink put in its place by
/// someone else does not redirect lookups (they stay in the directory
/// first resolved beneath the root).
#[test]
fn remembered_parent_follows_the_writers_changes() {
    let fx = Fixture::new();
    let r = &fx.root;
    let w = Writer::new(r);
    w.mkdir(&rp("g"), 0o755).unwrap();
    assert!(r.lstat(&rp("g/none")).is_err()); // g is now remembered
    w.remove_dir(&rp("g"), None).unwrap();
    std::fs::create_dir(fx.p("root/g")).unwrap();
    std::fs::write(fx.p("root/g/z"), b"z").unwrap();
    assert!(r.lstat(&rp("g/z")).unwrap().is_file());

    // Swapped for a symlink to the outside behind our back: the lookup
    // still resolves in the remembered directory, never outside.
    assert!(r.lstat(&rp("sub/file")).unwrap().is_file());
    std::fs::rename(fx.p("root/sub"), fx.p("root/sub.old")).unwrap();
    symlink(fx.p("outside"), fx.p("root/sub")).unwrap();
    assert!(r.lstat(&rp("sub/secret")).is_err());
    assert!(r.lstat(&rp("sub/file")).unwrap().is_file());
    // Once forgotten, the symlink is refused as any escape is.
    r.forget_parent();
    assert!(r.lstat(&rp("sub/secret")).is_err());
    assert!(r.lstat(&rp("sub/file")).is_err());
}

proptest::proptest! {
    /// The plain-name shortcut of `RelPath::join` gives what parsing the
    /// name gives, for any base and any name, plain or not.
    #[test]
    fn join_shortcut_matches_parsing(
        base in "([a-c]{1,4}(/[a-c]{1,4}){0,3}/?)?",
        name in proptest::collection::vec(proptest::sample::select(vec![b'a', b'.', b'/', 0u8, b'b']), 0..10),
        long in 0usize..3,
    ) {
        let base = RelPath::new(base.as_bytes()).unwrap();
        // Lengths at and past the component limit, too.
        let name = match long {
            0 => name,
            1 => vec![b'x'; MAX_NAME_LEN],
            _ => vec![b'x'; MAX_NAME_LEN + 1],
        };
        proptest::prop_assert_eq!(base.join(&name), base.join_parsed(&name));
    }

    /// `RelPath::new` takes a name already in normal form as it is, and
    /// normalises any other: both give what keeping the components one by
    /// one gives, errors alike.
    #[test]
    fn new_matches_component_by_component(
        raw in proptest::collection::vec(proptest::sample::select(vec![b'a', b'.', b'/', 0u8, b'b']), 0..12),
    ) {
        let got = RelPath::new(&raw).map(|p| (p.as_bytes().to_vec(), p.had_trailing_slash()));
        proptest::prop_assert_eq!(&got, &by_components(&raw));
        // In a used buffer, the same path.
        let mut buf = b"old bytes".to_vec();
        buf.clear();
        buf.extend_from_slice(&raw);
        let again = RelPath::from_buf(buf).map(|p| (p.as_bytes().to_vec(), p.had_trailing_slash()));
        proptest::prop_assert_eq!(again, got);
    }
}

/// A name in normal form keeps the buffer it came in: the generator's
/// path per entry allocates once.
#[test]
fn a_normal_name_keeps_its_buffer() {
    let buf = b"d0001/f0001".to_vec();
    let at = buf.as_ptr();
    let p = RelPath::from_buf(buf).unwrap();
    assert_eq!(p.as_bytes(), b"d0001/f0001");
    let back = p.into_bytes();
    assert_eq!(back.as_ptr(), at);
}

/// The normal form spelled out: each component checked, and kept unless
/// empty or `.`; whether the name ended in `/`.
fn by_components(raw: &[u8]) -> Result<(Vec<u8>, bool), PathError> {
    if raw.contains(&0) {
        return Err(PathError::Nul);
    }
    if raw.first() == Some(&b'/') {
        return Err(PathError::Absolute);
    }
    let mut kept: Vec<&[u8]> = Vec::new();
    for c in raw.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => return Err(PathError::DotDot),
            c => kept.push(c),
        }
    }
    Ok((kept.join(&b'/'), raw.last() == Some(&b'/')))
}

proptest::proptest! {
    /// The one-pass look at a name's components agrees with splitting it:
    /// plain exactly when no component is empty, `.`, `..` or holds a NUL,
    /// and then the longest component's length.
    #[test]
    fn plain_components_matches_splitting(
        raw in proptest::collection::vec(proptest::sample::select(vec![b'a', b'.', b'/', 0u8]), 0..14),
        long in 0usize..4,
    ) {
        let mut raw = raw;
        if long > 0 {
            // A long component, at or past the limit, somewhere in the name.
            let at = raw.len() / 2;
            let run = vec![b'x'; MAX_NAME_LEN - 1 + long];
            raw.splice(at..at, run);
        }
        let split: Vec<&[u8]> = raw.split(|&b| b == b'/').collect();
        let plain = split
            .iter()
            .all(|c| !c.is_empty() && *c != b"." && *c != b".." && !c.contains(&0));
        let want = plain.then(|| split.iter().map(|c| c.len()).max().unwrap_or(0));
        proptest::prop_assert_eq!(plain_components(&raw), want);
    }
}
