//! One finding per line: `path, line, column, start, end, category, kind, rule, confidence,
//! fingerprint` (and `pointer` for JSON inputs, `encoding` for a finding made once decoded). The matched value only with --show-secrets.

use std::io::{self, Write};

use parapet_engine::{Action, Category};
use serde::Serialize;

use super::{matched, Report};

/// One line, its fields in output order (a struct, not a map: this runs once per finding).
#[derive(Serialize)]
struct Line<'a> {
    path: &'a str,
    line: Option<usize>,
    column: Option<usize>,
    start: usize,
    end: usize,
    category: Category,
    kind: &'a str,
    rule: &'a str,
    confidence: f64,
    fingerprint: &'a str,
    action: Action,
    #[serde(skip_serializing_if = "Option::is_none")]
    pointer: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    encoding: Option<&'a str>,
    #[serde(rename = "match", skip_serializing_if = "Option::is_none")]
    matched: Option<String>,
}

pub fn write(out: &mut dyn Write, reports: &[Report], show: bool) -> io::Result<()> {
    // Each line is serialized into this buffer and written whole: serde_json's many small
    // writes through `dyn Write` cost more than the serializing.
    let mut buf = Vec::with_capacity(512);
    for r in reports {
        for (i, d) in r.verdict.detections.iter().enumerate() {
            let (line, column) = r.places.get(i).copied().unwrap_or((0, 0));
            // In a JSON input a finding has a pointer and no column (and a line only in a
            // file of JSON lines).
            let (line, column) = match d.pointer {
                Some(_) => ((line > 0).then_some(line), None),
                None => (Some(line), Some(column)),
            };
            let l = Line {
                path: &r.path,
                line,
                column,
                start: d.span.0,
                end: d.span.1,
                category: d.category,
                kind: &d.kind,
                rule: &d.rule_id,
                confidence: (d.confidence as f64 * 1000.0).round() / 1000.0,
                fingerprint: &d.fingerprint,
                action: d.action,
                pointer: d.pointer.as_deref(),
                encoding: d.encoding.as_deref(),
                matched: show
                    .then(|| matched(r, i).map(|m| String::from_utf8_lossy(m).into_owned()))
                    .flatten(),
            };
            buf.clear();
            serde_json::to_writer(&mut buf, &l)?;
            buf.push(b'\n');
            out.write_all(&buf)?;
        }
    }
    Ok(())
}
