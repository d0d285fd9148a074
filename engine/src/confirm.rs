//! Second stage: Hyperscan reports only (rule, end). Here each rule's own regex, anchored to end
//! exactly there, recovers the start and the capture group that holds the reported span. Gated
//! rules (digits, `@`) are searched forward inside the window their gate found instead.

use std::cell::RefCell;
use std::sync::OnceLock;

use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::meta::{self, Regex};
use regex_automata::util::captures::Captures;
use regex_automata::util::primitives::NonMaxUsize;
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input, PatternID};
use thread_local::ThreadLocal;

use crate::group_memo::{self, GroupMemo};

/// How every rule's pattern is read: bytes, ASCII classes, `(?i)` folding ASCII only.
pub fn rule_syntax() -> syntax::Config {
    syntax::Config::new().unicode(false).utf8(false)
}

/// Largest compiled NFA a rule set may make.
pub const NFA_SIZE_LIMIT: usize = 64 << 20;

/// Builds the engine's regex for one pattern with the flags every rule is matched with:
/// bytes, ASCII classes, `(?i)` folding ASCII only.
pub fn compile(pattern: &str) -> Result<Regex, String> {
    meta::Builder::new()
        .syntax(rule_syntax())
        .configure(
            meta::Config::new()
                .utf8_empty(false)
                .nfa_size_limit(Some(NFA_SIZE_LIMIT))
                .hybrid_cache_capacity(4 << 20),
        )
        .build(pattern)
        .map_err(|e| match e.syntax_error() {
            Some(syntax) => syntax.to_string(),
            None => e.to_string(),
        })
}

/// A match after the second stage: the whole match and the span to report (group 1 if any).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Confirmed {
    pub match_start: usize,
    pub match_end: usize,
    pub start: usize,
    pub end: usize,
}

/// One rule's second-stage regexes, compiled on first use so start-up stays cheap.
pub struct Confirmer {
    pattern: String,
    end_anchored: OnceLock<Option<Regex>>,
    forward: OnceLock<Option<Regex>>,
    /// For anchored tries: a lazy DFA that says whether any match starts at a position
    /// (most tries fail within a few bytes, and the full regex costs ~25 ns a call).
    start_check: OnceLock<Option<DFA>>,
    start_caches: ThreadLocal<RefCell<Cache>>,
    /// Names this confirmer in the thread's group memo (unique for the process's lifetime).
    id: u64,
}

/// The next [`Confirmer`]'s id.
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl Confirmer {
    pub fn new(pattern: &str) -> Self {
        Confirmer {
            pattern: pattern.to_string(),
            end_anchored: OnceLock::new(),
            forward: OnceLock::new(),
            start_check: OnceLock::new(),
            start_caches: ThreadLocal::new(),
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// Every match inside `from..to` (look-around sees the whole haystack), for rules whose
    /// first pass found only an anchor somewhere in that window.
    pub fn search(&self, hay: &[u8], from: usize, to: usize, out: &mut Vec<Confirmed>) {
        let Some(re) = self.forward() else {
            return;
        };
        let mut at = from;
        while at < to {
            let Some(c) = self.with_group(re, hay, &Input::new(hay).range(at..to)) else {
                break;
            };
            out.push(c);
            at = next_search_start(c, at);
        }
    }

    /// The match that starts exactly at `start` and ends by `to`, for rules whose pattern
    /// opens with the anchor that was found there.
    pub fn at_start(&self, hay: &[u8], start: usize, to: usize) -> Option<Confirmed> {
        if !self.may_match_at(hay, start, to) {
            return None;
        }
        let input = Input::new(hay).range(start..to).anchored(Anchored::Yes);
        self.with_group(self.forward()?, hay, &input)
    }

    /// False only when no match starts at `start` and ends by `to` (the start check's DFA,
    /// stopping at the first match it sees). True when it found one, or could not tell.
    fn may_match_at(&self, hay: &[u8], start: usize, to: usize) -> bool {
        let Some(dfa) = self
            .start_check
            .get_or_init(|| {
                DFA::builder()
                    .syntax(rule_syntax())
                    .thompson(
                        regex_automata::nfa::thompson::Config::new()
                            .nfa_size_limit(Some(NFA_SIZE_LIMIT)),
                    )
                    .configure(
                        DFA::config()
                            .starts_for_each_pattern(false)
                            .unicode_word_boundary(false),
                    )
                    .build(&self.pattern)
                    .ok()
            })
            .as_ref()
        else {
            return true;
        };
        let cell = self.start_caches.get_or(|| RefCell::new(Cache::new(dfa)));
        let input = Input::new(hay)
            .range(start..to)
            .anchored(Anchored::Yes)
            .earliest(true);
        dfa.try_search_fwd(&mut cell.borrow_mut(), &input)
            .map_or(true, |found| found.is_some())
    }

    /// The pattern as it is, for forward searches.
    fn forward(&self) -> Option<&Regex> {
        self.forward
            .get_or_init(|| compile(&self.pattern).ok())
            .as_ref()
    }

    /// Finds the match that ends exactly at `end`, starting no earlier than `end - window`.
    pub fn at_end(&self, hay: &[u8], end: usize, window: usize) -> Option<Confirmed> {
        let re = self
            .end_anchored
            .get_or_init(|| compile(&format!("(?:{})\\z", self.pattern)).ok())
            .as_ref()?;
        let hay = &hay[..end];
        let input = Input::new(hay).range(end.saturating_sub(window)..end);
        self.with_group(re, hay, &input)
    }

    /// The first match of `re` in `input` with its group 1: the match alone (the regex's
    /// DFAs), then group 1 in it, remembered by the match's bytes or found by the capture
    /// engine over the match, anchored at its start.
    fn with_group(&self, re: &Regex, hay: &[u8], input: &Input) -> Option<Confirmed> {
        if slots_for(re) == 2 {
            return first_match(re, input);
        }
        let mut slots = [None; 2];
        re.search_slots(input, &mut slots)?;
        let (start, end) = (slots[0]?.get(), slots[1]?.get());
        let mut key = KEY.take();
        let keyed = group_memo::key(self.id, hay, start, end, &mut key);
        let remembered = keyed.then(|| MEMO.with_borrow(|m| m.get(&key))).flatten();
        let found = match remembered {
            Some((s, e)) => Some(Confirmed {
                match_start: start,
                match_end: end,
                start: start + s,
                end: start + e,
            }),
            None => {
                let whole = Input::new(hay).range(start..end).anchored(Anchored::Yes);
                let found = first_match(re, &whole);
                if let Some(c) = found.filter(|_| keyed) {
                    let group = (c.start - c.match_start, c.end - c.match_start);
                    MEMO.with_borrow_mut(|m| m.put(&key, group));
                }
                found
            }
        };
        KEY.set(key);
        found
    }
}

thread_local! {
    /// Group 1 of the matches this thread confirmed, by their bytes and their rule's
    /// confirmer: one table for all rules, so its memory is bounded per thread.
    static MEMO: RefCell<GroupMemo> = RefCell::new(GroupMemo::default());
    /// The key buffer of [`Confirmer::with_group`], reused.
    static KEY: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Longest window of a gated rule that is checked for a match before it is searched.
const SHORT_WINDOW: usize = 256;

/// Several rules behind one gate, searched together in one regex.
pub struct GateSet {
    pub rules: Vec<usize>,
    regex: Option<Regex>,
    /// Whether a short window is checked for a match before it is searched: worth it where
    /// most windows hold none (digit runs), not where nearly all do.
    check_first: bool,
}

impl GateSet {
    pub fn new(rules: Vec<usize>, patterns: &[&str]) -> Result<Self, String> {
        let regex = if patterns.is_empty() {
            None
        } else {
            Some(
                meta::Builder::new()
                    .syntax(rule_syntax())
                    .configure(meta::Config::new().utf8_empty(false))
                    .build_many(patterns)
                    .map_err(|e| e.to_string())?,
            )
        };
        Ok(GateSet {
            rules,
            regex,
            check_first: true,
        })
    }

    /// This set with short windows searched straight away: for a gate whose windows nearly
    /// always hold a match (the `@` gate's are shaped like an address), where the check
    /// would only repeat the search's work (an e-mail address every log line: 6.4 -> 4.6 ms
    /// per 4 MiB).
    pub fn searched_without_check(self) -> Self {
        GateSet {
            check_first: false,
            ..self
        }
    }

    pub fn is_empty(&self) -> bool {
        self.regex.is_none()
    }

    /// Every match inside `from..to` (look-around sees the whole haystack), with the index of
    /// its rule in the scanner's rule list.
    pub fn search(
        &self,
        hay: &[u8],
        from: usize,
        to: usize,
        caps: &mut Option<Captures>,
        out: &mut Vec<(usize, Confirmed)>,
    ) {
        let Some(re) = &self.regex else { return };
        // Where most windows hold no match, for a short one the check without captures says
        // so for less. Not for a long one: there the search's own literal-led strategy (from the
        // `@` of an e-mail address) beats is_match, which scans forward from every byte (a
        // 256 KiB window of `a@b.` took 13x as long).
        if self.check_first
            && to - from <= SHORT_WINDOW
            && !re.is_match(Input::new(hay).range(from..to))
        {
            return;
        }
        let caps = caps.get_or_insert_with(|| re.create_captures());
        let mut at = from;
        while at < to {
            let input = Input::new(hay).range(at..to);
            re.search_captures(&input, caps);
            let (Some(pid), Some(c)) = (caps.pattern(), confirmed(caps)) else {
                break;
            };
            out.push((self.rules[pid.as_usize()], c));
            at = next_search_start(c, at);
        }
    }
}

/// Where to look for the next match after `c`, found searching from `at`: the end of what it
/// reports. A pattern may consume a boundary byte after its value (`(?:[^A-Za-z0-9]|$)`) that
/// the next match needs as its own opening boundary (`TOKEN TOKEN`, one per line), so the
/// search resumes where the reported span ends, not where the match does.
fn next_search_start(c: Confirmed, at: usize) -> usize {
    if c.end > at {
        c.end
    } else if c.match_end > at {
        c.match_end
    } else {
        at + 1
    }
}

/// The first match of `re` in `input`, with group 1 when the pattern has one. Slots for group
/// 0 and group 1 live on the stack: no allocation per candidate.
fn first_match(re: &Regex, input: &Input) -> Option<Confirmed> {
    let mut slots = [None; 4];
    re.search_slots(input, &mut slots[..slots_for(re)])?;
    from_slots(&slots)
}

/// How many slots a search should fill: group 1's too only when the pattern has one. Asking
/// for a group makes the regex run its capture engine over the match; without one its DFAs
/// answer alone (a phrase rule's second stage: 420 -> ~100 ns a hit on long alternations).
fn slots_for(re: &Regex) -> usize {
    if re.group_info().group_len(PatternID::ZERO) > 1 {
        4
    } else {
        2
    }
}

/// The match in the slots of group 0 and group 1, reporting group 1 when it is not empty.
fn from_slots(slots: &[Option<NonMaxUsize>; 4]) -> Option<Confirmed> {
    let (ms, me) = (slots[0]?.get(), slots[1]?.get());
    let (start, end) = match (slots[2], slots[3]) {
        (Some(s), Some(e)) if e.get() > s.get() => (s.get(), e.get()),
        _ => (ms, me),
    };
    Some(Confirmed {
        match_start: ms,
        match_end: me,
        start,
        end,
    })
}

fn confirmed(caps: &Captures) -> Option<Confirmed> {
    let m = caps.get_match()?;
    let (start, end) = match caps.get_group(1) {
        Some(g) if g.end > g.start => (g.start, g.end),
        _ => (m.start(), m.end()),
    };
    Some(Confirmed {
        match_start: m.start(),
        match_end: m.end(),
        start,
        end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::builtin_rules;

    #[test]
    fn groups_remembered_by_match_bytes_are_the_capture_engines() {
        // Every end and every start of every match in each rule's examples, and in variants
        // with the match repeated and after other bytes: at_end, at_start and search (a miss,
        // then a hit of the memo) give what the capture engine gives on the whole range.
        let mut checked = 0;
        for rule in builtin_rules().expect("rules") {
            let c = Confirmer::new(&rule.pattern);
            let Some(re) = compile(&format!("(?:{})\\z", rule.pattern)).ok() else {
                continue;
            };
            if slots_for(&re) == 2 {
                continue;
            }
            for ex in rule.examples.iter().chain(&rule.negative_examples) {
                for text in [ex.clone(), format!("{ex} {ex}"), format!("x{ex}\n_{ex}")] {
                    let hay = text.as_bytes();
                    for end in 1..=hay.len() {
                        let window = 4096;
                        let input = Input::new(&hay[..end]).range(end.saturating_sub(window)..end);
                        let want = first_match(&re, &input);
                        assert_eq!(c.at_end(hay, end, window), want, "{} at {end}", rule.id);
                        assert_eq!(c.at_end(hay, end, window), want, "{} at {end}", rule.id);
                        checked += usize::from(want.is_some());
                    }
                    let forward = compile(&rule.pattern).expect("compiles");
                    let mut want = Vec::new();
                    let mut at = 0;
                    while at < hay.len() {
                        let Some(c) = first_match(&forward, &Input::new(hay).range(at..)) else {
                            break;
                        };
                        want.push(c);
                        at = next_search_start(c, at);
                    }
                    for _ in 0..2 {
                        let mut got = Vec::new();
                        c.search(hay, 0, hay.len(), &mut got);
                        assert_eq!(got, want, "{} searched", rule.id);
                    }
                    for start in 0..hay.len() {
                        let to = (start + 4096).min(hay.len());
                        let input = Input::new(hay).range(start..to).anchored(Anchored::Yes);
                        let want = first_match(&forward, &input);
                        assert_eq!(c.at_start(hay, start, to), want, "{} from {start}", rule.id);
                        assert_eq!(c.at_start(hay, start, to), want, "{} from {start}", rule.id);
                        checked += usize::from(want.is_some());
                    }
                }
            }
        }
        assert!(checked > 500, "only {checked} matches checked");
    }
}
