//! Real MCP servers from the npm registry (server-everything, server-filesystem) driven by the
//! official Python SDK, directly and through `mcp-parapet wrap`: same results, a planted secret
//! redacted, an injection refused, a changed tool withheld. Needs `tests/e2e/node_modules` and
//! `tests/e2e/.venv` (see README; `.ci/run` installs both). Skipped without them unless
//! PARAPET_E2E=1, which CI sets so that it must run there.

use std::path::Path;
use std::process::Command;

#[test]
fn real_servers_through_the_proxy() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e");
    let python = root.join(".venv/bin/python");
    let server = root.join("node_modules/.bin/mcp-server-everything");
    if !python.exists() || !server.exists() {
        assert!(
            std::env::var_os("PARAPET_E2E").is_none(),
            "PARAPET_E2E is set but tests/e2e is not installed (npm install; python3 -m venv .venv; .venv/bin/pip install mcp)"
        );
        eprintln!("skipped: tests/e2e dependencies are not installed (see README)");
        return;
    }
    let base = std::env::temp_dir().join(format!("parapet-e2e-{}", std::process::id()));
    let (work, state) = (base.join("work"), base.join("state"));
    std::fs::create_dir_all(&work).unwrap();
    std::fs::create_dir_all(&state).unwrap();
    let out = Command::new(python)
        .arg(root.join("e2e.py"))
        .arg(env!("CARGO_BIN_EXE_mcp-parapet"))
        .arg(&work)
        .env("XDG_STATE_HOME", &state)
        .env_remove("PARAPET_CONFIG")
        .env_remove("PARAPET_SIGNING_KEY")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let _ = std::fs::remove_dir_all(&base);
    assert!(
        out.status.success() && stdout.contains("e2e: all passed"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
