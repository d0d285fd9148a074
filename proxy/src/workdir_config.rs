//! A configuration found in the working directory (`./parapet.yaml` and its three spellings)
//! is a project's own file: clients start project-scoped servers, and security teams run
//! `scan`, inside repositories nobody has vetted. Such a file is laid over the user's own
//! config (`~/.config/mcp-parapet/config.yaml`, or the defaults) and may tighten it but not
//! relax it; [`relaxations`] lists what it would relax, so every command can refuse it and say
//! how to use it anyway (`--config FILE` or `PARAPET_CONFIG` name a file the user chose).

use parapet_engine::{Action, Category, DeepScan, Policy};

use crate::config::{Config, Overrides, ServerSection};

/// Every setting of `config` that is weaker than in `base` (the config that applies without
/// the project's file), as `key: value`; keys and secrets are not shown.
pub fn relaxations(config: &Config, base: &Config) -> Vec<String> {
    let mut out = Vec::new();
    let kinds = KindCategories::new(config);
    scanner(&mut out, config, base, &kinds);
    audit_and_integrity(&mut out, config, base);
    rate_limits(&mut out, config, base);
    let name = |c: &Config| c.server_name.clone().unwrap_or_else(|| "default".into());
    if name(config) != name(base) {
        // Another name means other pins (a changed tool list pinned afresh) and another section.
        out.push("server_name (set in the file)".into());
    }
    let level = |c: &Config| {
        c.log_level
            .as_deref()
            .and_then(|l| crate::config::check_log_level(l).ok())
            .map_or(2, |l| match l {
                "trace" => 0,
                "debug" => 1,
                "info" => 2,
                "warn" => 3,
                _ => 4,
            })
    };
    if level(config) > level(base) {
        // Warnings (a changed tool list, a refused pin file) would no longer be shown.
        out.push("log_level (quieter)".into());
    }
    // Sections of either: one the base has and the project dropped (`servers: ~`) counts.
    let names: std::collections::BTreeSet<&String> =
        config.servers.keys().chain(base.servers.keys()).collect();
    for name in names {
        let server = config.server(name);
        servers(
            &mut out,
            name,
            &server,
            &base.server(name),
            config,
            base,
            &kinds,
        );
    }
    out
}

fn scanner(out: &mut Vec<String>, config: &Config, base: &Config, kinds: &KindCategories) {
    let (sc, bs) = (&config.scanner, &base.scanner);
    overrides(
        out,
        "scanner",
        &scanner_overrides(config),
        &scanner_overrides(base),
        &Policy::default(),
        kinds,
    );
    let scores = (sc.injection_scores(), bs.injection_scores());
    let model = parapet_engine::classify::Classifier::builtin().map_or(0.0, |c| c.threshold);
    for (key, value, was) in [
        (
            "min_confidence",
            sc.min_confidence.unwrap_or(0.5),
            bs.min_confidence.unwrap_or(0.5),
        ),
        ("injection_flag_score", scores.0.flag, scores.1.flag),
        ("injection_reject_score", scores.0.reject, scores.1.reject),
        (
            "classifier_threshold",
            sc.classifier_threshold.unwrap_or(model),
            bs.classifier_threshold.unwrap_or(model),
        ),
    ] {
        // The model's threshold is stored as an f32: 0.81 written in a file is not above it.
        if value > was + 1e-4 {
            out.push(format!("scanner.{key}: {value}"));
        }
    }
    let deep = |c: &Config| {
        c.scanner
            .deep_scan
            .as_deref()
            .and_then(|v| v.parse::<DeepScan>().ok())
            .unwrap_or_default()
    };
    if deep(config) == DeepScan::Off && deep(base) != DeepScan::Off {
        out.push("scanner.deep_scan: off".into());
    }
    let added: Vec<&String> = sc
        .disabled_rules
        .iter()
        .filter(|r| !bs.disabled_rules.contains(r))
        .collect();
    if !added.is_empty() {
        out.push(format!("scanner.disabled_rules: {added:?}"));
    }
    for (key, on, was) in [
        (
            "scan_tool_arguments",
            sc.scan_tool_arguments,
            bs.scan_tool_arguments,
        ),
        (
            "scan_tool_responses",
            sc.scan_tool_responses,
            bs.scan_tool_responses,
        ),
    ] {
        if on == Some(false) && was != Some(false) {
            out.push(format!("scanner.{key}: false"));
        }
    }
    let default_cap = parapet_engine::ScannerConfig::default().max_bytes;
    let cap = |c: &Config| c.scanner.content_max_length.unwrap_or(default_cap);
    if cap(config) < cap(base) {
        // `scan` cuts files into chunks of about this size, with less context between them.
        out.push(format!("scanner.content_max_length: {}", cap(config)));
    }
}

fn scanner_overrides(c: &Config) -> Overrides<'_> {
    let sc = &c.scanner;
    Overrides {
        policy_pii: sc.policy_pii,
        policy_secrets: sc.policy_secrets,
        policy_injection: sc.policy_injection,
        policy_kinds: &sc.policy_kinds,
        allow_rules: &sc.allow_rules,
        allow_fingerprints: &sc.allow_fingerprints,
    }
}

fn audit_and_integrity(out: &mut Vec<String>, config: &Config, base: &Config) {
    let (a, b) = (&config.audit, &base.audit);
    for (key, on, was) in [
        ("audit.enabled", a.enabled, b.enabled),
        ("audit.fail_closed", a.fail_closed, b.fail_closed),
        (
            "audit.log_tool_arguments",
            a.log_tool_arguments,
            b.log_tool_arguments,
        ),
        (
            "integrity.enabled",
            config.integrity.enabled,
            base.integrity.enabled,
        ),
        (
            "integrity.alert_on_change",
            config.integrity.alert_on_change,
            base.integrity.alert_on_change,
        ),
        (
            "integrity.block_on_change",
            config.integrity.block_on_change,
            base.integrity.block_on_change,
        ),
    ] {
        if was && !on {
            out.push(format!("{key}: false"));
        }
    }
    if a.log_file != b.log_file {
        // A trail the project chooses could be its own copy, or a file it has others run.
        out.push("audit.log_file (set in the file)".into());
    }
    let (i, j) = (&config.integrity, &base.integrity);
    if i.signing_key != j.signing_key {
        // A key written in a project's file is known to whoever wrote it.
        out.push("integrity.signing_key (set in the file)".into());
    }
    if i.manifest_dir != j.manifest_dir {
        // Pins kept in the project would be pins the project chose.
        out.push("integrity.manifest_dir (set in the file)".into());
    }
}

fn rate_limits(out: &mut Vec<String>, config: &Config, base: &Config) {
    let (rl, b) = (&config.rate_limit, &base.rate_limit);
    if b.enabled && !rl.enabled {
        out.push("rate_limit.enabled: false".into());
        return;
    }
    if rl.default_per_minute > b.default_per_minute {
        out.push(format!(
            "rate_limit.default_per_minute: {}",
            rl.default_per_minute
        ));
    }
    if rl.default_per_hour > b.default_per_hour {
        out.push(format!(
            "rate_limit.default_per_hour: {}",
            rl.default_per_hour
        ));
    }
    let burst = |r: &crate::config::RateLimitSection| r.burst.unwrap_or(r.default_per_minute);
    if burst(rl) > burst(b) {
        out.push(format!("rate_limit.burst: {}", burst(rl)));
    }
}

fn servers(
    out: &mut Vec<String>,
    name: &str,
    server: &ServerSection,
    was: &ServerSection,
    config: &Config,
    base: &Config,
    kinds: &KindCategories,
) {
    let at = format!("servers.{name}");
    if server.trust_level > was.trust_level {
        out.push(format!("{at}.trust_level: {:?}", server.trust_level).to_lowercase());
    }
    let defaults = Policy::default();
    overrides(
        out,
        &at,
        &server.overrides(),
        &was.overrides(),
        &defaults,
        kinds,
    );
    // An allow list that was there and is now gone or wider lets more tools through; a
    // blocked tool no longer blocked, likewise.
    let wider = !was.allowed_tools.is_empty()
        && (server.allowed_tools.is_empty()
            || server
                .allowed_tools
                .iter()
                .any(|t| !was.allowed_tools.contains(t)));
    if wider {
        out.push(format!("{at}.allowed_tools (wider)"));
    }
    if was
        .blocked_tools
        .iter()
        .any(|t| !server.blocked_tools.contains(t))
    {
        out.push(format!("{at}.blocked_tools (fewer)"));
    }
    let limit = |v: Option<u32>, default: u32| v.unwrap_or(default);
    let (rl, brl) = (&config.rate_limit, &base.rate_limit);
    for (key, v, w) in [
        (
            "max_calls_per_minute",
            limit(server.max_calls_per_minute, rl.default_per_minute),
            limit(was.max_calls_per_minute, brl.default_per_minute),
        ),
        (
            "max_calls_per_hour",
            limit(server.max_calls_per_hour, rl.default_per_hour),
            limit(was.max_calls_per_hour, brl.default_per_hour),
        ),
        (
            "server_calls_per_minute",
            limit(server.server_calls_per_minute, u32::MAX),
            limit(was.server_calls_per_minute, u32::MAX),
        ),
        (
            "server_calls_per_hour",
            limit(server.server_calls_per_hour, u32::MAX),
            limit(was.server_calls_per_hour, u32::MAX),
        ),
    ] {
        if v > w {
            out.push(format!("{at}.{key}: {v}"));
        }
    }
    let tools: std::collections::BTreeSet<&String> =
        server.tools.keys().chain(was.tools.keys()).collect();
    for tool in tools {
        let at = format!("{at}.tools.{tool}");
        let section = server.tools.get(tool).cloned().unwrap_or_default();
        let before = was.tools.get(tool).cloned().unwrap_or_default();
        // A class set by the file can only be lower than what the tool would be read as
        // (its annotations and verbs) unless it is the highest.
        use crate::config::ToolClass;
        let class_lowered = match (section.class, before.class) {
            (Some(c), Some(b)) => c < b,
            (Some(c), None) => c < ToolClass::Admin,
            // The base's class dropped: the tool is read from its annotations and verbs again,
            // which may be lower than what the base said.
            (None, Some(b)) => b > ToolClass::Read,
            (None, None) => false,
        };
        if class_lowered {
            let shown = section
                .class
                .map_or("unset".to_string(), |c| format!("{c:?}").to_lowercase());
            out.push(format!("{at}.class: {shown}"));
        }
        overrides(
            out,
            &at,
            &section.overrides(),
            &before.overrides(),
            &defaults,
            kinds,
        );
        for (key, v, w) in [
            (
                "max_calls_per_minute",
                limit(section.max_calls_per_minute, rl.default_per_minute),
                limit(before.max_calls_per_minute, brl.default_per_minute),
            ),
            (
                "max_calls_per_hour",
                limit(section.max_calls_per_hour, rl.default_per_hour),
                limit(before.max_calls_per_hour, brl.default_per_hour),
            ),
        ] {
            if v > w {
                out.push(format!("{at}.{key}: {v}"));
            }
        }
    }
}

/// Lower policies and added allowlist entries of one section, against the same section of the
/// base (a missing policy there is the default).
fn overrides(
    out: &mut Vec<String>,
    at: &str,
    o: &Overrides<'_>,
    was: &Overrides<'_>,
    defaults: &Policy,
    kinds: &KindCategories,
) {
    for (key, value, before, default) in [
        ("policy_pii", o.policy_pii, was.policy_pii, defaults.pii),
        (
            "policy_secrets",
            o.policy_secrets,
            was.policy_secrets,
            defaults.secret,
        ),
        (
            "policy_injection",
            o.policy_injection,
            was.policy_injection,
            defaults.injection,
        ),
    ] {
        if let Some(v) = value.filter(|v| *v < before.unwrap_or(default)) {
            out.push(format!("{at}.{key}: {v}"));
        }
    }
    for (kind, action) in o.policy_kinds {
        let before = was
            .policy_kinds
            .get(kind)
            .copied()
            .unwrap_or_else(|| kinds.default_action(kind, defaults));
        if *action < before {
            out.push(format!("{at}.policy_kinds.{kind}: {action}"));
        }
    }
    let added = o
        .allow_rules
        .iter()
        .filter(|r| !was.allow_rules.contains(r))
        .count();
    if added > 0 {
        out.push(format!("{at}.allow_rules ({added} more)"));
    }
    let added = o
        .allow_fingerprints
        .iter()
        .filter(|f| !was.allow_fingerprints.contains(f))
        .count();
    if added > 0 {
        out.push(format!("{at}.allow_fingerprints ({added} more)"));
    }
}

/// The category of each built-in kind, read only when some section sets a per-kind policy.
struct KindCategories(Vec<(String, Category)>);

impl KindCategories {
    fn new(config: &Config) -> Self {
        let any = !config.scanner.policy_kinds.is_empty()
            || config.servers.values().any(|s| {
                !s.policy_kinds.is_empty() || s.tools.values().any(|t| !t.policy_kinds.is_empty())
            });
        let rules = if any {
            parapet_engine::builtin_rules().unwrap_or_default()
        } else {
            Vec::new()
        };
        KindCategories(rules.into_iter().map(|r| (r.kind, r.category)).collect())
    }

    /// What a finding of `kind` gets by default; for a kind no built-in rule has (a user
    /// rule's), the mildest default there is (`flag`), so only `allow` counts as relaxing it.
    fn default_action(&self, kind: &str, defaults: &Policy) -> Action {
        match self.0.iter().find(|(k, _)| k == kind) {
            Some((_, category)) => defaults.action_for(*category, kind),
            None => Action::Flag,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relaxed(yaml: &str) -> Vec<String> {
        relaxations(&Config::parse(yaml).unwrap(), &Config::default())
    }

    #[test]
    fn defaults_and_tighter_settings_relax_nothing() {
        assert!(relaxed("").is_empty());
        assert!(relaxed(crate::template::TEMPLATE).is_empty());
        let tighter = "scanner:\n  policy_pii: redact\n  policy_kinds:\n    email: reject\n  min_confidence: 0.3\n  classifier_threshold: 0.81\n  deep_scan: all\naudit:\n  log_tool_responses: true\nintegrity:\n  block_on_change: true\nrate_limit:\n  default_per_minute: 10\nservers:\n  fs:\n    trust_level: basic\n    blocked_tools: ['write_*']\n    server_calls_per_minute: 5\n    tools:\n      rm:\n        class: admin\n";
        assert_eq!(relaxed(tighter), Vec::<String>::new());
    }

    #[test]
    fn each_weaker_setting_is_named() {
        let cases = [
            (
                "scanner:\n  policy_secrets: allow\n",
                "scanner.policy_secrets: allow",
            ),
            (
                "scanner:\n  policy_injection: flag\n",
                "scanner.policy_injection: flag",
            ),
            (
                "scanner:\n  policy_kinds:\n    credit_card: flag\n",
                "scanner.policy_kinds.credit_card: flag",
            ),
            (
                "scanner:\n  policy_kinds:\n    github_token: flag\n",
                "scanner.policy_kinds.github_token: flag",
            ),
            (
                "scanner:\n  min_confidence: 0.9\n",
                "scanner.min_confidence: 0.9",
            ),
            ("scanner:\n  deep_scan: off\n", "scanner.deep_scan: off"),
            ("scanner:\n  deep_scan: None\n", "scanner.deep_scan: off"),
            (
                "scanner:\n  classifier_threshold: 0.99\n",
                "scanner.classifier_threshold: 0.99",
            ),
            (
                "scanner:\n  disabled_rules: [github.ghp]\n",
                "scanner.disabled_rules",
            ),
            (
                "scanner:\n  allow_rules: [github.ghp]\n",
                "scanner.allow_rules",
            ),
            (
                "scanner:\n  scan_tool_responses: false\n",
                "scanner.scan_tool_responses: false",
            ),
            (
                "scanner:\n  content_max_length: 4096\n",
                "scanner.content_max_length: 4096",
            ),
            ("audit:\n  enabled: false\n", "audit.enabled: false"),
            ("audit:\n  fail_closed: false\n", "audit.fail_closed: false"),
            (
                "audit:\n  log_tool_arguments: false\n",
                "audit.log_tool_arguments: false",
            ),
            ("audit:\n  log_file: ../.bashrc\n", "audit.log_file"),
            ("integrity:\n  enabled: false\n", "integrity.enabled: false"),
            (
                "integrity:\n  alert_on_change: false\n",
                "integrity.alert_on_change: false",
            ),
            (
                "integrity:\n  manifest_dir: pins\n",
                "integrity.manifest_dir",
            ),
            (
                "rate_limit:\n  enabled: false\n",
                "rate_limit.enabled: false",
            ),
            (
                "rate_limit:\n  default_per_hour: 100000\n",
                "rate_limit.default_per_hour: 100000",
            ),
            ("server_name: fresh\n", "server_name"),
            ("log_level: error\n", "log_level"),
            (
                "servers:\n  fs:\n    trust_level: privileged\n",
                "servers.fs.trust_level: privileged",
            ),
            (
                "servers:\n  fs:\n    policy_pii: allow\n",
                "servers.fs.policy_pii: allow",
            ),
            (
                "servers:\n  fs:\n    max_calls_per_minute: 1000\n",
                "servers.fs.max_calls_per_minute: 1000",
            ),
            (
                "servers:\n  fs:\n    tools:\n      rm:\n        class: read\n",
                "servers.fs.tools.rm.class: read",
            ),
        ];
        for (yaml, expected) in cases {
            let got = relaxed(yaml);
            assert!(
                got.iter().any(|r| r.starts_with(expected)),
                "{yaml:?}: {got:?}"
            );
        }
        // A key is never shown.
        let got = relaxed("integrity:\n  signing_key: hunter2-but-longer-than-that\n");
        assert!(got.iter().all(|r| !r.contains("hunter2")), "{got:?}");
        assert_eq!(got.len(), 1);
    }

    #[test]
    fn the_base_is_the_user_s_own_config() {
        let base = Config::parse(
            "integrity:\n  block_on_change: true\nscanner:\n  policy_injection: flag\nservers:\n  t:\n    blocked_tools: [echo]\n",
        )
        .unwrap();
        // What the user's file already says is no relaxation by the project.
        let same = Config::parse(
            "integrity:\n  block_on_change: true\nscanner:\n  policy_injection: flag\nservers:\n  t:\n    blocked_tools: [echo]\n",
        )
        .unwrap();
        assert!(relaxations(&same, &base).is_empty());
        // Undoing what it says is.
        let undone = Config::parse("servers:\n  t:\n    blocked_tools: []\n").unwrap();
        let got = relaxations(&undone, &base);
        assert!(
            got.iter().any(|r| r == "integrity.block_on_change: false"),
            "{got:?}"
        );
        assert!(
            got.iter().any(|r| r == "servers.t.blocked_tools (fewer)"),
            "{got:?}"
        );
        // (`servers: ~` does not parse; a section dropped by any other means still counts.)
        let got = relaxations(&Config::default(), &base);
        assert!(
            got.iter().any(|r| r == "servers.t.blocked_tools (fewer)"),
            "{got:?}"
        );
        let base =
            Config::parse("servers:\n  t:\n    tools:\n      rm:\n        class: admin\n").unwrap();
        let got = relaxations(&Config::parse("servers: {}\n").unwrap(), &base);
        assert!(
            got.iter().any(|r| r == "servers.t.tools.rm.class: unset"),
            "{got:?}"
        );
    }
}
