//! What a scan returns: detections, the policy that turns them into an action, and the verdict.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::rule::Category;

/// What to do about a detection. Ordered by severity: the verdict takes the most severe.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    #[default]
    Allow,
    Flag,
    Redact,
    Reject,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Flag => "flag",
            Action::Redact => "redact",
            Action::Reject => "reject",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Action {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "allow" => Ok(Action::Allow),
            "flag" => Ok(Action::Flag),
            "redact" => Ok(Action::Redact),
            "reject" => Ok(Action::Reject),
            other => Err(format!(
                "unknown action {other:?}: expected one of flag, redact, reject (or allow)"
            )),
        }
    }
}

/// Per-category actions with per-kind overrides.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Policy {
    pub pii: Action,
    pub secret: Action,
    pub injection: Action,
    pub validation: Action,
    /// Overrides by detection kind, e.g. `credit_card = "redact"`.
    pub kinds: BTreeMap<String, Action>,
}

/// Kinds handled more strictly than their category by default: payment cards are PII (as the
/// corpora label them) but redacted, as the reference did (it filed them under secrets). A
/// stricter category policy applies to them too; a per-kind setting replaces the floor.
const KIND_FLOORS: &[(&str, Action)] = &[("credit_card", Action::Redact)];

/// `action` (a category's) for a finding of `kind`: raised to the kind's default floor.
pub fn with_kind_floor(kind: &str, action: Action) -> Action {
    KIND_FLOORS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(action, |&(_, floor)| action.max(floor))
}

impl Default for Policy {
    /// pii flag, secrets redact, injection reject, validation reject; no per-kind overrides
    /// (payment cards are redacted through [`with_kind_floor`]).
    fn default() -> Self {
        Policy {
            pii: Action::Flag,
            secret: Action::Redact,
            injection: Action::Reject,
            validation: Action::Reject,
            kinds: BTreeMap::new(),
        }
    }
}

impl Policy {
    pub fn action_for(&self, category: Category, kind: &str) -> Action {
        if let Some(a) = self.kinds.get(kind) {
            return *a;
        }
        with_kind_floor(
            kind,
            match category {
                Category::Pii => self.pii,
                Category::Secret => self.secret,
                Category::Injection => self.injection,
                Category::Validation => self.validation,
            },
        )
    }
}

/// One finding. `span` is a byte range: into the scanned text, or for JSON into the decoded
/// string named by `pointer`. Never holds the matched bytes; `fingerprint` identifies them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    pub rule_id: String,
    pub category: Category,
    pub kind: String,
    pub confidence: f32,
    pub span: (usize, usize),
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    pub fingerprint: String,
    pub action: Action,
    /// For a finding inside encoded text: the chain of encodings it was found under, outermost
    /// first (`base64`, `base64>percent`); `span` then covers the outermost encoded blob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// For JSON: the (string ordinal, start, end) pieces this detection covers, used by
    /// redaction. A match that runs across neighbouring strings has several.
    #[serde(skip)]
    pub(crate) pieces: Vec<(usize, usize, usize)>,
    /// For an injection finding whose text scored below `injection_reject_score`: the
    /// strongest action its score allows (flag), which a policy set elsewhere must not exceed.
    #[serde(skip)]
    pub score_cap: Option<Action>,
}

/// The outcome of one scan.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Verdict {
    /// False only when `action` is reject.
    pub allowed: bool,
    pub action: Action,
    /// `pii_detected`, `secret_detected`, `injection_flagged`, `validation_failed`: one per
    /// category found, in the reference's names.
    pub flags: Vec<String>,
    pub detections: Vec<Detection>,
    /// The highest combined injection score of the scanned texts ([`crate::score`]), when
    /// any injection was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub injection_score: Option<f32>,
}

impl Verdict {
    /// The verdict for these detections: the most severe action, one flag per category.
    pub fn from_detections(detections: Vec<Detection>) -> Self {
        let action = detections
            .iter()
            .map(|d| d.action)
            .max()
            .unwrap_or(Action::Allow);
        let mut flags: Vec<String> = Vec::new();
        for d in &detections {
            let flag = match d.category {
                Category::Pii => "pii_detected",
                Category::Secret => "secret_detected",
                Category::Injection => "injection_flagged",
                Category::Validation => "validation_failed",
            };
            if !flags.iter().any(|f| f == flag) {
                flags.push(flag.to_string());
            }
        }
        Verdict {
            allowed: action != Action::Reject,
            action,
            flags,
            detections,
            injection_score: None,
        }
    }

    /// This verdict with its injection score set.
    pub fn with_injection_score(mut self, score: Option<f32>) -> Self {
        self.injection_score = score;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cards_are_redacted_by_default_and_a_stricter_pii_policy_applies_to_them() {
        let mut p = Policy::default();
        assert_eq!(p.action_for(Category::Pii, "credit_card"), Action::Redact);
        assert_eq!(p.action_for(Category::Pii, "email"), Action::Flag);
        p.pii = Action::Reject;
        assert_eq!(p.action_for(Category::Pii, "credit_card"), Action::Reject);
        p.kinds.insert("credit_card".into(), Action::Flag);
        assert_eq!(p.action_for(Category::Pii, "credit_card"), Action::Flag);
    }
}
