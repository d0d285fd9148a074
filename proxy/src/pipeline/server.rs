//! Server → client: every result, error, request and notification scanned; `tools/list`
//! results classified, checked for poisoned tools and against the manifest pins.

use parapet_engine::{Action, Verdict};
use serde_json::json;

use super::*;
use crate::message::{self, Envelope, Kind};

/// Results that list definitions written for the model, besides `tools/list`; read item by
/// item ([`super::listing`]) unless they are not shaped as listings.
const LISTINGS: &[&str] = &["prompts/list", "resources/list", "resources/templates/list"];

impl Pipeline {
    pub(super) fn server_message(&self, line: &[u8], env: &Envelope) -> Outcome {
        match env.kind() {
            // A server's request (sampling, elicitation, roots): refused ones are answered to
            // the server, not passed on.
            Kind::Request => {
                let id = env.id_text().unwrap_or("null");
                self.scan_part(line, env.params, None, false, Refusal::Reply(id))
            }
            Kind::Notification => self.scan_part(line, env.params, None, false, Refusal::Drop),
            Kind::Response => self.server_response(line, env),
            Kind::Other => self.whole_message(line, false),
        }
    }

    fn server_response(&self, line: &[u8], env: &Envelope) -> Outcome {
        let id = env.id_text().unwrap_or("null").to_string();
        let pending = self.answered(&id);
        // A result to nothing the client asked is dropped: it would skip every check its
        // request sets up (a tools/list answer's pins and withholding). An error to nothing
        // asked goes on, scanned below: the server's answer to a malformed message of the
        // client's.
        if pending.is_none() && env.result.is_some() {
            self.audit.record(
                "unmatched_response",
                vec![
                    ("direction", json!("response")),
                    ("verdict", json!("reject")),
                    ("message_id", audit_id(Some(&id))),
                ],
            );
            tracing::warn!("dropped a result with id {id}: no request of the client has that id");
            return Outcome::drop();
        }
        let tool = match &pending {
            Some(Pending::ToolCall(t)) => Some(t.as_str()),
            _ => None,
        };
        if let (Some(Pending::ToolsList { first_page }), Some(result)) = (&pending, env.result) {
            // A result that is not an object with a `tools` array is scanned whole below, like
            // any result.
            if let Some(out) = self.tools_list(line, &id, result, *first_page) {
                return out;
            }
        }
        if let (Some(Pending::Other(method)), Some(result)) = (&pending, env.result) {
            // A listing of prompts or resources: item by item, as tools are.
            if let Some(out) = self.listing(line, &id, method, result) {
                return out;
            }
        }
        let part = env.result.or(env.error);
        let Some(part) = part else {
            return Outcome::forward(line.to_vec());
        };
        if tool.is_some() && !self.settings.scan_tool_responses {
            return Outcome::forward(line.to_vec());
        }
        // Listings of prompts and resources are definitions, as tools are.
        let v = match &pending {
            Some(Pending::Other(m)) if LISTINGS.contains(&m.as_str()) => {
                self.judge_definition(part.get().as_bytes(), None)
            }
            _ => self.judge_json(part.get().as_bytes(), tool),
        };
        let fields = |v: &Verdict| {
            vec![
                ("tool_name", json!(tool)),
                ("direction", json!("response")),
                ("verdict", json!(v.action.as_str())),
                ("detections", describe(&v.detections)),
                ("detections_omitted", omitted(&v.detections)),
                ("injection_score", score(v)),
                ("message_id", audit_id(Some(&id))),
            ]
        };
        if let Some(tool) = tool {
            let mut f = fields(&v);
            if self.settings.log_tool_responses {
                let result = self.for_the_trail(part.get().as_bytes(), Some(&v), tool);
                f.push(("metadata", json!({ "result": result })));
            }
            self.audit.record("tool_call_response", f);
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
                    self.why(&v)
                );
                let out = self.refuse(
                    &id,
                    message::RESPONSE_CONTENT,
                    "Tool response blocked by content security",
                    "content",
                    tool.is_some(),
                    json!({"action": "reject", "flags": v.flags}),
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
}
