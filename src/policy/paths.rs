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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::normalize;

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
