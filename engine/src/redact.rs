//! Redaction: replace the spans of detections whose own policy is `redact` with
//! `[REDACTED:<kind>]`, merging overlaps first so output is never corrupted. For JSON only the
//! affected string tokens are rewritten; every other byte is left as it was.

use std::collections::BTreeMap;

use crate::json::{long_integer_tokens, string_tokens};
use crate::verdict::{Action, Detection};

/// Merged, sorted (start, end, kind) ranges.
fn merge(mut spans: Vec<(usize, usize, &str)>) -> Vec<(usize, usize, &str)> {
    spans.sort_by_key(|s| (s.0, std::cmp::Reverse(s.1)));
    let mut out: Vec<(usize, usize, &str)> = Vec::with_capacity(spans.len());
    for s in spans {
        match out.last_mut() {
            Some(last) if s.0 < last.1 => last.1 = last.1.max(s.1),
            _ => out.push(s),
        }
    }
    out
}

fn apply(text: &[u8], spans: Vec<(usize, usize, &str)>) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut at = 0;
    for (s, e, kind) in merge(spans) {
        let (s, e) = (s.min(text.len()), e.min(text.len()));
        if s < at {
            continue;
        }
        out.extend_from_slice(&text[at..s]);
        out.extend_from_slice(b"[REDACTED:");
        out.extend_from_slice(kind.as_bytes());
        out.push(b']');
        at = e;
    }
    out.extend_from_slice(&text[at..]);
    out
}

/// `text` with every redact-policy detection replaced.
pub fn redact_text(text: &[u8], detections: &[Detection]) -> Vec<u8> {
    let spans = detections
        .iter()
        .filter(|d| d.action == Action::Redact)
        .map(|d| (d.span.0, d.span.1, d.kind.as_str()))
        .collect();
    apply(text, spans)
}

/// `raw` JSON with the redact-policy detections applied inside the strings they were found
/// in. `raw` must be the document those detections came from.
pub fn redact_json(raw: &[u8], detections: &[Detection]) -> Vec<u8> {
    let mut by_string: BTreeMap<usize, Vec<(usize, usize, &str)>> = BTreeMap::new();
    for d in detections.iter().filter(|d| d.action == Action::Redact) {
        for &(ordinal, s, e) in &d.pieces {
            by_string
                .entry(ordinal)
                .or_default()
                .push((s, e, d.kind.as_str()));
        }
    }
    if by_string.is_empty() {
        return raw.to_vec();
    }
    // Ordinals count the strings in document order, then the long integers
    // ([`long_integer_tokens`]); a redacted integer becomes a string.
    let tokens = string_tokens(raw);
    let numbers = if by_string.keys().any(|&o| o >= tokens.len()) {
        long_integer_tokens(raw)
    } else {
        Vec::new()
    };
    let mut replacements = Vec::new();
    for (ordinal, spans) in by_string {
        let (open, close, decoded) = match tokens.get(ordinal) {
            Some(&(open, close)) => match serde_json::from_slice::<String>(&raw[open..close]) {
                Ok(decoded) => (open, close, decoded),
                Err(_) => continue,
            },
            None => match numbers.get(ordinal - tokens.len()) {
                Some(&(open, close)) => {
                    let text = String::from_utf8_lossy(&raw[open..close]).into_owned();
                    (open, close, text)
                }
                None => continue,
            },
        };
        let redacted = apply(decoded.as_bytes(), spans);
        let redacted = String::from_utf8_lossy(&redacted);
        let json = serde_json::to_string(&redacted).expect("a string always serializes");
        replacements.push((open, close, json));
    }
    replacements.sort_by_key(|r| r.0);
    let mut out = Vec::with_capacity(raw.len());
    let mut at = 0;
    for (open, close, json) in replacements {
        out.extend_from_slice(&raw[at..open]);
        out.extend_from_slice(json.as_bytes());
        at = close;
    }
    out.extend_from_slice(&raw[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_spans_merge() {
        let out = apply(
            b"4111 1111 1116 123-45-6789 end",
            vec![(0, 18, "credit_card"), (15, 26, "ssn")],
        );
        assert_eq!(out, b"[REDACTED:credit_card] end");
    }
}
