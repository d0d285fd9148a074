//! Our own cases (no `../shared` needed): everyday text that uses the words attacks use (in
//! English and twenty other languages) must not read as an injection, and indirect injections
//! as tools return them must. `corpora/cases` trains the classifier, so only its 20% test split
//! counts here; `corpora/heldout` was written separately and is never trained on.

use std::path::Path;

use parapet_corpora::split::{split_of, Split};
use parapet_corpora::{evaluate, labelled_files, load_cases, Outcome};
use parapet_engine::Scanner;

#[path = "../../engine/tests/support/rule_cache.rs"]
mod rule_cache;

/// The outcomes of the files of `dir` whose names `pick` accepts.
fn outcomes(
    scanner: &Scanner,
    dir: &str,
    test_split_only: bool,
    pick: fn(&str) -> bool,
) -> Vec<Outcome> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut out = Vec::new();
    for path in labelled_files(&dir).unwrap() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !pick(&name) {
            continue;
        }
        let cases: Vec<_> = load_cases(&path)
            .unwrap()
            .into_iter()
            .filter(|c| !test_split_only || split_of(&c.id) == Split::Test)
            .collect();
        out.extend(evaluate(scanner, &name, &cases).unwrap());
    }
    out
}

/// A part of a corpus directory held to its own bars.
struct Floor {
    dir: &'static str,
    part: &'static str,
    test_split_only: bool,
    pick: fn(&str) -> bool,
    max_fp: f64,
    min_recall: f64,
}

fn rate(outcomes: &[Outcome], label: &str) -> f64 {
    let of: Vec<&Outcome> = outcomes.iter().filter(|o| o.label == label).collect();
    assert!(!of.is_empty(), "no {label} cases");
    of.iter().filter(|o| o.hit).count() as f64 / of.len() as f64
}

#[test]
fn everyday_text_is_not_an_injection_and_indirect_injections_are() {
    let scanner = rule_cache::default_scanner();
    let mut failures = Vec::new();
    // The agent-era sets were written by helpers that had seen neither the rules nor the
    // other cases, in styles chosen to be hard (paraphrased, buried, addressed to nobody):
    // their test split has a floor of its own, so that adding such a set does not hide a
    // regression on the rest.
    let floors = [
        Floor {
            dir: "heldout",
            part: "",
            test_split_only: false,
            pick: |_| true,
            max_fp: 0.04,
            min_recall: 0.85,
        },
        Floor {
            dir: "cases",
            part: " (agent-era sets 1-10)",
            test_split_only: true,
            pick: |name| matches!(name, "agent_era_injection.jsonl" | "agent_era_benign.jsonl"),
            max_fp: 0.03,
            min_recall: 0.70,
        },
        // Sets 11-13 (2026-12-07): coding agents, web and office agents, what tools and APIs
        // say, LLM developer docs, and two sets in 20-28 languages, harder than the earlier
        // ones (found 30-70% of the time before they were trained on, depending on the theme).
        Floor {
            dir: "cases",
            part: " (agent-era sets 11-13)",
            test_split_only: true,
            pick: |name| name.starts_with("agent_era_sets11_13"),
            max_fp: 0.05,
            min_recall: 0.50,
        },
        // Set 14 (2026-12-07, twenty-first session): 21 languages beyond the earlier sets and
        // romanised or code-switched text, structured tool output (JSON, CSV, YAML, logs,
        // calendar invites, spreadsheets) and subtle attacks without the usual words. Before it
        // was trained on: 20%, 72% and 51% found.
        Floor {
            dir: "cases",
            part: " (agent-era set 14)",
            test_split_only: true,
            pick: |name| name.starts_with("agent_era_set14"),
            max_fp: 0.05,
            min_recall: 0.50,
        },
        Floor {
            dir: "cases",
            part: " (the rest)",
            test_split_only: true,
            pick: |name| !name.starts_with("agent_era"),
            max_fp: 0.02,
            min_recall: 0.80,
        },
    ];
    for Floor {
        dir,
        part,
        test_split_only,
        pick,
        max_fp,
        min_recall,
    } in floors
    {
        let o = outcomes(&scanner, dir, test_split_only, pick);
        let (fp, recall) = (rate(&o, "benign"), rate(&o, "injection"));
        eprintln!("corpora/{dir}{part}: benign FP {fp:.3}, injection recall {recall:.3}");
        if fp > max_fp {
            failures.push(format!("corpora/{dir}{part}: benign FP {fp:.3} > {max_fp}"));
        }
        if recall < min_recall {
            failures.push(format!(
                "corpora/{dir}{part}: injection recall {recall:.3} < {min_recall}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
