//! The invariants the fuzz targets check (`fuzz/`), kept here so plain `cargo test` runs the
//! same bodies over seed inputs where cargo-fuzz is absent. Each function panics on a broken
//! invariant; returning means the input passed.

use crate::fold::Folded;
use crate::{Action, Scanner};

/// Text scan: never panics, every span in bounds and ordered.
pub fn scan_text(scanner: &Scanner, data: &[u8]) {
    let Ok(v) = scanner.scan_bytes(data) else {
        return;
    };
    for d in &v.detections {
        assert!(
            d.span.0 <= d.span.1 && d.span.1 <= data.len(),
            "span {:?} of {}",
            d.span,
            data.len()
        );
    }
}

/// JSON scan and redaction: the redacted document parses, keeps its shape, and differs from the
/// input only when something was redacted.
pub fn scan_and_redact_json(scanner: &Scanner, data: &[u8]) {
    let Ok(mut v) = scanner.scan_json(data) else {
        return;
    };
    for d in &mut v.detections {
        assert!(d.span.0 <= d.span.1);
        d.action = Action::Redact;
    }
    let out = scanner.redact_json(data, &v);
    if v.detections
        .iter()
        .all(|d| d.category == crate::Category::Validation)
    {
        assert_eq!(out, data, "nothing to redact, bytes changed");
        return;
    }
    // simd-json accepts a few documents serde_json rejects (and the reverse); only documents
    // both read are checked further.
    if serde_json::from_slice::<serde::de::IgnoredAny>(data).is_err() {
        return;
    }
    serde_json::from_slice::<serde::de::IgnoredAny>(&out)
        .unwrap_or_else(|e| panic!("redacted JSON does not parse: {e}"));
    assert_eq!(
        outside_strings(data),
        outside_strings(&out),
        "redaction changed bytes outside strings"
    );
}

/// The document with every string and every scanned number written `""`: what redaction must
/// never change (a redacted number becomes a string).
fn outside_strings(json: &[u8]) -> Vec<u8> {
    let tokens: Vec<(usize, usize)> = crate::json::value_tokens(json)
        .iter()
        .map(crate::json::ValueToken::range)
        .collect();
    let mut out = Vec::with_capacity(json.len());
    let mut at = 0;
    for (open, close) in tokens {
        out.extend_from_slice(&json[at..open]);
        out.extend_from_slice(b"\"\"");
        at = close;
    }
    out.extend_from_slice(&json[at..]);
    out
}

/// The folded view's offset map: monotone and in bounds, and folding drops only whitespace and
/// invisible characters (a whitespace run that held a line break is kept as `\n`).
pub fn fold_map(data: &[u8]) {
    let f = Folded::new(data);
    let mut last = 0;
    for i in 0..=f.text().len() {
        let o = f.original(i);
        assert!(
            o >= last && o <= data.len(),
            "offset {i} maps to {o} after {last}"
        );
        if i < f.text().len() {
            // A kept byte is the original's, or `\n` for a whitespace run with a line break.
            let (v, b) = (f.text()[i], data[o]);
            assert!(
                v == b || (v == b'\n' && (b == b' ' || (9..=13).contains(&b))),
                "byte {i} ({v:#x}) is not the original's byte {o} ({b:#x})"
            );
        }
        last = o;
    }
    let is_ws = |b: u8| b == b' ' || (9..=13).contains(&b);
    let (mut kept, mut i) = (0, 0);
    while i < data.len() {
        if let Some(n) = crate::fold::invisible_len(&data[i..]) {
            i += n;
            continue;
        }
        kept += usize::from(!is_ws(data[i]));
        i += 1;
    }
    let folded = f.text().iter().filter(|&&b| !is_ws(b)).count();
    assert_eq!(
        kept, folded,
        "folding dropped more than whitespace and invisible characters"
    );
}

/// The normalised view's offset map (NFKC, look-alikes, invisible characters, leetspeak,
/// spaced letters): one origin per byte of the view and one for its end, monotone, in bounds,
/// each at the start of a character of the text (or of an invalid stretch), the end at the
/// text's end; end offsets never before their starts. The regions the deep scan normalises lie
/// in the text, in order, apart.
pub fn normalise_map(data: &[u8]) {
    let view = crate::normalise::normalise(data);
    let n = view.text.len();
    let starts: Vec<usize> = {
        let mut v = Vec::with_capacity(data.len() + 1);
        let mut base = 0;
        for chunk in data.utf8_chunks() {
            v.extend(chunk.valid().char_indices().map(|(i, _)| base + i));
            base += chunk.valid().len();
            if !chunk.invalid().is_empty() {
                v.push(base);
                base += chunk.invalid().len();
            }
        }
        v.push(data.len());
        v
    };
    assert_eq!(
        view.original(n),
        data.len(),
        "the view's end is the text's end"
    );
    let mut last = 0;
    for i in 0..=n {
        let o = view.original(i);
        assert!(
            o >= last && o <= data.len(),
            "offset {i} maps to {o} after {last}"
        );
        assert!(
            starts.binary_search(&o).is_ok(),
            "offset {i} maps to {o}, inside a character"
        );
        let e = view.original_end(i, data.len());
        assert!(
            e <= data.len() && (i == 0 || e > view.original(i - 1)),
            "end {i} maps to {e}"
        );
        last = o;
    }
    let mut prev_end = 0;
    for (from, to) in crate::normalise::regions(data) {
        assert!(
            prev_end <= from && from < to && to <= data.len(),
            "region {from}..{to} after {prev_end}"
        );
        prev_end = to;
    }
}

/// A user rule file: parsing never panics; what parses also builds a scanner or fails cleanly.
pub fn rule_file(text: &str) {
    if let Ok(rules) = crate::parse_rules("fuzz.toml", text) {
        let config = crate::ScannerConfig {
            no_builtin_rules: true,
            extra_rules: rules,
            ..crate::ScannerConfig::default()
        };
        if let Ok(s) = Scanner::new(config) {
            scan_text(&s, text.as_bytes());
        }
    }
}
