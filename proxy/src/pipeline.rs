//! classify → pipeline: what happens to each message. Client → server: trust, allow/block lists,
//! rate limit, then a content scan of the params (redacted params are what the server gets).
//! Server → client: every result, error and request is scanned; `tools/list` results are also
//! checked for tool poisoning and against the manifest pins. Unchanged messages go on byte for
//! byte; refusals keep the reference's JSON-RPC codes and add `data.reason`.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use parapet_engine::{Action, Category, Detection, Scanner, Verdict};
use serde_json::{json, value::RawValue, Value};

use crate::audit::Audit;
use crate::config::{Overrides, ServerSection, ToolClass};
use crate::integrity::Integrity;
use crate::message::{self, Envelope, Kind, Parsed};
use crate::ratelimit::RateLimits;
use crate::trust::{self, Trust};

/// What to do with one frame: send `forward` on in its direction, `reply` back to its sender.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub forward: Option<Vec<u8>>,
    pub reply: Option<Vec<u8>>,
}

impl Outcome {
    fn forward(bytes: Vec<u8>) -> Self {
        Outcome {
            forward: Some(bytes),
            reply: None,
        }
    }
    fn reply(bytes: Vec<u8>) -> Self {
        Outcome {
            forward: None,
            reply: Some(bytes),
        }
    }
    fn drop() -> Self {
        Outcome::default()
    }
}

/// The params the pipeline reads; `arguments` stays a raw slice of the line so a redaction can
/// be spliced back in place. A duplicate key is an error.
#[derive(serde::Deserialize)]
struct CallParams<'a> {
    #[serde(borrow, default)]
    name: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    arguments: Option<&'a RawValue>,
    #[serde(borrow, default)]
    cursor: Option<&'a RawValue>,
}

#[derive(Debug, Clone)]
enum Pending {
    ToolCall(String),
    ToolsList { first_page: bool },
    Other(String),
}

pub struct Settings {
    pub server_name: String,
    pub server: ServerSection,
    pub scan_tool_arguments: bool,
    pub scan_tool_responses: bool,
    pub refuse_as_tool_error: bool,
    pub log_tool_arguments: bool,
    pub fail_closed: bool,
}

pub struct Pipeline {
    scanner: Arc<Scanner>,
    settings: Settings,
    trust: Mutex<Trust>,
    rate: RateLimits,
    integrity: Option<Mutex<Integrity>>,
    /// Tools withheld from the client: poisoned descriptions, or changed under block_on_change.
    withheld: Mutex<HashMap<String, String>>,
    audit: Audit,
    pending: Mutex<HashMap<String, Pending>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Detections as the audit trail and stderr show them: never the matched bytes.
pub fn describe(detections: &[Detection]) -> Value {
    Value::Array(
        detections
            .iter()
            .map(|d| {
                json!({
                    "type": d.kind, "category": d.category.as_str(), "rule": d.rule_id,
                    "confidence": (d.confidence * 100.0).round() / 100.0,
                    "pointer": d.pointer, "span": [d.span.0, d.span.1],
                    "fingerprint": d.fingerprint, "action": d.action.as_str(),
                })
            })
            .collect(),
    )
}

fn override_action(o: &Overrides, d: &Detection) -> Option<Action> {
    if let Some(a) = o.policy_kinds.get(&d.kind) {
        return Some(*a);
    }
    match d.category {
        Category::Pii => o.policy_pii,
        Category::Secret => o.policy_secrets,
        Category::Injection => o.policy_injection,
        Category::Validation => None,
    }
}

fn allowed_by(o: &Overrides, d: &Detection) -> bool {
    o.allow_rules.contains(&d.rule_id) || o.allow_fingerprints.contains(&d.fingerprint)
}

/// A JSON-RPC id as the audit trail shows it: the reference's `str(id)` (a string id without
/// its quotes, a number as written; id 0 is kept).
fn audit_id<S: AsRef<str>>(id: Option<S>) -> Value {
    match id {
        Some(id) => {
            let id = id.as_ref();
            match serde_json::from_str::<Value>(id) {
                Ok(Value::String(s)) => Value::String(s),
                _ => Value::String(id.to_string()),
            }
        }
        None => Value::Null,
    }
}

/// Longest string kept whole in logged arguments (the reference's figure).
const LOGGED_STRING_MAX: usize = 500;

/// Cuts long strings in logged arguments, at any depth: `…[truncated, N bytes]`.
fn truncate_strings(v: &mut Value) {
    match v {
        Value::String(s) if s.len() > LOGGED_STRING_MAX => {
            let mut cut = LOGGED_STRING_MAX;
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            let total = s.len();
            s.truncate(cut);
            s.push_str(&format!("…[truncated, {total} bytes]"));
        }
        Value::Array(a) => a.iter_mut().for_each(truncate_strings),
        Value::Object(o) => o.values_mut().for_each(truncate_strings),
        _ => {}
    }
}

/// Requests awaiting an answer are forgotten past this many (a peer that never answers must
/// not grow the proxy without bound).
const MAX_PENDING: usize = 65_536;

fn direction_name(from_client: bool) -> &'static str {
    if from_client {
        "request"
    } else {
        "response"
    }
}

impl Pipeline {
    pub fn new(
        scanner: Arc<Scanner>,
        settings: Settings,
        rate: RateLimits,
        integrity: Option<Integrity>,
        audit: Audit,
    ) -> Self {
        Pipeline {
            trust: Mutex::new(Trust::new(&settings.server)),
            scanner,
            rate,
            integrity: integrity.map(Mutex::new),
            withheld: Mutex::new(HashMap::new()),
            audit,
            pending: Mutex::new(HashMap::new()),
            settings,
        }
    }

    fn remember(&self, id: String, what: Pending) {
        let mut pending = lock(&self.pending);
        if pending.len() >= MAX_PENDING {
            tracing::warn!("{MAX_PENDING} requests without an answer: forgetting them");
            pending.clear();
        }
        pending.insert(id, what);
    }

    pub fn audit(&self) -> &Audit {
        &self.audit
    }

    pub fn scanner(&self) -> &Scanner {
        &self.scanner
    }

    /// Scans JSON and applies the server's and the tool's overrides and allowlists.
    fn judge_json(&self, bytes: &[u8], tool: Option<&str>) -> Verdict {
        let verdict = self.scanner.scan_json(bytes).unwrap_or_else(|e| {
            tracing::warn!("scan failed ({e}); treating the message as text");
            self.scanner.scan_bytes(bytes).unwrap_or_default()
        });
        self.apply_overrides(verdict, tool)
    }

    fn judge_text(&self, bytes: &[u8]) -> Verdict {
        let verdict = self.scanner.scan_bytes(bytes).unwrap_or_default();
        self.apply_overrides(verdict, None)
    }

    fn apply_overrides(&self, verdict: Verdict, tool: Option<&str>) -> Verdict {
        let server = &self.settings.server.overrides;
        let tool_o = tool
            .and_then(|t| self.settings.server.tools.get(t))
            .map(|t| &t.overrides);
        if verdict.detections.is_empty() {
            return verdict;
        }
        let detections = verdict
            .detections
            .into_iter()
            .filter(|d| !allowed_by(server, d) && !tool_o.is_some_and(|o| allowed_by(o, d)))
            .map(|mut d| {
                if let Some(a) = tool_o
                    .and_then(|o| override_action(o, &d))
                    .or_else(|| override_action(server, &d))
                {
                    d.action = a;
                }
                d
            })
            .filter(|d| d.action != Action::Allow)
            .collect();
        Verdict::from_detections(detections)
    }

    fn refuse(&self, id: &str, code: i64, message: &str, reason: &str, tool_call: bool) -> Vec<u8> {
        if tool_call && self.settings.refuse_as_tool_error {
            return message::tool_error_result(id, &format!("{message} ({reason})"));
        }
        message::error_response(id, code, message, json!({ "reason": reason }))
    }

    /// One frame from the client.
    pub fn from_client(&self, line: &[u8]) -> Outcome {
        self.frame(line, true)
    }

    /// One frame from the server.
    pub fn from_server(&self, line: &[u8]) -> Outcome {
        self.frame(line, false)
    }

    fn frame(&self, line: &[u8], from_client: bool) -> Outcome {
        match message::parse(line) {
            Parsed::Batch(items) => self.batch(line, &items, from_client),
            other => self.single(line, other, from_client),
        }
    }

    /// One message; a batch inside a batch is not JSON-RPC and is scanned whole, so nesting
    /// never recurses here.
    fn single(&self, line: &[u8], parsed: Parsed, from_client: bool) -> Outcome {
        match parsed {
            Parsed::Object(env) => {
                if from_client {
                    self.client_message(line, &env)
                } else {
                    self.server_message(line, &env)
                }
            }
            Parsed::Batch(_) => self.whole_message(line, from_client),
            Parsed::OtherJson | Parsed::NotJson => self.text_line(line, from_client),
        }
    }

    /// Each element goes through the pipeline alone; the batch is forwarded unchanged when
    /// every element is, else as a batch of what may pass, and refusals go back as a batch.
    fn batch(&self, line: &[u8], items: &[&RawValue], from_client: bool) -> Outcome {
        let mut forward = Vec::new();
        let mut replies = Vec::new();
        let mut changed = false;
        for item in items {
            let bytes = item.get().as_bytes();
            let out = self.single(bytes, message::parse(bytes), from_client);
            changed |= out.forward.as_deref() != Some(bytes);
            forward.extend(out.forward);
            replies.extend(out.reply);
        }
        let join = |parts: Vec<Vec<u8>>| {
            (!parts.is_empty()).then(|| {
                let mut v = b"[".to_vec();
                v.extend(parts.join(&b","[..]));
                v.push(b']');
                v
            })
        };
        Outcome {
            forward: if changed {
                join(forward)
            } else {
                Some(line.to_vec())
            },
            reply: join(replies),
        }
    }

    /// A line that is not a JSON-RPC object: scanned as text, dropped if the policy rejects.
    fn text_line(&self, line: &[u8], from_client: bool) -> Outcome {
        let v = self.judge_text(line);
        match v.action {
            Action::Reject => {
                self.audit.record(
                    "content_rejected",
                    vec![
                        ("direction", json!(direction_name(from_client))),
                        ("verdict", json!("reject")),
                        ("detections", describe(&v.detections)),
                        ("metadata", json!({"reason": "non-JSON-RPC line dropped"})),
                    ],
                );
                tracing::warn!("dropped a non-JSON-RPC line: {}", v.flags.join(", "));
                Outcome::drop()
            }
            Action::Redact => Outcome::forward(self.scanner.redact_text(line, &v)),
            _ => Outcome::forward(line.to_vec()),
        }
    }

    /// A JSON object that is neither request, notification nor response: scanned whole.
    fn whole_message(&self, line: &[u8], from_client: bool) -> Outcome {
        let v = self.judge_json(line, None);
        match v.action {
            Action::Reject => {
                self.audit.record(
                    "content_rejected",
                    vec![
                        ("direction", json!(direction_name(from_client))),
                        ("verdict", json!("reject")),
                        ("detections", describe(&v.detections)),
                    ],
                );
                Outcome::drop()
            }
            Action::Redact => Outcome::forward(self.scanner.redact_json(line, &v)),
            _ => Outcome::forward(line.to_vec()),
        }
    }

    fn audit_fail_closed(&self) -> bool {
        self.settings.fail_closed && self.audit.has_failed()
    }

    fn client_message(&self, line: &[u8], env: &Envelope) -> Outcome {
        match env.kind() {
            Kind::Request => self.client_request(line, env),
            Kind::Notification => self.scan_part(line, env.params, None, true, None),
            Kind::Response => {
                let part = env.result.or(env.error);
                self.scan_part(line, part, None, true, env.id_text())
            }
            Kind::Other => self.whole_message(line, true),
        }
    }

    fn client_request(&self, line: &[u8], env: &Envelope) -> Outcome {
        let id = env.id_text().unwrap_or("null").to_string();
        let method = env.method.clone().unwrap_or_default();
        if self.audit_fail_closed() {
            tracing::error!(
                "refusing {method}: the audit trail cannot be written (audit.fail_closed)"
            );
            return Outcome::reply(message::error_response(
                &id,
                -32603,
                "Request refused: audit trail unavailable",
                json!({"reason": "audit_unavailable"}),
            ));
        }
        let params = env
            .params
            .map(|p| serde_json::from_str::<CallParams>(p.get()))
            .transpose();
        let pending = match method.as_str() {
            "tools/call" => {
                // A call must name its tool with one string: anything else could be read one
                // way here and another way by the server.
                let Ok(Some(CallParams {
                    name: Some(name),
                    arguments,
                    ..
                })) = params
                else {
                    return Outcome::reply(message::error_response(
                        &id,
                        message::INVALID_PARAMS,
                        "Invalid params: tools/call needs one string `name`",
                        json!({"reason": "invalid_params"}),
                    ));
                };
                return self.tool_call(line, &id, name.into_owned(), arguments);
            }
            "tools/list" => Pending::ToolsList {
                first_page: params.ok().flatten().is_none_or(|p| p.cursor.is_none()),
            },
            "resources/read" | "prompts/get" | "completion/complete" => {
                let (check, level) = {
                    let t = lock(&self.trust);
                    (t.check_class(ToolClass::Read), trust::level_name(t.level()))
                };
                if let Err(d) = check {
                    self.audit.record(
                        "request_blocked",
                        vec![
                            ("direction", json!("request")),
                            ("verdict", json!("reject")),
                            ("message_id", audit_id(Some(&id))),
                            ("metadata", json!({"method": method, "reason": format!("trust_level={level}: {}", d.reason())})),
                        ],
                    );
                    tracing::warn!("refused {method}: {}", d.reason());
                    return Outcome::reply(self.refuse(
                        &id,
                        message::TRUST_DENIED,
                        &format!("Request blocked by trust policy (level={level})"),
                        "trust",
                        false,
                    ));
                }
                Pending::Other(method.clone())
            }
            _ => Pending::Other(method.clone()),
        };
        let out = self.scan_part(line, env.params, None, true, Some(&id));
        if out.forward.is_some() {
            self.remember(id, pending);
        }
        out
    }

    fn tool_call(
        &self,
        line: &[u8],
        id: &str,
        name: String,
        arguments: Option<&RawValue>,
    ) -> Outcome {
        let level = lock(&self.trust).level();
        let blocked = |reason: String, detections: Value| {
            self.audit.record(
                "tool_call_blocked",
                vec![
                    ("tool_name", json!(name)),
                    ("direction", json!("request")),
                    ("verdict", json!("reject")),
                    ("detections", detections),
                    ("message_id", audit_id(Some(&id))),
                    ("metadata", json!({"reason": reason})),
                ],
            );
            tracing::warn!("refused tools/call {name}: {reason}");
        };
        let check = lock(&self.trust).check_tool(&name);
        if let Err(d) = check {
            blocked(
                format!("trust_level={}: {}", trust::level_name(level), d.reason()),
                Value::Null,
            );
            return Outcome::reply(self.refuse(
                id,
                message::TRUST_DENIED,
                &format!(
                    "Tool call blocked by trust policy (level={})",
                    trust::level_name(level)
                ),
                "trust",
                true,
            ));
        }
        let withheld = lock(&self.withheld).get(&name).cloned();
        if let Some(why) = withheld {
            blocked(format!("tool withheld: {why}"), Value::Null);
            return Outcome::reply(self.refuse(
                id,
                message::TRUST_DENIED,
                "Tool call blocked: tool withheld by integrity policy",
                "tool_withheld",
                true,
            ));
        }
        if let Err(l) = self.rate.check(&name) {
            let secs = l.retry_after_secs();
            self.audit.record(
                "rate_limit_hit",
                vec![
                    ("tool_name", json!(name)),
                    ("message_id", audit_id(Some(&id))),
                    (
                        "metadata",
                        json!({"tool_name": name, "limit": l.limit, "retry_after": secs}),
                    ),
                ],
            );
            tracing::warn!("rate limit ({}) for {name}: retry after {secs}s", l.limit);
            if self.settings.refuse_as_tool_error {
                return Outcome::reply(message::tool_error_result(
                    id,
                    &format!("Rate limit exceeded for {name}; retry after {secs} s"),
                ));
            }
            return Outcome::reply(message::error_response(
                id,
                message::RATE_LIMITED,
                &format!("Rate limit exceeded for {name}"),
                json!({"reason": "rate_limit", "limit": l.limit, "retry_after": secs}),
            ));
        }
        let (verdict, forward) = match arguments {
            Some(args) if self.settings.scan_tool_arguments => {
                let v = self.judge_json(args.get().as_bytes(), Some(&name));
                let fwd = if v.action == Action::Redact {
                    let red = self.scanner.redact_json(args.get().as_bytes(), &v);
                    message::splice(line, args, &red)
                } else {
                    line.to_vec()
                };
                (v, fwd)
            }
            _ => (Verdict::default(), line.to_vec()),
        };
        if verdict.action == Action::Reject {
            blocked(
                format!("content_scan:{}", verdict.flags.join(",")),
                describe(&verdict.detections),
            );
            return Outcome::reply(self.refuse(
                id,
                message::REQUEST_CONTENT,
                "Tool call blocked by content security (reject)",
                "content",
                true,
            ));
        }
        let mut fields = vec![
            ("tool_name", json!(name)),
            ("direction", json!("request")),
            ("verdict", json!(verdict.action.as_str())),
            ("detections", describe(&verdict.detections)),
            ("message_id", audit_id(Some(&id))),
        ];
        if self.settings.log_tool_arguments {
            if let Some(args) = arguments {
                // Every detection redacted, whatever its policy: the trail never holds a secret.
                let mut all = verdict.clone();
                for d in &mut all.detections {
                    d.action = Action::Redact;
                }
                let red = self.scanner.redact_json(args.get().as_bytes(), &all);
                let mut value: Value = serde_json::from_slice(&red).unwrap_or(Value::Null);
                truncate_strings(&mut value);
                fields.push(("metadata", json!({ "arguments": value })));
            }
        }
        self.audit.record("tool_call_request", fields);
        if verdict.action == Action::Redact {
            self.audit.record(
                "content_redacted",
                vec![
                    ("tool_name", json!(name)),
                    ("direction", json!("request")),
                    ("message_id", audit_id(Some(&id))),
                    ("detections", describe(&verdict.detections)),
                ],
            );
        }
        self.remember(id.to_string(), Pending::ToolCall(name));
        Outcome::forward(forward)
    }

    /// Scans one part of a message (params, result, error, or the whole line) and forwards,
    /// redacts in place, or refuses. A refused request from either side is answered with an
    /// error to its sender (`reply_id`); anything else refused is dropped. Never replies to a
    /// notification.
    fn scan_part(
        &self,
        line: &[u8],
        part: Option<&RawValue>,
        tool: Option<&str>,
        from_client: bool,
        reply_id: Option<&str>,
    ) -> Outcome {
        let Some(part) = part else {
            return Outcome::forward(line.to_vec());
        };
        if !from_client && !self.settings.scan_tool_responses && tool.is_some() {
            return Outcome::forward(line.to_vec());
        }
        let v = self.judge_json(part.get().as_bytes(), tool);
        let direction = direction_name(from_client);
        match v.action {
            Action::Reject => {
                self.audit.record(
                    "content_rejected",
                    vec![
                        ("tool_name", json!(tool)),
                        ("direction", json!(direction)),
                        ("verdict", json!("reject")),
                        ("detections", describe(&v.detections)),
                        ("message_id", audit_id(reply_id)),
                        ("metadata", json!({"flags": v.flags})),
                    ],
                );
                tracing::warn!(
                    "{direction} refused by content policy: {}",
                    v.flags.join(", ")
                );
                match reply_id {
                    Some(id) if from_client => Outcome::reply(message::error_response(
                        id,
                        message::REQUEST_CONTENT,
                        "Request blocked by content security (reject)",
                        json!({"reason": "content"}),
                    )),
                    Some(id) => Outcome::reply(message::error_response(
                        id,
                        message::RESPONSE_CONTENT,
                        "Request blocked by content security (reject)",
                        json!({"reason": "content"}),
                    )),
                    None => Outcome::drop(),
                }
            }
            Action::Redact => {
                self.audit.record(
                    "content_redacted",
                    vec![
                        ("tool_name", json!(tool)),
                        ("direction", json!(direction)),
                        ("detections", describe(&v.detections)),
                        ("message_id", audit_id(reply_id)),
                    ],
                );
                let red = self.scanner.redact_json(part.get().as_bytes(), &v);
                Outcome::forward(message::splice(line, part, &red))
            }
            Action::Flag => {
                self.audit.record(
                    "content_flagged",
                    vec![
                        ("tool_name", json!(tool)),
                        ("direction", json!(direction)),
                        ("verdict", json!("flag")),
                        ("detections", describe(&v.detections)),
                        ("message_id", audit_id(reply_id)),
                    ],
                );
                Outcome::forward(line.to_vec())
            }
            Action::Allow => Outcome::forward(line.to_vec()),
        }
    }

    fn server_message(&self, line: &[u8], env: &Envelope) -> Outcome {
        match env.kind() {
            // A server's request (sampling, elicitation, roots): refused ones are answered to
            // the server, not passed on.
            Kind::Request => self.scan_part(line, env.params, None, false, env.id_text()),
            Kind::Notification => self.scan_part(line, env.params, None, false, None),
            Kind::Response => self.server_response(line, env),
            Kind::Other => self.whole_message(line, false),
        }
    }

    fn server_response(&self, line: &[u8], env: &Envelope) -> Outcome {
        let id = env.id_text().unwrap_or("null").to_string();
        let pending = lock(&self.pending).remove(&id);
        let tool = match &pending {
            Some(Pending::ToolCall(t)) => Some(t.as_str()),
            _ => None,
        };
        if let (Some(Pending::ToolsList { first_page }), Some(result)) = (&pending, env.result) {
            // A listing too deep to read as a value is scanned whole below, like any result.
            if let Ok(value) = serde_json::from_str::<Value>(result.get()) {
                return self.tools_list(line, result, value, *first_page);
            }
        }
        let part = env.result.or(env.error);
        let Some(part) = part else {
            return Outcome::forward(line.to_vec());
        };
        if tool.is_some() && !self.settings.scan_tool_responses {
            return Outcome::forward(line.to_vec());
        }
        let v = self.judge_json(part.get().as_bytes(), tool);
        let fields = |v: &Verdict| {
            vec![
                ("tool_name", json!(tool)),
                ("direction", json!("response")),
                ("verdict", json!(v.action.as_str())),
                ("detections", describe(&v.detections)),
                ("message_id", audit_id(Some(&id))),
            ]
        };
        if tool.is_some() {
            self.audit.record("tool_call_response", fields(&v));
        }
        match v.action {
            Action::Reject => {
                let mut f = fields(&v);
                f.push(("metadata", json!({"flags": v.flags})));
                self.audit.record("content_rejected", f);
                let what = match &pending {
                    Some(Pending::ToolCall(t)) => format!(" (tools/call {t})"),
                    Some(Pending::Other(m)) => format!(" ({m})"),
                    _ => String::new(),
                };
                tracing::warn!(
                    "response {id}{what} refused by content policy: {}",
                    v.flags.join(", ")
                );
                let out = self.refuse(
                    &id,
                    message::RESPONSE_CONTENT,
                    "Tool response blocked by content security",
                    "content",
                    tool.is_some(),
                );
                Outcome::forward(out)
            }
            Action::Redact => {
                self.audit.record("content_redacted", fields(&v));
                let red = self.scanner.redact_json(part.get().as_bytes(), &v);
                Outcome::forward(message::splice(line, part, &red))
            }
            Action::Flag if tool.is_none() => {
                self.audit.record("content_flagged", fields(&v));
                Outcome::forward(line.to_vec())
            }
            _ => Outcome::forward(line.to_vec()),
        }
    }

    /// A `tools/list` result: each tool is classified, scanned (a poisoned description or
    /// schema withholds the tool) and checked against the pins.
    fn tools_list(
        &self,
        line: &[u8],
        result: &RawValue,
        mut value: Value,
        first_page: bool,
    ) -> Outcome {
        let last_page = value.get("nextCursor").is_none_or(Value::is_null);
        let Some(tools) = value.get_mut("tools").and_then(Value::as_array_mut) else {
            return Outcome::forward(line.to_vec());
        };
        let mut changed = false;
        let mut withhold: BTreeSet<String> = BTreeSet::new();
        let mut reasons: HashMap<String, String> = HashMap::new();
        for tool in tools.iter_mut() {
            let name = tool
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let bytes = serde_json::to_vec(tool).unwrap_or_default();
            let v = self.judge_json(&bytes, Some(&name));
            match v.action {
                Action::Reject => {
                    self.audit.record(
                        "tool_poisoning",
                        vec![
                            ("tool_name", json!(name)),
                            ("direction", json!("response")),
                            ("verdict", json!("reject")),
                            ("detections", describe(&v.detections)),
                        ],
                    );
                    tracing::warn!(
                        "tool {name:?} withheld: its description or schema failed the content scan ({})",
                        v.flags.join(", ")
                    );
                    reasons.insert(name.clone(), "description failed the content scan".into());
                    withhold.insert(name.clone());
                }
                Action::Redact => {
                    let red = self.scanner.redact_json(&bytes, &v);
                    if let Ok(t) = serde_json::from_slice(&red) {
                        *tool = t;
                        changed = true;
                    }
                }
                _ => {}
            }
            let learned = lock(&self.trust).learn(tool);
            if let Some((n, class, why, new)) = learned {
                let check = lock(&self.trust).check_tool(&n);
                let verdict = match check {
                    Ok(_) => "allowed".to_string(),
                    Err(d) => format!("refused: {}", d.reason()),
                };
                let class = trust::class_name(class);
                if new {
                    tracing::info!("tool {n:?}: class {class} from {why}; {verdict}");
                } else {
                    tracing::debug!("tool {n:?}: class {class} from {why}; {verdict}");
                }
            }
        }
        if let Some(integrity) = &self.integrity {
            let mut integrity = lock(integrity);
            let check = integrity.check_page(tools, first_page, last_page);
            if !check.pinned.is_empty() {
                self.audit.record(
                    "manifest_change",
                    vec![(
                        "metadata",
                        json!({"action": "initial_store", "tools": check.pinned}),
                    )],
                );
                tracing::info!("pinned {} tools on first sight", check.pinned.len());
            }
            let new_names: Vec<String> = check
                .pinned
                .iter()
                .chain(&check.diff.added)
                .cloned()
                .collect();
            for (tool, other) in integrity.shadowed_by(&new_names) {
                self.audit.record(
                    "tool_shadowing",
                    vec![
                        ("tool_name", json!(tool)),
                        ("metadata", json!({"also_on_server": other})),
                    ],
                );
                tracing::warn!(
                    "tool {tool:?} has the same name as a tool of server {other:?} (shadowing)"
                );
            }
            if !check.diff.is_empty() {
                let d = &check.diff;
                self.audit.record(
                    "manifest_change",
                    vec![(
                        "metadata",
                        json!({"action": "change_detected", "diff": {"added": d.added, "removed": d.removed, "modified": d.modified}, "withheld": check.withhold}),
                    )],
                );
                tracing::warn!(
                    "tool manifest changed since it was pinned: added={:?} removed={:?} modified={:?}{}",
                    d.added,
                    d.removed,
                    d.modified,
                    if check.withhold.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "; withheld until `mcp-parapet approve --name {}`",
                            self.settings.server_name
                        )
                    }
                );
            }
            for n in check.withhold {
                reasons.insert(n.clone(), "changed since pinned".into());
                withhold.insert(n);
            }
        }
        {
            let mut w = lock(&self.withheld);
            for n in &withhold {
                w.insert(n.clone(), reasons.get(n).cloned().unwrap_or_default());
            }
        }
        if withhold.is_empty() && !changed {
            return Outcome::forward(line.to_vec());
        }
        tools.retain(|t| !withhold.contains(t.get("name").and_then(Value::as_str).unwrap_or("")));
        let bytes = serde_json::to_vec(&value).unwrap_or_default();
        Outcome::forward(message::splice(line, result, &bytes))
    }
}
