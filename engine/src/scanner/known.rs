//! The findings already made in a text, by rule (and for JSON by string), for the question
//! the later passes (deep scan, keyed values, phrases across members) ask of each finding
//! they make: "was
//! this found before?". Answered by a binary search, where a walk over every known finding
//! made a text with thousands of findings and thousands of encoded blobs (or member
//! boundaries) cost their product.

use std::collections::HashMap;
use std::hash::Hash;

use crate::verdict::Detection;

/// One key's spans sorted by start, and the furthest end among the spans up to each one.
type Sorted = (Vec<(usize, usize)>, Vec<usize>);

/// Spans by key (a rule id; for JSON a rule id and a string), [`Sorted`], and the spans a
/// pass adds as it goes (its own findings, few), looked at one by one.
pub(super) struct KnownSpans<K> {
    by_key: HashMap<K, Sorted>,
    added: HashMap<K, Vec<(usize, usize)>>,
}

impl<'a> KnownSpans<&'a str> {
    /// The spans of `detections` by rule id.
    pub(super) fn of(detections: impl IntoIterator<Item = &'a Detection>) -> Self {
        Self::new(detections.into_iter().map(|d| (d.rule_id.as_str(), d.span)))
    }
}

impl<'a> KnownSpans<(&'a str, usize)> {
    /// The pieces of JSON `detections` by rule id and string ordinal.
    pub(super) fn of_pieces(detections: &'a [Detection]) -> Self {
        Self::new(detections.iter().flat_map(|d| {
            d.pieces
                .iter()
                .map(|&(o, a, b)| ((d.rule_id.as_str(), o), (a, b)))
        }))
    }
}

impl<K: Hash + Eq> KnownSpans<K> {
    pub(super) fn new(spans: impl IntoIterator<Item = (K, (usize, usize))>) -> Self {
        let mut by_key: HashMap<K, Vec<(usize, usize)>> = HashMap::new();
        for (key, span) in spans {
            by_key.entry(key).or_default().push(span);
        }
        let by_key = by_key
            .into_iter()
            .map(|(key, mut spans)| {
                spans.sort_unstable();
                let furthest = spans
                    .iter()
                    .scan(0, |max, &(_, e)| {
                        *max = e.max(*max);
                        Some(*max)
                    })
                    .collect();
                (key, (spans, furthest))
            })
            .collect();
        KnownSpans {
            by_key,
            added: HashMap::new(),
        }
    }

    /// Adds a span of `key`, found after the build.
    pub(super) fn add(&mut self, key: K, span: (usize, usize)) {
        self.added.entry(key).or_default().push(span);
    }

    fn added_any(&self, key: &K, test: impl Fn((usize, usize)) -> bool) -> bool {
        self.added
            .get(key)
            .is_some_and(|spans| spans.iter().any(|&s| test(s)))
    }

    /// The furthest end among `key`'s spans that start before `start` (or at it, with
    /// `inclusive`).
    fn furthest_end_before(&self, key: &K, start: usize, inclusive: bool) -> Option<usize> {
        let (spans, furthest) = self.by_key.get(key)?;
        let n = spans.partition_point(|&(s, _)| s < start || (inclusive && s == start));
        n.checked_sub(1).map(|i| furthest[i])
    }

    /// Whether a span of `key` overlaps `span`.
    pub(super) fn overlaps(&self, key: &K, span: (usize, usize)) -> bool {
        self.furthest_end_before(key, span.1, false)
            .is_some_and(|e| e > span.0)
            || self.added_any(key, |(a, b)| a < span.1 && span.0 < b)
    }

    /// Whether a span of `key` covers `span`.
    pub(super) fn covers(&self, key: &K, span: (usize, usize)) -> bool {
        self.furthest_end_before(key, span.0, true)
            .is_some_and(|e| e >= span.1)
            || self.added_any(key, |(a, b)| a <= span.0 && span.1 <= b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_as_a_walk_over_every_span_would() {
        let mut next = crate::test_support::picker(0x2545_F491_4F6C_DD1Du64);
        let rules = ["a", "b", "c"];
        let spans: Vec<(&str, (usize, usize))> = (0..200)
            .map(|_| {
                let s = next(1000);
                (rules[next(3)], (s, s + next(40)))
            })
            .collect();
        let detections: Vec<Detection> = spans
            .iter()
            .map(|&(rule, span)| Detection {
                rule_id: rule.into(),
                category: crate::rule::Category::Injection,
                kind: "k".into(),
                confidence: 1.0,
                span,
                pointer: None,
                fingerprint: String::new(),
                action: crate::verdict::Action::Flag,
                encoding: None,
                pieces: Vec::new(),
                score_cap: None,
            })
            .collect();
        let refs: Vec<&Detection> = detections.iter().collect();
        // Half built at once, half added after: the answers are the same.
        let (built, later) = refs.split_at(refs.len() / 2);
        let mut known = KnownSpans::of(built.iter().copied());
        for d in later {
            known.add(d.rule_id.as_str(), d.span);
        }
        for _ in 0..5000 {
            let (rule, s) = (rules[next(3)], next(1050));
            let span = (s, s + next(60));
            let overlaps = spans
                .iter()
                .any(|&(r, (a, b))| r == rule && a < span.1 && span.0 < b);
            let covers = spans
                .iter()
                .any(|&(r, (a, b))| r == rule && a <= span.0 && span.1 <= b);
            assert_eq!(known.overlaps(&rule, span), overlaps, "{rule} {span:?}");
            assert_eq!(known.covers(&rule, span), covers, "{rule} {span:?}");
        }
        assert!(!known.covers(&"d", (0, 1)));
    }
}
