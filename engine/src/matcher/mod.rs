//! First stage: find candidate matches of every rule in one pass per engine.
//!
//! - Rules with a literal anchor (nearly all) live in one Hyperscan block database. Hyperscan
//!   reports (rule, end) only; [`crate::confirm`] recovers the start.
//! - Literal-free numeric PII sits behind a digit-run gate: runs of digits and separators are
//!   found here, and only runs with enough digits (or the head of an IBAN) go to one combined
//!   regex for the digit rules.
//! - E-mail addresses sit behind `memchr(b'@')`, and so do credentials in URLs: their rules are
//!   searched, each alone, only around an `@` that closes a URL's user part. Dotted tokens
//!   (Discord's) sit behind a gate of their own: two dots seven bytes apart after a token run.
//! - Key-value rules give Hyperscan only the part before their value ([`crate::split`]); the
//!   value is the run of its class from there.
//! - The generic key-value rules have a database of their own, with a lazy DFA that takes
//!   over after a slow chunk ([`crate::timed`]).
//! - Injection phrase rules are matched on the whitespace-folded view ([`crate::fold`]) by a
//!   second Hyperscan database (timed the same way), and their matches mapped back to
//!   original offsets.
//!
//! Here: building the engines and [`Matcher::find`]; `anchors` holds the second stage around
//! anchor hits, `cache` the databases' compilation and cache layout, `stages` the per-stage
//! timing for `stage_cost`.

use crate::confirm::{Confirmed, Confirmer, GateSet};
use crate::error::{EngineError, Result};
use crate::fold::{has_invisible, Folded};
use crate::gate::{
    at_windows, digit_windows, dotted_windows, shaped_digit_windows, shapes_apply_to, tag_windows,
    userinfo_windows,
};
use crate::hyperscan::Database;
use crate::rule::{Gate, Rule, MAX_MATCH_LEN};
use crate::split::{ByteSet, Runs};
use crate::timed::{HandOver, Hit, Path, TimedSet};

/// A candidate after the second stage, before validators and policy.
#[derive(Clone, Copy, Debug)]
pub struct RawMatch {
    pub rule: usize,
    pub at: Confirmed,
}

pub struct Matcher {
    /// The main database: every other Hyperscan rule's entry ([`crate::timed`]).
    raw: TimedSet,
    /// The phrase rules matched whole on the folded view ([`crate::timed`]).
    folded: TimedSet,
    /// The generic key-value rules ([`crate::timed`]).
    keyed: TimedSet,
    /// Which path the two timed sets take (tests force each).
    timed_path: Path,
    windows: Vec<usize>,
    /// How far before an anchor hit an anchored rule's match may start (at most its window).
    back: Vec<usize>,
    /// Rules whose database entry is their anchor, not their pattern.
    anchored: Vec<bool>,
    /// Anchored rules whose pattern opens with their anchor: the lengths the anchor can
    /// have, so a match is looked for only where an anchor hit may start.
    opens: Vec<Option<Vec<usize>>>,
    /// The bytes such an anchor can start with.
    open_first_bytes: Vec<Option<ByteSet>>,
    /// Rules whose database entry is the part before their value ([`crate::split`]).
    split: Vec<Option<ValueRun>>,
    /// The value classes of the split rules.
    value_classes: Vec<ByteSet>,
    /// Injection rules anchored by [`anchor::derive`]: their window counts each whitespace run
    /// as one byte, and on text with invisible characters they are matched on the folded view.
    phrase: Vec<bool>,
    confirmers: Vec<Confirmer>,
    digits: GateSet,
    /// The digit gate's windows: shaped ones (most skipped by their digit-group shapes before
    /// the regex runs) when the gate holds only the built-in numeric rules.
    digit_windows: GateWindows,
    at: GateSet,
    dotted: GateSet,
    /// Text hidden in tag characters: on the folded view when the text has invisible
    /// characters (they could split a run), like the phrase rules.
    tags: GateSet,
    /// Rules searched one by one in the windows of the URL user-part gate: URL rules overlap
    /// (an `https` URL fits both the web and the any-scheme rule), and each must get its chance.
    userinfo: Vec<usize>,
    key: String,
    /// The rules' routes with their key, as the cache keeps them.
    routes: Vec<u8>,
    /// Whether the databases and the routes came from the cache rather than being worked out.
    from_cache: bool,
}

/// Id prefix of the generic key-value rules, which have a timed set of their own.
pub const GENERIC_PREFIX: &str = "generic.";

/// The patterns of database entries, as the DFAs take them.
fn entry_patterns(entries: &[(String, u32)]) -> Vec<&str> {
    entries.iter().map(|(p, _)| p.as_str()).collect()
}

/// A timed set of `set`'s rules (`patterns`: what its DFA matches, in the same order), each
/// chunk reaching back the longest match any of them reports.
fn timed_set(
    rules: &[Rule],
    set: Vec<usize>,
    patterns: &[&str],
    db: Option<Database>,
    hand_over: HandOver,
) -> TimedSet {
    let reach = set
        .iter()
        .map(|&i| rules[i].window())
        .max()
        .unwrap_or(MAX_MATCH_LEN);
    TimedSet::new(set, patterns, db, hand_over, reach)
}

/// Whether the main database's DFA matches rule `i`'s whole pattern rather than its entry:
/// rules with their own anchor (which can come every few bytes: `cf cf cf …`), but phrases
/// (their matches are bounded in folded bytes).
fn whole_in_dfa(anchored: &[bool], phrase: &[bool], i: usize) -> bool {
    anchored[i] && !phrase[i]
}

/// What the second stage does with a hit of the main database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RawHit {
    /// The match that ends there is confirmed (a whole pattern's end, or an entry that is
    /// its whole pattern).
    AtEnd,
    /// An anchor: the rule's pattern is tried around it ([`anchors`]).
    Anchor,
    /// A split rule's key part: its value is the run that starts there.
    ValueStart,
}

/// How a split rule's value is found: the class its run is made of, and the longest part of
/// the pattern after the value.
#[derive(Clone, Copy, Debug)]
struct ValueRun {
    class: usize,
    end_max: usize,
}

mod anchors;
mod cache;
mod route;
mod stages;

pub use anchors::phrase_reach;
use cache::{cached_routes, compile_all, database_key, load_cached, routes_key, routes_section};
use route::{routes, Route};
#[cfg(test)]
mod tests;

impl Matcher {
    /// Builds the engines for `rules`. `cached` is a database serialized by an earlier run
    /// with [`Matcher::serialized`]; it is used only if its key matches these rules.
    pub fn new(rules: &[Rule], cached: Option<&[u8]>) -> Result<Self> {
        let (mut hs_rules, mut hs_patterns) = (Vec::new(), Vec::new());
        let (mut fold_rules, mut fold_patterns) = (Vec::new(), Vec::new());
        let (mut digit_rules, mut digit_patterns) = (Vec::new(), Vec::new());
        let (mut at_rules, mut at_patterns) = (Vec::new(), Vec::new());
        let (mut dotted_rules, mut dotted_patterns) = (Vec::new(), Vec::new());
        let (mut tag_rules, mut tag_patterns) = (Vec::new(), Vec::new());
        let mut userinfo_rules = Vec::new();
        let mut windows: Vec<usize> = rules.iter().map(Rule::window).collect();
        let mut back = windows.clone();
        let mut anchored: Vec<bool> = rules.iter().map(|r| r.anchor.is_some()).collect();
        let mut phrase = vec![false; rules.len()];
        let mut opens = vec![None; rules.len()];
        let mut open_first_bytes = vec![None; rules.len()];
        let mut split = vec![None; rules.len()];
        let (mut keyed_rules, mut keyed_patterns) = (Vec::new(), Vec::new());
        let mut value_classes: Vec<ByteSet> = Vec::new();
        let routes_key = routes_key(rules);
        let (rule_routes, routes_json, routes_from_cache) =
            match cached.and_then(|c| cached_routes(c, &routes_key)) {
                Some((r, json)) if r.len() == rules.len() => (r, json.to_vec(), true),
                _ => {
                    let r = routes(rules);
                    let json = serde_json::to_vec(&r).expect("routes serialize");
                    (r, json, false)
                }
            };
        for (i, (r, route)) in rules.iter().zip(rule_routes).enumerate() {
            match route {
                Route::Anchored {
                    longest,
                    opens: opening,
                    phrase_reach,
                } => {
                    hs_rules.push(i);
                    hs_patterns.push((r.anchor.clone().unwrap_or_default(), 0u32));
                    // A match holds its anchor: it lies within its longest length of it,
                    // and one that opens with its anchor starts inside the anchor's hit.
                    if let Some(max) = longest {
                        windows[i] = windows[i].min(max.max(1));
                    }
                    back[i] = windows[i];
                    if let Some(open) = opening {
                        back[i] = back[i].min(open.longest);
                        opens[i] = open.lengths.clone();
                        open_first_bytes[i] = open.first_bytes;
                    }
                    // A phrase rule's own anchor works as a derived one does.
                    if let Some(reach) = phrase_reach {
                        phrase[i] = true;
                        windows[i] = reach;
                    }
                }
                Route::Derived { anchor, reach } => {
                    hs_rules.push(i);
                    hs_patterns.push((anchor, 0u32));
                    anchored[i] = true;
                    phrase[i] = true;
                    windows[i] = reach;
                }
                Route::Folded(pattern) => {
                    fold_rules.push(i);
                    fold_patterns.push((pattern, 0u32));
                }
                Route::Entry(found) => {
                    let entry = match found {
                        Some(s) => {
                            let class = value_classes
                                .iter()
                                .position(|c| *c == s.value)
                                .unwrap_or_else(|| {
                                    value_classes.push(s.value);
                                    value_classes.len() - 1
                                });
                            split[i] = Some(ValueRun {
                                class,
                                end_max: s.end_max,
                            });
                            s.prefix
                        }
                        None => r.pattern.clone(),
                    };
                    if r.id.starts_with(GENERIC_PREFIX) {
                        keyed_rules.push(i);
                        keyed_patterns.push((entry, 0u32));
                    } else {
                        hs_rules.push(i);
                        hs_patterns.push((entry, 0u32));
                    }
                }
                Route::Gated => match r.gate {
                    Gate::Digits => {
                        digit_rules.push(i);
                        digit_patterns.push(r.pattern.as_str());
                    }
                    Gate::At => {
                        at_rules.push(i);
                        at_patterns.push(r.pattern.as_str());
                    }
                    Gate::Userinfo => userinfo_rules.push(i),
                    Gate::Dotted => {
                        dotted_rules.push(i);
                        dotted_patterns.push(r.pattern.as_str());
                    }
                    Gate::Tags => {
                        tag_rules.push(i);
                        tag_patterns.push(r.pattern.as_str());
                    }
                    Gate::Hyperscan => unreachable!("Hyperscan rules have their own routes"),
                },
            }
        }
        let mut all_patterns = hs_patterns.clone();
        all_patterns.push(("\0folded view\0".into(), 0));
        all_patterns.extend(fold_patterns.iter().cloned());
        all_patterns.push(("\0generic rules\0".into(), 0));
        all_patterns.extend(keyed_patterns.iter().cloned());
        let key = database_key(&all_patterns);
        let loaded = cached.and_then(|c| load_cached(c, &key));
        let from_cache = loaded.is_some() && routes_from_cache;
        let [raw_db, folded_db, keyed_db] = match loaded {
            Some(dbs) => dbs,
            None => compile_all(
                rules,
                [
                    (&hs_rules, &hs_patterns),
                    (&fold_rules, &fold_patterns),
                    (&keyed_rules, &keyed_patterns),
                ],
            )?,
        };
        let gate_err = |e: String| EngineError::Rule {
            id: "(gated rules)".into(),
            source_name: "gate".into(),
            message: e,
        };
        Ok(Matcher {
            // Their DFAs match what Hyperscan does, but for the generic rules their whole
            // patterns; the two large sets hand over only on text their DFAs suit.
            raw: {
                // The DFA takes over where hits come every few bytes: for rules with their
                // own anchor it matches the whole pattern, not the anchor.
                let dfa_patterns: Vec<&str> = hs_rules
                    .iter()
                    .zip(&hs_patterns)
                    .map(|(&i, (entry, _))| {
                        if whole_in_dfa(&anchored, &phrase, i) {
                            rules[i].pattern.as_str()
                        } else {
                            entry.as_str()
                        }
                    })
                    .collect();
                timed_set(rules, hs_rules, &dfa_patterns, raw_db, HandOver::FewWords)
            },
            folded: timed_set(
                rules,
                fold_rules,
                &entry_patterns(&fold_patterns),
                folded_db,
                HandOver::Repetitive,
            ),
            keyed: {
                let whole: Vec<&str> = keyed_rules
                    .iter()
                    .map(|&i| rules[i].pattern.as_str())
                    .collect();
                timed_set(rules, keyed_rules, &whole, keyed_db, HandOver::Any)
            },
            timed_path: Path::Timed,
            windows,
            back,
            anchored,
            opens,
            open_first_bytes,
            split,
            value_classes,
            phrase,
            confirmers: rules.iter().map(|r| Confirmer::new(&r.pattern)).collect(),
            digit_windows: if shapes_apply_to(
                digit_rules
                    .iter()
                    .map(|&i| (rules[i].id.as_str(), rules[i].pattern.as_str())),
            ) {
                |hay, f| shaped_digit_windows(hay, f)
            } else {
                |hay, f| digit_windows(hay, f)
            },
            digits: GateSet::new(digit_rules, &digit_patterns).map_err(gate_err)?,
            at: GateSet::new(at_rules, &at_patterns)
                .map_err(gate_err)?
                .searched_without_check(),
            dotted: GateSet::new(dotted_rules, &dotted_patterns).map_err(gate_err)?,
            tags: GateSet::new(tag_rules, &tag_patterns).map_err(gate_err)?,
            userinfo: userinfo_rules,
            key,
            routes: routes_section(&routes_key, &routes_json),
            from_cache,
        })
    }

    /// The start-up cache: the three Hyperscan databases with their key, then the rules'
    /// routes (layout in [`cache`]).
    pub fn serialized(&self) -> Option<Vec<u8>> {
        let mut out = self.key.as_bytes().to_vec();
        for db in [self.raw.db(), self.folded.db(), self.keyed.db()] {
            let bytes = match db {
                Some(db) => db.serialize().ok()?,
                None => Vec::new(),
            };
            out.extend((bytes.len() as u64).to_le_bytes());
            out.extend(bytes);
        }
        out.extend_from_slice(&self.routes);
        Some(out)
    }

    pub fn loaded_from_cache(&self) -> bool {
        self.from_cache
    }

    pub fn database_bytes(&self) -> usize {
        [self.raw.db(), self.folded.db(), self.keyed.db()]
            .iter()
            .map(|db| db.map_or(0, Database::size))
            .sum()
    }

    /// Every candidate in `hay`, appended to `out` in no particular order.
    pub fn find(&self, hay: &[u8], out: &mut Vec<RawMatch>) -> Result<()> {
        self.find_rules(hay, false, out)
    }

    /// Candidate matches of the injection (phrase) rules only: what the deep scan's normalised
    /// view needs. The generic, value-run, byte-gated and URL user-part stages are skipped.
    pub fn find_phrases(&self, hay: &[u8], out: &mut Vec<RawMatch>) -> Result<()> {
        self.find_rules(hay, true, out)
    }

    /// The main database's hits, in offset order.
    fn raw_hits(&self, hay: &[u8]) -> Result<Vec<Hit>> {
        let mut hits = Vec::new();
        self.raw.scan(hay, self.timed_path, &mut hits)?;
        Ok(hits)
    }

    /// Whether the main database's DFA matches `rule`'s whole pattern ([`whole_in_dfa`]).
    fn whole_in_dfa(&self, rule: usize) -> bool {
        whole_in_dfa(&self.anchored, &self.phrase, rule)
    }

    /// What the second stage does with a hit of the main database.
    fn second_stage_of(&self, hit: Hit) -> RawHit {
        let (rule, _) = hit.rule_end();
        if matches!(hit, Hit::Whole(..)) && self.whole_in_dfa(rule) {
            RawHit::AtEnd
        } else if self.anchored[rule] {
            RawHit::Anchor
        } else if self.split[rule].is_some() {
            RawHit::ValueStart
        } else {
            RawHit::AtEnd
        }
    }

    fn find_rules(&self, hay: &[u8], phrases_only: bool, out: &mut Vec<RawMatch>) -> Result<()> {
        // Invisible characters can split a phrase's words: then phrase rules are matched on
        // the folded view, which drops them. Plain text (nearly all of it) never copies.
        let invisible = has_invisible(hay);
        let mut anchors = Vec::new();
        let mut value_starts = Vec::new();
        for hit in self.raw_hits(hay)? {
            let (rule, end) = hit.rule_end();
            if self.phrase[rule] && invisible || phrases_only && !self.phrase[rule] {
                continue;
            }
            match self.second_stage_of(hit) {
                RawHit::AtEnd => out.extend(self.match_ending_at(hay, rule, end)),
                RawHit::Anchor => anchors.push((rule, end)),
                RawHit::ValueStart => value_starts.push((rule, end)),
            }
        }
        let mut keyed = Vec::new();
        if !phrases_only {
            self.keyed.scan(hay, self.timed_path, &mut keyed)?;
        }
        for hit in keyed {
            match hit {
                Hit::Entry(rule, end) if self.split[rule].is_some() => {
                    value_starts.push((rule, end))
                }
                hit => {
                    let (rule, end) = hit.rule_end();
                    out.extend(self.match_ending_at(hay, rule, end))
                }
            }
        }
        self.search_around_anchors(hay, anchors, out);
        // Runs are walked in offset order: the two databases' starts, merged.
        value_starts.sort_by_key(|&(_, at)| at);
        self.match_value_runs(hay, &value_starts, out);
        if invisible || self.folded.db().is_some() {
            let view = Folded::new(hay);
            let map = |at: Confirmed| Confirmed {
                match_start: view.original(at.match_start),
                match_end: view.original(at.match_end),
                start: view.original(at.start),
                end: view.original(at.end),
            };
            if invisible {
                let phrases: Vec<_> = self
                    .raw_hits(view.text())?
                    .into_iter()
                    .map(Hit::rule_end)
                    .filter(|&(rule, _)| self.phrase[rule])
                    .collect();
                let mut found = Vec::new();
                self.search_around_anchors(view.text(), phrases, &mut found);
                out.extend(found.into_iter().map(|m| RawMatch {
                    rule: m.rule,
                    at: map(m.at),
                }));
            }
            let mut phrases = Vec::new();
            self.folded
                .scan(view.text(), self.timed_path, &mut phrases)?;
            for (rule, end) in phrases.into_iter().map(Hit::rule_end) {
                let Some(m) = self.match_ending_at(view.text(), rule, end) else {
                    continue;
                };
                out.push(RawMatch {
                    rule,
                    at: map(m.at),
                });
            }
            if invisible {
                let mut tagged = Vec::new();
                self.tag_matches(view.text(), &mut tagged);
                out.extend(
                    tagged
                        .into_iter()
                        .map(|(rule, at)| RawMatch { rule, at: map(at) }),
                );
            }
        }
        let mut gated = Vec::new();
        if !invisible {
            self.tag_matches(hay, &mut gated);
        }
        if !phrases_only {
            self.gated_matches(hay, &mut gated);
        }
        out.extend(gated.into_iter().map(|(rule, at)| RawMatch { rule, at }));
        if !phrases_only {
            self.userinfo_matches(hay, out);
        }
        Ok(())
    }

    /// Matches of the split rules whose values may start at `starts` (rule, offset; in
    /// offset order, as Hyperscan reports them): each value runs to the end of its class's run,
    /// and the pattern is confirmed at the ends the part after the value allows from there.
    fn match_value_runs(&self, hay: &[u8], starts: &[(usize, usize)], out: &mut Vec<RawMatch>) {
        if starts.is_empty() {
            return;
        }
        let mut runs = Runs::new(hay, self.value_classes.len());
        let mut ends = Vec::with_capacity(starts.len());
        for &(rule, at) in starts {
            let Some(v) = self.split[rule] else { continue };
            ends.push((
                rule,
                runs.run_end(v.class, &self.value_classes[v.class], at),
            ));
        }
        ends.sort_unstable();
        ends.dedup();
        for (rule, value_end) in ends {
            let Some(v) = self.split[rule] else { continue };
            let first = if value_end == hay.len() {
                value_end
            } else {
                value_end + 1
            };
            for end in first..=(value_end + v.end_max).min(hay.len()) {
                // The second stage sees the text cut at `end`, where `$` matches: a match
                // whose value ends elsewhere is not one of this run's.
                let m = self.match_ending_at(hay, rule, end);
                out.extend(m.filter(|m| m.at.end == value_end));
            }
        }
    }

    /// Matches of the URL credential rules, in the windows of the user-part gate.
    fn userinfo_matches(&self, hay: &[u8], out: &mut Vec<RawMatch>) {
        if self.userinfo.is_empty() {
            return;
        }
        let mut found = Vec::new();
        userinfo_windows(hay, |from, to| {
            for &rule in &self.userinfo {
                found.clear();
                self.confirmers[rule].search(hay, from, to, &mut found);
                out.extend(found.iter().map(|&at| RawMatch { rule, at }));
            }
        });
    }

    /// The match of `rule` that Hyperscan saw end at `end`, start and captures recovered.
    fn match_ending_at(&self, hay: &[u8], rule: usize, end: usize) -> Option<RawMatch> {
        let at = self.confirmers[rule].at_end(hay, end, self.windows[rule])?;
        Some(RawMatch { rule, at })
    }

    /// The byte gates whose rules are searched together in one regex: the name `stage_cost`
    /// shows, the rules, and the windows the gate gives.
    fn gate_sets(&self) -> [(&'static str, &GateSet, GateWindows); 3] {
        [
            ("digit rules", &self.digits, self.digit_windows),
            ("@ gate and rules", &self.at, |hay, f| at_windows(hay, f)),
            ("dotted gate and rules", &self.dotted, |hay, f| {
                dotted_windows(hay, f)
            }),
        ]
    }

    /// Matches of the tag-character rules: in the text, or in its folded view when the text
    /// has invisible characters (the caller maps those back).
    fn tag_matches(&self, text: &[u8], out: &mut Vec<(usize, Confirmed)>) {
        gate_matches(&self.tags, |h, f| tag_windows(h, f), text, out);
    }

    /// Matches of every byte-gated rule set ([`Matcher::gate_sets`]).
    fn gated_matches(&self, hay: &[u8], out: &mut Vec<(usize, Confirmed)>) {
        for (_, set, windows) in self.gate_sets() {
            gate_matches(set, windows, hay, out);
        }
    }
}

/// Finds a byte gate's windows in a text, calling back with each (`from`, `to`).
type GateWindows = fn(&[u8], &mut dyn FnMut(usize, usize));

/// Matches of the rules in `set`, in the windows `windows` finds in `hay`.
fn gate_matches(
    set: &GateSet,
    windows: GateWindows,
    hay: &[u8],
    out: &mut Vec<(usize, Confirmed)>,
) {
    if !set.is_empty() {
        let mut caps = None;
        windows(hay, &mut |from, to| {
            set.search(hay, from, to, &mut caps, out)
        });
    }
}
