//! parapet-engine: the scanning core of mcp-parapet.
//!
//! Every PII, secret and injection rule is data (`engine/rules/*.toml`, compiled in). Rules with
//! a literal anchor share one Hyperscan database scanned in one pass; literal-free numeric PII
//! and e-mail addresses sit behind cheap byte gates. A second stage recovers exact spans,
//! validators confirm, and a policy turns detections into a verdict. JSON is parsed with
//! simd-json and all its strings are scanned in one engine call. Pure: no I/O, no async.
//!
//! ```no_run
//! use parapet_engine::{Scanner, ScannerConfig};
//! let scanner = Scanner::new(ScannerConfig::default()).unwrap();
//! let verdict = scanner.scan("export GITHUB_TOKEN=ghp_...").unwrap();
//! println!("{:?}", verdict.action);
//! ```

mod allowlist;
#[doc(hidden)]
pub mod anchor;
mod bytemask;
pub mod classify;
mod confirm;
pub mod decode;
pub mod error;
mod escapes;
mod fingerprint;
mod fold;
#[doc(hidden)]
pub mod fuzzing;
mod gate;
mod group_memo;
mod hidden;
mod hyperscan;
pub mod input;
mod json;
mod matcher;
mod normalise;
mod percent;
mod redact;
pub mod rule;
mod scanner;
pub mod score;
mod split;
mod test_support;
// The tests' shared cache of the built-in rules' database, written for the integration tests'
// `parapet_engine::` paths.
#[cfg(test)]
extern crate self as parapet_engine;
#[cfg(test)]
#[path = "../tests/support/rule_cache.rs"]
mod rule_cache;
mod threads;
mod timed;
pub mod validate;
pub mod verdict;
mod walk;

pub use error::{may_show_value, shown_value, EngineError, Result};
pub use fingerprint::{Fingerprinter, DEFAULT_FINGERPRINT_KEY};
pub use normalise::{name_as_drawn, name_key};
pub use rule::{
    builtin_rules, parse_rules, Category, Gate, Rule, ValidatorKind, BUILTIN_RULE_FILES,
};
pub use scanner::{
    DeepScan, Scanner, ScannerConfig, BUILTIN_CHECK_IDS, CLASSIFIER_KIND, CLASSIFIER_RULE_ID,
};
pub use score::InjectionScores;
pub use verdict::{Action, Detection, Policy, Verdict};

/// Internals exposed for the benchmarks and fuzz targets; not a stable API.
#[doc(hidden)]
pub mod internals {
    pub use crate::confirm::compile as compile_second_stage;
    pub use crate::fold::{pattern_for_folded_view, Folded};
    pub use crate::gate::{at_windows, digit_windows};
    pub use crate::hyperscan::{Database, Scratch};
    pub use crate::json::{string_tokens, Joined};
    pub use crate::matcher::phrase_reach;
    pub use crate::split::Split;
    pub use crate::test_support::picker;
}

#[cfg(test)]
fn _assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<Scanner>();
}
