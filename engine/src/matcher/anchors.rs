//! The second stage around anchor hits: anchored starts for rules that open with their
//! anchor, windows (a whitespace run counting one byte for phrase rules) for the rest.

use super::{Matcher, RawMatch};
use crate::anchor;
use crate::fold::{is_ws, pattern_for_folded_view};

impl Matcher {
    /// A match that contains an anchor ending at `end` lies within `window` bytes of it on
    /// either side: each rule's pattern is searched in those windows, merged where they touch.
    pub(super) fn search_around_anchors(
        &self,
        hay: &[u8],
        mut anchors: Vec<(usize, usize)>,
        out: &mut Vec<RawMatch>,
    ) {
        anchors.sort_unstable();
        let mut found = Vec::new();
        let mut k = 0;
        // Where the pattern opens with its anchor (and is no phrase), a match starts where an
        // anchor hit does: search there, anchored, each start once. Hits come in (rule, end)
        // order, so a start can only come again while it is within the anchor's longest
        // length of the hit: those are remembered.
        let mut tried_rule = usize::MAX;
        let mut tried: Vec<usize> = Vec::new();
        anchors.retain(|&(rule, end)| {
            let Some(lengths) = self.opens[rule].as_ref().filter(|_| !self.phrase[rule]) else {
                return true;
            };
            if rule != tried_rule {
                tried_rule = rule;
                tried.clear();
            }
            let longest = lengths.last().copied().unwrap_or(0);
            tried.retain(|&start| start + longest >= end);
            let first = self.open_first_bytes[rule];
            for &len in lengths.iter().rev().filter(|&&len| len <= end) {
                let start = end - len;
                if first.is_some_and(|set| !set.contains(hay[start])) || tried.contains(&start) {
                    continue;
                }
                tried.push(start);
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
            let from = reach(rule, end).0;
            k += 1;
            // The region runs on while the next hit's window touches it. Hits at most two
            // windows apart (in bytes, so also in folded bytes) touch without their windows
            // being worked out: dense hits (`instructions instructions …`) cost one step each,
            // not a walk of the window.
            let mut last = end;
            while k < anchors.len() && anchors[k].0 == rule {
                let next = anchors[k].1;
                if next - last > 2 * self.windows[rule] && reach(rule, next).0 > reach(rule, last).1
                {
                    break;
                }
                last = next;
                k += 1;
            }
            let to = reach(rule, last).1;
            found.clear();
            self.confirmers[rule].search(hay, from, to, &mut found);
            out.extend(found.iter().map(|&at| RawMatch { rule, at }));
        }
    }
}

/// Most lengths an anchor that opens its rule's pattern may have: each is a start to try.
pub(super) const MAX_ANCHOR_SPREAD: usize = 16;

/// Longest match a phrase rule reports, with each whitespace run counting one byte: phrases are
/// sentences, and a bound keeps the window searched around each anchor hit small.
pub const MAX_PHRASE_LEN: usize = 1024;

/// The derived anchor of a phrase rule and how far around a hit its match may reach.
pub(super) fn phrase_anchor(pattern: &str) -> Option<(String, usize)> {
    let d = anchor::derive(pattern, anchor::PHRASE_MIN_LITERAL)?;
    Some((d.pattern(), phrase_reach(pattern)))
}

/// How far around an anchor hit a phrase rule's match may reach, each whitespace run counting
/// one byte: its longest match on the folded view, at most `MAX_PHRASE_LEN` (1,024).
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
