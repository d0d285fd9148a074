//! A `prompts/list`, `resources/list` or `resources/templates/list` result: each listed item
//! is scanned alone as a definition (written for the model), and one that fails the scan is
//! withheld from the list while the others pass; every other member of the result is
//! scanned too. As for `tools/list`, the result is read as raw slices of the line, so what is
//! withheld or redacted is cut or spliced in place and every other byte stays as written.

use std::collections::BTreeMap;

use parapet_engine::Action;
use parapet_engine::Verdict;
use serde_json::{json, value::RawValue, Value};

use super::*;
use crate::message::{self, Members};

/// The array member of each listing method's result.
pub(super) fn items_member(method: &str) -> Option<&'static str> {
    match method {
        "prompts/list" => Some("prompts"),
        "resources/list" => Some("resources"),
        "resources/templates/list" => Some("resourceTemplates"),
        _ => None,
    }
}

impl Pipeline {
    /// The audit record of a listing part the scan refused or redacted (`content_rejected`,
    /// `content_redacted`), `metadata` saying which part.
    fn record_listing_verdict(&self, v: &Verdict, id: &str, metadata: Value) {
        let event = match v.action {
            Action::Reject => "content_rejected",
            _ => "content_redacted",
        };
        self.audit.record(
            event,
            vec![
                ("direction", json!("response")),
                ("verdict", json!(v.action.as_str())),
                ("detections", describe(&v.detections)),
                ("detections_omitted", omitted(&v.detections)),
                ("message_id", audit_id(Some(id))),
                ("metadata", metadata),
            ],
        );
    }

    /// Every member of a listing's result beside its array of `items` (`_meta`, `nextCursor`…),
    /// scanned: the redactions to splice in, or the refusal of the whole result when one is
    /// rejected.
    pub(super) fn listing_members<'l>(
        &self,
        id: &str,
        method: &str,
        members: &BTreeMap<String, &'l RawValue>,
        items: &str,
    ) -> Result<Vec<(&'l RawValue, Vec<u8>)>, Outcome> {
        let mut splices = Vec::new();
        for (key, part) in members.iter().filter(|(k, _)| k.as_str() != items) {
            // `_meta`, `nextCursor`…: not definitions written for the model.
            let v = self.judge_json(part.get().as_bytes(), None);
            match v.action {
                Action::Reject => {
                    self.record_listing_verdict(
                        &v,
                        id,
                        json!({"flags": v.flags, "member": key, "method": method}),
                    );
                    tracing::warn!(
                        "{method} result refused: its `{key}` failed the content scan ({})",
                        self.why(&v)
                    );
                    return Err(Outcome::forward(self.refuse(
                        id,
                        message::RESPONSE_CONTENT,
                        "Tool response blocked by content security",
                        "content",
                        false,
                        json!({"action": "reject", "flags": v.flags}),
                    )));
                }
                Action::Redact => {
                    self.record_listing_verdict(&v, id, json!({"member": key, "method": method}));
                    splices.push((*part, self.scanner.redact_json(part.get().as_bytes(), &v)));
                }
                _ => {}
            }
        }
        Ok(splices)
    }

    /// `None` when the result is not an object with the listing's array (or has duplicate
    /// members): it is then scanned whole like any other result.
    pub(super) fn listing(
        &self,
        line: &[u8],
        id: &str,
        method: &str,
        result: &RawValue,
    ) -> Option<Outcome> {
        let array = items_member(method)?;
        let listed: Members = serde_json::from_str(result.get()).ok()?;
        if listed.has_duplicates() {
            return None;
        }
        let members: BTreeMap<String, &RawValue> = listed.0.into_iter().collect();
        let items_raw = *members.get(array)?;
        let items: Vec<&RawValue> = serde_json::from_str(items_raw.get()).ok()?;
        let mut splices = match self.listing_members(id, method, &members, array) {
            Ok(splices) => splices,
            Err(refused) => return Some(refused),
        };
        let mut kept: Vec<Vec<u8>> = Vec::with_capacity(items.len());
        let mut changed = false;
        for item in &items {
            let bytes = item.get().as_bytes();
            let v = self.judge_definition(bytes, None);
            let name = serde_json::from_str::<serde_json::Value>(item.get())
                .ok()
                .and_then(|i| {
                    i.get("name")
                        .or_else(|| i.get("uri"))
                        .or_else(|| i.get("uriTemplate"))
                        .and_then(|n| n.as_str().map(String::from))
                })
                .unwrap_or_default();
            match v.action {
                Action::Reject => {
                    self.record_listing_verdict(
                        &v,
                        id,
                        json!({"withheld": name, "method": method}),
                    );
                    tracing::warn!(
                        "{method}: {name:?} withheld: its definition failed the content scan ({})",
                        self.why(&v)
                    );
                    changed = true;
                }
                Action::Redact => {
                    self.record_listing_verdict(&v, id, json!({"item": name, "method": method}));
                    kept.push(self.scanner.redact_json(bytes, &v));
                    changed = true;
                }
                _ => kept.push(bytes.to_vec()),
            }
        }
        if changed {
            splices.push((items_raw, message::array_of(&kept)));
        }
        if splices.is_empty() {
            return Some(Outcome::forward(line.to_vec()));
        }
        Some(Outcome::forward(message::splice_many(line, splices)))
    }
}
