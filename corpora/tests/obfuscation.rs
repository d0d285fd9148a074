//! Every obfuscation technique of the generator, on each of our phrases, is still reported as
//! an injection by the default scanner (deep scan on, as for message texts), and the plain
//! phrase's findings point at original bytes.

use parapet_corpora::obfuscate::{variants, PHRASES};
use parapet_engine::{Category, ScannerConfig};

#[path = "../../engine/tests/support/rule_cache.rs"]
mod rule_cache;

#[test]
fn every_technique_is_caught() {
    let scanner = rule_cache::default_scanner();
    let mut missed = Vec::new();
    for phrase in PHRASES {
        for (technique, text) in variants(phrase) {
            let v = scanner.scan(&text).unwrap();
            let hit = v
                .detections
                .iter()
                .find(|d| d.category == Category::Injection);
            match hit {
                Some(d) => assert!(
                    d.span.1 <= text.len() && text.is_char_boundary(d.span.0),
                    "{technique}: span {:?} out of the text",
                    d.span
                ),
                None => missed.push(format!("{technique}: {text}")),
            }
        }
    }
    assert!(missed.is_empty(), "not caught:\n{}", missed.join("\n"));
}

#[test]
fn deep_scan_off_leaves_only_the_rules() {
    let scanner = rule_cache::cached_scanner(ScannerConfig {
        deep_scan: parapet_engine::DeepScan::Off,
        ..ScannerConfig::default()
    })
    .unwrap();
    let (_, text) = variants(PHRASES[0])
        .into_iter()
        .find(|(t, _)| *t == "homoglyphs")
        .unwrap();
    let v = scanner.scan(&text).unwrap();
    assert!(v
        .detections
        .iter()
        .all(|d| d.category != Category::Injection));
}
