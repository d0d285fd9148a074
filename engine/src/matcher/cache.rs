//! Compiling the Hyperscan databases, and the key and layout of the start-up cache: the
//! databases' key, the three serialized databases (each a u64 little-endian length, 0 when
//! absent, then its bytes), then the rules' routes ([`super::route`]): their key, a u64
//! length and their JSON. A cache without the routes (written before they were kept) still
//! gives its databases.

use sha2::{Digest, Sha256};

use super::route::Route;
use crate::error::{EngineError, Result};
use crate::hyperscan::Database;
use crate::rule::Rule;

/// Length of both keys: a SHA-256 in hex.
const KEY_LEN: usize = 64;

/// Key of the routes of `rules`: this build's engine source (a route is worked out by its
/// code) and what [`super::route`] reads of each rule.
pub(super) fn routes_key(rules: &[Rule]) -> String {
    let mut h = Sha256::new();
    h.update(env!("PARAPET_ENGINE_SOURCE_HASH").as_bytes());
    for r in rules {
        let anchor = r
            .anchor
            .as_deref()
            .map_or(String::from("-"), |a| format!("+{a}"));
        for part in [
            format!("{:?}", r.gate),
            format!("{:?}", r.category),
            r.fold_whitespace.to_string(),
            anchor,
            r.pattern.clone(),
        ] {
            h.update(part.as_bytes());
            h.update(b"\0");
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The routes section of `routes` under `key`, to append to the databases.
pub(super) fn routes_section(key: &str, routes_json: &[u8]) -> Vec<u8> {
    let mut out = key.as_bytes().to_vec();
    out.extend((routes_json.len() as u64).to_le_bytes());
    out.extend_from_slice(routes_json);
    out
}

/// The routes kept in a cache file under `key`: none if it has none, another key's, or
/// unreadable ones. Returns them with their JSON.
pub(super) fn cached_routes<'c>(bytes: &'c [u8], key: &str) -> Option<(Vec<Route>, &'c [u8])> {
    // Past the databases' key (both keys are SHA-256 in hex) and the three databases.
    let mut rest = bytes.get(KEY_LEN..)?;
    for _ in 0..3 {
        let (len, tail) = rest.split_at_checked(8)?;
        let len = usize::try_from(u64::from_le_bytes(len.try_into().ok()?)).ok()?;
        rest = tail.get(len..)?;
    }
    let (k, rest) = rest.split_at_checked(key.len())?;
    if k != key.as_bytes() {
        return None;
    }
    let (len, rest) = rest.split_at_checked(8)?;
    let len = usize::try_from(u64::from_le_bytes(len.try_into().ok()?)).ok()?;
    let json = rest.get(..len)?;
    Some((serde_json::from_slice(json).ok()?, json))
}

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

/// One database's rules (indexes into the rule list) and their Hyperscan patterns.
pub(super) type PatternSet<'a> = (&'a [usize], &'a [(String, u32)]);

/// The three databases compiled at once, each on a thread of its own (the phrase database
/// alone is most of a cold start): the first error in database order, if any.
pub(super) fn compile_all(rules: &[Rule], sets: [PatternSet<'_>; 3]) -> Result<Databases> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut compiled = crate::threads::map_in_order(&sets, threads, |(ids, patterns)| {
        compile(rules, ids, patterns)
    })
    .into_iter();
    let mut next = || compiled.next().expect("one result per database");
    Ok([next()?, next()?, next()?])
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
