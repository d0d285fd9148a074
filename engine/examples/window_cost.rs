//! What one phrase-rule window search costs: for each injection rule anchored on literals of
//! `ANCHORS=N` bytes (default 5), every anchor hit in FILE gets the window search the engine
//! would run (the rule's regex over the window around the hit), timed; the slowest rules first,
//! in µs per hit. `MODE=ismatch` asks only whether a window matches.
//!
//! `cargo run --release -p parapet-engine --example window_cost -- FILE [TOP]`

use std::time::Instant;

use parapet_engine::internals::{compile_second_stage, phrase_reach, Database, Scratch};
use parapet_engine::{builtin_rules, Category};
use regex_automata::Input;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let hay = std::fs::read(args.get(1).expect("usage: window_cost FILE [TOP]")).expect("read");
    let top: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(15);
    let min: usize = std::env::var("ANCHORS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let is_match_only = std::env::var("MODE").is_ok_and(|m| m == "ismatch");
    let mut rows = Vec::new();
    for r in builtin_rules().expect("rules") {
        if r.category != Category::Injection {
            continue;
        }
        let Some(d) = parapet_engine::anchor::derive(&r.pattern, min) else {
            continue;
        };
        // The engine counts each whitespace run as one byte; here the window is plain bytes.
        let reach = phrase_reach(&r.pattern);
        let db = Database::compile(&[(d.pattern(), 0)]).expect("anchor");
        let mut ends = Vec::new();
        Scratch::new(&db)
            .expect("scratch")
            .scan(&db, &hay, |_, e| ends.push(e))
            .expect("scan");
        if ends.is_empty() {
            continue;
        }
        let re = compile_second_stage(&r.pattern).expect("pattern");
        let (mut searched, mut found) = (0usize, 0usize);
        let t = Instant::now();
        for &e in &ends {
            let (from, to) = (e.saturating_sub(reach), (e + reach).min(hay.len()));
            searched += to - from;
            let input = Input::new(&hay).range(from..to);
            let hit = if is_match_only {
                re.is_match(input)
            } else {
                let mut slots = [None; 4];
                re.search_slots(&input, &mut slots).is_some()
            };
            found += usize::from(hit);
        }
        let secs = t.elapsed().as_secs_f64();
        rows.push((
            secs * 1e6 / ends.len() as f64,
            ends.len(),
            searched / ends.len(),
            found,
            secs * 1e3,
            r.id.clone(),
        ));
    }
    rows.sort_by(|a, b| b.4.total_cmp(&a.4));
    let total: f64 = rows.iter().map(|r| r.4).sum();
    println!(
        "{} rules, {total:.1} ms of window searches in all",
        rows.len()
    );
    println!("  µs/hit     hits  bytes/hit  found      ms  rule");
    for (us, hits, bytes, found, ms, id) in rows.iter().take(top) {
        println!("{us:8.2} {hits:8} {bytes:10} {found:6} {ms:7.2}  {id}");
    }
}
