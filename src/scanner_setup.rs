//! Builds the engine's `ScannerConfig` from, in rising priority: defaults, the YAML config file,
//! environment variables, and command-line flags. Also keeps the compiled rule database in the
//! XDG cache directory so start-up does not pay for compilation twice.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use parapet_engine::{parse_rules, Action, Scanner, ScannerConfig};
use serde::Deserialize;

/// The `scanner:` section of the config file. Keys match the Python reference where it had
/// them; unknown keys are an error so a typo does not silently weaken a policy.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScannerSection {
    pub policy_pii: Option<String>,
    pub policy_secrets: Option<String>,
    pub policy_injection: Option<String>,
    /// Per-kind overrides, e.g. `credit_card: redact`.
    #[serde(default)]
    pub policy_kinds: BTreeMap<String, String>,
    /// Byte cap per message (the reference counted characters and defaulted to 50,000).
    pub content_max_length: Option<usize>,
    pub min_confidence: Option<f32>,
    #[serde(default)]
    pub rules_files: Vec<PathBuf>,
    #[serde(default)]
    pub disabled_rules: Vec<String>,
    #[serde(default)]
    pub allow_fingerprints: Vec<String>,
    #[serde(default)]
    pub allow_rules: Vec<String>,
    // Accepted so a reference config loads unchanged; `wrap` reads them.
    #[allow(dead_code)]
    pub scan_tool_arguments: Option<bool>,
    #[allow(dead_code)]
    pub scan_tool_responses: Option<bool>,
    #[allow(dead_code)]
    pub metadata_max_depth: Option<usize>,
    #[allow(dead_code)]
    pub metadata_max_keys: Option<usize>,
}

/// The config file. Sections the scanner does not use yet are accepted as they are, so one
/// file serves `wrap` and `scan`.
#[derive(Debug, Default, Deserialize)]
pub struct ConfigFile {
    #[serde(default)]
    pub scanner: ScannerSection,
    /// audit, integrity, rate_limit, servers, ...: read by `wrap`.
    #[serde(flatten)]
    #[allow(dead_code)]
    pub other: BTreeMap<String, serde_yaml_ng::Value>,
}

/// Flags shared by every command that scans.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct ScanFlags {
    /// Extra rule file (TOML, same format as the built-in rules). Repeatable.
    #[arg(long = "rules", value_name = "FILE")]
    pub rules: Vec<PathBuf>,
    /// Switch off a rule by id. Repeatable.
    #[arg(long = "disable-rule", value_name = "ID")]
    pub disable_rule: Vec<String>,
    /// Report only findings at or above this confidence (0..1).
    #[arg(long, value_name = "N")]
    pub min_confidence: Option<f32>,
    /// Byte cap per text or message.
    #[arg(long, value_name = "BYTES")]
    pub max_bytes: Option<usize>,
}

fn config_path(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("PARAPET_CONFIG").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let mut candidates: Vec<PathBuf> = [
        "parapet.yaml",
        "parapet.yml",
        ".parapet.yaml",
        ".parapet.yml",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    if let Some(home) = std::env::var_os("HOME") {
        candidates.push(Path::new(&home).join(".config/mcp-parapet/config.yaml"));
    }
    candidates.into_iter().find(|p| p.is_file())
}

/// Loads the config file. An explicitly named file that is missing is an error (the reference
/// silently fell back to defaults).
pub fn load_config(explicit: Option<&Path>) -> Result<ConfigFile> {
    let Some(path) = config_path(explicit) else {
        return Ok(ConfigFile::default());
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    if text.trim().is_empty() {
        return Ok(ConfigFile::default());
    }
    serde_yaml_ng::from_str(&text)
        .with_context(|| format!("config file {} is not valid", path.display()))
}

fn parse_action(value: &str, source: &str) -> Result<Action> {
    value
        .parse::<Action>()
        .map_err(|e| anyhow::anyhow!("{source}: {e}"))
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Reads a user rule file and checks it.
pub fn load_rule_file(path: &Path) -> Result<Vec<parapet_engine::Rule>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read rule file {}", path.display()))?;
    Ok(parse_rules(&path.display().to_string(), &text)?)
}

pub fn scanner_config(config: &ConfigFile, flags: &ScanFlags) -> Result<ScannerConfig> {
    let s = &config.scanner;
    let mut sc = ScannerConfig::default();
    if let Some(v) = &s.policy_pii {
        sc.policy.pii = parse_action(v, "scanner.policy_pii")?;
    }
    if let Some(v) = &s.policy_secrets {
        sc.policy.secret = parse_action(v, "scanner.policy_secrets")?;
    }
    if let Some(v) = &s.policy_injection {
        sc.policy.injection = parse_action(v, "scanner.policy_injection")?;
    }
    for (kind, v) in &s.policy_kinds {
        sc.policy.kinds.insert(
            kind.clone(),
            parse_action(v, &format!("scanner.policy_kinds.{kind}"))?,
        );
    }
    for (var, slot) in [
        ("PARAPET_POLICY_PII", &mut sc.policy.pii),
        ("PARAPET_POLICY_SECRETS", &mut sc.policy.secret),
        ("PARAPET_POLICY_INJECTION", &mut sc.policy.injection),
    ] {
        if let Some(v) = env_nonempty(var) {
            *slot = parse_action(&v, var)?;
        }
    }
    if let Some(v) = s.content_max_length {
        sc.max_bytes = v;
    }
    if let Some(v) = flags.max_bytes {
        sc.max_bytes = v;
    }
    if let Some(v) = flags.min_confidence.or(s.min_confidence) {
        if !(0.0..=1.0).contains(&v) {
            bail!("min confidence {v} is outside 0..1");
        }
        sc.min_confidence = v;
    }
    for path in s.rules_files.iter().chain(&flags.rules) {
        sc.extra_rules.extend(load_rule_file(path)?);
    }
    sc.disabled_rules = s
        .disabled_rules
        .iter()
        .chain(&flags.disable_rule)
        .cloned()
        .collect();
    sc.allow_fingerprints = s.allow_fingerprints.clone();
    sc.allow_rules = s.allow_rules.clone();
    if let Some(k) = env_nonempty("PARAPET_FINGERPRINT_KEY") {
        sc.fingerprint_key = k.into_bytes();
    }
    Ok(sc)
}

fn cache_file() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))?;
    Some(base.join("mcp-parapet").join("rules.hsdb"))
}

/// Builds the scanner, loading the compiled database from the cache when it matches these
/// rules and refreshing the cache when it does not. Cache problems never stop a scan.
pub fn build_scanner(mut sc: ScannerConfig) -> Result<Scanner> {
    let cache = cache_file();
    let cached = cache.as_ref().and_then(|p| std::fs::read(p).ok());
    sc.cached_database = cached.clone();
    let scanner = Scanner::new(sc).context("cannot build the scanner")?;
    let fresh = cached
        .as_deref()
        .map_or(true, |c| !c.starts_with(scanner.database_key().as_bytes()));
    if let (true, Some(path)) = (fresh, cache) {
        if let Some(bytes) = scanner.serialized_database() {
            let _ = write_cache(&path, &bytes);
        }
    }
    Ok(scanner)
}

fn write_cache(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(tmp, path)
}
