//! Phrases split across object members: in the joined buffer every key sits between the
//! values around it (`{"a":"Ignore","b":"previous instructions"}` joins as `a`, `Ignore`, `b`,
//! `previous instructions`), so a phrase cut at a member boundary has a key in the middle and
//! no phrase rule reads it. The values on either side of each member boundary are laid out
//! again without their keys — a chain of values, each short one whole and a long one by its
//! start and its end — and the chains are searched with the injection rules alone. Only a
//! match that runs across a boundary is new: one inside a value was found in the joined
//! buffer already.

use super::known::KnownSpans;
use super::Scanner;
use crate::error::Result;
use crate::fingerprint;
use crate::json::{Joined, SEPARATOR};
use crate::verdict::Detection;

/// Bytes taken from each end of a long value: longer than any phrase rule's match needs on
/// one side of a cut.
const SIDE: usize = 128;

/// Between two chains (and between the start and the end of a long value): a NUL between
/// line breaks, which no phrase rule's word gaps (`\s`) nor its `.` cross.
const BARRIER: &[u8] = b"\n\0\n";

/// A piece of a value in the chain buffer: where it sits there, its segment, and where it
/// starts in the value.
struct Piece {
    at: usize,
    len: usize,
    seg: usize,
    from: usize,
    /// The first piece of its chain: no boundary before it.
    opens_chain: bool,
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

/// The chains of `joined` laid out in one buffer, with their pieces; none when no member
/// boundary has a value with letters (or any non-ASCII character) on both sides (a chain is laid out at its first
/// boundary).
fn chains(joined: &Joined) -> (Vec<u8>, Vec<Piece>) {
    let segs = &joined.segments;
    let text = |i: usize| &joined.buf[segs[i].start..segs[i].start + segs[i].len];
    let mut buf = Vec::new();
    let mut pieces: Vec<Piece> = Vec::new();
    // The value the current chain ends with (its tail is the chain's last piece).
    let mut chain_end: Option<usize> = None;
    let mut keys_since = false;
    // The start of a chain not laid out yet: (segment, from, to).
    let mut opener: Option<(usize, usize, usize)> = None;
    let mut push = |buf: &mut Vec<u8>, seg: usize, from: usize, to: usize, opens: bool| {
        if opens && !buf.is_empty() {
            buf.extend_from_slice(BARRIER);
        } else if !opens {
            buf.push(SEPARATOR);
        }
        pieces.push(Piece {
            at: buf.len(),
            len: to - from,
            seg,
            from,
            opens_chain: opens,
        });
        buf.extend_from_slice(&text(seg)[from..to]);
    };
    for (i, seg) in segs.iter().enumerate() {
        if seg.is_key {
            keys_since = true;
            continue;
        }
        let value = text(i);
        // Letters: ASCII ones, or any non-ASCII character (Cyrillic, Greek, Devanagari… words
        // are split across members as English ones are).
        let worded = value.iter().any(|&b| b.is_ascii_alphabetic() || b >= 0x80);
        let long = value.len() > 2 * SIDE;
        let joins = keys_since && worded && chain_end.is_some();
        keys_since = false;
        if !worded {
            chain_end = None;
            opener = None;
            continue;
        }
        if joins {
            // A chain is laid out only once it has a boundary: its first value then.
            if let Some((seg, from, to)) = opener.take() {
                push(&mut buf, seg, from, to, true);
            }
            let head_to = if long {
                char_end(value, SIDE)
            } else {
                value.len()
            };
            push(&mut buf, i, 0, head_to, false);
        }
        if long || !joins {
            // A new chain starts with this value's end (all of it when short).
            let tail_from = if long {
                char_start(value, value.len() - SIDE)
            } else {
                0
            };
            opener = Some((i, tail_from, value.len()));
        }
        chain_end = Some(i);
    }
    // Only chains with a boundary were laid out: no boundary, no pieces.
    (buf, pieces)
}

impl Scanner {
    /// The injection findings that run across a member boundary of `joined` (see the module
    /// doc), not already among `known`.
    pub(super) fn bridged_phrases(
        &self,
        joined: &Joined,
        known: &[Detection],
    ) -> Result<Vec<Detection>> {
        let (buf, pieces) = chains(joined);
        let mut out: Vec<Detection> = Vec::new();
        if pieces.is_empty() {
            return Ok(out);
        }
        let segs = &joined.segments;
        let mut fingerprints = fingerprint::Memo::new(&self.fingerprinter);
        // The pieces found before, by rule and string, and those found here.
        let mut known = KnownSpans::of_pieces(known);
        for f in self.find_with(&buf, true)? {
            let first = pieces.partition_point(|p| p.at + p.len <= f.start);
            let mut covered = Vec::new();
            for p in pieces[first..].iter().take_while(|p| p.at < f.end) {
                // A match never runs across a chain's start (the barrier stops it).
                if p.opens_chain && !covered.is_empty() {
                    break;
                }
                let (a, b) = (f.start.max(p.at), f.end.min(p.at + p.len));
                if a < b {
                    let seg = &segs[p.seg];
                    covered.push((seg.ordinal, p.from + a - p.at, p.from + b - p.at, p.seg));
                }
            }
            // Only a match across a boundary (two values) is new.
            if covered.len() < 2 {
                continue;
            }
            let found: Vec<(usize, usize, usize)> =
                covered.iter().map(|&(o, s, e, _)| (o, s, e)).collect();
            let rule = self.rules[f.rule].id.as_str();
            let seen = found
                .iter()
                .any(|&(o, s, e)| known.overlaps(&(rule, o), (s, e)));
            if seen {
                continue;
            }
            let pointer = joined.pointer(covered[0].3);
            if let Some(mut d) = self.detection(
                f,
                &buf[f.start..f.end],
                &mut fingerprints,
                Some(pointer),
                found.clone(),
            ) {
                d.span = (found[0].1, found[0].2);
                for &(o, s, e) in &found {
                    known.add((rule, o), (s, e));
                }
                out.push(d);
            }
        }
        Ok(out)
    }
}
