//! The proxy fuzz targets' invariants (parapet_proxy::fuzzing) over their seed inputs, so plain
//! `cargo test` runs them where cargo-fuzz is absent.

use std::sync::Arc;

use parapet_proxy::fuzzing;

#[path = "../../fuzz/seed_inputs.rs"]
mod seed_inputs;
use seed_inputs::seeds;

#[path = "../../engine/tests/support/rule_cache.rs"]
mod rule_cache;

#[test]
fn proxy_line_seeds() {
    let scanner = Arc::new(rule_cache::default_scanner());
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
