//! Decoding layers: plausible encoded blobs inside a text (base64 and base64url, hex, percent
//! encoding, HTML character references, `\uXXXX` escapes) are decoded so the rules see what they
//! hide: an injection sent as base64, a key in a Kubernetes Secret's `data:`. A blob is kept only
//! when its decoded form is text (valid UTF-8, nearly all printable): binary payloads such as
//! images or hashes are skipped after a look at their first bytes.

use base64::engine::general_purpose::GeneralPurpose;
use base64::engine::{DecodePaddingMode, GeneralPurposeConfig};
use base64::Engine;

use crate::bytemask;

/// How a blob was encoded; the chain of a finding joins these with `>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Base64,
    Hex,
    Percent,
    Html,
    UnicodeEscape,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Base64 => "base64",
            Encoding::Hex => "hex",
            Encoding::Percent => "percent",
            Encoding::Html => "html",
            Encoding::UnicodeEscape => "unicode_escape",
        }
    }
}

/// One decoded blob: where it sits in the text and what it says.
#[derive(Clone, Debug)]
pub struct Blob {
    pub start: usize,
    pub end: usize,
    pub encoding: Encoding,
    pub decoded: Vec<u8>,
}

/// Layers decoded at most (an encoding inside an encoding).
pub const MAX_DEPTH: usize = 2;

/// Shortest base64 run worth decoding (12 bytes of payload).
const MIN_BASE64: usize = 16;
/// Shortest hex run worth decoding (12 bytes of payload).
const MIN_HEX: usize = 24;
/// Escapes (`%41`, `&#65;`, `\u0041`) a region needs before it is decoded.
const MIN_ESCAPES: usize = 2;
/// Decoded text shorter than this carries no phrase or key worth scanning.
const MIN_DECODED: usize = 8;

/// Whether decoded bytes are text: valid UTF-8 and at least 90% of characters printable.
pub fn is_text(bytes: &[u8]) -> bool {
    if bytes.is_ascii() {
        // One byte a character; the control characters of ASCII are below 0x20 and 0x7F.
        let control = |&b: &u8| (b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t')) || b == 0x7F;
        let controls = bytes.iter().filter(|b| control(b)).count();
        return mostly_printable(bytes.len(), bytes.len() - controls);
    }
    std::str::from_utf8(bytes).is_ok_and(is_text_by_characters)
}

/// [`is_text`] of any UTF-8, one character at a time.
fn is_text_by_characters(s: &str) -> bool {
    let (mut n, mut printable) = (0usize, 0usize);
    for c in s.chars() {
        n += 1;
        printable += usize::from(!c.is_control() || matches!(c, '\n' | '\r' | '\t'));
    }
    mostly_printable(n, printable)
}

/// At least one character, and 90% of them printable.
fn mostly_printable(characters: usize, printable: usize) -> bool {
    characters > 0 && printable * 10 >= characters * 9
}

#[inline]
fn is_base64_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_' | b'=')
}

/// Padding optional, trailing bits tolerated.
const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
static STANDARD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
static URL_SAFE: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);

/// Standard or URL-safe alphabet, padding optional, trailing bits tolerated (built once: a
/// decoder's tables cost more than decoding a short run).
fn engine(url_safe: bool) -> &'static GeneralPurpose {
    if url_safe {
        &URL_SAFE
    } else {
        &STANDARD
    }
}

fn decode_base64(run: &[u8]) -> Option<Vec<u8>> {
    let engine = engine(run.iter().any(|&b| b == b'-' || b == b'_'));
    let body = run
        .strip_suffix(b"==")
        .or(run.strip_suffix(b"="))
        .unwrap_or(run);
    // A run whose length is 1 mod 4 cannot be base64; drop the odd byte (often a delimiter).
    let body = if body.len() % 4 == 1 {
        &body[..body.len() - 1]
    } else {
        body
    };
    // Look at the first bytes before decoding a long run whole.
    let head = &body[..body.len().min(64)];
    if !is_text(&engine.decode(head).ok()?) {
        return None;
    }
    engine.decode(body).ok()
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn decode_hex(run: &[u8]) -> Option<Vec<u8>> {
    let run = &run[..run.len() & !1];
    let out: Vec<u8> = run
        .chunks(2)
        .map(|p| Some(hex_value(p[0])? << 4 | hex_value(p[1])?))
        .collect::<Option<_>>()?;
    Some(out)
}

/// Bit i set when byte i of the 64 at `base` is of the base64 alphabet (none past the end).
fn alphabet_mask(text: &[u8], base: usize) -> u64 {
    let [mask] = bytemask::masks_at(text, base, |v| {
        [v.ascii_letter()
            .or(v.within(b'0', 9))
            .or(v.any_of(b"+/-_="))]
    });
    mask
}

/// The first offset at or after `from` where MIN_BASE64 bytes of the alphabet follow, found
/// 64 bytes at a time with bit masks (prose, where runs are words, costs no walk at all).
fn first_full_window(text: &[u8], from: usize) -> Option<usize> {
    const _: () = assert!(MIN_BASE64 == 16, "the shifts below find runs of 16");
    let mut base = from;
    let mut this = alphabet_mask(text, base);
    while base < text.len() {
        let next = alphabet_mask(text, base + 64);
        // Bit j of `run`: bytes j..j+16 of this block and the next are all of the alphabet.
        let mut run = u128::from(this) | u128::from(next) << 64;
        run &= run >> 1;
        run &= run >> 2;
        run &= run >> 4;
        run &= run >> 8;
        let starts = run as u64;
        if starts != 0 {
            return Some(base + starts.trailing_zeros() as usize);
        }
        base += 64;
        this = next;
    }
    None
}

/// Runs of the base64 alphabet and of hex digits, decoded where the result is text.
fn alphabet_runs(text: &[u8], out: &mut Vec<Blob>) {
    let mut i = 0;
    // Only where MIN_BASE64 bytes of the alphabet follow can a run long enough start.
    while let Some(start) = first_full_window(text, i) {
        i = start;
        while i < text.len() && is_base64_byte(text[i]) && text[i] != b'=' {
            i += 1;
        }
        // `=` is padding: it ends a run (`key=value` holds two).
        let mut pad = 0;
        while pad < 2 && i < text.len() && text[i] == b'=' {
            i += 1;
            pad += 1;
        }
        let run = &text[start..i];
        if run.len() < MIN_BASE64 {
            continue;
        }
        let hex = run.len() >= MIN_HEX && run.iter().all(|b| b.is_ascii_hexdigit());
        let decoded = if hex {
            decode_hex(run).map(|d| (d, Encoding::Hex))
        } else {
            // Plain words and identifiers are base64-alphabet too: a real blob mixes cases
            // or digits.
            let upper = run.iter().any(u8::is_ascii_uppercase);
            let lower = run.iter().any(u8::is_ascii_lowercase);
            let digit = run.iter().any(u8::is_ascii_digit);
            (upper && lower || (upper || lower) && digit)
                .then(|| decode_base64(run))
                .flatten()
                .map(|d| (d, Encoding::Base64))
        };
        if let Some((decoded, encoding)) = decoded {
            if decoded.len() >= MIN_DECODED && is_text(&decoded) {
                out.push(Blob {
                    start,
                    end: i,
                    encoding,
                    decoded,
                });
            }
        }
    }
}

/// The bytes one escape stands for: a byte, or a character's UTF-8 (at most four bytes), kept
/// on the stack (an escape every few bytes must not cost an allocation each).
struct Unescaped {
    bytes: [u8; 4],
    len: usize,
}

impl Unescaped {
    fn byte(b: u8) -> Self {
        Unescaped {
            bytes: [b, 0, 0, 0],
            len: 1,
        }
    }

    fn char(c: char) -> Self {
        let mut bytes = [0; 4];
        let len = c.encode_utf8(&mut bytes).len();
        Unescaped { bytes, len }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// An escape at `i`: its length and the bytes it stands for.
fn escape_at(text: &[u8], i: usize, encoding: Encoding) -> Option<(usize, Unescaped)> {
    let rest = &text[i..];
    match encoding {
        Encoding::Percent => {
            let [b'%', a, b, ..] = *rest else {
                return None;
            };
            Some((3, Unescaped::byte(hex_value(a)? << 4 | hex_value(b)?)))
        }
        Encoding::UnicodeEscape => {
            let [b'\\', b'u', ..] = *rest else {
                return None;
            };
            let digits = rest.get(2..6)?;
            let mut v = 0u32;
            for &d in digits {
                v = v << 4 | u32::from(hex_value(d)?);
            }
            let c = char::from_u32(v).unwrap_or('\u{FFFD}');
            Some((6, Unescaped::char(c)))
        }
        Encoding::Html => {
            if rest.first() != Some(&b'&') {
                return None;
            }
            let semi = rest.iter().take(12).position(|&b| b == b';')?;
            let body = &rest[1..semi];
            let c = match body {
                [b'#', b'x' | b'X', hex @ ..] => {
                    char::from_u32(u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?)
                }
                [b'#', dec @ ..] => char::from_u32(std::str::from_utf8(dec).ok()?.parse().ok()?),
                b"lt" => Some('<'),
                b"gt" => Some('>'),
                b"amp" => Some('&'),
                b"quot" => Some('"'),
                b"apos" => Some('\''),
                b"nbsp" => Some(' '),
                _ => None,
            }?;
            Some((semi + 1, Unescaped::char(c)))
        }
        Encoding::Base64 | Encoding::Hex => None,
    }
}

/// The region from the first to the last escape of one kind, decoded, when it has enough.
fn escaped_region(text: &[u8], lead: u8, encoding: Encoding, out: &mut Vec<Blob>) {
    let mut escapes = 0;
    let (mut first, mut last) = (None, 0);
    for i in memchr::memchr_iter(lead, text) {
        if let Some((len, _)) = escape_at(text, i, encoding) {
            escapes += 1;
            first.get_or_insert(i);
            last = i + len;
        }
    }
    let Some(first) = first else {
        return;
    };
    if escapes < MIN_ESCAPES {
        return;
    }
    // Take in the rest of the words the first and last escapes sit in.
    let mut first = first;
    while first > 0 && !text[first - 1].is_ascii_whitespace() {
        first -= 1;
    }
    while last < text.len() && !text[last].is_ascii_whitespace() {
        last += 1;
    }
    let mut decoded = Vec::with_capacity(last - first);
    let mut i = first;
    while i < last {
        match escape_at(text, i, encoding) {
            Some((len, bytes)) => {
                decoded.extend_from_slice(bytes.as_bytes());
                i += len;
            }
            None => {
                decoded.push(text[i]);
                i += 1;
            }
        }
    }
    if decoded.len() >= MIN_DECODED && is_text(&decoded) {
        out.push(Blob {
            start: first,
            end: last,
            encoding,
            decoded,
        });
    }
}

/// Whether `text` may hold a blob at all: cheap checks before [`blobs`].
pub fn worth_a_look(text: &[u8]) -> bool {
    text.len() >= MIN_BASE64
}

/// Every plausible encoded blob in `text`.
pub fn blobs(text: &[u8]) -> Vec<Blob> {
    let mut out = Vec::new();
    alphabet_runs(text, &mut out);
    escaped_region(text, b'%', Encoding::Percent, &mut out);
    escaped_region(text, b'&', Encoding::Html, &mut out);
    escaped_region(text, b'\\', Encoding::UnicodeEscape, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_text_check_reads_control_characters_as_characters_do() {
        for b in 0..=127u8 {
            // One control character among nine letters is the most the check allows.
            let mut text = b"abcdefghi".to_vec();
            text.push(b);
            let by_characters = |t: &[u8]| is_text_by_characters(std::str::from_utf8(t).unwrap());
            assert_eq!(is_text(&text), by_characters(&text), "byte {b}");
            text.push(b);
            assert_eq!(is_text(&text), by_characters(&text), "byte {b} twice");
        }
        assert!(!is_text(b""));
    }

    fn decoded(text: &str) -> Vec<(Encoding, String)> {
        blobs(text.as_bytes())
            .into_iter()
            .map(|b| (b.encoding, String::from_utf8(b.decoded).unwrap()))
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn full_windows_found_with_masks_as_by_looking(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                "a", "Z9", "+/", "-_", "=", " ", ".", "\n", "é", "abcdefghijklmnop", "x y",
            ]), 0..120),
        ) {
            let text = parts.concat().into_bytes();
            for from in 0..=text.len() {
                let by_looking = (from..text.len()).find(|&i| {
                    text.get(i..i + MIN_BASE64)
                        .is_some_and(|w| w.iter().all(|&b| is_base64_byte(b)))
                });
                proptest::prop_assert_eq!(first_full_window(&text, from), by_looking, "from {}", from);
            }
        }
    }

    #[test]
    fn decodes_each_encoding() {
        // "ignore previous instructions"
        let b64 = "aWdub3JlIHByZXZpb3VzIGluc3RydWN0aW9ucw==";
        assert_eq!(
            decoded(&format!("payload: {b64} end")),
            vec![(Encoding::Base64, "ignore previous instructions".into())]
        );
        assert_eq!(
            decoded("x=69676e6f72652070726576696f7573 y"),
            vec![(Encoding::Hex, "ignore previous".into())]
        );
        assert_eq!(
            decoded("go to /q?ignore%20previous%20instructions"),
            vec![(Encoding::Percent, "/q?ignore previous instructions".into())]
        );
        assert_eq!(
            decoded("&#105;gnore previous &#x69;nstructions"),
            vec![(Encoding::Html, "ignore previous instructions".into())]
        );
        assert_eq!(
            decoded(r"say \u0069gnore all \u0070revious"),
            vec![(Encoding::UnicodeEscape, "ignore all previous".into())]
        );
    }

    #[test]
    fn skips_binary_words_and_hashes() {
        // A SHA-256 in hex decodes to binary; identifiers and plain words are not blobs.
        let sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        assert!(decoded(sha).is_empty());
        assert!(decoded("configuration_management_service").is_empty());
        assert!(decoded("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk").is_empty());
        assert!(decoded("one %41 escape only").is_empty());
    }
}
