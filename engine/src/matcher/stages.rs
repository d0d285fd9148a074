//! Time spent in each stage of the first pass, for the `stage_cost` example.

use super::{gate_matches, Matcher, RawHit};
use crate::error::Result;
use crate::fold::{has_invisible, Folded};
use crate::gate::digit_windows;

impl Matcher {
    /// Seconds each stage of [`Matcher::find`] takes on `hay`, for the `stage_cost` example.
    #[doc(hidden)]
    pub fn stage_times(&self, hay: &[u8]) -> Result<Vec<(&'static str, f64)>> {
        use std::time::Instant;
        let mut times = Vec::new();
        let mut time = |name, f: &mut dyn FnMut() -> Result<()>| -> Result<()> {
            let t = Instant::now();
            f()?;
            times.push((name, t.elapsed().as_secs_f64()));
            Ok(())
        };
        let mut raw_hits = Vec::new();
        time("has_invisible", &mut || {
            std::hint::black_box(has_invisible(hay));
            Ok(())
        })?;
        time("raw database", &mut || {
            raw_hits = self.raw_hits(hay)?;
            Ok(())
        })?;
        // Each hit with what the second stage does with it.
        let hits: Vec<(usize, usize, RawHit)> = raw_hits
            .iter()
            .map(|&h| {
                let (rule, end) = h.rule_end();
                (rule, end, self.second_stage_of(h))
            })
            .collect();
        let of = |kind: RawHit| -> Vec<(usize, usize)> {
            hits.iter()
                .filter(|h| h.2 == kind)
                .map(|h| (h.0, h.1))
                .collect()
        };
        let (at_end, anchors, starts) = (
            of(RawHit::AtEnd),
            of(RawHit::Anchor),
            of(RawHit::ValueStart),
        );
        time("generic rules", &mut || {
            let mut keyed = Vec::new();
            self.keyed.scan(hay, self.timed_path, &mut keyed)?;
            std::hint::black_box(keyed);
            Ok(())
        })?;
        let (n_hits, n_anchors) = (hits.len(), anchors.len());
        time("second stage at raw hits", &mut || {
            let mut out = Vec::new();
            for &(rule, end) in &at_end {
                out.extend(self.match_ending_at(hay, rule, end));
            }
            std::hint::black_box(out);
            Ok(())
        })?;
        time("value runs", &mut || {
            let mut out = Vec::new();
            self.match_value_runs(hay, &starts, &mut out);
            std::hint::black_box(out);
            Ok(())
        })?;
        time("search around anchors", &mut || {
            let mut out = Vec::new();
            self.search_around_anchors(hay, anchors.clone(), &mut out);
            std::hint::black_box(out);
            Ok(())
        })?;
        let mut view = None;
        time("folded view", &mut || {
            view = Some(Folded::new(hay));
            Ok(())
        })?;
        let view = view.expect("folded view");
        let mut folded_hits = Vec::new();
        time("folded database", &mut || {
            folded_hits.clear();
            self.folded
                .scan(view.text(), self.timed_path, &mut folded_hits)?;
            Ok(())
        })?;
        time("second stage at folded hits", &mut || {
            for (rule, end) in folded_hits.iter().map(|h| h.rule_end()) {
                std::hint::black_box(self.match_ending_at(view.text(), rule, end));
            }
            Ok(())
        })?;
        time("digit gate", &mut || {
            let mut n = 0;
            digit_windows(hay, |_, _| n += 1);
            std::hint::black_box(n);
            Ok(())
        })?;
        for (name, set, windows) in self.gate_sets() {
            time(name, &mut || {
                let mut gated = Vec::new();
                gate_matches(set, windows, hay, &mut gated);
                std::hint::black_box(gated);
                Ok(())
            })?;
        }
        time("tag gate and rules", &mut || {
            let mut gated = Vec::new();
            self.tag_matches(hay, &mut gated);
            std::hint::black_box(gated);
            Ok(())
        })?;
        time("URL user-part gate and rules", &mut || {
            let mut found = Vec::new();
            self.userinfo_matches(hay, &mut found);
            std::hint::black_box(found);
            Ok(())
        })?;
        times.push(("(raw hits)", n_hits as f64));
        times.push(("(anchor hits)", n_anchors as f64));
        times.push(("(folded hits)", folded_hits.len() as f64));
        let n_split = self.split.iter().filter(|s| s.is_some()).count();
        times.push(("(split rules)", n_split as f64));
        Ok(times)
    }
}
