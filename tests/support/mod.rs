//! Shared by the tests that need tests/e2e installed (Python venv, npm packages).

use std::path::{Path, PathBuf};

/// tests/e2e and its Python, when `needs` (paths under tests/e2e) are installed; `None` (the
/// test is skipped, and says so) when not, unless PARAPET_E2E is set, which CI does: then the
/// missing install is a failure.
pub fn e2e(needs: &[&str]) -> Option<(PathBuf, PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e");
    let python = root.join(".venv/bin/python");
    if python.exists() && needs.iter().all(|n| root.join(n).exists()) {
        return Some((root, python));
    }
    assert!(
        std::env::var_os("PARAPET_E2E").is_none(),
        "PARAPET_E2E is set but tests/e2e is not installed (see README)"
    );
    eprintln!("skipped: tests/e2e dependencies are not installed (see README)");
    None
}
