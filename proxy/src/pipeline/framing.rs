//! A frame in, an [`Outcome`] out: a JSON-RPC object goes to its direction's pipeline, a batch
//! element by element, anything else (text, other JSON, lines that are not strict JSON) is
//! judged whole.

use super::*;

impl Pipeline {
    pub(super) fn frame(&self, line: &[u8], from_client: bool) -> Outcome {
        match message::parse(line) {
            Parsed::Batch(items) => self.batch(line, &items, from_client),
            other => self.single(line, other, from_client),
        }
    }

    /// One message; a batch inside a batch is not JSON-RPC and is scanned whole, so nesting
    /// never recurses here.
    pub(super) fn single(&self, line: &[u8], parsed: Parsed, from_client: bool) -> Outcome {
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

    /// A line that is not JSON, or not JSON that every parser reads the same way (duplicate
    /// keys, a byte-order mark, `NaN`, bytes that are not UTF-8). A lenient parser on the other
    /// side might still read a request or an answer out of it that the pipeline never judged,
    /// so it is never passed on: the client gets a JSON-RPC parse error, a server's line is
    /// dropped, and both are audited. Blank lines pass: nothing can be read out of whitespace.
    pub(super) fn unparsed_line(&self, line: &[u8], from_client: bool) -> Outcome {
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
    pub(super) fn batch(&self, line: &[u8], items: &[&RawValue], from_client: bool) -> Outcome {
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
    pub(super) fn text_line(&self, line: &[u8], from_client: bool) -> Outcome {
        if serde_json::from_slice::<serde::de::IgnoredAny>(line).is_ok() {
            return self.whole_message(line, from_client);
        }
        let v = self.judge_text(line);
        self.whole(line, from_client, &v, |l, v| self.scanner.redact_text(l, v))
    }

    /// A JSON value that is neither request, notification nor response: scanned whole.
    pub(super) fn whole_message(&self, line: &[u8], from_client: bool) -> Outcome {
        let v = self.judge_json(line, None);
        self.whole(line, from_client, &v, |l, v| self.scanner.redact_json(l, v))
    }

    /// What a verdict on a whole line means: dropped (audited) on reject, redacted, or passed.
    pub(super) fn whole(
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
                        ("detections_omitted", omitted(&v.detections)),
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
}
