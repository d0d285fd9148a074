//! The scanner every target shares, built once per process from the rule cache.

use std::sync::{Arc, OnceLock};

use parapet_engine::{Scanner, ScannerConfig};

pub fn scanner() -> Arc<Scanner> {
    static S: OnceLock<Arc<Scanner>> = OnceLock::new();
    S.get_or_init(|| {
        Arc::new(
            parapet_proxy::scanner_setup::build_scanner(ScannerConfig::default()).expect("scanner"),
        )
    })
    .clone()
}
