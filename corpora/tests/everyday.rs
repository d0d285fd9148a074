//! Our own cases (no `../shared` needed): everyday text that uses the words attacks use (in
//! English and twenty other languages) must not read as an injection, and indirect injections
//! as tools return them must. `corpora/cases` trains the classifier, so only its 20% test split
//! counts here; `corpora/heldout` was written separately and is never trained on.

use std::path::Path;

use parapet_corpora::split::{split_of, Split};
use parapet_corpora::{evaluate, labelled_files, load_cases, Outcome};
use parapet_engine::{Scanner, ScannerConfig};

fn outcomes(scanner: &Scanner, dir: &str, test_split_only: bool) -> Vec<Outcome> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut out = Vec::new();
    for path in labelled_files(&dir).unwrap() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let cases: Vec<_> = load_cases(&path)
            .unwrap()
            .into_iter()
            .filter(|c| !test_split_only || split_of(&c.id) == Split::Test)
            .collect();
        out.extend(evaluate(scanner, &name, &cases).unwrap());
    }
    out
}

fn rate(outcomes: &[Outcome], label: &str) -> f64 {
    let of: Vec<&Outcome> = outcomes.iter().filter(|o| o.label == label).collect();
    assert!(!of.is_empty(), "no {label} cases");
    of.iter().filter(|o| o.hit).count() as f64 / of.len() as f64
}

#[test]
fn everyday_text_is_not_an_injection_and_indirect_injections_are() {
    let scanner = Scanner::new(ScannerConfig::default()).unwrap();
    let mut failures = Vec::new();
    for (dir, test_only, max_fp, min_recall) in
        [("heldout", false, 0.04, 0.85), ("cases", true, 0.02, 0.80)]
    {
        let o = outcomes(&scanner, dir, test_only);
        let (fp, recall) = (rate(&o, "benign"), rate(&o, "injection"));
        eprintln!("corpora/{dir}: benign FP {fp:.3}, injection recall {recall:.3}");
        if fp > max_fp {
            failures.push(format!("corpora/{dir}: benign FP {fp:.3} > {max_fp}"));
        }
        if recall < min_recall {
            failures.push(format!(
                "corpora/{dir}: injection recall {recall:.3} < {min_recall}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
