//! The generic key-value rules (`generic.*`: a secret-looking value after any key named like
//! `api_key`, `token`, `password`). Their Hyperscan factors are those key words, and on text
//! where such a word comes every few bytes (`api_key=api_key=…`) Hyperscan starts their
//! automata at each one: 30+ ns/byte where benign text costs 2. So they have a database of
//! their own, scanned in chunks; a chunk that runs slow hands the rest of the text to a lazy
//! DFA of their whole patterns (regex-automata, every match end reported, as Hyperscan does),
//! whose cost does not depend on how often the key words come (~2 ns/byte).
//!
//! Both paths report the same matches: the DFA's ends are whole-pattern ends, Hyperscan's are
//! its database entries' ends (a split rule's key part, [`crate::split`]), and the matcher
//! takes each to the same second stage. Which path ran depends on the clock; what is found
//! does not (at the hand-over a split rule's match can be found by both, and the scanner
//! merges a rule's overlapping matches into one finding).
//!
//! The DFA is built the first time a text needs it (building it took 2.4 ms, a tenth of
//! start-up, and most runs never hand over); should it fail to build, Hyperscan scans alone.

use std::cell::RefCell;
use std::sync::OnceLock;
use std::time::Instant;

use regex_automata::hybrid::dfa::{Cache, OverlappingState, DFA};
use regex_automata::nfa::thompson;
use regex_automata::{Input, MatchKind};
use thread_local::ThreadLocal;

use crate::confirm::{rule_syntax, NFA_SIZE_LIMIT};
use crate::error::{EngineError, Result};
use crate::hyperscan::{Database, Scratch};
use crate::rule::MAX_MATCH_LEN;

/// Id prefix of the rules this set takes.
pub const GENERIC_PREFIX: &str = "generic.";

/// The first chunk; each next one is twice as long, up to [`LAST_CHUNK`].
const FIRST_CHUNK: usize = 8 << 10;
const LAST_CHUNK: usize = 64 << 10;

/// A chunk slower than this hands the rest to the DFA: benign text costs Hyperscan well under
/// 1 ns/byte for these rules, the DFA about 2.
const SLOW_NS_PER_BYTE: f64 = 8.0;

/// How the rules were found at an offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hit {
    /// Hyperscan: the end of the rule's database entry (its pattern, or its key part).
    Entry(usize, usize),
    /// The DFA: the end of a match of the rule's whole pattern.
    Whole(usize, usize),
}

/// Which path scans (tests force each).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(test), allow(dead_code))]
pub enum Path {
    /// Hyperscan in chunks, the DFA after a slow one.
    Timed,
    Hyperscan,
    Dfa,
    /// Hyperscan for the first chunk, the DFA after it, as after a slow chunk.
    HandOver,
}

pub struct KeyedSet {
    /// Rule index of each database entry and DFA pattern (the same order).
    rules: Vec<usize>,
    db: Option<Database>,
    scratch: ThreadLocal<RefCell<Scratch>>,
    /// The whole patterns, for the DFA.
    patterns: Vec<String>,
    dfa: OnceLock<Option<DFA>>,
    caches: ThreadLocal<RefCell<Cache>>,
}

impl KeyedSet {
    /// `rules`: the rule index of each database entry; `patterns`: their whole patterns, in
    /// the same order. `db` is the entries' compiled database (the matcher compiles it with
    /// its own, for its cache).
    pub fn new(rules: Vec<usize>, patterns: &[&str], db: Option<Database>) -> Self {
        KeyedSet {
            rules,
            db,
            scratch: ThreadLocal::new(),
            patterns: patterns.iter().map(|p| p.to_string()).collect(),
            dfa: OnceLock::new(),
            caches: ThreadLocal::new(),
        }
    }

    /// Whether the DFA can be built (tests: without it every path is Hyperscan's).
    #[cfg(test)]
    pub fn has_dfa(&self) -> bool {
        self.dfa().is_some()
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
                            .cache_capacity(2 << 20)
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
        self.db.as_ref()
    }

    /// Every hit in `hay`, in offset order.
    pub fn scan(&self, hay: &[u8], path: Path, hits: &mut Vec<Hit>) -> Result<()> {
        let Some(db) = &self.db else {
            return Ok(());
        };
        if path == Path::Dfa {
            if !self.scan_dfa(hay, 0, hits)? {
                hits.clear();
                return self.scan_hyperscan(db, hay, 0, hay.len(), hits);
            }
            return Ok(());
        }
        let mut from = 0;
        let mut chunk = FIRST_CHUNK;
        while from < hay.len() {
            let to = match path {
                Path::Hyperscan => hay.len(),
                _ => (from + chunk).min(hay.len()),
            };
            let clock = (to < hay.len()).then(Instant::now);
            self.scan_hyperscan(db, hay, from, to, hits)?;
            let slow = path == Path::HandOver
                || clock.is_some_and(|t| {
                    t.elapsed().as_nanos() as f64 > SLOW_NS_PER_BYTE * (to - from) as f64
                });
            from = to;
            chunk = (chunk * 2).min(LAST_CHUNK);
            if slow {
                let mark = hits.len();
                if self.scan_dfa(hay, from, hits)? {
                    return Ok(());
                }
                // The DFA gave up: Hyperscan does the rest, without the DFA's partial hits.
                hits.truncate(mark);
                return self.scan_hyperscan(db, hay, from, hay.len(), hits);
            }
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
        hay: &[u8],
        from: usize,
        to: usize,
        hits: &mut Vec<Hit>,
    ) -> Result<()> {
        let cell = self.scratch.get_or_try(|| {
            Scratch::new(db)
                .map(RefCell::new)
                .map_err(EngineError::Hyperscan)
        })?;
        let start = from.saturating_sub(MAX_MATCH_LEN);
        let end = if to == hay.len() { to } else { to + 1 };
        let last = if to == hay.len() { to + 1 } else { to };
        cell.borrow_mut()
            .scan(db, &hay[start..end], |id, at| {
                let at = start + at;
                let hit = Hit::Entry(self.rules[id as usize], at);
                if (from.max(1)..last).contains(&at) && hits.last() != Some(&hit) {
                    hits.push(hit);
                }
            })
            .map_err(EngineError::Hyperscan)
    }

    /// DFA hits ending at `from` or later; false when the DFA gave up (or there is none).
    fn scan_dfa(&self, hay: &[u8], from: usize, hits: &mut Vec<Hit>) -> Result<bool> {
        let Some(dfa) = self.dfa() else {
            return Ok(false);
        };
        let cell = self.caches.get_or(|| RefCell::new(Cache::new(dfa)));
        let cache = &mut *cell.borrow_mut();
        // The give-up rule counts the cache's clears since it was made: each text starts the
        // count afresh, or one thrashing text would send every later one to Hyperscan.
        if cache.clear_count() > 0 {
            cache.reset(dfa);
        }
        let input = Input::new(hay).range(from.saturating_sub(MAX_MATCH_LEN)..);
        let mut state = OverlappingState::start();
        loop {
            if dfa
                .try_search_overlapping_fwd(cache, &input, &mut state)
                .is_err()
            {
                return Ok(false);
            }
            let Some(m) = state.get_match() else {
                return Ok(true);
            };
            if m.offset() >= from {
                hits.push(Hit::Whole(self.rules[m.pattern().as_usize()], m.offset()));
            }
        }
    }
}
