//! Client → server: `tools/call` through trust, withheld tools, rate limit and the argument
//! scan; every other request, notification and reply to the server scanned. A notification
//! that names a request's method (`tools/call` without an id) goes through the same policy: a
//! lenient server may still run it. It is never answered: refused, it is dropped.

use parapet_engine::{Action, Verdict};
use serde_json::{json, value::RawValue};

use super::*;
use crate::config::ToolClass;
use crate::message::{self, Envelope, Kind, Members};
use crate::trust;

/// A call's params, read once: its tool's name, its arguments (a raw slice of the line, so a
/// redaction is spliced back in place) and every other member (`_meta`…), scanned too.
struct Call<'a> {
    name: String,
    /// The name as written, scanned too: a name cannot be redacted (the server would not know
    /// the tool), so what the policy would redact there refuses the call.
    name_raw: Option<&'a RawValue>,
    arguments: Option<&'a RawValue>,
    others: Vec<&'a RawValue>,
}

impl<'a> Call<'a> {
    /// `None` unless the params are an object with one string `name` and no member twice:
    /// anything else could be read one way here and another way by the server.
    fn read(params: Option<&'a RawValue>) -> Option<Call<'a>> {
        let members: Members = serde_json::from_str(params?.get()).ok()?;
        if members.has_duplicates() {
            return None;
        }
        let Members(members) = members;
        let mut call = Call {
            name: String::new(),
            name_raw: None,
            arguments: None,
            others: Vec::new(),
        };
        let mut named = false;
        for (key, value) in members {
            match key.as_str() {
                "name" => {
                    call.name = serde_json::from_str(value.get()).ok()?;
                    call.name_raw = Some(value);
                    named = true;
                }
                "arguments" => call.arguments = Some(value),
                _ => call.others.push(value),
            }
        }
        named.then_some(call)
    }
}

/// Whether a `tools/list` asks for a later page (a `cursor` that is not null).
/// A cursor that points nowhere: `null`, or an empty string (a server that always sends
/// `"nextCursor": ""` would otherwise never end a listing, and tools added later would be
/// pinned as if seen first).
pub(super) fn no_cursor(v: &RawValue) -> bool {
    matches!(v.get().trim(), "null" | "\"\"")
}

fn has_cursor(params: Option<&RawValue>) -> bool {
    params
        .and_then(|p| serde_json::from_str::<Members>(p.get()).ok())
        .is_some_and(|Members(m)| m.iter().any(|(k, v)| k == "cursor" && !no_cursor(v)))
}

impl Pipeline {
    pub(super) fn client_message(&self, line: &[u8], env: &Envelope) -> Outcome {
        match env.kind() {
            Kind::Request => self.client_request(line, env, env.id_text()),
            Kind::Notification if is_request_method(env.method.as_deref()) => {
                self.client_request(line, env, None)
            }
            Kind::Notification => {
                if env.method.as_deref() == Some("notifications/cancelled") {
                    self.cancelled(env.params);
                }
                self.scan_part(line, env.params, None, true, Refusal::Drop)
            }
            Kind::Response => {
                let part = env.result.or(env.error);
                let id = env.id_text().unwrap_or("null");
                self.scan_part(line, part, None, true, Refusal::Onward(id))
            }
            Kind::Other => self.whole_message(line, true),
        }
    }

    /// A request, or a notification that names a request's method (`reply_to` is `None`:
    /// refused, it is dropped instead of answered).
    fn client_request(&self, line: &[u8], env: &Envelope, reply_to: Option<&str>) -> Outcome {
        let id = reply_to.unwrap_or("null").to_string();
        let answer = |bytes: Vec<u8>| match reply_to {
            Some(_) => Outcome::reply(bytes),
            None => Outcome::drop(),
        };
        let method = env.method.clone().unwrap_or_default();
        if self.audit_fail_closed() {
            tracing::error!(
                "refusing {method}: the audit trail cannot be written (audit.fail_closed)"
            );
            return answer(message::error_response(
                &id,
                -32603,
                "Request refused: audit trail unavailable",
                json!({"reason": "audit_unavailable"}),
            ));
        }
        // An id still waiting for its answer: the two answers could not be told apart, and the
        // checks one of them needs (a listing's pins) could be skipped.
        if reply_to.is_some_and(|id| self.is_pending(id)) {
            self.request_blocked(&id, &method, "id in use".into());
            tracing::warn!("refused {method}: its id is that of a request still without an answer");
            return answer(message::error_response(
                &id,
                message::INVALID_REQUEST,
                "Invalid request: the id is in use by a request that has no answer yet",
                json!({"reason": "duplicate_id"}),
            ));
        }
        // Only tools/call and tools/list need their params read here; everything is scanned.
        let pending = match method.as_str() {
            "tools/call" => {
                let Some(call) = Call::read(env.params) else {
                    return answer(message::error_response(
                        &id,
                        message::INVALID_PARAMS,
                        "Invalid params: tools/call needs one string `name`",
                        json!({"reason": "invalid_params"}),
                    ));
                };
                return self.tool_call(line, reply_to, call);
            }
            "tools/list" => Pending::ToolsList {
                first_page: !has_cursor(env.params),
            },
            "resources/read" | "prompts/get" | "completion/complete" => {
                let (check, level) = {
                    let t = lock(&self.trust);
                    (t.check_class(ToolClass::Read), trust::level_name(t.level()))
                };
                if let Err(d) = check {
                    let reason = format!("trust_level={level}: {}", d.reason());
                    self.request_blocked(&id, &method, reason);
                    tracing::warn!("refused {method}: {}", d.reason());
                    return answer(self.refuse(
                        &id,
                        message::TRUST_DENIED,
                        &format!("Request blocked by trust policy (level={level})"),
                        "trust",
                        false,
                        json!({"trust_level": level}),
                    ));
                }
                Pending::Other(method.clone())
            }
            _ => Pending::Other(method.clone()),
        };
        let refusal = match reply_to {
            Some(id) => Refusal::Reply(id),
            None => Refusal::Drop,
        };
        let out = self.scan_part(line, env.params, None, true, refusal);
        if let (Some(_), Some(id)) = (&out.forward, reply_to) {
            self.remember(id, pending);
        }
        out
    }

    /// Audits a request refused before its params were scanned.
    fn request_blocked(&self, id: &str, method: &str, reason: String) {
        self.audit.record(
            "request_blocked",
            vec![
                ("direction", json!("request")),
                ("verdict", json!("reject")),
                ("message_id", audit_id(Some(id))),
                ("metadata", json!({"method": method, "reason": reason})),
            ],
        );
    }

    fn tool_call(&self, line: &[u8], reply_to: Option<&str>, call: Call) -> Outcome {
        let Call {
            name,
            name_raw,
            arguments,
            others,
        } = call;
        // The name as text, scanned once: a finding in it refuses the call below, and the
        // log lines name the tool with that finding redacted.
        let name_verdict = name_raw.map(|_| self.judge_text(name.as_bytes()));
        let shown = match &name_verdict {
            Some(v) if !v.detections.is_empty() => {
                String::from_utf8_lossy(&self.scanner.redact_text_all(name.as_bytes(), v))
                    .into_owned()
            }
            _ => name.clone(),
        };
        let id = reply_to.unwrap_or("null");
        let answer = |bytes: Vec<u8>| match reply_to {
            Some(_) => Outcome::reply(bytes),
            None => Outcome::drop(),
        };
        let level = lock(&self.trust).level();
        let blocked = |reason: String, found: &[Detection]| {
            self.audit.record(
                "tool_call_blocked",
                vec![
                    ("tool_name", json!(name)),
                    ("direction", json!("request")),
                    ("verdict", json!("reject")),
                    ("detections", describe(found)),
                    ("detections_omitted", omitted(found)),
                    ("message_id", audit_id(Some(&id))),
                    ("metadata", json!({"reason": reason})),
                ],
            );
            tracing::warn!("refused tools/call {shown}: {reason}");
        };
        let check = lock(&self.trust).check_tool(&name);
        if let Err(d) = check {
            blocked(
                format!("trust_level={}: {}", trust::level_name(level), d.reason()),
                &[],
            );
            return answer(self.refuse(
                id,
                message::TRUST_DENIED,
                &format!(
                    "Tool call blocked by trust policy (level={})",
                    trust::level_name(level)
                ),
                "trust",
                true,
                json!({"tool": name, "trust_level": trust::level_name(level)}),
            ));
        }
        let withheld = lock(&self.withheld).get(&name).cloned().or_else(|| {
            let integrity = self.integrity.as_ref()?;
            lock(integrity)
                .withholds_unpinned(&name)
                .then(|| "not in the pinned manifest (block_on_change)".to_string())
        });
        if let Some(why) = withheld {
            blocked(format!("tool withheld: {why}"), &[]);
            return answer(self.refuse(
                id,
                message::TRUST_DENIED,
                "Tool call blocked: tool withheld by integrity policy",
                "tool_withheld",
                true,
                json!({"tool": name}),
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
            tracing::warn!("rate limit ({}) for {shown}: retry after {secs}s", l.limit);
            if self.settings.refuse_as_tool_error {
                return answer(message::tool_error_result(
                    id,
                    &format!("Rate limit exceeded for {name}; retry after {secs} s"),
                ));
            }
            return answer(message::error_response(
                id,
                message::RATE_LIMITED,
                &format!("Rate limit exceeded for {name}"),
                json!({"reason": "rate_limit", "limit": l.limit, "retry_after": secs}),
            ));
        }
        // The arguments, and everything else in the params beside the tool's name: each
        // scanned, redacted in place.
        let args = arguments.filter(|_| self.settings.scan_tool_arguments);
        let mut args_verdict = Verdict::default();
        let (mut detections, mut top_score, mut splices) = (Vec::new(), None::<f32>, Vec::new());
        for (k, part) in args.into_iter().chain(others).enumerate() {
            let v = self.judge_json(part.get().as_bytes(), Some(&name));
            if v.action == Action::Redact {
                splices.push((part, self.scanner.redact_json(part.get().as_bytes(), &v)));
            }
            top_score = match (top_score, v.injection_score) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            if k == 0 && args.is_some() {
                args_verdict = v.clone();
            }
            detections.extend(v.detections);
        }
        if let Some(v) = name_verdict {
            if matches!(v.action, Action::Redact | Action::Reject) {
                detections.extend(v.detections.into_iter().map(|mut d| {
                    if d.action == Action::Redact {
                        d.action = Action::Reject;
                    }
                    d
                }));
            }
        }
        let verdict = Verdict::from_detections(detections).with_injection_score(top_score);
        let forward = if splices.is_empty() {
            line.to_vec()
        } else {
            message::splice_many(line, splices)
        };
        if verdict.action == Action::Reject {
            blocked(
                format!("content_scan:{}", verdict.flags.join(",")),
                &verdict.detections,
            );
            return answer(self.refuse(
                id,
                message::REQUEST_CONTENT,
                "Tool call blocked by content security (reject)",
                "content",
                true,
                json!({"tool": name, "action": "reject", "flags": verdict.flags}),
            ));
        }
        let mut fields = vec![
            ("tool_name", json!(name)),
            ("direction", json!("request")),
            ("verdict", json!(verdict.action.as_str())),
            ("detections", describe(&verdict.detections)),
            ("detections_omitted", omitted(&verdict.detections)),
            ("injection_score", score(&verdict)),
            ("message_id", audit_id(Some(&id))),
        ];
        if self.settings.log_tool_arguments {
            if let Some(logged) = arguments {
                // Every detection redacted, whatever its policy: the trail never holds a secret
                // (arguments not scanned for the server are scanned for the trail).
                // Accepted findings (allowlists, an `allow` policy) are redacted here too.
                let scanned = args.is_some().then_some(&args_verdict);
                let value = self.for_the_trail(logged.get().as_bytes(), scanned, &name);
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
                    ("detections_omitted", omitted(&verdict.detections)),
                ],
            );
        }
        if let Some(id) = reply_to {
            self.remember(id, Pending::ToolCall(name));
        }
        Outcome::forward(forward)
    }
}

/// Methods that only make sense as requests and that the pipeline judges by method: sent as a
/// notification (no id), they still go through that policy.
fn is_request_method(method: Option<&str>) -> bool {
    matches!(
        method,
        Some(
            "tools/call" | "tools/list" | "resources/read" | "prompts/get" | "completion/complete"
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_and_empty_cursors_point_nowhere() {
        let raw = |s: &str| serde_json::value::RawValue::from_string(s.into()).unwrap();
        assert!(no_cursor(&raw("null")) && no_cursor(&raw("\"\"")));
        assert!(!no_cursor(&raw("\"page2\"")));
        assert!(!has_cursor(Some(&raw(r#"{"cursor":""}"#))));
        assert!(has_cursor(Some(&raw(r#"{"cursor":"abc"}"#))));
    }
}
