//! `--safe-links` on the receiving side (`unsafe_symlink` in rsync's
//! `util1.c`, called from `recv_generator`; all protocols): a symlink whose
//! target would lead outside the transfer is not created.
//!
//! A target is unsafe when it is empty or absolute, when it has a `..`
//! step anywhere but in a run at its start (rsync 3.4's fix for
//! CVE-2024-12088: `d/../x` is refused, as is a final `d/..`), or when,
//! read from the link's own directory, one of its `..` steps climbs above
//! the top of the transfer. `.` steps and repeated slashes count for
//! nothing; any other step goes one level down. This judges the text
//! only, as rsync does: a target that passes through another symlink is
//! not followed.

/// Whether a symlink named `name` (its path in the file list, from the top
/// of the transfer) with target `target` points outside the transfer.
pub(crate) fn is_unsafe(target: &[u8], name: &[u8]) -> bool {
    if target.first().is_none_or(|&b| b == b'/') || inner_dotdot(target) {
        return true;
    }
    // The directories above the link: its path without the last step.
    let mut depth: i64 = 0;
    let mut dirs = name.split(|&b| b == b'/').filter(|c| !c.is_empty());
    let _ = dirs.next_back();
    for c in dirs {
        match c {
            b"." => {}
            b".." => depth = 0,
            _ => depth += 1,
        }
    }
    for c in target.split(|&b| b == b'/').filter(|c| !c.is_empty()) {
        match c {
            b"." => {}
            b".." => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            _ => depth += 1,
        }
    }
    false
}

/// Whether `target` has a `..` step after something else: `/../` once the
/// leading run of `../` steps (each with any number of slashes after it)
/// is skipped, or a final `/..`.
fn inner_dotdot(target: &[u8]) -> bool {
    let mut rest = target;
    while let Some(r) = rest.strip_prefix(b"../") {
        rest = r;
        while let Some(r) = rest.strip_prefix(b"/") {
            rest = r;
        }
    }
    rest.windows(4).any(|w| w == b"/../") || (target.len() > 3 && target.ends_with(b"/.."))
}

#[cfg(test)]
mod tests {
    use super::is_unsafe;

    #[test]
    fn absolute_and_empty_targets_are_unsafe() {
        assert!(is_unsafe(b"/etc/passwd", b"l"));
        assert!(is_unsafe(b"", b"d/l"));
    }

    #[test]
    fn climbing_above_the_top_is_unsafe() {
        assert!(is_unsafe(b"..", b"l"));
        assert!(is_unsafe(b"../x", b"l"));
        assert!(is_unsafe(b"../../x", b"d/l"));
        assert!(is_unsafe(b"a/../../x", b"l"));
        assert!(is_unsafe(b"./.././x", b"l"));
    }

    #[test]
    fn a_dotdot_after_another_step_is_unsafe() {
        assert!(is_unsafe(b"sub/../file", b"l"));
        assert!(is_unsafe(b"a/../b", b"d/e/l"));
        assert!(is_unsafe(b"../a/../b", b"d/e/l"));
        assert!(is_unsafe(b"./../x", b"d/l"));
        assert!(is_unsafe(b"a/..", b"d/l"));
        assert!(!is_unsafe(b"..//../x", b"d/e/l"));
        assert!(!is_unsafe(b"a..b/c../x", b"l"));
    }

    #[test]
    fn staying_inside_is_safe() {
        assert!(!is_unsafe(b"x", b"l"));
        assert!(!is_unsafe(b"../x", b"d/l"));
        assert!(!is_unsafe(b"..", b"d/l"));
        assert!(!is_unsafe(b"./x//y/", b"l"));
        assert!(!is_unsafe(b"../../x", b"d/e/l"));
    }

    #[test]
    fn a_dip_below_the_top_is_unsafe_even_if_it_comes_back() {
        // From `d/`, `../..` leaves the transfer before `d/x` leads back.
        assert!(is_unsafe(b"../../d/x", b"d/l"));
    }
}
