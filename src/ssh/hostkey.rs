//! The embedded server's host key: loaded from an OpenSSH private key
//! file, or generated (ed25519) and persisted `0600` on first start, the
//! way `ssh-keygen -A` provisions sshd. Its SHA256 fingerprint is what
//! clients see in their first-connection prompt.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

use russh::keys::ssh_key::LineEnding;
use russh::keys::{Algorithm, HashAlg, PrivateKey};

/// Loads `path`, or creates it with a new ed25519 key. Returns the key
/// and whether it was generated.
pub fn load_or_generate(path: &Path) -> Result<(PrivateKey, bool), String> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let key = PrivateKey::from_openssh(text.trim_start())
                .map_err(|e| format!("cannot parse host key {}: {e}", path.display()))?;
            if key.is_encrypted() {
                return Err(format!("host key {} is encrypted", path.display()));
            }
            if let Ok(m) = std::fs::metadata(path) {
                if m.permissions().mode() & 0o077 != 0 {
                    tracing::warn!(
                        "host key {} is readable by others (chmod 600 it)",
                        path.display()
                    );
                }
            }
            Ok((key, false))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => generate(path).map(|k| (k, true)),
        Err(e) => Err(format!("cannot read host key {}: {e}", path.display())),
    }
}

fn generate(path: &Path) -> Result<PrivateKey, String> {
    let mut rng = russh::keys::key::safe_rng();
    let mut key = PrivateKey::random(&mut rng, Algorithm::Ed25519)
        .map_err(|e| format!("cannot generate a host key: {e}"))?;
    key.set_comment("rrsync-rs host key");
    let text = key
        .to_openssh(LineEnding::LF)
        .map_err(|e| format!("cannot encode the host key: {e}"))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
    }
    let write = || -> std::io::Result<()> {
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(path)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()
    };
    write().map_err(|e| format!("cannot write host key {}: {e}", path.display()))?;
    Ok(key)
}

/// `SHA256:...` of the public half.
pub fn fingerprint(key: &PrivateKey) -> String {
    key.public_key().fingerprint(HashAlg::Sha256).to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn generate_then_load() {
        let d = std::env::temp_dir().join(format!("rrsync-hostkey-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        let p = d.join("sub/host_key");
        let (k1, new1) = load_or_generate(&p).unwrap();
        let (k2, new2) = load_or_generate(&p).unwrap();
        assert!(new1 && !new2);
        assert_eq!(fingerprint(&k1), fingerprint(&k2));
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let _ = std::fs::remove_dir_all(&d);
    }
}
