//! Cost of the deep scan of message texts on one file's text: `Scanner::scan` with the deep
//! scan on and off, in ns/byte, best of five.
//!
//! `cargo run --release -p parapet-engine --example deep_cost -- FILE`

use std::time::Instant;

use parapet_engine::{DeepScan, Scanner, ScannerConfig};

fn main() {
    let path = std::env::args().nth(1).expect("usage: deep_cost FILE");
    let text = std::fs::read_to_string(path).expect("read FILE (UTF-8)");
    for deep in [DeepScan::Off, DeepScan::Messages] {
        let s = Scanner::new(ScannerConfig {
            deep_scan: deep,
            max_bytes: usize::MAX,
            ..ScannerConfig::default()
        })
        .expect("rules");
        let mut best = f64::MAX;
        for _ in 0..5 {
            let t = Instant::now();
            std::hint::black_box(s.scan(&text).expect("scan"));
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!("{deep:?}: {:.2} ns/byte", best * 1e9 / text.len() as f64);
    }
}
