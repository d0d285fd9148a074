//! Client → server: `tools/call` through trust, withheld tools, rate limit and the argument
//! scan; every other request, notification and reply to the server scanned.

use parapet_engine::{Action, Verdict};
use serde_json::{json, value::RawValue, Value};

use super::*;
use crate::config::ToolClass;
use crate::message::{self, Envelope, Kind};
use crate::trust;

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

impl Pipeline {
    pub(super) fn client_message(&self, line: &[u8], env: &Envelope) -> Outcome {
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
        // Only tools/call and tools/list need their params read here; everything is scanned.
        let params = || {
            env.params
                .map(|p| serde_json::from_str::<CallParams>(p.get()))
                .transpose()
        };
        let pending = match method.as_str() {
            "tools/call" => {
                // A call must name its tool with one string: anything else could be read one
                // way here and another way by the server.
                let Ok(Some(CallParams {
                    name: Some(name),
                    arguments,
                    ..
                })) = params()
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
                first_page: params().ok().flatten().is_none_or(|p| p.cursor.is_none()),
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
            ("injection_score", score(&verdict)),
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
}
