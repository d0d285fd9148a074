//! One injection score per text from its findings and signals, and the thresholds applied to it.

use super::{Scanner, CLASSIFIER_RULE_ID, DEFINITIONS, DEFINITION_WEIGHT};
use crate::rule::Category;
use crate::score::{self, InjectionScores, TextSignals};
use crate::verdict::{Action, Detection};

impl Scanner {
    /// Combines each text's injection findings into one score ([`crate::score`]) and applies
    /// the thresholds to them: the policy action from `reject` up, flag from `flag` up, not
    /// reported below `flag` or below the confidence floor. `text_of` gives the text a
    /// detection was found in. Returns the highest score.
    pub(super) fn score_injections<'t>(
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

        // The injection findings of each text (one text per pointer), texts in pointer order
        // and each text's findings in the order found: grouped once, so a document of
        // thousands of strings with a phrase each costs one pass, not one per string.
        let mut order: Vec<usize> = (0..detections.len())
            .filter(|&i| detections[i].category == Category::Injection)
            .collect();
        order.sort_by(|&a, &b| detections[a].pointer.cmp(&detections[b].pointer));
        let mut best: Option<f32> = None;
        let mut keep = vec![true; detections.len()];
        let texts: Vec<&[usize]> = order
            .chunk_by(|&a, &b| detections[a].pointer == detections[b].pointer)
            .collect();
        for text in texts {
            let signals = text_of(&detections[text[0]])
                .map(TextSignals::of)
                .unwrap_or_default();
            let findings = text.iter().map(|&i| &detections[i]);
            let Some(score) = score::combine_signals(findings, signals, |d| {
                // The classifier reads a definition's words to the model as the rules that
                // address the model do: one signal, not two.
                if definition
                    && (self.model_addressed.contains(&d.rule_id)
                        || d.rule_id == CLASSIFIER_RULE_ID)
                {
                    "addresses_the_model"
                } else {
                    d.rule_id.as_str()
                }
            }) else {
                continue;
            };
            best = Some(best.map_or(score, |b| b.max(score)));
            let InjectionScores { flag, reject } = self.injection_scores;
            for &i in text {
                if score < self.min_confidence {
                    keep[i] = false;
                } else if score >= reject {
                    continue;
                } else if score >= flag {
                    let d = &mut detections[i];
                    d.action = d.action.min(Action::Flag);
                    d.score_cap = Some(Action::Flag);
                } else {
                    keep[i] = false;
                }
            }
        }
        let mut keep = keep.into_iter();
        detections.retain(|_| keep.next().unwrap_or(true));
        best
    }
}
