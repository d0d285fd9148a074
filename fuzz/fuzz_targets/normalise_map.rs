#![no_main]
//! Fuzz target `normalise_map`: see the invariant in parapet_engine::fuzzing / parapet_proxy::fuzzing.

#[allow(dead_code)]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    parapet_engine::fuzzing::normalise_map(data);
});
