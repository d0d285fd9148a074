//! One finding per line: `path, line, column, start, end, category, kind, rule, confidence,
//! fingerprint` (and `pointer` for JSON inputs). The matched value only with --show-secrets.

use std::io::{self, Write};

use serde_json::json;

use super::{matched, Report};

pub fn write(out: &mut dyn Write, reports: &[Report], show: bool) -> io::Result<()> {
    for r in reports {
        for (i, d) in r.verdict.detections.iter().enumerate() {
            let (line, column) = r.places.get(i).copied().unwrap_or((0, 0));
            let mut v = json!({
                "path": r.path,
                "line": line,
                "column": column,
                "start": d.span.0,
                "end": d.span.1,
                "category": d.category,
                "kind": d.kind,
                "rule": d.rule_id,
                "confidence": (d.confidence as f64 * 1000.0).round() / 1000.0,
                "fingerprint": d.fingerprint,
                "action": d.action,
            });
            if let Some(p) = &d.pointer {
                v["pointer"] = json!(p);
                v["line"] = if line > 0 { json!(line) } else { json!(null) };
                v["column"] = json!(null);
            }
            if show {
                if let Some(m) = matched(r, i) {
                    v["match"] = json!(String::from_utf8_lossy(m));
                }
            }
            serde_json::to_writer(&mut *out, &v)?;
            writeln!(out)?;
        }
    }
    Ok(())
}
