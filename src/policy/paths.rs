//! Client path normalisation, after rrsync's `validated_arg()`
//! (`support/rrsync`, rsync 3.5.0): a leading `./` and leading `/`s are
//! dropped, so an absolute client path names the same place beneath the
//! restricted root; runs of `/` collapse; any `..` component is refused.
//!
//! Inner `/./` and a trailing `/` or `/.` are kept: rsync gives them
//! meaning (the `--relative` anchor; "the contents of this directory").
//! This is purely lexical. Symlinks inside the root are the confined
//! filesystem's business (`fs`), not this module's.

/// Normalises one client path. `Err(())` means it contains a `..`
/// component. An empty result becomes `.`.
pub(crate) fn normalize(p: &str) -> Result<String, ()> {
    let mut s = p;
    loop {
        if let Some(rest) = s.strip_prefix('/') {
            s = rest;
        } else if let Some(rest) = s.strip_prefix("./") {
            s = rest;
        } else {
            break;
        }
    }
    let mut out = String::with_capacity(s.len());
    let mut prev_slash = false;
    for c in s.chars() {
        if c == '/' {
            if prev_slash {
                continue;
            }
            prev_slash = true;
        } else {
            prev_slash = false;
        }
        out.push(c);
    }
    if out.split('/').any(|c| c == "..") {
        return Err(());
    }
    if out.is_empty() {
        out.push('.');
    }
    Ok(out)
}

/// Resolves a receiver's directory option the way rsync does, relative
/// to the destination directory `dest` unless it starts with `/` (then
/// relative to the root). `..` components are applied lexically and may
/// climb out of `dest` (`--link-dest=../prev`, the classic rotation), but
/// never out of the root: `Err(())` then. Symlinks met later are the
/// confined filesystem's business.
pub(crate) fn resolve_under(dest: &str, value: &str) -> Result<String, ()> {
    let mut parts: Vec<&str> = Vec::new();
    let base = if value.starts_with('/') { "" } else { dest };
    for c in base.split('/').chain(value.split('/')) {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop().ok_or(())?;
            }
            c => parts.push(c),
        }
    }
    if parts.is_empty() {
        return Ok(".".into());
    }
    Ok(parts.join("/"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::{normalize, resolve_under};

    #[test]
    fn dest_relative_options() {
        assert_eq!(
            resolve_under("backups/today", "../prev").unwrap(),
            "backups/prev"
        );
        assert_eq!(resolve_under("dst", "bk").unwrap(), "dst/bk");
        assert_eq!(resolve_under("dst", "/abs/bk").unwrap(), "abs/bk");
        assert_eq!(resolve_under(".", "x/../y").unwrap(), "y");
        assert!(resolve_under("dst", "../../etc").is_err());
        assert!(resolve_under("dst", "/../etc").is_err());
    }

    fn n(p: &str) -> String {
        normalize(p).unwrap()
    }

    #[test]
    fn strips_leading_slashes_and_dot_slash() {
        assert_eq!(n("/etc/passwd"), "etc/passwd");
        assert_eq!(n("///a"), "a");
        assert_eq!(n("./a"), "a");
        assert_eq!(n("././/./a"), "a");
        assert_eq!(n("/./a"), "a");
    }

    #[test]
    fn empty_and_root_become_dot() {
        assert_eq!(n(""), ".");
        assert_eq!(n("/"), ".");
        assert_eq!(n("//"), ".");
        assert_eq!(n("./"), ".");
        assert_eq!(n("."), ".");
        assert_eq!(n("/."), ".");
    }

    #[test]
    fn keeps_meaningful_shapes() {
        assert_eq!(n("dir/"), "dir/");
        assert_eq!(n("dir/."), "dir/.");
        assert_eq!(n("a//b///c/"), "a/b/c/");
        assert_eq!(n("a/./b"), "a/./b");
        assert_eq!(n("a b/c\\d"), "a b/c\\d");
        assert_eq!(n("..."), "...");
        assert_eq!(n("..x/x.."), "..x/x..");
        assert_eq!(n("-rf"), "-rf");
    }

    #[test]
    fn refuses_dot_dot() {
        for p in [
            "..",
            "../x",
            "a/..",
            "a/../b",
            "/..",
            "./..",
            "a//..//b",
            "x/../../etc",
        ] {
            assert!(normalize(p).is_err(), "{p}");
        }
    }
}
