//! The classifier's folded view and the two ways its features are read from it. The view is
//! built sixteen bytes at a time wherever a block needs no care byte by byte. Scoring reads the
//! view's 4-grams and its words in two separate loops (the fast way); training reads them in
//! one loop, in the order of the text, which is the order its sums were made in. Both give the
//! same set of features, which the property test below checks.

use super::{gram_feature, is_word_byte, pair_feature, word_feature, word_hash};
use crate::bytemask::{masks_at, Lanes};
// The shipped model was trained on a view without zero-width characters only; it will drop
// the wider set of the rules' view (`fold::invisible_len`) when it is next retrained.
use crate::fold::zero_width_len;

/// Each byte's folded form: whitespace a space, digits `0`, ASCII letters lower case.
static FOLD: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = match c {
            b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => b' ',
            b'0'..=b'9' => b'0',
            b'A'..=b'Z' => c | 0x20,
            _ => c,
        };
        b += 1;
    }
    t
};

/// Typographic punctuation read as its ASCII form (curly quotes, dashes, ellipsis, no-break
/// space), with its length: `‘Ignore’` and `'Ignore'` give the same features.
#[inline]
fn typographic(s: &[u8]) -> Option<(u8, usize)> {
    match s {
        [0xC2, 0xA0, ..] => Some((b' ', 2)),
        [0xE2, 0x80, b, ..] => match b {
            0x98..=0x9B => Some((b'\'', 3)),
            0x9C..=0x9F => Some((b'"', 3)),
            0x90..=0x95 => Some((b'-', 3)),
            0xA6 => Some((b'.', 3)),
            _ => None,
        },
        _ => None,
    }
}

/// The folded form of the character at `text[i]` (`None` for an invisible one, which is
/// dropped) and where the next one starts.
#[inline]
fn fold_at(text: &[u8], i: usize) -> (Option<u8>, usize) {
    let b = text[i];
    if !matches!(b, 0xC2 | 0xE2 | 0xEF) {
        return (Some(FOLD[b as usize]), i + 1);
    }
    if let Some(len) = zero_width_len(&text[i..]) {
        return (None, i + len);
    }
    match typographic(&text[i..]) {
        Some((ascii, len)) => (Some(ascii), i + len),
        None => (Some(b), i + 1),
    }
}

/// Fills `out` with the folded view of `text` that [`super::features`] reads: a space, then
/// each character folded (ASCII letters lower case, digits `0`, whitespace a space, typographic
/// punctuation as ASCII, invisible characters dropped) with whitespace runs as one space, then
/// a closing space unless the view already ends with one.
pub fn folded(text: &[u8], out: &mut Vec<u8>) {
    // No character gives more than one byte, so the view fits in the text plus its two spaces;
    // a block is stored at most one byte past where it was read.
    out.clear();
    out.resize(text.len() + 2, 0);
    out[0] = b' ';
    let (mut i, mut n, mut last) = (0, 1, b' ');
    while let Some(block) = text.get(i..i + 16) {
        let v = Lanes::load(block.try_into().expect("16 bytes"));
        let ws = v.eq(b' ').or(v.within(b'\t', 4));
        let ws_bits = u32::from(ws.bits());
        let ws_pairs = ws_bits & (ws_bits << 1 | u32::from(last == b' '));
        let special = v.any_of(&[0xC2, 0xE2, 0xEF]).bits();
        if special != 0 || ws_pairs != 0 {
            // Invisible or typographic characters, or a whitespace run to fold: byte by byte
            // (a character may end past the block).
            let end = i + 16;
            while i < end {
                i = step(text, i, out, &mut n, &mut last);
            }
            continue;
        }
        let lower = v.within(b'A', 25).select(v.or(Lanes::splat(0x20)), v);
        let digits = v.within(b'0', 9).select(Lanes::splat(b'0'), lower);
        let view = ws.select(Lanes::splat(b' '), digits).to_bytes();
        out[n..n + 16].copy_from_slice(&view);
        n += 16;
        last = view[15];
        i += 16;
    }
    while i < text.len() {
        i = step(text, i, out, &mut n, &mut last);
    }
    out[n] = b' ';
    n += usize::from(last != b' ');
    out.truncate(n);
}

/// Folds the character at `text[i]` into `out[*n]`, a space after a space being dropped;
/// returns where the next character starts.
#[inline]
fn step(text: &[u8], i: usize, out: &mut [u8], n: &mut usize, last: &mut u8) -> usize {
    let (c, next) = fold_at(text, i);
    if let Some(c) = c {
        out[*n] = c;
        // A dropped byte is a space after a space, so `last` is `c` either way.
        *n += usize::from(!(c == b' ' && *last == b' '));
        *last = c;
    }
    next
}

/// Calls `f(index)` for every feature of a folded view (a feature that occurs twice is passed
/// twice): every 4-gram, then every word and every pair of neighbouring words.
#[inline(always)]
pub fn features(view: &[u8], mut f: impl FnMut(u32)) {
    for gram in view.windows(4) {
        f(gram_feature(u32::from_be_bytes(
            gram.try_into().expect("4 bytes"),
        )));
    }
    // Words are found from bit masks of word bytes, 64 at a time: where each starts and where
    // each ends, in turn (a loop byte by byte mispredicted at the end of every word).
    let (mut base, mut start, mut last_was_word, mut prev_word) = (0, 0, false, None);
    while base < view.len() {
        let [m] = masks_at(view, base, |v| {
            // A lane's top bit is set for a non-ASCII byte, which is a word byte.
            [v.ascii_letter().or(v.within(b'0', 9)).or(v.eq(b'\'')).or(v)]
        });
        // A bit set where a byte is a word byte and the one before is not, or the other way.
        let mut edges = m ^ (m << 1 | u64::from(last_was_word));
        while edges != 0 {
            let k = edges.trailing_zeros();
            let at = base + k as usize;
            if m >> k & 1 != 0 {
                start = at;
            } else {
                let word = word_hash(view, start, at);
                f(word_feature(word));
                if let Some(prev) = prev_word {
                    f(pair_feature(prev, word));
                }
                prev_word = Some(word);
            }
            edges &= edges - 1;
        }
        last_was_word = m >> 63 != 0;
        base += 64;
    }
}

/// The same features as [`features`], in the order of the text: at each byte of the view its
/// 4-gram, and where a word has just ended the word and the pair.
pub fn features_in_text_order(view: &[u8], mut f: impl FnMut(u32)) {
    let (mut gram, mut word_start, mut prev_word) = (0u32, None, None);
    for (j, &c) in view.iter().enumerate() {
        gram = gram << 8 | u32::from(c);
        if j >= 3 {
            f(gram_feature(gram));
        }
        if is_word_byte(c) {
            word_start.get_or_insert(j);
        } else if let Some(start) = word_start.take() {
            let word = word_hash(view, start, j);
            f(word_feature(word));
            if let Some(prev) = prev_word {
                f(pair_feature(prev, word));
            }
            prev_word = Some(word);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{distinct_features, distinct_features_fast, Scratch};
    use super::*;

    /// The view one character at a time, with no block path.
    fn folded_slowly(text: &[u8]) -> Vec<u8> {
        let mut out = vec![0; text.len() + 2];
        out[0] = b' ';
        let (mut i, mut n, mut last) = (0, 1, b' ');
        while i < text.len() {
            i = step(text, i, &mut out, &mut n, &mut last);
        }
        out[n] = b' ';
        n += usize::from(last != b' ');
        out.truncate(n);
        out
    }

    fn sorted(mut v: Vec<u32>) -> Vec<u32> {
        v.sort_unstable();
        v
    }

    const PARTS: &[&str] = &[
        "Ignore ",
        "PREVIOUS",
        " instructions",
        "  ",
        "\n\t",
        " ",
        "42",
        "don't",
        ".",
        "a",
        "\u{200b}",
        "\u{00ad}",
        "\u{feff}",
        "\u{2060}",
        "\u{00a0}",
        "\u{2019}",
        "\u{201c}",
        "\u{2014}",
        "\u{2026}",
        "\u{2122}",
        "\u{00e9}",
        "日本語",
        "🙂",
        "\u{ff49}",
        "\r\n",
        "0123456789abcdef",
        "ABCDEFGHIJKLMNOP",
        "QRSTUVWXYZ@[`{/:",
        "x y z w v u t s ",
        "\x08\x0e\x1f\x7f~}|",
        "The Quick Brown Fox",
    ];

    #[test]
    fn block_edges_and_lone_lead_bytes() {
        // A character cut by the end of the text, or one that starts a byte before a block
        // ends, must fold as it does byte by byte.
        for tail in [&b"\xe2"[..], b"\xe2\x80", b"\xc2", b"\xef\xbb", b"  ", b"A"] {
            for pad in 0..40 {
                let mut text = vec![b'q'; pad];
                text.extend_from_slice("\u{200b}\u{2019} \u{00a0}x".as_bytes());
                text.extend_from_slice(tail);
                let mut fast = Vec::new();
                folded(&text, &mut fast);
                assert_eq!(fast, folded_slowly(&text), "pad {pad} tail {tail:?}");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn view_matches_byte_at_a_time_and_both_readers_give_one_set(
            parts in proptest::collection::vec(proptest::sample::select(PARTS), 0..80),
            cut in 0usize..4,
        ) {
            let joined = parts.concat();
            // Cutting bytes off the end leaves broken UTF-8 there.
            let text = &joined.as_bytes()[..joined.len().saturating_sub(cut)];
            let mut fast = Vec::new();
            folded(text, &mut fast);
            proptest::prop_assert_eq!(&fast, &folded_slowly(text));
            let (mut seen, mut one_pass) = (Vec::new(), Vec::new());
            distinct_features(text, &mut seen, &mut one_pass);
            let mut scratch = Scratch::default();
            let fast = distinct_features_fast(text, &mut scratch).to_vec();
            proptest::prop_assert_eq!(sorted(fast), sorted(one_pass.clone()));
            // The scratch buffers are reused as they were left, for a shorter text too.
            let half = &text[..text.len() / 2];
            distinct_features(half, &mut seen, &mut one_pass);
            let fast = distinct_features_fast(half, &mut scratch).to_vec();
            proptest::prop_assert_eq!(sorted(fast), sorted(one_pass.clone()));
            proptest::prop_assert!(seen.iter().all(|&w| w == 0));
            proptest::prop_assert!(scratch.seen.iter().all(|&w| w == 0));
        }
    }
}
