//! Byte gates for the rules that have no literal to anchor them: numeric PII runs only where
//! a run of digits and separators holds enough digits (or may start an IBAN), and e-mail
//! addresses only around an `@` with an address-shaped word on each side. Each gate calls back
//! with the windows the rules' combined regex should search.

#[inline]
fn is_digit_sep(b: u8) -> bool {
    matches!(b, b' ' | b'-' | b'.' | b'(' | b')' | b'/')
}

/// Calls `f(from, to)` for each window that could hold numeric PII: a run of digits and
/// separators with at least 7 digits, or two capitals and two digits that may start an IBAN.
pub fn digit_windows(hay: &[u8], mut f: impl FnMut(usize, usize)) {
    let mut blocks = Blocks::new(hay);
    let mut i = 0;
    while let Some(p) = blocks.next_digit(i) {
        let Run { end, digits, seps } = blocks.run_at(p).unwrap_or_else(|| walk_run(hay, p));
        let before = if p > 0 { hay[p - 1] } else { b' ' };
        let iban_head = p >= 2
            && hay[p - 2].is_ascii_uppercase()
            && hay[p - 1].is_ascii_uppercase()
            && (p == 2 || !hay[p - 3].is_ascii_alphanumeric())
            && hay.get(p + 1).is_some_and(u8::is_ascii_digit);
        if iban_head {
            f(p - 2, (p + 44).min(hay.len()));
        } else if digits >= 7 {
            let glued_to_word = before.is_ascii_alphabetic() || before == b'_';
            let run = &hay[p..end];
            if !(looks_like_date(run) || looks_like_ipv4(run) || glued_to_word && seps == 0) {
                f(p.saturating_sub(1), (end + 1).min(hay.len()));
            }
        }
        i = end.max(p + 1);
    }
}

/// A run of digits and separators that starts at a digit: where it ends (exclusive; a third
/// separator in a row ends it), and how many digits and separators it holds.
#[derive(Debug, PartialEq, Eq)]
struct Run {
    end: usize,
    digits: u32,
    seps: u32,
}

/// The run at `p`, one byte at a time.
fn walk_run(hay: &[u8], p: usize) -> Run {
    let (mut j, mut digits, mut seps, mut seps_in_row) = (p, 0, 0, 0);
    while j < hay.len() {
        let b = hay[j];
        if b.is_ascii_digit() {
            digits += 1;
            seps_in_row = 0;
        } else if is_digit_sep(b) && seps_in_row < 2 {
            seps_in_row += 1;
            seps += 1;
        } else {
            break;
        }
        j += 1;
    }
    Run {
        end: j,
        digits,
        seps,
    }
}

/// Digit and separator bit masks of the 64-byte block being looked at: runs are found with
/// bit operations, and only a run that reaches past its block is walked byte by byte.
struct Blocks<'a> {
    hay: &'a [u8],
    base: usize,
    digit: u64,
    sep: u64,
}

impl<'a> Blocks<'a> {
    fn new(hay: &'a [u8]) -> Self {
        Blocks {
            hay,
            base: usize::MAX,
            digit: 0,
            sep: 0,
        }
    }

    /// Loads the masks of the block that holds `i`; false for the last, partial block.
    fn load(&mut self, i: usize) -> bool {
        let base = i & !63;
        if base + 64 > self.hay.len() {
            return false;
        }
        if base != self.base {
            let block: &[u8; 64] = self.hay[base..base + 64].try_into().expect("64 bytes");
            (self.digit, self.sep) = masks64(block);
            self.base = base;
        }
        true
    }

    fn next_digit(&mut self, mut i: usize) -> Option<usize> {
        while self.load(i) {
            let bits = self.digit & (!0u64 << (i - self.base));
            if bits != 0 {
                return Some(self.base + bits.trailing_zeros() as usize);
            }
            i = self.base + 64;
        }
        let tail = self.hay.get(i..)?;
        tail.iter().position(u8::is_ascii_digit).map(|p| i + p)
    }

    /// The run at `p` if it ends inside `p`'s block.
    fn run_at(&mut self, p: usize) -> Option<Run> {
        if !self.load(p) {
            return None;
        }
        let off = p - self.base;
        let from = !0u64 << off;
        let other = !(self.digit | self.sep) & from;
        if other == 0 {
            return None;
        }
        let triple = self.sep & (self.sep >> 1) & (self.sep >> 2) & from;
        let end = (other.trailing_zeros()).min(triple.trailing_zeros().saturating_add(2));
        let span = from & !(!0u64 << end);
        Some(Run {
            end: self.base + end as usize,
            digits: (self.digit & span).count_ones(),
            seps: (self.sep & span).count_ones(),
        })
    }
}

/// Bit i of the first mask is set when `block[i]` is an ASCII digit, of the second when it is
/// a separator of numbers ([`is_digit_sep`]). SSE2, which every x86-64 has.
#[cfg(target_arch = "x86_64")]
fn masks64(block: &[u8; 64]) -> (u64, u64) {
    use std::arch::x86_64::*;
    let (mut digit, mut sep) = (0u64, 0u64);
    for k in 0..4 {
        // SAFETY: SSE2 is part of the x86-64 baseline; each load is unaligned and lies within
        // the 64-byte block.
        unsafe {
            let v = _mm_loadu_si128(block.as_ptr().add(16 * k) as *const __m128i);
            let t = _mm_sub_epi8(v, _mm_set1_epi8(b'0' as i8));
            let d = _mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8(9)), t);
            let eq = |c: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8));
            let s = _mm_or_si128(
                _mm_or_si128(
                    _mm_or_si128(eq(b' '), eq(b'-')),
                    _mm_or_si128(eq(b'.'), eq(b'(')),
                ),
                _mm_or_si128(eq(b')'), eq(b'/')),
            );
            digit |= (_mm_movemask_epi8(d) as u16 as u64) << (16 * k);
            sep |= (_mm_movemask_epi8(s) as u16 as u64) << (16 * k);
        }
    }
    (digit, sep)
}

#[cfg(not(target_arch = "x86_64"))]
fn masks64(block: &[u8; 64]) -> (u64, u64) {
    let (mut digit, mut sep) = (0u64, 0u64);
    for (i, &b) in block.iter().enumerate() {
        digit |= (b.is_ascii_digit() as u64) << i;
        sep |= (is_digit_sep(b) as u64) << i;
    }
    (digit, sep)
}

/// `2015-10-18 18` and `2024/05/17`: a year, then month and day. Dates are the commonest digit
/// runs in logs and never numeric PII.
fn looks_like_date(run: &[u8]) -> bool {
    run.len() >= 10
        && run.len() <= 20
        && (run.starts_with(b"19") || run.starts_with(b"20"))
        && run[..4].iter().all(u8::is_ascii_digit)
        && matches!(run[4], b'-' | b'/' | b'.')
        && run[5..7].iter().all(u8::is_ascii_digit)
        && run[7] == run[4]
        && run[8..10].iter().all(u8::is_ascii_digit)
        && run[10..].iter().filter(|b| b.is_ascii_digit()).count() <= 6
}

/// `10.250.19.102`, possibly followed by more: IP addresses are the other common digit run in
/// logs and never numeric PII.
fn looks_like_ipv4(run: &[u8]) -> bool {
    let mut groups = 0;
    let mut len = 0;
    for &b in run {
        match b {
            b'0'..=b'9' if len < 3 => len += 1,
            b'.' if len > 0 && groups < 3 => {
                groups += 1;
                len = 0;
            }
            _ => break,
        }
    }
    groups == 3 && len > 0
}

#[inline]
fn is_local_part(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-')
}

#[inline]
fn is_domain_part(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-')
}

/// Calls `f(from, to)` around each `@` that has an address-shaped word on both sides;
/// windows that overlap or touch are merged, so a run of `a@b.a@b.…` is searched once.
pub fn at_windows(hay: &[u8], mut f: impl FnMut(usize, usize)) {
    let mut done = 0;
    let mut pending: Option<(usize, usize)> = None;
    for at in memchr::memchr_iter(b'@', hay) {
        if at < done {
            continue;
        }
        let mut l = at;
        while l > 0 && at - l < 64 && is_local_part(hay[l - 1]) {
            l -= 1;
        }
        let mut r = at + 1;
        while r < hay.len() && r - at < 256 && is_domain_part(hay[r]) {
            r += 1;
        }
        if l < at && r > at + 3 && hay[at + 1..r].contains(&b'.') {
            pending = match pending {
                Some((pl, pr)) if l <= pr => Some((pl, r)),
                Some((pl, pr)) => {
                    f(pl, pr);
                    Some((l, r))
                }
                None => Some((l, r)),
            };
            done = r;
        }
    }
    if let Some((pl, pr)) = pending {
        f(pl, pr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn windows(s: &str) -> Vec<&str> {
        let mut v = Vec::new();
        digit_windows(s.as_bytes(), |a, b| v.push(&s[a..b]));
        v
    }

    #[test]
    fn at_windows_merge_when_they_touch() {
        fn spans(s: &str) -> Vec<&str> {
            let mut v = Vec::new();
            at_windows(s.as_bytes(), |a, b| v.push(&s[a..b]));
            v
        }
        assert_eq!(
            spans("mail ann@ex.com or bob@ex.org"),
            vec!["ann@ex.com", "bob@ex.org"]
        );
        assert_eq!(spans("a@b.c@d.org"), vec!["a@b.c@d.org"]);
        assert!(spans("no at sign").is_empty());
    }

    #[test]
    fn digit_gate_skips_dates_and_short_numbers() {
        assert!(windows("2015-10-18 18:01:47,978 INFO port 8080").is_empty());
        assert!(windows("from 10.250.19.102:50010 to 192.168.1.1").is_empty());
        assert_eq!(windows("call (415) 555-0132 now"), vec!["(415) 555-0132 n"]);
        assert_eq!(windows("ssn 536-22-8726."), vec![" 536-22-8726."]);
        assert_eq!(windows("iban GB82 WEST 1234"), vec!["GB82 WEST 1234"]);
    }

    proptest::proptest! {
        #[test]
        fn block_runs_match_the_byte_at_a_time_walk(
            parts in proptest::collection::vec(
                proptest::sample::select(vec!["1", "234", "-", " ", ".", "(", "a", "GB", "\n", "5555555"]),
                0..120,
            )
        ) {
            let hay = parts.concat();
            let hay = hay.as_bytes();
            let mut blocks = Blocks::new(hay);
            for p in (0..hay.len()).filter(|&p| hay[p].is_ascii_digit()) {
                if let Some(run) = blocks.run_at(p) {
                    proptest::prop_assert_eq!(run, walk_run(hay, p), "at {}", p);
                }
                let next = hay[..].iter().skip(p.saturating_sub(3)).position(u8::is_ascii_digit);
                proptest::prop_assert_eq!(
                    blocks.next_digit(p.saturating_sub(3)),
                    next.map(|n| n + p.saturating_sub(3))
                );
            }
        }
    }
}
