//! `parapet-train [DIR...] [--out FILE]`: trains the engine's injection classifier
//! (logistic regression over hashed n-grams, see `parapet_engine::classify`) on the training
//! split of the labelled corpora (default `../shared/corpora/labelled`, loghub left out for its
//! licence, and our own cases in `corpora/cases`: everyday text in many languages that uses the
//! words attacks use, and indirect injections as tools return them), chooses the decision
//! threshold on the held-out validation part, and writes the model (default
//! `engine/model/injection.bin`). Deterministic: the same corpora give the same
//! bytes. Prints validation and test figures of the classifier alone.
//!
//! Positives: cases scored `injection`; negatives: every other scored case (benign, pii,
//! secret). Benign text that discusses attacks or describes tools weighs more, since its
//! false-positive bars are the tightest.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result};
use parapet_corpora::split::{id_hash, split_of, trainable, Split};
use parapet_corpora::{labelled_files, load_cases, scored_label};
use parapet_engine::classify::{sparse, windows, Classifier, DIMS};

/// One training window: sparse features (index, value) and its label.
struct Sample {
    x: Vec<(u32, f32)>,
    y: f32,
    weight: f32,
}

struct Case {
    file: String,
    positive: bool,
    text: String,
    split: Split,
    order: u64,
}

fn dot(w: &[f32], x: &[(u32, f32)]) -> f32 {
    x.iter().map(|&(i, v)| w[i as usize] * v).sum()
}

fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

/// AdaGrad on the logistic loss with L2, in a fixed order per epoch.
fn train(samples: &[Sample], epochs: usize, l2: f32) -> (Vec<f32>, f32) {
    const LR: f32 = 0.2;
    let mut w = vec![0f32; DIMS];
    let mut g2 = vec![1e-6f32; DIMS];
    let (mut b, mut gb2) = (0f32, 1e-6f32);
    let mut order: Vec<usize> = (0..samples.len()).collect();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..epochs {
        // Fisher-Yates with a fixed xorshift: the same order on every machine.
        for i in (1..order.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            order.swap(i, (state % (i as u64 + 1)) as usize);
        }
        for &k in &order {
            let s = &samples[k];
            let err = (sigmoid(b + dot(&w, &s.x)) - s.y) * s.weight;
            for &(i, v) in &s.x {
                let i = i as usize;
                let g = err * v + l2 * w[i];
                g2[i] += g * g;
                w[i] -= LR * g / g2[i].sqrt();
            }
            gb2 += err * err;
            b -= LR * err / gb2.sqrt();
        }
    }
    (w, b)
}

fn load(dirs: &[PathBuf]) -> Result<Vec<Case>> {
    let mut out = Vec::new();
    let files = dirs
        .iter()
        .map(|d| labelled_files(d))
        .collect::<Result<Vec<_>>>()?;
    for path in files.into_iter().flatten() {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        if !trainable(&file) {
            continue;
        }
        for c in load_cases(&path)? {
            let Some(label) = scored_label(&c) else {
                continue;
            };
            out.push(Case {
                file: file.clone(),
                positive: label == "injection",
                split: split_of(&c.id),
                order: id_hash(&c.id),
                text: c.text,
            });
        }
    }
    out.sort_by_key(|c| c.order);
    Ok(out)
}

/// Share of cases at or above `t`, per file, for positives or for negatives.
fn rates(
    cases: &[&Case],
    scores: &[f32],
    t: f32,
    positive: bool,
) -> BTreeMap<String, (usize, usize)> {
    let mut m: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (c, &s) in cases.iter().zip(scores) {
        if c.positive != positive {
            continue;
        }
        let e = m.entry(c.file.clone()).or_default();
        e.0 += usize::from(s >= t);
        e.1 += 1;
    }
    m
}

fn total(m: &BTreeMap<String, (usize, usize)>) -> f64 {
    let (h, n) = m.values().fold((0, 0), |a, v| (a.0 + v.0, a.1 + v.1));
    h as f64 / n.max(1) as f64
}

fn share(m: &BTreeMap<String, (usize, usize)>, file: &str) -> f64 {
    m.get(file)
        .map_or(0.0, |&(h, n)| h as f64 / n.max(1) as f64)
}

/// The lowest threshold that keeps validation false positives within half the bars: overall
/// and on text about attacks 0.5%, tool descriptions 0.25%.
fn choose_threshold(cases: &[&Case], scores: &[f32]) -> f32 {
    let mut t = 0.5f32;
    while t < 0.995 {
        let fp = rates(cases, scores, t, false);
        if total(&fp) <= 0.005
            && share(&fp, "mcp_docs_paragraphs.jsonl") <= 0.005
            && share(&fp, "mcp_servers_tools.jsonl") <= 0.0025
        {
            return t;
        }
        t += 0.005;
    }
    t
}

fn report(name: &str, cases: &[&Case], scores: &[f32], t: f32) {
    let tp = rates(cases, scores, t, true);
    let fp = rates(cases, scores, t, false);
    println!(
        "{name}: recall {:.3}, false positives {:.4}",
        total(&tp),
        total(&fp)
    );
    for (f, (h, n)) in &tp {
        println!("  recall {f}: {h}/{n}");
    }
    for (f, (h, n)) in fp.iter().filter(|(_, v)| v.0 > 0) {
        println!("  fp {f}: {h}/{n}");
    }
}

fn main() -> Result<()> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    let mut out = PathBuf::from("engine/model/injection.bin");
    // 20 epochs underfit: on a fresh helper-written set (set 11, before it was trained on)
    // 20, 60, 120, 200 and 300 epochs found 46.7, 49.1, 50.9, 48.9 and 48.2% of the attacks,
    // with the same look-alikes flagged; validation recall rose with them to 120.
    let mut epochs = 120usize;
    // With set 14 (2026-12-07) the L2 weight was chosen on validation recall at the chosen
    // threshold: 1e-6, 3e-6, 1e-5, 3e-5 and 1e-4 gave 0.628, 0.636, 0.651, 0.653 and 0.642 (1e-5
    // and 3e-5 a tie, one case apart: the smaller was kept).
    let mut l2 = 1e-5f32;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--out" => out = PathBuf::from(args.next().context("--out needs a file")?),
            "--epochs" => epochs = args.next().context("--epochs needs N")?.parse()?,
            "--l2" => l2 = args.next().context("--l2 needs a number")?.parse()?,
            "-h" | "--help" => {
                println!("usage: parapet-train [--out FILE] [--epochs N] [--l2 X] [DIR...]");
                return Ok(());
            }
            _ => dirs.push(PathBuf::from(a)),
        }
    }
    if dirs.is_empty() {
        dirs = vec![
            PathBuf::from("../shared/corpora/labelled"),
            PathBuf::from("corpora/cases"),
        ];
    }
    let cases = load(&dirs)?;
    let train_cases: Vec<&Case> = cases.iter().filter(|c| c.split == Split::Train).collect();
    let (npos, nneg) = train_cases.iter().fold((0usize, 0usize), |a, c| {
        if c.positive {
            (a.0 + 1, a.1)
        } else {
            (a.0, a.1 + 1)
        }
    });
    let n = (npos + nneg) as f32;
    let mut samples = Vec::new();
    let mut seen = Vec::new();
    for c in &train_cases {
        let bytes = c.text.as_bytes();
        let class = if c.positive {
            n / (2.0 * npos as f32)
        } else {
            n / (2.0 * nneg as f32)
        };
        let hard = matches!(
            c.file.as_str(),
            "mcp_docs_paragraphs.jsonl"
                | "mcp_servers_tools.jsonl"
                | "cisco_mcp_scanner.jsonl"
                | "agent_era_benign.jsonl"
                | "agent_era_sets11_13_benign.jsonl"
                | "agent_era_set14_benign.jsonl"
                | "everyday_benign_ai_tools.jsonl"
                | "everyday_benign_short_descriptions.jsonl"
                | "everyday_benign_lookalikes.jsonl"
        );
        let weight = if !c.positive && hard {
            class * 3.0
        } else {
            class
        };
        for (s, e) in windows(bytes.len()) {
            samples.push(Sample {
                x: sparse(&bytes[s..e], &mut seen),
                y: f32::from(u8::from(c.positive)),
                weight,
            });
        }
    }
    eprintln!(
        "training on {} cases ({npos} injection, {nneg} other), {} windows, {epochs} epochs",
        train_cases.len(),
        samples.len()
    );
    let (w, b) = train(&samples, epochs, l2);
    let provisional = Classifier::from_weights(&w, b, 0.5);
    let score = |set: Split| -> (Vec<&Case>, Vec<f32>) {
        let picked: Vec<&Case> = cases.iter().filter(|c| c.split == set).collect();
        let scores = picked
            .iter()
            .map(|c| provisional.score(c.text.as_bytes()).map_or(0.0, |s| s.0))
            .collect();
        (picked, scores)
    };
    let (val, val_scores) = score(Split::Validation);
    let threshold = choose_threshold(&val, &val_scores);
    report(
        &format!("validation @ {threshold:.3}"),
        &val,
        &val_scores,
        threshold,
    );
    let (test, test_scores) = score(Split::Test);
    report(
        &format!("test @ {threshold:.3}"),
        &test,
        &test_scores,
        threshold,
    );
    let model = Classifier::from_weights(&w, b, threshold);
    std::fs::write(&out, model.to_bytes()).with_context(|| format!("writing {}", out.display()))?;
    println!("wrote {} (threshold {threshold:.3})", out.display());
    Ok(())
}
