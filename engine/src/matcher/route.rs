//! Where each rule goes: its own anchor, a derived phrase anchor, the folded view, the raw
//! database (split at its value or whole), or a byte gate, with what parsing its pattern tells
//! the first pass. Worked out per rule on several threads, since parsing some 600 patterns is
//! most of start-up; [`super::Matcher::new`] then puts the engines together in rule order.

use super::anchors::{phrase_anchor, phrase_reach, MAX_ANCHOR_SPREAD};
use crate::anchor;
use crate::fold::pattern_for_folded_view;
use crate::rule::{Category, Gate, Rule};
use crate::split::{ByteSet, Split};
use crate::threads;

/// Which engine a rule goes to, and what its first pass needs to know of it: everything that
/// parsing its pattern tells. A pure function of the rule, worked out for all rules on several
/// threads ([`routes`]): parsing some 600 patterns is most of start-up. Kept in the start-up
/// cache ([`super::cache`]), so a warm start parses none.
#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub(super) enum Route {
    /// Its own `anchor` in the raw database: the pattern's longest match, the anchor's
    /// longest match with the lengths it can have (a start to try for each) when the pattern
    /// opens with it, and for a phrase rule its reach.
    Anchored {
        longest: Option<usize>,
        opens: Option<Opening>,
        phrase_reach: Option<usize>,
    },
    /// A phrase rule with a derived anchor: that anchor and the rule's reach around it.
    Derived { anchor: String, reach: usize },
    /// A phrase rule matched whole on the folded view: its pattern for that view.
    Folded(String),
    /// Any other Hyperscan rule: split at its value, or whole.
    Entry(Option<Split>),
    /// Behind a byte gate.
    Gated,
}

/// What the first pass knows of an anchor that opens its rule's pattern.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub(super) struct Opening {
    /// The anchor's longest match.
    pub longest: usize,
    /// Every length it can have (a start to try for each), when there are few.
    pub lengths: Option<Vec<usize>>,
    /// The bytes it can start with: a start elsewhere is not tried.
    pub first_bytes: Option<ByteSet>,
}

fn route(r: &Rule) -> Route {
    if r.gate != Gate::Hyperscan {
        return Route::Gated;
    }
    if let Some(anchor) = r.anchor.as_deref() {
        let opens = r
            .pattern
            .starts_with(anchor)
            .then(|| anchor::hir(anchor))
            .flatten()
            .and_then(|hir| {
                let longest = hir.properties().maximum_len()?;
                let lengths = anchor::lengths(&hir, MAX_ANCHOR_SPREAD)
                    .filter(|l| l.first().is_some_and(|&min| min > 0));
                Some(Opening {
                    longest,
                    lengths,
                    first_bytes: anchor::first_bytes(&hir),
                })
            });
        return Route::Anchored {
            longest: anchor::max_len(&r.pattern),
            opens,
            phrase_reach: (r.category == Category::Injection).then(|| phrase_reach(&r.pattern)),
        };
    }
    if r.category == Category::Injection {
        return match phrase_anchor(&r.pattern) {
            Some((anchor, reach)) => Route::Derived { anchor, reach },
            None if r.fold_whitespace => Route::Folded(pattern_for_folded_view(&r.pattern)),
            None => Route::Folded(r.pattern.clone()),
        };
    }
    Route::Entry(Split::of(&r.pattern))
}

/// The route of every rule, in order, worked out on up to eight threads.
pub(super) fn routes(rules: &[Rule]) -> Vec<Route> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if rules.len() < 64 {
        return rules.iter().map(route).collect();
    }
    // Dealt out in turn: the costly phrase rules sit together in the catalogue.
    threads::map_in_order(rules, threads.min(8), route)
}
