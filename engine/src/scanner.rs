//! The library's front door: [`Scanner`] turns text or JSON into a [`Verdict`].
//!
//! bytes → input validation → matcher (Hyperscan + gates) → second stage → validators and
//! placeholder check → overlap resolution → allowlist → policy → verdict.

mod bridge;

use std::collections::{HashMap, HashSet};

use crate::allowlist::{Allowlists, CallScope};
use crate::classify::Classifier;
use crate::decode::{self, Blob};
use crate::error::{EngineError, Result};
use crate::escapes;
use crate::fingerprint::{Fingerprinter, DEFAULT_FINGERPRINT_KEY};
use crate::input::{self, Problem};
use crate::json::Joined;
use crate::matcher::{Matcher, RawMatch};
use crate::normalise;
use crate::percent;
use crate::redact;
use crate::rule::{builtin_rules, Category, Rule, ValidatorKind};
use crate::score::{self, InjectionScores, TextSignals};
use crate::validate::{self, placeholder};
use crate::verdict::{Action, Detection, Policy, Verdict};

/// Everything a [`Scanner`] can be configured with. `Default` gives the built-in rules and
/// the documented defaults.
#[derive(Clone, Debug)]
pub struct ScannerConfig {
    pub policy: Policy,
    /// Findings below this confidence are not reported (placeholders sit at 0.3).
    pub min_confidence: f32,
    /// Byte cap per text or message.
    pub max_bytes: usize,
    /// Leave the built-in rules and the built-in classifier out (only `extra_rules` then).
    pub no_builtin_rules: bool,
    /// Rule ids to switch off.
    pub disabled_rules: Vec<String>,
    /// Rules from users' files, added to the built-in set.
    pub extra_rules: Vec<Rule>,
    /// Fingerprints and rule ids whose findings are accepted and never reported.
    pub allow_fingerprints: Vec<String>,
    pub allow_rules: Vec<String>,
    /// The HMAC key of finding fingerprints; the default is public (see [`crate::Fingerprinter`]).
    pub fingerprint_key: Vec<u8>,
    /// A database serialized by an earlier run ([`Scanner::serialized_database`]).
    pub cached_database: Option<Vec<u8>>,
    /// Which texts get the deep scan: the injection classifier and the decoding layers.
    pub deep_scan: DeepScan,
    /// Probability at or above which the classifier reports; `None`: the model's own.
    pub classifier_threshold: Option<f32>,
    /// Combined injection score at which findings are flagged, and at which the injection
    /// policy applies ([`crate::score`]).
    pub injection_scores: InjectionScores,
}

/// Which texts get the deep scan: the injection classifier ([`crate::classify`]) and the
/// decoding layers ([`crate::decode`]). Rules always run on everything.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeepScan {
    Off,
    /// Message texts: [`Scanner::scan`] and every string of [`Scanner::scan_json`], not the
    /// bulk bytes of [`Scanner::scan_bytes`] (log files).
    #[default]
    Messages,
    /// Everything, log bytes included.
    All,
}

impl std::str::FromStr for DeepScan {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "off" | "false" | "none" => Ok(DeepScan::Off),
            "messages" | "on" | "true" => Ok(DeepScan::Messages),
            "all" => Ok(DeepScan::All),
            other => Err(format!(
                "unknown classifier scope {}: expected off, messages or all",
                crate::error::shown_value(other)
            )),
        }
    }
}

impl Default for ScannerConfig {
    fn default() -> Self {
        ScannerConfig {
            policy: Policy::default(),
            min_confidence: 0.5,
            max_bytes: input::DEFAULT_MAX_BYTES,
            no_builtin_rules: false,
            disabled_rules: Vec::new(),
            extra_rules: Vec::new(),
            allow_fingerprints: Vec::new(),
            allow_rules: Vec::new(),
            fingerprint_key: DEFAULT_FINGERPRINT_KEY.to_vec(),
            cached_database: None,
            deep_scan: DeepScan::default(),
            classifier_threshold: None,
            injection_scores: InjectionScores::default(),
        }
    }
}

/// How much of the deep scan a text gets.
#[derive(Clone, Copy)]
enum Depth {
    Rules,
    /// The decoding layers only (no classifier, no normalised view).
    Decode,
    Full,
}

/// Compiled rules and settings. `Send + Sync`: build one per process and share it.
pub struct Scanner {
    rules: Vec<Rule>,
    matcher: Matcher,
    policy: Policy,
    min_confidence: f32,
    max_bytes: usize,
    allowlists: Allowlists,
    fingerprinter: Fingerprinter,
    classifier: Option<Classifier>,
    /// Deep scan of message texts, and of bulk bytes too.
    deep: bool,
    deep_bulk: bool,
    injection_scores: InjectionScores,
    names: Names,
    /// Rules that speak to the model (`addresses_the_model`).
    model_addressed: HashSet<String>,
    /// Whether control characters are reported: off when their rule id is disabled or
    /// allowed (minified code and terminal logs hold them legitimately).
    control_characters: bool,
}

/// The rule id of the control-character check, which may be disabled or allowed like a rule.
const CONTROL_RULE_ID: &str = "validation.control_character";

/// The rule ids of the checks that are not rules (the classifier, input validation): no user
/// rule may take one.
pub const BUILTIN_CHECK_IDS: [&str; 3] =
    [CLASSIFIER_RULE_ID, "validation.max_bytes", CONTROL_RULE_ID];

/// Every rule id and kind of the rule set (disabled rules included), and those of the
/// classifier and input validation: what policies and allowlists may name.
struct Names {
    ids: HashSet<String>,
    kinds: HashSet<String>,
}

impl Names {
    fn of(rules: &[Rule]) -> Self {
        let mut ids: HashSet<String> = rules.iter().map(|r| r.id.clone()).collect();
        let mut kinds: HashSet<String> = rules.iter().map(|r| r.kind.clone()).collect();
        ids.extend(BUILTIN_CHECK_IDS.map(String::from));
        kinds.extend([CLASSIFIER_KIND, "content_too_large", "control_character"].map(String::from));
        Names { ids, kinds }
    }

    fn check_kind(&self, setting: &str, kind: &str) -> Result<()> {
        if self.kinds.contains(kind) {
            return Ok(());
        }
        Err(EngineError::UnknownName {
            setting: setting.into(),
            what: "kind",
            name: kind.into(),
        })
    }

    fn check_rule(&self, setting: &str, id: &str) -> Result<()> {
        if self.ids.contains(id) {
            return Ok(());
        }
        Err(EngineError::UnknownName {
            setting: setting.into(),
            what: "id",
            name: id.into(),
        })
    }
}

/// Whether an object key names something secret enough that its value is scanned again as
/// `"key": "value"` ([`Scanner::keyed_values`]).
fn names_a_secret(key: &[u8]) -> bool {
    const WORDS: &[&[u8]] = &[
        b"pass",
        b"pwd",
        b"secret",
        b"token",
        b"key",
        b"auth",
        b"credential",
        b"cookie",
        b"session",
        b"bearer",
        b"private",
        b"signature",
        b"dsn",
        b"conn",
    ];
    key.len() <= 64
        && WORDS
            .iter()
            .any(|w| key.windows(w.len()).any(|k| k.eq_ignore_ascii_case(w)))
}

/// What a finding of a rule that speaks to the model, or of the classifier, counts for in a
/// definition a server lists ([`Scanner::scan_definition_json_allowing`]).
pub const DEFINITION_WEIGHT: f32 = 0.5;

thread_local! {
    /// Whether this thread is scanning a server's definitions.
    static DEFINITIONS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Kind of the rules that order data sent away; a prohibition before one is a warning.
const EXFILTRATION_KIND: &str = "injection_exfiltration";

/// Kind of the rules for instructions hidden in tool descriptions and results.
const TOOL_POISONING_KIND: &str = "tool_poisoning";

/// Rule id and kind of the classifier's findings.
pub const CLASSIFIER_RULE_ID: &str = "classifier.injection";
pub const CLASSIFIER_KIND: &str = "injection_classifier";
/// How much of the text on each side of a match its validator sees.
const CONTEXT: usize = 256;

/// A finding before policy: rule index, reported span, confidence.
#[derive(Clone, Copy, Debug)]
struct Finding {
    rule: usize,
    start: usize,
    end: usize,
    confidence: f32,
}

impl Scanner {
    pub fn new(mut config: ScannerConfig) -> Result<Self> {
        let cached = config.cached_database.take();
        Self::with_cached_database(config, cached.as_deref())
    }

    /// As [`Scanner::new`], with the database serialized by an earlier run borrowed (a
    /// memory-mapped cache file needs no copy) instead of `config.cached_database`.
    pub fn with_cached_database(config: ScannerConfig, cached: Option<&[u8]>) -> Result<Self> {
        let mut rules = if config.no_builtin_rules {
            Vec::new()
        } else {
            builtin_rules()?
        };
        if let Some(r) = config
            .extra_rules
            .iter()
            .find(|r| BUILTIN_CHECK_IDS.contains(&r.id.as_str()))
        {
            return Err(EngineError::Rule {
                id: r.id.clone(),
                source_name: "user rules".into(),
                message: "this id names a built-in check (its allowlist and disable settings would act on both); rename the rule".into(),
            });
        }
        rules.extend(config.extra_rules);
        let mut ids = HashSet::new();
        for r in &rules {
            if !ids.insert(r.id.as_str()) {
                return Err(EngineError::Rule {
                    id: r.id.clone(),
                    source_name: "rule set".into(),
                    message: "two rules share this id; rename the user rule".into(),
                });
            }
        }
        for id in &config.disabled_rules {
            if !ids.contains(id.as_str()) && id != CLASSIFIER_RULE_ID && id != CONTROL_RULE_ID {
                return Err(EngineError::UnknownRuleId(id.clone()));
            }
        }
        // The classifier goes by its rule id too.
        let classifier_off = config
            .disabled_rules
            .iter()
            .any(|id| id == CLASSIFIER_RULE_ID);
        let names = Names::of(&rules);
        for kind in config.policy.kinds.keys() {
            names.check_kind("policy_kinds", kind)?;
        }
        for id in &config.allow_rules {
            names.check_rule("allow_rules", id)?;
        }
        let disabled: HashSet<&str> = config.disabled_rules.iter().map(String::as_str).collect();
        let rules: Vec<Rule> = rules
            .into_iter()
            .filter(|r| !disabled.contains(r.id.as_str()))
            .map(|mut r| {
                // `=name` is compared with the whole key, any other word found inside it.
                r.reject_context.iter_mut().for_each(|w| {
                    *w = match w.strip_prefix('=') {
                        Some(whole) => format!("={}", key_letters(whole.as_bytes())),
                        None => key_letters(w.as_bytes()),
                    }
                });
                r
            })
            .collect();
        let InjectionScores { flag, reject } = config.injection_scores;
        if !(0.0..=1.0).contains(&flag) || !(flag..=1.0).contains(&reject) {
            return Err(EngineError::Setting(format!(
                "injection scores: need 0 <= flag ({flag}) <= reject ({reject}) <= 1"
            )));
        }
        let matcher = Matcher::new(&rules, cached)?;
        let classifier = match config.deep_scan {
            _ if config.no_builtin_rules || classifier_off => None,
            DeepScan::Off => None,
            _ => {
                let mut c = Classifier::builtin().map_err(|e| EngineError::Rule {
                    id: CLASSIFIER_RULE_ID.into(),
                    source_name: "built-in model".into(),
                    message: e.to_string(),
                })?;
                if let Some(t) = config.classifier_threshold {
                    c.threshold = t;
                }
                Some(c)
            }
        };
        let control_characters = !config.disabled_rules.iter().any(|id| id == CONTROL_RULE_ID)
            && !config.allow_rules.iter().any(|id| id == CONTROL_RULE_ID);
        Ok(Scanner {
            control_characters,
            model_addressed: rules
                .iter()
                .filter(|r| r.addresses_the_model)
                .map(|r| r.id.clone())
                .collect(),
            classifier,
            deep: config.deep_scan != DeepScan::Off,
            deep_bulk: config.deep_scan == DeepScan::All,
            rules,
            matcher,
            policy: config.policy,
            min_confidence: config.min_confidence,
            max_bytes: config.max_bytes,
            allowlists: Allowlists::new(config.allow_rules, config.allow_fingerprints),
            fingerprinter: Fingerprinter::new(&config.fingerprint_key),
            injection_scores: config.injection_scores,
            names,
        })
    }

    /// Checks a kind named in a policy (`setting` says where) against every rule's kind.
    pub fn check_kind(&self, setting: &str, kind: &str) -> Result<()> {
        self.names.check_kind(setting, kind)
    }

    /// Checks a rule id named in an allowlist (`setting` says where) against every rule.
    pub fn check_rule(&self, setting: &str, id: &str) -> Result<()> {
        self.names.check_rule(setting, id)
    }

    /// Whether the injection classifier is in force (deep scan on, not disabled).
    pub fn has_classifier(&self) -> bool {
        self.classifier.is_some()
    }

    /// The rules in force, in database order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The compiled Hyperscan database with its key, for a start-up cache.
    pub fn serialized_database(&self) -> Option<Vec<u8>> {
        self.matcher.serialized()
    }

    /// Whether the databases were loaded from the cached bytes given to the constructor (false:
    /// none given, another rule set's, or unreadable, and they were compiled).
    pub fn loaded_from_cache(&self) -> bool {
        self.matcher.loaded_from_cache()
    }

    pub fn database_bytes(&self) -> usize {
        self.matcher.database_bytes()
    }

    /// Scans one message text: rules, and the deep scan (classifier, decoding) unless it is off.
    pub fn scan(&self, text: &str) -> Result<Verdict> {
        let depth = if self.deep { Depth::Full } else { Depth::Rules };
        self.scan_with(text.as_bytes(), depth, false)
    }

    /// Scans bulk bytes (any encoding; rules are byte patterns), such as a chunk of a log file:
    /// the deep scan runs with [`DeepScan::All`]; with [`DeepScan::Messages`], bytes that hold a
    /// Kubernetes Secret (whose values are base64 by definition) are decoded. A chunk is not
    /// one text, so each injection finding must reach the confidence floor on its own.
    pub fn scan_bytes(&self, bytes: &[u8]) -> Result<Verdict> {
        let depth = if self.deep_bulk {
            Depth::Full
        } else if self.deep && decode::holds_kubernetes_secret(bytes) {
            Depth::Decode
        } else {
            Depth::Rules
        };
        self.scan_with(bytes, depth, true)
    }

    fn scan_with(&self, bytes: &[u8], depth: Depth, bulk: bool) -> Result<Verdict> {
        // A control character is reported and the text is still scanned, so nothing it hides
        // goes unseen; only an input over the byte cap is refused unread.
        let mut detections = Vec::new();
        match input::validate(bytes, self.max_bytes) {
            Some(p @ Problem::TooLarge { .. }) => return Ok(self.validation_verdict(p, None)),
            Some(p) if self.control_characters => {
                detections.push(self.validation_detection(p, None))
            }
            Some(_) => {}
            None => {}
        }
        let findings = self.find(bytes)?;
        detections.extend(
            findings
                .into_iter()
                .filter_map(|f| self.detection(f, &bytes[f.start..f.end], None, Vec::new())),
        );
        match depth {
            Depth::Full => {
                let known: Vec<&Detection> = detections.iter().collect();
                let found = self.deep_scan(bytes, &known)?;
                detections.extend(found);
            }
            Depth::Decode => {
                let known: Vec<&Detection> = detections.iter().collect();
                let found = self.decoded(bytes, &known)?;
                detections.extend(found);
            }
            Depth::Rules => {}
        }
        if bulk {
            detections.retain(|d| {
                d.category != Category::Injection || d.confidence >= self.min_confidence
            });
        }
        let score = self.score_injections(&mut detections, |_| Some(bytes));
        Ok(Verdict::from_detections(detections).with_injection_score(score))
    }

    /// Seconds each matcher stage takes on `bytes`, then input validation; for the
    /// `stage_cost` example, not a stable API.
    #[doc(hidden)]
    pub fn stage_times(&self, bytes: &[u8]) -> Result<Vec<(&'static str, f64)>> {
        let mut times = self.matcher.stage_times(bytes)?;
        let t = std::time::Instant::now();
        std::hint::black_box(input::validate(bytes, self.max_bytes));
        times.push(("input validation", t.elapsed().as_secs_f64()));
        let t = std::time::Instant::now();
        std::hint::black_box(self.find(bytes)?);
        times.push(("whole find", t.elapsed().as_secs_f64()));
        Ok(times)
    }

    /// The byte cap per text or message.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// The confidence floor: a finding under it is reported only as part of an injection score
    /// that reaches it.
    pub fn min_confidence(&self) -> f32 {
        self.min_confidence
    }

    /// Values stored under a key that names a secret (`{"password": "…"}`). The joined buffer
    /// has a line break between a key and its value, where key-value rules want `:` or `=`:
    /// each such pair is scanned again as `"key": "value"`, and what is found inside the value
    /// is reported there (unless the main pass found it already).
    fn keyed_values(&self, joined: &Joined, known: &[Detection]) -> Result<Vec<Detection>> {
        let segs = &joined.segments;
        let mut buf = Vec::new();
        // (offset of the value in `buf`, its segment)
        let mut values: Vec<(usize, usize)> = Vec::new();
        for (k, v) in joined.key_value_pairs() {
            let key = &joined.buf[segs[k].start..segs[k].start + segs[k].len];
            if !names_a_secret(key) {
                continue;
            }
            let value = &joined.buf[segs[v].start..segs[v].start + segs[v].len];
            buf.push(b'"');
            buf.extend_from_slice(key);
            buf.extend_from_slice(b"\": \"");
            values.push((buf.len(), v));
            buf.extend_from_slice(value);
            buf.extend_from_slice(b"\"\n");
        }
        let mut out = Vec::new();
        if values.is_empty() {
            return Ok(out);
        }
        for f in self.find(&buf)? {
            let Some(i) = values
                .partition_point(|&(at, _)| at <= f.start)
                .checked_sub(1)
            else {
                continue;
            };
            let (at, v) = values[i];
            let seg = &segs[v];
            if f.end > at + seg.len {
                continue;
            }
            let (s, mut e) = (f.start - at, f.end - at);
            // A secret taken from the value's start is the value: the whole string goes, where
            // the rule's own end (at a quote, space or comma, as in text) would leave a tail.
            // The fingerprint stays the match's, which allowlists compare.
            if s == 0 && self.rules[f.rule].category == Category::Secret {
                e = seg.len;
            }
            // Seen only when a finding of the rule already covers it: the main pass may have
            // found the same rule on a part of the value (`AKIA…` at the head of a password),
            // and the whole value must still go.
            let rule = &self.rules[f.rule].id;
            let seen = known.iter().chain(&out).any(|d: &Detection| {
                d.rule_id == *rule
                    && d.pieces
                        .iter()
                        .any(|&(o, a, b)| o == seg.ordinal && a <= s && e <= b)
            });
            if seen {
                continue;
            }
            let pieces = vec![(seg.ordinal, s, e)];
            if let Some(mut d) =
                self.detection(f, &buf[f.start..f.end], Some(joined.pointer(v)), pieces)
            {
                d.span = (s, e);
                out.push(d);
            }
        }
        Ok(out)
    }

    /// Whether allowlists (rule ids, fingerprints) are set: some findings are then silenced.
    pub fn has_allowlists(&self) -> bool {
        !self.allowlists.is_empty()
    }

    /// [`Scanner::scan_json`] with more allowlisted rule ids and fingerprints for this call (a
    /// server's or a tool's own): dropped before overlaps are resolved, like the scanner's.
    pub fn scan_json_allowing<'a>(
        &self,
        json: &[u8],
        rules: impl IntoIterator<Item = &'a String>,
        fingerprints: impl IntoIterator<Item = &'a String>,
    ) -> Result<Verdict> {
        let more = Allowlists::new(
            rules.into_iter().cloned(),
            fingerprints.into_iter().cloned(),
        );
        if more.is_empty() {
            return self.scan_json(json);
        }
        let _scope = CallScope::more(more);
        self.scan_json(json)
    }

    /// [`Scanner::scan_json_allowing`] for the definitions a server lists (`tools/list`,
    /// `prompts/list`, `resources/list`): they are written for the model, so findings of
    /// rules that speak to the model (`addresses_the_model`) and the classifier's count at
    /// [`DEFINITION_WEIGHT`] of their confidence, and cannot reject a definition on their own
    /// at the default thresholds; beside another injection finding they still add to its
    /// score.
    pub fn scan_definition_json_allowing<'a>(
        &self,
        json: &[u8],
        rules: impl IntoIterator<Item = &'a String>,
        fingerprints: impl IntoIterator<Item = &'a String>,
    ) -> Result<Verdict> {
        struct Reset;
        impl Drop for Reset {
            fn drop(&mut self) {
                DEFINITIONS.with(|d| d.set(false));
            }
        }
        DEFINITIONS.with(|d| d.set(true));
        let _reset = Reset;
        self.scan_json_allowing(json, rules, fingerprints)
    }

    /// [`Scanner::scan`] with the allowlists set aside (see [`Scanner::scan_json_ignoring_allowlists`]).
    pub fn scan_ignoring_allowlists(&self, text: &str) -> Result<Verdict> {
        let _scope = CallScope::off();
        self.scan(text)
    }

    /// [`Scanner::scan_json`] with the allowlists set aside: for what must never hold a
    /// secret even when it was accepted (an audit trail's logged arguments).
    pub fn scan_json_ignoring_allowlists(&self, json: &[u8]) -> Result<Verdict> {
        let _scope = CallScope::off();
        self.scan_json(json)
    }

    /// Scans every string of a JSON document, keys and values, in one engine call. Spans are
    /// byte offsets into the decoded string named by each detection's pointer.
    pub fn scan_json(&self, json: &[u8]) -> Result<Verdict> {
        if json.len() > self.max_bytes {
            return Ok(self.validation_verdict(
                Problem::TooLarge {
                    len: json.len(),
                    max: self.max_bytes,
                },
                None,
            ));
        }
        let mut joined = Joined::parse(json)?;
        let buf = &joined.buf;
        let mut detections = Vec::new();
        // The string of the control-character finding, to name it again if its key is masked.
        let mut control_segment = None;
        if let Some(at) = input::first_control_character(buf).filter(|_| self.control_characters) {
            let seg = joined.segment_at(at).unwrap_or(0);
            control_segment = Some(seg);
            let local = at - joined.segments.get(seg).map_or(0, |s| s.start);
            let pointer = (!joined.segments.is_empty()).then(|| joined.pointer(seg));
            detections.push(self.validation_detection(
                Problem::ControlCharacter {
                    at: local,
                    byte: buf[at],
                },
                pointer,
            ));
        }
        let findings = self.find(buf)?;
        for f in findings {
            let Some(first) = joined.segment_at(f.start) else {
                continue;
            };
            let mut pieces = Vec::new();
            let mut seg = first;
            while let Some(s) = joined.segments.get(seg) {
                if s.start >= f.end {
                    break;
                }
                let (a, b) = (f.start.max(s.start), f.end.min(s.start + s.len));
                if a < b {
                    pieces.push((s.ordinal, a - s.start, b - s.start));
                }
                seg += 1;
            }
            let Some(&(_, s0, e0)) = pieces.first() else {
                continue;
            };
            let mut d =
                self.detection(f, &buf[f.start..f.end], Some(joined.pointer(first)), pieces);
            if let Some(d) = d.as_mut() {
                d.span = (s0, e0);
            }
            detections.extend(d);
        }
        let keyed = self.keyed_values(&joined, &detections)?;
        detections.extend(keyed);
        let bridged = self.bridged_phrases(&joined, &detections)?;
        detections.extend(bridged);
        if self.deep {
            // The rules' findings by the string they are in, so each string's deep scan sees
            // its own; a string's pointer is only built when something is found in it.
            let mut by_string: HashMap<usize, Vec<usize>> = HashMap::new();
            for (i, d) in detections.iter().enumerate() {
                for &(ordinal, _, _) in &d.pieces {
                    by_string.entry(ordinal).or_default().push(i);
                }
            }
            let mut found_all = Vec::new();
            for (k, seg) in joined.segments.iter().enumerate() {
                let text = &buf[seg.start..seg.start + seg.len];
                let known: Vec<&Detection> = by_string
                    .get(&seg.ordinal)
                    .map(|ix| ix.iter().map(|&i| &detections[i]).collect())
                    .unwrap_or_default();
                let found = self.deep_scan(text, &known)?;
                if found.is_empty() {
                    continue;
                }
                let pointer = joined.pointer(k);
                for mut d in found {
                    d.pointer = Some(pointer.clone());
                    d.pieces = vec![(seg.ordinal, d.span.0, d.span.1)];
                    found_all.push(d);
                }
            }
            detections.extend(found_all);
        }
        // A key that holds a secret or personal data is written as `[REDACTED:<kind>]` in
        // every pointer (the pointers of the detections in it and under it): a pointer goes to
        // the audit trail and to reports, where the matched bytes never go.
        let secret_keys: Vec<(usize, String)> = detections
            .iter()
            .filter(|d| matches!(d.category, Category::Secret | Category::Pii))
            .filter_map(|d| d.pieces.first().map(|&(seg, _, _)| (seg, d.kind.clone())))
            .filter(|&(seg, _)| joined.segments.get(seg).is_some_and(|s| s.is_key))
            .collect();
        if !secret_keys.is_empty() {
            for (seg, kind) in &secret_keys {
                joined.mask_key(*seg, &format!("[REDACTED:{kind}]"));
            }
            for d in &mut detections {
                let seg = match d.pieces.first() {
                    Some(&(seg, _, _)) => Some(seg),
                    None if d.category == Category::Validation => control_segment,
                    None => None,
                };
                if let (Some(seg), Some(_)) = (seg, &d.pointer) {
                    d.pointer = Some(joined.pointer(seg));
                }
            }
        }
        let buf = &joined.buf;
        // A detection's first piece is in the string its pointer names.
        let text_of = |d: &Detection| {
            let &(ordinal, _, _) = d.pieces.first()?;
            let seg = joined.segments.get(ordinal)?;
            Some(&buf[seg.start..seg.start + seg.len])
        };
        let score = self.score_injections(&mut detections, text_of);
        Ok(Verdict::from_detections(detections).with_injection_score(score))
    }

    /// Every confirmed finding of every rule in `text`, above the confidence floor (injection
    /// findings under it too: they count towards a score) and before overlapping findings are
    /// resolved: (rule id, start, end, confidence). For rule checks.
    pub fn explain(&self, text: &[u8]) -> Result<Vec<(String, usize, usize, f32)>> {
        Ok(self
            .confirmed(text)?
            .into_iter()
            .map(|f| (self.rules[f.rule].id.clone(), f.start, f.end, f.confidence))
            .collect())
    }

    /// Checks every rule's examples and negative examples against this scanner: each example
    /// must be found by its rule, no negative example may be. Returns one line per failure.
    pub fn check_examples(&self) -> Result<Vec<String>> {
        // Found means found at the confidence floor: an injection finding under it only
        // counts towards a score.
        let reported = |confidence: f32| confidence >= self.min_confidence;
        let mut problems = Vec::new();
        for rule in &self.rules {
            if rule.examples.is_empty() {
                problems.push(format!("{}: has no examples", rule.id));
            }
            for ex in &rule.examples {
                let found = self.explain(ex.as_bytes())?;
                if !found.iter().any(|f| f.0 == rule.id && reported(f.3)) {
                    problems.push(format!("{}: example not found: {ex:?}", rule.id));
                }
            }
            for ex in &rule.negative_examples {
                let found = self.explain(ex.as_bytes())?;
                if found.iter().any(|f| f.0 == rule.id && reported(f.3)) {
                    problems.push(format!("{}: negative example found: {ex:?}", rule.id));
                }
            }
        }
        Ok(problems)
    }

    /// `text` with the detections whose policy is redact replaced by `[REDACTED:<kind>]`.
    pub fn redact_text(&self, text: &[u8], verdict: &Verdict) -> Vec<u8> {
        redact::redact_text(text, &verdict.detections)
    }

    /// `json` (the document `verdict` came from) with the same redactions applied inside its
    /// strings; the result is valid JSON and every other byte is unchanged.
    pub fn redact_json(&self, json: &[u8], verdict: &Verdict) -> Vec<u8> {
        redact::redact_json(json, &verdict.detections)
    }

    /// [`Scanner::redact_text`] of every detection, whatever its policy: for text kept where
    /// no policy applies (a log, an audit trail).
    pub fn redact_text_all(&self, text: &[u8], verdict: &Verdict) -> Vec<u8> {
        redact::redact_text_where(text, &verdict.detections, |_| true)
    }

    /// [`Scanner::redact_json`] of every detection, whatever its policy.
    pub fn redact_json_all(&self, json: &[u8], verdict: &Verdict) -> Vec<u8> {
        redact::redact_json_where(json, &verdict.detections, |_| true)
    }

    /// The bytes each of `detections` matched in `json` (the document they came from), decoded
    /// as they were scanned; a match across strings gives its pieces joined by a space. `None`
    /// for a detection with no place in the document (a validation failure).
    pub fn matched_json(&self, json: &[u8], detections: &[Detection]) -> Vec<Option<Vec<u8>>> {
        redact::matched_json(json, detections)
    }

    /// The deep scan of one message text: the classifier, the normalised view and the decoding
    /// layers. `known` are the findings the rules already made in this text, not reported
    /// twice. Detections come back without a pointer: the caller names the text.
    fn deep_scan(&self, text: &[u8], known: &[&Detection]) -> Result<Vec<Detection>> {
        let mut out: Vec<Detection> = Vec::new();
        // The normalised view only of the regions that call for it (a long text with one
        // look-alike word gets a view of a few KB around it).
        for (from, to) in normalise::regions(text) {
            let part = &text[from..to];
            let view = normalise::normalise(part);
            // Only a view that differs from the text beyond ASCII case needs scanning again
            // (the view itself is lower case).
            if !view.text.eq_ignore_ascii_case(part) {
                let map = |(s, e): (usize, usize)| {
                    (
                        from + view.original(s),
                        from + view.original_end(e, part.len()),
                    )
                };
                // Only injection findings are taken from the view: its other rules are not run.
                for f in self.find_with(&view.text, true)? {
                    let rule = &self.rules[f.rule];
                    let span = map((f.start, f.end));
                    let seen = known
                        .iter()
                        .any(|d| d.rule_id == rule.id && d.span.0 < span.1 && span.0 < d.span.1);
                    if rule.category != Category::Injection || seen {
                        continue;
                    }
                    let value = &view.text[f.start..f.end];
                    if let Some(mut d) = self.detection(f, value, None, Vec::new()) {
                        d.span = span;
                        // Seen once inline markup was dropped, and nothing else changed:
                        // formatting (`**Note:**`), not an evasion.
                        let how = if view.beyond_markup {
                            "normalised"
                        } else {
                            "markup"
                        };
                        d.encoding = Some(how.into());
                        out.push(d);
                    }
                }
                if let Some(mut d) = view
                    .beyond_markup
                    .then(|| self.classify(&view.text))
                    .flatten()
                {
                    d.span = map(d.span);
                    d.encoding = Some("normalised".into());
                    out.push(d);
                }
            }
        }
        if !out.iter().any(|d| d.rule_id == CLASSIFIER_RULE_ID) {
            out.extend(self.classify(text));
        }
        out.extend(self.decoded(text, known)?);
        Ok(out)
    }

    /// Findings inside the encoded blobs of `text`, decoded up to [`decode::MAX_DEPTH`] layers
    /// deep, with the chain of encodings, e.g. `base64>percent`. A finding in a base64 or hex
    /// blob is reported at that blob's whole span (redacting it removes the blob); one in a
    /// region of escapes at the escapes and bytes it was decoded from. A finding whose bytes
    /// stand as they are in `text` is left to the rules' own pass.
    fn decoded(&self, text: &[u8], known: &[&Detection]) -> Result<Vec<Detection>> {
        let mut out = Vec::new();
        if !decode::worth_a_look(text) {
            return Ok(out);
        }
        // Every blob decoded so far with the blob it was found in (none: in `text`) and its
        // chain of encodings; `layer` holds the indices of the newest.
        let mut nodes: Vec<(Blob, Option<usize>, String)> = decode::blobs(text)
            .into_iter()
            .map(|b| {
                let chain = b.encoding.as_str().to_string();
                (b, None, chain)
            })
            .collect();
        // A span in node `n`'s decoded bytes as a span of `text`.
        let in_text = |nodes: &[(Blob, Option<usize>, String)], mut n: usize, s, e| {
            let (mut s, mut e) = (s, e);
            loop {
                let (blob, parent, _) = &nodes[n];
                (s, e) = blob.span_in_text(s, e);
                match parent {
                    Some(p) => n = *p,
                    None => return (s, e),
                }
            }
        };
        let mut layer: Vec<usize> = (0..nodes.len()).collect();
        for depth in 1..=decode::MAX_DEPTH {
            if layer.is_empty() {
                break;
            }
            // One engine call per layer, whatever the number of blobs: their decoded texts
            // joined by newlines, each finding given to the blob it starts in.
            let mut joined = Vec::new();
            let mut starts = Vec::with_capacity(layer.len());
            for &n in &layer {
                starts.push(joined.len());
                joined.extend_from_slice(&nodes[n].0.decoded);
                joined.push(b'\n');
            }
            for f in self.find(&joined)? {
                let k = starts.partition_point(|&s| s <= f.start) - 1;
                let n = layer[k];
                let len = nodes[n].0.decoded.len();
                let (s, e) = (f.start - starts[k], (f.end - starts[k]).min(len));
                let span = in_text(&nodes, n, s, e);
                let value = &joined[f.start..f.end];
                // The rules' own pass already reported it there. (Bytes that stand as they are
                // in the text are not enough: `%22ghp_…` hides the token from `\bghp_` in the
                // text, and only the decoded `"ghp_…` shows it.) Only a finding that covers it
                // does: a key whose head stands as it is and whose tail is escaped
                // (`sk_live_51Hx…%41%42…`) was matched on its head alone, and the escaped tail
                // must go too.
                let id = &self.rules[f.rule].id;
                if known
                    .iter()
                    .any(|d| d.rule_id == *id && d.span.0 <= span.0 && span.1 <= d.span.1)
                {
                    continue;
                }
                if let Some(mut d) = self.detection(f, value, None, Vec::new()) {
                    d.span = span;
                    d.encoding = Some(nodes[n].2.clone());
                    out.push(d);
                }
            }
            let mut next = Vec::new();
            for &n in &layer {
                if let Some(mut d) = self.classify(&nodes[n].0.decoded) {
                    d.span = in_text(&nodes, n, d.span.0, d.span.1);
                    d.encoding = Some(nodes[n].2.clone());
                    out.push(d);
                }
                if depth < decode::MAX_DEPTH {
                    for inner in decode::blobs(&nodes[n].0.decoded) {
                        let chain = format!("{}>{}", nodes[n].2, inner.encoding.as_str());
                        next.push((inner, Some(n), chain));
                    }
                }
            }
            layer = (nodes.len()..nodes.len() + next.len()).collect();
            nodes.extend(next);
        }
        Ok(out)
    }

    /// The classifier's finding for one text, if its score reaches the threshold (without a
    /// pointer: the caller names the text).
    fn classify(&self, text: &[u8]) -> Option<Detection> {
        let c = self.classifier.as_ref()?;
        let (p, (s, e)) = c.score(text)?;
        if p < c.threshold || self.allowlists.has_rule(CLASSIFIER_RULE_ID) {
            return None;
        }
        let fingerprint = self.fingerprinter.fingerprint(&text[s..e]);
        if self.allowlists.has_fingerprint(&fingerprint) {
            return None;
        }
        Some(Detection {
            rule_id: CLASSIFIER_RULE_ID.into(),
            category: Category::Injection,
            kind: CLASSIFIER_KIND.into(),
            confidence: p,
            span: (s, e),
            pointer: None,
            fingerprint,
            action: self.policy.action_for(Category::Injection, CLASSIFIER_KIND),
            encoding: None,
            pieces: Vec::new(),
            score_cap: None,
        })
    }

    /// Combines each text's injection findings into one score ([`crate::score`]) and applies
    /// the thresholds to them: the policy action from `reject` up, flag from `flag` up, not
    /// reported below `flag` or below the confidence floor. `text_of` gives the text a
    /// detection was found in. Returns the highest score.
    fn score_injections<'t>(
        &self,
        detections: &mut Vec<Detection>,
        text_of: impl Fn(&Detection) -> Option<&'t [u8]>,
    ) -> Option<f32> {
        // In a definition, what speaks to the model counts for less, and the rules that
        // speak to it and the classifier are one signal (they often match the same words).
        let definition = DEFINITIONS.with(std::cell::Cell::get);
        if definition {
            for d in detections.iter_mut().filter(|d| {
                d.category == Category::Injection
                    && (d.rule_id == CLASSIFIER_RULE_ID
                        || self.model_addressed.contains(&d.rule_id))
            }) {
                d.confidence *= DEFINITION_WEIGHT;
            }
        }

        let mut texts: Vec<Option<String>> = detections
            .iter()
            .filter(|d| d.category == Category::Injection)
            .map(|d| d.pointer.clone())
            .collect();
        texts.sort();
        texts.dedup();
        let mut best: Option<f32> = None;
        let mut keep = vec![true; detections.len()];
        for pointer in texts {
            let mine = |d: &Detection| d.category == Category::Injection && d.pointer == pointer;
            let signals = detections
                .iter()
                .find(|d| mine(d))
                .and_then(&text_of)
                .map(TextSignals::of)
                .unwrap_or_default();
            let Some(score) =
                score::combine_signals(detections.iter().filter(|d| mine(d)), signals, |d| {
                    // The classifier reads a definition's words to the model as the rules
                    // that address the model do: one signal, not two.
                    if definition
                        && (self.model_addressed.contains(&d.rule_id)
                            || d.rule_id == CLASSIFIER_RULE_ID)
                    {
                        "addresses_the_model"
                    } else {
                        d.rule_id.as_str()
                    }
                })
            else {
                continue;
            };
            best = Some(best.map_or(score, |b| b.max(score)));
            let InjectionScores { flag, reject } = self.injection_scores;
            for (d, keep) in detections.iter_mut().zip(keep.iter_mut()) {
                if !mine(d) {
                    continue;
                }
                if score < self.min_confidence {
                    *keep = false;
                } else if score >= reject {
                    continue;
                } else if score >= flag {
                    d.action = d.action.min(Action::Flag);
                    d.score_cap = Some(Action::Flag);
                } else {
                    *keep = false;
                }
            }
        }
        let mut keep = keep.into_iter();
        detections.retain(|_| keep.next().unwrap_or(true));
        best
    }

    fn validation_verdict(&self, problem: Problem, pointer: Option<String>) -> Verdict {
        Verdict::from_detections(vec![self.validation_detection(problem, pointer)])
    }

    fn validation_detection(&self, problem: Problem, pointer: Option<String>) -> Detection {
        let (rule_id, kind, span) = match problem {
            Problem::TooLarge { len, .. } => {
                ("validation.max_bytes", "content_too_large", (0, len))
            }
            Problem::ControlCharacter { at, .. } => {
                (CONTROL_RULE_ID, "control_character", (at, at + 1))
            }
        };
        Detection {
            rule_id: rule_id.into(),
            category: Category::Validation,
            kind: kind.into(),
            confidence: 1.0,
            span,
            pointer,
            fingerprint: String::new(),
            action: self.policy.action_for(Category::Validation, kind),
            encoding: None,
            pieces: Vec::new(),
            score_cap: None,
        }
    }

    fn detection(
        &self,
        f: Finding,
        value: &[u8],
        pointer: Option<String>,
        pieces: Vec<(usize, usize, usize)>,
    ) -> Option<Detection> {
        let rule = &self.rules[f.rule];
        // Allowlisted findings never get here: [`Scanner::find`] drops them.
        let fingerprint = self.fingerprinter.fingerprint(value);
        Some(Detection {
            rule_id: rule.id.clone(),
            category: rule.category,
            kind: rule.kind.clone(),
            confidence: f.confidence,
            span: (f.start, f.end),
            pointer,
            fingerprint,
            action: self.policy.action_for(rule.category, &rule.kind),
            encoding: None,
            pieces,
            score_cap: None,
        })
    }

    /// Matcher, validators, confidence floor, overlap resolution.
    /// Allowlisted findings go before overlaps are resolved: one that would have won an
    /// overlap must not take the findings it overlaps with it.
    fn find(&self, hay: &[u8]) -> Result<Vec<Finding>> {
        self.find_with(hay, false)
    }

    /// [`Scanner::find`] of the injection rules alone (`phrases_only`), or of every rule.
    fn find_with(&self, hay: &[u8], phrases_only: bool) -> Result<Vec<Finding>> {
        let mut findings = self.confirmed_with(hay, phrases_only)?;
        self.allowlists.retain(
            &mut findings,
            |f| &self.rules[f.rule].id,
            |f| self.fingerprinter.fingerprint(&hay[f.start..f.end]),
        );
        Ok(resolve_overlaps(&self.rules, &mut findings))
    }

    /// Matcher, then validators and the confidence floor; overlaps not yet resolved.
    /// Escaped control characters (`\n` in a JSON log line read as text) are matched as the
    /// characters they stand for ([`escapes`]); offsets are those of `hay`.
    fn confirmed(&self, hay: &[u8]) -> Result<Vec<Finding>> {
        self.confirmed_with(hay, false)
    }

    fn confirmed_with(&self, hay: &[u8], phrases_only: bool) -> Result<Vec<Finding>> {
        let hay = escapes::with_escaped_controls(hay);
        let hay = &hay[..];
        let mut raw: Vec<RawMatch> = Vec::new();
        if phrases_only {
            self.matcher.find_phrases(hay, &mut raw)?;
        } else {
            self.matcher.find(hay, &mut raw)?;
        }
        let mut found: Vec<Finding> = raw
            .into_iter()
            .filter_map(|m| self.confirm(hay, m))
            .collect();
        if !phrases_only {
            found.extend(self.tokens_after_escapes(hay)?);
        }
        // An injection finding under the floor may still count towards its text's score (an
        // override aimed at a message, next to an order to send a key): the floor is applied
        // to that score instead ([`Scanner::score_injections`]).
        found.retain(|f| {
            f.confidence >= self.min_confidence
                || self.rules[f.rule].category == Category::Injection
        });
        Ok(found)
    }

    /// Findings that start right after a percent-escaped delimiter ([`percent`]): the tokens
    /// are matched again in windows around them (neighbouring windows merged, so dense input
    /// costs at most a second pass), the escapes' hex digits read as spaces, and a match kept
    /// only where it starts at one of those tokens (what else a window holds the first pass
    /// has seen).
    fn tokens_after_escapes(&self, hay: &[u8]) -> Result<Vec<Finding>> {
        let mut out = Vec::new();
        let tokens = percent::escaped_tokens(hay);
        let mut i = 0;
        while i < tokens.len() {
            let from = tokens[i].0.saturating_sub(CONTEXT);
            let mut to = (tokens[i].1 + CONTEXT).min(hay.len());
            let mut j = i + 1;
            while j < tokens.len() && tokens[j].0.saturating_sub(CONTEXT) <= to {
                to = (tokens[j].1 + CONTEXT).min(hay.len());
                j += 1;
            }
            let starts: Vec<usize> = tokens[i..j].iter().map(|t| t.0 - from).collect();
            let mut window = hay[from..to].to_vec();
            for &s in &starts {
                window[s - 2] = b' ';
                window[s - 1] = b' ';
            }
            let mut raw = Vec::new();
            self.matcher.find(&window, &mut raw)?;
            out.extend(
                raw.into_iter()
                    .filter(|m| starts.binary_search(&m.at.start).is_ok())
                    .filter_map(|m| self.confirm(&window, m))
                    .map(|f| Finding {
                        start: f.start + from,
                        end: f.end + from,
                        ..f
                    }),
            );
            i = j;
        }
        Ok(out)
    }

    fn confirm(&self, hay: &[u8], mut m: RawMatch) -> Option<Finding> {
        let rule = &self.rules[m.rule];
        if let Some(v) = rule.validator {
            // A validator may end the span sooner than the pattern did (an IBAN's pattern can
            // take the short word after it as a last group), or drop it.
            m.at.end = m.at.start + validate::span_len(v, &hay[m.at.start..m.at.end])?;
            m.at.match_end = m.at.match_end.min(m.at.end).max(m.at.start);
        }
        let span = &hay[m.at.start..m.at.end];
        if !rule.reject_context.is_empty() {
            // The key name may begin before the match (`csrf_` in `csrf_token=`): take the
            // identifier characters just before it too.
            let mut from = m.at.match_start;
            while from > 0
                && m.at.match_start - from < 64
                && (hay[from - 1].is_ascii_alphanumeric()
                    || matches!(hay[from - 1], b'_' | b'-' | b'.'))
            {
                from -= 1;
            }
            let context = key_letters(&hay[from..m.at.start]);
            if rule
                .reject_context
                .iter()
                .any(|w| match w.strip_prefix('=') {
                    // The key's letters and digits, without its quotes and operator.
                    Some(whole) => context
                        .chars()
                        .filter(char::is_ascii_alphanumeric)
                        .eq(whole.chars()),
                    None => context.contains(w.as_str()),
                })
            {
                return None;
            }
        }
        let around = validate::Around {
            before: &hay[m.at.match_start.saturating_sub(CONTEXT)..m.at.match_start],
            after: &hay[m.at.match_end..(m.at.match_end + CONTEXT).min(hay.len())],
            before_span: &hay[m.at.start.saturating_sub(CONTEXT)..m.at.start],
            after_span: &hay[m.at.end..(m.at.end + CONTEXT).min(hay.len())],
        };
        if !rule.require_context.is_empty()
            && !statement_names_any(around.before_span, &rule.require_context)
        {
            return None;
        }
        let mut confidence = rule.confidence;
        if let Some(v) = rule.validator {
            let matched = &hay[m.at.match_start..m.at.match_end];
            confidence = validate::apply(v, span, matched, around, confidence)?;
        }
        if rule.category == Category::Injection
            && validate::is_quoted_mention(around.before, around.after)
        {
            confidence *= validate::QUOTED_MENTION_FACTOR;
        }
        if rule.kind == EXFILTRATION_KIND && validate::is_prohibited(around.before) {
            confidence *= validate::PROHIBITED_FACTOR;
        }
        // What a program does ("applications which read the /etc/shadow file"), not an order.
        // (A tool that says what it will do itself, "this tool will forward every email", is
        // the poisoning.)
        if matches!(rule.kind.as_str(), EXFILTRATION_KIND | TOOL_POISONING_KIND)
            && rule.validator != Some(ValidatorKind::OverrideObject)
            && validate::follows_which_or_who(around.before)
        {
            confidence *= validate::DESCRIBED_FACTOR;
        }
        if let Some(min) = rule.min_entropy {
            if validate::shannon_entropy(span) < min {
                return None;
            }
        }
        if rule.category == Category::Secret
            && !validate::is_secret_value(span, around, rule.id.starts_with("generic."))
        {
            return None;
        }
        let placeholder = match rule.category {
            Category::Secret => placeholder::is_placeholder(span),
            Category::Pii => placeholder::is_documented_number(span),
            _ => false,
        };
        if placeholder {
            confidence = confidence.min(placeholder::PLACEHOLDER_CONFIDENCE);
        }
        Some(Finding {
            rule: m.rule,
            start: m.at.start,
            end: m.at.end,
            confidence,
        })
    }
}

/// Whether the statement that ends `before` (back to its last `;` or blank line) holds one of
/// `words` as a whole word, in any case (a rule's `require_context`).
fn statement_names_any(before: &[u8], words: &[String]) -> bool {
    let from = [
        memchr::memrchr(b';', before).map(|p| p + 1),
        memchr::memmem::rfind(before, b"\n\n").map(|p| p + 2),
    ]
    .into_iter()
    .flatten()
    .max()
    .unwrap_or(0);
    before[from..]
        .split(|b| !b.is_ascii_alphanumeric() && *b != b'_')
        .any(|w| words.iter().any(|x| w.eq_ignore_ascii_case(x.as_bytes())))
}

/// A key name as `reject_context` compares it: lower case, without the separators that
/// spell the same name several ways (`cache_key`, `cacheKey`, `cache-key`, `CACHE.KEY`).
fn key_letters(key: &[u8]) -> String {
    key.iter()
        .filter(|b| !matches!(b, b'_' | b'-' | b'.'))
        .map(|b| b.to_ascii_lowercase() as char)
        .collect()
}

/// Within a category, overlapping findings are one finding: the most confident names it (ties
/// go to the longer span, then the rule earlier in the catalogue), and the same rule's
/// overlapping matches merge. For secrets and personal data it covers both spans, so what the
/// other rule matched past it (a password value that merely contains a key's shape) is
/// redacted too; an injection finding keeps its own phrase. The order the matcher found them
/// in plays no part.
fn resolve_overlaps(rules: &[Rule], findings: &mut [Finding]) -> Vec<Finding> {
    findings.sort_by_key(|f| {
        (
            rules[f.rule].category,
            f.start,
            std::cmp::Reverse(f.end),
            f.rule,
        )
    });
    let mut out: Vec<Finding> = Vec::with_capacity(findings.len());
    for f in findings.iter().copied() {
        match out.last_mut() {
            Some(last)
                if rules[last.rule].category == rules[f.rule].category && f.start < last.end =>
            {
                let better = last.rule != f.rule
                    && (f.confidence > last.confidence
                        || (f.confidence == last.confidence
                            && (f.end - f.start) > (last.end - last.start)));
                let union = (last.start, last.end.max(f.end));
                let same_rule = last.rule == f.rule;
                if better {
                    *last = f;
                }
                if same_rule || rules[last.rule].category != Category::Injection {
                    (last.start, last.end) = union;
                }
            }
            _ => out.push(f),
        }
    }
    out.sort_by_key(|f| (f.start, f.end));
    out
}
