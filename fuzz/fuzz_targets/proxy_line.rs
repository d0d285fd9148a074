#![no_main]
//! Fuzz target `proxy_line`: see the invariant in parapet_engine::fuzzing / parapet_proxy::fuzzing.

#[allow(dead_code)]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    parapet_proxy::fuzzing::pipeline_line(common::scanner(), data);
});
