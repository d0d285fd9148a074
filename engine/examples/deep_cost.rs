//! Cost of the deep scan of message texts on one file's text: `Scanner::scan` with the deep
//! scan on and off, in ns/byte, best of five (`REPEAT=N`; `MODE=off|messages` for one).
//!
//! `cargo run --release -p parapet-engine --example deep_cost -- FILE`

use std::time::Instant;

use parapet_engine::{DeepScan, Scanner, ScannerConfig};

fn main() {
    let path = std::env::args().nth(1).expect("usage: deep_cost FILE");
    let text = std::fs::read_to_string(path).expect("read FILE (UTF-8)");
    // REPEAT=N runs more rounds (for a profiler); MODE=off|messages runs one mode only.
    let repeat: usize = std::env::var("REPEAT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let only = std::env::var("MODE").ok();
    for deep in [DeepScan::Off, DeepScan::Messages] {
        if only
            .as_deref()
            .is_some_and(|m| m.parse::<DeepScan>().ok() != Some(deep))
        {
            continue;
        }
        let s = Scanner::new(ScannerConfig {
            deep_scan: deep,
            max_bytes: usize::MAX,
            ..ScannerConfig::default()
        })
        .expect("rules");
        let mut best = f64::MAX;
        for _ in 0..repeat {
            let t = Instant::now();
            std::hint::black_box(s.scan(&text).expect("scan"));
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!("{deep:?}: {:.2} ns/byte", best * 1e9 / text.len() as f64);
    }
}
