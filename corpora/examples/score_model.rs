//! The injection classifier alone, from a model file, on labelled JSONL files: per file, how
//! many injection cases score at or above the model's threshold (recall) and how many others
//! do (false positives). For comparing models `parapet-train --out` wrote before building one
//! into the engine.
//!
//! `cargo run --release -p parapet-corpora --example score_model -- MODEL FILE.jsonl...`
//! (`THRESHOLD=T` overrides the model's threshold).

use anyhow::{Context, Result};
use parapet_corpora::{load_cases, scored_label};
use parapet_engine::classify::Classifier;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let model = args
        .next()
        .context("usage: score_model MODEL FILE.jsonl...")?;
    let mut c = Classifier::from_bytes(&std::fs::read(&model).context("reading MODEL")?)?;
    if let Some(t) = std::env::var("THRESHOLD").ok().and_then(|t| t.parse().ok()) {
        c.threshold = t;
    }
    for path in args {
        let (mut pos, mut found, mut neg, mut flagged) = (0, 0, 0, 0);
        for case in load_cases(path.as_ref())? {
            let Some(label) = scored_label(&case) else {
                continue;
            };
            let hit = c
                .score(case.text.as_bytes())
                .is_some_and(|s| s.0 >= c.threshold);
            if label == "injection" {
                pos += 1;
                found += usize::from(hit);
            } else {
                neg += 1;
                flagged += usize::from(hit);
            }
        }
        println!(
            "{path}: threshold {:.3}, injection {found}/{pos}, others flagged {flagged}/{neg}",
            c.threshold
        );
    }
    Ok(())
}
