//! Writes a deterministic log corpus of a given size for the sweep benchmark: loghub lines
//! (../shared/corpora/bench/loghub) repeated, with a positive case from the labelled corpora
//! (secret and PII cases from public sources, not strings written for our rules) planted every
//! N lines. Prints how many were planted and writes their line numbers next to the output.
//!
//! `parapet-gen-logs --size-mb 1024 --every 1000 --out /tmp/logs.txt [--shared ../shared] [--mcp]`
//! (`--mcp`: MCP traffic, real messages with positives planted as tool results.)

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let size: u64 = arg(&args, "--size-mb").map_or(Ok(1024), |s| s.parse())? << 20;
    let every: usize = arg(&args, "--every").map_or(Ok(1000), |s| s.parse())?;
    let out = PathBuf::from(arg(&args, "--out").context("--out FILE is required")?);
    let shared = PathBuf::from(arg(&args, "--shared").unwrap_or_else(|| "../shared".into()));
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(&out)?);
    // --mcp: MCP traffic (one JSON-RPC message per line) instead of logs; the ground truth
    // then carries each planted message's label.
    let truth: Vec<String> = if args.iter().any(|a| a == "--mcp") {
        parapet_corpora::generate::mcp_traffic(&shared, size, every, &mut w)?
            .into_iter()
            .map(|(line, label)| format!("{line}\t{label}\n"))
            .collect()
    } else {
        parapet_corpora::generate::logs(&shared, size, every, &mut w)?
            .into_iter()
            .map(|line| format!("{line}\n"))
            .collect()
    };
    w.flush()?;
    let planted = truth.len();
    let sidecar = out.with_extension("planted");
    std::fs::write(&sidecar, truth.concat())?;
    println!(
        "{}: {:.1} MB, {} positives planted (line numbers in {})",
        out.display(),
        std::fs::metadata(&out)?.len() as f64 / 1e6,
        planted,
        sidecar.display()
    );
    Ok(())
}
