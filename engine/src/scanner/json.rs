//! [`Scanner::scan_json`]: every string of a document in one engine call, then the findings
//! that need the document's shape (keyed values, phrases across members, each string's deep
//! scan) and pointers with secret keys masked.

use std::collections::HashMap;

use super::Scanner;
use crate::error::{EngineError, Result};
use crate::fingerprint;
use crate::input::{self, Problem};
use crate::json::Joined;
use crate::rule::Category;
use crate::verdict::{Detection, Verdict};

impl Scanner {
    /// Scans every string of a JSON document, keys and values, in one engine call. Spans are
    /// byte offsets into the decoded string named by each detection's pointer.
    pub fn scan_json(&self, json: &[u8]) -> Result<Verdict> {
        if json.len() > self.max_bytes {
            return Ok(self.validation_verdict(
                Problem::TooLarge {
                    len: json.len(),
                    max: self.max_bytes,
                },
                None,
            ));
        }
        let mut joined = match Joined::parse(json) {
            Err(EngineError::TooDeep { max }) => {
                let problem = Problem::TooDeep {
                    len: json.len(),
                    max,
                };
                return Ok(self.validation_verdict(problem, None));
            }
            parsed => parsed?,
        };
        let buf = &joined.buf;
        let mut detections = Vec::new();
        // The string of the control-character finding, to name it again if its key is masked.
        let mut control_segment = None;
        if let Some(at) = input::first_control_character(buf).filter(|_| self.control_characters) {
            let seg = joined.segment_at(at).unwrap_or(0);
            control_segment = Some(seg);
            let local = at - joined.segments.get(seg).map_or(0, |s| s.start);
            let pointer = (!joined.segments.is_empty()).then(|| joined.pointer(seg));
            detections.push(self.validation_detection(
                Problem::ControlCharacter {
                    at: local,
                    byte: buf[at],
                },
                pointer,
            ));
        }
        let findings = self.find(buf)?;
        let mut fingerprints = fingerprint::Memo::new(&self.fingerprinter);
        for f in findings {
            let Some(first) = joined.segment_at(f.start) else {
                continue;
            };
            let mut pieces = Vec::new();
            let mut seg = first;
            while let Some(s) = joined.segments.get(seg) {
                if s.start >= f.end {
                    break;
                }
                let (a, b) = (f.start.max(s.start), f.end.min(s.start + s.len));
                if a < b {
                    pieces.push((s.ordinal, a - s.start, b - s.start));
                }
                seg += 1;
            }
            let Some(&(_, s0, e0)) = pieces.first() else {
                continue;
            };
            let mut d = self.detection(
                f,
                &buf[f.start..f.end],
                &mut fingerprints,
                Some(joined.pointer(first)),
                pieces,
            );
            if let Some(d) = d.as_mut() {
                d.span = (s0, e0);
            }
            detections.extend(d);
        }
        let keyed = self.keyed_values(&joined, &detections)?;
        detections.extend(keyed);
        let bridged = self.bridged_phrases(&joined, &detections)?;
        detections.extend(bridged);
        if self.deep {
            // The rules' findings by the string they are in, so each string's deep scan sees
            // its own; a string's pointer is only built when something is found in it.
            let mut by_string: HashMap<usize, Vec<usize>> = HashMap::new();
            for (i, d) in detections.iter().enumerate() {
                for &(ordinal, _, _) in &d.pieces {
                    by_string.entry(ordinal).or_default().push(i);
                }
            }
            let mut found_all = Vec::new();
            for (k, seg) in joined.segments.iter().enumerate() {
                let text = &buf[seg.start..seg.start + seg.len];
                let known: Vec<&Detection> = by_string
                    .get(&seg.ordinal)
                    .map(|ix| ix.iter().map(|&i| &detections[i]).collect())
                    .unwrap_or_default();
                let found = self.deep_scan(text, &known)?;
                if found.is_empty() {
                    continue;
                }
                let pointer = joined.pointer(k);
                for mut d in found {
                    d.pointer = Some(pointer.clone());
                    d.pieces = vec![(seg.ordinal, d.span.0, d.span.1)];
                    found_all.push(d);
                }
            }
            detections.extend(found_all);
        }
        // A key that holds a secret or personal data is written as `[REDACTED:<kind>]` in
        // every pointer (the pointers of the detections in it and under it): a pointer goes to
        // the audit trail and to reports, where the matched bytes never go.
        let secret_keys: Vec<(usize, String)> = detections
            .iter()
            .filter(|d| matches!(d.category, Category::Secret | Category::Pii))
            .filter_map(|d| d.pieces.first().map(|&(seg, _, _)| (seg, d.kind.clone())))
            .filter(|&(seg, _)| joined.segments.get(seg).is_some_and(|s| s.is_key))
            .collect();
        if !secret_keys.is_empty() {
            for (seg, kind) in &secret_keys {
                joined.mask_key(*seg, &format!("[REDACTED:{kind}]"));
            }
            for d in &mut detections {
                let seg = match d.pieces.first() {
                    Some(&(seg, _, _)) => Some(seg),
                    None if d.category == Category::Validation => control_segment,
                    None => None,
                };
                if let (Some(seg), Some(_)) = (seg, &d.pointer) {
                    d.pointer = Some(joined.pointer(seg));
                }
            }
        }
        let buf = &joined.buf;
        // A detection's first piece is in the string its pointer names.
        let text_of = |d: &Detection| {
            let &(ordinal, _, _) = d.pieces.first()?;
            let seg = joined.segments.get(ordinal)?;
            Some(&buf[seg.start..seg.start + seg.len])
        };
        let score = self.score_injections(&mut detections, text_of);
        Ok(Verdict::from_detections(detections).with_injection_score(score))
    }
}
