//! The library's front door: [`Scanner`] turns text or JSON into a [`Verdict`].
//!
//! bytes → input validation → matcher (Hyperscan + gates) → second stage → validators and
//! placeholder check → overlap resolution → allowlist → policy → verdict.
//!
//! Here: building a [`Scanner`] and scanning text. `config` holds what it is built from,
//! `findings` the first pass up to overlap resolution, `json` the scan of a document (with
//! `keyed` values and `bridge`d phrases across members), `deep` the deep scan of message texts,
//! `scoring` the injection score per text.

mod bridge;
mod config;
mod deep;
mod findings;
mod json;
mod keyed;
mod known;
mod scoring;

use std::collections::HashSet;

use crate::allowlist::{Allowlists, CallScope};
use crate::classify::Classifier;
use crate::decode;
use crate::error::{EngineError, Result};
use crate::fingerprint::{self, Fingerprinter};
use crate::input::{self, Problem};
use crate::matcher::Matcher;
use crate::redact;
use crate::rule::{builtin_rules, Category, Rule};
use crate::score::InjectionScores;
use crate::verdict::{Detection, Policy, Verdict};

use config::Names;
pub use config::{DeepScan, ScannerConfig};
use findings::{key_letters, Finding};

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
pub const BUILTIN_CHECK_IDS: [&str; 4] = [
    CLASSIFIER_RULE_ID,
    "validation.max_bytes",
    "validation.max_depth",
    CONTROL_RULE_ID,
];

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
        let mut fingerprints = fingerprint::Memo::new(&self.fingerprinter);
        detections.reserve(findings.len());
        detections.extend(findings.into_iter().filter_map(|f| {
            self.detection(
                f,
                &bytes[f.start..f.end],
                &mut fingerprints,
                None,
                Vec::new(),
            )
        }));
        match depth {
            Depth::Full => {
                let known: Vec<&Detection> = detections.iter().collect();
                let found = self.deep_scan(bytes, &known)?;
                detections.extend(found);
            }
            Depth::Decode => {
                let found = self.decoded(bytes, &known::KnownSpans::of(&detections))?;
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
        let t = std::time::Instant::now();
        std::hint::black_box(self.scan_bytes(bytes)?);
        times.push(("scan (with detections)", t.elapsed().as_secs_f64()));
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
    /// `DEFINITION_WEIGHT` of their confidence, and cannot reject a definition on their own
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

    fn validation_verdict(&self, problem: Problem, pointer: Option<String>) -> Verdict {
        Verdict::from_detections(vec![self.validation_detection(problem, pointer)])
    }

    fn validation_detection(&self, problem: Problem, pointer: Option<String>) -> Detection {
        let (rule_id, kind, span) = match problem {
            Problem::TooLarge { len, .. } => {
                ("validation.max_bytes", "content_too_large", (0, len))
            }
            Problem::TooDeep { len, .. } => {
                ("validation.max_depth", input::JSON_TOO_DEEP_KIND, (0, len))
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

    /// `fingerprints`: the memo of the caller's run of findings ([`fingerprint::Memo`]).
    fn detection<'v>(
        &self,
        f: Finding,
        value: &'v [u8],
        fingerprints: &mut fingerprint::Memo<'_, 'v>,
        pointer: Option<String>,
        pieces: Vec<(usize, usize, usize)>,
    ) -> Option<Detection> {
        let rule = &self.rules[f.rule];
        // Allowlisted findings never get here: [`Scanner::find`] drops them.
        let fingerprint = fingerprints.fingerprint(value);
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
}
