//! The matcher against what Hyperscan alone, given each whole pattern, would have found.

use std::collections::BTreeSet;

use super::*;
use crate::hyperscan::Scratch;
use crate::matcher::cache::{cached_routes, routes_key};
use crate::rule::builtin_rules;

type Spans = BTreeSet<(usize, usize)>;

/// What the first pass found before rules were split: the whole pattern in Hyperscan,
/// and at each end it reports, the match the second stage recovers.
fn every_match(m: &Matcher, db: &Database, i: usize, hay: &[u8]) -> Vec<Confirmed> {
    let mut ends = Vec::new();
    Scratch::new(db)
        .expect("scratch")
        .scan(db, hay, |_, end| ends.push(end))
        .expect("scan");
    ends.into_iter()
        .filter_map(|end| m.confirmers[i].at_end(hay, end, m.windows[i]))
        .collect()
}

/// The reported spans, and the whole matches.
fn spans(found: impl IntoIterator<Item = Confirmed>) -> (Spans, Spans) {
    let found: Vec<_> = found.into_iter().collect();
    (
        found.iter().map(|c| (c.start, c.end)).collect(),
        found.iter().map(|c| (c.match_start, c.match_end)).collect(),
    )
}

/// Reported spans of the rules in `set` on each path.
fn spans_of(m: &mut Matcher, set: &BTreeSet<usize>, path: Path, hay: &[u8]) -> Spans {
    m.timed_path = path;
    let mut found = Vec::new();
    m.find(hay, &mut found).expect("find");
    found
        .iter()
        .filter(|f| set.contains(&f.rule))
        .map(|f| (f.at.start, f.at.end))
        .collect()
}

/// The rules of a timed set find the same on every path: Hyperscan alone, the DFA alone, a
/// hand-over after the first chunk, and the clock's choice. The texts are the rules' examples
/// and negative examples, a long text with examples planted across chunk edges (every 8 KiB
/// to 128 KiB), and `flood` repeated after it (the input that makes Hyperscan slow).
fn timed_set_agrees_on_every_path(
    m: &mut Matcher,
    rules: &[Rule],
    set: &BTreeSet<usize>,
    flood: &str,
) {
    let members: Vec<&Rule> = set.iter().map(|&i| &rules[i]).collect();
    let mut texts: Vec<String> = members
        .iter()
        .flat_map(|r| r.examples.iter().chain(&r.negative_examples).cloned())
        .collect();
    let examples: Vec<&String> = members.iter().flat_map(|r| &r.examples).collect();
    let mut long = String::new();
    let mut k = 0;
    // Every 8 KiB: the edges of growing chunks, and of the 8 KiB chunks after each switch of
    // engine, either way.
    for edge in (1..=16).map(|k| k * (8usize << 10)) {
        for shift in [1usize, 7, 20] {
            let ex = examples[k % examples.len()];
            k += 1;
            let at = (edge - shift.min(ex.len() - 1)).max(long.len() + 1);
            while long.len() + 1 < at {
                long.push_str(if long.len().is_multiple_of(61) {
                    "\n"
                } else {
                    "x "
                });
            }
            long.push(' ');
            long.truncate(at);
            long.push_str(ex);
            long.push('\n');
        }
    }
    long.push_str(&flood.repeat(32_000 / flood.len()));
    let planted = spans_of(m, set, Path::Hyperscan, long.as_bytes());
    assert!(
        planted.len() >= 10,
        "{} found in the long text",
        planted.len()
    );
    texts.push(long);
    for text in &texts {
        let hay = text.as_bytes();
        let hyperscan = spans_of(m, set, Path::Hyperscan, hay);
        for path in [Path::Dfa, Path::HandOver, Path::Alternate, Path::Timed] {
            let other = spans_of(m, set, path, hay);
            assert_eq!(
                other,
                hyperscan,
                "{path:?} on {:?}",
                &text[..text.len().min(200)]
            );
        }
    }
}

/// The built-in rules' matcher, its databases loaded from the tests' shared cache (compiling
/// them is half a minute of one core).
fn builtin_matcher(rules: &[Rule]) -> Matcher {
    let m = Matcher::new(rules, Some(crate::rule_cache::builtin_database())).expect("matcher");
    assert!(
        m.loaded_from_cache(),
        "the scanner's database is the matcher's for the same rules"
    );
    m
}

/// The built-in rules and their matcher, whose timed set `which` builds its lazy DFA. The DFA
/// is built on first use and leaves the work to Hyperscan if it cannot be built: then every
/// path would be Hyperscan's, and comparing paths would prove nothing.
fn with_dfa(which: fn(&Matcher) -> &TimedSet, what: &str) -> (Vec<Rule>, Matcher) {
    let rules = builtin_rules().expect("rules");
    let m = builtin_matcher(&rules);
    assert!(which(&m).has_dfa(), "the built-in {what} build a lazy DFA");
    (rules, m)
}

#[test]
fn generic_rules_find_the_same_on_every_path() {
    let (rules, mut m) = with_dfa(|m| &m.keyed, "generic rules");
    let generic: BTreeSet<usize> = (0..rules.len())
        .filter(|&i| rules[i].id.starts_with(GENERIC_PREFIX))
        .collect();
    timed_set_agrees_on_every_path(&mut m, &rules, &generic, "api_key=");
}

#[test]
fn folded_phrase_rules_find_the_same_on_every_path() {
    let (rules, mut m) = with_dfa(|m| &m.folded, "folded phrase rules");
    let folded: BTreeSet<usize> = m.folded.rules().iter().copied().collect();
    assert!(folded.len() >= 50, "only {} folded rules", folded.len());
    timed_set_agrees_on_every_path(&mut m, &rules, &folded, "send it to ");
}

#[test]
fn a_long_private_key_across_chunk_edges_is_found_on_every_path() {
    // A PuTTY key's whole pattern is in the main database and can run past 4 KiB (an
    // RSA-8192 key file is ~6 KB): each chunk must reach back as far as a key can be long.
    let rules = builtin_rules().expect("rules");
    let mut m = builtin_matcher(&rules);
    let putty: BTreeSet<usize> = (0..rules.len())
        .filter(|&i| rules[i].id == "private_key.putty")
        .collect();
    let body: String = (0..90)
        .map(|i| {
            format!(
                "{}\n",
                "AbCdEfGh0123456789+/"
                    .repeat(4)
                    .get(i % 7..i % 7 + 58)
                    .unwrap()
            )
        })
        .collect();
    let key = format!(
        "PuTTY-User-Key-File-3: ssh-rsa\nEncryption: none\nComment: deploy@quill\n\
         Public-Lines: 90\n{body}Private-Lines: 90\n{body}\
         Private-MAC: 54533cbf016fc15053fd54533cbf016fc15053fd"
    );
    assert!(key.len() > 9000, "{}", key.len());
    // The main database's chunks: 64 KiB (four reaches of 16 KiB), then 128 KiB.
    for at in [60_000usize, 63_000, 190_000] {
        let text = format!("{}{key}\n{}", "x ".repeat(at / 2), "y ".repeat(150_000));
        let want = spans_of(&mut m, &putty, Path::Hyperscan, text.as_bytes());
        assert_eq!(want.len(), 1, "the key at {at} is found by one whole scan");
        for path in [Path::Dfa, Path::HandOver, Path::Alternate, Path::Timed] {
            let got = spans_of(&mut m, &putty, path, text.as_bytes());
            assert_eq!(got, want, "{path:?} with the key at {at}");
        }
    }
}

#[test]
fn main_database_rules_find_the_same_on_every_path() {
    let (rules, mut m) = with_dfa(|m| &m.raw, "main database's rules");
    let main: BTreeSet<usize> = m.raw.rules().iter().copied().collect();
    assert!(
        main.len() >= 300,
        "only {} rules in the main database",
        main.len()
    );
    timed_set_agrees_on_every_path(&mut m, &rules, &main, "ghp_ ");
}

#[test]
fn split_rules_find_what_their_whole_pattern_finds() {
    let rules = builtin_rules().expect("rules");
    let m = builtin_matcher(&rules);
    let split: Vec<usize> = (0..rules.len()).filter(|&i| m.split[i].is_some()).collect();
    assert!(split.len() >= 20, "only {} rules split", split.len());
    for &i in &split {
        let r = &rules[i];
        let db = Database::compile(&[(r.pattern.clone(), 0)]).expect("compiles");
        for ex in r.examples.iter().chain(&r.negative_examples) {
            let texts = [
                ex.clone(),
                format!("{ex} {ex}"),
                format!("api_key=token={ex}"),
                format!("{ex}{ex}x"),
                format!("{ex}\"'"),
                ex.replace([' ', ':'], "="),
            ];
            for text in &texts {
                let hay = text.as_bytes();
                let mut found = Vec::new();
                m.find(hay, &mut found).expect("find");
                let got = spans(found.iter().filter(|f| f.rule == i).map(|f| f.at));
                let want = spans(every_match(&m, &db, i, hay));
                // Same spans reported. Hyperscan's `$` also matches before a final newline,
                // so a value at the end of a line could end a second, shorter match there.
                assert_eq!(got.0, want.0, "{} on {text:?}", r.id);
                assert!(got.1.is_subset(&want.1), "{} on {text:?}", r.id);
            }
        }
    }
}

#[test]
fn the_cache_keeps_routes_and_is_used_only_for_the_same_rules() {
    // Every route kind: a phrase rule with its own anchor, derived ones, folded ones, split
    // and whole entries, gated rules; a few of each family keeps the compile short.
    let all = builtin_rules().expect("rules");
    let rules: Vec<Rule> = all.iter().step_by(7).cloned().collect();
    let kinds: BTreeSet<&str> = routes(&rules)
        .iter()
        .map(|r| match r {
            Route::Anchored { .. } => "anchored",
            Route::Derived { .. } => "derived",
            Route::Folded(_) => "folded",
            Route::Entry(Some(_)) => "split",
            Route::Entry(None) => "entry",
            Route::Gated => "gated",
        })
        .collect();
    assert_eq!(kinds.len(), 6, "sample covers every route: {kinds:?}");

    let fresh = Matcher::new(&rules, None).expect("matcher");
    assert!(!fresh.loaded_from_cache());
    let bytes = fresh.serialized().expect("serialized");
    let key = routes_key(&rules);
    let (kept, _) = cached_routes(&bytes, &key).expect("routes in the cache");
    assert_eq!(kept, routes(&rules));

    let warm = Matcher::new(&rules, Some(&bytes)).expect("matcher");
    assert!(warm.loaded_from_cache());
    assert_eq!(warm.serialized().expect("serialized"), bytes);
    let text: String = rules
        .iter()
        .flat_map(|r| r.examples.iter().chain(&r.negative_examples))
        .map(|e| format!("{e}\n"))
        .collect();
    let found = |m: &Matcher| {
        let mut out = Vec::new();
        m.find(text.as_bytes(), &mut out).expect("find");
        let mut v: Vec<_> = out.iter().map(|f| (f.rule, f.at.start, f.at.end)).collect();
        v.sort_unstable();
        v
    };
    assert!(!found(&fresh).is_empty());
    assert_eq!(found(&warm), found(&fresh));

    // A cache written before routes were kept gives its databases, and is then rewritten.
    let db_part = bytes.len() - fresh.routes.len();
    let old = Matcher::new(&rules, Some(&bytes[..db_part])).expect("matcher");
    assert!(!old.loaded_from_cache());
    assert_eq!(old.serialized().expect("serialized"), bytes);

    // Another rule set (one pattern changed) has another routes key: nothing is reused.
    let mut changed = rules.clone();
    let i = changed
        .iter()
        .position(|r| r.anchor.is_none() && r.gate == crate::rule::Gate::Hyperscan)
        .expect("an unanchored rule");
    changed[i].pattern.push_str("(?:zzq)?");
    assert_ne!(routes_key(&changed), key);
    assert!(cached_routes(&bytes, &routes_key(&changed)).is_none());
    assert!(!Matcher::new(&changed, Some(&bytes))
        .expect("matcher")
        .loaded_from_cache());
}

#[test]
fn a_split_generic_match_across_a_give_back_edge_is_found() {
    // For a split rule the DFA reports where the whole match ends and Hyperscan where its key
    // part does: at an edge where the DFA gives the text back (32 KiB when the engines
    // alternate: chunks of 16 KiB, four reaches), a key before the edge with its value past
    // it must still be found.
    let rules = builtin_rules().expect("rules");
    let mut m = builtin_matcher(&rules);
    let generic: BTreeSet<usize> = m.keyed.rules().iter().copied().collect();
    let split: Vec<usize> = m
        .keyed
        .rules()
        .iter()
        .copied()
        .filter(|&i| m.split[i].is_some())
        .collect();
    assert!(
        split.len() >= 10,
        "only {} split generic rules",
        split.len()
    );
    for i in split {
        let ex = &rules[i].examples[0];
        for shift in (1..ex.len()).step_by(3) {
            let at = (32usize << 10) - shift;
            let pad = "x ".repeat(at / 2) + if at % 2 == 1 { " " } else { "" };
            let text = format!("{pad}{ex}\n{}", "y ".repeat(20000));
            let want = spans_of(&mut m, &generic, Path::Hyperscan, text.as_bytes());
            let got = spans_of(&mut m, &generic, Path::Alternate, text.as_bytes());
            assert_eq!(got, want, "{} at shift {shift}", rules[i].id);
        }
    }
}

#[test]
fn an_opening_anchor_with_gaps_in_its_lengths_tries_every_start() {
    // Lengths 1 and 4: the hit of `b` ending at 2 tries start 1; the hit of `abcd` ending
    // at 4 must still try start 0, though it lies before the start tried last.
    let rules = crate::parse_rules(
        "gaps.toml",
        "[[rule]]\nid = \"x.gaps\"\nname = \"x\"\ncategory = \"secret\"\nkind = \"x\"\n\
         pattern = '''(?:b|abcd)[0-9]{3}'''\nanchor = '''(?:b|abcd)'''\n\
         examples = [\"abcd123\"]\n",
    )
    .expect("rule file");
    let m = Matcher::new(&rules, None).expect("matcher");
    assert_eq!(m.opens[0], Some(vec![1, 4]));
    let mut found = Vec::new();
    m.find(b"abcd123", &mut found).expect("find");
    let spans: Vec<_> = found.iter().map(|f| (f.at.start, f.at.end)).collect();
    assert_eq!(spans, [(0, 7)]);
}

#[test]
fn anchored_rules_matched_whole_by_the_dfa_find_what_their_anchors_find() {
    // On the DFA path a rule with its own anchor is matched whole and confirmed at its end;
    // on Hyperscan's, tried at its anchor's hits. Both must report the same spans, also where
    // matches touch, repeat or follow a run of their anchor's opening bytes.
    let (rules, mut m) = with_dfa(|m| &m.raw, "main database's rules");
    let anchored: Vec<usize> = (0..rules.len()).filter(|&i| m.whole_in_dfa(i)).collect();
    assert!(
        anchored.len() >= 100,
        "only {} anchored rules",
        anchored.len()
    );
    for &i in &anchored {
        let r = &rules[i];
        let set = BTreeSet::from([i]);
        for ex in r.examples.iter().chain(&r.negative_examples) {
            let head: String = ex.chars().take(4).collect();
            let texts = [
                ex.clone(),
                format!("{ex} {ex}"),
                format!("{ex}\n{ex}x"),
                format!("{ex}{ex}"),
                format!("{} {ex}", head.repeat(5)),
                format!("{ex}\"' {}", head.repeat(3)),
            ];
            for text in &texts {
                let hay = text.as_bytes();
                // The scanner merges a rule's overlapping matches into one finding: each
                // engine may find a match the other finds inside a longer one.
                let want = merged(spans_of(&mut m, &set, Path::Hyperscan, hay));
                let got = merged(spans_of(&mut m, &set, Path::Dfa, hay));
                assert_eq!(got, want, "{} on {text:?}", r.id);
            }
        }
    }
}

/// Spans with every overlapping pair joined, as the scanner's findings of one rule would be.
fn merged(spans: Spans) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (start, end) in spans {
        match out.last_mut() {
            Some(last) if start < last.1 => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}
