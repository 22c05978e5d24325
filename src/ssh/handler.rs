//! One SSH connection to `serve`: public-key authentication against the
//! `authorized_keys` file (with `--user-keys`, that of the Unix account
//! the login name selects, see [`super::account`]), then a single session
//! channel whose single `exec` request runs in a session process through
//! [`super::bridge`]; the connection ends [`LINGER`] after that.
//! Everything else is refused, as sshd refuses it for a `restrict` key (OpenSSH
//! `auth-options.c`): passwords, keyboard-interactive, certificates,
//! PTYs, shells, subsystems, environment, X11, agent and port forwarding.
//! Independent of the rsync protocol version.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use russh::keys::{HashAlg, PublicKey};
use russh::server::{Auth, ChannelOpenHandle, Msg, PublicKeyOffer, Session, VerifiedPublicKey};
use russh::{Channel, ChannelId, ChannelOpenFailure, MethodKind, MethodSet};
use tokio::sync::OwnedSemaphorePermit;

use super::account::{self, Account};
use super::authkeys::{self, Entry};
use super::bridge::{self, Launch, Pending};
use super::Shared;
use crate::audit::Record;
use crate::cli::WrapperFlags;

/// How long a connection may stay open once its session has ended (the
/// client normally disconnects at once; nothing else may run on it).
pub const LINGER: std::time::Duration = std::time::Duration::from_secs(5);

/// The keys one login name may use, and the account they run as.
struct Keys {
    user: String,
    account: Option<Account>,
    entries: Vec<Entry>,
}

/// A connection's audit record; written when the last holder drops it
/// (the handler, the running command and the accept loop share it).
pub struct SessionLog {
    shared: Arc<Shared>,
    rec: Mutex<Record>,
    /// The connection's log span: the peer's address, and the key's
    /// fingerprint once it authenticated.
    span: tracing::Span,
}

impl SessionLog {
    /// A record for a connection from `remote`.
    pub fn new(shared: Arc<Shared>, remote: String) -> Arc<SessionLog> {
        let span = tracing::info_span!("session", peer = %remote, key = tracing::field::Empty);
        span.in_scope(|| tracing::debug!("connected"));
        let mut rec = Record::start("serve");
        rec.remote = Some(remote);
        Arc::new(SessionLog {
            shared,
            rec: Mutex::new(rec),
            span,
        })
    }

    /// Runs `f` (which logs) inside the connection's span.
    pub fn in_span<T>(&self, f: impl FnOnce() -> T) -> T {
        self.span.in_scope(f)
    }

    /// Edits the record.
    pub fn with(&self, f: impl FnOnce(&mut Record)) {
        if let Ok(mut r) = self.rec.lock() {
            f(&mut r);
        }
    }
}

impl Drop for SessionLog {
    fn drop(&mut self) {
        if let Ok(r) = self.rec.get_mut() {
            if r.duration.is_none() {
                r.finish(r.exit);
            }
            self.span.in_scope(|| self.shared.audit.write(r));
        }
    }
}

/// The russh handler for one connection.
pub struct Conn {
    shared: Arc<Shared>,
    log: Arc<SessionLog>,
    started: Arc<AtomicBool>,
    keys: Option<Keys>,
    flags: Option<WrapperFlags>,
    account: Option<Account>,
    pending: Option<Pending>,
    opened: bool,
    unauth: Option<OwnedSemaphorePermit>,
    session: Option<OwnedSemaphorePermit>,
    unknown: Vec<String>,
}

impl Conn {
    /// A handler holding an unauthenticated-connection slot.
    pub fn new(
        shared: Arc<Shared>,
        log: Arc<SessionLog>,
        started: Arc<AtomicBool>,
        unauth: OwnedSemaphorePermit,
    ) -> Conn {
        Conn {
            shared,
            log,
            started,
            keys: None,
            flags: None,
            account: None,
            pending: None,
            opened: false,
            unauth: Some(unauth),
            session: None,
            unknown: Vec::new(),
        }
    }

    fn find(&mut self, user: &str, key: &PublicKey) -> Option<Entry> {
        if self.keys.as_ref().is_none_or(|k| k.user != user) {
            let (account, entries) = if self.shared.user_keys {
                self.account_keys(user)
            } else {
                (None, self.shared_keys())
            };
            self.keys = Some(Keys {
                user: user.to_string(),
                account,
                entries,
            });
        }
        self.keys
            .as_ref()?
            .entries
            .iter()
            .find(|e| e.key.key_data() == key.key_data())
            .cloned()
    }

    /// The keys of the one `authorized_keys` file (the default).
    fn shared_keys(&self) -> Vec<Entry> {
        let shared = &self.shared;
        match std::fs::read(&shared.authorized_keys) {
            Ok(text) => authkeys::parse(&text, shared.defaults.as_ref(), shared.home.as_deref()).0,
            Err(e) => {
                let shown = shared.authorized_keys.display().to_string();
                self.log.in_span(|| {
                    tracing::error!("cannot read {}: {e}", crate::audit::escape(&shown));
                });
                Vec::new()
            }
        }
    }

    /// `--user-keys`: the account `user` names and the keys of its own
    /// `~/.ssh/authorized_keys` (only keys with a `command=`).
    fn account_keys(&self, user: &str) -> (Option<Account>, Vec<Entry>) {
        let acc = match select_account(user, self.shared.permit_root) {
            Ok(a) => a,
            Err(why) => {
                self.refuse(&format!("login {}: {why}", crate::cli::snippet(user)));
                return (None, Vec::new());
            }
        };
        let text = match account::read_keys(&acc) {
            Ok(t) => t,
            Err(why) => {
                self.refuse(&format!("login {}: keys not read", acc.name));
                self.log
                    .in_span(|| tracing::warn!("account {}: {why}", acc.name));
                return (None, Vec::new());
            }
        };
        let (entries, warnings) = authkeys::parse(&text, None, Some(&acc.home));
        self.log.in_span(|| {
            for w in warnings {
                let w = crate::audit::escape(&w);
                tracing::warn!("~{}/.ssh/authorized_keys: {w}", acc.name);
            }
        });
        (Some(acc), entries)
    }

    fn refuse(&self, why: &str) {
        self.log.with(|r| r.refuse(why));
    }
}

/// The account a login name selects; never uid 0 unless the login is
/// `root` and the operator allowed it (`--permit-root-login`).
fn select_account(user: &str, permit_root: bool) -> Result<Account, &'static str> {
    let acc = account::lookup(user).ok_or("no such account")?;
    if acc.uid == 0 && !(permit_root && user == "root") {
        return Err("sessions as root are not permitted");
    }
    Ok(acc)
}

fn reject() -> Auth {
    Auth::Reject {
        proceed_with_methods: Some(MethodSet::from(&[MethodKind::PublicKey][..])),
        partial_success: false,
    }
}

fn describe(key: &PublicKey, entry: &Entry) -> String {
    let fp = key.fingerprint(HashAlg::Sha256).to_string();
    let comment = entry.key.comment().to_string();
    if comment.is_empty() {
        fp
    } else {
        format!("{fp} {comment}")
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if self.flags.is_none() {
            let why = if self.unknown.is_empty() {
                "not authenticated".to_string()
            } else {
                format!("unknown key {}", self.unknown.join(", "))
            };
            self.refuse(&why);
        } else if !self.started.load(Ordering::Relaxed) {
            self.refuse("no command was run");
        }
    }
}

impl russh::server::Handler for Conn {
    type Error = russh::Error;

    async fn auth_none(&mut self, _user: &str) -> Result<Auth, Self::Error> {
        Ok(reject())
    }

    async fn auth_password(&mut self, user: &str, _password: &str) -> Result<Auth, Self::Error> {
        self.log.with(|r| r.user = Some(user.to_string()));
        self.refuse("password authentication refused");
        Ok(reject())
    }

    async fn auth_keyboard_interactive<'a>(
        &'a mut self,
        _user: &str,
        _submethods: &str,
        _response: Option<russh::server::Response<'a>>,
    ) -> Result<Auth, Self::Error> {
        self.refuse("keyboard-interactive authentication refused");
        Ok(reject())
    }

    async fn auth_openssh_certificate(
        &mut self,
        _user: &str,
        _certificate: &russh::keys::Certificate,
    ) -> Result<Auth, Self::Error> {
        self.refuse("certificate authentication refused");
        Ok(reject())
    }

    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        offer: PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        if super::server::weak_algorithm(offer.algorithm) {
            self.refuse("ssh-rsa (SHA-1) signature refused");
            return Ok(reject());
        }
        if self.find(user, offer.public_key).is_some() {
            return Ok(Auth::Accept);
        }
        if self.unknown.len() < 8 {
            self.unknown
                .push(offer.public_key.fingerprint(HashAlg::Sha256).to_string());
        }
        Ok(reject())
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        if super::server::weak_algorithm(key.algorithm) {
            return Ok(reject());
        }
        let Some(entry) = self.find(user, key.public_key) else {
            return Ok(reject());
        };
        let who = describe(key.public_key, &entry);
        let fp = key.public_key.fingerprint(HashAlg::Sha256).to_string();
        self.log.span.record("key", tracing::field::display(&fp));
        self.log
            .in_span(|| tracing::debug!("authenticated as {}", crate::cli::snippet(user)));
        self.log.with(|r| {
            r.key = Some(who);
            r.user = Some(user.to_string());
            r.set_flags(&entry.flags);
        });
        self.flags = Some(entry.flags);
        self.account = self.keys.as_ref().and_then(|k| k.account.clone());
        self.unauth = None;
        self.session = self.shared.sessions.clone().try_acquire_owned().ok();
        Ok(Auth::Accept)
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.opened || self.flags.is_none() {
            self.refuse("a second session channel refused");
            reply
                .reject(ChannelOpenFailure::AdministrativelyProhibited)
                .await;
            return Ok(());
        }
        self.opened = true;
        let (read, write) = channel.split();
        self.pending = Some(bridge::open(read, write));
        reply.accept().await;
        Ok(())
    }

    async fn channel_open_x11(
        &mut self,
        _channel: Channel<Msg>,
        _addr: &str,
        _port: u32,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.refuse("X11 channel refused");
        reply
            .reject(ChannelOpenFailure::AdministrativelyProhibited)
            .await;
        Ok(())
    }

    async fn channel_open_direct_tcpip(
        &mut self,
        _channel: Channel<Msg>,
        host: &str,
        port: u32,
        _orig: &str,
        _orig_port: u32,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.refuse(&format!(
            "port forwarding to {}:{port} refused",
            crate::cli::snippet(host)
        ));
        reply
            .reject(ChannelOpenFailure::AdministrativelyProhibited)
            .await;
        Ok(())
    }

    async fn channel_open_direct_streamlocal(
        &mut self,
        _channel: Channel<Msg>,
        _path: &str,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.refuse("unix socket forwarding refused");
        reply
            .reject(ChannelOpenFailure::AdministrativelyProhibited)
            .await;
        Ok(())
    }

    async fn tcpip_forward(
        &mut self,
        address: &str,
        port: &mut u32,
        _session: &mut Session,
    ) -> Result<bool, Self::Error> {
        self.refuse(&format!(
            "remote port forwarding of {}:{port} refused",
            crate::cli::snippet(address)
        ));
        Ok(false)
    }

    async fn streamlocal_forward(
        &mut self,
        _path: &str,
        _session: &mut Session,
    ) -> Result<bool, Self::Error> {
        self.refuse("remote unix socket forwarding refused");
        Ok(false)
    }

    #[allow(clippy::too_many_arguments)]
    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        _cols: u32,
        _rows: u32,
        _pw: u32,
        _ph: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.refuse("pty refused");
        session.channel_failure(channel)
    }

    async fn x11_request(
        &mut self,
        channel: ChannelId,
        _single: bool,
        _proto: &str,
        _cookie: &str,
        _screen: u32,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.refuse("X11 forwarding refused");
        session.channel_failure(channel)
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        _name: &str,
        _value: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        // Clients send LANG and LC_* unasked; refused without a log entry.
        session.channel_failure(channel)
    }

    async fn agent_request(
        &mut self,
        _channel: ChannelId,
        _session: &mut Session,
    ) -> Result<bool, Self::Error> {
        self.refuse("agent forwarding refused");
        Ok(false)
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.refuse("shell refused: this key only runs rsync");
        session.channel_failure(channel)
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.refuse(&format!("subsystem {} refused", crate::cli::snippet(name)));
        session.channel_failure(channel)
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let (Some(flags), Some(pending)) = (self.flags.clone(), self.pending.take()) else {
            self.refuse("exec on an unusable channel refused");
            return session.channel_failure(channel);
        };
        self.started.store(true, Ordering::Relaxed);
        session.channel_success(channel)?;
        let command = String::from_utf8_lossy(data).into_owned();
        self.log.with(|r| r.set_command(&command));
        let busy = self.session.is_none().then(|| {
            format!(
                "server busy ({} sessions running); try again later",
                self.shared.max_sessions
            )
        });
        let log = self.log.clone();
        let permit = self.session.take();
        let launch = Launch {
            flags,
            account: self.account.clone(),
        };
        let handle = session.handle();
        let span = self.log.span.clone();
        span.in_scope(|| tracing::debug!("exec {}", crate::cli::snippet(&command)));
        let task = async move {
            bridge::run(pending, launch, command, &log, busy).await;
            drop(permit);
            drop(log);
            tokio::time::sleep(LINGER).await;
            let bye = "the session has ended".to_string();
            let _ = handle
                .disconnect(russh::Disconnect::ByApplication, bye, String::new())
                .await;
        };
        tokio::spawn(tracing::Instrument::instrument(task, span));
        Ok(())
    }
}
