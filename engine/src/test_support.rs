//! Helpers shared by the engine's unit tests and its benchmarks ([`crate::internals`]).

/// A seeded pseudo-random pick below `n` (a 64-bit LCG's high bits): the same inputs in every
/// run.
pub fn picker(seed: u64) -> impl FnMut(usize) -> usize {
    let mut x = seed;
    move |n| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) as usize % n
    }
}
