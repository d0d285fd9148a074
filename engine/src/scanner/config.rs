//! What a [`crate::Scanner`](super::Scanner) is built from: [`ScannerConfig`] and its defaults, and the
//! names (rule ids, kinds) that policies and allowlists in it may use.

use std::collections::HashSet;

use super::{BUILTIN_CHECK_IDS, CLASSIFIER_KIND};
use crate::error::{EngineError, Result};
use crate::fingerprint::DEFAULT_FINGERPRINT_KEY;
use crate::input;
use crate::rule::Rule;
use crate::score::InjectionScores;
use crate::verdict::Policy;

/// Everything a [`crate::Scanner`] can be configured with. `Default` gives the built-in rules and
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
    /// A database serialized by an earlier run ([`crate::Scanner::serialized_database`]).
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
    /// Message texts: [`crate::Scanner::scan`] and every string of [`crate::Scanner::scan_json`], not the
    /// bulk bytes of [`crate::Scanner::scan_bytes`] (log files).
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

/// Every rule id and kind of the rule set (disabled rules included), and those of the
/// classifier and input validation: what policies and allowlists may name.
pub(super) struct Names {
    ids: HashSet<String>,
    kinds: HashSet<String>,
}

impl Names {
    pub(super) fn of(rules: &[Rule]) -> Self {
        let mut ids: HashSet<String> = rules.iter().map(|r| r.id.clone()).collect();
        let mut kinds: HashSet<String> = rules.iter().map(|r| r.kind.clone()).collect();
        ids.extend(BUILTIN_CHECK_IDS.map(String::from));
        kinds.extend(
            [
                CLASSIFIER_KIND,
                "content_too_large",
                crate::input::JSON_TOO_DEEP_KIND,
                "control_character",
            ]
            .map(String::from),
        );
        Names { ids, kinds }
    }

    pub(super) fn check_kind(&self, setting: &str, kind: &str) -> Result<()> {
        known(&self.kinds, setting, "kind", kind)
    }

    pub(super) fn check_rule(&self, setting: &str, id: &str) -> Result<()> {
        known(&self.ids, setting, "id", id)
    }
}

/// Ok when `names` holds `name`, else the error naming the `setting` it came from.
fn known(names: &HashSet<String>, setting: &str, what: &'static str, name: &str) -> Result<()> {
    if names.contains(name) {
        return Ok(());
    }
    Err(EngineError::UnknownName {
        setting: setting.into(),
        what,
        name: name.into(),
    })
}
