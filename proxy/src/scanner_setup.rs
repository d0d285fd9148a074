//! Builds the engine's `ScannerConfig` from the config file and command-line overrides, and keeps
//! the compiled rule database in the XDG cache directory so start-up does not pay for
//! compilation twice.

use std::path::{Path, PathBuf};

use parapet_engine::{parse_rules, Scanner, ScannerConfig};

use crate::config::Config;
use crate::error::{ProxyError, Result};
use crate::paths;

/// Settings given on the command line; they win over the file.
#[derive(Debug, Default, Clone)]
pub struct ScanOverrides {
    pub rules: Vec<PathBuf>,
    pub disable_rule: Vec<String>,
    pub min_confidence: Option<f32>,
    pub max_bytes: Option<usize>,
    pub deep_scan: Option<parapet_engine::DeepScan>,
}

/// Reads a user rule file and checks it.
pub fn load_rule_file(path: &Path) -> Result<Vec<parapet_engine::Rule>> {
    let text = std::fs::read_to_string(path).map_err(|e| ProxyError::Io {
        what: format!("cannot read rule file {}", path.display()),
        cause: e,
    })?;
    Ok(parse_rules(&path.display().to_string(), &text)?)
}

pub fn scanner_config(config: &Config, flags: &ScanOverrides) -> Result<ScannerConfig> {
    let s = &config.scanner;
    let mut sc = ScannerConfig::default();
    if let Some(v) = s.policy_pii {
        sc.policy.pii = v;
    }
    if let Some(v) = s.policy_secrets {
        sc.policy.secret = v;
    }
    if let Some(v) = s.policy_injection {
        sc.policy.injection = v;
    }
    for (kind, v) in &s.policy_kinds {
        sc.policy.kinds.insert(kind.clone(), *v);
    }
    if let Some(v) = flags.max_bytes.or(s.content_max_length) {
        sc.max_bytes = v;
    }
    if let Some(v) = flags.min_confidence.or(s.min_confidence) {
        if !(0.0..=1.0).contains(&v) {
            return Err(ProxyError::Invalid(format!(
                "min confidence {v} is outside 0..1"
            )));
        }
        sc.min_confidence = v;
    }
    if let Some(v) = &s.deep_scan {
        sc.deep_scan = v
            .parse()
            .map_err(|e| ProxyError::Invalid(format!("scanner.deep_scan: {e}")))?;
    }
    if let Some(v) = flags.deep_scan {
        sc.deep_scan = v;
    }
    sc.classifier_threshold = s.classifier_threshold;
    sc.injection_scores = s.injection_scores();
    let mut from: std::collections::HashMap<String, &Path> = std::collections::HashMap::new();
    let mut loaded = std::collections::HashSet::new();
    for path in s.rules_files.iter().chain(&flags.rules) {
        // The same file named twice (in the config and with --rules, `r.toml` and `./r.toml`)
        // is loaded once.
        if !loaded.insert(std::fs::canonicalize(path).unwrap_or_else(|_| path.clone())) {
            continue;
        }
        for rule in load_rule_file(path)? {
            if let Some(earlier) = from.insert(rule.id.clone(), path) {
                return Err(ProxyError::Invalid(format!(
                    "rule id {:?} is in both {} and {}: rename one of them",
                    rule.id,
                    earlier.display(),
                    path.display()
                )));
            }
            sc.extra_rules.push(rule);
        }
    }
    sc.disabled_rules = s
        .disabled_rules
        .iter()
        .chain(&flags.disable_rule)
        .cloned()
        .collect();
    sc.allow_fingerprints = s.allow_fingerprints.clone();
    sc.allow_rules = s.allow_rules.clone();
    Ok(sc)
}

/// Builds the scanner, loading the compiled database from the cache when it matches these
/// rules and refreshing the cache when it does not. Cache problems never stop a scan.
pub fn build_scanner(sc: ScannerConfig) -> Result<Scanner> {
    let cache = paths::cache_dir().map(|d| d.join("rules.hsdb"));
    // Mapped, not read: reading the 6 MiB file was a tenth of start-up.
    let mapped = cache.as_ref().and_then(|p| map_file(p));
    let cached = mapped.as_deref();
    let scanner = Scanner::with_cached_database(sc, cached)?;
    drop(mapped);
    // Rewritten whenever it was not used: missing, another rule set's, or damaged after its
    // key (which would otherwise cost a compile on every start).
    if let (false, Some(path)) = (scanner.loaded_from_cache(), cache) {
        if let Some(bytes) = scanner.serialized_database() {
            let _ = paths::write_atomic(&path, &bytes, false);
        }
    }
    Ok(scanner)
}

/// The cache file mapped into memory, or `None` when it cannot be.
fn map_file(path: &std::path::Path) -> Option<memmap2::Mmap> {
    let file = std::fs::File::open(path).ok()?;
    // SAFETY: this program only ever replaces the cache by renaming a new file over it
    // (`paths::write_atomic`), so a mapped file is never changed under us, and the mapping
    // lives only while the scanner is built. Another program truncating the file in those
    // milliseconds would make the read fault; its content is checked as the read file's
    // was (key, then Hyperscan's own header checks).
    unsafe { memmap2::Mmap::map(&file) }.ok()
}

/// Checks the kinds and rule ids that the per-server and per-tool sections of `config` name
/// against `scanner`'s rules: a typo there would otherwise silently change nothing.
pub fn check_override_names(config: &Config, scanner: &Scanner) -> Result<()> {
    for (server, section) in &config.servers {
        let sections = std::iter::once((format!("servers.{server}"), section.overrides())).chain(
            section
                .tools
                .iter()
                .map(|(tool, t)| (format!("servers.{server}.tools.{tool}"), t.overrides())),
        );
        for (at, o) in sections {
            for kind in o.policy_kinds.keys() {
                scanner.check_kind(&format!("{at}.policy_kinds"), kind)?;
            }
            for id in o.allow_rules {
                scanner.check_rule(&format!("{at}.allow_rules"), id)?;
            }
        }
    }
    Ok(())
}
