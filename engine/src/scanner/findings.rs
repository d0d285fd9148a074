//! Findings before policy: matcher hits confirmed by the second stage, validators, context
//! checks and placeholders, allowlisted ones dropped, overlapping ones resolved.

use super::{Scanner, EXFILTRATION_KIND, TOOL_POISONING_KIND};
use crate::error::Result;
use crate::escapes;
use crate::matcher::RawMatch;
use crate::percent;
use crate::rule::{Category, Rule, ValidatorKind};
use crate::validate::{self, placeholder};

/// How much of the text on each side of a match its validator sees.
const CONTEXT: usize = 256;

/// A finding before policy: rule index, reported span, confidence.
#[derive(Clone, Copy, Debug)]
pub(super) struct Finding {
    pub(super) rule: usize,
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) confidence: f32,
}

impl Scanner {
    /// Matcher, validators, confidence floor, overlap resolution.
    /// Allowlisted findings go before overlaps are resolved: one that would have won an
    /// overlap must not take the findings it overlaps with it.
    pub(super) fn find(&self, hay: &[u8]) -> Result<Vec<Finding>> {
        self.find_with(hay, false)
    }

    /// [`Scanner::find`] of the injection rules alone (`phrases_only`), or of every rule.
    pub(super) fn find_with(&self, hay: &[u8], phrases_only: bool) -> Result<Vec<Finding>> {
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
    pub(super) fn confirmed(&self, hay: &[u8]) -> Result<Vec<Finding>> {
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
pub(super) fn key_letters(key: &[u8]) -> String {
    key.iter()
        .filter(|b| !matches!(b, b'_' | b'-' | b'.'))
        .map(|b| b.to_ascii_lowercase() as char)
        .collect()
}

/// Offsets and rule indices in the packed sort keys of [`resolve_overlaps`] take 42 bits (a
/// rule index 40): far above the engine's byte cap and rule count.
const MASK_42: u128 = (1 << 42) - 1;

/// Within a category, overlapping findings are one finding: the most confident names it (ties
/// go to the longer span, then the rule earlier in the catalogue), and the same rule's
/// overlapping matches merge. For secrets and personal data it covers both spans, so what the
/// other rule matched past it (a password value that merely contains a key's shape) is
/// redacted too; an injection finding keeps its own phrase. The order the matcher found them
/// in plays no part.
fn resolve_overlaps(rules: &[Rule], findings: &mut [Finding]) -> Vec<Finding> {
    // Whole keys packed into integers. Of two matches of one rule on one span (their contexts
    // may differ), the more confident comes first and names the finding.
    let category = |f: &Finding| rules[f.rule].category as u128;
    sort_nearly_sorted(findings, |f| {
        (
            category(f) << 126
                | (f.start as u128) << 84
                | (!(f.end as u128) & MASK_42) << 42
                | f.rule as u128,
            std::cmp::Reverse(f.confidence.to_bits()),
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
    sort_nearly_sorted(&mut out, |f| {
        (f.start as u128) << 84 | (f.end as u128) << 42 | category(f) << 40 | f.rule as u128
    });
    out
}

/// How far back [`sort_nearly_sorted`] moves one element before it sorts the rest the usual
/// way.
const NEARLY: usize = 8;

/// Sorts `v` by `key`. Findings come in the order their stage found them, by where they end,
/// so in a dense text most are already in place or a step or two from it (a shorter match of
/// one rule before the longer one that starts where it does): insertion there costs a compare
/// or two each, where a general sort of 262,144 findings took 10 ms. Input further out of
/// order (findings of several stages) goes to the standard library's sort from where that
/// shows.
fn sort_nearly_sorted<K: Ord>(v: &mut [Finding], key: impl Fn(&Finding) -> K) {
    for i in 1..v.len() {
        let k = key(&v[i]);
        if key(&v[i - 1]) <= k {
            continue;
        }
        let mut j = i - 1;
        while j > 0 && i - j < NEARLY && key(&v[j - 1]) > k {
            j -= 1;
        }
        if j > 0 && key(&v[j - 1]) > k {
            v.sort_unstable_by_key(key);
            return;
        }
        v[j..=i].rotate_right(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::builtin_rules;

    #[test]
    fn one_rule_on_one_span_keeps_its_most_confident_match_whatever_the_order() {
        let rules = builtin_rules().expect("rules");
        let at = |confidence| Finding {
            rule: 0,
            start: 10,
            end: 20,
            confidence,
        };
        for mut found in [vec![at(0.4), at(0.9)], vec![at(0.9), at(0.4)]] {
            let kept = resolve_overlaps(&rules, &mut found);
            assert_eq!(kept.len(), 1);
            assert_eq!(kept[0].confidence, 0.9);
        }
    }

    #[test]
    fn nearly_sorted_findings_sort_as_the_standard_sort_does() {
        let mut next = crate::test_support::picker(0x9E37_79B9_7F4A_7C15u64);
        let finding = |start: usize, len: usize, rule: usize| Finding {
            rule,
            start,
            end: start + len,
            confidence: 0.5,
        };
        // A longer and a shorter match at each start, the shorter first (a phrase found at
        // two ends); every element a step or two out of place; runs of several stages;
        // random order; too short to sort.
        let inputs: Vec<Vec<Finding>> = vec![
            (0..500)
                .flat_map(|i| [finding(32 * i, 23, 1), finding(32 * i, 31, 1)])
                .collect(),
            (0..500).map(|i| finding(i + next(3), 5, next(4))).collect(),
            (0..3)
                .flat_map(|_| (0..300).map(|i| finding(10 * i, 8, 2)))
                .collect(),
            (0..500)
                .map(|_| finding(next(10_000), 1 + next(50), next(7)))
                .collect(),
            vec![finding(5, 1, 0)],
            Vec::new(),
        ];
        let key = |f: &Finding| (f.start, std::cmp::Reverse(f.end), f.rule);
        for mut v in inputs {
            let mut expected = v.clone();
            expected.sort_unstable_by_key(key);
            sort_nearly_sorted(&mut v, key);
            assert_eq!(
                v.iter().map(key).collect::<Vec<_>>(),
                expected.iter().map(key).collect::<Vec<_>>()
            );
        }
    }
}
