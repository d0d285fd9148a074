//! Real MCP servers from the npm registry (server-everything, server-filesystem) driven by the
//! official Python SDK, directly and through `mcp-parapet wrap`: same results, a planted secret
//! redacted, an injection refused, a changed tool withheld. Needs `tests/e2e/node_modules` and
//! `tests/e2e/.venv` (see README; `.ci/run` installs both). Skipped without them unless
//! PARAPET_E2E=1, which CI sets so that it must run there.

use std::process::Command;

mod support;

#[path = "../engine/tests/support/rule_cache.rs"]
mod rule_cache;

#[test]
fn real_servers_through_the_proxy() {
    let Some((root, python)) = support::e2e(&["node_modules/.bin/mcp-server-everything"]) else {
        return;
    };
    let base = std::env::temp_dir().join(format!("parapet-e2e-{}", std::process::id()));
    let (work, state) = (base.join("work"), base.join("state"));
    std::fs::create_dir_all(&work).unwrap();
    std::fs::create_dir_all(&state).unwrap();
    let out = Command::new(python)
        .arg(root.join("e2e.py"))
        .arg(env!("CARGO_BIN_EXE_mcp-parapet"))
        .arg(&work)
        .env("XDG_STATE_HOME", &state)
        .env("XDG_CACHE_HOME", rule_cache::xdg_cache_home())
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
