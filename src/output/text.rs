//! grep-like text output: `path:line:column: category/kind rule (confidence) value`. The same
//! secret found in several places is printed once, its other places listed under it. Colour
//! (ANSI) only when asked for: by default when stdout is a terminal and NO_COLOR is unset.

use std::io::{self, Write};

use parapet_engine::Detection;

use super::{groups, mask, matched, place, printable, Report};

fn paint(on: bool, code: &str, text: &str) -> String {
    if on {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// ` (in base64>percent)` for a finding made once decoded (or ` (in normalised text)`), else
/// nothing.
fn decoded_from(d: &Detection) -> String {
    match d.encoding.as_deref() {
        Some("normalised") => " (in normalised text)".into(),
        Some("markup") => " (once markup was dropped)".into(),
        Some(chain) => format!(" (in {chain})"),
        None => String::new(),
    }
}

pub fn write(out: &mut dyn Write, reports: &[Report], show: bool, color: bool) -> io::Result<()> {
    for group in groups(reports) {
        let (ri, di) = group[0];
        let r = &reports[ri];
        let d = &r.verdict.detections[di];
        let value = matched(r, di)
            .map(|v| {
                if show {
                    String::from_utf8_lossy(v).into_owned()
                } else {
                    mask(v)
                }
            })
            .unwrap_or_default();
        let what = format!("{}/{}", d.category, d.kind);
        let what_color = match d.category.as_str() {
            "secret" | "validation" => "1;31",
            "injection" => "1;35",
            _ => "1;33",
        };
        writeln!(
            out,
            "{}: {} {} ({:.2}, {}) {value}{}",
            paint(color, "36", &printable(&place(r, di))),
            paint(color, what_color, &what),
            d.rule_id,
            d.confidence,
            d.action,
            decoded_from(d)
        )?;
        if group.len() > 1 {
            let more = group.len() - 1;
            let places = if more == 1 { "place" } else { "places" };
            writeln!(out, "  same value in {more} more {places}:")?;
            for &(ri, di) in &group[1..] {
                let d = &reports[ri].verdict.detections[di];
                writeln!(
                    out,
                    "    {}{}",
                    printable(&place(&reports[ri], di)),
                    decoded_from(d)
                )?;
            }
        }
    }
    Ok(())
}
