//! The commented config `mcp-parapet init` writes. Every key the reference had, with our defaults.

pub const TEMPLATE: &str = r#"# mcp-parapet configuration. Found as ./parapet.yaml (or -c FILE, or PARAPET_CONFIG).
# Unknown keys are errors. Environment variables win over this file:
# PARAPET_POLICY_PII / _SECRETS / _INJECTION, PARAPET_AUDIT_FILE, PARAPET_SIGNING_KEY,
# PARAPET_LOG_LEVEL.

# Name used in audit lines and pin files when `wrap --name` is not given.
server_name: default
log_level: info

scanner:
  # flag | redact | reject for each category (validation failures always reject).
  policy_pii: flag
  policy_secrets: redact
  policy_injection: reject
  # Per-kind overrides (they replace the category's policy for that kind). Payment cards are
  # PII but redacted unless policy_pii is stricter or a kind override says otherwise.
  policy_kinds: {}
  # Byte cap per message (64 MiB). Larger requests get an error; larger notifications are dropped.
  content_max_length: 67108864
  min_confidence: 0.5
  # Deep scan: the local injection classifier (no network) and decoding of base64, hex, percent,
  # HTML and \u escapes. off | messages | all (all also covers log bytes; slower).
  # classifier_threshold overrides the probability the classifier was tuned for.
  deep_scan: messages
  # Injection findings of one text are combined into one score (rules, classifier, hidden
  # characters, encodings, an order aimed at a secret). From injection_reject_score up
  # policy_injection applies; from injection_flag_score up they are flagged; below, dropped.
  injection_flag_score: 0.5
  injection_reject_score: 0.5
  scan_tool_arguments: true
  scan_tool_responses: true
  # Your own rule files (same TOML format as the built-in rules) and rules to switch off.
  rules_files: []
  disabled_rules: []
  # Accepted findings: rule ids, or fingerprints as printed by `mcp-parapet scan`.
  allow_rules: []
  allow_fingerprints: []

audit:
  enabled: true
  # Default: $XDG_STATE_HOME/mcp-parapet/audit.jsonl (~/.local/state/...).
  # log_file: /var/log/mcp-parapet/audit.jsonl
  # Arguments are logged with every detection redacted.
  log_tool_arguments: true
  # Results too, redacted the same way (larger trails).
  log_tool_responses: false
  max_file_size_mb: 100
  # Refuse requests when the audit trail cannot be written.
  fail_closed: true

integrity:
  enabled: true
  # HMAC key for pins and the audit chain; prefer PARAPET_SIGNING_KEY.
  signing_key: ""
  # Default: $XDG_STATE_HOME/mcp-parapet/manifests
  # manifest_dir: /var/lib/mcp-parapet/manifests
  # Say on stderr when a server's tool list changed (always recorded in the audit trail).
  alert_on_change: true
  # Withhold changed and new tools until `mcp-parapet approve --name NAME`.
  block_on_change: false

rate_limit:
  enabled: true
  # Per tool. The burst (default: the per-minute figure) may be used at once.
  default_per_minute: 60
  default_per_hour: 1000
  # burst: 60

proxy:
  shutdown_grace_ms: 2000
  # Answer refused tools/call as a tool result with isError: true instead of a JSON-RPC error.
  refuse_as_tool_error: false

# Per-server settings, keyed by `wrap --name`.
# servers:
#   filesystem:
#     trust_level: verified      # none | basic | verified | trusted | privileged
#     allowed_tools: ["read_*", "list_*"]
#     blocked_tools: ["*delete*"]
#     max_calls_per_minute: 120  # per tool
#     server_calls_per_minute: 600
#     policy_pii: redact
#     allow_rules: []
#     tools:
#       move_file:
#         class: destructive     # read | write | destructive | admin
#         max_calls_per_minute: 10
"#;
