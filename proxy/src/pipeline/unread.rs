//! The members of a message the pipeline does not route by (unknown members, an odd `jsonrpc`,
//! an `error` beside a `result`, a string id): scanned, and the whole message refused when the
//! policy would redact or reject what they hold.

use super::*;

impl Pipeline {
    /// What the parts of a message the pipeline routes by do not cover: members JSON-RPC does
    /// not define (a top-level `_meta`), a `jsonrpc` other than `"2.0"`, an `error` beside a
    /// `result` (only the result is read), and a string id. They are scanned (the id as text);
    /// anything the policy would redact or reject there refuses the whole message (it cannot be
    /// redacted in place part by part). Personal data in an id does not count: ids go back only to the
    /// peer that chose them, and a random 16-digit id passes a card's checksum one time in ten.
    /// `None`: nothing to refuse.
    pub(super) fn unread_members(&self, env: &Envelope, from_client: bool) -> Option<Outcome> {
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
                ("detections_omitted", omitted(&v.detections)),
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
}
