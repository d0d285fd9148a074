//! First stage: find candidate matches of every rule in one pass per engine.
//!
//! - Rules with a literal anchor (nearly all) live in one Hyperscan block database. Hyperscan
//!   reports (rule, end) only; [`crate::confirm`] recovers the start.
//! - Literal-free numeric PII sits behind a digit-run gate: runs of digits and separators are
//!   found here, and only runs with enough digits (or the head of an IBAN) go to one combined
//!   regex for the digit rules.
//! - E-mail addresses sit behind `memchr(b'@')`, and so do credentials in URLs: their rules are
//!   searched, each alone, only around an `@` that closes a URL's user part.
//! - Injection phrase rules are matched on the whitespace-folded view ([`crate::fold`]) by a
//!   second Hyperscan database, and their matches mapped back to original offsets.

use std::cell::RefCell;

use sha2::{Digest, Sha256};
use thread_local::ThreadLocal;

use crate::anchor;
use crate::confirm::{Confirmed, Confirmer, GateSet};
use crate::error::{EngineError, Result};
use crate::fold::{has_invisible, is_ws, pattern_for_folded_view, Folded};
use crate::gate::{at_windows, digit_windows, userinfo_windows};
use crate::hyperscan::{Database, Scratch};
use crate::keyed::{Hit, KeyedSet, Path, GENERIC_PREFIX};
use crate::rule::{Category, Gate, Rule};
use crate::split::{ByteSet, Runs, Split};

/// A candidate after the second stage, before validators and policy.
#[derive(Clone, Copy, Debug)]
pub struct RawMatch {
    pub rule: usize,
    pub at: Confirmed,
}

/// One Hyperscan database, the rules in it (pattern id = index), and per-thread scratch.
struct HsSet {
    db: Option<Database>,
    rules: Vec<usize>,
    scratch: ThreadLocal<RefCell<Scratch>>,
}

impl HsSet {
    /// (rule index, end) of every Hyperscan match, deduplicated.
    fn scan(&self, hay: &[u8]) -> Result<Vec<(usize, usize)>> {
        let Some(db) = &self.db else {
            return Ok(Vec::new());
        };
        let cell = self.scratch.get_or_try(|| {
            Scratch::new(db)
                .map(RefCell::new)
                .map_err(EngineError::Hyperscan)
        })?;
        let mut hits: Vec<(usize, usize)> = Vec::new();
        cell.borrow_mut()
            .scan(db, hay, |id, end| {
                let rule = self.rules[id as usize];
                if hits.last() != Some(&(rule, end)) {
                    hits.push((rule, end));
                }
            })
            .map_err(EngineError::Hyperscan)?;
        Ok(hits)
    }
}

pub struct Matcher {
    raw: HsSet,
    folded: HsSet,
    /// The generic key-value rules ([`crate::keyed`]).
    keyed: KeyedSet,
    keyed_path: Path,
    windows: Vec<usize>,
    /// How far before an anchor hit an anchored rule's match may start (at most its window).
    back: Vec<usize>,
    /// Rules whose database entry is their anchor, not their pattern.
    anchored: Vec<bool>,
    /// Anchored rules whose pattern opens with their anchor: the anchor's shortest and
    /// longest length, so a match is looked for only where an anchor hit may start.
    opens: Vec<Option<(usize, usize)>>,
    /// Rules whose database entry is the part before their value ([`crate::split`]).
    split: Vec<Option<ValueRun>>,
    /// The value classes of the split rules.
    value_classes: Vec<ByteSet>,
    /// Injection rules anchored by [`anchor::derive`]: their window counts each whitespace run
    /// as one byte, and on text with invisible characters they are matched on the folded view.
    phrase: Vec<bool>,
    confirmers: Vec<Confirmer>,
    digits: GateSet,
    at: GateSet,
    /// Rules searched one by one in the windows of the URL user-part gate: URL rules overlap
    /// (an `https` URL fits both the web and the any-scheme rule), and each must get its chance.
    userinfo: Vec<usize>,
    key: String,
}

/// How a split rule's value is found: the class its run is made of, and the longest part of
/// the pattern after the value.
#[derive(Clone, Copy, Debug)]
struct ValueRun {
    class: usize,
    end_max: usize,
}

/// Key of a set of Hyperscan patterns, for the serialized-database cache.
fn database_key(patterns: &[(String, u32)]) -> String {
    let mut h = Sha256::new();
    h.update(b"vectorscan-rs-sys 0.0.6 block\0");
    for (p, f) in patterns {
        h.update(p.as_bytes());
        h.update(b"\0");
        h.update(f.to_le_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

impl Matcher {
    /// Builds the engines for `rules`. `cached` is a database serialized by an earlier run
    /// with [`Matcher::serialized`]; it is used only if its key matches these rules.
    pub fn new(rules: &[Rule], cached: Option<&[u8]>) -> Result<Self> {
        let (mut hs_rules, mut hs_patterns) = (Vec::new(), Vec::new());
        let (mut fold_rules, mut fold_patterns) = (Vec::new(), Vec::new());
        let (mut digit_rules, mut digit_patterns) = (Vec::new(), Vec::new());
        let (mut at_rules, mut at_patterns) = (Vec::new(), Vec::new());
        let mut userinfo_rules = Vec::new();
        let mut windows: Vec<usize> = rules.iter().map(Rule::window).collect();
        let mut back = windows.clone();
        let mut anchored: Vec<bool> = rules.iter().map(|r| r.anchor.is_some()).collect();
        let mut phrase = vec![false; rules.len()];
        let mut opens = vec![None; rules.len()];
        let mut split = vec![None; rules.len()];
        let mut keyed_rules: Vec<(usize, String, String)> = Vec::new();
        let mut value_classes: Vec<ByteSet> = Vec::new();
        for (i, r) in rules.iter().enumerate() {
            let derived = (r.gate == Gate::Hyperscan
                && r.anchor.is_none()
                && r.category == Category::Injection)
                .then(|| phrase_anchor(&r.pattern))
                .flatten();
            match r.gate {
                Gate::Hyperscan if r.anchor.is_some() => {
                    hs_rules.push(i);
                    hs_patterns.push((r.anchor.clone().unwrap_or_default(), 0u32));
                    // A match holds its anchor: it lies within its longest length of it,
                    // and one that opens with its anchor starts inside the anchor's hit.
                    if let Some(max) = anchor::max_len(&r.pattern) {
                        windows[i] = windows[i].min(max.max(1));
                    }
                    back[i] = windows[i];
                    let anchor = r.anchor.as_deref().unwrap_or_default();
                    if r.pattern.starts_with(anchor) {
                        if let Some(max) = anchor::max_len(anchor) {
                            back[i] = back[i].min(max);
                            opens[i] = anchor::min_len(anchor)
                                .filter(|&min| min > 0 && max - min <= MAX_ANCHOR_SPREAD)
                                .map(|min| (min, max));
                        }
                    }
                    // A phrase rule's own anchor works as a derived one does.
                    if r.category == Category::Injection {
                        phrase[i] = true;
                        windows[i] = phrase_reach(&r.pattern);
                    }
                }
                Gate::Hyperscan if derived.is_some() => {
                    let (pattern, reach) = derived.unwrap_or_default();
                    hs_rules.push(i);
                    hs_patterns.push((pattern, 0u32));
                    anchored[i] = true;
                    phrase[i] = true;
                    windows[i] = reach;
                }
                Gate::Hyperscan if r.category == Category::Injection => {
                    fold_rules.push(i);
                    fold_patterns.push((pattern_for_folded_view(&r.pattern), 0u32));
                }
                Gate::Hyperscan => {
                    let entry = match Split::of(&r.pattern) {
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
                        keyed_rules.push((i, entry, r.pattern.clone()));
                    } else {
                        hs_rules.push(i);
                        hs_patterns.push((entry, 0u32));
                    }
                }
                Gate::Digits => {
                    digit_rules.push(i);
                    digit_patterns.push(r.pattern.as_str());
                }
                Gate::At => {
                    at_rules.push(i);
                    at_patterns.push(r.pattern.as_str());
                }
                Gate::Userinfo => userinfo_rules.push(i),
            }
        }
        let keyed_patterns: Vec<(String, u32)> =
            keyed_rules.iter().map(|k| (k.1.clone(), 0)).collect();
        let keyed_ids: Vec<usize> = keyed_rules.iter().map(|k| k.0).collect();
        let mut all_patterns = hs_patterns.clone();
        all_patterns.push(("\0folded view\0".into(), 0));
        all_patterns.extend(fold_patterns.iter().cloned());
        all_patterns.push(("\0generic rules\0".into(), 0));
        all_patterns.extend(keyed_patterns.iter().cloned());
        let key = database_key(&all_patterns);
        let [raw_db, folded_db, keyed_db] = match cached.and_then(|c| load_cached(c, &key)) {
            Some(dbs) => dbs,
            None => [
                compile(rules, &hs_rules, &hs_patterns)?,
                compile(rules, &fold_rules, &fold_patterns)?,
                compile(rules, &keyed_ids, &keyed_patterns)?,
            ],
        };
        let gate_err = |e: String| EngineError::Rule {
            id: "(gated rules)".into(),
            source_name: "gate".into(),
            message: e,
        };
        Ok(Matcher {
            raw: HsSet {
                db: raw_db,
                rules: hs_rules,
                scratch: ThreadLocal::new(),
            },
            folded: HsSet {
                db: folded_db,
                rules: fold_rules,
                scratch: ThreadLocal::new(),
            },
            keyed: KeyedSet::new(&keyed_rules, keyed_db)?,
            keyed_path: Path::Timed,
            windows,
            back,
            anchored,
            opens,
            split,
            value_classes,
            phrase,
            confirmers: rules.iter().map(|r| Confirmer::new(&r.pattern)).collect(),
            digits: GateSet::new(digit_rules, &digit_patterns).map_err(gate_err)?,
            at: GateSet::new(at_rules, &at_patterns).map_err(gate_err)?,
            userinfo: userinfo_rules,
            key,
        })
    }

    /// The three Hyperscan databases with their key, for a cache file: key, then for each
    /// its length (u64 little-endian, 0 when absent) and bytes.
    pub fn serialized(&self) -> Option<Vec<u8>> {
        let mut out = self.key.as_bytes().to_vec();
        for db in [
            self.raw.db.as_ref(),
            self.folded.db.as_ref(),
            self.keyed.db(),
        ] {
            let bytes = match db {
                Some(db) => db.serialize().ok()?,
                None => Vec::new(),
            };
            out.extend((bytes.len() as u64).to_le_bytes());
            out.extend(bytes);
        }
        Some(out)
    }

    pub fn database_key(&self) -> &str {
        &self.key
    }

    pub fn database_bytes(&self) -> usize {
        [
            self.raw.db.as_ref(),
            self.folded.db.as_ref(),
            self.keyed.db(),
        ]
        .iter()
        .map(|db| db.map_or(0, Database::size))
        .sum()
    }

    /// Every candidate in `hay`, appended to `out` in no particular order.
    pub fn find(&self, hay: &[u8], out: &mut Vec<RawMatch>) -> Result<()> {
        // Invisible characters can split a phrase's words: then phrase rules are matched on
        // the folded view, which drops them. Plain text (nearly all of it) never copies.
        let invisible = has_invisible(hay);
        let mut anchors = Vec::new();
        let mut value_starts = Vec::new();
        for (rule, end) in self.raw.scan(hay)? {
            if self.phrase[rule] && invisible {
                continue;
            }
            if self.anchored[rule] {
                anchors.push((rule, end));
            } else if self.split[rule].is_some() {
                value_starts.push((rule, end));
            } else {
                out.extend(self.match_ending_at(hay, rule, end));
            }
        }
        let mut keyed = Vec::new();
        self.keyed.scan(hay, self.keyed_path, &mut keyed)?;
        for hit in keyed {
            match hit {
                Hit::Entry(rule, end) if self.split[rule].is_some() => {
                    value_starts.push((rule, end))
                }
                Hit::Entry(rule, end) | Hit::Whole(rule, end) => {
                    out.extend(self.match_ending_at(hay, rule, end))
                }
            }
        }
        self.search_around_anchors(hay, anchors, out);
        // Runs are walked in offset order: the two databases' starts, merged.
        value_starts.sort_by_key(|&(_, at)| at);
        self.match_value_runs(hay, &value_starts, out);
        if invisible || self.folded.db.is_some() {
            let view = Folded::new(hay);
            let map = |at: Confirmed| Confirmed {
                match_start: view.original(at.match_start),
                match_end: view.original(at.match_end),
                start: view.original(at.start),
                end: view.original(at.end),
            };
            if invisible {
                let phrases: Vec<_> = self
                    .raw
                    .scan(&view.text)?
                    .into_iter()
                    .filter(|&(rule, _)| self.phrase[rule])
                    .collect();
                let mut found = Vec::new();
                self.search_around_anchors(&view.text, phrases, &mut found);
                out.extend(found.into_iter().map(|m| RawMatch {
                    rule: m.rule,
                    at: map(m.at),
                }));
            }
            for (rule, end) in self.folded.scan(&view.text)? {
                let Some(m) = self.match_ending_at(&view.text, rule, end) else {
                    continue;
                };
                out.push(RawMatch {
                    rule,
                    at: map(m.at),
                });
            }
        }
        let mut gated = Vec::new();
        self.digit_matches(hay, &mut gated);
        self.at_matches(hay, &mut gated);
        out.extend(gated.into_iter().map(|(rule, at)| RawMatch { rule, at }));
        self.userinfo_matches(hay, out);
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
            let (end, _) = runs.run_end(v.class, &self.value_classes[v.class], at);
            ends.push((rule, end));
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

    /// Matches of the numeric PII rules, in the windows of the digit-run gate.
    fn digit_matches(&self, hay: &[u8], out: &mut Vec<(usize, Confirmed)>) {
        if !self.digits.is_empty() {
            let mut caps = None;
            digit_windows(hay, |from, to| {
                self.digits.search(hay, from, to, &mut caps, out)
            });
        }
    }

    /// Matches of the e-mail rules, in the windows of the `@` gate.
    fn at_matches(&self, hay: &[u8], out: &mut Vec<(usize, Confirmed)>) {
        if !self.at.is_empty() {
            let mut caps = None;
            at_windows(hay, |from, to| {
                self.at.search(hay, from, to, &mut caps, out)
            });
        }
    }
}

impl Matcher {
    /// Seconds each stage of [`Matcher::find`] takes on `hay`, for the `stage_cost` example.
    #[doc(hidden)]
    pub fn stage_times(&self, hay: &[u8]) -> Result<Vec<(&'static str, f64)>> {
        use std::time::Instant;
        let mut times = Vec::new();
        let mut time = |name, f: &mut dyn FnMut() -> Result<()>| -> Result<()> {
            let t = Instant::now();
            f()?;
            times.push((name, t.elapsed().as_secs_f64()));
            Ok(())
        };
        let mut hits = Vec::new();
        time("has_invisible", &mut || {
            std::hint::black_box(has_invisible(hay));
            Ok(())
        })?;
        time("raw database", &mut || {
            hits = self.raw.scan(hay)?;
            Ok(())
        })?;
        time("generic rules", &mut || {
            let mut keyed = Vec::new();
            self.keyed.scan(hay, self.keyed_path, &mut keyed)?;
            std::hint::black_box(keyed);
            Ok(())
        })?;
        let anchors: Vec<_> = hits
            .iter()
            .copied()
            .filter(|h| self.anchored[h.0])
            .collect();
        let (n_hits, n_anchors) = (hits.len(), anchors.len());
        time("second stage at raw hits", &mut || {
            let mut out = Vec::new();
            let plain = |h: &&(usize, usize)| !self.anchored[h.0] && self.split[h.0].is_none();
            for &(rule, end) in hits.iter().filter(plain) {
                out.extend(self.match_ending_at(hay, rule, end));
            }
            std::hint::black_box(out);
            Ok(())
        })?;
        time("value runs", &mut || {
            let mut out = Vec::new();
            let starts: Vec<_> = hits
                .iter()
                .copied()
                .filter(|h| self.split[h.0].is_some())
                .collect();
            self.match_value_runs(hay, &starts, &mut out);
            std::hint::black_box(out);
            Ok(())
        })?;
        time("search around anchors", &mut || {
            let mut out = Vec::new();
            self.search_around_anchors(hay, anchors.clone(), &mut out);
            std::hint::black_box(out);
            Ok(())
        })?;
        let mut view = None;
        time("folded view", &mut || {
            view = Some(Folded::new(hay));
            Ok(())
        })?;
        let view = view.expect("folded view");
        time("folded database", &mut || {
            std::hint::black_box(self.folded.scan(&view.text)?);
            Ok(())
        })?;
        time("digit gate", &mut || {
            let mut n = 0;
            digit_windows(hay, |_, _| n += 1);
            std::hint::black_box(n);
            Ok(())
        })?;
        time("digit rules", &mut || {
            let mut gated = Vec::new();
            self.digit_matches(hay, &mut gated);
            std::hint::black_box(gated);
            Ok(())
        })?;
        time("@ gate and rules", &mut || {
            let mut gated = Vec::new();
            self.at_matches(hay, &mut gated);
            std::hint::black_box(gated);
            Ok(())
        })?;
        time("URL user-part gate and rules", &mut || {
            let mut found = Vec::new();
            self.userinfo_matches(hay, &mut found);
            std::hint::black_box(found);
            Ok(())
        })?;
        times.push(("(raw hits)", n_hits as f64));
        times.push(("(anchor hits)", n_anchors as f64));
        let n_split = self.split.iter().filter(|s| s.is_some()).count();
        times.push(("(split rules)", n_split as f64));
        Ok(times)
    }
}

impl Matcher {
    /// A match that contains an anchor ending at `end` lies within `window` bytes of it on
    /// either side: each rule's pattern is searched in those windows, merged where they touch.
    fn search_around_anchors(
        &self,
        hay: &[u8],
        mut anchors: Vec<(usize, usize)>,
        out: &mut Vec<RawMatch>,
    ) {
        anchors.sort_unstable();
        let mut found = Vec::new();
        let mut k = 0;
        // Where the pattern opens with its anchor (and is no phrase), a match starts where an
        // anchor hit does: search there, anchored, each start once.
        let mut tried = None;
        anchors.retain(|&(rule, end)| {
            let Some((min, max)) = self.opens[rule].filter(|_| !self.phrase[rule]) else {
                return true;
            };
            for len in (min..=max.min(end)).rev() {
                let start = end - len;
                if tried.is_some_and(|t| t >= (rule, start)) {
                    continue;
                }
                tried = Some((rule, start));
                let to = (start + self.windows[rule]).min(hay.len());
                let at = self.confirmers[rule].at_start(hay, start, to);
                out.extend(at.map(|at| RawMatch { rule, at }));
            }
            false
        });
        let reach = |rule: usize, end: usize| {
            let w = self.windows[rule];
            if self.phrase[rule] {
                (back_folded(hay, end, w), forward_folded(hay, end, w))
            } else {
                (
                    end.saturating_sub(self.back[rule]),
                    (end + w).min(hay.len()),
                )
            }
        };
        while k < anchors.len() {
            let (rule, end) = anchors[k];
            let (from, mut to) = reach(rule, end);
            k += 1;
            while k < anchors.len() && anchors[k].0 == rule {
                let (f, t) = reach(rule, anchors[k].1);
                if f > to {
                    break;
                }
                to = t;
                k += 1;
            }
            found.clear();
            self.confirmers[rule].search(hay, from, to, &mut found);
            out.extend(found.iter().map(|&at| RawMatch { rule, at }));
        }
    }
}

/// Most lengths an anchor that opens its rule's pattern may have: each is a start to try.
const MAX_ANCHOR_SPREAD: usize = 16;

/// Longest match a phrase rule reports, with each whitespace run counting one byte: phrases are
/// sentences, and a bound keeps the window searched around each anchor hit small.
pub const MAX_PHRASE_LEN: usize = 1024;

/// The derived anchor of a phrase rule and how far around a hit its match may reach.
fn phrase_anchor(pattern: &str) -> Option<(String, usize)> {
    let d = anchor::derive(pattern, anchor::PHRASE_MIN_LITERAL)?;
    Some((d.pattern(), phrase_reach(pattern)))
}

/// How far around an anchor hit a phrase rule's match may reach, each whitespace run counting
/// one byte: its longest match on the folded view, at most [`MAX_PHRASE_LEN`].
pub fn phrase_reach(pattern: &str) -> usize {
    anchor::max_len(&pattern_for_folded_view(pattern))
        .map_or(MAX_PHRASE_LEN, |m| m.min(MAX_PHRASE_LEN))
}

/// Start of the region that holds `reach` bytes before `end`, a whitespace run counting one.
fn back_folded(hay: &[u8], end: usize, reach: usize) -> usize {
    let mut i = end.min(hay.len());
    let mut n = 0;
    while i > 0 && n < reach {
        i -= 1;
        if is_ws(hay[i]) {
            while i > 0 && is_ws(hay[i - 1]) {
                i -= 1;
            }
        }
        n += 1;
    }
    i
}

/// End of the region that holds `reach` bytes after `end`, a whitespace run counting one.
fn forward_folded(hay: &[u8], end: usize, reach: usize) -> usize {
    let mut i = end.min(hay.len());
    let mut n = 0;
    while i < hay.len() && n < reach {
        if is_ws(hay[i]) {
            while i + 1 < hay.len() && is_ws(hay[i + 1]) {
                i += 1;
            }
        }
        i += 1;
        n += 1;
    }
    i
}

type Databases = [Option<Database>; 3];

fn load_cached(bytes: &[u8], key: &str) -> Option<Databases> {
    let (k, mut rest) = bytes.split_at_checked(key.len())?;
    if k != key.as_bytes() {
        return None;
    }
    let mut next = || -> Option<Option<Database>> {
        let (len, tail) = rest.split_at_checked(8)?;
        let len = u64::from_le_bytes(len.try_into().ok()?) as usize;
        let (db, tail) = tail.split_at_checked(len)?;
        rest = tail;
        if len == 0 {
            Some(None)
        } else {
            Database::deserialize(db).ok().map(Some)
        }
    };
    Some([next()?, next()?, next()?])
}

fn compile(
    rules: &[Rule],
    hs_rules: &[usize],
    patterns: &[(String, u32)],
) -> Result<Option<Database>> {
    if patterns.is_empty() {
        return Ok(None);
    }
    Database::compile(patterns).map(Some).map_err(|f| {
        let id = f
            .expression
            .and_then(|e| hs_rules.get(e))
            .map_or_else(|| "(database)".to_string(), |&i| rules[i].id.clone());
        EngineError::HyperscanCompile {
            id,
            message: f.message,
        }
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
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

    /// Reported spans of the generic rules on each path.
    fn generic_spans(m: &mut Matcher, rules: &[Rule], path: Path, hay: &[u8]) -> Spans {
        m.keyed_path = path;
        let mut found = Vec::new();
        m.find(hay, &mut found).expect("find");
        found
            .iter()
            .filter(|f| rules[f.rule].id.starts_with(GENERIC_PREFIX))
            .map(|f| (f.at.start, f.at.end))
            .collect()
    }

    #[test]
    fn generic_rules_find_the_same_on_every_path() {
        let rules = builtin_rules().expect("rules");
        let mut m = Matcher::new(&rules, None).expect("matcher");
        let generic: Vec<&Rule> = rules
            .iter()
            .filter(|r| r.id.starts_with(GENERIC_PREFIX))
            .collect();
        let mut texts: Vec<String> = generic
            .iter()
            .flat_map(|r| r.examples.iter().chain(&r.negative_examples).cloned())
            .collect();
        // A long text with the examples planted across the chunk edges (8, 24, 56 KiB...).
        let examples: Vec<&String> = generic.iter().flat_map(|r| &r.examples).collect();
        let mut long = String::new();
        let mut k = 0;
        for edge in [8usize << 10, 24 << 10, 56 << 10, 120 << 10] {
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
        long.push_str(&"api_key=".repeat(4000));
        let planted = generic_spans(&mut m, &rules, Path::Hyperscan, long.as_bytes());
        assert!(
            planted.len() >= 10,
            "{} found in the long text",
            planted.len()
        );
        texts.push(long);
        for text in &texts {
            let hay = text.as_bytes();
            let hyperscan = generic_spans(&mut m, &rules, Path::Hyperscan, hay);
            for path in [Path::Dfa, Path::HandOver, Path::Timed] {
                let other = generic_spans(&mut m, &rules, path, hay);
                assert_eq!(
                    other,
                    hyperscan,
                    "{path:?} on {:?}",
                    &text[..text.len().min(200)]
                );
            }
        }
    }

    #[test]
    fn split_rules_find_what_their_whole_pattern_finds() {
        let rules = builtin_rules().expect("rules");
        let m = Matcher::new(&rules, None).expect("matcher");
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
}
