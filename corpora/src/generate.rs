//! Deterministic log corpora for the sweep benchmarks: loghub lines repeated, with a positive
//! case from the labelled corpora (secret and PII cases from public sources, one line each,
//! placeholders left out) planted every `every` lines. Same inputs, same bytes.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{scored_label, Case};
use anyhow::{bail, Context, Result};

/// The positive cases of the labelled corpora under the evaluation's conventions (placeholders
/// count as benign, out-of-scope PII is left out), as (label, text).
fn positives(shared: &Path, labels: &[&str], one_line: bool) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for f in sorted_files(&shared.join("corpora/labelled"), "jsonl")? {
        for l in std::fs::read_to_string(&f)?.lines() {
            let Ok(c) = serde_json::from_str::<Case>(l) else {
                continue;
            };
            let Some(label) = scored_label(&c) else {
                continue;
            };
            if labels.contains(&label)
                && (!one_line || (!c.text.contains('\n') && c.text.len() < 400))
            {
                out.push((label.to_string(), c.text.clone()));
            }
        }
    }
    Ok(out)
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
    let plants: Vec<String> = positives(shared, &["secret", "pii"], true)?
        .into_iter()
        .map(|(_, text)| text)
        .collect();
    if lines.is_empty() || plants.is_empty() {
        bail!(
            "no loghub lines or no labelled positives under {}",
            shared.display()
        );
    }
    let mut k = 0;
    write_lines(size, every, out, |n, plant| {
        if plant {
            k += 1;
            plants[(k * 7919) % plants.len()].clone()
        } else {
            lines[n % lines.len()].clone()
        }
    })
}

/// Writes about `size` bytes of MCP traffic (the real messages of
/// `../shared/corpora/bench/mcp/mcp_messages.ndjson`, repeated) with a `tools/call` result
/// carrying a labelled positive case (secret, pii or injection) every `every` lines. Returns
/// (line, label) of each planted message: the ground truth.
pub fn mcp_traffic(
    shared: &Path,
    size: u64,
    every: usize,
    out: &mut dyn Write,
) -> Result<Vec<(usize, String)>> {
    let text = std::fs::read_to_string(shared.join("corpora/bench/mcp/mcp_messages.ndjson"))
        .context("needs ../shared/corpora/bench/mcp/mcp_messages.ndjson")?;
    let messages: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let plants = positives(shared, &["secret", "pii", "injection"], false)?;
    if messages.is_empty() || plants.is_empty() {
        bail!(
            "no MCP messages or no labelled positives under {}",
            shared.display()
        );
    }
    let mut labels = Vec::new();
    let planted = write_lines(size, every, out, |n, plant| {
        if plant {
            let (label, text) = &plants[((labels.len() + 1) * 7919) % plants.len()];
            labels.push(label.clone());
            serde_json::json!({"jsonrpc": "2.0", "id": n, "result": {"content": [{"type": "text", "text": text}]}})
                .to_string()
        } else {
            messages[n % messages.len()].to_string()
        }
    })?;
    Ok(planted.into_iter().zip(labels).collect())
}

/// Writes `line(n, plant)` for n = 0, 1, … until `size` bytes, `plant` true on every
/// `every`-th line; returns the 1-based numbers of the planted lines.
fn write_lines(
    size: u64,
    every: usize,
    out: &mut dyn Write,
    mut line: impl FnMut(usize, bool) -> String,
) -> Result<Vec<usize>> {
    let every = every.max(1);
    let mut planted = Vec::new();
    let (mut written, mut n) = (0u64, 0usize);
    while written < size {
        let plant = n % every == every - 1;
        if plant {
            planted.push(n + 1);
        }
        let text = line(n, plant);
        out.write_all(text.as_bytes())?;
        out.write_all(b"\n")?;
        written += text.len() as u64 + 1;
        n += 1;
    }
    Ok(planted)
}
