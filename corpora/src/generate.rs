//! Deterministic log corpora for the sweep benchmarks: loghub lines repeated, with a positive
//! case from the labelled corpora (secret and PII cases from public sources, one line each,
//! placeholders left out) planted every `every` lines. Same inputs, same bytes.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Deserialize;

#[derive(Deserialize)]
struct Positive {
    text: String,
    label: String,
    #[serde(default)]
    kind: String,
}

fn sorted_files(dir: &Path, ext: &str) -> Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    v.sort();
    Ok(v)
}

/// Writes about `size` bytes of logs to `out`; returns the 1-based line numbers planted.
pub fn logs(shared: &Path, size: u64, every: usize, out: &mut dyn Write) -> Result<Vec<usize>> {
    let mut lines = Vec::new();
    for f in sorted_files(&shared.join("corpora/bench/loghub"), "log")? {
        lines.extend(std::fs::read_to_string(&f)?.lines().map(str::to_string));
    }
    let mut plants = Vec::new();
    for f in sorted_files(&shared.join("corpora/labelled"), "jsonl")? {
        for l in std::fs::read_to_string(&f)?.lines() {
            let Ok(c) = serde_json::from_str::<Positive>(l) else {
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
    let every = every.max(1);
    let mut planted = Vec::new();
    let (mut written, mut n) = (0u64, 0usize);
    while written < size {
        let line = if n % every == every - 1 {
            planted.push(n + 1);
            &plants[(planted.len() * 7919) % plants.len()]
        } else {
            &lines[n % lines.len()]
        };
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")?;
        written += line.len() as u64 + 1;
        n += 1;
    }
    Ok(planted)
}
