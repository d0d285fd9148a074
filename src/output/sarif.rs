//! SARIF 2.1.0 for GitHub code scanning: one result per distinct finding (rule and
//! fingerprint), its first place as the location and the others as related locations; the
//! fingerprint goes in `partialFingerprints` so code scanning tracks it across runs. Never the
//! matched value.

use std::collections::BTreeMap;
use std::io::{self, Write};

use parapet_engine::{Action, Category};
use serde_json::{json, Value};

use super::{groups, pretty_with_items, Report};

fn level(category: Category, action: Action) -> &'static str {
    match (category, action) {
        (Category::Secret, _) | (_, Action::Reject) => "error",
        (Category::Pii, _) | (_, Action::Redact) => "warning",
        _ => "note",
    }
}

fn location(r: &Report, i: usize) -> Value {
    let d = &r.verdict.detections[i];
    let line = r.places.get(i).map_or(0, |p| p.0);
    // SARIF counts columns in UTF-16 code units (the run says so below).
    let column = r.columns_utf16.get(i).copied().unwrap_or(0);
    let mut region = json!({});
    if line > 0 {
        region["startLine"] = json!(line);
    }
    if column > 0 {
        region["startColumn"] = json!(column);
    }
    // Byte offsets only where they are offsets into the file itself.
    if !r.json && !r.decoded {
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

/// A path as a URI reference (RFC 3986): relative paths stay relative, absolute ones become
/// `file://` URIs; every byte but the unreserved characters, `/` and the `!` of an archive
/// member (`a.tar.gz!x/y`) is percent-encoded (`?`, `#`, `[`, spaces, non-ASCII).
fn uri(path: &str) -> String {
    let p = path.strip_prefix("./").unwrap_or(path);
    let mut out = String::with_capacity(p.len() + 8);
    if p.starts_with('/') {
        out.push_str("file://");
    }
    for &b in p.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/' | b'!') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The SARIF result of one group of detections (one value, every place it was found).
fn result(reports: &[Report], group: &[(usize, usize)]) -> Value {
    let (ri, di) = group[0];
    let r = &reports[ri];
    let d = &r.verdict.detections[di];
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
    if let Some(e) = &d.encoding {
        result["properties"] = json!({"encoding": e});
    }
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
    result
}

/// The whole log; results are serialized one at a time, so millions of findings are never
/// one value in memory.
pub fn write(out: &mut dyn Write, reports: &[Report]) -> io::Result<()> {
    let groups = groups(reports);
    let mut rules: BTreeMap<&str, Value> = BTreeMap::new();
    for group in &groups {
        let (ri, di) = group[0];
        let d = &reports[ri].verdict.detections[di];
        rules.entry(d.rule_id.as_str()).or_insert_with(|| {
            json!({
                "id": d.rule_id,
                "name": d.kind,
                "shortDescription": {"text": format!("{} ({})", d.kind, d.category)},
                "properties": {"tags": [d.category.as_str(), "security"]},
            })
        });
    }
    let rule_list: Vec<Value> = rules.into_values().collect();
    let skeleton = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "mcp-parapet",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/mcp-parapet/mcp-parapet",
                "rules": rule_list,
            }},
            "columnKind": "utf16CodeUnits",
            "results": [],
        }],
    });
    let results = groups.iter().map(|g| result(reports, g));
    pretty_with_items(out, &skeleton, "results", 0, results)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn paths_become_uri_references() {
        assert_eq!(super::uri("./logs/app.log"), "logs/app.log");
        assert_eq!(super::uri("logs/a b#1.txt"), "logs/a%20b%231.txt");
        assert_eq!(
            super::uri("../d/a?b[1]é.txt"),
            "../d/a%3Fb%5B1%5D%C3%A9.txt"
        );
        assert_eq!(super::uri("/tmp/x.txt"), "file:///tmp/x.txt");
        assert_eq!(super::uri("b.tgz!in/x.log"), "b.tgz!in/x.log");
    }
}
