//! Defence in depth: after start-up the session restricts itself with
//! Landlock to the served directory — read-only under `-ro`, full access
//! beneath it otherwise — so even a bug that slipped past the `openat2`
//! confinement in [`crate::fs`] cannot reach outside the root.
//!
//! The restriction applies to the calling thread and the threads it starts
//! (the receiver's generator), which is exactly one session, also under
//! `rrsync-rs serve`. Kernels without Landlock leave it off; the status
//! goes into the audit line.

use std::cell::Cell;

use crate::fs::Root;

/// What Landlock did for this session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Fully enforced.
    On,
    /// Enforced with only the rights this kernel knows.
    Partial,
    /// Not available (old kernel, disabled) or not needed (root is `/`).
    Off,
}

impl Status {
    /// The word used in the audit line.
    pub fn name(self) -> &'static str {
        match self {
            Status::On => "on",
            Status::Partial => "partial",
            Status::Off => "off",
        }
    }
}

thread_local! {
    static LAST: Cell<Option<Status>> = const { Cell::new(None) };
}

/// The status of the last restriction on this thread, if one was tried.
pub fn last_status() -> Option<Status> {
    LAST.with(Cell::get)
}

/// What a session may do beneath its root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rights {
    /// Read only (a pull).
    Read,
    /// Read and remove files (a pull with `--remove-source-files`).
    ReadRemove,
    /// Everything (a push).
    All,
}

/// Restricts this thread (and the threads it starts) to `rights`
/// beneath `root`.
pub fn restrict(root: &Root, rights: Rights) -> Status {
    let status = if root.is_slash() {
        Status::Off
    } else {
        apply(root, rights)
    };
    LAST.with(|c| c.set(Some(status)));
    status
}

#[cfg(target_os = "linux")]
fn apply(root: &Root, rights: Rights) -> Status {
    use landlock::{
        Access, AccessFs, PathBeneath, Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetStatus, ABI,
    };
    let abi = ABI::V3;
    let allowed = match rights {
        Rights::All => AccessFs::from_all(abi),
        Rights::ReadRemove => AccessFs::from_read(abi) | AccessFs::RemoveFile,
        Rights::Read => AccessFs::from_read(abi),
    };
    let result = Ruleset::default()
        .handle_access(AccessFs::from_all(abi))
        .and_then(|r| r.create())
        .and_then(|r| r.add_rule(PathBeneath::new(root.fd(), allowed)))
        .and_then(|r| r.restrict_self());
    match result {
        Ok(s) => match s.ruleset {
            RulesetStatus::FullyEnforced => Status::On,
            RulesetStatus::PartiallyEnforced => Status::Partial,
            RulesetStatus::NotEnforced => Status::Off,
        },
        Err(_) => Status::Off,
    }
}

#[cfg(not(target_os = "linux"))]
fn apply(_root: &Root, _rights: Rights) -> Status {
    Status::Off
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// With the `openat2` layer bypassed (plain `std::fs` paths), a
    /// restricted thread still cannot read outside the root, or write or
    /// truncate under `-ro`; it can read inside.
    #[test]
    fn second_wall_holds_without_openat2() {
        let status = read_only_wall(Rights::Read, "ro");
        eprintln!("landlock: {}", status.name());
    }

    /// The same for a pull with `--remove-source-files`, which may also
    /// remove files.
    #[test]
    fn second_wall_holds_for_remove_source_files() {
        read_only_wall(Rights::ReadRemove, "remove");
    }

    fn read_only_wall(rights: Rights, tag: &str) -> Status {
        let pid = std::process::id();
        let base = std::env::temp_dir().join(format!("rrsync-sandbox-{pid}-{tag}"));
        let root_dir = base.join("root");
        std::fs::create_dir_all(&root_dir).unwrap();
        std::fs::write(root_dir.join("in.txt"), b"inside").unwrap();
        std::fs::write(base.join("out.txt"), b"outside").unwrap();
        let (rd, b) = (root_dir.clone(), base.clone());
        let status = std::thread::spawn(move || {
            let root = Root::open(&rd).unwrap();
            let st = restrict(&root, rights);
            if st == Status::On {
                assert_eq!(std::fs::read(rd.join("in.txt")).unwrap(), b"inside");
                assert!(
                    std::fs::read(b.join("out.txt")).is_err(),
                    "read outside the root"
                );
                assert!(
                    std::fs::write(rd.join("new.txt"), b"x").is_err(),
                    "write under -ro"
                );
                // A read-only open that asks for truncation truncates
                // wherever Landlock grants truncation, write or no write.
                let trunc = rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::TRUNC;
                let opened = rustix::fs::open(rd.join("in.txt"), trunc, rustix::fs::Mode::empty());
                assert!(opened.is_err(), "truncating open under -ro");
                assert_eq!(std::fs::read(rd.join("in.txt")).unwrap(), b"inside");
                let removed = std::fs::remove_file(rd.join("in.txt"));
                assert_eq!(removed.is_ok(), rights == Rights::ReadRemove);
            }
            st
        })
        .join()
        .unwrap();
        let _ = std::fs::remove_dir_all(&base);
        status
    }
}
