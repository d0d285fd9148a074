//! Compiling the Hyperscan databases, and the key and layout of their serialized cache.

use sha2::{Digest, Sha256};

use crate::error::{EngineError, Result};
use crate::hyperscan::Database;
use crate::rule::Rule;

/// Key of a set of Hyperscan patterns, for the serialized-database cache.
pub(super) fn database_key(patterns: &[(String, u32)]) -> String {
    let mut h = Sha256::new();
    h.update(b"vectorscan-rs-sys 0.0.6 block\0");
    for (p, f) in patterns {
        h.update(p.as_bytes());
        h.update(b"\0");
        h.update(f.to_le_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) type Databases = [Option<Database>; 3];

pub(super) fn load_cached(bytes: &[u8], key: &str) -> Option<Databases> {
    let (k, mut rest) = bytes.split_at_checked(key.len())?;
    if k != key.as_bytes() {
        return None;
    }
    let mut next = || -> Option<Option<Database>> {
        let (len, tail) = rest.split_at_checked(8)?;
        let len = u64::from_le_bytes(len.try_into().ok()?) as usize;
        let (db, tail) = tail.split_at_checked(len)?;
        rest = tail;
        if len == 0 {
            Some(None)
        } else {
            Database::deserialize(db).ok().map(Some)
        }
    };
    Some([next()?, next()?, next()?])
}

pub(super) fn compile(
    rules: &[Rule],
    hs_rules: &[usize],
    patterns: &[(String, u32)],
) -> Result<Option<Database>> {
    if patterns.is_empty() {
        return Ok(None);
    }
    Database::compile(patterns).map(Some).map_err(|f| {
        let id = f
            .expression
            .and_then(|e| hs_rules.get(e))
            .map_or_else(|| "(database)".to_string(), |&i| rules[i].id.clone());
        EngineError::HyperscanCompile {
            id,
            message: f.message,
        }
    })
}
