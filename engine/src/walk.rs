//! Every match end of a lazy DFA over a stretch of text: an overlapping search, each
//! pattern's every end reported, as Hyperscan reports them ([`crate::timed`] hands slow text
//! to such a DFA). Most bytes lead from one state with nothing to report to another, and go
//! through a tight loop. Each step there waits on the one before it (a table load of the state
//! the last one gave: ~1.5 ns/byte whatever the state), so a long stretch is walked as several
//! lanes, its parts each started a reach early, interleaved in one loop: the processor runs
//! the lanes' loads side by side.

use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::hybrid::LazyStateID;
use regex_automata::{Input, MatchError};

/// Lanes a long stretch is walked in.
const LANES: usize = 3;

/// A stretch is walked in lanes only when each part is at least this many reaches long: each
/// lane after the first walks its reach again.
const MIN_PART_REACHES: usize = 4;

/// Every (pattern, end) of an overlapping search of `hay[from..to]` (look-around sees the
/// whole of `hay`), in order of end. With `reach` (the longest match of any pattern) short
/// enough against the stretch, it is walked in lanes: the same ends, as long as no match is
/// longer than `reach`. An error where the DFA gives up (it builds states faster than it
/// scans bytes) or quits.
pub fn every_match_end(
    dfa: &DFA,
    cache: &mut Cache,
    hay: &[u8],
    (from, to): (usize, usize),
    reach: usize,
    mut report: impl FnMut(usize, usize),
) -> Result<(), MatchError> {
    // Each lane walks `len` bytes: the first its part, the others a reach and their part.
    let len = (to - from + (LANES - 1) * reach) / LANES;
    let mut patterns = MatchPatterns::default();
    if len >= (MIN_PART_REACHES + 1) * reach.max(1) {
        let mut found: [Vec<(usize, usize)>; LANES] = Default::default();
        let lanes = (len, reach);
        if let Some(last) = in_lanes(
            dfa,
            cache,
            hay,
            (from, to),
            lanes,
            &mut patterns,
            &mut found,
        )? {
            for &(pattern, end) in found.iter().flatten() {
                report(pattern, end);
            }
            return at_end_of_range(dfa, cache, hay, to, last, &mut patterns, report);
        }
        // A new state cleared the cache under the lanes: walk it again, in one.
    }
    let mut walk = Walk::start(dfa, cache, &Input::new(hay).range(from..to))?;
    cache.search_start(from);
    walk.run(dfa, cache, hay, &mut |cache, sid, end| {
        for &p in patterns.of(dfa, cache, sid) {
            report(p, end);
        }
    })?;
    at_end_of_range(dfa, cache, hay, to, walk.sid, &mut patterns, report)
}

/// Lane 0 walks from `from`, each next one from `reach` before where the one before it
/// stops, each `len` bytes (the last to `to`); each keeps the ends in its own part. The last
/// lane's state at `to`; `None` when a new state cleared the cache (the other lanes' states
/// are gone with it).
fn in_lanes(
    dfa: &DFA,
    cache: &mut Cache,
    hay: &[u8],
    (from, to): (usize, usize),
    (len, reach): (usize, usize),
    patterns: &mut MatchPatterns,
    found: &mut [Vec<(usize, usize)>; LANES],
) -> Result<Option<LazyStateID>, MatchError> {
    // Where each lane's part starts (lane 0's: `from`) and ends.
    let starts: [usize; LANES] = std::array::from_fn(|i| {
        if i == 0 {
            from
        } else {
            from + len + (i - 1) * (len - reach)
        }
    });
    let ends: [usize; LANES] = std::array::from_fn(|i| starts.get(i + 1).copied().unwrap_or(to));
    // Any new state may clear the cache, a start state too.
    let clears = cache.clear_count();
    let mut walks = [Walk::default(); LANES];
    for (i, walk) in walks.iter_mut().enumerate() {
        let begin = if i == 0 { from } else { starts[i] - reach };
        *walk = Walk::start(dfa, cache, &Input::new(hay).range(begin..ends[i]))?;
    }
    if cache.clear_count() != clears {
        return Ok(None);
    }
    cache.search_start(from);
    let mut keep = |i: usize, cache: &Cache, sid: LazyStateID, end: usize| {
        if i == 0 || end >= starts[i] {
            found[i].extend(patterns.of(dfa, cache, sid).iter().map(|&p| (p, end)));
        }
    };
    loop {
        // A lane on a state that is tagged (with matches to report, say) steps alone.
        for (i, w) in walks.iter_mut().enumerate() {
            if w.at < w.end && w.sid.is_tagged() {
                w.step_checked(dfa, cache, hay)?;
                w.settle(dfa, cache, hay, &mut |c, sid, e| keep(i, c, sid, e))?;
                if cache.clear_count() != clears {
                    return Ok(None);
                }
            }
        }
        let steps = walks.iter().map(|w| w.end - w.at).min().unwrap_or(0);
        if steps == 0 {
            break;
        }
        if walks.iter().any(|w| w.sid.is_tagged()) {
            continue;
        }
        for _ in 0..steps {
            let mut tagged = false;
            for w in walks.iter_mut() {
                w.prev = w.sid;
                w.sid = dfa.next_state_untagged(cache, w.sid, hay[w.at]);
                w.at += 1;
                tagged |= w.sid.is_tagged();
            }
            if tagged {
                break;
            }
        }
        for (i, w) in walks.iter_mut().enumerate() {
            if w.sid.is_tagged() {
                w.settle(dfa, cache, hay, &mut |c, sid, e| keep(i, c, sid, e))?;
                if cache.clear_count() != clears {
                    return Ok(None);
                }
            }
        }
    }
    // The lanes end one by one (a lane that died first): each finishes alone.
    for (i, w) in walks.iter_mut().enumerate() {
        w.run(dfa, cache, hay, &mut |c, sid, e| keep(i, c, sid, e))?;
        if cache.clear_count() != clears {
            return Ok(None);
        }
    }
    Ok(Some(walks[LANES - 1].sid))
}

/// The end of the range, with the state the walk reached there: the byte after it (for `\b`
/// and `$`), or the end of the text.
fn at_end_of_range(
    dfa: &DFA,
    cache: &mut Cache,
    hay: &[u8],
    to: usize,
    sid: LazyStateID,
    patterns: &mut MatchPatterns,
    mut report: impl FnMut(usize, usize),
) -> Result<(), MatchError> {
    cache.search_update(to);
    let (next, offset) = match hay.get(to) {
        Some(&b) => (dfa.next_state(cache, sid, b), to),
        None => (dfa.next_eoi_state(cache, sid), hay.len()),
    };
    let sid = next.map_err(|_| MatchError::gave_up(offset))?;
    if sid.is_match() {
        for &p in patterns.of(dfa, cache, sid) {
            report(p, offset);
        }
    }
    cache.search_finish(to);
    Ok(())
}

/// The patterns of the last match state seen: where a match ends every few bytes the same
/// state comes back, and reading its patterns out of the state costs more than the step.
#[derive(Default)]
struct MatchPatterns {
    /// The state, and the cache clear it is from (a clear reuses the ids).
    of: Option<(LazyStateID, usize)>,
    patterns: Vec<usize>,
}

impl MatchPatterns {
    fn of(&mut self, dfa: &DFA, cache: &Cache, sid: LazyStateID) -> &[usize] {
        let key = (sid, cache.clear_count());
        if self.of != Some(key) {
            self.patterns.clear();
            self.patterns.extend(
                (0..dfa.match_len(cache, sid)).map(|i| dfa.match_pattern(cache, sid, i).as_usize()),
            );
            self.of = Some(key);
        }
        &self.patterns
    }
}

/// One walk: `sid` is the state after `hay[at - 1]` (the start state before any byte),
/// `prev` the one before it.
#[derive(Clone, Copy, Default)]
struct Walk {
    sid: LazyStateID,
    prev: LazyStateID,
    at: usize,
    end: usize,
}

impl Walk {
    fn start(dfa: &DFA, cache: &mut Cache, input: &Input) -> Result<Walk, MatchError> {
        let sid = dfa.start_state_forward(cache, input)?;
        Ok(Walk {
            sid,
            prev: sid,
            at: input.start(),
            end: input.end(),
        })
    }

    /// Walks to the end (or to the dead state, where no match can follow).
    fn run(
        &mut self,
        dfa: &DFA,
        cache: &mut Cache,
        hay: &[u8],
        report: &mut impl FnMut(&Cache, LazyStateID, usize),
    ) -> Result<(), MatchError> {
        while self.at < self.end {
            if self.sid.is_tagged() {
                self.step_checked(dfa, cache, hay)?;
            } else {
                while self.at < self.end && !self.sid.is_tagged() {
                    self.prev = self.sid;
                    self.sid = dfa.next_state_untagged(cache, self.sid, hay[self.at]);
                    self.at += 1;
                }
            }
            self.settle(dfa, cache, hay, report)?;
        }
        Ok(())
    }

    /// One step from a tagged state, through the transition that checks.
    fn step_checked(&mut self, dfa: &DFA, cache: &mut Cache, hay: &[u8]) -> Result<(), MatchError> {
        self.prev = self.sid;
        self.sid = dfa
            .next_state(cache, self.sid, hay[self.at])
            .map_err(|_| MatchError::gave_up(self.at))?;
        self.at += 1;
        Ok(())
    }

    /// The state just reached: computed if the table did not hold it yet (this may clear the
    /// cache, which keeps this walk's state), its matches reported (they end a byte back: the
    /// DFA reports late), as the match state for [`MatchPatterns`]. On the dead state the walk
    /// is over.
    fn settle(
        &mut self,
        dfa: &DFA,
        cache: &mut Cache,
        hay: &[u8],
        report: &mut impl FnMut(&Cache, LazyStateID, usize),
    ) -> Result<(), MatchError> {
        if self.sid.is_unknown() {
            let at = self.at - 1;
            cache.search_update(at);
            self.sid = dfa
                .next_state(cache, self.prev, hay[at])
                .map_err(|_| MatchError::gave_up(at))?;
        }
        if self.sid.is_match() {
            report(cache, self.sid, self.at - 1);
        } else if self.sid.is_dead() {
            self.at = self.end;
        } else if self.sid.is_quit() {
            return Err(MatchError::quit(hay[self.at - 1], self.at - 1));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use regex_automata::hybrid::dfa::OverlappingState;
    use regex_automata::MatchKind;

    use super::*;
    use crate::confirm::rule_syntax;

    /// None longer than [`REACH`] bytes.
    const PATTERNS: &[&str] = &[
        "abc",
        "b{1,10}c",
        r"\bfo+\b",
        "x[0-9]{2,5}y",
        "a.{0,6}z",
        "zz$",
        "^ab",
    ];
    const REACH: usize = 16;

    fn dfa(cache_capacity: Option<usize>) -> DFA {
        let mut config = DFA::config()
            .match_kind(MatchKind::All)
            .unicode_word_boundary(false);
        if let Some(bytes) = cache_capacity {
            config = config.cache_capacity(bytes).skip_cache_capacity_check(true);
        }
        DFA::builder()
            .syntax(rule_syntax())
            .configure(config)
            .build_many(PATTERNS)
            .expect("patterns build")
    }

    /// What `try_search_overlapping_fwd` reports, in its order.
    fn reference(dfa: &DFA, hay: &[u8], from: usize, to: usize) -> Vec<(usize, usize)> {
        let mut cache = dfa.create_cache();
        let input = Input::new(hay).range(from..to);
        let mut state = OverlappingState::start();
        let mut out = Vec::new();
        loop {
            dfa.try_search_overlapping_fwd(&mut cache, &input, &mut state)
                .expect("search");
            match state.get_match() {
                Some(m) => out.push((m.pattern().as_usize(), m.offset())),
                None => return out,
            }
        }
    }

    fn walked(
        dfa: &DFA,
        cache: &mut Cache,
        hay: &[u8],
        from: usize,
        to: usize,
    ) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        every_match_end(dfa, cache, hay, (from, to), REACH, |p, e| out.push((p, e))).expect("walk");
        out
    }

    /// Long enough for lanes, with matches on and around the lanes' edges wherever they fall.
    fn text(seed: u64, len: usize) -> Vec<u8> {
        const PIECES: &[&[u8]] = &[
            b"abc", b"bbbbc", b" foo ", b"x123y", b"a-----z", b"zz", b"ab", b"q", b" ", b"fo",
            b"x12", b"\n",
        ];
        // The stream starts a step after the seed.
        let mut pick = crate::test_support::picker(
            seed.wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407),
        );
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            out.extend_from_slice(PIECES[pick(PIECES.len())]);
        }
        out.truncate(len);
        out
    }

    #[test]
    fn lanes_report_what_the_overlapping_search_reports() {
        for capacity in [None, Some(0)] {
            let dfa = dfa(capacity);
            let mut cache = dfa.create_cache();
            for seed in 0..40u64 {
                let hay = text(seed, 200 + 97 * seed as usize);
                for (from, to) in [
                    (0, hay.len()),
                    (3, hay.len() - 5),
                    (hay.len() / 3, hay.len()),
                    (0, hay.len() / 2),
                ] {
                    assert_eq!(
                        walked(&dfa, &mut cache, &hay, from, to),
                        reference(&dfa, &hay, from, to),
                        "seed {seed}, {from}..{to}, cache {capacity:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_repeated_text_is_walked_in_lanes() {
        // The lanes' case: a long repetitive stretch with matches all through it, and the
        // cache warm (no clear sends it back to one lane).
        let dfa = dfa(None);
        let mut cache = dfa.create_cache();
        let hay = b"xx abc foo x1234y ".repeat(500);
        walked(&dfa, &mut cache, &hay, 0, hay.len());
        let clears = cache.clear_count();
        let found = walked(&dfa, &mut cache, &hay, 0, hay.len());
        assert_eq!(cache.clear_count(), clears);
        assert_eq!(found, reference(&dfa, &hay, 0, hay.len()));
        assert_eq!(found.len(), 4 * 500);
    }
}
