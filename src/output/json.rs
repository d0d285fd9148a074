//! JSON output in the Python reference's shape: `{allowed, action, flags, detections: [{type,
//! confidence, start, end, pattern}]}`, with `type` our kind and byte offsets; we add
//! `category`, `rule`, `fingerprint`, `pointer`, `encoding` (the decoding chain of a finding in an
//! encoded blob or a normalised view), and `line` (and `column`) where known. Several
//! inputs give an array with `path`.

use std::io::{self, Write};

use serde_json::{json, Value};

use super::{matched, pretty_with_items, Report};

/// One detection of `r` in the reference's shape.
fn detection_json(r: &Report, i: usize, show: bool) -> Value {
    let d = &r.verdict.detections[i];
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
    // Found once decoded: the chain of encodings, outermost first (`base64>percent`).
    if let Some(e) = &d.encoding {
        v["encoding"] = json!(e);
    }
    // Where it is, when known: with --json-lines the offsets are into one line's strings, so
    // the line says which document.
    if let Some(&(line, column)) = r.places.get(i).filter(|p| p.0 > 0) {
        v["line"] = json!(line);
        if column > 0 {
            v["column"] = json!(column);
        }
    }
    if show {
        if let Some(m) = matched(r, i) {
            v["match"] = json!(String::from_utf8_lossy(m));
        }
    }
    v
}

/// A report's verdict, its detections serialized one at a time (at depth `indent`).
fn write_verdict(
    out: &mut dyn Write,
    r: &Report,
    show: bool,
    path: bool,
    indent: usize,
) -> io::Result<()> {
    let mut skeleton = json!({
        "allowed": r.verdict.allowed,
        "action": r.verdict.action,
        "flags": r.verdict.flags,
        "detections": [],
    });
    if path {
        skeleton["path"] = json!(r.path);
    }
    let items = (0..r.verdict.detections.len()).map(|i| detection_json(r, i, show));
    pretty_with_items(out, &skeleton, "detections", indent, items)
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
    if one_input && reports.len() <= 1 && !reports.first().is_some_and(member) {
        match reports.first() {
            Some(r) => write_verdict(out, r, show, false, 0)?,
            None => serde_json::to_writer_pretty(
                &mut *out,
                &json!({"allowed": true, "action": "allow", "flags": [], "detections": []}),
            )?,
        }
    } else if reports.is_empty() {
        out.write_all(b"[]")?;
    } else {
        out.write_all(b"[")?;
        for (k, r) in reports.iter().enumerate() {
            out.write_all(if k == 0 { b"\n  " } else { b",\n  " })?;
            write_verdict(out, r, show, true, 2)?;
        }
        out.write_all(b"\n]")?;
    }
    writeln!(out)
}
