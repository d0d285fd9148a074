//! What `scan_json` costs per message on an NDJSON file (one JSON-RPC message per line): best of
//! five passes over every message, in µs per message and GB/s, rules only unless `DEEP=1`.
//! Run it under `perf record` to see where the time goes.
//!
//! `cargo build --release --workspace --examples && target/release/examples/json_cost FILE`

use std::time::Instant;

use parapet_engine::{DeepScan, Scanner, ScannerConfig};

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: json_cost FILE.ndjson");
    let text = std::fs::read(path).expect("read FILE");
    let msgs: Vec<&[u8]> = text
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let deep = std::env::var_os("DEEP").is_some();
    let scanner = Scanner::new(ScannerConfig {
        max_bytes: usize::MAX,
        deep_scan: if deep {
            DeepScan::Messages
        } else {
            DeepScan::Off
        },
        ..ScannerConfig::default()
    })
    .expect("rules");
    let passes: usize = std::env::var("PASSES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let total: usize = msgs.iter().map(|m| m.len()).sum();
    let mut best = f64::MAX;
    let mut findings = 0;
    for _ in 0..passes {
        findings = 0;
        let t = Instant::now();
        for m in &msgs {
            findings += scanner.scan_json(m).expect("scan").detections.len();
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "{} messages, {:.1} MB, deep scan {}: {:.1} us/msg, {:.3} GB/s, {findings} findings",
        msgs.len(),
        total as f64 / 1e6,
        if deep { "on" } else { "off" },
        best * 1e6 / msgs.len() as f64,
        total as f64 / best / 1e9
    );
}
