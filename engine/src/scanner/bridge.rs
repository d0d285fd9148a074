//! Phrases split across object members: in the joined buffer every key sits between the
//! values around it (`{"a":"Ignore","b":"previous instructions"}` joins as `a`, `Ignore`, `b`,
//! `previous instructions`), so a phrase cut at a member boundary has a key in the middle and
//! no phrase rule reads it. Each such boundary gets a bridge — the end of the value before
//! it and the start of the value after it, keys left out — and the bridges are searched with
//! the injection rules alone. Only a match that crosses its bridge's middle is new: one inside
//! a value was found in the joined buffer already. A phrase spread over three or more values
//! with keys between them is not read (each bridge joins two).

use super::{Finding, Scanner};
use crate::error::Result;
use crate::json::{Joined, SEPARATOR};
use crate::verdict::Detection;

/// Bytes taken from each side of a boundary: longer than any phrase rule's match needs on
/// one side of a cut.
const SIDE: usize = 128;

/// Between two bridges: a NUL between line breaks, which no phrase rule's word gaps (`\s`)
/// nor its `.` cross, so a match stays in its bridge.
const BARRIER: &[u8] = b"\n\0\n";

/// One bridge in the bridge buffer: where it starts, where its right side starts and ends, and
/// the two segments with the offset in the left one where its tail begins.
struct Bridge {
    start: usize,
    right: usize,
    end: usize,
    left_seg: usize,
    tail_from: usize,
    right_seg: usize,
}

/// `s[from..]` with `from` moved forward to a character boundary.
fn char_start(s: &[u8], mut from: usize) -> usize {
    while from < s.len() && (s[from] & 0xC0) == 0x80 {
        from += 1;
    }
    from
}

/// `s[..to]` with `to` moved back to a character boundary.
fn char_end(s: &[u8], mut to: usize) -> usize {
    while to > 0 && to < s.len() && (s[to] & 0xC0) == 0x80 {
        to -= 1;
    }
    to
}

impl Scanner {
    /// The injection findings that run across a member boundary of `joined` (see the module
    /// doc), not already among `known`.
    pub(super) fn bridged_phrases(
        &self,
        joined: &Joined,
        known: &[Detection],
    ) -> Result<Vec<Detection>> {
        let segs = &joined.segments;
        let text = |i: usize| &joined.buf[segs[i].start..segs[i].start + segs[i].len];
        let mut buf = Vec::new();
        let mut bridges: Vec<Bridge> = Vec::new();
        let mut last_value: Option<usize> = None;
        let mut keys_since = false;
        for (i, seg) in segs.iter().enumerate() {
            if seg.is_key {
                keys_since = true;
                continue;
            }
            if let (Some(left), true) = (last_value, keys_since) {
                let (l, r) = (text(left), text(i));
                if l.iter().any(u8::is_ascii_alphabetic) && r.iter().any(u8::is_ascii_alphabetic) {
                    let tail_from = char_start(l, l.len().saturating_sub(SIDE));
                    let head_to = char_end(r, SIDE.min(r.len()));
                    let start = buf.len();
                    buf.extend_from_slice(&l[tail_from..]);
                    buf.push(SEPARATOR);
                    let right = buf.len();
                    buf.extend_from_slice(&r[..head_to]);
                    let end = buf.len();
                    buf.extend_from_slice(BARRIER);
                    bridges.push(Bridge {
                        start,
                        right,
                        end,
                        left_seg: left,
                        tail_from,
                        right_seg: i,
                    });
                }
            }
            last_value = Some(i);
            keys_since = false;
        }
        let mut out = Vec::new();
        if bridges.is_empty() {
            return Ok(out);
        }
        for f in self.find_with(&buf, true)? {
            let Some(b) = bridges
                .partition_point(|b| b.start <= f.start)
                .checked_sub(1)
                .map(|k| &bridges[k])
            else {
                continue;
            };
            // Only a match with bytes on both sides of the bridge's middle is new.
            if f.start >= b.right - 1 || f.end <= b.right {
                continue;
            }
            let (left, right) = (&segs[b.left_seg], &segs[b.right_seg]);
            // A rule whose gaps allow any byte could still run past the barrier: its match
            // is cut at the end of this bridge.
            let head_len = f.end.min(b.end) - b.right;
            let pieces = vec![
                (left.ordinal, b.tail_from + (f.start - b.start), left.len),
                (right.ordinal, 0, head_len),
            ];
            if self.already_found(f, &pieces, known.iter().chain(&out)) {
                continue;
            }
            if let Some(mut d) = self.detection(
                f,
                &buf[f.start..f.end],
                Some(joined.pointer(b.left_seg)),
                pieces.clone(),
            ) {
                d.span = (pieces[0].1, pieces[0].2);
                out.push(d);
            }
        }
        Ok(out)
    }

    /// Whether `f`'s rule already has a finding that overlaps one of `pieces`.
    fn already_found<'a>(
        &self,
        f: Finding,
        pieces: &[(usize, usize, usize)],
        known: impl Iterator<Item = &'a Detection>,
    ) -> bool {
        let rule = &self.rules[f.rule].id;
        known.into_iter().any(|d| {
            d.rule_id == *rule
                && d.pieces.iter().any(|&(o, a, b)| {
                    pieces
                        .iter()
                        .any(|&(po, ps, pe)| po == o && a < pe && ps < b)
                })
        })
    }
}
