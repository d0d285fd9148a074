//! A configuration found in the working directory (`./parapet.yaml` and its three spellings)
//! is a project's own file: clients start project-scoped servers, and security teams run
//! `scan`, inside repositories nobody has vetted. Such a file is laid over the user's own
//! config (`~/.config/mcp-parapet/config.yaml`, or the defaults when there is none), and it may
//! only tighten a short list of top-level settings ([`TIGHTEN_ONLY`]); every other setting must
//! come out as the user's own says. [`relaxations`] lists what differs, so every command can
//! refuse such a file and say how to use it anyway (`--config FILE` or `PARAPET_CONFIG` name a
//! file the user chose). A closed list, not a list of what weakens: per-server and per-tool
//! sections, per-kind policies, allowlists, rule files (a project rule can outrank a built-in
//! finding, or be slow enough to stall every scan), paths and keys interact in too many ways to
//! judge one by one.

use parapet_engine::{Action, DeepScan};

use crate::config::Config;

/// What a project's file may change, each only in the stricter direction.
pub const TIGHTEN_ONLY: &str = "scanner.policy_pii/policy_secrets/policy_injection (stricter), \
scanner.min_confidence, injection_flag_score, injection_reject_score and classifier_threshold \
(lower), scanner.deep_scan (wider), scanner.scan_tool_arguments/scan_tool_responses (on), \
audit.enabled, fail_closed, log_tool_arguments and log_tool_responses (on), integrity.enabled, \
alert_on_change and block_on_change (on), rate_limit.enabled (on) and its limits (lower), \
log_level (more verbose), proxy.*";

/// How `config` (the project's file laid over `base`) differs from `base` (the user's own
/// config or the defaults) other than by tightening: `key: value` for a weaker setting,
/// `key (changed)` for any other change. Keys and secrets are not shown.
pub fn relaxations(config: &Config, base: &Config) -> Vec<String> {
    let (mut c, b) = (effective(config), effective(base));
    let mut out = Vec::new();
    tighten_only(&mut out, &mut c, &b);
    // What is left must be the base's, setting for setting.
    let (cs, bs) = (&c.scanner, &b.scanner);
    for (key, same) in [
        ("scanner.policy_kinds", cs.policy_kinds == bs.policy_kinds),
        (
            "scanner.content_max_length",
            cs.content_max_length == bs.content_max_length,
        ),
        ("scanner.rules_files", cs.rules_files == bs.rules_files),
        (
            "scanner.disabled_rules",
            cs.disabled_rules == bs.disabled_rules,
        ),
        ("scanner.allow_rules", cs.allow_rules == bs.allow_rules),
        (
            "scanner.allow_fingerprints",
            cs.allow_fingerprints == bs.allow_fingerprints,
        ),
        ("scanner", cs == bs),
        ("audit.log_file", c.audit.log_file == b.audit.log_file),
        ("audit", c.audit == b.audit),
        (
            "integrity.signing_key",
            c.integrity.signing_key == b.integrity.signing_key,
        ),
        (
            "integrity.manifest_dir",
            c.integrity.manifest_dir == b.integrity.manifest_dir,
        ),
        ("integrity", c.integrity == b.integrity),
        ("rate_limit", c.rate_limit == b.rate_limit),
        ("server_name", c.server_name == b.server_name),
    ] {
        // A section is named only when no finer key of it was.
        if !same && !out.iter().any(|o| o.starts_with(key)) {
            out.push(format!("{key} (changed)"));
        }
    }
    let names: std::collections::BTreeSet<&String> =
        c.servers.keys().chain(b.servers.keys()).collect();
    for name in names {
        if c.server(name) != b.server(name) {
            out.push(format!("servers.{name} (changed)"));
        }
    }
    out
}

/// The tighten-only settings: a weaker value is listed, and every one is then set to the
/// base's so that the rest of the comparison sees only what is not on the list.
fn tighten_only(out: &mut Vec<String>, c: &mut Config, b: &Config) {
    let (sc, bs) = (&mut c.scanner, &b.scanner);
    for (key, v, w) in [
        ("policy_pii", &mut sc.policy_pii, bs.policy_pii),
        ("policy_secrets", &mut sc.policy_secrets, bs.policy_secrets),
        (
            "policy_injection",
            &mut sc.policy_injection,
            bs.policy_injection,
        ),
    ] {
        if *v < w {
            out.push(format!(
                "scanner.{key}: {}",
                v.map_or("unset", |a: Action| a.as_str())
            ));
        }
        *v = w;
    }
    for (key, v, w) in [
        ("min_confidence", &mut sc.min_confidence, bs.min_confidence),
        (
            "injection_flag_score",
            &mut sc.injection_flag_score,
            bs.injection_flag_score,
        ),
        (
            "injection_reject_score",
            &mut sc.injection_reject_score,
            bs.injection_reject_score,
        ),
        (
            "classifier_threshold",
            &mut sc.classifier_threshold,
            bs.classifier_threshold,
        ),
    ] {
        // f32 as stored: 0.81 written in a file is not above the model's 0.8099997.
        if v.unwrap_or(0.0) > w.unwrap_or(0.0) + 1e-4 {
            out.push(format!("scanner.{key}: {}", v.unwrap_or(0.0)));
        }
        *v = w;
    }
    let scope = |v: &Option<String>| match v.as_deref().and_then(|s| s.parse::<DeepScan>().ok()) {
        Some(DeepScan::Off) => 0,
        Some(DeepScan::All) => 2,
        _ => 1,
    };
    if scope(&sc.deep_scan) < scope(&bs.deep_scan) {
        out.push(format!(
            "scanner.deep_scan: {}",
            sc.deep_scan.as_deref().unwrap_or_default()
        ));
    }
    sc.deep_scan = bs.deep_scan.clone();
    for (key, v, w) in [
        (
            "scanner.scan_tool_arguments",
            &mut sc.scan_tool_arguments,
            bs.scan_tool_arguments,
        ),
        (
            "scanner.scan_tool_responses",
            &mut sc.scan_tool_responses,
            bs.scan_tool_responses,
        ),
    ] {
        if *v < w {
            out.push(format!("{key}: false"));
        }
        *v = w;
    }
    let (a, ba) = (&mut c.audit, &b.audit);
    let (i, bi) = (&mut c.integrity, &b.integrity);
    for (key, v, w) in [
        ("audit.enabled", &mut a.enabled, ba.enabled),
        ("audit.fail_closed", &mut a.fail_closed, ba.fail_closed),
        (
            "audit.log_tool_arguments",
            &mut a.log_tool_arguments,
            ba.log_tool_arguments,
        ),
        (
            "audit.log_tool_responses",
            &mut a.log_tool_responses,
            ba.log_tool_responses,
        ),
        ("integrity.enabled", &mut i.enabled, bi.enabled),
        (
            "integrity.alert_on_change",
            &mut i.alert_on_change,
            bi.alert_on_change,
        ),
        (
            "integrity.block_on_change",
            &mut i.block_on_change,
            bi.block_on_change,
        ),
        (
            "rate_limit.enabled",
            &mut c.rate_limit.enabled,
            b.rate_limit.enabled,
        ),
    ] {
        if w && !*v {
            out.push(format!("{key}: false"));
        }
        *v = w;
    }
    let (rl, brl) = (&mut c.rate_limit, &b.rate_limit);
    for (key, v, w) in [
        (
            "default_per_minute",
            &mut rl.default_per_minute,
            brl.default_per_minute,
        ),
        (
            "default_per_hour",
            &mut rl.default_per_hour,
            brl.default_per_hour,
        ),
    ] {
        if *v > w {
            out.push(format!("rate_limit.{key}: {v}"));
        }
        *v = w;
    }
    if rl.burst.unwrap_or(u32::MAX) > brl.burst.unwrap_or(u32::MAX) {
        out.push("rate_limit.burst (higher)".into());
    }
    rl.burst = brl.burst;
    let verbosity = |l: &Option<String>| match l.as_deref().unwrap_or("info") {
        "trace" => 0,
        "debug" => 1,
        "info" => 2,
        "warn" => 3,
        _ => 4,
    };
    if verbosity(&c.log_level) > verbosity(&b.log_level) {
        // Warnings (a changed tool list, a refused pin file) would no longer be shown.
        out.push("log_level (quieter)".into());
    }
    c.log_level = b.log_level.clone();
    c.proxy = b.proxy.clone();
}

/// `config` with every unset setting written out as what it means, so that a file that spells
/// out a default (the `init` template) compares equal to one that leaves it out.
fn effective(config: &Config) -> Config {
    let defaults = parapet_engine::Policy::default();
    let engine = parapet_engine::ScannerConfig::default();
    let scores = config.scanner.injection_scores();
    let model = parapet_engine::classify::Classifier::builtin().map_or(0.0, |c| c.threshold);
    let mut c = Config {
        server_name: Some(
            config
                .server_name
                .clone()
                .unwrap_or_else(|| "default".into()),
        ),
        log_level: Some(
            config
                .log_level
                .as_deref()
                .and_then(|l| crate::config::check_log_level(l).ok())
                .unwrap_or("info")
                .to_string(),
        ),
        ..config.clone()
    };
    let sc = &mut c.scanner;
    sc.policy_pii = Some(sc.policy_pii.unwrap_or(defaults.pii));
    sc.policy_secrets = Some(sc.policy_secrets.unwrap_or(defaults.secret));
    sc.policy_injection = Some(sc.policy_injection.unwrap_or(defaults.injection));
    sc.content_max_length = Some(sc.content_max_length.unwrap_or(engine.max_bytes));
    sc.min_confidence = Some(sc.min_confidence.unwrap_or(engine.min_confidence));
    sc.injection_flag_score = Some(scores.flag);
    sc.injection_reject_score = Some(scores.reject);
    sc.classifier_threshold = Some(sc.classifier_threshold.unwrap_or(model));
    let scope = sc
        .deep_scan
        .as_deref()
        .and_then(|s| s.parse::<DeepScan>().ok())
        .unwrap_or_default();
    sc.deep_scan = Some(
        match scope {
            DeepScan::Off => "off",
            DeepScan::Messages => "messages",
            DeepScan::All => "all",
        }
        .to_string(),
    );
    sc.scan_tool_arguments = Some(sc.scan_tool_arguments.unwrap_or(true));
    sc.scan_tool_responses = Some(sc.scan_tool_responses.unwrap_or(true));
    // Accepted for the reference's sake and ignored: no setting.
    sc.metadata_max_value_length = None;
    sc.metadata_max_depth = None;
    sc.metadata_max_keys = None;
    c
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
        assert_eq!(relaxed(crate::template::TEMPLATE), Vec::<String>::new());
        let tighter = "log_level: debug\nscanner:\n  policy_pii: redact\n  min_confidence: 0.3\n  classifier_threshold: 0.81\n  deep_scan: all\naudit:\n  log_tool_responses: true\nintegrity:\n  block_on_change: true\nrate_limit:\n  default_per_minute: 10\n  burst: 5\nproxy:\n  shutdown_grace_ms: 500\n";
        assert_eq!(relaxed(tighter), Vec::<String>::new());
    }

    #[test]
    fn weaker_or_other_settings_are_named() {
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
                "scanner:\n  min_confidence: 0.9\n",
                "scanner.min_confidence: 0.9",
            ),
            ("scanner:\n  deep_scan: None\n", "scanner.deep_scan: off"),
            (
                "scanner:\n  classifier_threshold: 0.99\n",
                "scanner.classifier_threshold: 0.99",
            ),
            (
                "scanner:\n  scan_tool_responses: false\n",
                "scanner.scan_tool_responses: false",
            ),
            ("audit:\n  enabled: false\n", "audit.enabled: false"),
            (
                "audit:\n  log_tool_arguments: false\n",
                "audit.log_tool_arguments: false",
            ),
            (
                "integrity:\n  alert_on_change: false\n",
                "integrity.alert_on_change: false",
            ),
            (
                "rate_limit:\n  enabled: false\n",
                "rate_limit.enabled: false",
            ),
            (
                "rate_limit:\n  default_per_hour: 100000\n",
                "rate_limit.default_per_hour: 100000",
            ),
            ("log_level: error\n", "log_level (quieter)"),
            // Not on the list at all, whichever way they go.
            (
                "scanner:\n  policy_kinds:\n    email: reject\n",
                "scanner.policy_kinds (changed)",
            ),
            (
                "scanner:\n  rules_files: [x.toml]\n",
                "scanner.rules_files (changed)",
            ),
            (
                "scanner:\n  disabled_rules: [github.ghp]\n",
                "scanner.disabled_rules (changed)",
            ),
            (
                "scanner:\n  allow_rules: [github.ghp]\n",
                "scanner.allow_rules (changed)",
            ),
            (
                "scanner:\n  content_max_length: 4096\n",
                "scanner.content_max_length (changed)",
            ),
            (
                "audit:\n  log_file: ../.bashrc\n",
                "audit.log_file (changed)",
            ),
            (
                "integrity:\n  manifest_dir: pins\n",
                "integrity.manifest_dir (changed)",
            ),
            ("server_name: fresh\n", "server_name (changed)"),
            (
                "servers:\n  fs:\n    trust_level: basic\n",
                "servers.fs (changed)",
            ),
        ];
        for (yaml, expected) in cases {
            let got = relaxed(yaml);
            assert!(got.iter().any(|r| r == expected), "{yaml:?}: {got:?}");
        }
        // A key is never shown.
        let got = relaxed("integrity:\n  signing_key: hunter2-but-longer-than-that\n");
        assert_eq!(got, ["integrity.signing_key (changed)"]);
    }

    #[test]
    fn the_base_is_the_user_s_own_config() {
        let home = "scanner:\n  policy_secrets: reject\n  rules_files: [mine.toml]\nintegrity:\n  block_on_change: true\nservers:\n  t:\n    blocked_tools: [echo]\n";
        let base = Config::parse(home).unwrap();
        assert!(relaxations(&Config::parse(home).unwrap(), &base).is_empty());
        for (project, expected) in [
            // Undone, or unset (`~` falls back to the default), or moved to another level.
            (
                "scanner:\n  policy_secrets: redact\n",
                "scanner.policy_secrets: redact",
            ),
            (
                "integrity:\n  block_on_change: false\n",
                "integrity.block_on_change: false",
            ),
            (
                "servers:\n  t:\n    blocked_tools: []\n",
                "servers.t (changed)",
            ),
            (
                "scanner:\n  rules_files: []\n",
                "scanner.rules_files (changed)",
            ),
            (
                "servers:\n  default:\n    policy_secrets: redact\n",
                "servers.default (changed)",
            ),
        ] {
            // The project's file laid over the user's: the sections the project names replace
            // the base's keys one by one, as Config::load merges them.
            let mut merged: serde_yaml_ng::Value = serde_yaml_ng::from_str(home).unwrap();
            let over: serde_yaml_ng::Value = serde_yaml_ng::from_str(project).unwrap();
            merged = crate::config::merge(merged, over);
            let config: Config = serde_yaml_ng::from_value(merged).unwrap();
            let got = relaxations(&config, &base);
            assert!(got.iter().any(|r| r == expected), "{project:?}: {got:?}");
        }
        // Unsetting a policy the user set is weaker too.
        let mut unset = base.scanner.clone();
        unset.policy_secrets = None;
        let config = Config {
            scanner: unset,
            ..Config::parse(home).unwrap()
        };
        assert_eq!(
            relaxations(&config, &base),
            ["scanner.policy_secrets: redact"]
        );
    }
}
