//! classify → pipeline: what happens to each message. Client → server: trust, allow/block lists,
//! rate limit, then a content scan of the params (redacted params are what the server gets).
//! Server → client: every result, error and request is scanned; `tools/list` results are also
//! checked for tool poisoning and against the manifest pins. Unchanged messages go on byte for
//! byte; refusals keep the reference's JSON-RPC codes and add `data.reason`. The two directions
//! live in `client.rs` and `server.rs`; framing of batches, text lines and the scan of one part
//! are here.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use parapet_engine::verdict::with_kind_floor;
use parapet_engine::{Action, Category, Detection, Scanner, Verdict};
use serde_json::{json, value::RawValue, Value};

use crate::audit::Audit;
use crate::config::{Overrides, ServerSection, ToolSection};
use crate::integrity::Integrity;
use crate::message::{self, Envelope, Kind, Parsed};
use crate::ratelimit::RateLimits;
use crate::trust::Trust;

mod client;
mod listing;
mod server;
mod tools_list;

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

/// Where the error for a refused message goes.
#[derive(Clone, Copy, Debug)]
enum Refusal<'a> {
    /// Back to its sender, answering its request `id`.
    Reply(&'a str),
    /// On to the peer whose request `id` it answers, in its place: a refused reply to a
    /// server's request must reach the server, not the client (whose own request may share
    /// the id).
    Onward(&'a str),
    /// Nowhere: a notification is never answered.
    Drop,
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
    /// Log tool results too (`audit.log_tool_responses`), redacted as arguments are.
    pub log_tool_responses: bool,
    /// Say on stderr when a tool manifest changed (`integrity.alert_on_change`); the audit
    /// trail records it either way.
    pub alert_on_change: bool,
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
/// The verdict's combined injection score for the audit trail (two decimals), or null.
pub fn score(v: &Verdict) -> Value {
    v.injection_score.map_or(Value::Null, |s| {
        json!((f64::from(s) * 100.0).round() / 100.0)
    })
}

pub fn describe(detections: &[Detection]) -> Value {
    Value::Array(
        detections
            .iter()
            .map(|d| {
                // `pattern` is the reference's name for what fired (its readers filter on it);
                // confidence rounded as a decimal, not an f32 printed as an f64.
                json!({
                    "type": d.kind, "category": d.category.as_str(), "rule": d.rule_id,
                    "pattern": d.rule_id,
                    "confidence": (f64::from(d.confidence) * 100.0).round() / 100.0,
                    "pointer": d.pointer, "span": [d.span.0, d.span.1],
                    "fingerprint": d.fingerprint, "action": d.action.as_str(),
                })
            })
            .collect(),
    )
}

impl Pipeline {
    /// Why a verdict refused or changed something, for stderr: its flags, the rules that
    /// decided (with the JSON Pointer of what they found) and the setting that would accept
    /// them. Never the matched bytes.
    fn why(&self, v: &Verdict) -> String {
        let mut rules: Vec<String> = Vec::new();
        let mut ids: Vec<&str> = Vec::new();
        for d in v.detections.iter().filter(|d| d.action == v.action) {
            let at = d
                .pointer
                .as_deref()
                .map_or(String::new(), |p| format!(" at {p}"));
            let entry = format!("{}{at}", d.rule_id);
            if !rules.contains(&entry) {
                rules.push(entry);
            }
            if !ids.contains(&d.rule_id.as_str()) && d.category != Category::Validation {
                ids.push(&d.rule_id);
            }
        }
        let mut out = v.flags.join(", ");
        if !rules.is_empty() {
            out.push_str(&format!(" [{}]", rules.join(", ")));
        }
        if !ids.is_empty() {
            out.push_str(&format!(
                "; to accept: `allow_rules: [{}]` under servers.{} in the config",
                ids.join(", "),
                self.settings.server_name
            ));
        }
        out
    }
}

fn override_action(o: Overrides<'_>, d: &Detection) -> Option<Action> {
    if let Some(a) = o.policy_kinds.get(&d.kind) {
        return Some(*a);
    }
    let category = match d.category {
        Category::Pii => o.policy_pii,
        Category::Secret => o.policy_secrets,
        Category::Injection => o.policy_injection,
        Category::Validation => None,
    };
    category.map(|a| with_kind_floor(&d.kind, a))
}

fn allowed_by(o: Overrides<'_>, d: &Detection) -> bool {
    o.allow_rules.contains(&d.rule_id) || o.allow_fingerprints.contains(&d.fingerprint)
}

/// A JSON-RPC id as the audit trail shows it: the reference's `str(id)` (a string id without
/// its quotes, a number as written; id 0 is kept).
pub(crate) fn audit_id<S: AsRef<str>>(id: Option<S>) -> Value {
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

impl Pipeline {
    /// `json` as the audit trail may hold it: every finding redacted whatever its policy
    /// (allowlisted ones too), long strings cut. `scanned`: the verdict the pipeline already
    /// has for these bytes, if it scanned them, used when the policy for `tool` dropped none
    /// of its findings (else they are scanned again, allowlists set aside).
    fn for_the_trail(&self, json: &[u8], scanned: Option<&Verdict>, tool: &str) -> Value {
        let rescanned;
        let all = match scanned.filter(|_| !self.drops_findings(tool)) {
            Some(v) => v,
            None => {
                rescanned = self
                    .scanner
                    .scan_json_ignoring_allowlists(json)
                    .unwrap_or_default();
                &rescanned
            }
        };
        let red = self.scanner.redact_json_all(json, all);
        let mut value: Value = serde_json::from_slice(&red).unwrap_or(Value::Null);
        truncate_strings(&mut value);
        value
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
        // Changes waiting for approve since an earlier session stay withheld until a listing
        // shows those tools as pinned: a call may come before any listing.
        let withheld: HashMap<String, String> = integrity
            .as_ref()
            .map(Integrity::pending_withhold)
            .unwrap_or_default()
            .into_iter()
            .map(|n| (n, "changed since pinned (waiting for approve)".to_string()))
            .collect();
        // Each pinned tool's class is known before any listing: a call may come first.
        let mut trust = Trust::new(&settings.server);
        for tool in integrity.iter().flat_map(Integrity::pinned_tools) {
            trust.learn(tool);
        }
        Pipeline {
            trust: Mutex::new(trust),
            scanner,
            rate,
            integrity: integrity.map(Mutex::new),
            withheld: Mutex::new(withheld),
            audit,
            pending: Mutex::new(HashMap::new()),
            settings,
        }
    }

    fn remember(&self, id: &str, what: Pending) {
        let mut pending = lock(&self.pending);
        if pending.len() >= MAX_PENDING {
            tracing::warn!("{MAX_PENDING} requests without an answer: forgetting them");
            pending.clear();
        }
        pending.insert(message::id_key(id), what);
    }

    /// Whether a request with this id (its value: `2` and `2.0` are one id, `"2"` another) is
    /// still waiting for its answer.
    fn is_pending(&self, id: &str) -> bool {
        lock(&self.pending).contains_key(&message::id_key(id))
    }

    /// The request that `id` (an answer's id, as written) answers, forgotten from then on: the
    /// one with the same id, else one whose id a JavaScript client would read the same way.
    fn answered(&self, id: &str) -> Option<Pending> {
        let mut pending = lock(&self.pending);
        if let Some(p) = pending.remove(&message::id_key(id)) {
            return Some(p);
        }
        let js = message::id_key_js(id);
        let key = pending
            .keys()
            .find(|k| message::id_key_js(k) == js)
            .cloned()?;
        pending.remove(&key)
    }

    /// Forgets the request an answer too large to read was for (it is answered with an error).
    pub fn forget_request(&self, id: &str) {
        let _ = self.answered(id);
    }

    /// Forgets a request the client cancelled (`notifications/cancelled`): its server need not
    /// answer it, and it must not fill the table.
    fn cancelled(&self, params: Option<&RawValue>) {
        let id = params
            .and_then(|p| serde_json::from_str::<Value>(p.get()).ok())
            .and_then(|v| v.get("requestId").map(Value::to_string));
        if let Some(id) = id {
            lock(&self.pending).remove(&message::id_key(&id));
        }
    }

    pub fn audit(&self) -> &Audit {
        &self.audit
    }

    pub fn scanner(&self) -> &Scanner {
        &self.scanner
    }

    /// Scans JSON and applies the server's and the tool's overrides and allowlists.
    fn judge_json(&self, bytes: &[u8], tool: Option<&str>) -> Verdict {
        self.judge_json_as(bytes, tool, false)
    }

    /// [`Pipeline::judge_json`] of definitions the server lists (tools, prompts, resources):
    /// written for the model, so what speaks to the model counts for less there
    /// ([`Scanner::scan_definition_json_allowing`]).
    fn judge_definition(&self, bytes: &[u8], tool: Option<&str>) -> Verdict {
        self.judge_json_as(bytes, tool, true)
    }

    fn judge_json_as(&self, bytes: &[u8], tool: Option<&str>, definition: bool) -> Verdict {
        // The server's and the tool's allowlists go to the engine, which drops their findings
        // before resolving overlaps (one allowlisted finding must not take another with it).
        let (server, tool_o) = self.overrides_for(tool);
        let both = || std::iter::once(server).chain(tool_o);
        let (rules, fingerprints) = (
            both().flat_map(|o| o.allow_rules),
            both().flat_map(|o| o.allow_fingerprints),
        );
        let scanned = if definition {
            self.scanner
                .scan_definition_json_allowing(bytes, rules, fingerprints)
        } else {
            self.scanner.scan_json_allowing(bytes, rules, fingerprints)
        };
        match scanned {
            Ok(verdict) => self.apply_overrides(verdict, tool),
            Err(e) => {
                // Scanned as text instead; but a text finding cannot be redacted in place in
                // the JSON, so whatever is found refuses the message (never passed on as if
                // redacted, nor logged).
                tracing::warn!("JSON scan failed ({e}); scanning the message as text");
                let text = self.scanner.scan_bytes(bytes).unwrap_or_default();
                let mut v = self.apply_overrides(text, tool);
                if v.detections.is_empty() {
                    return v;
                }
                for d in &mut v.detections {
                    d.action = Action::Reject;
                }
                let score = v.injection_score;
                Verdict::from_detections(v.detections).with_injection_score(score)
            }
        }
    }

    fn judge_text(&self, bytes: &[u8]) -> Verdict {
        let verdict = self.scanner.scan_bytes(bytes).unwrap_or_default();
        self.apply_overrides(verdict, None)
    }

    /// The server's overrides, and the tool's when it has a section.
    fn overrides_for(&self, tool: Option<&str>) -> (Overrides<'_>, Option<Overrides<'_>>) {
        let server = &self.settings.server;
        let tool = tool.and_then(|t| server.tools.get(t));
        (server.overrides(), tool.map(ToolSection::overrides))
    }

    fn apply_overrides(&self, verdict: Verdict, tool: Option<&str>) -> Verdict {
        let (server, tool_o) = self.overrides_for(tool);
        if verdict.detections.is_empty() {
            return verdict;
        }
        let score = verdict.injection_score;
        // Texts that lose an injection finding here: their weak findings are looked at again.
        let mut thinned: Vec<Option<String>> = Vec::new();
        let mut detections = Vec::new();
        for mut d in verdict.detections {
            let allowed = allowed_by(server, &d) || tool_o.is_some_and(|o| allowed_by(o, &d));
            if !allowed {
                if let Some(a) = tool_o
                    .and_then(|o| override_action(o, &d))
                    .or_else(|| override_action(server, &d))
                {
                    // Never above what the finding's injection score allows.
                    d.action = d.score_cap.map_or(a, |cap| a.min(cap));
                }
            }
            if allowed || d.action == Action::Allow {
                if d.category == Category::Injection {
                    thinned.push(d.pointer.clone());
                }
                continue;
            }
            detections.push(d);
        }
        let detections = self.without_lone_weak_injections(detections, &thinned);
        Verdict::from_detections(detections).with_injection_score(score)
    }

    /// An injection finding under the confidence floor is reported only beside the findings
    /// that lifted its text's score: in a text that lost findings to an override or allowlist,
    /// it stays only while a finding at the floor does.
    fn without_lone_weak_injections(
        &self,
        mut detections: Vec<Detection>,
        thinned: &[Option<String>],
    ) -> Vec<Detection> {
        if thinned.is_empty() {
            return detections;
        }
        let floor = self.scanner.min_confidence();
        let weak = |d: &Detection| d.category == Category::Injection && d.confidence < floor;
        let strong_texts: Vec<Option<String>> = detections
            .iter()
            .filter(|d| d.category == Category::Injection && !weak(d))
            .map(|d| d.pointer.clone())
            .collect();
        detections.retain(|d| {
            !weak(d) || !thinned.contains(&d.pointer) || strong_texts.contains(&d.pointer)
        });
        detections
    }

    /// Whether the policy for `tool` silences some findings (allowlists, an `allow` action):
    /// its verdicts then hold less than the scan found.
    fn drops_findings(&self, tool: &str) -> bool {
        let (server, tool_o) = self.overrides_for(Some(tool));
        let silences = |o: Overrides<'_>| {
            !o.allow_rules.is_empty()
                || !o.allow_fingerprints.is_empty()
                || [o.policy_pii, o.policy_secrets, o.policy_injection]
                    .into_iter()
                    .flatten()
                    .chain(o.policy_kinds.values().copied())
                    .any(|a| a == Action::Allow)
        };
        self.scanner.has_allowlists() || silences(server) || tool_o.is_some_and(silences)
    }

    /// A refusal: a JSON-RPC error whose `data` holds `reason` and the members of `extra`
    /// (the reference's `tool`, `trust_level`, `action`, `flags`, which clients read), or a tool
    /// result with `isError` when so configured.
    fn refuse(
        &self,
        id: &str,
        code: i64,
        message: &str,
        reason: &str,
        tool_call: bool,
        extra: Value,
    ) -> Vec<u8> {
        if tool_call && self.settings.refuse_as_tool_error {
            return message::tool_error_result(id, &format!("{message} ({reason})"));
        }
        let mut data = json!({ "reason": reason });
        if let (Some(d), Value::Object(more)) = (data.as_object_mut(), extra) {
            d.extend(more);
        }
        message::error_response(id, code, message, data)
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
                if let Some(refused) = self.unread_members(&env, from_client) {
                    return refused;
                }
                if from_client {
                    self.client_message(line, &env)
                } else {
                    self.server_message(line, &env)
                }
            }
            Parsed::Batch(_) => self.whole_message(line, from_client),
            Parsed::OtherJson => self.text_line(line, from_client),
            Parsed::NotJson => self.unparsed_line(line, from_client),
        }
    }

    /// What the parts of a message the pipeline routes by do not cover: members JSON-RPC does
    /// not define (a top-level `_meta`), a `jsonrpc` other than `"2.0"`, an `error` beside a
    /// `result` (only the result is read), and a string id. They are scanned (the id as text);
    /// anything the policy would redact or reject there refuses the whole message (it cannot be
    /// redacted in place part by part). Personal data in an id does not count: ids go back only to the
    /// peer that chose them, and a random 16-digit id passes a card's checksum one time in ten.
    /// `None`: nothing to refuse.
    fn unread_members(&self, env: &Envelope, from_client: bool) -> Option<Outcome> {
        let mut unread: Vec<(&str, &RawValue)> =
            env.extra.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        if let Some(v) = env.jsonrpc.filter(|v| v.get() != "\"2.0\"") {
            unread.push(("jsonrpc", v));
        }
        if let (Some(_), Some(error)) = (env.result, env.error) {
            unread.push(("error", error));
        }
        // A string id as text (one string needs no JSON walk), personal data left out.
        let id_text = env
            .id
            .filter(|id| id.get().starts_with('"'))
            .and_then(|id| serde_json::from_str::<String>(id.get()).ok());
        if unread.is_empty() && id_text.is_none() {
            return None;
        }
        let mut found = Vec::new();
        let mut score: Option<f32> = None;
        if !unread.is_empty() {
            let mut doc = b"{".to_vec();
            for (k, (name, raw)) in unread.iter().enumerate() {
                if k > 0 {
                    doc.push(b',');
                }
                doc.extend(serde_json::to_vec(name).unwrap_or_default());
                doc.push(b':');
                doc.extend_from_slice(raw.get().as_bytes());
            }
            doc.push(b'}');
            let v = self.judge_json(&doc, None);
            score = v.injection_score;
            found = v.detections;
        }
        let mut id_flagged = false;
        if let Some(id) = &id_text {
            let v = self.judge_text(id.as_bytes());
            score = match (score, v.injection_score) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            let in_id: Vec<Detection> = v
                .detections
                .into_iter()
                .filter(|d| d.category != Category::Pii)
                .collect();
            // An id that holds the finding is never written back into a message.
            id_flagged = !in_id.is_empty();
            found.extend(in_id);
        }
        let v = Verdict::from_detections(found).with_injection_score(score);
        if !matches!(v.action, Action::Reject | Action::Redact) {
            return None;
        }
        let direction = direction_name(from_client);
        let id = env.id_text();
        self.audit.record(
            "content_rejected",
            vec![
                ("direction", json!(direction)),
                ("verdict", json!("reject")),
                ("detections", describe(&v.detections)),
                ("message_id", audit_id(id)),
                (
                    "metadata",
                    json!({"reason": "found outside the message's params, result or error"}),
                ),
            ],
        );
        tracing::warn!(
            "{direction} refused: found in members outside its params, result or error: {}",
            self.why(&v)
        );
        let data = json!({"reason": "content", "action": "reject", "flags": v.flags});
        let error =
            |id: &str, code, text: &str| message::error_response(id, code, text, data.clone());
        let code = if from_client {
            message::REQUEST_CONTENT
        } else {
            message::RESPONSE_CONTENT
        };
        Some(match (id, env.kind()) {
            // A request: refused to its sender, who chose the id.
            (Some(id), Kind::Request) => Outcome::reply(error(
                id,
                code,
                "Message blocked by content security (reject)",
            )),
            // An answer: an error goes on in its place to whoever asked, unless its id is
            // what was found, or nobody asked (a server's answer to no request is dropped,
            // as it would be without this).
            (Some(id), Kind::Response) if !id_flagged => {
                if !from_client && self.answered(id).is_none() {
                    return Some(Outcome::drop());
                }
                Outcome::forward(error(
                    id,
                    code,
                    "Response blocked by content security (reject)",
                ))
            }
            (Some(id), Kind::Response) => {
                if !from_client {
                    self.answered(id);
                }
                Outcome::drop()
            }
            _ => Outcome::drop(),
        })
    }

    /// A line that is not JSON, or not JSON that every parser reads the same way (duplicate
    /// keys, a byte-order mark, `NaN`, bytes that are not UTF-8). A lenient parser on the other
    /// side might still read a request or an answer out of it that the pipeline never judged,
    /// so it is never passed on: the client gets a JSON-RPC parse error, a server's line is
    /// dropped, and both are audited. Blank lines pass: nothing can be read out of whitespace.
    fn unparsed_line(&self, line: &[u8], from_client: bool) -> Outcome {
        if line.iter().all(u8::is_ascii_whitespace) {
            return Outcome::forward(line.to_vec());
        }
        let sender = if from_client { "client" } else { "server" };
        self.audit.record(
            "malformed_message",
            vec![
                ("direction", json!(direction_name(from_client))),
                ("verdict", json!("reject")),
                (
                    "metadata",
                    json!({"bytes": line.len(), "reason": "not strict JSON (unparseable, duplicate keys, BOM, NaN or not UTF-8)"}),
                ),
            ],
        );
        tracing::warn!(
            "dropped a {}-byte line from the {sender} that is not strict JSON: duplicate keys, a byte-order mark, NaN, bytes that are not UTF-8, or not JSON at all",
            line.len()
        );
        if from_client {
            Outcome::reply(message::error_response(
                "null",
                message::PARSE_ERROR,
                "Parse error",
                json!({"reason": "not_json"}),
            ))
        } else {
            Outcome::drop()
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
    /// One that is JSON all the same (a bare number or string) is judged and redacted as JSON,
    /// so what is forwarded stays JSON (a card number as the whole document was replaced by
    /// an unquoted marker).
    fn text_line(&self, line: &[u8], from_client: bool) -> Outcome {
        if serde_json::from_slice::<serde::de::IgnoredAny>(line).is_ok() {
            return self.whole_message(line, from_client);
        }
        let v = self.judge_text(line);
        self.whole(line, from_client, &v, |l, v| self.scanner.redact_text(l, v))
    }

    /// A JSON value that is neither request, notification nor response: scanned whole.
    fn whole_message(&self, line: &[u8], from_client: bool) -> Outcome {
        let v = self.judge_json(line, None);
        self.whole(line, from_client, &v, |l, v| self.scanner.redact_json(l, v))
    }

    /// What a verdict on a whole line means: dropped (audited) on reject, redacted, or passed.
    fn whole(
        &self,
        line: &[u8],
        from_client: bool,
        v: &Verdict,
        redact: impl Fn(&[u8], &Verdict) -> Vec<u8>,
    ) -> Outcome {
        match v.action {
            Action::Reject => {
                self.audit.record(
                    "content_rejected",
                    vec![
                        ("direction", json!(direction_name(from_client))),
                        ("verdict", json!("reject")),
                        ("detections", describe(&v.detections)),
                        ("metadata", json!({"reason": "message dropped"})),
                    ],
                );
                tracing::warn!(
                    "dropped a message that is not a JSON-RPC call or answer: {}",
                    self.why(v)
                );
                Outcome::drop()
            }
            Action::Redact => Outcome::forward(redact(line, v)),
            _ => Outcome::forward(line.to_vec()),
        }
    }

    fn audit_fail_closed(&self) -> bool {
        self.settings.fail_closed && self.audit.has_failed()
    }

    /// Scans one part of a message (params, result, error, or the whole line) and forwards,
    /// redacts in place, or refuses: the error goes where `refusal` says. Never replies to a
    /// notification.
    fn scan_part(
        &self,
        line: &[u8],
        part: Option<&RawValue>,
        tool: Option<&str>,
        from_client: bool,
        refusal: Refusal,
    ) -> Outcome {
        let Some(part) = part else {
            return Outcome::forward(line.to_vec());
        };
        if !from_client && !self.settings.scan_tool_responses && tool.is_some() {
            return Outcome::forward(line.to_vec());
        }
        let v = self.judge_json(part.get().as_bytes(), tool);
        let direction = direction_name(from_client);
        let mut fields = vec![
            ("tool_name", json!(tool)),
            ("direction", json!(direction)),
            ("verdict", json!(v.action.as_str())),
            ("detections", describe(&v.detections)),
            ("injection_score", score(&v)),
            (
                "message_id",
                audit_id(match refusal {
                    Refusal::Reply(id) | Refusal::Onward(id) => Some(id),
                    Refusal::Drop => None,
                }),
            ),
        ];
        match v.action {
            Action::Reject => {
                fields.push(("metadata", json!({"flags": v.flags})));
                self.audit.record("content_rejected", fields);
                tracing::warn!("{direction} refused by content policy: {}", self.why(&v));
                let code = if from_client {
                    message::REQUEST_CONTENT
                } else {
                    message::RESPONSE_CONTENT
                };
                let data = json!({"reason": "content", "action": "reject", "flags": v.flags});
                match refusal {
                    Refusal::Reply(id) => Outcome::reply(message::error_response(
                        id,
                        code,
                        "Request blocked by content security (reject)",
                        data,
                    )),
                    Refusal::Onward(id) => Outcome::forward(message::error_response(
                        id,
                        code,
                        "Response blocked by content security (reject)",
                        data,
                    )),
                    Refusal::Drop => Outcome::drop(),
                }
            }
            Action::Redact => {
                self.audit.record("content_redacted", fields);
                let red = self.scanner.redact_json(part.get().as_bytes(), &v);
                Outcome::forward(message::splice(line, part, &red))
            }
            Action::Flag => {
                self.audit.record("content_flagged", fields);
                Outcome::forward(line.to_vec())
            }
            Action::Allow => Outcome::forward(line.to_vec()),
        }
    }
}
