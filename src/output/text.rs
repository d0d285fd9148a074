//! grep-like text output: `path:line:column: category/kind rule (confidence) value`.

use std::io::{self, Write};

use super::{mask, matched, positions, Report};

pub fn write(out: &mut dyn Write, reports: &[Report], show: bool) -> io::Result<()> {
    for r in reports {
        let positions = positions(r);
        for (d, (line, col)) in r.verdict.detections.iter().zip(positions) {
            let value = matched(r, d)
                .map(|v| {
                    if show {
                        String::from_utf8_lossy(v).into_owned()
                    } else {
                        mask(v)
                    }
                })
                .unwrap_or_default();
            let place = match &d.pointer {
                Some(p) => format!("{}#{}:{}-{}", r.path, p, d.span.0, d.span.1),
                None => format!("{}:{line}:{col}", r.path),
            };
            writeln!(
                out,
                "{place}: {}/{} {} ({:.2}, {}) {value}",
                d.category, d.kind, d.rule_id, d.confidence, d.action
            )?;
        }
    }
    Ok(())
}
