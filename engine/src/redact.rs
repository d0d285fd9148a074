//! Redaction: replace the spans of detections whose own policy is `redact` with
//! `[REDACTED:<kind>]`, merging overlaps first so output is never corrupted. For JSON only the
//! affected string tokens are rewritten; every other byte is left as it was.

use std::collections::BTreeMap;

use crate::json::{value_tokens, ValueToken};
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

/// How a marker is written where a span was: inside a string (as it is), or in free text,
/// where a span that is a whole JSON number (`"card": 4190937865797547,`) gets its marker
/// quoted, so a JSON file redacted as text stays JSON.
#[derive(Clone, Copy, PartialEq)]
enum Context {
    InString,
    Text,
}

fn apply(text: &[u8], spans: Vec<(usize, usize, &str)>, context: Context) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut at = 0;
    for (s, e, kind) in merge(spans) {
        let (s, e) = (s.min(text.len()), e.min(text.len()));
        if s < at {
            continue;
        }
        out.extend_from_slice(&text[at..s]);
        let quote = context == Context::Text && is_bare_json_number(text, s, e);
        if quote {
            out.push(b'"');
        }
        out.extend_from_slice(b"[REDACTED:");
        out.extend_from_slice(kind.as_bytes());
        out.push(b']');
        if quote {
            out.push(b'"');
        }
        at = e;
    }
    out.extend_from_slice(&text[at..]);
    out
}

/// Whether `text[s..e]` is a whole number in a JSON value's place: digits (a `-` first),
/// after `:`, `,` or `[` and before `,`, `}`, `]` or the end (whitespace allowed around).
fn is_bare_json_number(text: &[u8], s: usize, e: usize) -> bool {
    let span = &text[s..e];
    let digits = span.strip_prefix(b"-").unwrap_or(span);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let before = text[..s].iter().rev().find(|b| !b.is_ascii_whitespace());
    let after = text[e..].iter().find(|b| !b.is_ascii_whitespace());
    matches!(before, Some(b':' | b',' | b'[')) && matches!(after, None | Some(b',' | b'}' | b']'))
}

/// `text` with every redact-policy detection replaced.
pub fn redact_text(text: &[u8], detections: &[Detection]) -> Vec<u8> {
    redact_text_where(text, detections, |d| d.action == Action::Redact)
}

/// `text` with the detections `chosen` picks replaced.
pub fn redact_text_where(
    text: &[u8],
    detections: &[Detection],
    chosen: impl Fn(&Detection) -> bool,
) -> Vec<u8> {
    let spans = detections
        .iter()
        .filter(|d| chosen(d))
        .map(|d| (d.span.0, d.span.1, d.kind.as_str()))
        .collect();
    apply(text, spans, Context::Text)
}

/// Whether the string token that ends at `close` is an object key (a `:` follows it).
fn is_key(raw: &[u8], close: usize) -> bool {
    raw[close..]
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b':')
}

/// The string token `token` (quotes included) decoded as the scan decoded it, so detection
/// spans point at the same bytes. serde_json first; strings it refuses (a lone surrogate,
/// which simd-json decodes) through simd-json itself.
fn decode_like_the_scan(token: &[u8]) -> Option<String> {
    if let Ok(s) = serde_json::from_slice::<String>(token) {
        return Some(s);
    }
    let mut copy = token.to_vec();
    let tape = simd_json::to_tape(&mut copy).ok()?;
    match tape.0.first() {
        Some(simd_json::tape::Node::String(s)) => Some((*s).to_owned()),
        _ => None,
    }
}

/// `raw` JSON with the redact-policy detections applied inside the strings they were found
/// in. `raw` must be the document those detections came from.
pub fn redact_json(raw: &[u8], detections: &[Detection]) -> Vec<u8> {
    redact_json_where(raw, detections, |d| d.action == Action::Redact)
}

/// [`redact_json`] of the detections `chosen` picks.
pub fn redact_json_where(
    raw: &[u8],
    detections: &[Detection],
    chosen: impl Fn(&Detection) -> bool,
) -> Vec<u8> {
    let mut by_string: BTreeMap<usize, Vec<(usize, usize, &str)>> = BTreeMap::new();
    for d in detections.iter().filter(|d| chosen(d)) {
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
    // Ordinals count the strings and scanned numbers in document order ([`value_tokens`]);
    // a redacted number becomes a string.
    let tokens = value_tokens(raw);
    let mut replacements = Vec::new();
    let mut redacted_keys = 0;
    for (ordinal, spans) in by_string {
        let (open, close, decoded) = match tokens.get(ordinal) {
            Some(&ValueToken::String(open, close)) => {
                match decode_like_the_scan(&raw[open..close]) {
                    Some(decoded) => (open, close, decoded),
                    // Never forward a string that held a finding as it was: the whole of it goes.
                    None => {
                        let kind = spans.first().map_or("unknown", |s| s.2);
                        replacements.push((open, close, format!("\"[REDACTED:{kind}]\"")));
                        continue;
                    }
                }
            }
            Some(ValueToken::Number(open, close, text)) => (*open, *close, text.clone()),
            None => continue,
        };
        let redacted = apply(decoded.as_bytes(), spans, Context::InString);
        let mut redacted = String::from_utf8_lossy(&redacted).into_owned();
        // Two keys of one object redacted alike would be a duplicate key, which parsers
        // resolve by dropping one: every redacted key after the first is numbered.
        if is_key(raw, close) {
            redacted_keys += 1;
            if redacted_keys > 1 {
                redacted.push_str(&format!(" #{redacted_keys}"));
            }
        }
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

/// The bytes each of `detections` matched in `raw` (see [`crate::Scanner::matched_json`]):
/// the document is tokenized once, and each string decoded once.
pub fn matched_json(raw: &[u8], detections: &[Detection]) -> Vec<Option<Vec<u8>>> {
    if detections.iter().all(|d| d.pieces.is_empty()) {
        return vec![None; detections.len()];
    }
    let tokens = value_tokens(raw);
    let mut decoded: std::collections::HashMap<usize, Option<String>> =
        std::collections::HashMap::new();
    let mut text_of = |ordinal: usize| -> Option<String> {
        decoded
            .entry(ordinal)
            .or_insert_with(|| match tokens.get(ordinal)? {
                &ValueToken::String(open, close) => decode_like_the_scan(&raw[open..close]),
                ValueToken::Number(_, _, text) => Some(text.clone()),
            })
            .clone()
    };
    detections
        .iter()
        .map(|d| {
            if d.pieces.is_empty() {
                return None;
            }
            let mut out = Vec::new();
            for (k, &(ordinal, s, e)) in d.pieces.iter().enumerate() {
                let text = text_of(ordinal)?;
                if k > 0 {
                    out.push(b' ');
                }
                out.extend_from_slice(text.as_bytes().get(s..e)?);
            }
            Some(out)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matched_json_gives_the_decoded_match_and_joins_pieces() {
        let scanner = crate::rule_cache::default_scanner();
        let doc =
            br#"{"k":"id \u0041KIAQWERTYUIOPASDFGH x","a":"Ignore","b":"previous instructions"}"#;
        let v = scanner.scan_json(doc).unwrap();
        let shown: Vec<String> = scanner
            .matched_json(doc, &v.detections)
            .into_iter()
            .flatten()
            .map(|m| String::from_utf8(m).unwrap())
            .collect();
        assert!(
            shown.contains(&"AKIAQWERTYUIOPASDFGH".to_string()),
            "{shown:?}"
        );
        assert!(
            shown.iter().any(|m| m.starts_with("Ignore previous")),
            "{shown:?}"
        );
    }

    #[test]
    fn overlapping_spans_merge() {
        let out = apply(
            b"4111 1111 1116 123-45-6789 end",
            vec![(0, 18, "credit_card"), (15, 26, "ssn")],
            Context::Text,
        );
        assert_eq!(out, b"[REDACTED:credit_card] end");
    }

    #[test]
    fn a_number_in_a_json_value_place_gets_a_quoted_marker_in_text() {
        let json =
            br#"{"card":4190937865797547,"list":[ 4190937865797547 ],"n":-4190937865797547}"#;
        let spans = |text: &[u8]| {
            let mut v = Vec::new();
            let mut i = 0;
            while let Some(p) = text[i..].windows(16).position(|w| w == b"4190937865797547") {
                let s = i + p - usize::from(text[i + p - 1] == b'-');
                v.push((s, i + p + 16, "credit_card"));
                i += p + 16;
            }
            v
        };
        let out = apply(json, spans(json), Context::Text);
        let parsed: serde_json::Value = serde_json::from_slice(&out).expect("still JSON");
        assert_eq!(parsed["card"], "[REDACTED:credit_card]");
        assert_eq!(parsed["n"], "[REDACTED:credit_card]");
        // In prose, and inside a string, the marker stays as it is.
        let prose = b"card 4190937865797547 expired";
        assert_eq!(
            apply(prose, spans(prose), Context::Text),
            b"card [REDACTED:credit_card] expired"
        );
        let in_string = b"a:4190937865797547,";
        assert_eq!(
            apply(in_string, spans(in_string), Context::InString),
            b"a:[REDACTED:credit_card],"
        );
    }
}
