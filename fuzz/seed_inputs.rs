//! Seed inputs of a fuzz target (fuzz/seeds/<target>/, crash reproducers included) plus a
//! prefix of each every few bytes, for the `cargo test` runs of the fuzz invariants. Included
//! with `#[path]` by engine/tests/fuzz_seeds.rs and proxy/tests/fuzz_seeds.rs.

use std::path::Path;

pub fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/seeds")
        .join(target);
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    assert!(!out.is_empty(), "no seeds for {target}");
    let prefixes: Vec<Vec<u8>> = out
        .iter()
        .flat_map(|s| {
            (0..s.len())
                .step_by(5)
                .map(|n| s[..n].to_vec())
                .collect::<Vec<_>>()
        })
        .collect();
    out.extend(prefixes);
    out
}
