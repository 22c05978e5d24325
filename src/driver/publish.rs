//! Publishing a `-snapshot` push from outside the push's sandbox.
//!
//! The session restricts itself with Landlock to the snapshot it is
//! making (`DIR/.snapshots/.partial`), so no bug in it can write to an
//! earlier snapshot or to `latest`. Publishing needs exactly that: a
//! rename in `.snapshots` and a new `latest`. A thread started before the
//! restriction (Landlock binds the calling thread and the threads it
//! starts later, not earlier ones) holds the [`Pending`] snapshot and
//! does one thing, when asked once: [`Pending::publish`]. Dropped without
//! being asked, it publishes nothing.

use std::io;
use std::sync::mpsc;

use crate::fs::snapshot::Pending;
use crate::session::Publish;

/// The handle the session asks; the thread holds the snapshot. The
/// thread answers once and ends, so a second request fails.
pub struct Publisher {
    ask: mpsc::Sender<()>,
    answer: mpsc::Receiver<io::Result<String>>,
}

impl Publisher {
    /// Starts the publishing thread for `pending`.
    pub fn spawn(pending: Pending) -> io::Result<Publisher> {
        let (ask, asked) = mpsc::channel::<()>();
        let (tell, answer) = mpsc::channel();
        std::thread::Builder::new()
            .name("publish".into())
            .spawn(move || {
                if asked.recv().is_ok() {
                    let _ = tell.send(pending.publish());
                }
            })?;
        Ok(Publisher { ask, answer })
    }
}

impl Publish for Publisher {
    fn publish(&self) -> io::Result<String> {
        let gone = || io::Error::other("the publishing thread is gone");
        self.ask.send(()).map_err(|_| gone())?;
        self.answer.recv().map_err(|_| gone())?
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::fs::Root;
    use crate::sandbox::{restrict, Rights, Status};

    /// Restricted to the snapshot being made, the session's thread cannot
    /// write beside it (plain paths, no `openat2`), yet the snapshot is
    /// published.
    #[test]
    fn the_push_is_walled_in_and_still_published() {
        let base = std::env::temp_dir().join(format!("rrsync-publish-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(&base).unwrap();
        let b = base.clone();
        let status = std::thread::spawn(move || {
            let now = jiff::Timestamp::from_second(0).unwrap();
            let (root, pending) = crate::fs::snapshot::begin(Root::open(&b).unwrap(), now).unwrap();
            let publisher = Publisher::spawn(pending).unwrap();
            let st = restrict(&root, Rights::All);
            let partial = b.join(".snapshots/.partial");
            std::fs::write(partial.join("inside"), b"x").unwrap();
            if st == Status::On {
                assert!(std::fs::write(b.join("beside"), b"x").is_err());
                assert!(std::fs::remove_dir(&partial).is_err());
            }
            assert_eq!(publisher.publish().unwrap(), "1970-01-01T000000Z");
            assert!(publisher.publish().is_err(), "publishes once");
            st
        })
        .join()
        .unwrap();
        eprintln!("landlock: {}", status.name());
        assert!(base.join("latest/inside").exists());
        let _ = std::fs::remove_dir_all(&base);
    }
}
