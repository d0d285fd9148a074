//! SARIF 2.1.0 for GitHub code scanning: one result per distinct finding (rule and
//! fingerprint), its first place as the location and the others as related locations; the
//! fingerprint goes in `partialFingerprints` so code scanning tracks it across runs. Never the
//! matched value.

use std::collections::BTreeMap;
use std::io::{self, Write};

use parapet_engine::{Action, Category};
use serde_json::{json, Value};

use super::{groups, Report};

fn level(category: Category, action: Action) -> &'static str {
    match (category, action) {
        (Category::Secret, _) | (_, Action::Reject) => "error",
        (Category::Pii, _) | (_, Action::Redact) => "warning",
        _ => "note",
    }
}

fn location(r: &Report, i: usize) -> Value {
    let d = &r.verdict.detections[i];
    let (line, column) = r.places.get(i).copied().unwrap_or((0, 0));
    let mut region = json!({});
    if line > 0 {
        region["startLine"] = json!(line);
    }
    if column > 0 {
        region["startColumn"] = json!(column);
    }
    if !r.json {
        region["byteOffset"] = json!(d.span.0);
        region["byteLength"] = json!(d.span.1 - d.span.0);
    }
    let mut loc = json!({"physicalLocation": {"artifactLocation": {"uri": uri(&r.path)}}});
    if region.as_object().is_some_and(|o| !o.is_empty()) {
        loc["physicalLocation"]["region"] = region;
    }
    if let Some(p) = &d.pointer {
        loc["logicalLocations"] = json!([{"fullyQualifiedName": p, "kind": "member"}]);
    }
    loc
}

/// A relative path as a URI reference: `/` separators, spaces and `%` escaped; an archive
/// member (`a.tar.gz!x/y`) keeps its `!`.
fn uri(path: &str) -> String {
    let p = path.strip_prefix("./").unwrap_or(path);
    p.replace('%', "%25")
        .replace(' ', "%20")
        .replace('#', "%23")
}

pub fn write(out: &mut dyn Write, reports: &[Report]) -> io::Result<()> {
    let mut rules: BTreeMap<String, Value> = BTreeMap::new();
    let mut results = Vec::new();
    for group in groups(reports) {
        let (ri, di) = group[0];
        let r = &reports[ri];
        let d = &r.verdict.detections[di];
        rules.entry(d.rule_id.clone()).or_insert_with(|| {
            json!({
                "id": d.rule_id,
                "name": d.kind,
                "shortDescription": {"text": format!("{} ({})", d.kind, d.category)},
                "properties": {"tags": [d.category.as_str(), "security"]},
            })
        });
        let mut result = json!({
            "ruleId": d.rule_id,
            "level": level(d.category, d.action),
            "message": {"text": format!(
                "{} {} found ({} place{}); value not shown, fingerprint {}",
                d.category, d.kind, group.len(), if group.len() == 1 { "" } else { "s" },
                if d.fingerprint.is_empty() { "-" } else { &d.fingerprint }
            )},
            "locations": [location(r, di)],
        });
        if !d.fingerprint.is_empty() {
            result["partialFingerprints"] = json!({"parapetFingerprint/v1": d.fingerprint});
        }
        if group.len() > 1 {
            let related: Vec<Value> = group[1..]
                .iter()
                .enumerate()
                .map(|(k, &(ri, di))| {
                    let mut l = location(&reports[ri], di);
                    l["id"] = json!(k + 1);
                    l
                })
                .collect();
            result["relatedLocations"] = Value::Array(related);
        }
        results.push(result);
    }
    let rule_list: Vec<Value> = rules.into_values().collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "mcp-parapet",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/mcp-parapet/mcp-parapet",
                "rules": rule_list,
            }},
            "results": results,
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
