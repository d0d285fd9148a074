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
    /// Byte cap per text or message: a number of bytes, or with a binary suffix (64K, 8M,
    /// 1G). A file over it is scanned in overlapping chunks of about this size.
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes)]
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

/// A byte count: digits, optionally followed by K, M or G (powers of 1024; `KiB`, `MB`… also
/// read so), at least 1.
fn parse_bytes(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(digits);
    let number: usize = number
        .parse()
        .map_err(|_| format!("{s:?} is not a byte count (e.g. 65536, 64K, 8M, 1G)"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(format!("{s:?}: unknown unit (use K, M or G)")),
    };
    let bytes = number
        .checked_mul(1usize << shift)
        .ok_or_else(|| format!("{s:?} is too large"))?;
    if bytes == 0 {
        return Err("must be at least 1 byte".into());
    }
    Ok(bytes)
}

/// Loads the configuration, prints what loading it found worth a warning, and refuses a
/// project's file that relaxes the user's own ([`refuse_relaxing_project_config`]).
pub fn load_config(explicit: Option<&Path>) -> Result<Config> {
    let config = Config::load(explicit)?;
    for warning in &config.warnings {
        eprintln!("mcp-parapet: warning: {warning}");
    }
    refuse_relaxing_project_config(&config)?;
    Ok(config)
}

/// A file found in the working directory is a project's own: laid over the user's config
/// (or the defaults), it may tighten it but not relax it ([`parapet_proxy::workdir_config`]).
/// A file the user names is taken as it is.
pub fn refuse_relaxing_project_config(config: &Config) -> Result<()> {
    let Some(origin) = config.origin.as_ref().filter(|o| o.working_directory) else {
        return Ok(());
    };
    if config.project_relaxations.is_empty() {
        return Ok(());
    }
    // Named as found (not resolved: a link to the user's own file is still the project's).
    let full = std::env::current_dir()
        .map(|d| d.join(&origin.path))
        .unwrap_or_else(|_| origin.path.clone());
    let base = config.project_base.as_ref().map_or_else(
        || "the defaults".to_string(),
        |p| format!("your own config ({})", p.display()),
    );
    anyhow::bail!(
        "{} was found in the working directory and is laid over {base}, which it may only \
         tighten; it would change:\n  {}\n\
         A project's own config file may only tighten {}; a repository could otherwise switch \
         mcp-parapet off. If you trust this file, name it: --config {} (or PARAPET_CONFIG={}).",
        full.display(),
        config.project_relaxations.join("\n  "),
        parapet_proxy::workdir_config::TIGHTEN_ONLY,
        full.display(),
        full.display(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn byte_counts() {
        use super::parse_bytes;
        assert_eq!(parse_bytes("65536"), Ok(65536));
        assert_eq!(parse_bytes("64K"), Ok(64 << 10));
        assert_eq!(parse_bytes("8MiB"), Ok(8 << 20));
        assert_eq!(parse_bytes("1g"), Ok(1 << 30));
        for bad in ["0", "0K", "", "K", "12Q", "-1", "1.5M"] {
            assert!(parse_bytes(bad).is_err(), "{bad}");
        }
    }
}
