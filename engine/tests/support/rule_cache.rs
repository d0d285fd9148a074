//! The built-in rules' compiled database, shared by every test binary of a `cargo test` run.
//!
//! Compiling the built-in rules takes about half a minute of one core, and a `cargo test
//! --workspace` has some twenty binaries that need them. The first one compiles and leaves the
//! database in the same file the `mcp-parapet` binary keeps it in, under [`xdg_cache_home`]; the
//! others, and the binary's own tests pointed there, load it in a tenth of a second. The file is
//! keyed by the compiled patterns, so a rule or engine change is compiled afresh, never served
//! stale. Not a crate: each test crate includes this file with `#[path]` (the engine's unit
//! tests too, through `extern crate self as parapet_engine`).

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use parapet_engine::{Scanner, ScannerConfig};

/// What the tests set `XDG_CACHE_HOME` to when they run the binary: one directory for the
/// whole run, outside the user's own cache, holding the built-in rules' database by the time
/// this returns.
pub fn xdg_cache_home() -> PathBuf {
    builtin_database();
    cache_root()
}

fn cache_root() -> PathBuf {
    std::env::temp_dir().join("parapet-test-cache")
}

fn database_file() -> PathBuf {
    cache_root().join("mcp-parapet").join("rules.hsdb")
}

/// The built-in rules' database as [`Scanner::serialized_database`] writes it: read from the
/// shared file when it is this rule set's, compiled (and the file replaced) when not.
pub fn builtin_database() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let file = database_file();
        let cached = std::fs::read(&file).ok();
        let scanner = Scanner::with_cached_database(ScannerConfig::default(), cached.as_deref())
            .expect("the built-in rules compile");
        if scanner.loaded_from_cache() {
            return cached.expect("loaded from these bytes");
        }
        let bytes = scanner
            .serialized_database()
            .expect("the database serializes");
        // Written beside it and renamed over it: a binary reading it meanwhile sees the old
        // file or the new, never half of one.
        let dir = file.parent().expect("a directory");
        let tmp = dir.join(format!("rules.hsdb.test{}", std::process::id()));
        let written = std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::write(&tmp, &bytes))
            .and_then(|()| std::fs::rename(&tmp, &file));
        if let Err(e) = written {
            eprintln!(
                "could not keep the compiled rules in {}: {e}",
                file.display()
            );
        }
        bytes
    })
}

/// [`Scanner::new`] for `config` with the shared database: right for the built-in rules with
/// any settings that leave the patterns alone (policy, scores, caps, allowlists, deep scan). A
/// config that changes the rule set compiles its own, as it would anyway.
pub fn cached_scanner(config: ScannerConfig) -> parapet_engine::Result<Scanner> {
    Scanner::with_cached_database(config, Some(builtin_database()))
}

/// The default scanner, with the shared database.
pub fn default_scanner() -> Scanner {
    cached_scanner(ScannerConfig::default()).expect("the default scanner")
}
