//! The proxy fuzz targets' invariants (parapet_proxy::fuzzing) over their seed inputs, so plain
//! `cargo test` runs them where cargo-fuzz is absent.

use std::path::Path;
use std::sync::Arc;

use parapet_engine::{Scanner, ScannerConfig};
use parapet_proxy::fuzzing;

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/seeds")
        .join(target);
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    let extra: Vec<Vec<u8>> = out
        .iter()
        .flat_map(|s| {
            (0..s.len())
                .step_by(5)
                .map(|n| s[..n].to_vec())
                .collect::<Vec<_>>()
        })
        .collect();
    out.extend(extra);
    out
}

#[test]
fn proxy_line_seeds() {
    let scanner =
        Arc::new(parapet_proxy::scanner_setup::build_scanner(ScannerConfig::default()).unwrap());
    let _: &Scanner = &scanner;
    for s in seeds("proxy_line") {
        fuzzing::pipeline_line(scanner.clone(), &s);
    }
}

#[test]
fn config_yaml_seeds() {
    for s in seeds("config_yaml") {
        if let Ok(text) = std::str::from_utf8(&s) {
            fuzzing::config_yaml(text);
        }
    }
}
