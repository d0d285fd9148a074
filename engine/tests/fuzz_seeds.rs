//! The fuzz targets' invariants (parapet_engine::fuzzing) over their seed inputs
//! (fuzz/seeds/<target>/, including kept crash reproducers), so plain `cargo test` catches a
//! regression where cargo-fuzz is absent.

use std::path::Path;
use std::sync::OnceLock;

use parapet_engine::{fuzzing, Scanner, ScannerConfig};

fn scanner() -> &'static Scanner {
    static S: OnceLock<Scanner> = OnceLock::new();
    S.get_or_init(|| Scanner::new(ScannerConfig::default()).unwrap())
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/seeds")
        .join(target);
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    assert!(!out.is_empty(), "no seeds for {target}");
    // Every prefix of each seed too: cheap variety around the interesting bytes.
    let extra: Vec<Vec<u8>> = out
        .iter()
        .flat_map(|s| {
            (0..s.len())
                .step_by(7)
                .map(|n| s[..n].to_vec())
                .collect::<Vec<_>>()
        })
        .collect();
    out.extend(extra);
    out
}

#[test]
fn scan_text_seeds() {
    for s in seeds("scan_text") {
        fuzzing::scan_text(scanner(), &s);
    }
}

#[test]
fn scan_json_seeds() {
    for s in seeds("scan_json") {
        fuzzing::scan_and_redact_json(scanner(), &s);
    }
}

#[test]
fn fold_map_seeds() {
    for s in seeds("fold_map").iter().chain(&seeds("scan_text")) {
        fuzzing::fold_map(s);
    }
}

#[test]
fn rule_file_seeds() {
    for s in seeds("rule_file").into_iter().take(40) {
        if let Ok(text) = std::str::from_utf8(&s) {
            fuzzing::rule_file(text);
        }
    }
}
