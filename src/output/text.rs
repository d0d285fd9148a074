//! grep-like text output: `path:line:column: category/kind rule (confidence) value`. The same
//! secret found in several places is printed once, its other places listed under it.

use std::io::{self, Write};

use super::{groups, mask, matched, place, Report};

pub fn write(out: &mut dyn Write, reports: &[Report], show: bool) -> io::Result<()> {
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
        writeln!(
            out,
            "{}: {}/{} {} ({:.2}, {}) {value}",
            place(r, di),
            d.category,
            d.kind,
            d.rule_id,
            d.confidence,
            d.action
        )?;
        if group.len() > 1 {
            writeln!(out, "  same value in {} more places:", group.len() - 1)?;
            for &(ri, di) in &group[1..] {
                writeln!(out, "    {}", place(&reports[ri], di))?;
            }
        }
    }
    Ok(())
}
