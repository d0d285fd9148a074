#![no_main]
//! Fuzz target `config_yaml`: see the invariant in parapet_engine::fuzzing / parapet_proxy::fuzzing.

#[allow(dead_code)]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        parapet_proxy::fuzzing::config_yaml(text);
    }
});
