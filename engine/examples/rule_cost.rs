//! Which rules make the Hyperscan pass slow: compiles every built-in rule alone and times a
//! scan of the given file with it, next to the full databases and a memchr pass.
//!
//! `target/release/examples/rule_cost FILE [TOP]` (after `cargo build --release --workspace
//! --examples`). One experiment instead, by environment variable: `PATTERN=P` (one pattern
//! alone), `WITHOUT=PREFIX,...` (the raw database with and without the rules of those id
//! prefixes), `ANCHORS=N`, `REGIONS=N` (with `REACH`), `SPLIT=K`, `LEAVE_OUT=1`,
//! `UNANCHORED=1`, `FOLDED_WITHOUT=PREFIX,...` (the databases only, those phrase rules left out
//! of the folded one), `AS_WRITTEN=ID,...` (each folded-database rule alone in both forms, then
//! the whole database with those rules as written: `fold_whitespace`); `MERGED`, `FLOOR` and
//! `SPACE_VIEW` add a figure to the full run.

use std::time::Instant;

use parapet_engine::internals::{pattern_for_folded_view, Database, Folded, Scratch, Split};
use parapet_engine::{builtin_rules, parse_rules, Category, Gate, Rule, BUILTIN_RULE_FILES};

fn time_db(db: &Database, hay: &[u8]) -> (f64, usize) {
    let mut scratch = Scratch::new(db).expect("scratch");
    let mut best = f64::MAX;
    let mut hits = 0;
    for _ in 0..3 {
        hits = 0;
        let t = Instant::now();
        scratch.scan(db, hay, |_, _| hits += 1).expect("scan");
        best = best.min(t.elapsed().as_secs_f64());
    }
    (best, hits)
}

/// What the raw database holds for a rule that is not a phrase rule: its anchor, the part
/// before its value when it splits there, or its pattern.
fn raw_entry(r: &Rule) -> String {
    let split = (r.category != Category::Injection)
        .then(|| Split::of(&r.pattern))
        .flatten();
    match (&r.anchor, split) {
        (Some(anchor), _) => anchor.clone(),
        (None, Some(split)) => split.prefix,
        (None, None) => r.pattern.clone(),
    }
}

/// [`time_db`] of the database of `set`.
fn time_set(set: &[(String, u32)], hay: &[u8]) -> (f64, usize) {
    time_db(&Database::compile(set).expect("compile"), hay)
}

/// The phrase rules the engine gives no anchor: they stay in its folded database.
fn unanchored_phrase_rules(rules: &[Rule]) -> impl Iterator<Item = &Rule> {
    rules.iter().filter(|r| {
        r.category == Category::Injection
            && r.anchor.is_none()
            && r.gate == Gate::Hyperscan
            && parapet_engine::anchor::derive(
                &r.pattern,
                parapet_engine::anchor::PHRASE_MIN_LITERAL,
            )
            .is_none()
    })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).expect("usage: rule_cost FILE [TOP]");
    let top: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(30);
    let hay = std::fs::read(path).expect("read FILE");
    let folded = Folded::new(&hay).text().to_vec();
    let rules = builtin_rules().expect("rules");
    if let Ok(p) = std::env::var("PATTERN") {
        let (secs, hits) = time_set(&[(p, 0)], &hay);
        println!(
            "PATTERN alone: {:.2} GB/s, {hits} matches",
            hay.len() as f64 / secs / 1e9
        );
        return;
    }
    let gb = |secs: f64| hay.len() as f64 / secs / 1e9;

    let t = Instant::now();
    let n = memchr::memchr_iter(b'\x01', &hay).count();
    let floor = t.elapsed().as_secs_f64();
    println!("memchr floor {:.2} GB/s ({n})", gb(floor));

    if let Ok(without) = std::env::var("WITHOUT") {
        // The raw database with and without the rules whose ids start with any of the
        // comma-separated prefixes: what moving them out of Hyperscan would save.
        let prefixes: Vec<&str> = without.split(',').collect();
        let raw_rules = rules.iter().filter(|r| {
            r.gate == Gate::Hyperscan && !(r.category == Category::Injection && r.anchor.is_none())
        });
        let (mut all, mut kept, mut left_out) = (Vec::new(), Vec::new(), Vec::new());
        for r in raw_rules {
            let p = (raw_entry(r), 0);
            all.push(p.clone());
            if prefixes.iter().any(|x| r.id.starts_with(x)) {
                left_out.push(p);
            } else {
                kept.push(p);
            }
        }
        for (name, set) in [("all", &all), ("without", &kept), ("only those", &left_out)] {
            let (secs, hits) = time_set(set, &hay);
            println!(
                "{name} ({} rules): {:.3} GB/s, {hits} matches",
                set.len(),
                gb(secs)
            );
        }
        return;
    }
    let mut raw = Vec::new();
    let mut fold = Vec::new();
    let mut costs = Vec::new();
    for r in &rules {
        if r.gate != Gate::Hyperscan {
            continue;
        }
        let injection = r.category == Category::Injection && r.anchor.is_none();
        let pattern = if let Some(anchor) = &r.anchor {
            anchor.clone()
        } else if injection && r.fold_whitespace {
            pattern_for_folded_view(&r.pattern)
        } else if injection {
            r.pattern.clone()
        } else {
            raw_entry(r)
        };
        if std::env::var_os("FOLDED_WITHOUT").is_none() {
            let (secs, hits) = time_set(
                &[(pattern.clone(), 0)],
                if injection { &folded } else { &hay },
            );
            costs.push((secs, hits, r.id.clone()));
        }
        let dropped = std::env::var("FOLDED_WITHOUT")
            .is_ok_and(|v| v.split(',').any(|x| !x.is_empty() && r.id.starts_with(x)));
        if injection && dropped {
            println!("left out of the folded database: {}", r.id);
        } else if injection {
            fold.push((pattern, 0));
        } else {
            raw.push((pattern, 0));
        }
    }
    for (name, set, text) in [("raw", &raw, &hay), ("folded", &fold, &folded)] {
        let (secs, hits) = time_set(set, text);
        println!(
            "{name} database: {} rules {:.3} GB/s, {hits} matches",
            set.len(),
            gb(secs)
        );
    }
    if std::env::var_os("ANCHORS").is_some() {
        // Derived anchors of phrase rules: hits per MB on this file, the most frequent first.
        // ANCHORS=N takes literals of at least N bytes (default: the engine's).
        let min_literal = std::env::var("ANCHORS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(parapet_engine::anchor::PHRASE_MIN_LITERAL);
        let mut counts = Vec::new();
        for r in rules.iter().filter(|r| r.category == Category::Injection) {
            if let Some(d) = parapet_engine::anchor::derive(&r.pattern, min_literal) {
                let (_, hits) = time_set(&[(d.pattern(), 0)], &hay);
                let words: Vec<String> = d
                    .literals
                    .iter()
                    .take(8)
                    .map(|l| String::from_utf8_lossy(l).into_owned())
                    .collect();
                counts.push((hits, r.id.clone(), words));
            } else {
                println!("no anchor: {}", r.id);
            }
        }
        counts.sort_by_key(|c| std::cmp::Reverse(c.0));
        let mb = hay.len() as f64 / 1e6;
        for (hits, id, words) in counts.iter().take(top) {
            println!("{:10.1}/MB {id} {words:?}", *hits as f64 / mb);
        }
        return;
    }
    if let Some(n) = std::env::var("REGIONS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        // The phrase rules that get no engine anchor, anchored on N-byte literals into one
        // trigger set: how much of the file lies within REACH bytes of a trigger.
        let reach: usize = std::env::var("REACH")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(256);
        let mut triggers = Vec::new();
        for r in unanchored_phrase_rules(&rules) {
            match parapet_engine::anchor::derive(&r.pattern, n) {
                Some(d) => triggers.push((d.pattern(), 0)),
                None => println!("no {n}-byte anchor: {}", r.id),
            }
        }
        let db = Database::compile(&triggers).expect("compile");
        let mut scratch = Scratch::new(&db).expect("scratch");
        let t = Instant::now();
        let mut ends = Vec::new();
        scratch.scan(&db, &hay, |_, e| ends.push(e)).expect("scan");
        let secs = t.elapsed().as_secs_f64();
        ends.sort_unstable();
        let (mut covered, mut upto) = (0usize, 0usize);
        for &e in &ends {
            let (a, b) = (
                e.saturating_sub(reach).max(upto),
                (e + reach).min(hay.len()),
            );
            if b > a {
                covered += b - a;
            }
            upto = upto.max(b);
        }
        println!(
            "{} trigger rules, {:.1} hits/MB, {:.3} GB/s, {:.1}% of the file within {reach} bytes",
            triggers.len(),
            ends.len() as f64 / (hay.len() as f64 / 1e6),
            gb(secs),
            100.0 * covered as f64 / hay.len() as f64
        );
        return;
    }
    if let Some(k) = std::env::var("SPLIT")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        // The folded database's rules dealt round-robin into 1..=K databases: the summed
        // time of scanning each, against one database.
        let phrase: Vec<String> = unanchored_phrase_rules(&rules)
            .map(|r| pattern_for_folded_view(&r.pattern))
            .collect();
        for parts in 1..=k {
            let dbs: Vec<Database> = (0..parts)
                .map(|p| {
                    let set: Vec<(String, u32)> = phrase
                        .iter()
                        .skip(p)
                        .step_by(parts)
                        .map(|x| (x.clone(), 0))
                        .collect();
                    Database::compile(&set).expect("compile")
                })
                .collect();
            let secs: f64 = dbs.iter().map(|db| time_db(db, &folded).0).sum();
            println!("{parts} databases: {:.3} GB/s", gb(secs));
        }
        return;
    }
    if std::env::var_os("LEAVE_OUT").is_some() {
        // The folded database without each family of phrase rules (id up to its second dot):
        // where the cost of the whole database sits, which the rules alone do not show.
        let phrase: Vec<&Rule> = unanchored_phrase_rules(&rules).collect();
        let family = |r: &Rule| r.id.splitn(3, '.').take(2).collect::<Vec<_>>().join(".");
        let mut families: Vec<String> = phrase.iter().map(|r| family(r)).collect();
        families.sort();
        families.dedup();
        let set_of = |keep: &dyn Fn(&Rule) -> bool| -> Vec<(String, u32)> {
            phrase
                .iter()
                .filter(|r| keep(r))
                .map(|r| (pattern_for_folded_view(&r.pattern), 0))
                .collect()
        };
        let all = set_of(&|_| true);
        println!(
            "all {}: {:.3} GB/s",
            all.len(),
            gb(time_set(&all, &folded).0)
        );
        for f in &families {
            let (without, alone) = (set_of(&|r| family(r) != *f), set_of(&|r| family(r) == *f));
            println!(
                "without {f} ({} left): {:.3} GB/s; {f} alone ({}): {:.3} GB/s",
                without.len(),
                gb(time_set(&without, &folded).0),
                alone.len(),
                gb(time_set(&alone, &folded).0)
            );
        }
        return;
    }
    if std::env::var_os("AS_WRITTEN").is_some() {
        // The folded database's rules each alone on the folded view, in the form the engine
        // gives them (`\s` for each whitespace run) and as written (`\s+`, which on the view
        // matches the same): GB/s of each, tab-separated, for choosing per rule.
        let mut as_written = Vec::new();
        let mut folded_form = Vec::new();
        for r in unanchored_phrase_rules(&rules) {
            let folded_pattern = pattern_for_folded_view(&r.pattern);
            let (a, _) = time_set(&[(folded_pattern.clone(), 0)], &folded);
            let (b, _) = time_set(&[(r.pattern.clone(), 0)], &folded);
            println!("{}\t{:.3}\t{:.3}", r.id, gb(a), gb(b));
            let keep = std::env::var("AS_WRITTEN").is_ok_and(|v| v.split(',').any(|x| x == r.id));
            let chosen = if keep {
                r.pattern.clone()
            } else {
                folded_pattern.clone()
            };
            as_written.push((chosen, 0));
            folded_form.push((folded_pattern, 0));
        }
        println!(
            "all folded form\t{:.3}",
            gb(time_set(&folded_form, &folded).0)
        );
        println!(
            "chosen as written\t{:.3}",
            gb(time_set(&as_written, &folded).0)
        );
        return;
    }
    if std::env::var_os("UNANCHORED").is_some() {
        // The phrase rules the engine cannot anchor (its folded database): each alone on the
        // folded view, the slowest first, then all of them together.
        let mut set = Vec::new();
        let mut alone = Vec::new();
        for r in unanchored_phrase_rules(&rules) {
            let p = pattern_for_folded_view(&r.pattern);
            let (secs, hits) = time_set(&[(p.clone(), 0)], &folded);
            alone.push((secs, hits, r.id.clone()));
            set.push((p, 0));
        }
        alone.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (secs, hits, id) in alone.iter().take(top) {
            println!("{:8.2} {hits:8} {id}", gb(*secs));
        }
        let (secs, hits) = time_set(&set, &folded);
        println!(
            "{} unanchored phrase rules together: {:.3} GB/s, {hits} matches",
            set.len(),
            gb(secs)
        );
        return;
    }
    if std::env::var_os("MERGED").is_some() {
        let mut set = raw.clone();
        set.extend(fold.iter().cloned());
        let t = Instant::now();
        let db = Database::compile(&set).expect("compile");
        println!("merged compile {:.1}s", t.elapsed().as_secs_f64());
        let (secs, hits) = time_db(&db, &folded);
        println!("merged database: {:.3} GB/s, {hits} matches", gb(secs));
    }
    if std::env::var_os("FLOOR").is_some() {
        for n in [50usize, 450, 2000] {
            let set: Vec<(String, u32)> = (0..n)
                .map(|i| (format!("(?i)q{:x}zj{}xv", i * 7919, i % 10), 0))
                .collect();
            let (secs, _) = time_set(&set, &hay);
            println!("{n} absent literals: {:.3} GB/s", gb(secs));
        }
    }
    if std::env::var_os("SPACE_VIEW").is_some() {
        let spaced: Vec<u8> = folded
            .iter()
            .map(|&b| {
                if b.is_ascii_whitespace() || b == 0x0b {
                    b' '
                } else {
                    b
                }
            })
            .collect();
        let set: Vec<(String, u32)> = fold
            .iter()
            .map(|(p, f)| {
                (
                    p.replace("\\s?", " ?")
                        .replace("\\s", " ")
                        .replace("\\n", " "),
                    *f,
                )
            })
            .collect();
        let (secs, hits) = time_set(&set, &spaced);
        println!("space view database: {:.3} GB/s, {hits} matches", gb(secs));
    }
    for (name, text) in BUILTIN_RULE_FILES {
        let set: Vec<(String, u32)> = parse_rules(name, text)
            .expect("rules")
            .iter()
            .filter(|r| r.gate == Gate::Hyperscan && r.category != Category::Injection)
            .map(|r| (raw_entry(r), 0))
            .collect();
        if set.is_empty() {
            continue;
        }
        let (secs, _) = time_set(&set, &hay);
        println!("  {name}: {} rules {:.3} GB/s", set.len(), gb(secs));
    }
    costs.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!("slowest rules alone (GB/s, matches):");
    for (secs, hits, id) in costs.iter().take(top) {
        println!("  {:7.2} {hits:8} {id}", gb(*secs));
    }
}
