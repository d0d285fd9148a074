//! The evaluation bars on the shared labelled corpora, as regression guards. Needs
//! `../shared/corpora/labelled` (present in CI); in a fresh clone without it the test says so
//! and passes without checking anything.
//!
//! Issue targets: secret recall >= 0.80, pii >= 0.95, injection >= 0.60 from rules; benign false
//! positives <= 2% overall, <= 1% on mcp_docs_paragraphs, <= 0.5% on mcp_servers_tools and
//! loghub_lines; with the classifier, injection recall >= 0.85 on the 20% test split of the
//! injection-bearing files. Met today: secret, pii, injection (both bars; 0.883 on the test
//! split) and the three per-file false-positive bars. Not yet met: overall false positives
//! (0.0274, 143 of 5227); its ceiling below only stops it from getting worse.

use std::path::Path;

use parapet_corpora::split::{split_of, Split};
use parapet_corpora::{evaluate, labelled_files, load_cases, tally, INJECTION_FILES};

#[path = "../../engine/tests/support/rule_cache.rs"]
mod rule_cache;

#[test]
fn labelled_corpora_bars() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpora/labelled");
    if !dir.is_dir() {
        eprintln!(
            "SKIPPED: {} not found (a fresh clone has no ../shared)",
            dir.display()
        );
        return;
    }
    let scanner = rule_cache::default_scanner();
    let mut all = Vec::new();
    let (mut test_hits, mut test_cases) = (0usize, 0usize);
    for path in labelled_files(&dir).unwrap() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let cases = load_cases(&path).unwrap();
        let outcomes = evaluate(&scanner, &name, &cases).unwrap();
        if INJECTION_FILES.contains(&name.as_str()) {
            let test_ids: std::collections::HashSet<&str> = cases
                .iter()
                .filter(|c| split_of(&c.id) == Split::Test)
                .map(|c| c.id.as_str())
                .collect();
            for o in outcomes
                .iter()
                .filter(|o| o.label == "injection" && test_ids.contains(o.id.as_str()))
            {
                test_cases += 1;
                test_hits += usize::from(o.hit);
            }
        }
        all.extend(outcomes);
    }
    let test_recall = test_hits as f64 / test_cases.max(1) as f64;
    let overall = tally(&all, |_| "all".into());
    let rate = |label: &str| overall[&("all".to_string(), label.to_string())].rate();
    let per_file = tally(&all, |o| o.file.clone());
    let fp = |file: &str| per_file[&(file.to_string(), "benign".to_string())].rate();
    let checks = [
        ("pii recall", rate("pii"), 0.95, true),
        ("injection recall", rate("injection"), 0.60, true),
        (
            "injection recall, test split of injection-bearing files",
            test_recall,
            0.85,
            true,
        ),
        ("secret recall", rate("secret"), 0.80, true),
        (
            "benign FP overall (target 0.02)",
            rate("benign"),
            0.0275,
            false,
        ),
        (
            "FP mcp_docs_paragraphs",
            fp("mcp_docs_paragraphs.jsonl"),
            0.01,
            false,
        ),
        (
            "FP mcp_servers_tools",
            fp("mcp_servers_tools.jsonl"),
            0.005,
            false,
        ),
        ("FP loghub_lines", fp("loghub_lines.jsonl"), 0.005, false),
    ];
    let mut failures = Vec::new();
    for (name, got, bar, at_least) in checks {
        eprintln!("{name}: {got:.3} (bar {bar})");
        if (at_least && got < bar) || (!at_least && got > bar) {
            failures.push(format!("{name}: {got:.3} vs bar {bar}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
