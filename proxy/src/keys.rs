//! The install's secret key: for audit-chain HMACs and manifest pins. `PARAPET_SIGNING_KEY`
//! (or `integrity.signing_key`) when set, else a random key created once and kept 0600 in the
//! state directory. (Finding fingerprints have a key of their own, `PARAPET_FINGERPRINT_KEY`,
//! shared by every machine whose allowlists must agree; see the README.)

use std::path::PathBuf;

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
