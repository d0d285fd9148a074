//! classify → pipeline: what happens to each message. Client → server: trust, allow/block lists,
//! rate limit, then a content scan of the params (redacted params are what the server gets).
//! Server → client: every result, error and request is scanned; `tools/list` results are also
//! checked for tool poisoning and against the manifest pins. Unchanged messages go on byte for
//! byte; refusals keep the reference's JSON-RPC codes and add `data.reason`.
//!
//! A frame goes through `framing` (batches, text lines, lines that are not strict JSON) and
//! `unread` (members nothing routes by) to its direction, `client` or `server` (`tools_list`
//! and `listing` for the definitions a server lists); `judge` gives verdicts under the
//! server's and tool's policy, `trail` what the audit trail holds. Here: the pipeline's state,
//! the requests awaiting answers, refusals and the scan of one part of a message.

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
mod framing;
mod judge;
mod listing;
mod server;
mod tools_list;
mod trail;
mod unread;

pub(crate) use trail::audit_id;
pub use trail::{describe, omitted, score, AUDIT_DETECTIONS};

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
            ("detections_omitted", omitted(&v.detections)),
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
