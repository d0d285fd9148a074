//! Stamps the build with a hash of the engine's own source and the workspace's lock file
//! (`PARAPET_ENGINE_SOURCE_HASH`): the start-up cache keeps how each rule is routed
//! ([`matcher::route`](src/matcher/route.rs)), which depends on this code and on the
//! dependencies that parse patterns, not only on the rules. Any change to either is a new key.

use std::path::{Path, PathBuf};

/// FNV-1a, 64 bits: a cache key, not a defence (the cache sits in the user's own directory).
fn fnv(h: &mut u64, bytes: &[u8]) {
    for &b in bytes {
        *h ^= u64::from(b);
        *h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let mut files = Vec::new();
    files_under(&root.join("src"), &mut files);
    files.sort();
    let lock = root.join("../Cargo.lock");
    files.push(lock.clone());
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for f in &files {
        fnv(
            &mut h,
            f.strip_prefix(&root)
                .unwrap_or(f)
                .to_string_lossy()
                .as_bytes(),
        );
        fnv(&mut h, &std::fs::read(f).unwrap_or_default());
    }
    println!("cargo:rustc-env=PARAPET_ENGINE_SOURCE_HASH={h:016x}");
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed={}", lock.display());
}
