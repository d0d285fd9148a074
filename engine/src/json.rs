//! The JSON walk: parse a copy with simd-json (it rewrites its buffer in place), then lay every
//! string, keys and values alike, end to end in one buffer separated by newlines, so one engine
//! call covers the whole message and a phrase split across neighbouring fields is still found.
//! Each string remembers its RFC 6901 JSON Pointer and its position in document order.
//! Integers of seven digits or more (a card number sent as a number) follow the strings, as
//! their decimal text: numeric PII rules see them, and redaction turns one into a string.

use std::cell::RefCell;

use simd_json::tape::Node;
use simd_json::{Buffers, StaticNode};

use crate::error::{EngineError, Result};

/// Largest document whose parse reuses this thread's buffers; a larger one gets buffers of
/// its own, so one huge message does not leave them that large.
const REUSED_BUFFERS_MAX: usize = 256 << 10;

/// What parsing a document needs besides its result: the copy simd-json rewrites in place and
/// its working buffers (an aligned copy of the input, the string buffer, structural indexes).
struct ParseBuffers {
    copy: Vec<u8>,
    simd: Buffers,
}

impl ParseBuffers {
    fn new() -> Self {
        ParseBuffers {
            copy: Vec::new(),
            simd: Buffers::new(0),
        }
    }
}

thread_local! {
    /// Kept between documents: a message then costs no allocation for them.
    static BUFFERS: RefCell<ParseBuffers> = RefCell::new(ParseBuffers::new());
}

/// One JSON string inside the joined buffer.
#[derive(Clone, Debug)]
pub struct Segment {
    /// Offset of the decoded string in the joined buffer.
    pub start: usize,
    pub len: usize,
    /// Index of this string among all strings of the document, in document order.
    pub ordinal: usize,
    /// The pointer of the value this string is (or, for a key, names).
    path: usize,
    /// Whether this string is an object key.
    pub is_key: bool,
}

/// Path tree: each node is (parent, token).
struct Paths {
    nodes: Vec<(usize, PathToken)>,
}

enum PathToken {
    Root,
    /// A key as it is written in a pointer: escaped, and shortened when long
    /// ([`pointer_token`]).
    Key(String),
    Index(usize),
}

/// Longest key written whole in a pointer; a longer one keeps its first bytes and its place
/// in the document ([`pointer_token`]).
const TOKEN_MAX: usize = 128;
/// Longest pointer written whole; a longer one keeps its first and last tokens and names the
/// ones between by their count ([`Joined::pointer`]).
const POINTER_MAX: usize = 512;

/// Opens what a pointer writes in place of what it leaves out: `~` then a byte other than
/// `0` or `1`, which no escaped key holds, so no key can spell a shortened one.
const ELIDED: &str = "~…";

/// `key` as an RFC 6901 token (`~` as `~0`, `/` as `~1`). A key longer than [`TOKEN_MAX`]
/// keeps its first bytes (never half an escape), then [`ELIDED`], `#` and `ordinal`, the
/// key's place among the document's strings, so each pointer stays short (every finding under
/// a megabyte key carried the megabyte: 20,000 findings in a 0.5 MB message took 540 MB) and
/// different keys stay apart.
fn pointer_token(key: &str, ordinal: usize) -> String {
    let escaped = if key.contains(['~', '/']) {
        key.replace('~', "~0").replace('/', "~1")
    } else {
        key.to_string()
    };
    if escaped.len() <= TOKEN_MAX {
        return escaped;
    }
    let mut cut = escaped.floor_char_boundary(TOKEN_MAX - 24);
    if escaped[..cut].ends_with('~') {
        cut -= 1;
    }
    format!("{}{ELIDED}#{ordinal}", &escaped[..cut])
}

/// All strings of one document, joined.
pub struct Joined {
    pub buf: Vec<u8>,
    pub segments: Vec<Segment>,
    paths: Paths,
}

pub const SEPARATOR: u8 = b'\n';

/// Deepest nesting of arrays and objects a document may have: deeper ones are refused, as
/// JSON parsers do (Jackson 1,000, simdjson 1,024, serde_json 128); no MCP message comes near
/// it. A finding's pointer is worked out level by level, so this bounds that work too.
pub const MAX_DEPTH: usize = 256;

impl Joined {
    /// Refuses a document nested deeper than [`MAX_DEPTH`] ([`EngineError::TooDeep`]).
    pub fn parse(input: &[u8]) -> Result<Joined> {
        if input.len() <= REUSED_BUFFERS_MAX {
            BUFFERS.with_borrow_mut(|buffers| Self::parse_with(input, buffers))
        } else {
            Self::parse_with(input, &mut ParseBuffers::new())
        }
    }

    fn parse_with(input: &[u8], buffers: &mut ParseBuffers) -> Result<Joined> {
        buffers.copy.clear();
        buffers.copy.extend_from_slice(input);
        match simd_json::to_tape_with_buffers(&mut buffers.copy, &mut buffers.simd) {
            Ok(tape) => Self::from_tape(&tape.0, input),
            Err(e) => {
                // simd-json refuses a number beyond f64's range (`1e400`), which other
                // parsers read as infinity: the document is read again with such numbers
                // written as zero (their mantissa's digits), same length, so every offset
                // stays.
                let numeric = matches!(
                    e.error(),
                    simd_json::ErrorType::InvalidNumber | simd_json::ErrorType::InvalidExponent
                );
                let Some(mut zeroed) = numeric.then(|| zero_overflowing_numbers(input)).flatten()
                else {
                    return Err(EngineError::Json(e.to_string()));
                };
                let mut simd = Buffers::new(zeroed.len());
                let tape = simd_json::to_tape_with_buffers(&mut zeroed, &mut simd)
                    .map_err(|e| EngineError::Json(e.to_string()))?;
                Self::from_tape(&tape.0, input)
            }
        }
    }

    /// The joined strings of a parsed document (`nodes`, from `input`).
    fn from_tape(nodes: &[Node<'_>], input: &[u8]) -> Result<Joined> {
        let mut joined = Joined {
            buf: Vec::with_capacity(input.len()),
            segments: Vec::new(),
            paths: Paths {
                nodes: vec![(0, PathToken::Root)],
            },
        };
        // The tape starts with the root value.
        let mut ordinal = 0;
        joined.walk(nodes, input, &mut ordinal)?;
        Ok(joined)
    }

    fn push_string(&mut self, s: &str, path: usize, is_key: bool, ordinal: &mut usize) {
        if !self.buf.is_empty() {
            self.buf.push(SEPARATOR);
        }
        self.segments.push(Segment {
            start: self.buf.len(),
            len: s.len(),
            ordinal: *ordinal,
            path,
            is_key,
        });
        *ordinal += 1;
        self.buf.extend_from_slice(s.as_bytes());
    }

    /// Walks the tape from the root value, with an explicit stack: nesting depth costs heap,
    /// never call stack (a peer's `[[[[…` must not overflow it).
    fn walk(&mut self, nodes: &[Node<'_>], input: &[u8], ordinal: &mut usize) -> Result<()> {
        // The k-th number node is the k-th number token of the input; a float is read from
        // that token's text (see [`scanned_number_text`]), lexed only when one comes.
        let mut number = 0;
        let mut lexer = NumberLexer::new(input);
        enum Open {
            Object {
                left: usize,
                path: usize,
            },
            Array {
                left: usize,
                next: usize,
                path: usize,
            },
        }
        let mut stack: Vec<Open> = Vec::new();
        let mut j = 0;
        let mut value_path = Some(0);
        while let Some(path) = value_path {
            match nodes.get(j) {
                Some(Node::String(s)) => self.push_string(s, path, false, ordinal),
                Some(Node::Object { .. } | Node::Array { .. }) if stack.len() == MAX_DEPTH => {
                    return Err(EngineError::TooDeep { max: MAX_DEPTH });
                }
                Some(Node::Object { len, .. }) => stack.push(Open::Object { left: *len, path }),
                Some(Node::Array { len, .. }) => stack.push(Open::Array {
                    left: *len,
                    next: 0,
                    path,
                }),
                Some(Node::Static(n)) => {
                    let scanned = match n {
                        StaticNode::I64(_) | StaticNode::U64(_) => {
                            number += 1;
                            scanned_number(n)
                        }
                        StaticNode::F64(_) => {
                            number += 1;
                            lexer
                                .nth(number - 1)
                                .and_then(|(a, b)| scanned_number_text(&input[a..b]))
                        }
                        _ => None,
                    };
                    if let Some(text) = scanned {
                        self.push_string(&text, path, false, ordinal);
                    }
                }
                None => return Ok(()),
            }
            j += 1;
            value_path = None;
            while let Some(top) = stack.last_mut() {
                match top {
                    Open::Object { left, path } if *left > 0 => {
                        *left -= 1;
                        let Some(Node::String(key)) = nodes.get(j) else {
                            return Ok(());
                        };
                        self.paths
                            .nodes
                            .push((*path, PathToken::Key(pointer_token(key, *ordinal))));
                        let child = self.paths.nodes.len() - 1;
                        self.push_string(key, child, true, ordinal);
                        j += 1;
                        value_path = Some(child);
                        break;
                    }
                    Open::Array { left, next, path } if *left > 0 => {
                        *left -= 1;
                        self.paths.nodes.push((*path, PathToken::Index(*next)));
                        *next += 1;
                        value_path = Some(self.paths.nodes.len() - 1);
                        break;
                    }
                    _ => {
                        stack.pop();
                    }
                }
            }
        }
        Ok(())
    }

    /// The (key segment, value segment) pairs of the document where an object member's
    /// value is a string (or a scanned number): the value comes right after its key.
    pub fn key_value_pairs(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.segments.windows(2).enumerate().filter_map(|(i, w)| {
            (w[0].is_key && !w[1].is_key && w[0].path == w[1].path).then_some((i, i + 1))
        })
    }

    /// Writes `token` in place of key segment `segment` in every pointer through it: a key
    /// that holds a secret must not reach the audit trail or a report as part of a pointer.
    pub fn mask_key(&mut self, segment: usize, token: &str) {
        let Some(seg) = self.segments.get(segment).filter(|s| s.is_key) else {
            return;
        };
        if let Some((_, PathToken::Key(k))) = self.paths.nodes.get_mut(seg.path) {
            *k = token.to_string();
        }
    }

    /// The segment holding buffer offset `at` (offsets on a separator belong to the left).
    pub fn segment_at(&self, at: usize) -> Option<usize> {
        let idx = self.segments.partition_point(|s| s.start <= at);
        idx.checked_sub(1)
    }

    /// RFC 6901 pointer of a segment: `/a/0/b`, with `~` and `/` escaped. One longer than
    /// [`POINTER_MAX`] keeps its first and last tokens, up to a quarter and three quarters of
    /// that, and writes those between as `/~…N levels #M…`, M the last of them in the
    /// document's path tree (so two pointers that differ there stay apart): every finding
    /// carries its pointer, and a finding at every level of a deep document made their total
    /// grow with the square of the depth.
    pub fn pointer(&self, segment: usize) -> String {
        // (node, token, its length written), root first.
        let mut path = Vec::new();
        let mut n = self.segments[segment].path;
        while n != 0 {
            let (parent, tok) = &self.paths.nodes[n];
            let len = match tok {
                PathToken::Key(k) => 1 + k.len(),
                PathToken::Index(i) => 2 + i.checked_ilog10().unwrap_or(0) as usize,
                PathToken::Root => 1,
            };
            path.push((n, tok, len));
            n = *parent;
        }
        path.reverse();
        let total: usize = path.iter().map(|p| p.2).sum();
        let mut out = String::with_capacity(total.min(POINTER_MAX + 64));
        let (mut head, mut tail) = (path.len(), path.len());
        if total > POINTER_MAX {
            // The first tokens within a quarter of the budget, the last within the rest.
            let mut used = 0;
            head = path
                .iter()
                .take_while(|p| {
                    used += p.2;
                    used <= POINTER_MAX / 4
                })
                .count();
            used = 0;
            tail = path.len()
                - path[head + 1..]
                    .iter()
                    .rev()
                    .take_while(|p| {
                        used += p.2;
                        used <= POINTER_MAX * 3 / 4
                    })
                    .count();
        }
        for &(_, tok, _) in &path[..head] {
            push_token(&mut out, tok);
        }
        if head < tail {
            out.push('/');
            out.push_str(ELIDED);
            push_number(&mut out, tail - head);
            out.push_str(" levels #");
            push_number(&mut out, path[tail - 1].0);
            out.push('…');
        }
        for &(_, tok, _) in &path[tail..] {
            push_token(&mut out, tok);
        }
        out
    }
}

/// Writes `/` and `tok` to a pointer.
fn push_token(out: &mut String, tok: &PathToken) {
    out.push('/');
    match tok {
        PathToken::Key(k) => out.push_str(k),
        PathToken::Index(i) => push_number(out, *i),
        PathToken::Root => {}
    }
}

/// Writes `n` in decimal (`format!`'s machinery cost more than the rest of a pointer).
fn push_number(out: &mut String, n: usize) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// Integers with seven digits or more: the shortest numeric PII (a phone number without its
/// area code) has seven.
fn is_long_integer(magnitude: u64) -> bool {
    magnitude >= 1_000_000
}

/// Below this, every integer is exact in an f64.
const F64_EXACT: f64 = 9_007_199_254_740_992.0;

/// The text a number is scanned as, if it is scanned: the digits of its magnitude when it is
/// an integer of seven digits or more, written as an integer, a negative number or an
/// integral float (`4532015112830366.0`, as float64 writers print large integers).
fn scanned_number(n: &StaticNode) -> Option<String> {
    let magnitude = match *n {
        StaticNode::I64(n) => n.unsigned_abs(),
        StaticNode::U64(n) => n,
        StaticNode::F64(f) => {
            let m = f.abs();
            if !(m.fract() == 0.0 && m < F64_EXACT) {
                return None;
            }
            m as u64
        }
        _ => return None,
    };
    is_long_integer(magnitude).then(|| magnitude.to_string())
}

/// A scanned value token of raw JSON: a string (its quotes included), or a number with the
/// text it is scanned as ([`scanned_number`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueToken {
    String(usize, usize),
    Number(usize, usize, String),
}

impl ValueToken {
    pub fn range(&self) -> (usize, usize) {
        match *self {
            ValueToken::String(a, b) | ValueToken::Number(a, b, _) => (a, b),
        }
    }
}

/// Every string token and every scanned number token of raw JSON, in document order: the
/// order the walk numbers its segments in, so segment ordinal `k` is token `k`. The input
/// must already have parsed.
pub fn value_tokens(raw: &[u8]) -> Vec<ValueToken> {
    Lexer { raw, at: 0 }
        .filter_map(|t| match t {
            Lexed::String(a, b) => Some(ValueToken::String(a, b)),
            Lexed::Number(a, b) => {
                scanned_number_text(&raw[a..b]).map(|text| ValueToken::Number(a, b, text))
            }
        })
        .collect()
}

/// A string token (quotes included) or a number token of raw JSON.
enum Lexed {
    String(usize, usize),
    Number(usize, usize),
}

/// The string and number tokens of raw JSON that has already parsed, in document order. A
/// number starts with `-` or a digit, so the `e` of `true` and `false` is none; a string ends
/// at the first quote not escaped.
struct Lexer<'a> {
    raw: &'a [u8],
    at: usize,
}

impl Iterator for Lexer<'_> {
    type Item = Lexed;

    fn next(&mut self) -> Option<Lexed> {
        let raw = self.raw;
        while self.at < raw.len() {
            let start = self.at;
            match raw[start] {
                b'"' => {
                    let mut j = start + 1;
                    loop {
                        match memchr::memchr2(b'"', b'\\', &raw[j..]) {
                            Some(p) if raw[j + p] == b'\\' => j += p + 2,
                            Some(p) => {
                                j += p + 1;
                                break;
                            }
                            None => {
                                self.at = raw.len();
                                return None;
                            }
                        }
                    }
                    self.at = j;
                    return Some(Lexed::String(start, j));
                }
                b'-' | b'0'..=b'9' => {
                    let mut end = start;
                    while end < raw.len()
                        && matches!(raw[end], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
                    {
                        end += 1;
                    }
                    self.at = end;
                    return Some(Lexed::Number(start, end));
                }
                _ => self.at += 1,
            }
        }
        None
    }
}

/// The number tokens of raw JSON in document order, lexed only as far as asked: the walk
/// needs the text of a float, and the numbers before it are counted to find it.
struct NumberLexer<'a> {
    tokens: Lexer<'a>,
    /// Number tokens passed so far.
    passed: usize,
}

impl<'a> NumberLexer<'a> {
    fn new(raw: &'a [u8]) -> Self {
        NumberLexer {
            tokens: Lexer { raw, at: 0 },
            passed: 0,
        }
    }

    /// The range of number token `k` (0-based); tokens are asked for in increasing order.
    fn nth(&mut self, k: usize) -> Option<(usize, usize)> {
        let skip = k.checked_sub(self.passed)?;
        let found = self
            .tokens
            .by_ref()
            .filter_map(|t| match t {
                Lexed::Number(a, b) => Some((a, b)),
                Lexed::String(..) => None,
            })
            .nth(skip);
        self.passed = k + 1;
        found
    }
}

/// `input` with every number token beyond f64's range (`1e400`, `-12E+999`, a 400-digit
/// integer) written as a zero of the same length (`0.000`, `-0` for two bytes); `None` when it
/// has none.
fn zero_overflowing_numbers(input: &[u8]) -> Option<Vec<u8>> {
    let mut out: Option<Vec<u8>> = None;
    for t in (Lexer { raw: input, at: 0 }) {
        let Lexed::Number(a, b) = t else { continue };
        let overflows = std::str::from_utf8(&input[a..b])
            .ok()
            .and_then(|t| t.parse::<f64>().ok())
            .is_some_and(|f| f.is_infinite());
        if !overflows {
            continue;
        }
        let out = out.get_or_insert_with(|| input.to_vec());
        let zero = &mut out[a..b];
        match zero.len() {
            1 => zero.copy_from_slice(b"0"),
            2 => zero.copy_from_slice(b"-0"),
            _ => {
                zero.fill(b'0');
                zero[1] = b'.';
            }
        }
    }
    out
}

/// [`scanned_number`] of a number token's text, read by Rust's own parsers: integers exactly,
/// floats correctly rounded. Both the walk (for floats) and [`value_tokens`] decide this way,
/// so they number the same tokens; simd-json's own float reading cannot be trusted for it
/// (0.15 misreads some floats of 19 or more digits).
fn scanned_number_text(text: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(text).ok()?;
    let node = match (text.parse::<i64>(), text.parse::<u64>()) {
        (Ok(n), _) => StaticNode::I64(n),
        (_, Ok(n)) => StaticNode::U64(n),
        _ => StaticNode::F64(text.parse::<f64>().ok()?),
    };
    scanned_number(&node)
}

/// Byte ranges of every string token (quotes included) in raw JSON, in document order. The
/// input must already have parsed.
pub fn string_tokens(raw: &[u8]) -> Vec<(usize, usize)> {
    Lexer { raw, at: 0 }
        .filter_map(|t| match t {
            Lexed::String(a, b) => Some((a, b)),
            Lexed::Number(..) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(j: &Joined) -> Vec<(String, String)> {
        (0..j.segments.len())
            .map(|k| {
                let seg = &j.segments[k];
                let text = &j.buf[seg.start..seg.start + seg.len];
                (j.pointer(k), String::from_utf8_lossy(text).into_owned())
            })
            .collect()
    }

    #[test]
    fn reused_buffers_change_nothing() {
        let long = format!(
            r#"{{"a":"{}","b":["x\n\u00e9",{{"c":"d"}}]}}"#,
            "y".repeat(100_000)
        );
        let short = br#"{"k":"v\"q","l":[1,"two"]}"#;
        let huge = format!(r#"["{}"]"#, "z".repeat(REUSED_BUFFERS_MAX + 10));
        let fresh =
            |doc: &[u8]| strings(&Joined::parse_with(doc, &mut ParseBuffers::new()).unwrap());
        // A long document, then a short one and a failing one on the same thread's buffers.
        for doc in [
            long.as_bytes(),
            &short[..],
            huge.as_bytes(),
            &short[..],
            long.as_bytes(),
        ] {
            assert_eq!(strings(&Joined::parse(doc).unwrap()), fresh(doc));
            assert!(Joined::parse(br#"{"k": [1, 2"#).is_err());
        }
    }

    #[test]
    fn nesting_past_the_limit_is_refused_without_using_the_call_stack() {
        let nested = |n: usize| {
            let mut doc = "[".repeat(n);
            doc.push_str("\"deep\"");
            doc.push_str(&"]".repeat(n));
            doc
        };
        for n in [MAX_DEPTH + 1, 200_000] {
            assert!(matches!(
                Joined::parse(nested(n).as_bytes()),
                Err(EngineError::TooDeep { max: MAX_DEPTH })
            ));
        }
        let j = Joined::parse(nested(MAX_DEPTH).as_bytes()).unwrap();
        assert_eq!(j.segments.len(), 1);
        let mut obj = "{\"k\":".repeat(MAX_DEPTH);
        obj.push_str("\"v\"");
        obj.push_str(&"}".repeat(MAX_DEPTH));
        let j = Joined::parse(obj.as_bytes()).unwrap();
        assert_eq!(j.segments.len(), MAX_DEPTH + 1);
    }

    #[test]
    fn long_pointers_keep_their_ends_and_stay_apart() {
        // A finding at every level of a deep document, and under a long key: each pointer
        // stays within the budget, keeps its first and last tokens, and differs from every
        // other string's.
        // Two levels each: an object, then an array.
        let depth = MAX_DEPTH / 2 - 1;
        let mut doc = String::new();
        for i in 0..depth {
            doc.push_str(&format!(r#"{{"k{i}":["v{i}","#));
        }
        doc.push('0');
        doc.push_str(&"]}".repeat(depth));
        let j = Joined::parse(doc.as_bytes()).unwrap();
        let pointers: Vec<String> = (0..j.segments.len()).map(|s| j.pointer(s)).collect();
        for p in &pointers {
            assert!(p.len() <= POINTER_MAX + 64, "{} bytes", p.len());
        }
        let deepest = pointers.last().unwrap();
        assert!(deepest.starts_with("/k0/1/k1/1/"), "{deepest}");
        assert!(
            deepest.ends_with(&format!("/k{}/0", depth - 1)),
            "{deepest}"
        );
        assert!(deepest.contains(" levels #"), "{deepest}");
        let distinct: std::collections::HashSet<&String> = pointers.iter().collect();
        assert_eq!(distinct.len(), pointers.len());
        // Short pointers are written whole.
        assert_eq!(pointers[1], "/k0/0");

        let (a, b) = ("a".repeat(1000) + "1", "a".repeat(1000) + "2");
        let doc = format!(r#"{{"{a}":"x","{b}":"y"}}"#);
        let j = Joined::parse(doc.as_bytes()).unwrap();
        let (pa, pb) = (j.pointer(1), j.pointer(3));
        assert!(
            pa.len() <= TOKEN_MAX + 1 && pb.len() <= TOKEN_MAX + 1,
            "{pa} {pb}"
        );
        assert!(pa.starts_with("/aaaa") && pa.contains('…'), "{pa}");
        assert_ne!(pa, pb);

        // No key spells another's shortened form, and a cut never leaves half an escape.
        let long = "a".repeat(200);
        let forged = format!("{}…#0", "a".repeat(104));
        let split = format!("{}/{}", "a".repeat(103), "b".repeat(100));
        let doc = serde_json::json!({ &long: "p", &forged: "q", &split: "r" }).to_string();
        let j = Joined::parse(doc.as_bytes()).unwrap();
        let pointers: Vec<String> = (0..j.segments.len())
            .filter(|&s| !j.segments[s].is_key)
            .map(|s| j.pointer(s))
            .collect();
        assert_eq!(pointers.len(), 3);
        let distinct: std::collections::HashSet<&String> = pointers.iter().collect();
        assert_eq!(distinct.len(), 3, "{pointers:?}");
        for p in &pointers {
            let bytes = p.as_bytes();
            for (i, _) in p.match_indices('~') {
                assert!(
                    matches!(bytes.get(i + 1), Some(b'0' | b'1')) || p[i..].starts_with(ELIDED),
                    "{p}"
                );
            }
        }
    }

    #[test]
    fn the_walk_and_the_token_list_number_the_same_values() {
        // Floats simd-json may misread (19+ digits) at every buffer position, beside integers
        // and strings: segment k must be token k, or redaction rewrites the wrong string.
        for pad in 0..80 {
            for number in [
                "1000000.000000000000000",
                "4532015112830366.0",
                "-4532015112830366",
                "123456789012345678901234567890",
                "0.5",
                "1e400",
                "12345678",
            ] {
                let doc = format!(
                    r#"{{"p":"{}","n":[{number},true,null,false],"t":"tok","m":{{"k":-1.5e7}}}}"#,
                    "x".repeat(pad)
                );
                let Ok(j) = Joined::parse(doc.as_bytes()) else {
                    continue;
                };
                let tokens = value_tokens(doc.as_bytes());
                assert_eq!(j.segments.len(), tokens.len(), "{doc}: {tokens:?}");
                for (seg, tok) in j.segments.iter().zip(&tokens) {
                    let text = &j.buf[seg.start..seg.start + seg.len];
                    if let ValueToken::Number(_, _, scanned) = tok {
                        assert_eq!(text, scanned.as_bytes(), "{doc}");
                    }
                }
            }
        }
    }

    #[test]
    fn pointers_and_order() {
        let doc = br#"{"a":{"b/c":["x","y\n"]},"d":"\u00e9"}"#;
        let j = Joined::parse(doc).unwrap();
        let texts: Vec<&[u8]> = j
            .segments
            .iter()
            .map(|s| &j.buf[s.start..s.start + s.len])
            .collect();
        assert_eq!(
            texts,
            vec![&b"a"[..], b"b/c", b"x", b"y\n", b"d", "é".as_bytes()]
        );
        assert_eq!(j.pointer(2), "/a/b~1c/0");
        assert_eq!(j.pointer(3), "/a/b~1c/1");
        assert_eq!(j.pointer(5), "/d");
        assert_eq!(string_tokens(doc).len(), 6);
    }
}
