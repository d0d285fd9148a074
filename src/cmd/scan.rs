//! `mcp-parapet scan`: scan files or standard input and report findings.
//!
//! Exit codes follow grep: 2 if any input could not be scanned (after scanning all the others),
//! else 1 if there were findings, else 0. `--fail-on reject` gives the Python reference's
//! meaning: 1 only when the policy would reject.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::ValueEnum;
use parapet_engine::{Action, Scanner, Verdict};

use crate::flags::{load_config, ScanFlags};
use crate::output::{self, Format, Report};
use parapet_proxy::scanner_setup::{build_scanner, scanner_config};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Exit 1 when anything is found.
    Findings,
    /// Exit 1 only when the policy would reject an input (the reference's meaning).
    Reject,
}

#[derive(clap::Args)]
#[command(
    after_help = "Exit status: 0 nothing found; 1 findings (with --fail-on reject: only \
when the policy would reject); 2 an input could not be read or parsed (the others are still \
scanned).\n\nOffsets are UTF-8 byte offsets (the Python reference counted code points)."
)]
pub struct Args {
    /// Files to scan; `-` reads standard input.
    #[arg(required = true, value_name = "PATH")]
    inputs: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Parse each input as one JSON document and scan every string in it (findings carry JSON
    /// Pointers).
    #[arg(long)]
    json: bool,
    /// Print matched values in clear (by default they are masked; never in jsonl without this).
    #[arg(long)]
    show_secrets: bool,
    /// When to exit 1.
    #[arg(long, value_enum, default_value_t = FailOn::Findings)]
    fail_on: FailOn,
    #[command(flatten)]
    flags: ScanFlags,
}

pub fn run(args: Args, config: Option<&std::path::Path>) -> Result<ExitCode> {
    let cfg = load_config(config)?;
    let sc = scanner_config(&cfg, &args.flags.overrides())?;
    let scanner = build_scanner(sc)?;
    let mut reports = Vec::new();
    let mut errors = 0;
    for input in &args.inputs {
        match scan_one(&scanner, input, args.json) {
            Ok(r) => reports.push(r),
            Err(e) => {
                errors += 1;
                eprintln!("mcp-parapet: {}: {e:#}", input.display());
            }
        }
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    output::write(&mut out, args.format, &reports, args.show_secrets)
        .context("cannot write the report")?;
    let failed = reports.iter().any(|r| match args.fail_on {
        FailOn::Findings => !r.verdict.detections.is_empty(),
        FailOn::Reject => r.verdict.action == Action::Reject,
    });
    Ok(ExitCode::from(if errors > 0 {
        2
    } else if failed {
        1
    } else {
        0
    }))
}

fn read_input(path: &PathBuf) -> Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut buf)
            .context("cannot read standard input")?;
        Ok(buf)
    } else {
        std::fs::read(path).context("cannot read file")
    }
}

/// Overlap between chunks of a file larger than the byte cap: longer than any match a rule may
/// report (PEM blocks, 16 KiB), so nothing is lost at a boundary.
const CHUNK_OVERLAP: usize = 64 << 10;

/// A file is not a message: one larger than the byte cap is scanned in overlapping chunks of
/// the cap's size, and findings seen twice in an overlap are reported once.
fn scan_in_chunks(scanner: &Scanner, bytes: &[u8]) -> Result<Verdict> {
    let cap = scanner.max_bytes();
    if bytes.len() <= cap {
        return Ok(scanner.scan_bytes(bytes)?);
    }
    let overlap = CHUNK_OVERLAP.min(cap / 4);
    let step = (cap - overlap).max(1);
    let mut seen = std::collections::HashSet::new();
    let mut detections = Vec::new();
    let mut start = 0;
    loop {
        let end = (start + cap).min(bytes.len());
        for mut d in scanner.scan_bytes(&bytes[start..end])?.detections {
            d.span = (d.span.0 + start, d.span.1 + start);
            if seen.insert((d.rule_id.clone(), d.span.0)) {
                detections.push(d);
            }
        }
        if end == bytes.len() {
            break;
        }
        start += step;
    }
    detections.sort_by_key(|d| d.span);
    Ok(Verdict::from_detections(detections))
}

fn scan_one(scanner: &Scanner, path: &PathBuf, json: bool) -> Result<Report> {
    let bytes = read_input(path)?;
    let verdict: Verdict = if json {
        scanner.scan_json(&bytes).context("cannot scan as JSON")?
    } else {
        scan_in_chunks(scanner, &bytes)?
    };
    Ok(Report {
        path: if path.as_os_str() == "-" {
            "-".to_string()
        } else {
            path.display().to_string()
        },
        bytes,
        verdict,
        json,
    })
}
