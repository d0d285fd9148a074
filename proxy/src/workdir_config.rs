//! A configuration found in the working directory (`./parapet.yaml` and its three spellings)
//! is a project's own file: clients start project-scoped servers, and security teams run
//! `scan`, inside repositories nobody has vetted. Such a file may tighten the proxy but not
//! relax it; [`relaxations`] lists what it would relax, so `wrap` and `scan` can refuse it and
//! say how to use it anyway (`--config FILE` or `PARAPET_CONFIG` name a file the user chose).

use parapet_engine::{Action, Category, InjectionScores, Policy};

use crate::config::{Config, Overrides, RateLimitSection, ToolClass, TrustLevel};

/// Every setting of `config` that is weaker than the default, as `key: value` (values that are
/// keys or secrets are not shown).
pub fn relaxations(config: &Config) -> Vec<String> {
    let mut out = Vec::new();
    let defaults = Policy::default();
    let kinds = KindCategories::new(config);
    let sc = &config.scanner;
    overrides(
        &mut out,
        "scanner",
        &Overrides {
            policy_pii: sc.policy_pii,
            policy_secrets: sc.policy_secrets,
            policy_injection: sc.policy_injection,
            policy_kinds: &sc.policy_kinds,
            allow_rules: &sc.allow_rules,
            allow_fingerprints: &sc.allow_fingerprints,
        },
        &defaults,
        &kinds,
    );
    let default_scores = InjectionScores::default();
    for (key, value, default) in [
        ("min_confidence", sc.min_confidence, 0.5),
        (
            "injection_flag_score",
            sc.injection_flag_score,
            default_scores.flag,
        ),
        (
            "injection_reject_score",
            sc.injection_reject_score,
            default_scores.reject,
        ),
    ] {
        if let Some(v) = value.filter(|v| *v > default) {
            out.push(format!("scanner.{key}: {v}"));
        }
    }
    // The model's own threshold is the default; any other value is the project's choice of
    // what the classifier reports, so it counts when it is higher than the model's.
    if let Some(v) = sc.classifier_threshold {
        let model = parapet_engine::classify::Classifier::builtin().map_or(0.0, |c| c.threshold);
        if v > model {
            out.push(format!("scanner.classifier_threshold: {v}"));
        }
    }
    if sc.deep_scan.as_deref().map(str::trim) == Some("off") {
        out.push("scanner.deep_scan: off".into());
    }
    if !sc.disabled_rules.is_empty() {
        out.push(format!("scanner.disabled_rules: {:?}", sc.disabled_rules));
    }
    for (key, on) in [
        ("scan_tool_arguments", sc.scan_tool_arguments),
        ("scan_tool_responses", sc.scan_tool_responses),
    ] {
        if on == Some(false) {
            out.push(format!("scanner.{key}: false"));
        }
    }
    if !config.audit.enabled {
        out.push("audit.enabled: false".into());
    }
    if !config.audit.fail_closed {
        out.push("audit.fail_closed: false".into());
    }
    let integrity = &config.integrity;
    if !integrity.enabled {
        out.push("integrity.enabled: false".into());
    }
    if !integrity.signing_key.is_empty() {
        // A key written in a project's file is known to whoever wrote it.
        out.push("integrity.signing_key (set in the file)".into());
    }
    if let Some(dir) = &integrity.manifest_dir {
        // Pins kept in the project would be pins the project chose.
        out.push(format!("integrity.manifest_dir: {}", dir.display()));
    }
    rate_limits(&mut out, &config.rate_limit);
    for (name, server) in &config.servers {
        let at = format!("servers.{name}");
        if server.trust_level > TrustLevel::default() {
            out.push(format!("{at}.trust_level: {:?}", server.trust_level).to_lowercase());
        }
        overrides(&mut out, &at, &server.overrides(), &defaults, &kinds);
        let raised = |v: Option<u32>, default: u32| v.filter(|v| *v > default);
        let rl = &config.rate_limit;
        // Per-tool limits replace the defaults; whole-server limits only add one.
        for (key, v, default) in [
            (
                "max_calls_per_minute",
                server.max_calls_per_minute,
                rl.default_per_minute,
            ),
            (
                "max_calls_per_hour",
                server.max_calls_per_hour,
                rl.default_per_hour,
            ),
        ] {
            if let Some(v) = raised(v, default) {
                out.push(format!("{at}.{key}: {v}"));
            }
        }
        for (tool, section) in &server.tools {
            let at = format!("{at}.tools.{tool}");
            if let Some(class) = section.class.filter(|c| *c < ToolClass::Admin) {
                out.push(format!("{at}.class: {class:?}").to_lowercase());
            }
            overrides(&mut out, &at, &section.overrides(), &defaults, &kinds);
            for (key, v, default) in [
                (
                    "max_calls_per_minute",
                    section.max_calls_per_minute,
                    rl.default_per_minute,
                ),
                (
                    "max_calls_per_hour",
                    section.max_calls_per_hour,
                    rl.default_per_hour,
                ),
            ] {
                if let Some(v) = raised(v, default) {
                    out.push(format!("{at}.{key}: {v}"));
                }
            }
        }
    }
    out
}

/// Lower policies and allowlists of one section.
fn overrides(
    out: &mut Vec<String>,
    at: &str,
    o: &Overrides<'_>,
    defaults: &Policy,
    kinds: &KindCategories,
) {
    for (key, value, default) in [
        ("policy_pii", o.policy_pii, defaults.pii),
        ("policy_secrets", o.policy_secrets, defaults.secret),
        ("policy_injection", o.policy_injection, defaults.injection),
    ] {
        if let Some(v) = value.filter(|v| *v < default) {
            out.push(format!("{at}.{key}: {v}"));
        }
    }
    for (kind, action) in o.policy_kinds {
        if *action < kinds.default_action(kind, defaults) {
            out.push(format!("{at}.policy_kinds.{kind}: {action}"));
        }
    }
    if !o.allow_rules.is_empty() {
        out.push(format!("{at}.allow_rules: {:?}", o.allow_rules));
    }
    if !o.allow_fingerprints.is_empty() {
        out.push(format!(
            "{at}.allow_fingerprints ({} fingerprints)",
            o.allow_fingerprints.len()
        ));
    }
}

fn rate_limits(out: &mut Vec<String>, rl: &RateLimitSection) {
    let default = RateLimitSection::default();
    if !rl.enabled {
        out.push("rate_limit.enabled: false".into());
        return;
    }
    if rl.default_per_minute > default.default_per_minute {
        out.push(format!(
            "rate_limit.default_per_minute: {}",
            rl.default_per_minute
        ));
    }
    if rl.default_per_hour > default.default_per_hour {
        out.push(format!(
            "rate_limit.default_per_hour: {}",
            rl.default_per_hour
        ));
    }
    if let Some(burst) = rl.burst.filter(|b| *b > rl.default_per_minute) {
        out.push(format!("rate_limit.burst: {burst}"));
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
        relaxations(&Config::parse(yaml).unwrap())
    }

    #[test]
    fn defaults_and_tighter_settings_relax_nothing() {
        assert!(relaxed("").is_empty());
        let tighter = "scanner:\n  policy_pii: redact\n  policy_kinds:\n    email: reject\n  min_confidence: 0.3\naudit:\n  log_tool_responses: true\nintegrity:\n  block_on_change: true\nrate_limit:\n  default_per_minute: 10\nservers:\n  fs:\n    trust_level: basic\n    blocked_tools: ['write_*']\n    server_calls_per_minute: 5\n    tools:\n      rm:\n        class: admin\n";
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
            ("audit:\n  enabled: false\n", "audit.enabled: false"),
            ("audit:\n  fail_closed: false\n", "audit.fail_closed: false"),
            ("integrity:\n  enabled: false\n", "integrity.enabled: false"),
            (
                "integrity:\n  manifest_dir: pins\n",
                "integrity.manifest_dir: pins",
            ),
            (
                "rate_limit:\n  enabled: false\n",
                "rate_limit.enabled: false",
            ),
            (
                "rate_limit:\n  default_per_hour: 100000\n",
                "rate_limit.default_per_hour: 100000",
            ),
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
}
