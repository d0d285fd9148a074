//! The deep scan of message texts: the normalised view of the regions that call for it, the
//! decoding layers (base64, hex, percent, entities, escapes) and the classifier.

use super::known::KnownSpans;
use super::{Scanner, CLASSIFIER_KIND, CLASSIFIER_RULE_ID};
use crate::decode::{self, Blob};
use crate::error::Result;
use crate::fingerprint;
use crate::normalise;
use crate::rule::Category;
use crate::verdict::Detection;

impl Scanner {
    /// The deep scan of one message text: the classifier, the normalised view and the decoding
    /// layers. `known` are the findings the rules already made in this text, not reported
    /// twice. Detections come back without a pointer: the caller names the text.
    pub(super) fn deep_scan(&self, text: &[u8], known: &[&Detection]) -> Result<Vec<Detection>> {
        let known = KnownSpans::of(known.iter().copied());
        let mut out = self.normalised(text, |id, span| known.overlaps(&id, span))?;
        if !out.iter().any(|d| d.rule_id == CLASSIFIER_RULE_ID) {
            out.extend(self.classify(text));
        }
        out.extend(self.decoded(text, &known)?);
        Ok(out)
    }

    /// The injection findings and the classifier's on the normalised view of the regions of
    /// `text` that call for one (a long text with one look-alike word gets a view of a few KB
    /// around it), at their spans in `text`, with `encoding` "normalised" (or "markup" when
    /// dropping inline markup was the only change). `seen(rule id, span)`: a finding already
    /// made in `text`, not reported again.
    fn normalised(
        &self,
        text: &[u8],
        seen: impl Fn(&str, (usize, usize)) -> bool,
    ) -> Result<Vec<Detection>> {
        let mut out = Vec::new();
        for (from, to) in normalise::regions(text) {
            let part = &text[from..to];
            let view = normalise::normalise(part);
            // Only a view that differs from the text beyond ASCII case needs scanning again
            // (the view itself is lower case).
            if view.text.eq_ignore_ascii_case(part) {
                continue;
            }
            let map = |(s, e): (usize, usize)| {
                (
                    from + view.original(s),
                    from + view.original_end(e, part.len()),
                )
            };
            // Only injection findings are taken from the view: its other rules are not run.
            let mut fingerprints = fingerprint::Memo::new(&self.fingerprinter);
            for f in self.find_with(&view.text, true)? {
                let rule = &self.rules[f.rule];
                let span = map((f.start, f.end));
                if rule.category != Category::Injection || seen(&rule.id, span) {
                    continue;
                }
                let value = &view.text[f.start..f.end];
                if let Some(mut d) = self.detection(f, value, &mut fingerprints, None, Vec::new()) {
                    d.span = span;
                    // Seen once inline markup was dropped, and nothing else changed:
                    // formatting (`**Note:**`), not an evasion.
                    let how = if view.beyond_markup {
                        "normalised"
                    } else {
                        "markup"
                    };
                    d.encoding = Some(how.into());
                    out.push(d);
                }
            }
            if let Some(mut d) = view
                .beyond_markup
                .then(|| self.classify(&view.text))
                .flatten()
            {
                d.span = map(d.span);
                d.encoding = Some("normalised".into());
                out.push(d);
            }
        }
        Ok(out)
    }

    /// Findings inside the encoded blobs of `text`, decoded up to [`decode::MAX_DEPTH`] layers
    /// deep, with the chain of encodings, e.g. `base64>percent`. A finding in a base64 or hex
    /// blob is reported at that blob's whole span (redacting it removes the blob); one in a
    /// region of escapes at the escapes and bytes it was decoded from. A finding whose bytes
    /// stand as they are in `text` is left to the rules' own pass.
    pub(super) fn decoded(&self, text: &[u8], known: &KnownSpans<&str>) -> Result<Vec<Detection>> {
        let mut out = Vec::new();
        if !decode::worth_a_look(text) {
            return Ok(out);
        }
        // Every blob decoded so far with the blob it was found in (none: in `text`) and its
        // chain of encodings; `layer` holds the indices of the newest.
        let mut nodes: Vec<(Blob, Option<usize>, String)> = decode::blobs(text)
            .into_iter()
            .map(|b| {
                let chain = b.encoding.as_str().to_string();
                (b, None, chain)
            })
            .collect();
        // A span in node `n`'s decoded bytes as a span of `text`.
        let in_text = |nodes: &[(Blob, Option<usize>, String)], mut n: usize, s, e| {
            let (mut s, mut e) = (s, e);
            loop {
                let (blob, parent, _) = &nodes[n];
                (s, e) = blob.span_in_text(s, e);
                match parent {
                    Some(p) => n = *p,
                    None => return (s, e),
                }
            }
        };
        let mut layer: Vec<usize> = (0..nodes.len()).collect();
        for depth in 1..=decode::MAX_DEPTH {
            if layer.is_empty() {
                break;
            }
            // One engine call per layer, whatever the number of blobs: their decoded texts
            // joined by newlines, each finding given to the blob it starts in.
            let mut joined = Vec::new();
            let mut starts = Vec::with_capacity(layer.len());
            for &n in &layer {
                starts.push(joined.len());
                joined.extend_from_slice(&nodes[n].0.decoded);
                joined.push(b'\n');
            }
            // The rules' findings in each blob of the layer, in its decoded bytes.
            let mut in_blob: Vec<Vec<(usize, (usize, usize))>> = vec![Vec::new(); layer.len()];
            let mut fingerprints = fingerprint::Memo::new(&self.fingerprinter);
            for f in self.find(&joined)? {
                let k = starts.partition_point(|&s| s <= f.start) - 1;
                let n = layer[k];
                let len = nodes[n].0.decoded.len();
                let (s, e) = (f.start - starts[k], (f.end - starts[k]).min(len));
                in_blob[k].push((f.rule, (s, e)));
                let span = in_text(&nodes, n, s, e);
                let value = &joined[f.start..f.end];
                // The rules' own pass already reported it there. (Bytes that stand as they are
                // in the text are not enough: `%22ghp_…` hides the token from `\bghp_` in the
                // text, and only the decoded `"ghp_…` shows it.) Only a finding that covers it
                // does: a key whose head stands as it is and whose tail is escaped
                // (`sk_live_51Hx…%41%42…`) was matched on its head alone, and the escaped tail
                // must go too.
                let id = &self.rules[f.rule].id;
                if known.covers(&id.as_str(), span) {
                    continue;
                }
                if let Some(mut d) = self.detection(f, value, &mut fingerprints, None, Vec::new()) {
                    d.span = span;
                    d.encoding = Some(nodes[n].2.clone());
                    out.push(d);
                }
            }
            let mut next = Vec::new();
            for (k, &n) in layer.iter().enumerate() {
                let decoded = &nodes[n].0.decoded;
                // Decoded text is disguised as any text may be (look-alike letters, leetspeak
                // or spaced letters under the base64): its normalised view too.
                let mut found = self.normalised(decoded, |id, span| {
                    in_blob[k].iter().any(|&(rule, (s, e))| {
                        self.rules[rule].id == id && s < span.1 && span.0 < e
                    })
                })?;
                if !found.iter().any(|d| d.rule_id == CLASSIFIER_RULE_ID) {
                    found.extend(self.classify(decoded));
                }
                for mut d in found {
                    d.span = in_text(&nodes, n, d.span.0, d.span.1);
                    d.encoding = Some(match d.encoding.take() {
                        Some(how) => format!("{}>{how}", nodes[n].2),
                        None => nodes[n].2.clone(),
                    });
                    out.push(d);
                }
                if depth < decode::MAX_DEPTH {
                    for inner in decode::blobs(&nodes[n].0.decoded) {
                        let chain = format!("{}>{}", nodes[n].2, inner.encoding.as_str());
                        next.push((inner, Some(n), chain));
                    }
                }
            }
            layer = (nodes.len()..nodes.len() + next.len()).collect();
            nodes.extend(next);
        }
        Ok(out)
    }

    /// The classifier's finding for one text, if its score reaches the threshold (without a
    /// pointer: the caller names the text).
    fn classify(&self, text: &[u8]) -> Option<Detection> {
        let c = self.classifier.as_ref()?;
        let (p, (s, e)) = c.score(text)?;
        if p < c.threshold || self.allowlists.has_rule(CLASSIFIER_RULE_ID) {
            return None;
        }
        let fingerprint = self.fingerprinter.fingerprint(&text[s..e]);
        if self.allowlists.has_fingerprint(&fingerprint) {
            return None;
        }
        Some(Detection {
            rule_id: CLASSIFIER_RULE_ID.into(),
            category: Category::Injection,
            kind: CLASSIFIER_KIND.into(),
            confidence: p,
            span: (s, e),
            pointer: None,
            fingerprint,
            action: self.policy.action_for(Category::Injection, CLASSIFIER_KIND),
            encoding: None,
            pieces: Vec::new(),
            score_cap: None,
        })
    }
}
