//! Digit-group shapes of the built-in numeric PII rules, checked on a digit window before its
//! regex runs. Most windows in logs are timestamps, counters and ids (`2015-10-18 18:01:47`,
//! `blk_-1608999687919862906`) whose groups of digits fit no rule: a card is one group of
//! 13–19 digits or groups of 4-4-4-n, 4-6-5, 4-6-4; a US SSN 3-2-4; a NANP phone 3-3-4; an
//! international phone starts at a `+`; an IBAN at two capitals. A window where no run of
//! groups has one of those shapes cannot hold a match of those rules, and is skipped.
//!
//! The check is a superset of each rule's pattern (separators are not compared), and only
//! stands in for the patterns it was written for: [`applies_to`] compares each rule with them.

/// The built-in digit-gate rules this check was written for, with a hash of each pattern
/// ([`pattern_hash`]): a changed pattern (or a user rule behind the digit gate) turns the check
/// off, and a test says when a built-in pattern no longer matches its hash.
pub(crate) const SHAPED_RULES: [(&str, u64); 5] = [
    ("pii.credit_card", 0x277b_29fc_46ce_6754),
    ("pii.ssn", 0xfa2a_d341_9201_3ccf),
    ("pii.phone_international", 0x91bd_d4d4_33a4_dec4),
    ("pii.phone_nanp", 0x067a_c8f2_543f_1881),
    ("pii.iban", 0xc8fa_e6c1_aaae_59ae),
];

/// FNV-1a of a pattern's bytes.
pub(crate) fn pattern_hash(pattern: &str) -> u64 {
    pattern.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Whether every rule of a digit-gate set, given as (id, pattern), is one [`SHAPED_RULES`]
/// covers, pattern unchanged.
pub(crate) fn applies_to<'a>(rules: impl IntoIterator<Item = (&'a str, &'a str)>) -> bool {
    rules.into_iter().all(|(id, pattern)| {
        SHAPED_RULES
            .iter()
            .any(|&(known, hash)| known == id && hash == pattern_hash(pattern))
    })
}

/// A byte a card number's plain 13–19 digit form may not follow.
#[inline]
fn glues_to_card(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'+' | b'-')
}

/// Whether `hay[from..to]` (a digit window) may hold a match of the shaped rules.
pub(crate) fn may_hold_numeric_pii(hay: &[u8], from: usize, to: usize) -> bool {
    let window = &hay[from..to];
    if window.len() >= 2 && window[0].is_ascii_uppercase() && window[1].is_ascii_uppercase() {
        return true; // an IBAN head's window
    }
    // The last three group lengths before the current one, newest last.
    let mut last = [0usize; 3];
    let mut i = from;
    while i < to {
        if !hay[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        // A whole group: it may reach past the window's edges.
        let mut start = i;
        while start > 0 && hay[start - 1].is_ascii_digit() {
            start -= 1;
        }
        let mut end = i;
        while end < hay.len() && hay[end].is_ascii_digit() {
            end += 1;
        }
        let len = end - start;
        let before = start.checked_sub(1).map(|j| hay[j]);
        if before == Some(b'+') {
            return true; // an international phone number
        }
        if (13..=19).contains(&len) && !before.is_some_and(glues_to_card) {
            return true;
        }
        let shape = (last[1], last[2], len);
        if matches!(shape, (3, 2, 4) | (3, 3, 4) | (4, 6, 5) | (4, 6, 4))
            || (last == [4, 4, 4] && (1..=7).contains(&len))
        {
            return true;
        }
        last = [last[1], last[2], len];
        i = end;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::builtin_rules;
    use crate::rule::Gate;

    #[test]
    fn hashes_match_the_built_in_patterns() {
        let rules = builtin_rules().unwrap();
        let digit: Vec<_> = rules.iter().filter(|r| r.gate == Gate::Digits).collect();
        for r in &digit {
            let known = SHAPED_RULES.iter().find(|(id, _)| *id == r.id);
            assert_eq!(
                known.map(|k| k.1),
                Some(pattern_hash(&r.pattern)),
                "{}: pattern hash {:#018x}; revisit gate/shapes.rs for the new pattern",
                r.id,
                pattern_hash(&r.pattern)
            );
        }
        assert_eq!(digit.len(), SHAPED_RULES.len());
        assert!(applies_to(
            digit.iter().map(|r| (r.id.as_str(), r.pattern.as_str()))
        ));
        assert!(!applies_to([("pii.ssn", r"\d{9}")]));
        assert!(!applies_to([("user.digits", r"\d{9}")]));
    }

    #[test]
    fn shapes_of_numbers_that_matter_pass_and_log_numbers_do_not() {
        let passes = |s: &str| may_hold_numeric_pii(s.as_bytes(), 0, s.len());
        for s in [
            " 4111111111111111 ",
            " 4111 1111 1111 1111 ",
            " 3782 822463 10005 ",
            " 3056 930902 5904 ",
            " 4222 2222 2222 2 ",
            " 4000 0000 0000 0000002 ",
            " 078-05-1120 ",
            " (415) 555-2671 ",
            "+14155552671 ",
            " 415.555.2671 ",
            "DE89 3704 0044 0532 0130 00",
        ] {
            assert!(passes(s), "{s:?}");
            // Each is a match of the rules, found with and without the shapes.
            let all = matches(s.as_bytes(), |h, f| crate::gate::digit_windows(h, f));
            assert!(!all.is_empty(), "{s:?}");
            assert_eq!(
                matches(s.as_bytes(), |h, f| crate::gate::shaped_digit_windows(h, f)),
                all
            );
        }
        for s in [
            " 2015-10-18 18:01:47,978 ",
            "-1608999687919862906 ",
            "_1608999687919862906 ",
            " 1131566461 2005.11.09 ",
            ":12.345  6789  0123 ",
            " 12345678901234567890 ",
        ] {
            assert!(!passes(s), "{s:?}");
        }
    }

    /// Matches of the built-in digit rules in `text`, searched in the windows `windows` gives.
    fn matches(text: &[u8], windows: fn(&[u8], &mut dyn FnMut(usize, usize))) -> Vec<String> {
        use crate::confirm::GateSet;
        static SET: std::sync::OnceLock<GateSet> = std::sync::OnceLock::new();
        let set = SET.get_or_init(|| {
            let rules = builtin_rules().unwrap();
            let digit: Vec<usize> = (0..rules.len())
                .filter(|&i| rules[i].gate == Gate::Digits)
                .collect();
            let patterns: Vec<&str> = digit.iter().map(|&i| rules[i].pattern.as_str()).collect();
            GateSet::new(digit, &patterns).unwrap()
        });
        let (mut out, mut caps) = (Vec::new(), None);
        windows(text, &mut |from, to| {
            set.search(text, from, to, &mut caps, &mut out)
        });
        out.iter()
            .map(|(rule, c)| format!("{rule} {}..{}", c.start, c.end))
            .collect()
    }

    fn grouped() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        // Lengths the rules care about, and their neighbours, most of the time.
        // The group lengths the shapes are made of, most of the time.
        let len = prop_oneof![
            8 => 1usize..8,
            2 => proptest::sample::select(vec![12usize, 13, 16, 19, 20]),
            1 => 1usize..21,
        ];
        let group = (len, any::<u64>()).prop_map(|(n, seed)| {
            (0..n)
                // Few digits, so groups often start as card brands do (34, 37, 30…).
                .map(|k| char::from(b"0347"[(seed >> (k % 32 * 2)) as usize & 3]))
                .collect::<String>()
        });
        let sep = prop_oneof![
            3 => proptest::sample::select(vec![" ", "-", "."]),
            1 => proptest::sample::select(vec![
                "/", "(", ") ", "  ", "+", "_", "x", "DE", " +", ":", "\n", "a",
            ]),
        ];
        proptest::collection::vec((sep, group), 1..8)
            .prop_map(|parts| parts.into_iter().map(|(s, g)| format!("{s}{g}")).collect())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// The shapes skip only windows where the rules find nothing.
        #[test]
        fn shaped_windows_find_what_all_windows_find(text in grouped()) {
            let text = text.as_bytes();
            proptest::prop_assert_eq!(
                matches(text, |h, f| crate::gate::shaped_digit_windows(h, f)),
                matches(text, |h, f| crate::gate::digit_windows(h, f))
            );
        }
    }
}
