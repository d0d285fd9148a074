//! Report writers, one module per output format.

mod json;
mod jsonl;
mod sarif;
mod text;

use std::io::{self, Write};

use clap::ValueEnum;
use parapet_engine::Verdict;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// grep-like lines: path:line:column: category/kind rule (confidence) masked value
    Text,
    /// The reference's verdict object (an array of them for several inputs)
    Json,
    /// One finding per line
    Jsonl,
    /// SARIF 2.1.0 (GitHub code scanning)
    Sarif,
}

/// When to colour text output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Color {
    /// When stdout is a terminal and NO_COLOR is not set
    Auto,
    Always,
    Never,
}

impl Color {
    pub fn enabled(self) -> bool {
        use std::io::IsTerminal;
        match self {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => {
                std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
        }
    }
}

/// One scanned input and its verdict, with each detection's place and matched bytes (so the
/// input itself need not stay in memory).
pub struct Report {
    pub path: String,
    pub verdict: Verdict,
    /// Spans are into decoded JSON strings rather than the raw bytes.
    pub json: bool,
    /// 1-based (line, column in bytes) per detection; (0, 0) when unknown (a whole JSON
    /// document).
    pub places: Vec<(usize, usize)>,
    /// 1-based column in UTF-16 code units per detection (SARIF's unit); 0 when unknown.
    pub columns_utf16: Vec<usize>,
    /// Spans are offsets into decompressed data or an archive member, not into the file.
    pub decoded: bool,
    /// The matched bytes per detection, when kept (text inputs).
    pub values: Vec<Option<Vec<u8>>>,
}

/// `one_input`: the command line named one file (not a directory): `json` then prints one
/// verdict object, as the reference did, whatever was found in it.
pub fn write(
    out: &mut dyn Write,
    format: Format,
    reports: &[Report],
    show: bool,
    color: bool,
    one_input: bool,
) -> io::Result<()> {
    match format {
        Format::Text => text::write(out, reports, show, color),
        Format::Json => json::write(out, reports, show, one_input),
        Format::Jsonl => jsonl::write(out, reports, show),
        Format::Sarif => sarif::write(out, reports),
    }
}

/// `skeleton` written as `serde_json::to_writer_pretty` would write it with its empty array
/// under `key` holding `items`, but each item serialized as it comes: an output of millions of
/// findings is never one value in memory. `indent` is the depth (in spaces) the skeleton itself
/// sits at, for one nested in an outer array.
pub fn pretty_with_items(
    out: &mut dyn Write,
    skeleton: &serde_json::Value,
    key: &str,
    indent: usize,
    items: impl Iterator<Item = serde_json::Value>,
) -> io::Result<()> {
    let text = indented(&serde_json::to_string_pretty(skeleton)?, indent, false);
    let marker = format!("\"{key}\": []");
    let at = text
        .rfind(&marker)
        .expect("the skeleton holds the empty array under its key");
    let key_indent = at - text[..at].rfind('\n').map_or(0, |p| p + 1);
    let (head, tail) = text.as_bytes().split_at(at + marker.len() - 1);
    out.write_all(head)?;
    let mut any = false;
    for item in items {
        out.write_all(if any { b",\n" } else { b"\n" })?;
        let item = serde_json::to_string_pretty(&item)?;
        out.write_all(indented(&item, key_indent + 2, true).as_bytes())?;
        any = true;
    }
    if any {
        write!(out, "\n{}", " ".repeat(key_indent))?;
    }
    out.write_all(tail)
}

/// `text` with `n` spaces before each line (the first too when `first`).
fn indented(text: &str, n: usize, first: bool) -> String {
    if n == 0 {
        return text.to_string();
    }
    let pad = " ".repeat(n);
    let mut out = String::with_capacity(text.len() + n * 8);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if i > 0 || first {
            out.push_str(&pad);
        }
        out.push_str(line);
    }
    out
}

/// The matched bytes of detection `i`, when they were kept.
pub fn matched(report: &Report, i: usize) -> Option<&[u8]> {
    report.values.get(i)?.as_deref()
}

/// A value shown without revealing it: its first few characters and its length.
pub fn mask(value: &[u8]) -> String {
    let s = String::from_utf8_lossy(value);
    let keep: String = s
        .chars()
        .take(if s.chars().count() > 12 { 4 } else { 1 })
        .collect();
    format!("{keep}…({} bytes)", value.len())
}

/// Where a detection is, for people: `path:line:col`, or `path#pointer:start-end` in JSON.
/// `s` safe to print on a terminal: control characters (a newline, an escape sequence) and
/// the bidi controls that reorder what is shown are written as `\x1b`, `\u{202e}`. File and
/// archive member names come from whoever wrote them: a name must not move the cursor, recolour
/// the terminal or fake another line of output.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| {
        c.is_control()
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !s.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !unsafe_char(c) {
            out.push(c);
        } else if (c as u32) < 0x100 {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    std::borrow::Cow::Owned(out)
}

pub fn place(report: &Report, i: usize) -> String {
    let d = &report.verdict.detections[i];
    let (line, col) = report.places.get(i).copied().unwrap_or((0, 0));
    match (&d.pointer, line) {
        (Some(p), 0) => format!("{}#{}:{}-{}", report.path, p, d.span.0, d.span.1),
        (Some(p), line) => format!("{}:{line}#{}:{}-{}", report.path, p, d.span.0, d.span.1),
        (None, _) => format!("{}:{line}:{col}", report.path),
    }
}

/// Detections grouped by (rule, fingerprint) across all reports, in first-seen order: the same
/// secret found in many places is one finding with many locations.
pub fn groups(reports: &[Report]) -> Vec<Vec<(usize, usize)>> {
    // foldhash, not SipHash: keys are our rule ids and keyed fingerprints, and hashing them was
    // the text output's largest cost with a finding on every line.
    let mut index: foldhash::HashMap<(&str, &str), usize> = Default::default();
    let mut out: Vec<Vec<(usize, usize)>> = Vec::new();
    for (ri, r) in reports.iter().enumerate() {
        for (di, d) in r.verdict.detections.iter().enumerate() {
            let key = (d.rule_id.as_str(), d.fingerprint.as_str());
            if d.fingerprint.is_empty() {
                out.push(vec![(ri, di)]);
                continue;
            }
            match index.get(&key) {
                Some(&g) => out[g].push((ri, di)),
                None => {
                    index.insert(key, out.len());
                    out.push(vec![(ri, di)]);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    /// What `pretty_with_items` writes is what serde_json writes for the whole value.
    #[test]
    fn items_written_one_by_one_read_as_the_whole_value() {
        let items = [
            json!({"a": 1, "b": [1, 2], "c": {"d": "x\ny"}}),
            json!({"a": 2, "b": [], "c": {}}),
        ];
        for n in [0, 1, 2] {
            let skeleton = json!({"x": 1, "list": [], "after": "z"});
            let mut whole = skeleton.clone();
            whole["list"] = json!(items[..n]);
            let mut got = Vec::new();
            super::pretty_with_items(&mut got, &skeleton, "list", 0, items[..n].iter().cloned())
                .unwrap();
            assert_eq!(
                String::from_utf8(got).unwrap(),
                serde_json::to_string_pretty(&whole).unwrap()
            );
            // Nested as the element of an outer array.
            let mut got = b"[\n  ".to_vec();
            super::pretty_with_items(&mut got, &skeleton, "list", 2, items[..n].iter().cloned())
                .unwrap();
            got.extend_from_slice(b"\n]");
            assert_eq!(
                String::from_utf8(got).unwrap(),
                serde_json::to_string_pretty(&json!([whole])).unwrap()
            );
        }
    }
}
