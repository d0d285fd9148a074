//! What the audit trail holds of a message: detections without their bytes, the injection
//! score, ids as the reference wrote them, and arguments with every finding redacted and long
//! strings cut.

use super::*;

/// The verdict's combined injection score for the audit trail (two decimals), or null.
pub fn score(v: &Verdict) -> Value {
    v.injection_score.map_or(Value::Null, |s| {
        json!((f64::from(s) * 100.0).round() / 100.0)
    })
}

/// How many detections one audit record lists; the rest are counted by rule
/// ([`omitted`]). An answer with 128,000 findings made a record of tens of megabytes and held
/// hundreds of megabytes while it was built.
pub const AUDIT_DETECTIONS: usize = 1000;

/// Detections as the audit trail and stderr show them, the first [`AUDIT_DETECTIONS`]: never
/// the matched bytes.
pub fn describe(detections: &[Detection]) -> Value {
    Value::Array(
        detections
            .iter()
            .take(AUDIT_DETECTIONS)
            .map(|d| {
                // `pattern` is the reference's name for what fired (its readers filter on it);
                // confidence rounded as a decimal, not an f32 printed as an f64.
                let mut v = json!({
                    "type": d.kind, "category": d.category.as_str(), "rule": d.rule_id,
                    "pattern": d.rule_id,
                    "confidence": (f64::from(d.confidence) * 100.0).round() / 100.0,
                    "pointer": d.pointer, "span": [d.span.0, d.span.1],
                    "fingerprint": d.fingerprint, "action": d.action.as_str(),
                });
                // Found once decoded: the chain of encodings (`base64>percent`).
                if let Some(e) = &d.encoding {
                    v["encoding"] = json!(e);
                }
                v
            })
            .collect(),
    )
}

/// The detections past the first [`AUDIT_DETECTIONS`], for the record beside them: their
/// count and their count per rule, or null (no field) when there are none.
pub fn omitted(detections: &[Detection]) -> Value {
    let rest = detections.get(AUDIT_DETECTIONS..).unwrap_or_default();
    if rest.is_empty() {
        return Value::Null;
    }
    let mut by_rule: std::collections::BTreeMap<&str, usize> = Default::default();
    for d in rest {
        *by_rule.entry(&d.rule_id).or_default() += 1;
    }
    json!({"count": rest.len(), "by_rule": by_rule})
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
    pub(super) fn for_the_trail(
        &self,
        json: &[u8],
        scanned: Option<&Verdict>,
        tool: &str,
    ) -> Value {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finding_made_once_decoded_names_its_encoding_in_the_trail() {
        let scanner = crate::rule_cache::default_scanner();
        // A GitHub token, base64-encoded.
        let v = scanner
            .scan("blob: Z2hwX1FtM2tWOVp0UjJ4VzhwTGM0TmJZN2RGaDFKc0c2YTBBYkNkRQ==")
            .unwrap();
        let d = describe(&v.detections);
        assert_eq!(d[0]["encoding"], "base64", "{d}");
        assert_eq!(d[0]["rule"], "github.ghp", "{d}");
    }

    #[test]
    fn a_record_lists_its_first_detections_and_counts_the_rest_by_rule() {
        let scanner = crate::rule_cache::default_scanner();
        let few = scanner.scan("mail jane@acme-corp.com").unwrap();
        assert_eq!(omitted(&few.detections), Value::Null);
        let text: String = (0..AUDIT_DETECTIONS + 25)
            .map(|i| format!("mail jane{i}@acme-corp.com\n"))
            .collect();
        let many = scanner.scan(&text).unwrap();
        assert_eq!(many.detections.len(), AUDIT_DETECTIONS + 25);
        assert_eq!(
            describe(&many.detections).as_array().map(Vec::len),
            Some(AUDIT_DETECTIONS)
        );
        assert_eq!(
            omitted(&many.detections),
            json!({"count": 25, "by_rule": {"pii.email": 25}})
        );
    }
}
