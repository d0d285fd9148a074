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
    if !configured.is_empty() {
        return Ok(Key {
            bytes: configured.as_bytes().to_vec(),
            source: "signing key".into(),
        });
    }
    let path = key_file().ok_or_else(|| {
        ProxyError::Invalid(
            "no HOME or XDG_STATE_HOME to keep the install key in; set PARAPET_SIGNING_KEY".into(),
        )
    })?;
    if let Ok(bytes) = std::fs::read(&path) {
        if bytes.len() >= 32 {
            return Ok(Key {
                bytes,
                source: path.display().to_string(),
            });
        }
    }
    let mut bytes = vec![0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| ProxyError::Invalid(format!("no randomness for the install key: {e}")))?;
    paths::write_atomic(&path, &bytes, true).map_err(|e| ProxyError::Io {
        what: format!("cannot write the install key {}", path.display()),
        cause: e,
    })?;
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
