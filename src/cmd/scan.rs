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

use crate::output::{self, Format, Report};
use crate::scanner_setup::{build_scanner, load_config, scanner_config, ScanFlags};

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
    let sc = scanner_config(&cfg, &args.flags)?;
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

fn scan_one(scanner: &Scanner, path: &PathBuf, json: bool) -> Result<Report> {
    let bytes = read_input(path)?;
    let verdict: Verdict = if json {
        scanner.scan_json(&bytes).context("cannot scan as JSON")?
    } else {
        scanner.scan_bytes(&bytes)?
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
