//! JSON output in the Python reference's shape: `{allowed, action, flags, detections: [{type,
//! confidence, start, end, pattern}]}`, with `type` our kind and byte offsets; we add
//! `category`, `rule`, `fingerprint`, `pointer`. Several inputs give an array with `path`.

use std::io::{self, Write};

use serde_json::{json, Value};

use super::{matched, Report};

fn verdict_json(r: &Report, show: bool) -> Value {
    let detections: Vec<Value> = r
        .verdict
        .detections
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let mut v = json!({
                "type": d.kind,
                "confidence": (d.confidence as f64 * 1000.0).round() / 1000.0,
                "start": d.span.0,
                "end": d.span.1,
                "pattern": d.rule_id,
                "category": d.category,
                "action": d.action,
                "fingerprint": d.fingerprint,
            });
            if let Some(p) = &d.pointer {
                v["pointer"] = json!(p);
            }
            if show {
                if let Some(m) = matched(r, i) {
                    v["match"] = json!(String::from_utf8_lossy(m));
                }
            }
            v
        })
        .collect();
    json!({
        "allowed": r.verdict.allowed,
        "action": r.verdict.action,
        "flags": r.verdict.flags,
        "detections": detections,
    })
}

/// One object for one input named on the command line (an empty verdict when it was skipped
/// or could not be read); otherwise an array with each report's path, however many there are.
pub fn write(
    out: &mut dyn Write,
    reports: &[Report],
    show: bool,
    one_input: bool,
) -> io::Result<()> {
    // An archive's member is named by its path even when it is the only one.
    let member = |r: &Report| r.decoded && r.path.contains('!');
    let value = if one_input && reports.len() <= 1 && !reports.first().is_some_and(member) {
        match reports.first() {
            Some(r) => verdict_json(r, show),
            None => json!({"allowed": true, "action": "allow", "flags": [], "detections": []}),
        }
    } else {
        Value::Array(
            reports
                .iter()
                .map(|r| {
                    let mut v = verdict_json(r, show);
                    v["path"] = json!(r.path);
                    v
                })
                .collect(),
        )
    };
    serde_json::to_writer_pretty(&mut *out, &value)?;
    writeln!(out)
}
