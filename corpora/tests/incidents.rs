//! Public MCP attacks of 2025 (tool poisoning, shadowing, preference manipulation, the GitHub
//! and Supabase MCP incidents), written in our own words, next to texts of real trees that once
//! read as attacks (`corpora/incidents`). Rules were written for these, so this is a regression
//! set, not a measure: every attack must be found, every near miss left alone by the rules. The
//! classifier, a statistical model retrained as cases are added, may flag one near miss (2%:
//! its bar on agent-era look-alikes is 3%), never more.

use std::path::Path;

use parapet_corpora::{evaluate, labelled_files, load_cases};

#[path = "../../engine/tests/support/rule_cache.rs"]
mod rule_cache;

#[test]
fn every_incident_is_found_and_no_near_miss() {
    let scanner = rule_cache::default_scanner();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("incidents");
    let mut wrong = Vec::new();
    let mut seen = 0;
    let mut classifier_only = Vec::new();
    for path in labelled_files(&dir).unwrap() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let cases = load_cases(&path).unwrap();
        for (outcome, case) in evaluate(&scanner, &name, &cases)
            .unwrap()
            .iter()
            .zip(&cases)
        {
            seen += 1;
            assert_eq!(outcome.id, case.id);
            let expected = outcome.label == "injection";
            let by_classifier_alone = !outcome.rules.is_empty()
                && outcome.rules.iter().all(|r| r == "classifier.injection");
            if outcome.hit && !expected && by_classifier_alone {
                classifier_only.push(format!("{:?}", case.text));
            } else if outcome.hit != expected {
                wrong.push(format!(
                    "{} {:?}: {:?}",
                    outcome.label, case.text, outcome.rules
                ));
            }
        }
    }
    assert!(seen > 0, "no incident cases under {}", dir.display());
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(
        classifier_only.len() <= 1,
        "near misses flagged by the classifier alone:\n{}",
        classifier_only.join("\n")
    );
}
