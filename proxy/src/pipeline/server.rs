//! Server → client: every result, error, request and notification scanned; `tools/list`
//! results classified, checked for poisoned tools and against the manifest pins.

use std::collections::{BTreeSet, HashMap};

use parapet_engine::{Action, Verdict};
use serde_json::{json, value::RawValue, Value};

use super::*;
use crate::message::{self, Envelope, Kind};
use crate::trust;

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
                ("injection_score", score(v)),
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
