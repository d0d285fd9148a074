//! A Hyperscan database that hands over to a lazy DFA when its automata run slow. Hyperscan
//! starts a rule's automaton at each hit of the rule's literal factor, and on text where such
//! a factor comes every few bytes (`api_key=api_key=…`, `send it to send it to …`) that costs
//! 10 to 60 ns/byte where benign text costs 1 or 2. So the database is scanned in chunks, and
//! a chunk that runs slow hands the rest of the text to a lazy DFA of the same rules' whole
//! patterns (regex-automata, every match end reported, as Hyperscan does, walked by
//! [`crate::walk`]), whose cost does not depend on how often a factor comes: a repetitive text
//! keeps to a few DFA states.
//!
//! Each of the matcher's three databases is one: the main one, the generic key-value rules
//! (`generic.*`: a secret-looking value after any key named like `api_key`, `token`,
//! `password`) and the phrase rules of the folded view. For the two large ones a slow chunk
//! hands over only when it is also repetitive, or for the main one made of a few short words
//! ([`HandOver`]): on varied text their DFA would build a state per byte. Both paths report
//! the same matches: the DFA's patterns are the database's entries or their rules' whole
//! patterns (for the generic rules, whose entry may be a key part, [`crate::split`], and for
//! rules with their own anchor, which can come every few bytes: `cf cf cf …`), and the
//! matcher takes each hit to the second stage that fits it. Which path ran depends on the
//! clock; what is found does not (at an edge between the engines a split rule's match can be
//! found by both, and the scanner merges a rule's overlapping matches into one finding).
//!
//! The DFA is built the first time a text needs it (most runs never hand over); should it
//! fail to build, or thrash on a text (states built faster than bytes are scanned), Hyperscan
//! scans alone.

use std::cell::RefCell;
use std::sync::OnceLock;
use std::time::Instant;

use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::nfa::thompson;
use regex_automata::MatchKind;
use thread_local::ThreadLocal;

use crate::confirm::{rule_syntax, NFA_SIZE_LIMIT};
use crate::error::{EngineError, Result};
use crate::hyperscan::{Database, PerThread, Scratch};
use crate::walk;

/// The first chunk (at least four reaches: each chunk scans its reach again); each next one
/// is twice as long, up to [`LAST_CHUNK`]. A text left shorter than a first chunk joins the
/// chunk before it, so a message of a few KiB is one scan.
const FIRST_CHUNK: usize = 8 << 10;
const LAST_CHUNK: usize = 256 << 10;

/// A chunk slower than this hands over: benign text costs Hyperscan about 1 ns/byte for the
/// main and generic rules and 1 to 2 for the phrase rules, a DFA under 1 on text it suits
/// ([`walk`]: ~1.7 in one lane; with 8 for the generic rules, PEM headers repeated stayed in
/// Hyperscan at 5.7).
const SLOW_NS_PER_BYTE: f64 = 3.0;

/// Most hand-overs to the DFA in one text.
const MAX_HAND_OVERS: u32 = 4;

/// How the rules were found at an offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hit {
    /// Hyperscan: the end of the rule's database entry (its pattern, or its key part).
    Entry(usize, usize),
    /// The DFA: the end of a match of the rule's whole pattern.
    Whole(usize, usize),
}

impl Hit {
    /// (rule index, end offset), whichever engine found it.
    pub fn rule_end(self) -> (usize, usize) {
        let (Hit::Entry(rule, end) | Hit::Whole(rule, end)) = self;
        (rule, end)
    }
}

/// Which path scans (tests force each).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(test), allow(dead_code))]
pub enum Path {
    /// Hyperscan in chunks, the DFA after a slow repetitive one, Hyperscan again after a
    /// DFA chunk slower than Hyperscan was (a few hand-overs per text at most).
    Timed,
    Hyperscan,
    Dfa,
    /// Hyperscan for the first chunk, the DFA after it, as after a slow chunk.
    HandOver,
    /// Hyperscan and the DFA chunk by chunk in turn, as hand-overs and give-backs would.
    Alternate,
}

pub struct TimedSet {
    /// Rule index of each database entry and DFA pattern (the same order).
    rules: Vec<usize>,
    hyperscan: Option<PerThread>,
    /// The whole patterns, for the DFA.
    patterns: Vec<String>,
    dfa: OnceLock<Option<DFA>>,
    caches: ThreadLocal<RefCell<Cache>>,
    /// Which slow chunks hand over: a large DFA builds a state per byte on varied text.
    hand_over: HandOver,
    /// How far before a chunk its scan starts: the longest match a rule of the set reports.
    reach: usize,
}

impl TimedSet {
    /// `rules`: the rule index of each database entry; `patterns`: their whole patterns, in
    /// the same order. `db` is the entries' compiled database (the matcher compiles it with
    /// its own, for its cache). `hand_over`: which slow chunks hand over to the DFA.
    /// `reach`: the longest match a rule of the set reports (its window).
    pub fn new(
        rules: Vec<usize>,
        patterns: &[&str],
        db: Option<Database>,
        hand_over: HandOver,
        reach: usize,
    ) -> Self {
        TimedSet {
            rules,
            hyperscan: db.map(PerThread::new),
            patterns: patterns.iter().map(|p| p.to_string()).collect(),
            dfa: OnceLock::new(),
            caches: ThreadLocal::new(),
            hand_over,
            reach,
        }
    }

    /// Whether the DFA can be built (tests: without it every path is Hyperscan's).
    #[cfg(test)]
    pub fn has_dfa(&self) -> bool {
        self.dfa().is_some()
    }

    /// The rule index of each entry (tests).
    #[cfg(test)]
    pub fn rules(&self) -> &[usize] {
        &self.rules
    }

    /// The lazy DFA of the whole patterns, built on first use; `None` when there are no rules
    /// or it cannot be built (then Hyperscan scans alone).
    fn dfa(&self) -> Option<&DFA> {
        self.dfa
            .get_or_init(|| {
                if self.patterns.is_empty() {
                    return None;
                }
                DFA::builder()
                    .syntax(rule_syntax())
                    .thompson(thompson::Config::new().nfa_size_limit(Some(NFA_SIZE_LIMIT)))
                    .configure(
                        DFA::config()
                            .match_kind(MatchKind::All)
                            .cache_capacity(8 << 20)
                            .unicode_word_boundary(false)
                            // Thrashing (states built faster than bytes are scanned) gives
                            // up, and the scan goes back to Hyperscan.
                            .minimum_cache_clear_count(Some(4))
                            .minimum_bytes_per_state(Some(8)),
                    )
                    .build_many(&self.patterns)
                    .ok()
            })
            .as_ref()
    }

    pub fn db(&self) -> Option<&Database> {
        self.hyperscan.as_ref().map(PerThread::db)
    }

    /// Every hit in `hay`, in offset order.
    pub fn scan(&self, hay: &[u8], path: Path, hits: &mut Vec<Hit>) -> Result<()> {
        let Some(hyperscan) = &self.hyperscan else {
            return Ok(());
        };
        let db = hyperscan.db();
        // Made before any chunk is timed: a first scan on this thread allocates it.
        let scratch = hyperscan.scratch().map_err(EngineError::Hyperscan)?;
        let mut use_dfa = path == Path::Dfa;
        // Set once the DFA has given up on this text (or cannot be built): Hyperscan keeps
        // the rest.
        let mut dfa_failed = false;
        // A DFA chunk slowed by the scheduler gives the text back too: so a later slow chunk
        // may hand it over again, a few times per text.
        let mut hand_overs = 0;
        let mut dfa_started = false;
        // Hyperscan's ns/byte on the chunk that handed over: the DFA keeps the text while it
        // is no slower.
        let mut handed_over_at = f64::INFINITY;
        // After DFA chunks, Hyperscan's first chunk also keeps hits a reach before it: for a
        // split rule the DFA reports where the whole match ends, Hyperscan where its key part
        // does, and a key before the edge with its value past it would be found by neither.
        // Those hits come out of order (and some twice): the stretch from the first hit they
        // can precede on is sorted again (after the chunk is timed).
        let mut last_was_dfa = false;
        let mut from = 0;
        let first_chunk = FIRST_CHUNK.max(4 * self.reach);
        let mut chunk = first_chunk;
        while from < hay.len() {
            let to = match path {
                Path::Hyperscan | Path::Dfa => hay.len(),
                Path::Timed | Path::HandOver | Path::Alternate => match from + chunk {
                    to if to + first_chunk < hay.len() => to,
                    _ => hay.len(),
                },
            };
            if use_dfa {
                // Built (once, on first use) before the chunk is timed.
                let _ = self.dfa();
            }
            let clock = Instant::now();
            let mark = hits.len();
            let first_dfa_chunk = use_dfa && !dfa_started;
            let ran_dfa = use_dfa && {
                dfa_started = true;
                self.scan_dfa(hay, from, to, first_dfa_chunk, hits)?
            };
            if use_dfa && !ran_dfa {
                // The DFA gave up (or cannot be built): Hyperscan does this chunk and the
                // rest, without the DFA's partial hits.
                hits.truncate(mark);
                use_dfa = false;
                dfa_failed = true;
            }
            let mut back_dated = None;
            if !ran_dfa {
                let keep_from = if last_was_dfa {
                    back_dated = Some(from.saturating_sub(self.reach));
                    from.saturating_sub(self.reach)
                } else {
                    from
                };
                self.scan_hyperscan(db, &mut scratch.borrow_mut(), hay, keep_from, to, hits)?;
            }
            last_was_dfa = ran_dfa;
            let rate = clock.elapsed().as_nanos() as f64 / (to - from) as f64;
            if let Some(keep_from) = back_dated {
                // Hits before `mark` are in order of end; those ending before `keep_from`
                // stay where they are.
                let first = hits[..mark].partition_point(|h| h.rule_end().1 < keep_from);
                let mut stretch = hits.split_off(first);
                stretch.sort_unstable_by_key(|&hit| match hit {
                    Hit::Entry(rule, end) => (end, rule, false),
                    Hit::Whole(rule, end) => (end, rule, true),
                });
                stretch.dedup();
                hits.append(&mut stretch);
            }
            let slow = rate > SLOW_NS_PER_BYTE;
            let was_dfa = use_dfa;
            match path {
                Path::HandOver => use_dfa = !dfa_failed,
                Path::Alternate => use_dfa = !ran_dfa && !dfa_failed,
                // The DFA's first chunk builds its states: only later ones are judged. Text
                // varied enough to make it build states as it goes is slower there than
                // Hyperscan was, and Hyperscan takes it back.
                Path::Timed if ran_dfa && slow && !first_dfa_chunk && rate > handed_over_at => {
                    use_dfa = false;
                }
                // Hyperscan runs slow where a factor comes every few bytes. For a large set
                // that must be repetitive text too, where its DFA keeps to a few states: on
                // varied text (a chunk slow because the cache was cold, say) it would build a
                // state per byte.
                Path::Timed
                    if !ran_dfa
                        && slow
                        && !dfa_failed
                        && hand_overs < MAX_HAND_OVERS
                        && self.hand_over.takes(&hay[from..to]) =>
                {
                    use_dfa = true;
                    hand_overs += 1;
                    handed_over_at = rate;
                }
                _ => {}
            }
            from = to;
            // An engine that takes over starts on a short chunk: if it runs slow too, little
            // is lost.
            chunk = if was_dfa == use_dfa {
                (chunk * 2).min(LAST_CHUNK.max(first_chunk))
            } else {
                first_chunk
            };
        }
        Ok(())
    }

    /// Hyperscan hits ending in `from..to` (and at `to` when it is the end of `hay`). The
    /// scanned slice starts a longest match earlier and reaches one byte past `to`, so a `\b`
    /// at a kept end sees the next byte, and Hyperscan's `$` (which also matches before a
    /// final newline) cannot match at a kept end that is not the text's.
    fn scan_hyperscan(
        &self,
        db: &Database,
        scratch: &mut Scratch,
        hay: &[u8],
        from: usize,
        to: usize,
        hits: &mut Vec<Hit>,
    ) -> Result<()> {
        let start = from.saturating_sub(self.reach);
        let end = if to == hay.len() { to } else { to + 1 };
        let last = if to == hay.len() { to + 1 } else { to };
        scratch
            .scan(db, &hay[start..end], |id, at| {
                let at = start + at;
                let hit = Hit::Entry(self.rules[id as usize], at);
                if (from.max(1)..last).contains(&at) && hits.last() != Some(&hit) {
                    hits.push(hit);
                }
            })
            .map_err(EngineError::Hyperscan)
    }

    /// DFA hits ending in `from..to` (and at `to` when it is the end of `hay`), as
    /// [`Self::scan_hyperscan`] keeps them; false when the DFA gave up (or there is none).
    /// `fresh`: the first DFA chunk of a text.
    fn scan_dfa(
        &self,
        hay: &[u8],
        from: usize,
        to: usize,
        fresh: bool,
        hits: &mut Vec<Hit>,
    ) -> Result<bool> {
        let Some(dfa) = self.dfa() else {
            return Ok(false);
        };
        let cell = self.caches.get_or(|| RefCell::new(Cache::new(dfa)));
        let cache = &mut *cell.borrow_mut();
        // The give-up rule counts the cache's clears since it was made: each text starts the
        // count afresh, or one thrashing text would send every later one to Hyperscan.
        if fresh && cache.clear_count() > 0 {
            cache.reset(dfa);
        }
        // Look-around (`\b`) at the range's end still sees the byte after it.
        let range = (from.saturating_sub(self.reach), to);
        let keep = from.max(1)..if to == hay.len() { to + 1 } else { to };
        let found = walk::every_match_end(dfa, cache, hay, range, self.reach, |pattern, end| {
            if keep.contains(&end) {
                hits.push(Hit::Whole(self.rules[pattern], end));
            }
        });
        Ok(found.is_ok())
    }
}

/// Which slow chunks a timed set hands over to its DFA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandOver {
    /// Every slow chunk (a small set: its DFA stays small on any text).
    Any,
    /// A chunk that repeats a short stretch over and over.
    Repetitive,
    /// That, or a chunk that strings together a few words in any order (`cf dd twilio cf
    /// …`). Not for the phrase rules: on a few words shuffled their DFA builds a state
    /// for nearly every word (measured: 4 MiB of 20 shuffled words, 13 -> 354 ms).
    FewWords,
}

impl HandOver {
    fn takes(self, chunk: &[u8]) -> bool {
        match self {
            HandOver::Any => true,
            HandOver::Repetitive => repetitive(chunk),
            HandOver::FewWords => repetitive(chunk) || few_words(chunk),
        }
    }
}

/// At most this many distinct strings (hashed into 4,096 bits) where varied text has
/// thousands: one per byte, or a new word every few.
const MOST_DISTINCT: u32 = 512;

/// Set bits of a hash in a 4,096-bit table, counting the new ones.
struct Distinct {
    seen: [u64; 64],
    count: u32,
}

impl Distinct {
    fn new() -> Self {
        Distinct {
            seen: [0; 64],
            count: 0,
        }
    }

    /// False once more than [`MOST_DISTINCT`] have been seen.
    fn add(&mut self, x: u64) -> bool {
        let h = (x.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 52) as usize;
        let (slot, bit) = (h / 64, 1u64 << (h % 64));
        if self.seen[slot] & bit == 0 {
            self.seen[slot] |= bit;
            self.count += 1;
        }
        self.count <= MOST_DISTINCT
    }
}

/// Whether `chunk` repeats a short stretch over and over: few distinct 8-byte strings.
fn repetitive(chunk: &[u8]) -> bool {
    let mut distinct = Distinct::new();
    chunk
        .windows(8)
        .all(|w| distinct.add(u64::from_le_bytes(w.try_into().expect("8 bytes"))))
}

/// Whether `chunk` is made of few distinct short words (runs between whitespace). A long
/// word is where values are (tokens, keys, base64): the rules' counted runs (`[A-Za-z0-9]{40}`)
/// make a DFA build a state per byte on random ones, so one such word is enough to say no
/// (measured: 4 MiB of `cf_token=` + one of 30 random 40-byte tokens, shuffled, handed over
/// and given back took 0.40 s to scan against 0.28 s in Hyperscan alone).
fn few_words(chunk: &[u8]) -> bool {
    const LONGEST: usize = 16;
    let mut distinct = Distinct::new();
    chunk.split(|b| b.is_ascii_whitespace()).all(|word| {
        let h = word.iter().fold(word.len() as u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3)
        });
        word.len() <= LONGEST && distinct.add(h)
    })
}

#[cfg(test)]
mod tests {
    use super::HandOver;

    fn monotonous(chunk: &[u8]) -> bool {
        HandOver::FewWords.takes(chunk)
    }

    /// A seeded stream of numbers for the texts below.
    fn numbers(seed: u64) -> impl Iterator<Item = u64> {
        let mut x = seed;
        std::iter::repeat_with(move || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            x >> 33
        })
    }

    #[test]
    fn repeated_stretches_and_a_few_shuffled_words_are_monotonous() {
        let len = 64 << 10;
        let repeated: Vec<u8> = b"api_key=".iter().copied().cycle().take(len).collect();
        assert!(monotonous(&repeated));
        let words = ["cf", "dd", "twilio", "vault", "sumo", "x_"];
        let mut shuffled = String::new();
        for n in numbers(1).take(len / 4) {
            shuffled.push_str(words[n as usize % words.len()]);
            shuffled.push(if n % 7 == 0 { '\n' } else { ' ' });
        }
        assert!(monotonous(shuffled.as_bytes()));
    }

    #[test]
    fn log_lines_and_random_base64_are_not_monotonous() {
        let mut log = String::new();
        for (i, n) in numbers(2).take(2000).enumerate() {
            log.push_str(&format!(
                "2026-11-24 10:{:02}:{:02},{:03} INFO [pool-{}] request {n} served in {} ms\n",
                i / 60 % 60,
                i % 60,
                n % 1000,
                n % 7,
                n % 97
            ));
        }
        assert!(!monotonous(log.as_bytes()));
        const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let blob: Vec<u8> = numbers(3)
            .take(64 << 10)
            .map(|n| B64[n as usize % 64])
            .collect();
        assert!(!monotonous(&blob));
        // A few keys, each with one of a few random values: few words, but long ones.
        let tokens: Vec<String> = (0..30u64)
            .map(|k| {
                numbers(k + 10)
                    .take(40)
                    .map(|n| B64[n as usize % 62] as char)
                    .collect()
            })
            .collect();
        let mut values = String::new();
        for n in numbers(4).take((64 << 10) / 50) {
            values.push_str(&format!("cf_token={} ", tokens[n as usize % tokens.len()]));
        }
        assert!(!monotonous(values.as_bytes()));
    }
}
