//! Anchors derived from a rule's own pattern: a set of literals such that every match of the
//! pattern contains at least one of them. The first pass then looks only for those literals (a
//! pure literal set, which Hyperscan scans at GB/s), and the full pattern runs in a small window
//! around each hit. Phrase rules need this: as whole patterns their factors are common words
//! (`you`, `the`, `act`) that keep Hyperscan's automata busy on every line of prose or logs.
//!
//! The set is chosen from the pattern's syntax tree: a concatenation offers the literal runs and
//! the sets of each of its parts, an alternation needs a set from every branch, a repetition
//! passes its part's set on only when it must occur. Among the candidates the rarest wins, by
//! an estimate that favours long literals. Literals are compared ASCII case-insensitively.

use crate::split::ByteSet;
use regex_syntax::ast::{Ast, RepetitionKind, RepetitionRange};

/// Phrase rules take an anchor only of literals this long, and none that is part of a
/// [`COMMON_WORDS`] word: with 4 and no such list, common words (`admin`, `system`, `from`) hit
/// ~15,000 times per MB of logs and the windows searched around them cost more than the phrase
/// database they replace (measured with `rule_cost` ANCHORS=N).
pub const PHRASE_MIN_LITERAL: usize = 7;
/// Words that occur more than ~15 times per MB in the loghub logs or ~200 times per MB in the
/// MCP documentation paragraphs of the shared corpora (counted case-insensitively, as parts of
/// longer words too). A literal inside one of them is a poor anchor: it would send the second
/// stage to a window on nearly every line. Only speed depends on this list, never what is
/// found: an anchor is a literal every match contains.
pub const COMMON_WORDS: &[&str] = &[
    "account",
    "admin",
    "answer",
    "before",
    "bound",
    "break",
    "broken",
    "character",
    "command",
    "configuration",
    "content",
    "critical",
    "ignoring",
    "initial",
    "limit",
    "locked",
    "message",
    "password",
    "policy",
    "private",
    "ready",
    "request",
    "respond",
    "response",
    "security",
    "sensitive",
    "system",
];
/// Sets larger than this cost more to match than they save.
const MAX_SET: usize = 160;

/// A derived anchor: the literals (lower case) and the longest match the pattern can make.
#[derive(Clone, Debug, PartialEq)]
pub struct Derived {
    pub literals: Vec<Vec<u8>>,
    pub max_len: Option<usize>,
}

impl Derived {
    /// The anchor as a Hyperscan pattern (caseless alternation of the literals).
    pub fn pattern(&self) -> String {
        let mut p = String::from("(?i)(?:");
        for (i, lit) in self.literals.iter().enumerate() {
            if i > 0 {
                p.push('|');
            }
            for &b in lit {
                if b.is_ascii_alphanumeric() {
                    p.push(b as char);
                } else {
                    p.push_str(&format!("\\x{b:02x}"));
                }
            }
        }
        p.push(')');
        p
    }
}

/// Estimated share of text positions where one of `set` occurs: each literal counts 2^-len
/// (bytes past 8 add nothing: long words are all rare enough).
fn cost(set: &[Vec<u8>]) -> f64 {
    set.iter().map(|l| 0.5f64.powi(l.len().min(8) as i32)).sum()
}

/// The bytes a node matches when it matches exactly one string (lower case).
fn fixed_bytes(a: &Ast) -> Option<Vec<u8>> {
    match a {
        // Rules match bytes: `\xF3` is the byte 0xF3, any other literal its UTF-8.
        Ast::Literal(l) => Some(match l.byte() {
            Some(b) => vec![b.to_ascii_lowercase()],
            None => {
                let mut buf = [0u8; 4];
                l.c.encode_utf8(&mut buf).as_bytes().to_ascii_lowercase()
            }
        }),
        Ast::Group(g) => fixed_bytes(&g.ast),
        Ast::Concat(c) => {
            let mut out = Vec::new();
            for p in &c.asts {
                if !zero_width(p) {
                    out.extend(fixed_bytes(p)?);
                }
            }
            Some(out)
        }
        _ => None,
    }
}

/// Flags and assertions (`(?i)`, `\b`) match no bytes: a literal run goes on across them.
fn zero_width(a: &Ast) -> bool {
    matches!(a, Ast::Flags(_) | Ast::Assertion(_) | Ast::Empty(_))
}

fn min_repeats(kind: &RepetitionKind) -> u32 {
    match kind {
        RepetitionKind::ZeroOrOne | RepetitionKind::ZeroOrMore => 0,
        RepetitionKind::OneOrMore => 1,
        RepetitionKind::Range(
            RepetitionRange::Exactly(n)
            | RepetitionRange::AtLeast(n)
            | RepetitionRange::Bounded(n, _),
        ) => *n,
    }
}

fn normalise(mut set: Vec<Vec<u8>>, min: usize) -> Option<Vec<Vec<u8>>> {
    set.sort();
    set.dedup();
    // A literal that contains another is redundant: the shorter one is found anyway.
    let kept: Vec<Vec<u8>> = set
        .iter()
        .filter(|l| {
            !set.iter()
                .any(|s| s.len() < l.len() && memchr::memmem::find(l, s).is_some())
        })
        .cloned()
        .collect();
    let usable = |l: &Vec<u8>| {
        l.len() >= min
            && !COMMON_WORDS
                .iter()
                .any(|w| memchr::memmem::find(w.as_bytes(), l).is_some())
    };
    (kept.len() <= MAX_SET && kept.iter().all(usable)).then_some(kept)
}

fn better(a: Option<Vec<Vec<u8>>>, b: Option<Vec<Vec<u8>>>) -> Option<Vec<Vec<u8>>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if cost(&b) < cost(&a) { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// A literal set every match of `a` contains, the rarest this walk can find. Works on the
/// pattern as written (the syntax tree before any factoring), so `from|for` stays two words.
fn necessary(a: &Ast, min: usize) -> Option<Vec<Vec<u8>>> {
    if let Some(b) = fixed_bytes(a) {
        return normalise(vec![b], min);
    }
    match a {
        Ast::Group(g) => necessary(&g.ast, min),
        Ast::Repetition(r) if min_repeats(&r.op.kind) >= 1 => necessary(&r.ast, min),
        Ast::Alternation(alt) => {
            let mut set = Vec::new();
            for b in &alt.asts {
                set.extend(necessary(b, min)?);
            }
            normalise(set, min)
        }
        Ast::Concat(c) => {
            let mut best = None;
            let mut run: Vec<u8> = Vec::new();
            for p in &c.asts {
                if zero_width(p) {
                    continue;
                }
                match fixed_bytes(p) {
                    Some(bytes) => run.extend(bytes),
                    None => {
                        if !run.is_empty() {
                            best = better(best, normalise(vec![std::mem::take(&mut run)], min));
                        }
                        best = better(best, necessary(p, min));
                    }
                }
            }
            if !run.is_empty() {
                best = better(best, normalise(vec![run], min));
            }
            best
        }
        _ => None,
    }
}

/// The longest match `pattern` can make, in bytes, when it is bounded.
pub fn max_len(pattern: &str) -> Option<usize> {
    properties(pattern)?.maximum_len()
}

/// The shortest match `pattern` can make, in bytes.
pub fn min_len(pattern: &str) -> Option<usize> {
    properties(pattern)?.minimum_len()
}

/// Every length a match of `hir` can have, in bytes, when there are at most `most` of them
/// (`\bgh|github`: 2 and 6, where its shortest and longest would also allow 3, 4 and 5).
pub fn lengths(hir: &regex_syntax::hir::Hir, most: usize) -> Option<Vec<usize>> {
    Some(length_set(hir, most)?.into_iter().collect())
}

/// The bytes a match of `hir` can start with; `None` when a match can be empty (or holds a
/// class of characters rather than bytes).
pub fn first_bytes(hir: &regex_syntax::hir::Hir) -> Option<ByteSet> {
    let (set, can_be_empty) = first_set(hir)?;
    (!can_be_empty).then_some(set)
}

fn first_set(hir: &regex_syntax::hir::Hir) -> Option<(ByteSet, bool)> {
    use regex_syntax::hir::{Class, HirKind};
    let mut set = ByteSet::EMPTY;
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Some((set, true)),
        HirKind::Literal(l) => {
            let b = *l.0.first()?;
            set.insert_range(b, b);
            Some((set, false))
        }
        HirKind::Class(Class::Bytes(c)) => {
            for r in c.ranges() {
                set.insert_range(r.start(), r.end());
            }
            Some((set, false))
        }
        HirKind::Class(Class::Unicode(_)) => None,
        HirKind::Capture(c) => first_set(&c.sub),
        HirKind::Repetition(r) => {
            let (sub, empty) = first_set(&r.sub)?;
            Some((sub, empty || r.min == 0))
        }
        HirKind::Alternation(alts) => {
            let mut empty = false;
            for a in alts {
                let (sub, e) = first_set(a)?;
                set = set.union(sub);
                empty |= e;
            }
            Some((set, empty))
        }
        HirKind::Concat(parts) => {
            for p in parts {
                let (sub, e) = first_set(p)?;
                set = set.union(sub);
                if !e {
                    return Some((set, false));
                }
            }
            Some((set, true))
        }
    }
}

type Lengths = std::collections::BTreeSet<usize>;

fn length_set(hir: &regex_syntax::hir::Hir, most: usize) -> Option<Lengths> {
    use regex_syntax::hir::HirKind;
    let capped = |set: Lengths| (set.len() <= most).then_some(set);
    let sums = |a: &Lengths, b: &Lengths| {
        capped(
            a.iter()
                .flat_map(|x| b.iter().map(move |y| x + y))
                .collect(),
        )
    };
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Some(Lengths::from([0])),
        HirKind::Literal(l) => Some(Lengths::from([l.0.len()])),
        // Byte mode: a class matches one byte.
        HirKind::Class(_) => Some(Lengths::from([1])),
        HirKind::Capture(c) => length_set(&c.sub, most),
        HirKind::Concat(parts) => parts.iter().try_fold(Lengths::from([0]), |acc, p| {
            sums(&acc, &length_set(p, most)?)
        }),
        HirKind::Alternation(alts) => {
            let mut all = Lengths::new();
            for a in alts {
                all.extend(length_set(a, most)?);
            }
            capped(all)
        }
        HirKind::Repetition(r) => {
            let max = r.max?;
            let one = length_set(&r.sub, most)?;
            let mut k_fold = Lengths::from([0]);
            let mut all = Lengths::new();
            for k in 0..=max {
                if k >= r.min {
                    all.extend(k_fold.iter().copied());
                }
                if k < max {
                    k_fold = sums(&k_fold, &one)?;
                }
            }
            capped(all)
        }
    }
}

fn properties(pattern: &str) -> Option<regex_syntax::hir::Properties> {
    Some(hir(pattern)?.properties().clone())
}

/// `pattern`'s syntax tree as the engine reads every rule: bytes, ASCII classes.
pub(crate) fn hir(pattern: &str) -> Option<regex_syntax::hir::Hir> {
    regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(pattern)
        .ok()
}

/// The same tree as [`hir`], from `pattern`'s already parsed `ast` (parsing is most of the
/// cost of reading a pattern).
pub(crate) fn hir_of(
    pattern: &str,
    ast: &regex_syntax::ast::Ast,
) -> Option<regex_syntax::hir::Hir> {
    regex_syntax::hir::translate::TranslatorBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .translate(pattern, ast)
        .ok()
}

/// The anchor for `pattern`, if a set of literals at least `min_literal` bytes long exists.
pub fn derive(pattern: &str, min_literal: usize) -> Option<Derived> {
    let ast = regex_syntax::ast::parse::Parser::new()
        .parse(pattern)
        .ok()?;
    let literals = necessary(&ast, min_literal)?;
    Some(Derived {
        literals,
        max_len: max_len(pattern),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_the_ones_a_match_can_have() {
        let of = |p: &str| lengths(&hir(p).expect("parses"), 16);
        assert_eq!(of(r"(?i:github|\bgh)"), Some(vec![2, 6]));
        assert_eq!(of(r"ghp_"), Some(vec![4]));
        assert_eq!(of(r"(?:ab){1,3}c?"), Some(vec![2, 3, 4, 5, 6, 7]));
        assert_eq!(of(r"x[a-z]{2,4}"), Some(vec![3, 4, 5]));
        assert_eq!(of(r"a+"), None);
        assert_eq!(of(r"[a-z]{1,40}"), None, "more than 16 lengths");
    }

    #[test]
    fn first_bytes_are_the_ones_a_match_can_start_with() {
        let of = |p: &str| {
            first_bytes(&hir(p).expect("parses")).map(|set| {
                (0..=255u8)
                    .filter(|&b| set.contains(b))
                    .collect::<Vec<u8>>()
            })
        };
        assert_eq!(of(r"(?i:github|\bgh)"), Some(b"Gg".to_vec()));
        assert_eq!(of(r"\b(?:x?y|z)"), Some(b"xyz".to_vec()));
        assert_eq!(of(r"[0-2]+a"), Some(b"012".to_vec()));
        assert_eq!(of(r"a?"), None, "a match can be empty");
    }

    fn lits(p: &str) -> Vec<String> {
        derive(p, 4)
            .map(|d| {
                d.literals
                    .iter()
                    .map(|l| String::from_utf8_lossy(l).into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn picks_the_rarer_side_of_a_phrase() {
        let p = r"(?i)\b(?:ignore|skip)\s+(?:all\s+)?(?:previous|prior)\s+instructions?\b";
        assert_eq!(lits(p), vec!["instruction"]);
        assert_eq!(lits(r"\bghp_[A-Za-z0-9]{36}\b"), vec!["ghp_"]);
    }

    #[test]
    fn every_branch_needs_a_literal() {
        assert_eq!(
            lits(r"(?i)(?:jailbreak|developer\s+mode)"),
            vec!["developer", "jailbreak"]
        );
        assert!(lits(r"(?i)(?:jailbreak|\w+\s+mode)").contains(&"mode".to_string()));
        assert!(lits(r"(?:abc|[a-z]+)").is_empty());
        assert!(lits(r"(?:optional)?x").is_empty());
        // Written alternatives stay whole words (the compiled form factors out the `f`).
        assert_eq!(
            lits(r"(?i)\b(?:from\s+now|for\s+the\s+rest)"),
            vec!["from", "rest"]
        );
    }

    #[test]
    fn anchor_pattern_is_caseless_and_escaped() {
        let d = derive(r"(?i)say\s+hello\.world", 4).unwrap();
        assert_eq!(d.pattern(), r"(?i)(?:hello\x2eworld)");
    }
}
