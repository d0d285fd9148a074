//! A `tools/list` result: each tool is scanned alone (a poisoned description or schema
//! withholds it), classified for the trust tiers and checked against the manifest pins; every
//! other member of the result (`_meta`, `nextCursor`…) is scanned too. The result is read as
//! raw slices of the line: what is withheld or redacted is cut or spliced in place, and every
//! other byte goes on as the server wrote it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use parapet_engine::Action;
use serde_json::{json, value::RawValue, Value};

use super::*;
use crate::message::{self, Members};
use crate::trust;

/// One tool of the listing: its bytes as written, its value, and what the scan made of it.
struct Listed<'a> {
    raw: &'a RawValue,
    value: Value,
    name: String,
    redacted: Option<Vec<u8>>,
}

/// A listed tool's value and name; `Err(name)` (the name as far as it can be read, else empty)
/// when it has no string name, holds a value serde_json refuses (a number like `1e400`) or a
/// member name twice at any depth: such a tool can be neither pinned nor classified as every
/// client reads it, so it is withheld.
fn read_tool(raw: &RawValue) -> Result<(Value, String), String> {
    // A member name twice anywhere in it: the pin would hash the last one, a client that keeps
    // the first would show the model another description or schema.
    let parsed = serde_json::from_str::<Value>(raw.get())
        .ok()
        .filter(|_| message::unique_names_throughout(raw.get()));
    match parsed.ok_or(()) {
        Ok(value) => match value.get("name").and_then(Value::as_str) {
            Some(name) => {
                let name = name.to_string();
                Ok((value, name))
            }
            None => Err(String::new()),
        },
        Err(_) => {
            let members: Option<HashMap<String, &RawValue>> = serde_json::from_str(raw.get()).ok();
            let name = members
                .and_then(|m| m.get("name").map(|n| n.get().to_string()))
                .and_then(|n| serde_json::from_str::<String>(&n).ok())
                .unwrap_or_default();
            Err(name)
        }
    }
}

impl Pipeline {
    /// `None` when the result is not an object with a `tools` array: it is then scanned whole
    /// like any other result.
    pub(super) fn tools_list(
        &self,
        line: &[u8],
        id: &str,
        result: &RawValue,
        first_page: bool,
    ) -> Option<Outcome> {
        let listed: Members = serde_json::from_str(result.get()).ok()?;
        if listed.has_duplicates() {
            // Two members of one name (two `tools` arrays) could be read either way by the
            // client: the listing is refused, never judged by one and used by the other.
            self.audit.record(
                "malformed_message",
                vec![
                    ("direction", json!("response")),
                    ("verdict", json!("reject")),
                    ("message_id", audit_id(Some(id))),
                    (
                        "metadata",
                        json!({"reason": "tools/list result with duplicate members"}),
                    ),
                ],
            );
            tracing::warn!("tools/list result {id} refused: it has duplicate members");
            return Some(Outcome::forward(self.refuse(
                id,
                message::RESPONSE_CONTENT,
                "Tool response blocked by content security",
                "malformed",
                false,
                json!({"action": "reject"}),
            )));
        }
        let members: BTreeMap<String, &RawValue> = listed.0.into_iter().collect();
        let tools_raw = *members.get("tools")?;
        let items: Vec<&RawValue> = serde_json::from_str(tools_raw.get()).ok()?;
        let last_page = members
            .get("nextCursor")
            .is_none_or(|c| super::client::no_cursor(c));
        let mut splices = match self.listing_members(id, "tools/list", &members, "tools") {
            Ok(splices) => splices,
            Err(refused) => return Some(refused),
        };
        let mut listed = Vec::with_capacity(items.len());
        let mut newly_allowed = 0usize;
        let mut poisoned: BTreeSet<String> = BTreeSet::new();
        let mut unreadable: BTreeSet<String> = BTreeSet::new();
        for raw in items {
            let (value, name) = match read_tool(raw) {
                Ok((value, name)) => (value, name),
                Err(name) => {
                    self.audit.record(
                        "tool_poisoning",
                        vec![
                            ("tool_name", json!(name)),
                            ("direction", json!("response")),
                            ("verdict", json!("reject")),
                            ("reason", json!("unreadable_definition")),
                        ],
                    );
                    tracing::warn!(
                        "tool {name:?} withheld: its definition has no string name or a value that cannot be read (a number out of range?), so it cannot be pinned or classified"
                    );
                    unreadable.insert(name.clone());
                    (Value::Null, name)
                }
            };
            let mut tool = Listed {
                raw,
                value,
                name,
                redacted: None,
            };
            self.scan_tool(&mut tool, &mut poisoned);
            // Its own statement: the trust lock is taken again below.
            let learned = lock(&self.trust).learn(&tool.value);
            if let Some((n, class, why, new)) = learned {
                let refused = lock(&self.trust).check_tool(&n).err();
                let class = trust::class_name(class);
                // A refused tool is news worth a line; an allowed one is counted, so a server
                // with a hundred tools does not fill the client's log at every start.
                match (&refused, new) {
                    (Some(d), true) => tracing::info!(
                        "tool {n:?}: class {class} from {why}; refused: {}",
                        d.reason()
                    ),
                    (None, true) if !poisoned.contains(&n) => {
                        newly_allowed += 1;
                        tracing::debug!("tool {n:?}: class {class} from {why}; allowed");
                    }
                    _ => tracing::debug!("tool {n:?}: class {class} from {why}"),
                }
            }
            listed.push(tool);
        }
        if newly_allowed > 0 {
            tracing::info!(
                "{newly_allowed} tools allowed at trust level {} (log_level: DEBUG lists each with its class)",
                trust::level_name(lock(&self.trust).level())
            );
        }
        let mut reasons: HashMap<String, String> = poisoned
            .iter()
            .map(|n| (n.clone(), "description failed the content scan".to_string()))
            .collect();
        for n in unreadable {
            reasons.insert(n, "its definition cannot be read".into());
        }
        for n in self.check_pins(&listed, &poisoned, first_page, last_page) {
            reasons
                .entry(n)
                .or_insert_with(|| "changed since pinned".into());
        }
        {
            // This listing decides for the tools it shows: withheld again, or released.
            let mut w = lock(&self.withheld);
            for t in &listed {
                match reasons.get(&t.name) {
                    Some(why) => w.insert(t.name.clone(), why.clone()),
                    None => w.remove(&t.name),
                };
            }
        }
        let tools_changed = !reasons.is_empty() || listed.iter().any(|t| t.redacted.is_some());
        if tools_changed {
            let kept: Vec<&[u8]> = listed
                .iter()
                .filter(|t| !reasons.contains_key(&t.name))
                .map(|t| {
                    t.redacted
                        .as_deref()
                        .unwrap_or_else(|| t.raw.get().as_bytes())
                })
                .collect();
            splices.push((tools_raw, message::array_of(&kept)));
        }
        if splices.is_empty() {
            return Some(Outcome::forward(line.to_vec()));
        }
        Some(Outcome::forward(message::splice_many(line, splices)))
    }

    /// Scans one tool: a rejected one is `poisoned`, a redacted one keeps its redacted bytes
    /// (and value, for the pins).
    fn scan_tool(&self, tool: &mut Listed, poisoned: &mut BTreeSet<String>) {
        let bytes = tool.raw.get().as_bytes();
        let v = self.judge_definition(bytes, Some(&tool.name));
        match v.action {
            Action::Reject => {
                self.audit.record(
                    "tool_poisoning",
                    vec![
                        ("tool_name", json!(tool.name)),
                        ("direction", json!("response")),
                        ("verdict", json!("reject")),
                        ("detections", describe(&v.detections)),
                        ("detections_omitted", omitted(&v.detections)),
                    ],
                );
                tracing::warn!(
                    "tool {:?} withheld: its description or schema failed the content scan ({})",
                    tool.name,
                    self.why(&v)
                );
                poisoned.insert(tool.name.clone());
            }
            Action::Redact => {
                // A changed definition is never silent: the client sees another schema.
                self.audit.record(
                    "content_redacted",
                    vec![
                        ("tool_name", json!(tool.name)),
                        ("direction", json!("response")),
                        ("verdict", json!("redact")),
                        ("detections", describe(&v.detections)),
                        ("detections_omitted", omitted(&v.detections)),
                        ("metadata", json!({"in": "tools/list"})),
                    ],
                );
                tracing::info!(
                    "tool {:?}: its definition was redacted before the client sees it ({})",
                    tool.name,
                    self.why(&v)
                );
                let red = self.scanner.redact_json(bytes, &v);
                if let Ok(value) = serde_json::from_slice(&red) {
                    tool.value = value;
                    tool.redacted = Some(red);
                }
            }
            _ => {}
        }
    }

    /// Checks the listing against the pins (a poisoned tool is never pinned on first sight);
    /// returns the tools to withhold for having changed.
    fn check_pins(
        &self,
        listed: &[Listed],
        poisoned: &BTreeSet<String>,
        first_page: bool,
        last_page: bool,
    ) -> BTreeSet<String> {
        let Some(integrity) = &self.integrity else {
            return BTreeSet::new();
        };
        let mut integrity = lock(integrity);
        let values: Vec<Value> = listed
            .iter()
            .filter(|t| !poisoned.contains(&t.name) || integrity.is_pinned(&t.name))
            .map(|t| t.value.clone())
            .collect();
        let check = integrity.check_page(&values, first_page, last_page);
        // A pin file that changed under the running proxy (approve, or someone else): on the
        // record either way, since pins written by anyone but `approve` would hide a rug pull.
        if let Some(reloaded) = &check.reloaded {
            let metadata = match reloaded {
                Ok(tools) => {
                    json!({"action": "pins_reloaded", "tool_count": tools, "hash": check.pinned_hash})
                }
                Err(why) => json!({"action": "pins_change_refused", "reason": why}),
            };
            self.audit
                .record("manifest_change", vec![("metadata", metadata)]);
        }
        if !check.pinned.is_empty() {
            self.audit.record(
                "manifest_change",
                vec![(
                    "metadata",
                    json!({"action": "initial_store", "tools": check.pinned, "tool_count": check.pinned.len(), "hash": check.pinned_hash}),
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
                    json!({"action": "change_detected", "previous_hash": check.pinned_hash, "current_hash": check.shown_hash, "diff": {"added": d.added, "removed": d.removed, "modified": d.modified, "has_changes": true}, "withheld": check.withhold}),
                )],
            );
            if self.settings.alert_on_change {
                tracing::warn!(
                    "tool manifest changed since it was pinned: added={} removed={} modified={}{}",
                    first_names(&d.added),
                    first_names(&d.removed),
                    first_names(&d.modified),
                    if check.withhold.is_empty() {
                        String::new()
                    } else {
                        format!(
                        "; withheld until `mcp-parapet approve --name {0} --show` is reviewed and `mcp-parapet approve --name {0} --expect {1}` accepts it",
                        self.settings.server_name,
                        check.shown_hash.as_deref().map_or("", |h| &h[..16.min(h.len())])
                    )
                    }
                );
            }
        }
        check.withhold
    }
}

/// How many tool names a manifest change names on stderr per list ([`first_names`]).
const NAMES_SHOWN: usize = 10;

/// The first [`NAMES_SHOWN`] of `names` as a list, then how many more: a server that renames
/// thousands of tools must not make a line of them (the audit trail keeps them all).
fn first_names(names: &[String]) -> String {
    let shown: Vec<&String> = names.iter().take(NAMES_SHOWN).collect();
    match names.len().saturating_sub(NAMES_SHOWN) {
        0 => format!("{shown:?}"),
        more => format!("{shown:?} and {more} more"),
    }
}

#[cfg(test)]
mod first_names_tests {
    use super::*;

    #[test]
    fn a_long_list_names_ten_then_how_many_more() {
        let names: Vec<String> = (0..25).map(|i| format!("tool_{i}")).collect();
        assert_eq!(first_names(&names[..2]), r#"["tool_0", "tool_1"]"#);
        let long = first_names(&names);
        assert!(long.starts_with(r#"["tool_0", "#) && long.ends_with(r#""tool_9"] and 15 more"#));
    }
}
