//! The whitespace-folded view that injection rules are matched on. Phrase rules join words with
//! `\s+`; in Hyperscan that breaks every phrase into single-word literal factors, which made the
//! injection family four times slower than every other rule together. On a view where each run
//! of ASCII whitespace is folded to its first byte, `\s+` can only ever match one byte, so the
//! database gets the same rules with `\s+` written as `\s` (a superset on that view: the second
//! stage still runs each rule's own pattern) and matches map back to original offsets.

use std::borrow::Cow;

#[inline]
fn is_ws(b: u8) -> bool {
    // Space, or \t \n \x0b \x0c \r (9..=13); written as two comparisons so it vectorizes.
    (b == b' ') | (b.wrapping_sub(9) < 5)
}

/// `hay` with whitespace runs folded, and the offset map back. Borrowed when nothing folds.
pub struct Folded<'a> {
    pub text: Cow<'a, [u8]>,
    /// (folded offset, original offset) at each point where the two start to differ by more.
    shifts: Vec<(usize, usize)>,
}

impl<'a> Folded<'a> {
    pub fn new(hay: &'a [u8]) -> Self {
        let first_run = hay.windows(2).position(|w| is_ws(w[0]) && is_ws(w[1]));
        let Some(first) = first_run else {
            return Folded {
                text: Cow::Borrowed(hay),
                shifts: Vec::new(),
            };
        };
        let mut out = Vec::with_capacity(hay.len());
        let mut shifts = Vec::new();
        out.extend_from_slice(&hay[..first + 1]);
        let mut prev_ws = true;
        let mut skipping = false;
        let mut i = first + 1;
        while i < hay.len() {
            // Fast path: a 16-byte block with no two whitespace bytes in a row (and not
            // continuing a run) is copied whole.
            if !skipping && i + 16 <= hay.len() {
                let block: &[u8; 16] = hay[i..i + 16].try_into().expect("16 bytes");
                let ws: [bool; 16] = block.map(is_ws);
                let mut pair = prev_ws & ws[0];
                for k in 0..15 {
                    pair |= ws[k] & ws[k + 1];
                }
                if !pair {
                    out.extend_from_slice(block);
                    prev_ws = ws[15];
                    i += 16;
                    continue;
                }
            }
            let b = hay[i];
            let ws = is_ws(b);
            if ws && prev_ws {
                skipping = true;
                i += 1;
                continue;
            }
            if skipping {
                shifts.push((out.len(), i));
                skipping = false;
            }
            out.push(b);
            prev_ws = ws;
            i += 1;
        }
        if skipping {
            shifts.push((out.len(), hay.len()));
        }
        Folded {
            text: Cow::Owned(out),
            shifts,
        }
    }

    /// The original offset of folded offset `at`.
    pub fn original(&self, at: usize) -> usize {
        let idx = self.shifts.partition_point(|&(f, _)| f <= at);
        match idx.checked_sub(1) {
            Some(k) => {
                let (f, o) = self.shifts[k];
                o + (at - f)
            }
            None => at,
        }
    }
}

/// The Hyperscan form of a pattern for the folded view: every `\s` outside a class, with any
/// quantifier, becomes `\s` (one or more) or `\s?` (zero or more).
pub fn pattern_for_folded_view(pattern: &str) -> String {
    let b = pattern.as_bytes();
    let mut out = String::with_capacity(pattern.len());
    let (mut i, mut in_class) = (0, false);
    while i < b.len() {
        let c = b[i];
        if c == b'\\' && i + 1 < b.len() {
            if !in_class && b[i + 1] == b's' {
                i += 2;
                let optional = match b.get(i) {
                    Some(b'+') => {
                        i += 1;
                        false
                    }
                    Some(b'*') | Some(b'?') => {
                        i += 1;
                        true
                    }
                    Some(b'{') => match pattern[i..].find('}') {
                        Some(close) => {
                            let min = pattern[i + 1..i + close].split(',').next().unwrap_or("1");
                            i += close + 1;
                            min.trim() == "0"
                        }
                        None => false,
                    },
                    _ => false,
                };
                out.push_str(if optional { "\\s?" } else { "\\s" });
                continue;
            }
            out.push_str(&pattern[i..i + 2]);
            i += 2;
            continue;
        }
        if c == b'[' && !in_class {
            in_class = true;
            out.push('[');
            // A `]` or `^]` right after the opening bracket is a literal.
            if b.get(i + 1) == Some(&b'^') {
                out.push('^');
                i += 1;
            }
            if b.get(i + 1) == Some(&b']') {
                out.push(']');
                i += 1;
            }
            i += 1;
            continue;
        }
        if c == b']' && in_class {
            in_class = false;
        }
        let ch_len = pattern[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&pattern[i..i + ch_len]);
        i += ch_len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_runs_and_maps_back() {
        let hay = b"ignore \n\t all   previous";
        let f = Folded::new(hay);
        assert_eq!(&f.text[..], b"ignore all previous");
        let at = f.text.windows(8).position(|w| w == b"previous").unwrap();
        assert_eq!(&hay[f.original(at)..], b"previous");
        assert_eq!(f.original(0), 0);
        assert!(matches!(Folded::new(b"one two").text, Cow::Borrowed(_)));
    }

    #[test]
    fn rewrites_only_whitespace_outside_classes() {
        assert_eq!(
            pattern_for_folded_view(r"(?i)ignore\s+(?:all\s*)?[^\s.]{0,8}\s{0,8}x\s{1,3}y\sz"),
            r"(?i)ignore\s(?:all\s?)?[^\s.]{0,8}\s?x\sy\sz"
        );
    }
}
