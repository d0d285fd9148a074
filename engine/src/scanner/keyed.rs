//! Values stored under a key that names a secret (`{"password": "…"}`), scanned again as
//! `"key": "value"` so key-value rules see the key they need.

use super::known::KnownSpans;
use super::Scanner;
use crate::error::Result;
use crate::fingerprint;
use crate::json::Joined;
use crate::rule::Category;
use crate::verdict::Detection;

/// Whether an object key names something secret enough that its value is scanned again as
/// `"key": "value"` ([`Scanner::keyed_values`]).
fn names_a_secret(key: &[u8]) -> bool {
    const WORDS: &[&[u8]] = &[
        b"pass",
        b"pwd",
        b"secret",
        b"token",
        b"key",
        b"auth",
        b"credential",
        b"cookie",
        b"session",
        b"bearer",
        b"private",
        b"signature",
        b"dsn",
        b"conn",
    ];
    key.len() <= 64
        && WORDS
            .iter()
            .any(|w| key.windows(w.len()).any(|k| k.eq_ignore_ascii_case(w)))
}

impl Scanner {
    /// Values stored under a key that names a secret (`{"password": "…"}`). The joined buffer
    /// has a line break between a key and its value, where key-value rules want `:` or `=`:
    /// each such pair is scanned again as `"key": "value"`, and what is found inside the value
    /// is reported there (unless the main pass found it already).
    pub(super) fn keyed_values(
        &self,
        joined: &Joined,
        known: &[Detection],
    ) -> Result<Vec<Detection>> {
        let segs = &joined.segments;
        let mut buf = Vec::new();
        // (offset of the value in `buf`, its segment)
        let mut values: Vec<(usize, usize)> = Vec::new();
        for (k, v) in joined.key_value_pairs() {
            let key = &joined.buf[segs[k].start..segs[k].start + segs[k].len];
            if !names_a_secret(key) {
                continue;
            }
            let value = &joined.buf[segs[v].start..segs[v].start + segs[v].len];
            buf.push(b'"');
            buf.extend_from_slice(key);
            buf.extend_from_slice(b"\": \"");
            values.push((buf.len(), v));
            buf.extend_from_slice(value);
            buf.extend_from_slice(b"\"\n");
        }
        let mut out = Vec::new();
        if values.is_empty() {
            return Ok(out);
        }
        let mut fingerprints = fingerprint::Memo::new(&self.fingerprinter);
        // What each string already has found in it, by rule: the main pass's pieces, then the
        // findings made here.
        let mut covered = KnownSpans::of_pieces(known);
        for f in self.find(&buf)? {
            let Some(i) = values
                .partition_point(|&(at, _)| at <= f.start)
                .checked_sub(1)
            else {
                continue;
            };
            let (at, v) = values[i];
            let seg = &segs[v];
            if f.end > at + seg.len {
                continue;
            }
            let (s, mut e) = (f.start - at, f.end - at);
            // A secret taken from the value's start is the value: the whole string goes, where
            // the rule's own end (at a quote, space or comma, as in text) would leave a tail.
            // The fingerprint stays the match's, which allowlists compare.
            if s == 0 && self.rules[f.rule].category == Category::Secret {
                e = seg.len;
            }
            // Seen only when a finding of the rule already covers it: the main pass may have
            // found the same rule on a part of the value (`AKIA…` at the head of a password),
            // and the whole value must still go.
            let rule = self.rules[f.rule].id.as_str();
            if covered.covers(&(rule, seg.ordinal), (s, e)) {
                continue;
            }
            let pieces = vec![(seg.ordinal, s, e)];
            if let Some(mut d) = self.detection(
                f,
                &buf[f.start..f.end],
                &mut fingerprints,
                Some(joined.pointer(v)),
                pieces,
            ) {
                d.span = (s, e);
                covered.add((rule, seg.ordinal), (s, e));
                out.push(d);
            }
        }
        Ok(out)
    }
}
