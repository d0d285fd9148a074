//! Writes a deterministic log corpus of a given size for the sweep benchmark: loghub lines
//! (../shared/corpora/bench/loghub) repeated, with a positive case from the labelled corpora
//! (secret and PII cases from public sources, not strings written for our rules) planted every
//! N lines. Prints how many were planted and writes their line numbers next to the output.
//!
//! `parapet-gen-logs --size-mb 1024 --every 1000 --out /tmp/logs.txt [--shared ../shared]`

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    text: String,
    label: String,
    #[serde(default)]
    kind: String,
}

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

    let mut lines = Vec::new();
    let mut names: Vec<PathBuf> = std::fs::read_dir(shared.join("corpora/bench/loghub"))
        .context("needs ../shared/corpora/bench/loghub")?
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    names.sort();
    for n in names {
        let text = std::fs::read_to_string(&n)?;
        lines.extend(text.lines().map(str::to_string));
    }
    let mut plants = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(shared.join("corpora/labelled"))?
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    for f in files {
        for l in std::fs::read_to_string(&f)?.lines() {
            let Ok(c) = serde_json::from_str::<Case>(l) else {
                continue;
            };
            let one_line = !c.text.contains('\n') && c.text.len() < 400;
            if (c.label == "secret" || c.label == "pii")
                && c.kind != "known_placeholder"
                && one_line
            {
                plants.push(c.text);
            }
        }
    }
    if lines.is_empty() || plants.is_empty() {
        bail!(
            "no loghub lines or no labelled positives under {}",
            shared.display()
        );
    }
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(&out)?);
    let mut planted_at = Vec::new();
    let (mut written, mut n, mut k) = (0u64, 0usize, 0usize);
    while written < size {
        let line = if n % every == every - 1 {
            planted_at.push(n + 1);
            k += 1;
            &plants[(k * 7919) % plants.len()]
        } else {
            &lines[n % lines.len()]
        };
        w.write_all(line.as_bytes())?;
        w.write_all(b"\n")?;
        written += line.len() as u64 + 1;
        n += 1;
    }
    w.flush()?;
    let sidecar = out.with_extension("planted");
    std::fs::write(
        &sidecar,
        planted_at
            .iter()
            .map(|l| format!("{l}\n"))
            .collect::<String>(),
    )?;
    println!(
        "{}: {} lines, {:.1} MB, {} positives planted (line numbers in {})",
        out.display(),
        n,
        written as f64 / 1e6,
        planted_at.len(),
        sidecar.display()
    );
    Ok(())
}
