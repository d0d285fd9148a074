//! Evaluation harness for the labelled corpora: load `{text, label, kind, spans, flags}` JSONL,
//! run the scanner on every case, and score recall per family and false positives on benign
//! cases, per file and per kind.

pub mod generate;
pub mod obfuscate;
pub mod split;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use parapet_engine::{Category, Scanner};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Case {
    #[serde(default)]
    pub id: String,
    pub text: String,
    pub label: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub spans: Vec<(usize, usize)>,
    #[serde(default)]
    pub flags: Vec<String>,
}

/// The label a case is scored under, after the conventions: documentation placeholders are
/// benign; out-of-scope PII (names, addresses) is not scored.
/// The files that carry prompt injection, over which the injection recall bar is taken.
pub const INJECTION_FILES: [&str; 6] = [
    "purplellama_prompt_injection.jsonl",
    "garak.jsonl",
    "bipia.jsonl",
    "llm_guard_tests.jsonl",
    "cisco_mcp_scanner.jsonl",
    "invariant_mcp_scan.jsonl",
];

pub fn scored_label(case: &Case) -> Option<&str> {
    if case.kind.starts_with("out_of_scope_pii") {
        return None;
    }
    if case.flags.iter().any(|f| f == "known_placeholder") {
        return Some("benign");
    }
    Some(case.label.as_str())
}

pub fn load_cases(path: &Path) -> Result<Vec<Case>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l)
                .with_context(|| format!("{}:{}: bad case", path.display(), i + 1))
        })
        .collect()
}

/// Outcome of one case.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub file: String,
    pub label: String,
    pub kind: String,
    /// Positive: found by its family. Benign: any finding (a false positive).
    pub hit: bool,
    /// For positives with spans: some finding overlaps a labelled span.
    pub span_hit: Option<bool>,
    pub rules: Vec<String>,
    pub id: String,
}

fn family(c: Category) -> Option<&'static str> {
    match c {
        Category::Pii | Category::Secret => Some("sensitive"),
        Category::Injection => Some("injection"),
        Category::Validation => None,
    }
}

pub fn evaluate(scanner: &Scanner, file: &str, cases: &[Case]) -> Result<Vec<Outcome>> {
    let mut out = Vec::new();
    for case in cases {
        let Some(label) = scored_label(case) else {
            continue;
        };
        let verdict = scanner.scan(&case.text)?;
        let findings: Vec<_> = verdict
            .detections
            .iter()
            .filter(|d| family(d.category).is_some())
            .collect();
        let want = match label {
            "pii" | "secret" => Some("sensitive"),
            "injection" => Some("injection"),
            _ => None,
        };
        let relevant: Vec<_> = findings
            .iter()
            .filter(|d| want.is_none() || family(d.category) == want)
            .collect();
        let hit = !relevant.is_empty();
        let span_hit = (want.is_some() && !case.spans.is_empty()).then(|| {
            relevant.iter().any(|d| {
                case.spans
                    .iter()
                    .any(|&(s, e)| d.span.0 < e && s < d.span.1)
            })
        });
        out.push(Outcome {
            file: file.to_string(),
            label: label.to_string(),
            kind: case.kind.clone(),
            hit,
            span_hit,
            rules: relevant.iter().map(|d| d.rule_id.clone()).collect(),
            id: case.id.clone(),
        });
    }
    Ok(out)
}

/// (cases, hits, span cases, span hits)
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub cases: usize,
    pub hits: usize,
    pub span_cases: usize,
    pub span_hits: usize,
}

impl Tally {
    pub fn add(&mut self, o: &Outcome) {
        self.cases += 1;
        self.hits += usize::from(o.hit);
        if let Some(s) = o.span_hit {
            self.span_cases += 1;
            self.span_hits += usize::from(s);
        }
    }
    pub fn rate(&self) -> f64 {
        if self.cases == 0 {
            0.0
        } else {
            self.hits as f64 / self.cases as f64
        }
    }
}

/// Tallies keyed by (scope, label).
pub fn tally<'a>(
    outcomes: impl IntoIterator<Item = &'a Outcome>,
    scope: impl Fn(&Outcome) -> String,
) -> BTreeMap<(String, String), Tally> {
    let mut map: BTreeMap<(String, String), Tally> = BTreeMap::new();
    for o in outcomes {
        map.entry((scope(o), o.label.clone())).or_default().add(o);
    }
    map
}

/// The labelled files in a directory, sorted.
pub fn labelled_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    Ok(files)
}
