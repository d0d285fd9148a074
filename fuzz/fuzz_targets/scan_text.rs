#![no_main]
//! Fuzz target `scan_text`: see the invariant in parapet_engine::fuzzing / parapet_proxy::fuzzing.

#[allow(dead_code)]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    parapet_engine::fuzzing::scan_text(&common::scanner(), data);
});
