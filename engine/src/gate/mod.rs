//! Byte gates for the rules that have no literal to anchor them: numeric PII runs only where
//! a run of digits and separators holds enough digits (or may start an IBAN), e-mail
//! addresses only around an `@` with an address-shaped word on each side, and credentials in
//! URLs only around an `@` that closes a URL's user part (`scheme://user:password@`), and
//! dotted tokens only around two dots seven bytes apart, and text hidden in Unicode tag
//! characters only in runs of them ([`tags`]). Each gate calls back with the windows its rules'
//! regexes should search.

use crate::bytemask;

mod shapes;
mod tags;

pub(crate) use shapes::applies_to as shapes_apply_to;
pub use tags::tag_windows;

#[inline]
fn is_digit_sep(b: u8) -> bool {
    matches!(b, b' ' | b'-' | b'.' | b'(' | b')' | b'/')
}

/// Digits a run needs before its window is searched.
const MIN_RUN_DIGITS: u32 = 7;

/// Calls `f(from, to)` for each window that could hold numeric PII: a run of digits and
/// separators with at least 7 digits, or two capitals and two digits that may start an IBAN.
pub fn digit_windows(hay: &[u8], mut f: impl FnMut(usize, usize)) {
    let mut blocks = Blocks::new(hay);
    let mut i = 0;
    while let Some(p) = blocks.next_candidate(i) {
        let run = blocks.run_at(p).unwrap_or_else(|| walk_run(hay, p));
        if let Some((from, to)) = window_of_run(hay, p, &run) {
            f(from, to);
        }
        i = run.end.max(p + 1);
    }
}

/// [`digit_windows`] without the windows whose digit groups fit none of the built-in numeric
/// rules' shapes ([`shapes`]): for a digit gate that holds only those rules.
pub fn shaped_digit_windows(hay: &[u8], mut f: impl FnMut(usize, usize)) {
    digit_windows(hay, |from, to| {
        if shapes::may_hold_numeric_pii(hay, from, to) {
            f(from, to)
        }
    })
}

/// The window to search for the run that starts at digit `p`, if it may hold numeric PII.
#[inline]
fn window_of_run(hay: &[u8], p: usize, run: &Run) -> Option<(usize, usize)> {
    let iban_head = p >= 2
        && hay[p - 2].is_ascii_uppercase()
        && hay[p - 1].is_ascii_uppercase()
        && (p == 2 || !hay[p - 3].is_ascii_alphanumeric())
        && hay.get(p + 1).is_some_and(u8::is_ascii_digit);
    if iban_head {
        return Some((p - 2, (p + 44).min(hay.len())));
    }
    if run.digits < MIN_RUN_DIGITS {
        return None;
    }
    let before = if p > 0 { hay[p - 1] } else { b' ' };
    let glued_to_word = before.is_ascii_alphabetic() || before == b'_';
    let digits = &hay[p..run.end];
    if looks_like_date(digits) || looks_like_ipv4(digits) || glued_to_word && run.seps == 0 {
        return None;
    }
    Some((p.saturating_sub(1), (run.end + 1).min(hay.len())))
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

/// Bit masks of one 64-byte block: bit i set when byte i is a digit, a separator of numbers
/// ([`is_digit_sep`]), or an ASCII capital.
#[derive(Clone, Copy, Default)]
struct Masks {
    digit: u64,
    sep: u64,
    upper: u64,
}

impl Masks {
    /// Masks of the 64 bytes at `base`; bytes past the end of `hay` count as none of the three.
    #[inline]
    fn at(hay: &[u8], base: usize) -> Masks {
        let [digit, sep, upper] = bytemask::masks_at(hay, base, |v| {
            [v.within(b'0', 9), v.any_of(b" -.()/"), v.within(b'A', 25)]
        });
        Masks { digit, sep, upper }
    }
}

/// The masks of the block being looked at and of the next: runs are found with bit operations,
/// only a run that reaches past its block is walked byte by byte, and only the digits where a
/// run long enough to matter (or an IBAN head) may start are visited at all.
struct Blocks<'a> {
    hay: &'a [u8],
    base: usize,
    this: Masks,
    next: Masks,
    /// Digits of this block where 7 digits-or-separators in a row start, or where two capitals
    /// before and a digit after may make an IBAN head.
    candidates: u64,
}

impl<'a> Blocks<'a> {
    fn new(hay: &'a [u8]) -> Self {
        Blocks {
            hay,
            base: usize::MAX,
            this: Masks::default(),
            next: Masks::default(),
            candidates: 0,
        }
    }

    /// Loads the masks of the block that holds `i`; false past the end of `hay`.
    fn load(&mut self, i: usize) -> bool {
        let base = i & !63;
        if base >= self.hay.len() {
            return false;
        }
        if base != self.base {
            self.this = if base == self.base.wrapping_add(64) {
                self.next
            } else {
                Masks::at(self.hay, base)
            };
            self.next = Masks::at(self.hay, base + 64);
            self.base = base;
            self.candidates = self.candidates();
        }
        true
    }

    fn candidates(&self) -> u64 {
        let wide = |m: fn(&Masks) -> u64| m(&self.this) as u128 | (m(&self.next) as u128) << 64;
        let class = wide(|m| m.digit | m.sep);
        // Bit i set when bytes i..i+7 are all digits or separators: runs of two, four, then
        // seven by doubling (three shifts of the 128-bit mask instead of six).
        const _: () = assert!(MIN_RUN_DIGITS == 7);
        let two = class & (class >> 1);
        let four = two & (two >> 2);
        let long = four & (four >> 3);
        let digit = wide(|m| m.digit);
        // Capitals shifted up by two, the last two bytes of the previous block below them.
        let before = |k: usize| {
            let b = self.base.checked_sub(k).map(|j| self.hay[j]);
            b.is_some_and(|b| b.is_ascii_uppercase()) as u128
        };
        let upper = (self.this.upper as u128) << 2 | before(1) << 1 | before(2);
        let iban = digit & (digit >> 1) & upper & (upper >> 1);
        ((long | iban) as u64) & self.this.digit
    }

    /// The first digit at or after `i` that may start a run worth a window.
    fn next_candidate(&mut self, mut i: usize) -> Option<usize> {
        while self.load(i) {
            let bits = self.candidates & (!0u64 << (i - self.base));
            if bits != 0 {
                return Some(self.base + bits.trailing_zeros() as usize);
            }
            i = self.base + 64;
        }
        None
    }

    /// The run at `p` if it ends inside `p`'s block.
    fn run_at(&mut self, p: usize) -> Option<Run> {
        if !self.load(p) {
            return None;
        }
        let (digit, sep) = (self.this.digit, self.this.sep);
        let off = p - self.base;
        let from = !0u64 << off;
        let other = !(digit | sep) & from;
        if other == 0 {
            return None;
        }
        let triple = sep & (sep >> 1) & (sep >> 2) & from;
        let end = (other.trailing_zeros()).min(triple.trailing_zeros().saturating_add(2));
        let span = from & !(!0u64 << end);
        let end = self.base + end as usize;
        // Padding past the end of `hay` is neither digit nor separator.
        debug_assert!(end <= self.hay.len());
        Some(Run {
            end,
            digits: (digit & span).count_ones(),
            seps: (sep & span).count_ones(),
        })
    }
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

/// Calls `f(from, to)` once for each run of `windows` (in order of their start) that overlap
/// or touch.
fn merge_touching(windows: impl Iterator<Item = (usize, usize)>, mut f: impl FnMut(usize, usize)) {
    let mut pending: Option<(usize, usize)> = None;
    for (from, to) in windows {
        pending = match pending {
            Some((pl, pr)) if from <= pr => Some((pl, pr.max(to))),
            Some((pl, pr)) => {
                f(pl, pr);
                Some((from, to))
            }
            None => Some((from, to)),
        };
    }
    if let Some((pl, pr)) = pending {
        f(pl, pr);
    }
}

/// Bytes of a base64url token.
#[inline]
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Token bytes a dotted token holds before its first dot: at least, and at most.
const DOTTED_HEAD: (usize, usize) = (24, 26);
/// Longest part after the second dot.
const DOTTED_TAIL_MAX: usize = 38;

/// Calls `f(from, to)` around each pair of dots seven bytes apart with six token bytes between
/// and at least 24 before the first (`<id>.<time>.<hmac>`); the window takes the whole token
/// and the byte before it, and after it a full stop and the byte after that. Windows that overlap or touch are merged.
///
/// Blocks of 64 bytes are read every 56, so a pair that starts in the first 56 bytes of a
/// block ends inside it: pairs are found with bit operations, and only their heads are walked.
pub fn dotted_windows(hay: &[u8], f: impl FnMut(usize, usize)) {
    const STEP: usize = 56;
    let mut windows = Vec::new();
    let mut base = 0;
    while base < hay.len() {
        let [dot] = bytemask::masks_at(hay, base, |v| [v.eq(b'.')]);
        let mut pairs = dot & dot >> 7 & ((1u64 << STEP) - 1);
        if pairs != 0 {
            // Rarely reached: most blocks hold no two dots seven apart.
            let [token] = bytemask::masks_at(hay, base, |v| {
                [v.ascii_letter().or(v.within(b'0', 9)).or(v.any_of(b"_-"))]
            });
            pairs &= token >> 1 & token >> 2 & token >> 3 & token >> 4 & token >> 5 & token >> 6;
        }
        while pairs != 0 {
            let first = base + pairs.trailing_zeros() as usize;
            pairs &= pairs - 1;
            let head = first >= DOTTED_HEAD.0
                && hay[first - DOTTED_HEAD.0..first]
                    .iter()
                    .all(|&b| is_token_byte(b));
            if head {
                windows.push((
                    first.saturating_sub(DOTTED_HEAD.1 + 1),
                    (first + 7 + DOTTED_TAIL_MAX + 3).min(hay.len()),
                ));
            }
        }
        base += STEP;
    }
    merge_touching(windows.into_iter(), f);
}

/// Calls `f(from, to)` around each `@` that has an address-shaped word on both sides (after
/// it, a domain with a dot and two letters, where a top-level domain may start); windows that
/// overlap or touch are merged, so a run of `a@b.co@b.co…` is searched once.
pub fn at_windows(hay: &[u8], f: impl FnMut(usize, usize)) {
    let mut done = 0;
    let windows = memchr::memchr_iter(b'@', hay).filter_map(|at| {
        if at < done {
            return None;
        }
        let mut l = at;
        while l > 0 && at - l < 64 && is_local_part(hay[l - 1]) {
            l -= 1;
        }
        let mut r = at + 1;
        while r < hay.len() && r - at < 256 && is_domain_part(hay[r]) {
            r += 1;
        }
        let tld =
            |w: &[u8]| w[0] == b'.' && w[1].is_ascii_alphabetic() && w[2].is_ascii_alphabetic();
        if l < at && hay[at + 1..r].windows(3).any(tld) {
            done = r;
            Some((l, r))
        } else {
            None
        }
    });
    merge_touching(windows, f);
}

/// Longest `user:password` a URL credential rule reports (64-byte user, colon, 255-byte
/// password), with room to spare.
const USERINFO_MAX: usize = 330;
/// Longest scheme before `://` (`postgresql+psycopg2`, `git+ssh`).
const SCHEME_MAX: usize = 40;
/// How much of the host after the `@` a window takes.
const HOST_MAX: usize = 256;

/// Bytes that cannot occur between a URL's `://` and the `@` that ends its user part.
#[inline]
fn ends_userinfo(b: u8) -> bool {
    b.is_ascii_whitespace() || matches!(b, b'/' | b'@' | b'"' | b'\'' | b'<' | b'>')
}

#[inline]
fn is_scheme_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'-')
}

#[inline]
fn is_host_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'[' | b']' | b':')
}

/// Calls `f(from, to)` around each `@` that closes the user part of a URL: from the first byte
/// its scheme may start at to the end of its host. Runs of `http://` without an `@`, the text
/// that made the URL rules slow in Hyperscan, cost one `memchr`. Windows that overlap or touch
/// are merged.
pub fn userinfo_windows(hay: &[u8], f: impl FnMut(usize, usize)) {
    // Only an `@` after the first `://` can close a user part (`a@b.a@b.…` costs one search).
    let Some(first) = memchr::memmem::find(hay, b"://") else {
        return;
    };
    let windows = memchr::memchr_iter(b'@', &hay[first..]).filter_map(|i| {
        let at = i + first;
        let floor = at.saturating_sub(USERINFO_MAX);
        let mut i = at;
        while i > floor && !ends_userinfo(hay[i - 1]) {
            i -= 1;
        }
        if i < 3 || &hay[i - 3..i] != b"://" {
            return None;
        }
        let mut from = i - 3;
        let scheme_floor = from.saturating_sub(SCHEME_MAX);
        while from > scheme_floor && is_scheme_byte(hay[from - 1]) {
            from -= 1;
        }
        let mut to = at + 1;
        while to < hay.len() && to - at <= HOST_MAX && is_host_byte(hay[to]) {
            to += 1;
        }
        Some((from, to))
    });
    merge_touching(windows, f);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn userinfo(s: &str) -> Vec<&str> {
        let mut v = Vec::new();
        userinfo_windows(s.as_bytes(), |a, b| v.push(&s[a..b]));
        v
    }

    #[test]
    fn userinfo_windows_hold_the_whole_url_credential() {
        assert_eq!(
            userinfo("clone git+https://bot:s3cr3t@git.example.dev/x.git now"),
            ["git+https://bot:s3cr3t@git.example.dev"]
        );
        assert_eq!(
            userinfo("redis://:pw@[::1]:6379/0"),
            ["redis://:pw@[::1]:6379"]
        );
        // No `://` before the `@` in the same token: an e-mail, a decorator, a scoped package.
        assert!(userinfo("mail ops@example.com, @app.route, npm i @scope/pkg").is_empty());
        assert!(userinfo("see https://example.com/a then ops@example.com").is_empty());
        assert!(userinfo(&"http://".repeat(1000)).is_empty());
        // Two credentials in one string merge only when their windows touch.
        assert_eq!(userinfo("a://u:p@h b://v:q@k").len(), 2);
    }

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
        assert_eq!(spans("a@b.co@d.org"), vec!["a@b.co@d.org"]);
        // No top-level domain after the first `@`: only the second one is looked at.
        assert_eq!(spans("a@b.c@d.org"), vec!["b.c@d.org"]);
        assert!(spans("a@b.a@b.a@b.").is_empty());
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

    /// The gate as first written: every run is walked from its first digit.
    fn windows_walking_every_run(hay: &[u8]) -> Vec<(usize, usize)> {
        let mut v = Vec::new();
        let mut i = 0;
        while let Some(p) = hay[i..].iter().position(u8::is_ascii_digit).map(|p| i + p) {
            let run = walk_run(hay, p);
            v.extend(window_of_run(hay, p, &run));
            i = run.end.max(p + 1);
        }
        v
    }

    proptest::proptest! {
        #[test]
        fn block_runs_match_the_byte_at_a_time_walk(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "1", "234", "-", " ", ".", "(", "a", "GB", "\n", "5555555", "DE89", "2015-10-18",
                ]),
                0..160,
            )
        ) {
            let hay = parts.concat();
            let hay = hay.as_bytes();
            let mut blocks = Blocks::new(hay);
            for p in (0..hay.len()).filter(|&p| hay[p].is_ascii_digit()) {
                if let Some(run) = blocks.run_at(p) {
                    proptest::prop_assert_eq!(run, walk_run(hay, p), "at {}", p);
                }
            }
            let mut windows = Vec::new();
            digit_windows(hay, |a, b| windows.push((a, b)));
            proptest::prop_assert_eq!(windows, windows_walking_every_run(hay));
        }
    }

    /// The dotted gate's windows, looking at every dot in turn.
    fn dotted_windows_slowly(hay: &[u8]) -> Vec<(usize, usize)> {
        let mut v = Vec::new();
        let dots = (0..hay.len()).filter(|&d| hay[d] == b'.');
        let windows = dots.filter_map(|d| {
            let shaped = hay.get(d + 7) == Some(&b'.')
                && d >= DOTTED_HEAD.0
                && hay[d + 1..d + 7].iter().all(|&b| is_token_byte(b))
                && hay[d - DOTTED_HEAD.0..d].iter().all(|&b| is_token_byte(b));
            shaped.then(|| {
                (
                    d.saturating_sub(DOTTED_HEAD.1 + 1),
                    (d + 7 + DOTTED_TAIL_MAX + 3).min(hay.len()),
                )
            })
        });
        merge_touching(windows, |a, b| v.push((a, b)));
        v
    }

    #[test]
    fn dotted_windows_hold_the_whole_token() {
        let token = "NTU1MjAwNDk0NjA2NzQ4OTgz.gjmUhB.el31iEl2hpChYgCfrL1spNxnyVm";
        for pad in 0..130 {
            let hay = format!("{}\"{token}\" and www.google.com", " ".repeat(pad));
            let mut v = Vec::new();
            dotted_windows(hay.as_bytes(), |a, b| v.push(&hay[a..b]));
            assert_eq!(v.len(), 1, "pad {pad}");
            assert!(v[0].contains(token), "pad {pad}: {}", v[0]);
        }
    }

    proptest::proptest! {
        #[test]
        fn dotted_blocks_match_the_dot_at_a_time_walk(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    ".", "abcdef", "NTU1MjAwNDk0NjA2NzQ4OTgz", "gjmUhB", "-", "_", " ", "x", "..",
                ]),
                0..120,
            )
        ) {
            let hay = parts.concat();
            let mut fast = Vec::new();
            dotted_windows(hay.as_bytes(), |a, b| fast.push((a, b)));
            proptest::prop_assert_eq!(fast, dotted_windows_slowly(hay.as_bytes()));
        }
    }
}
