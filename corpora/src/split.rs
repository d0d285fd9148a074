//! The fixed 80/20 split of the labelled corpora, by a hash of each case's id (FNV-1a, 64-bit):
//! a case is in the test split when the hash is 0 mod 5. The classifier is trained on the rest
//! and every figure that involves it is reported on the test split. Inside the training split,
//! one case in eight (by the same hash) is held out to choose the decision threshold.

/// FNV-1a, 64-bit: small, fixed and documented, so the split never depends on a crate version.
pub fn id_hash(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// Fit the weights.
    Train,
    /// Part of the training split held out to choose the threshold.
    Validation,
    /// Never seen in training.
    Test,
}

pub fn split_of(id: &str) -> Split {
    let h = id_hash(id);
    if h.is_multiple_of(5) {
        Split::Test
    } else if (h / 5).is_multiple_of(8) {
        Split::Validation
    } else {
        Split::Train
    }
}

/// Files the classifier may learn from: every labelled file but loghub's, whose licence is for
/// research use only.
pub fn trainable(file: &str) -> bool {
    !file.starts_with("loghub")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_about_eighty_twenty() {
        let n = 10_000;
        let test = (0..n)
            .filter(|i| split_of(&format!("case-{i}")) == Split::Test)
            .count();
        assert!((1800..2200).contains(&test), "{test}");
        assert_eq!(id_hash(""), 0xcbf2_9ce4_8422_2325);
    }
}
