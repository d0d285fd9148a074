//! Where the engine's time goes on one file: each stage of the first pass timed on its own
//! (Hyperscan databases, folded view, byte gates, second stage), then the whole find and the
//! whole scan with its detections (fingerprints, injection score), best of five, in GB/s.
//!
//! `cargo run --release -p parapet-engine --example stage_cost -- FILE`; `REPEAT=N` only scans
//! the file N times, for a profiler.

use parapet_engine::{Scanner, ScannerConfig};

fn main() {
    let path = std::env::args().nth(1).expect("usage: stage_cost FILE");
    let hay = std::fs::read(path).expect("read FILE");
    let scanner = Scanner::new(ScannerConfig {
        max_bytes: usize::MAX,
        ..ScannerConfig::default()
    })
    .expect("rules");
    let repeat: usize = std::env::var("REPEAT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if repeat > 0 {
        for _ in 0..repeat {
            std::hint::black_box(scanner.scan_bytes(&hay).expect("scan"));
        }
        return;
    }
    let mut best: Vec<(&'static str, f64)> = Vec::new();
    for _ in 0..5 {
        let times = scanner.stage_times(&hay).expect("scan");
        if best.is_empty() {
            best = times;
        } else {
            for (b, t) in best.iter_mut().zip(times) {
                b.1 = b.1.min(t.1);
            }
        }
    }
    let mb = hay.len() as f64 / 1e6;
    println!("{} MB", mb.round());
    for (name, v) in best {
        if name.starts_with('(') {
            println!("{name:28} {:10.1}/MB", v / mb);
        } else {
            println!(
                "{name:28} {:8.1} ms {:7.2} GB/s",
                v * 1e3,
                hay.len() as f64 / v / 1e9
            );
        }
    }
}
