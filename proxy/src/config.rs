//! `parapet.yaml`: the schema (the Python reference's keys, plus ours), where the file is found,
//! and the environment variables laid over it. Unknown keys and bad values are errors that name
//! the key and the line, so a typo never silently weakens a policy.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use parapet_engine::Action;
use serde::Deserialize;

use crate::error::{ProxyError, Result};

/// The whole file. Every section is optional.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Name used when `--name` is not given (reference default: `default`).
    pub server_name: Option<String>,
    /// trace | debug | info | warning | error (also PARAPET_LOG_LEVEL).
    pub log_level: Option<String>,
    #[serde(default)]
    pub scanner: ScannerSection,
    #[serde(default)]
    pub audit: AuditSection,
    #[serde(default)]
    pub integrity: IntegritySection,
    #[serde(default)]
    pub rate_limit: RateLimitSection,
    #[serde(default)]
    pub proxy: ProxySection,
    #[serde(default, deserialize_with = "unique_keys")]
    pub servers: BTreeMap<String, ServerSection>,
    /// Where the file came from (not a key).
    #[serde(skip)]
    pub origin: Option<Origin>,
    /// What loading it found worth a warning, for the caller to report once its logging is
    /// set up (not a key).
    #[serde(skip)]
    pub warnings: Vec<String>,
    /// For a file found in the working directory: what it relaxes against the user's own
    /// config or the defaults ([`crate::workdir_config`]), before the environment is applied.
    /// Commands refuse such a file (not a key).
    #[serde(skip)]
    pub project_relaxations: Vec<String>,
    /// The file a project's file was laid over, if any (not a key).
    #[serde(skip)]
    pub project_base: Option<PathBuf>,
}

/// The file a [`Config`] was read from, and how it was found.
#[derive(Debug, Clone)]
pub struct Origin {
    pub path: PathBuf,
    /// Found in the working directory (not named by `--config`, `PARAPET_CONFIG` or the home
    /// directory's file): a project's own file, see [`crate::workdir_config`].
    pub working_directory: bool,
}

/// Content-scanning policy. Keys match the reference where it had them.
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScannerSection {
    pub policy_pii: Option<Action>,
    pub policy_secrets: Option<Action>,
    pub policy_injection: Option<Action>,
    /// Per-kind overrides, e.g. `credit_card: redact`.
    #[serde(default, deserialize_with = "unique_keys")]
    pub policy_kinds: BTreeMap<String, Action>,
    /// Byte cap per message (the reference counted characters and defaulted to 50,000).
    pub content_max_length: Option<usize>,
    /// The reference's setting, which it never used: accepted, so its configs load, and
    /// ignored.
    #[serde(default)]
    pub metadata_max_value_length: Option<serde::de::IgnoredAny>,
    pub min_confidence: Option<f32>,
    /// Which texts get the deep scan (injection classifier, decoding layers): `off`,
    /// `messages` (default) or `all` (log bytes too).
    pub deep_scan: Option<String>,
    /// Probability at or above which the classifier reports (default: the model's own).
    pub classifier_threshold: Option<f32>,
    /// Combined injection score from which injection findings are flagged (default 0.5;
    /// below it they are not reported) and from which `policy_injection` applies (default 0.5).
    pub injection_flag_score: Option<f32>,
    pub injection_reject_score: Option<f32>,
    #[serde(default)]
    pub rules_files: Vec<PathBuf>,
    #[serde(default)]
    pub disabled_rules: Vec<String>,
    #[serde(default)]
    pub allow_fingerprints: Vec<String>,
    #[serde(default)]
    pub allow_rules: Vec<String>,
    pub scan_tool_arguments: Option<bool>,
    pub scan_tool_responses: Option<bool>,
    /// Accepted so a reference config loads unchanged; JSON of any depth is scanned whole.
    pub metadata_max_depth: Option<usize>,
    pub metadata_max_keys: Option<usize>,
}

impl ScannerSection {
    /// The injection score thresholds these keys give; a flag score above the default reject
    /// score moves the reject score up with it.
    pub fn injection_scores(&self) -> parapet_engine::InjectionScores {
        let default = parapet_engine::InjectionScores::default();
        let flag = self.injection_flag_score.unwrap_or(default.flag);
        parapet_engine::InjectionScores {
            flag,
            reject: self
                .injection_reject_score
                .unwrap_or(default.reject.max(flag)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditSection {
    pub enabled: bool,
    /// Default: `$XDG_STATE_HOME/mcp-parapet/audit.jsonl` (also PARAPET_AUDIT_FILE).
    pub log_file: Option<PathBuf>,
    /// Log tool-call arguments, with every detection redacted.
    pub log_tool_arguments: bool,
    pub log_tool_responses: bool,
    pub max_file_size_mb: u64,
    /// Refuse traffic when the audit trail cannot be written.
    pub fail_closed: bool,
}

impl Default for AuditSection {
    fn default() -> Self {
        AuditSection {
            enabled: true,
            log_file: None,
            log_tool_arguments: true,
            log_tool_responses: false,
            max_file_size_mb: 100,
            fail_closed: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IntegritySection {
    pub enabled: bool,
    /// HMAC key for pins and the audit chain (PARAPET_SIGNING_KEY wins).
    pub signing_key: String,
    /// Default: `$XDG_STATE_HOME/mcp-parapet/manifests`.
    pub manifest_dir: Option<PathBuf>,
    pub alert_on_change: bool,
    /// Withhold changed and added tools until `mcp-parapet approve`.
    pub block_on_change: bool,
}

impl Default for IntegritySection {
    fn default() -> Self {
        IntegritySection {
            enabled: true,
            signing_key: String::new(),
            manifest_dir: None,
            alert_on_change: true,
            block_on_change: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitSection {
    pub enabled: bool,
    /// Calls per tool.
    pub default_per_minute: u32,
    pub default_per_hour: u32,
    /// Calls allowed at once before the per-minute pace applies (default: the per-minute figure).
    pub burst: Option<u32>,
}

impl Default for RateLimitSection {
    fn default() -> Self {
        RateLimitSection {
            enabled: true,
            default_per_minute: 60,
            default_per_hour: 1000,
            burst: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProxySection {
    /// After the client closes, how long the server may take to exit before it is terminated.
    pub shutdown_grace_ms: u64,
    /// Answer a refused `tools/call` as a tool result with `isError: true` instead of a
    /// JSON-RPC error.
    pub refuse_as_tool_error: bool,
}

impl Default for ProxySection {
    fn default() -> Self {
        ProxySection {
            shutdown_grace_ms: 2000,
            refuse_as_tool_error: false,
        }
    }
}

/// What a tool may do, from least to most dangerous.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ToolClass {
    Read,
    Write,
    Destructive,
    Admin,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrustLevel {
    None,
    Basic,
    #[default]
    Verified,
    Trusted,
    Privileged,
}

/// Policy overrides shared by servers and tools, as [`ServerSection::overrides`] and
/// [`ToolSection::overrides`] read them. The settings are fields of each section (not a
/// flattened struct: serde's `flatten` buffers the map and loses the line of an error).
#[derive(Debug, Clone, Copy)]
pub struct Overrides<'a> {
    pub policy_pii: Option<Action>,
    pub policy_secrets: Option<Action>,
    pub policy_injection: Option<Action>,
    pub policy_kinds: &'a BTreeMap<String, Action>,
    pub allow_rules: &'a [String],
    pub allow_fingerprints: &'a [String],
}

#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    #[serde(default)]
    pub trust_level: TrustLevel,
    /// Globs; when non-empty only matching tools may be called.
    #[serde(default)]
    pub allowed_tools: Vec<String>,
    /// Globs; always wins over `allowed_tools`.
    #[serde(default)]
    pub blocked_tools: Vec<String>,
    /// Per tool, as in the reference.
    pub max_calls_per_minute: Option<u32>,
    pub max_calls_per_hour: Option<u32>,
    /// All tools of this server together.
    pub server_calls_per_minute: Option<u32>,
    pub server_calls_per_hour: Option<u32>,
    pub policy_pii: Option<Action>,
    pub policy_secrets: Option<Action>,
    pub policy_injection: Option<Action>,
    #[serde(default, deserialize_with = "unique_keys")]
    pub policy_kinds: BTreeMap<String, Action>,
    #[serde(default)]
    pub allow_rules: Vec<String>,
    #[serde(default)]
    pub allow_fingerprints: Vec<String>,
    #[serde(default, deserialize_with = "unique_keys")]
    pub tools: BTreeMap<String, ToolSection>,
}

#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolSection {
    /// Overrides the class read from annotations and verbs.
    pub class: Option<ToolClass>,
    pub max_calls_per_minute: Option<u32>,
    pub max_calls_per_hour: Option<u32>,
    pub policy_pii: Option<Action>,
    pub policy_secrets: Option<Action>,
    pub policy_injection: Option<Action>,
    #[serde(default, deserialize_with = "unique_keys")]
    pub policy_kinds: BTreeMap<String, Action>,
    #[serde(default)]
    pub allow_rules: Vec<String>,
    #[serde(default)]
    pub allow_fingerprints: Vec<String>,
}

/// Where the config comes from: an explicit path, PARAPET_CONFIG, then the first of
/// `./parapet.yaml`, `./parapet.yml`, `./.parapet.yaml`, `./.parapet.yml`,
/// `~/.config/mcp-parapet/config.yaml`.
pub fn config_path(explicit: Option<&Path>) -> Option<PathBuf> {
    config_origin(explicit).map(|o| o.path)
}

/// [`config_path`], with how it was found.
pub fn config_origin(explicit: Option<&Path>) -> Option<Origin> {
    let chosen = |path: PathBuf| Origin {
        path,
        working_directory: false,
    };
    if let Some(p) = explicit {
        return Some(chosen(p.to_path_buf()));
    }
    if let Some(p) = std::env::var_os("PARAPET_CONFIG").filter(|v| !v.is_empty()) {
        return Some(chosen(PathBuf::from(p)));
    }
    let in_working_directory = [
        "parapet.yaml",
        "parapet.yml",
        ".parapet.yaml",
        ".parapet.yml",
    ]
    .iter()
    .map(|name| Origin {
        path: PathBuf::from(name),
        working_directory: true,
    });
    let home = home_config().map(chosen);
    in_working_directory.chain(home).find(|o| o.path.is_file())
}

/// The user's own config file: `~/.config/mcp-parapet/config.yaml`.
fn home_config() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|home| Path::new(&home).join(".config/mcp-parapet/config.yaml"))
}

/// `over` laid on `base`: mappings merged key by key, anything else replaced.
pub(crate) fn merge(
    base: serde_yaml_ng::Value,
    over: serde_yaml_ng::Value,
) -> serde_yaml_ng::Value {
    use serde_yaml_ng::Value;
    match (base, over) {
        (Value::Mapping(mut b), Value::Mapping(o)) => {
            for (k, v) in o {
                let merged = match b.remove(&k) {
                    Some(old) => merge(old, v),
                    None => v,
                };
                b.insert(k, merged);
            }
            Value::Mapping(b)
        }
        (_, over) => over,
    }
}

/// The path-valued keys, made absolute against the file's directory: paths in a file are
/// found beside it, wherever it is run from (clients often start servers in `/`).
fn paths_beside(value: &mut serde_yaml_ng::Value, dir: &Path) {
    use serde_yaml_ng::Value;
    let beside = |v: &mut Value| {
        if let Value::String(s) = v {
            if Path::new(s.as_str()).is_relative() {
                *s = dir.join(s.as_str()).to_string_lossy().into_owned();
            }
        }
    };
    for (section, key) in [
        ("scanner", "rules_files"),
        ("audit", "log_file"),
        ("integrity", "manifest_dir"),
    ] {
        match value.get_mut(section).and_then(|s| s.get_mut(key)) {
            Some(Value::Sequence(items)) => items.iter_mut().for_each(beside),
            Some(v) => beside(v),
            None => {}
        }
    }
}

impl Config {
    /// Loads the config file and applies the environment. A file named explicitly (flag or
    /// PARAPET_CONFIG) that is missing is an error (the reference silently fell back). A file
    /// found in the working directory is laid over the user's own (or the defaults), and what
    /// it relaxes is kept in `project_relaxations` for the caller to refuse.
    pub fn load(explicit: Option<&Path>) -> Result<Config> {
        let mut config = match config_origin(explicit) {
            Some(origin) if origin.working_directory => {
                let home = home_config().filter(|p| p.is_file());
                // The project's file alone is not checked against the defaults (its scores
                // may be meant to sit between the user's own): the merged result is.
                let (project, project_value) = Config::read_file(&origin.path, home.is_none())?;
                let (base, base_value) = match &home {
                    Some(home) => Config::read_file(home, true)?,
                    None => (Config::default(), serde_yaml_ng::Value::Null),
                };
                // Laid over nothing (no file of the user's), the project's YAML is itself.
                let merged = merge(base_value, project_value);
                let mut config: Config =
                    serde_yaml_ng::from_value(merged).map_err(|e| ProxyError::Config {
                        path: origin.path.clone(),
                        message: hide_values(&e.to_string()),
                    })?;
                config.check().map_err(|message| ProxyError::Config {
                    path: origin.path.clone(),
                    message,
                })?;
                config.warnings = base
                    .warnings
                    .iter()
                    .chain(&project.warnings)
                    .cloned()
                    .collect();
                config.project_relaxations = crate::workdir_config::relaxations(&config, &base);
                config.project_base = home;
                config.origin = Some(origin);
                config
            }
            Some(origin) => {
                let (mut config, _) = Config::read_file(&origin.path, true)?;
                config.origin = Some(origin);
                config
            }
            None => Config::default(),
        };
        config.apply_env()?;
        Ok(config)
    }

    /// One file: parsed and checked (errors name the key and line), its relative paths made
    /// absolute beside it; with its YAML, for laying another file over it.
    fn read_file(path: &Path, check: bool) -> Result<(Config, serde_yaml_ng::Value)> {
        let error = |message: String| ProxyError::Config {
            path: path.to_path_buf(),
            message,
        };
        let text =
            std::fs::read_to_string(path).map_err(|e| error(format!("cannot read it: {e}")))?;
        let parsed = Config::parse_unchecked(&text).map_err(error)?;
        if check {
            parsed.check().map_err(|e| error(with_line(&text, e)))?;
        }
        let mut value: serde_yaml_ng::Value = if text.trim().is_empty() {
            serde_yaml_ng::Value::Mapping(Default::default())
        } else {
            serde_yaml_ng::from_str(&text).map_err(|e| error(hide_values(&e.to_string())))?
        };
        if value.is_null() {
            value = serde_yaml_ng::Value::Mapping(Default::default());
        }
        if let Some(dir) = path.parent() {
            paths_beside(&mut value, dir);
        }
        let mut config: Config = serde_yaml_ng::from_value(value.clone())
            .map_err(|e| error(hide_values(&e.to_string())))?;
        config.warnings.extend(key_readable_warning(path, &config));
        Ok((config, value))
    }

    /// Parses YAML text; the error names the key and line.
    pub fn parse(text: &str) -> std::result::Result<Config, String> {
        let config = Config::parse_unchecked(text)?;
        config.check().map_err(|e| with_line(text, e))?;
        Ok(config)
    }

    /// [`Config::parse`] without the checks across keys (limits, score order).
    fn parse_unchecked(text: &str) -> std::result::Result<Config, String> {
        if text.trim().is_empty() {
            return Ok(Config::default());
        }
        serde_yaml_ng::from_str(text).map_err(|e| hide_values(&e.to_string()))
    }

    fn check(&self) -> std::result::Result<(), String> {
        let sc = &self.scanner;
        for (key, v) in [
            ("min_confidence", sc.min_confidence),
            ("classifier_threshold", sc.classifier_threshold),
            ("injection_flag_score", sc.injection_flag_score),
            ("injection_reject_score", sc.injection_reject_score),
        ] {
            if let Some(v) = v.filter(|v| !(0.0..=1.0).contains(v)) {
                return Err(format!("scanner.{key}: {v} is outside 0..1"));
            }
        }
        let parapet_engine::InjectionScores { flag, reject } = sc.injection_scores();
        if flag > reject {
            return Err(format!(
                "scanner.injection_flag_score ({flag}) is above scanner.injection_reject_score ({reject}): findings must be flagged before they are refused"
            ));
        }
        if let Some(v) = &self.scanner.deep_scan {
            v.parse::<parapet_engine::DeepScan>()
                .map_err(|e| format!("scanner.deep_scan: {e}"))?;
        }
        if let Some(level) = &self.log_level {
            check_log_level(level).map_err(|e| format!("log_level: {e}"))?;
        }
        if self.scanner.content_max_length == Some(0) {
            return Err("scanner.content_max_length: must be at least 1 (bytes)".into());
        }
        let rl = &self.rate_limit;
        if rl.enabled && (rl.default_per_minute == 0 || rl.default_per_hour == 0) {
            return Err(
                "rate_limit: limits must be at least 1 (set rate_limit.enabled: false to switch them off)"
                    .into(),
            );
        }
        if self.audit.max_file_size_mb == 0 {
            return Err("audit.max_file_size_mb: must be at least 1".into());
        }
        if rl.burst == Some(0) {
            return Err("rate_limit.burst: must be at least 1".into());
        }
        let fingerprint_lists = std::iter::once(("scanner".to_string(), &sc.allow_fingerprints))
            .chain(self.servers.iter().flat_map(|(name, server)| {
                std::iter::once((format!("servers.{name}"), &server.allow_fingerprints)).chain(
                    server.tools.iter().map(move |(tool, t)| {
                        (
                            format!("servers.{name}.tools.{tool}"),
                            &t.allow_fingerprints,
                        )
                    }),
                )
            }));
        for (at, list) in fingerprint_lists {
            if let Some(n) = list.iter().position(|f| {
                f.len() != 32
                    || !f
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            }) {
                // Not shown: a secret pasted in place of its fingerprint is a common slip.
                return Err(format!(
                    "{at}.allow_fingerprints: entry {} is not a fingerprint (32 lower-case hex digits, as `mcp-parapet scan` prints them)",
                    n + 1
                ));
            }
        }
        for (name, server) in &self.servers {
            let limits = [
                ("max_calls_per_minute", server.max_calls_per_minute),
                ("max_calls_per_hour", server.max_calls_per_hour),
                ("server_calls_per_minute", server.server_calls_per_minute),
                ("server_calls_per_hour", server.server_calls_per_hour),
            ];
            let tool_limits = server.tools.values().flat_map(|t| {
                [
                    ("max_calls_per_minute", t.max_calls_per_minute),
                    ("max_calls_per_hour", t.max_calls_per_hour),
                ]
            });
            if let Some((key, _)) = limits
                .into_iter()
                .chain(tool_limits)
                .find(|(_, v)| *v == Some(0))
            {
                return Err(format!(
                    "servers.{name}.{key}: must be at least 1 (block the tool with blocked_tools instead)"
                ));
            }
            for glob in server.allowed_tools.iter().chain(&server.blocked_tools) {
                globset::Glob::new(glob).map_err(|e| {
                    format!(
                        "servers.{name}: tool pattern {}: {}",
                        parapet_engine::shown_value(glob),
                        e.kind()
                    )
                })?;
            }
        }
        Ok(())
    }

    fn apply_env(&mut self) -> Result<()> {
        let env_err = |var: &str, message: String| ProxyError::Env {
            var: var.to_string(),
            message,
        };
        for (var, slot) in [
            ("PARAPET_POLICY_PII", &mut self.scanner.policy_pii),
            ("PARAPET_POLICY_SECRETS", &mut self.scanner.policy_secrets),
            (
                "PARAPET_POLICY_INJECTION",
                &mut self.scanner.policy_injection,
            ),
        ] {
            if let Some(v) = env_nonempty(var) {
                *slot = Some(v.parse::<Action>().map_err(|e| env_err(var, e))?);
            }
        }
        if let Some(v) = env_nonempty("PARAPET_LOG_LEVEL") {
            check_log_level(&v).map_err(|e| env_err("PARAPET_LOG_LEVEL", e))?;
            self.log_level = Some(v);
        }
        if let Some(v) = env_nonempty("PARAPET_AUDIT_FILE") {
            self.audit.log_file = Some(PathBuf::from(v));
        }
        if let Some(v) = env_nonempty("PARAPET_SIGNING_KEY") {
            self.integrity.signing_key = v;
        }
        Ok(())
    }

    /// The server section for `name`, or the defaults.
    pub fn server(&self, name: &str) -> ServerSection {
        self.servers.get(name).cloned().unwrap_or_default()
    }
}

/// A signing key in a file others can read is no secret: say so (the key itself is not shown).
fn key_readable_warning(path: &Path, config: &Config) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).map_or(0, |m| m.permissions().mode());
    (!config.integrity.signing_key.is_empty() && mode & 0o077 != 0).then(|| {
        format!(
            "{} holds integrity.signing_key but others can read it (mode {:o}): chmod 600 it, or set PARAPET_SIGNING_KEY instead",
            path.display(),
            mode & 0o777
        )
    })
}

/// The overrides of a section with the six policy fields.
macro_rules! overrides_of {
    ($section:expr) => {
        Overrides {
            policy_pii: $section.policy_pii,
            policy_secrets: $section.policy_secrets,
            policy_injection: $section.policy_injection,
            policy_kinds: &$section.policy_kinds,
            allow_rules: &$section.allow_rules,
            allow_fingerprints: &$section.allow_fingerprints,
        }
    };
}

impl ServerSection {
    /// This server's policy overrides and allowlists.
    pub fn overrides(&self) -> Overrides<'_> {
        overrides_of!(self)
    }
}

impl ToolSection {
    /// This tool's policy overrides and allowlists.
    pub fn overrides(&self) -> Overrides<'_> {
        overrides_of!(self)
    }
}

/// A check's message (`section.key: what is wrong`) with the line of that key in the file,
/// found by following the dotted path down the indentation (`servers.b.max_calls_per_minute`
/// is the one under `b`, not the first `max_calls_per_minute`).
fn with_line(text: &str, message: String) -> String {
    let path = message.split(':').next().unwrap_or_default().trim();
    let lines: Vec<&str> = text.lines().collect();
    let mut from = 0;
    let mut indent: Option<usize> = None;
    let mut found = None;
    for segment in path.split('.').filter(|s| !s.is_empty()) {
        let hit = (from..lines.len()).find(|&n| {
            let line = lines[n];
            let own = line.len() - line.trim_start().len();
            indent.is_none_or(|i| own > i)
                && line
                    .trim_start()
                    .strip_prefix(segment)
                    .is_some_and(|rest| rest.trim_start().starts_with(':'))
        });
        match hit {
            Some(n) => {
                let line = lines[n];
                indent = Some(line.len() - line.trim_start().len());
                from = n + 1;
                found = Some(n);
            }
            None => {
                found = None;
                break;
            }
        }
    }
    match found {
        Some(n) if !path.is_empty() => format!("{message} (line {})", n + 1),
        _ => message,
    }
}

/// A map whose keys must differ: YAML parsers keep the last of two equal keys, so a second
/// `servers: fs:` block would silently replace the first (and its trust level with it).
fn unique_keys<'de, D, V>(d: D) -> std::result::Result<BTreeMap<String, V>, D::Error>
where
    D: serde::Deserializer<'de>,
    V: Deserialize<'de>,
{
    struct Unique<V>(std::marker::PhantomData<V>);
    impl<'de, V: Deserialize<'de>> serde::de::Visitor<'de> for Unique<V> {
        type Value = BTreeMap<String, V>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a map")
        }
        fn visit_unit<E>(self) -> std::result::Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> std::result::Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(key) = map.next_key::<String>()? {
                if out.contains_key(&key) {
                    return Err(serde::de::Error::custom(format!(
                        "`{key}` is given twice (the second would silently replace the first): merge them"
                    )));
                }
                let value = map.next_value()?;
                out.insert(key, value);
            }
            Ok(out)
        }
    }
    d.deserialize_map(Unique(std::marker::PhantomData))
}

/// A parser's message without the values it quotes: the file may not be a config at all (a
/// `.env` named by mistake), and the message lands in a client's log. Strings become `a
/// string`; an unknown variant is shown only when it is short and plain (`block`).
fn hide_values(message: &str) -> String {
    let mut out = String::new();
    let mut rest = message;
    loop {
        let string_at = rest.find("string \"");
        let variant_at = ["variant `", "field `"]
            .iter()
            .filter_map(|m| rest.find(m).map(|i| i + m.len() - 1))
            .min();
        let (at, quote, plain_ok) = match (string_at, variant_at) {
            (Some(s), Some(v)) if v < s => (v, '`', true),
            (Some(s), _) => (s + "string ".len(), '"', false),
            (None, Some(v)) => (v, '`', true),
            (None, None) => break,
        };
        out.push_str(&rest[..at]);
        let body = &rest[at + 1..];
        let Some(end) = body.find(quote) else {
            out.push_str("(value hidden)");
            rest = "";
            break;
        };
        let value = &body[..end];
        if plain_ok && parapet_engine::may_show_value(value) {
            out.push_str(&rest[at..at + 1 + end + 1]);
        } else {
            out.push_str(&format!(
                "(a value of {} characters, hidden)",
                value.chars().count()
            ));
        }
        rest = &body[end + 1..];
    }
    out.push_str(rest);
    out
}

pub fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The tracing filter for a reference-style level name.
pub fn check_log_level(level: &str) -> std::result::Result<&'static str, String> {
    match level.trim().to_ascii_lowercase().as_str() {
        "trace" => Ok("trace"),
        "debug" => Ok("debug"),
        "info" => Ok("info"),
        "warning" | "warn" => Ok("warn"),
        "error" | "critical" => Ok("error"),
        other => Err(format!(
            "unknown log level {}: expected debug, info, warning or error",
            parapet_engine::shown_value(other)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_line_of_the_key() {
        let text = "servers:\n  fs:\n    trust_level: basic\n    allowed_tools: [\"read_*\"]\n    max_calls_per_minute: 120\n    policy_pii: block\n";
        let err = Config::parse(text).unwrap_err();
        assert!(err.contains("line 6"), "{err}");
        let err = Config::parse(
            "servers:\n  fs:\n    tools:\n      t:\n        class: read\n        alow_rules: [x]\n",
        )
        .unwrap_err();
        assert!(
            err.contains("line 6") && err.contains("alow_rules"),
            "{err}"
        );
        let err = Config::parse(
            "log_level: info\nscanner:\n  min_confidence: 0.5\n  classifier_threshold: 1.7\n",
        )
        .unwrap_err();
        assert!(
            err.contains("classifier_threshold") && err.contains("line 4"),
            "{err}"
        );
        // Overrides still reach the sections.
        let c = Config::parse("servers:\n  fs:\n    policy_pii: redact\n    tools:\n      t:\n        allow_rules: [pii.email]\n").unwrap();
        assert_eq!(c.server("fs").overrides().policy_pii, Some(Action::Redact));
        assert_eq!(
            c.server("fs").tools["t"].overrides().allow_rules,
            ["pii.email"]
        );
    }

    #[test]
    fn errors_do_not_quote_the_file_s_values() {
        let token = "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";
        for text in [
            format!("GITHUB_TOKEN={token}\nAWS=1\n"),
            format!("servers:\n  fs:\n    trust_level: \"GITHUB_TOKEN={token}\"\n"),
            format!("scanner:\n  min_confidence: \"{token}\"\n"),
        ] {
            let e = Config::parse(&text).unwrap_err();
            assert!(!e.contains(token) && e.contains("hidden"), "{e}");
        }
        // Nor do the checks after parsing, nor an unknown key.
        for text in [
            format!("log_level: {token}\n"),
            format!("scanner:\n  deep_scan: {token}\n"),
            format!("servers:\n  fs:\n    allowed_tools: ['[{token}']\n"),
            format!("{token}: 1\n"),
        ] {
            let e = Config::parse(&text).unwrap_err();
            assert!(!e.contains(token), "{e}");
        }
        // A short plain word is still shown, with the line.
        let e = Config::parse("scanner:\n  policy_pii: block\n").unwrap_err();
        assert!(e.contains("`block`") && e.contains("line 2"), "{e}");
    }

    #[test]
    fn a_key_given_twice_in_a_map_is_an_error() {
        for text in [
            "servers:\n  fs:\n    trust_level: none\n  fs:\n    trust_level: privileged\n",
            "scanner:\n  policy_kinds:\n    email: reject\n    email: allow\n",
            "servers:\n  fs:\n    tools:\n      rm:\n        class: admin\n      rm:\n        class: read\n",
        ] {
            let e = Config::parse(text).unwrap_err();
            assert!(e.contains("given twice"), "{e}");
        }
        assert!(Config::parse("servers:\n").is_ok());
        assert!(Config::parse("servers:\n  fs: {}\n  gh: {}\n").is_ok());
    }

    #[test]
    fn an_error_names_the_line_of_its_own_key() {
        let text =
            "servers:\n  a:\n    max_calls_per_minute: 5\n  b:\n    max_calls_per_minute: 0\n";
        let e = Config::parse(text).unwrap_err();
        assert!(
            e.contains("servers.b.max_calls_per_minute") && e.contains("line 5"),
            "{e}"
        );
    }

    #[test]
    fn allowlisted_fingerprints_must_be_fingerprints() {
        let ok = "scanner:\n  allow_fingerprints: [356e3f0037c58307a26b2fe5ee227f08]\n";
        assert!(Config::parse(ok).is_ok());
        for bad in [
            "scanner:\n  allow_fingerprints: [nothex]\n",
            "scanner:\n  allow_fingerprints: [356E3F0037C58307A26B2FE5EE227F08]\n",
            "servers:\n  fs:\n    tools:\n      t:\n        allow_fingerprints: [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]\n",
        ] {
            let e = Config::parse(bad).unwrap_err();
            assert!(e.contains("is not a fingerprint") && !e.contains("ghp_"), "{e}");
        }
    }

    #[test]
    fn zero_limits_and_sizes_are_errors() {
        for text in [
            "audit:\n  max_file_size_mb: 0\n",
            "rate_limit:\n  burst: 0\n",
            "servers:\n  x:\n    max_calls_per_minute: 0\n",
            "servers:\n  x:\n    tools:\n      t:\n        max_calls_per_hour: 0\n",
        ] {
            assert!(Config::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn rule_files_are_found_beside_the_config_file() {
        let dir = std::env::temp_dir().join(format!("parapet-cfg-rel-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("parapet.yaml");
        std::fs::write(
            &path,
            "scanner:\n  rules_files: [mine.toml, /abs/other.toml]\naudit:\n  log_file: logs/a.jsonl\nintegrity:\n  manifest_dir: pins\n",
        )
        .unwrap();
        let c = Config::load(Some(&path)).unwrap();
        assert_eq!(
            c.scanner.rules_files,
            [dir.join("mine.toml"), PathBuf::from("/abs/other.toml")]
        );
        assert_eq!(c.audit.log_file, Some(dir.join("logs/a.jsonl")));
        assert_eq!(c.integrity.manifest_dir, Some(dir.join("pins")));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_readable_signing_key_is_a_warning_for_the_caller() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("parapet-cfg-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("p.yaml");
        std::fs::write(
            &path,
            "integrity:\n  signing_key: not-shown-in-the-warning\n",
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let c = Config::load(Some(&path)).unwrap();
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(c.warnings[0].contains("chmod 600") && !c.warnings[0].contains("not-shown"));
        assert!(!c.origin.unwrap().working_directory);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(Config::load(Some(&path)).unwrap().warnings.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn reference_template_loads() {
        let c = Config::parse(crate::template::TEMPLATE).unwrap();
        assert!(c.audit.enabled);
        assert_eq!(c.rate_limit.default_per_minute, 60);
    }

    #[test]
    fn unknown_keys_and_bad_values_name_key_and_line() {
        let e =
            Config::parse("scanner:\n  policy_pii: flag\n  polcy_secrets: redact\n").unwrap_err();
        assert!(e.contains("polcy_secrets") && e.contains("line 3"), "{e}");
        let e = Config::parse("scanner:\n  policy_pii: block\n").unwrap_err();
        assert!(e.contains("block") && e.contains("line 2"), "{e}");
        let e = Config::parse("servers:\n  fs:\n    trust_level: admin\n").unwrap_err();
        assert!(e.contains("admin") && e.contains("line 3"), "{e}");
        // The reference's own (unused) setting loads, ignored; a limit of 0 does not.
        assert!(Config::parse("scanner:\n  metadata_max_value_length: 10000\n").is_ok());
        let e = Config::parse("scanner:\n  content_max_length: 0\n").unwrap_err();
        assert!(e.contains("content_max_length"), "{e}");
    }

    #[test]
    fn injection_scores_are_checked() {
        let c = Config::parse("scanner:\n  injection_reject_score: 0.8\n").unwrap();
        assert_eq!(c.scanner.injection_reject_score, Some(0.8));
        let e = Config::parse("scanner:\n  injection_flag_score: 1.5\n").unwrap_err();
        assert!(
            e.contains("scanner.injection_flag_score") && e.contains("0..1"),
            "{e}"
        );
        let e =
            Config::parse("scanner:\n  injection_flag_score: 0.9\n  injection_reject_score: 0.6\n")
                .unwrap_err();
        assert!(e.contains("above scanner.injection_reject_score"), "{e}");
        // A flag score alone above the default reject score raises the reject score with it.
        assert!(Config::parse("scanner:\n  injection_flag_score: 0.7\n").is_ok());
    }

    #[test]
    fn per_server_and_per_tool_sections() {
        let c = Config::parse(
            "servers:\n  fs:\n    trust_level: basic\n    blocked_tools: ['write_*']\n    policy_pii: redact\n    tools:\n      move_file:\n        class: destructive\n        allow_rules: [pii.email]\n",
        )
        .unwrap();
        let fs = c.server("fs");
        assert_eq!(fs.trust_level, TrustLevel::Basic);
        assert_eq!(fs.overrides().policy_pii, Some(Action::Redact));
        assert_eq!(fs.tools["move_file"].class, Some(ToolClass::Destructive));
        assert_eq!(c.server("other").trust_level, TrustLevel::Verified);
    }
}
