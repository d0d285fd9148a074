//! Command-line flags shared by every command that scans, and the config loading they share.

use std::path::{Path, PathBuf};

use anyhow::Result;
use parapet_proxy::scanner_setup::ScanOverrides;
use parapet_proxy::Config;

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
    /// Which texts get the deep scan (local injection classifier, decoding of base64, hex,
    /// percent, HTML and \u escapes): off, messages (JSON strings and single texts; the
    /// default) or all (log bytes too, slower).
    #[arg(long, value_name = "SCOPE")]
    pub deep_scan: Option<parapet_engine::DeepScan>,
}

impl ScanFlags {
    pub fn overrides(&self) -> ScanOverrides {
        ScanOverrides {
            rules: self.rules.clone(),
            disable_rule: self.disable_rule.clone(),
            min_confidence: self.min_confidence,
            max_bytes: self.max_bytes,
            deep_scan: self.deep_scan,
        }
    }
}

pub fn load_config(explicit: Option<&Path>) -> Result<Config> {
    Ok(Config::load(explicit)?)
}
