//! Tests for reading attributes by name ([`super::MetaAt`]): the name's
//! own attributes, never a symlink's target's, never a path that leaves
//! the root, and the right file's while another thread reads too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use rustix::fs::{lsetxattr, XattrFlags};
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

/// `base/{root/sub,outside}`, removed on drop.
struct Tree(PathBuf);

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A tree whose files carry `user.tag`; `None` where the file system
/// keeps no user attributes.
fn tree(tag: &str) -> Option<(Tree, Root)> {
    let base = std::env::temp_dir().join(format!("rrsync-xattr-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    for dir in ["root/sub", "root/one", "root/two", "outside"] {
        std::fs::create_dir_all(base.join(dir)).unwrap();
    }
    let t = Tree(base.clone());
    let files = [
        ("root/sub/a", "a"),
        ("root/one/t", "one"),
        ("root/two/t", "two"),
        ("outside/secret", "secret"),
    ];
    for (file, value) in files {
        std::fs::write(base.join(file), b"x").unwrap();
        if tag_file(&base.join(file), value).is_err() {
            eprintln!("no user xattrs on {}: skipped", base.display());
            return None;
        }
    }
    tag_file(&base.join("root/sub"), "dir").unwrap();
    tag_file(&base.join("root"), "root").unwrap();
    symlink(base.join("outside/secret"), base.join("root/sub/abs")).unwrap();
    symlink("../../outside/secret", base.join("root/sub/rel")).unwrap();
    symlink(base.join("outside"), base.join("root/evil")).unwrap();
    let root = Root::open(&base.join("root")).unwrap();
    Some((t, root))
}

fn tag_file(p: &Path, value: &str) -> rustix::io::Result<()> {
    lsetxattr(p, "user.tag", value.as_bytes(), XattrFlags::empty())
}

fn tag_of(root: &Root, path: &str) -> std::io::Result<Option<Vec<u8>>> {
    let path = RelPath::new(path.as_bytes()).unwrap();
    root.meta_at(&path)?.get(b"user.tag")
}

#[test]
fn reads_the_names_own_attributes() {
    let Some((_t, root)) = tree("own") else {
        return;
    };
    assert_eq!(tag_of(&root, "sub/a").unwrap().as_deref(), Some(&b"a"[..]));
    assert_eq!(tag_of(&root, "sub").unwrap().as_deref(), Some(&b"dir"[..]));
    // The root itself: its own handle and the name `.`.
    assert_eq!(tag_of(&root, ".").unwrap().as_deref(), Some(&b"root"[..]));
    let at_a = RelPath::new(b"sub/a").unwrap();
    let names = root.meta_at(&at_a).unwrap().names().unwrap();
    assert!(names.iter().any(|n| n == b"user.tag"), "{names:?}");
    assert_eq!(
        tag_of(&root, "sub/none").unwrap_err().raw_os_error(),
        Some(2)
    );
}

#[test]
fn a_symlink_is_read_itself_and_the_root_is_not_left() {
    let Some((_t, root)) = tree("links") else {
        return;
    };
    for link in ["sub/abs", "sub/rel"] {
        assert_eq!(tag_of(&root, link).unwrap(), None, "{link}");
        let at = RelPath::new(link.as_bytes()).unwrap();
        let names = root.meta_at(&at).unwrap().names().unwrap();
        assert!(!names.iter().any(|n| n == b"user.tag"), "{link}: {names:?}");
    }
    assert!(tag_of(&root, "evil/secret").is_err());
}

#[test]
fn threads_reading_at_once_read_their_own_files() {
    let Some((_t, root)) = tree("threads") else {
        return;
    };
    let root = std::sync::Arc::new(root);
    // The same name in two directories: a read that resolved it in the
    // other thread's directory would get the other value.
    let readers: Vec<_> = ["one", "two"]
        .into_iter()
        .map(|name| {
            let root = std::sync::Arc::clone(&root);
            std::thread::spawn(move || {
                let path = format!("{name}/t");
                for _ in 0..20_000 {
                    let got = tag_of(&root, &path).unwrap();
                    assert_eq!(got.as_deref(), Some(name.as_bytes()), "{path}");
                }
            })
        })
        .collect();
    for r in readers {
        r.join().unwrap();
    }
}
