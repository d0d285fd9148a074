//! Prints the injection classifier's score for each line of a file (or stdin), and its cost (best of five passes).
//!
//! `cargo run --release -p parapet-engine --example classify_text -- [FILE]`

use std::io::Read;
use std::time::Instant;

use parapet_engine::classify::Classifier;

fn main() {
    let mut text = String::new();
    match std::env::args().nth(1) {
        Some(path) => text = std::fs::read_to_string(path).expect("read FILE"),
        None => {
            std::io::stdin()
                .read_to_string(&mut text)
                .expect("read stdin");
        }
    }
    let c = Classifier::builtin().expect("model");
    let lines: Vec<&str> = text.lines().collect();
    let bytes: usize = lines.iter().map(|l| l.len()).sum();
    // Best of five passes: this machine is shared and one pass moves by 2x.
    let (mut scores, mut secs) = (Vec::new(), f64::MAX);
    for _ in 0..5 {
        let t = Instant::now();
        scores = lines
            .iter()
            .map(|l| c.score(l.as_bytes()).map_or(0.0, |s| s.0))
            .collect();
        secs = secs.min(t.elapsed().as_secs_f64());
    }
    for (line, s) in lines.iter().zip(scores) {
        let head: String = line.chars().take(100).collect();
        println!("{s:.3} {head}");
    }
    eprintln!(
        "threshold {:.3}; {bytes} bytes in {:.1} us: {:.2} us/KB",
        c.threshold,
        secs * 1e6,
        secs * 1e6 / (bytes.max(1) as f64 / 1024.0)
    );
}
