//! The install's secret key: for audit-chain HMACs and manifest pins. `PARAPET_SIGNING_KEY`
//! (or `integrity.signing_key`) when set, else a random key created once and kept 0600 in the
//! state directory. Finding fingerprints take a key derived from it, or
//! `PARAPET_FINGERPRINT_KEY` when set: never a published one, since a fingerprint under a known
//! key of a value with few candidates (an SSN, a card number) is reversed by trying them all.

use std::path::PathBuf;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::env_nonempty;
use crate::error::{ProxyError, Result};
use crate::paths;

pub struct Key {
    pub bytes: Vec<u8>,
    /// `PARAPET_SIGNING_KEY`, `config` or the key file's path.
    pub source: String,
}

pub fn key_file() -> Option<PathBuf> {
    paths::state_dir().map(|d| d.join("install.key"))
}

/// The configured key, else the install key (created on first use).
pub fn load(configured: &str) -> Result<Key> {
    load_install(configured, true)
}

/// The configured key, else the install key if there is one: for checking what was signed
/// (`audit verify`), where a new key could only report every line as edited.
pub fn load_existing(configured: &str) -> Result<Key> {
    load_install(configured, false)
}

fn load_install(configured: &str, create: bool) -> Result<Key> {
    if !configured.is_empty() {
        return Ok(Key {
            bytes: configured.as_bytes().to_vec(),
            source: "signing key".into(),
        });
    }
    let path = key_file().ok_or_else(|| {
        ProxyError::Invalid(
            "no HOME or XDG_STATE_HOME for the install key; set PARAPET_SIGNING_KEY".into(),
        )
    })?;
    load_at(&path, create)
}

/// The key in `path`; when there is none, made there (`create`) or an error.
fn load_at(path: &std::path::Path, create: bool) -> Result<Key> {
    match std::fs::read(path) {
        Ok(bytes) => existing(bytes, path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => create_key(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ProxyError::Invalid(format!(
            "there is no install key at {}: the trail was signed with the key of the user (or XDG_STATE_HOME) that ran the proxy; run this as that user, or set PARAPET_SIGNING_KEY to the key it used",
            path.display()
        ))),
        Err(e) => Err(ProxyError::Io {
            what: format!("cannot read the install key {}", path.display()),
            cause: e,
        }),
    }
}

/// A new random key made in `path` (0600), unless another process made one first.
fn create_key(path: &std::path::Path) -> Result<Key> {
    let mut bytes = vec![0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| ProxyError::Invalid(format!("no randomness for the install key: {e}")))?;
    // Written whole beside it, then linked into place only if no key is there yet: two proxies
    // starting at once on a fresh install must end up with one key, not one each.
    let tmp = path.with_extension(format!(
        "{}-{}.new",
        std::process::id(),
        crate::audit::hex(&bytes[..6])
    ));
    let io = |what: &str, e: std::io::Error| ProxyError::Io {
        what: format!("cannot {what} the install key {}", path.display()),
        cause: e,
    };
    paths::write_atomic(&tmp, &bytes, true).map_err(|e| io("write", e))?;
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(Key {
            bytes,
            source: path.display().to_string(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let bytes = std::fs::read(path).map_err(|e| io("read", e))?;
            existing(bytes, path)
        }
        Err(e) => Err(io("write", e)),
    }
}

/// A key file found in place: used if whole, never silently replaced (older trails and pins
/// were made with it).
fn existing(bytes: Vec<u8>, path: &std::path::Path) -> Result<Key> {
    if bytes.len() < 32 {
        return Err(ProxyError::Invalid(format!(
            "the install key {} holds {} bytes, not 32: it is damaged; restore it, or move it away to make a new one (trails and pins made with the old key will no longer verify)",
            path.display(),
            bytes.len()
        )));
    }
    Ok(Key {
        bytes,
        source: path.display().to_string(),
    })
}

/// The key for finding fingerprints: `PARAPET_FINGERPRINT_KEY` when set (the same on every
/// machine whose allowlists must agree), else one derived from the install's key ([`load`]),
/// so fingerprints agree across runs on one install and mean nothing to anyone without it.
pub fn fingerprint_key(configured_signing: &str) -> Result<Key> {
    if let Some(k) = env_nonempty("PARAPET_FINGERPRINT_KEY") {
        return Ok(Key {
            bytes: k.into_bytes(),
            source: "PARAPET_FINGERPRINT_KEY".into(),
        });
    }
    let base = load(configured_signing)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&base.bytes).expect("HMAC takes any key length");
    mac.update(b"mcp-parapet finding fingerprints v1");
    Ok(Key {
        bytes: mac.finalize().into_bytes().to_vec(),
        source: base.source,
    })
}

/// A random key for this run only, for when no key can be kept (fingerprints then agree
/// within the run and nowhere else).
pub fn ephemeral() -> Result<Key> {
    let mut bytes = vec![0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| ProxyError::Invalid(format!("no randomness for a key: {e}")))?;
    Ok(Key {
        bytes,
        source: "a key for this run only".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxies_starting_together_share_one_key_and_a_damaged_key_is_not_replaced() {
        let dir = std::env::temp_dir().join(format!("parapet-keys-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("install.key");
        let keys: Vec<Vec<u8>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| load_at(&path, true).unwrap().bytes))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(keys.iter().all(|k| k == &keys[0] && k.len() == 32));
        assert_eq!(std::fs::read(&path).unwrap(), keys[0]);
        std::fs::write(&path, b"short").unwrap();
        let err = load_at(&path, true).err().unwrap();
        assert!(err.to_string().contains("damaged"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), b"short");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
