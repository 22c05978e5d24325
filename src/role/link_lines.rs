//! The lines a role sends the client in rsync's own words (`rprintf` and
//! `rsyserr` in `log.c`): `rsync: [ROLE] ...` errors and warnings, as
//! multiplexed messages; all protocols 27 to 32.

use super::Link;
use crate::wire::MsgCode;

impl Link {
    /// Names our role in error lines from now on.
    pub fn set_who(&self, who: &'static str) {
        self.0.borrow_mut().who = who;
    }

    /// Our role's name in error lines (`server` until a role is chosen).
    pub fn who(&self) -> &'static str {
        match self.0.borrow().who {
            "" => "server",
            w => w,
        }
    }

    /// Sends `rsync: [who] WHAT: STRERROR (ERRNO)` as a transfer error,
    /// the line stock rsync prints for a failed system call (`rsyserr`).
    pub fn rsyserr(&self, what: &str, err: &std::io::Error) {
        let line = format!(
            "rsync: [{}] {what}: {} ({})\n",
            self.who(),
            crate::role::text::strerror(err),
            err.raw_os_error().unwrap_or(0)
        );
        self.msg(MsgCode::ErrorXfer, line.as_bytes());
    }

    /// Sends a fatal error line: `rsync: [who] MSG`.
    pub fn error(&self, msg: &str) {
        let line = format!("rsync: [{}] {msg}\n", self.who());
        self.msg(MsgCode::Error, line.as_bytes());
    }

    /// Sends a fatal error line, then the exit message with `code`: how
    /// every role ends a session that failed.
    pub fn fail(&self, msg: &str, code: i32) {
        self.error(msg);
        self.msg_int(MsgCode::ErrorExit, code);
        self.flush();
    }

    /// Sends, as is, an error line the session goes on after (stock
    /// writes these to its stderr): `MSG_ERROR`, but below protocol 30
    /// `MSG_INFO`, since there the one error tag a 2.6 client reads
    /// makes a 3.x client count a failed transfer (exit 23).
    pub fn error_going_on(&self, line: &str) {
        let old = self.protocol().is_some_and(|p| p < 30);
        let code = if old { MsgCode::Info } else { MsgCode::Error };
        self.msg(code, format!("{line}\n").as_bytes());
    }

    /// Sends a warning line as is.
    pub fn warning(&self, msg: &str) {
        self.msg(MsgCode::Warning, format!("{msg}\n").as_bytes());
    }

    /// Sends an informational line as is.
    pub fn info(&self, msg: &str) {
        self.msg(MsgCode::Info, format!("{msg}\n").as_bytes());
    }

    /// Sends `rsync: [WHO] WHAT: STRERROR (ERRNO)` as a transfer error,
    /// naming `who` rather than the role: rsync's receiver reports some
    /// failures as its generator does (`rsyserr` from `generator.c`).
    pub fn rsyserr_as(&self, who: &str, what: &str, err: &std::io::Error) {
        let line = format!(
            "rsync: [{who}] {what}: {} ({})\n",
            crate::role::text::strerror(err),
            err.raw_os_error().unwrap_or(0)
        );
        self.msg(MsgCode::ErrorXfer, line.as_bytes());
    }
}
