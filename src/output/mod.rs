//! Report writers, one module per output format.

mod json;
mod jsonl;
mod text;

use std::io::{self, Write};

use clap::ValueEnum;
use parapet_engine::{Category, Detection, Verdict};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// grep-like lines: path:line:column: category/kind rule (confidence) masked value
    Text,
    /// The reference's verdict object (an array of them for several inputs)
    Json,
    /// One finding per line
    Jsonl,
}

/// One scanned input and its verdict.
pub struct Report {
    pub path: String,
    pub bytes: Vec<u8>,
    pub verdict: Verdict,
    /// Spans are into decoded JSON strings rather than the raw bytes.
    pub json: bool,
}

pub fn write(
    out: &mut dyn Write,
    format: Format,
    reports: &[Report],
    show: bool,
) -> io::Result<()> {
    match format {
        Format::Text => text::write(out, reports, show),
        Format::Json => json::write(out, reports, show),
        Format::Jsonl => jsonl::write(out, reports, show),
    }
}

/// 1-based (line, column) of each detection of a text input, in detection order; (0, 0) for
/// JSON inputs, whose detections are placed by pointer instead.
pub fn positions(report: &Report) -> Vec<(usize, usize)> {
    let offsets: Vec<usize> = report.verdict.detections.iter().map(|d| d.span.0).collect();
    if report.json {
        vec![(0, 0); offsets.len()]
    } else {
        line_columns(&report.bytes, &offsets)
    }
}

/// 1-based line and column (in bytes) of each offset; `offsets` need not be sorted.
fn line_columns(bytes: &[u8], offsets: &[usize]) -> Vec<(usize, usize)> {
    let mut order: Vec<usize> = (0..offsets.len()).collect();
    order.sort_by_key(|&i| offsets[i]);
    let mut out = vec![(0, 0); offsets.len()];
    let (mut line, mut line_start, mut pos) = (1, 0, 0);
    for i in order {
        let target = offsets[i].min(bytes.len());
        for nl in memchr::memchr_iter(b'\n', &bytes[pos..target]) {
            line += 1;
            line_start = pos + nl + 1;
        }
        pos = target;
        out[i] = (line, target - line_start + 1);
    }
    out
}

/// The matched bytes of a detection, when they can be located (text inputs).
pub fn matched<'a>(report: &'a Report, d: &Detection) -> Option<&'a [u8]> {
    if report.json || d.category == Category::Validation {
        return None;
    }
    report.bytes.get(d.span.0..d.span.1)
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
