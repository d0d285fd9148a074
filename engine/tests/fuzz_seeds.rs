//! The fuzz targets' invariants (parapet_engine::fuzzing) over their seed inputs
//! (fuzz/seeds/<target>/, including kept crash reproducers), so plain `cargo test` catches a
//! regression where cargo-fuzz is absent.

use std::sync::OnceLock;

use parapet_engine::{fuzzing, Scanner};

fn scanner() -> &'static Scanner {
    static S: OnceLock<Scanner> = OnceLock::new();
    S.get_or_init(rule_cache::default_scanner)
}

#[path = "../../fuzz/seed_inputs.rs"]
mod seed_inputs;
use seed_inputs::seeds;

#[path = "support/rule_cache.rs"]
mod rule_cache;

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
fn normalise_map_seeds() {
    for s in seeds("normalise_map").iter().chain(&seeds("scan_text")) {
        fuzzing::normalise_map(s);
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
