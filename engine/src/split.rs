//! Rules matched as key, then value run. A rule written `KEY(VALUE)END`, where the value group
//! consumes only bytes of one class and `END` must open with a byte outside it (or be the end
//! of the text), has its value end where the run of that class ends. Hyperscan is then given
//! only the key part: it reports where a value may start, the run is walked once, and the full
//! pattern is confirmed at the few ends the run allows.
//!
//! Why: a value written `[A-Za-z0-9_+/=~.-]{0,200}[0-9]…` is a bounded repeat, and on text whose
//! every few bytes start one (`api_key=api_key=…`) Hyperscan keeps hundreds of repeats alive at
//! each byte (35x the cost of benign text). Walking the run is linear: each run is walked once
//! per value class, however many keys open inside it.

use regex_syntax::ast::{self, Ast};
use regex_syntax::hir::{Class, Hir, HirKind, Look};

/// A set of bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ByteSet([u64; 4]);

impl ByteSet {
    pub(crate) const EMPTY: ByteSet = ByteSet([0; 4]);

    pub(crate) fn insert_range(&mut self, lo: u8, hi: u8) {
        for b in lo..=hi {
            self.0[usize::from(b >> 6)] |= 1 << (b & 63);
        }
    }

    pub(crate) fn union(self, other: ByteSet) -> ByteSet {
        let mut out = self;
        for (o, x) in out.0.iter_mut().zip(other.0) {
            *o |= x;
        }
        out
    }

    fn is_disjoint(self, other: ByteSet) -> bool {
        self.0.iter().zip(other.0).all(|(a, b)| a & b == 0)
    }

    #[inline]
    pub fn contains(&self, b: u8) -> bool {
        self.0[usize::from(b >> 6)] >> (b & 63) & 1 == 1
    }
}

/// A rule's pattern split at its value group.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Split {
    /// The pattern up to the value group: what the first pass looks for.
    pub prefix: String,
    /// Every byte the value group can consume.
    pub value: ByteSet,
    /// The longest the part after the value group can be.
    pub end_max: usize,
}

impl Split {
    /// The split of `pattern`, when its capture group 1 sits at the top level and what follows
    /// it cannot continue the value (see the module doc).
    pub fn of(pattern: &str) -> Option<Split> {
        let ast = ast::parse::Parser::new().parse(pattern).ok()?;
        let Ast::Concat(concat) = &ast else {
            return None;
        };
        let group_start = concat.asts.iter().find_map(|a| match a {
            Ast::Group(g) if g.capture_index() == Some(1) => Some(g.span.start.offset),
            _ => None,
        })?;
        let prefix = &pattern[..group_start];
        let hir = crate::anchor::hir_of(pattern, &ast)?;
        let HirKind::Concat(items) = hir.kind() else {
            return None;
        };
        let at = items
            .iter()
            .position(|h| matches!(h.kind(), HirKind::Capture(c) if c.index == 1))?;
        let value = consumed(&items[at]);
        let end = Hir::concat(items[at + 1..].to_vec());
        let (first, empty) = first_bytes(&end);
        let prefix_hir = Hir::concat(items[..at].to_vec());
        let usable = empty != Empty::Anywhere
            && end_sees_only_itself(&end)
            && items[at].properties().minimum_len().unwrap_or(0) > 0
            && first.is_disjoint(value)
            && prefix_hir.properties().minimum_len().unwrap_or(0) > 0;
        let end_max = end.properties().maximum_len()?;
        (usable && end_max <= 8).then(|| Split {
            prefix: prefix.to_string(),
            value,
            end_max,
        })
    }
}

/// Every byte `hir` can consume.
fn consumed(hir: &Hir) -> ByteSet {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => ByteSet::EMPTY,
        HirKind::Literal(lit) => {
            let mut set = ByteSet::EMPTY;
            for &b in lit.0.iter() {
                set.insert_range(b, b);
            }
            set
        }
        HirKind::Class(class) => class_bytes(class),
        HirKind::Repetition(rep) => consumed(&rep.sub),
        HirKind::Capture(cap) => consumed(&cap.sub),
        HirKind::Concat(hs) | HirKind::Alternation(hs) => hs
            .iter()
            .fold(ByteSet::EMPTY, |acc, h| acc.union(consumed(h))),
    }
}

fn class_bytes(class: &Class) -> ByteSet {
    let mut set = ByteSet::EMPTY;
    match class {
        Class::Bytes(c) => {
            for r in c.ranges() {
                set.insert_range(r.start(), r.end());
            }
        }
        Class::Unicode(c) => {
            for r in c.ranges() {
                let (lo, hi) = (u32::from(r.start()), u32::from(r.end()));
                if lo < 0x80 {
                    set.insert_range(lo as u8, hi.min(0x7f) as u8);
                }
                if hi >= 0x80 {
                    // A non-ASCII character is several bytes, any of 0x80..=0xff.
                    set.insert_range(0x80, 0xff);
                }
            }
        }
    }
    set
}

/// Whether `end` decides its match from the bytes it consumes: no look-around, except `$` as
/// a whole alternative. The second stage confirms a split rule on the text cut where the match
/// ends, and there a `\b` or a `$` after a consumed byte would see the cut, not the text.
fn end_sees_only_itself(end: &Hir) -> bool {
    fn no_look(h: &Hir) -> bool {
        match h.kind() {
            HirKind::Look(_) => false,
            HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_) => true,
            HirKind::Repetition(rep) => no_look(&rep.sub),
            HirKind::Capture(cap) => no_look(&cap.sub),
            HirKind::Concat(hs) | HirKind::Alternation(hs) => hs.iter().all(no_look),
        }
    }
    let whole_end = |h: &Hir| matches!(h.kind(), HirKind::Look(Look::End));
    match end.kind() {
        HirKind::Alternation(hs) => hs.iter().all(|h| whole_end(h) || no_look(h)),
        _ => whole_end(end) || no_look(end),
    }
}

/// Whether a part can match without consuming a byte, and where.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Empty {
    Never,
    /// Only at the end of the text (`$`, `\z`).
    AtEnd,
    Anywhere,
}

/// The bytes a match of `hir` can open with, and whether it can be empty.
fn first_bytes(hir: &Hir) -> (ByteSet, Empty) {
    match hir.kind() {
        HirKind::Empty => (ByteSet::EMPTY, Empty::Anywhere),
        HirKind::Literal(lit) => {
            let mut set = ByteSet::EMPTY;
            set.insert_range(lit.0[0], lit.0[0]);
            (set, Empty::Never)
        }
        HirKind::Class(class) => (class_bytes(class), Empty::Never),
        HirKind::Look(Look::End) => (ByteSet::EMPTY, Empty::AtEnd),
        HirKind::Look(_) => (ByteSet::EMPTY, Empty::Anywhere),
        HirKind::Repetition(rep) => {
            let (set, empty) = first_bytes(&rep.sub);
            (set, if rep.min == 0 { Empty::Anywhere } else { empty })
        }
        HirKind::Capture(cap) => first_bytes(&cap.sub),
        HirKind::Concat(hs) => {
            let mut acc = ByteSet::EMPTY;
            for h in hs {
                let (set, empty) = first_bytes(h);
                acc = acc.union(set);
                if empty != Empty::Anywhere {
                    // After `$` nothing more can be consumed: the rest adds no first byte.
                    return (acc, empty);
                }
            }
            (acc, Empty::Anywhere)
        }
        HirKind::Alternation(hs) => hs.iter().fold((ByteSet::EMPTY, Empty::Never), |acc, h| {
            let (set, empty) = first_bytes(h);
            (acc.0.union(set), acc.1.max(empty))
        }),
    }
}

/// Where the value runs end, walked once per value class: `run_end(class, at)` for
/// non-decreasing `at` of one class costs, over a whole text, one pass per class.
pub struct Runs<'h> {
    hay: &'h [u8],
    /// Per class: the start and end of the last run walked.
    last: Vec<(usize, usize)>,
}

impl<'h> Runs<'h> {
    pub fn new(hay: &'h [u8], classes: usize) -> Self {
        Runs {
            hay,
            last: vec![(usize::MAX, 0); classes],
        }
    }

    /// End of the run of `set` bytes that starts at `at`. When `at` lies inside the last run
    /// walked for this class, that run's end, without walking again.
    pub fn run_end(&mut self, class: usize, set: &ByteSet, at: usize) -> usize {
        let (from, to) = self.last[class];
        if from <= at && at <= to {
            return to;
        }
        let end = self.hay[at..]
            .iter()
            .position(|&b| !set.contains(b))
            .map_or(self.hay.len(), |n| at + n);
        self.last[class] = (at, end);
        end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_a_key_value_rule_at_its_value() {
        let s = Split::of(r#"(?i:token)[ \t]*=[ \t]*([A-Za-z0-9_]{8,64})(?:["'\s,;]|$)"#)
            .expect("splits");
        assert_eq!(s.prefix, r"(?i:token)[ \t]*=[ \t]*");
        assert!(s.value.contains(b'a') && s.value.contains(b'_') && !s.value.contains(b' '));
        assert_eq!(s.end_max, 1);
    }

    #[test]
    fn refuses_when_the_end_could_continue_the_value() {
        // `\b` is empty and `-` is in the value: the value may stop inside a run.
        assert!(Split::of(r"sk-([A-Za-z0-9-]{20})\b").is_none());
        // The end may open with a value byte.
        assert!(Split::of(r"key=([a-z0-9]{8,})(?:[0-9]|\s)").is_none());
        // Optional end: empty anywhere.
        assert!(Split::of(r"key=([a-z0-9]{8,})\s?").is_none());
        // An end that looks past what it consumes: the second stage sees the text cut there.
        assert!(Split::of(r"key=([a-z]{8})(?:;$|,)").is_none());
        assert!(Split::of(r"key=([a-z]{8}),\b").is_none());
        assert!(Split::of(r"key=([a-z]{8})(?:[;,]|$)").is_some());
        // No group, or a group inside an alternation.
        assert!(Split::of(r"key=[a-z0-9]{8,}\s").is_none());
        assert!(Split::of(r"(?:a|key=([a-z0-9]{8,}))\s").is_none());
    }

    #[test]
    fn run_ends_are_walked_once_per_class() {
        let set = Split::of(r"k=([a-z=]+)\s").unwrap().value;
        let hay = b"k=ab k=k=k=cd e";
        let mut runs = Runs::new(hay, 1);
        assert_eq!(runs.run_end(0, &set, 2), 4);
        assert_eq!(runs.run_end(0, &set, 7), 13);
        assert_eq!(runs.run_end(0, &set, 9), 13);
        assert_eq!(runs.run_end(0, &set, 13), 13);
        // The memo answers for `at` inside the last run without reading the text again.
        assert_eq!(runs.last[0], (7, 13));
    }
}
