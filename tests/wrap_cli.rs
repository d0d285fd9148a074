//! `mcp-parapet wrap` as a client starts it: stdout carries only the protocol, stderr is
//! redacted, signals reach the server, exit codes pass through; plus `init` and `audit verify`.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[path = "../engine/tests/support/rule_cache.rs"]
mod rule_cache;

fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_path_buf()
}

/// The proxy crate's mock MCP server, built if this test run did not build it.
fn mock_server() -> PathBuf {
    let p = target_dir().join("examples").join("mock_server");
    if !p.exists() {
        let ok = Command::new(env!("CARGO"))
            .args(["build", "-p", "parapet-proxy", "--example", "mock_server"])
            .status()
            .unwrap()
            .success();
        assert!(ok, "cannot build the mock server");
    }
    p
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("parapet-wrap-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The binary with its state and home under `state` and no config from the environment (HOME
/// too: the user's own config under it would be laid under a project's file). Its rule cache is
/// the test run's, filled before any test here starts a proxy: on a fresh machine every proxy
/// would otherwise compile the database itself (35 s on one free core, more with the other
/// tests running), longer than most of the waits below allow.
fn parapet(state: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mcp-parapet"));
    c.env("XDG_STATE_HOME", state)
        .env("HOME", state)
        .env("XDG_CACHE_HOME", rule_cache::xdg_cache_home())
        .env_remove("PARAPET_CONFIG")
        .env_remove("PARAPET_SIGNING_KEY")
        .current_dir(state);
    c
}

fn spawn_wrap(state: &Path, pre: &[&str], env: &[(&str, &str)]) -> Child {
    let mut c = parapet(state);
    c.args(pre).arg("wrap").arg("--").arg(mock_server());
    for (k, v) in env {
        c.env(k, v);
    }
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// `wrap` (with `pre` before its `--`) of the mock server, run to its end with no client.
fn wrap_mock(state: &Path, pre: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    parapet(state)
        .arg("wrap")
        .args(pre)
        .arg("--")
        .arg(mock_server())
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn wait_with_timeout(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(s) = child.try_wait().unwrap() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    None
}

#[test]
fn stdout_is_only_protocol_and_stderr_is_redacted() {
    let state = temp_dir("stdout");
    let mut child = spawn_wrap(&state, &[], &[]);
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, r#"{{"jsonrpc":"2.0","id":1,"method":"ping"}}"#).unwrap();
    writeln!(stdin, r#"{{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{{"name":"log_secret","arguments":{{}}}}}}"#).unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    for _ in 0..2 {
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        serde_json::from_str::<serde_json::Value>(&line).expect("stdout carries only JSON-RPC");
    }
    drop(stdin);
    let status = wait_with_timeout(&mut child, Duration::from_secs(20)).expect("exits after EOF");
    assert!(status.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert!(rest.is_empty(), "nothing else on stdout: {rest:?}");
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(
        err.contains("mock: connecting with token [REDACTED:"),
        "{err}"
    );
    assert!(!err.contains("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"));
    // The trail it wrote verifies.
    let trail = state.join("mcp-parapet").join("audit.jsonl");
    let v = parapet(&state)
        .args(["audit", "verify"])
        .arg(&trail)
        .output()
        .unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&trail).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    // Another user's state (no install key there) cannot check it, and makes no key of its
    // own (which would report every line as edited).
    let other = temp_dir("verify-other-user");
    let v = parapet(&other)
        .args(["audit", "verify"])
        .arg(&trail)
        .output()
        .unwrap();
    assert_eq!(v.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&v.stderr).contains("no install key"));
    assert!(!other.join("mcp-parapet").join("install.key").exists());
    // A file that is not there is named.
    let v = parapet(&state)
        .args(["audit", "verify", "no-such-trail.jsonl"])
        .output()
        .unwrap();
    assert_eq!(v.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&v.stderr).contains("no-such-trail.jsonl"));
}

/// `wrap` of the mock server (which ignores EOF) after one answered ping, sent `signal`: the
/// proxy's exit status.
fn status_after_signal(name: &str, signal: i32) -> std::process::ExitStatus {
    let state = temp_dir(name);
    let mut child = spawn_wrap(&state, &[], &[("MOCK_IGNORE_EOF", "1")]);
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, r#"{{"jsonrpc":"2.0","id":1,"method":"ping"}}"#).unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    unsafe {
        libc_kill(child.id() as i32, signal);
    }
    let status =
        wait_with_timeout(&mut child, Duration::from_secs(20)).expect("exits on the signal");
    drop(stdin);
    status
}

#[test]
fn sigterm_reaches_the_server_and_its_status_is_ours() {
    let status = status_after_signal("sigterm", 15);
    assert_eq!(status.code(), Some(128 + 15), "the server died of SIGTERM");
}

#[test]
fn sighup_stops_the_server_as_sigterm_does() {
    let status = status_after_signal("sighup", 1);
    assert_eq!(status.code(), Some(128 + 15), "the server got SIGTERM");
}

#[test]
fn sighup_is_left_alone_when_the_proxy_starts_with_it_ignored() {
    // As under `nohup`: the session outlives its terminal.
    let state = temp_dir("nohup");
    let c = parapet(&state);
    let program = c.get_program().to_owned();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("trap '' HUP; exec \"$0\" wrap -- \"$1\"")
        .arg(program)
        .arg(mock_server())
        .envs(c.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))))
        .env_remove("PARAPET_CONFIG")
        .current_dir(&state)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    writeln!(stdin, r#"{{"jsonrpc":"2.0","id":1,"method":"ping"}}"#).unwrap();
    out.read_line(&mut line).unwrap();
    unsafe {
        libc_kill(child.id() as i32, 1);
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "still running after SIGHUP"
    );
    line.clear();
    writeln!(stdin, r#"{{"jsonrpc":"2.0","id":2,"method":"ping"}}"#).unwrap();
    out.read_line(&mut line).unwrap();
    assert!(line.contains(r#""id":2"#), "{line}");
    drop(stdin);
    assert!(wait_with_timeout(&mut child, Duration::from_secs(20)).is_some());
}

#[test]
fn more_sigterms_do_not_put_off_the_kill() {
    // A server that ignores SIGTERM, and a SIGTERM every 300 ms: it is killed one grace
    // period (2 s) after the first, not after the last.
    let state = temp_dir("sigterms");
    let mut child = parapet(&state)
        .args([
            "wrap",
            "--",
            "sh",
            "-c",
            "trap '' TERM; echo up >&2; sleep 60",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("up") {
        line.clear();
        assert!(err.read_line(&mut line).unwrap() > 0, "the server started");
    }
    let first = Instant::now();
    let mut status = None;
    while first.elapsed() < Duration::from_secs(8) && status.is_none() {
        unsafe {
            libc_kill(child.id() as i32, 15);
        }
        std::thread::sleep(Duration::from_millis(300));
        status = child.try_wait().unwrap();
    }
    let status = status.or_else(|| wait_with_timeout(&mut child, Duration::from_secs(5)));
    let took = first.elapsed();
    assert_eq!(status.and_then(|s| s.code()), Some(128 + 9), "killed");
    assert!(took < Duration::from_secs(5), "killed after {took:?}");
}

#[test]
fn a_client_gone_while_the_server_reads_nothing_ends_the_session() {
    // The client writes more than the server's pipe holds (less than all the pipes on the way,
    // so it gets to close) and goes: it closes its end of the proxy's stdin and stops reading
    // the proxy's stdout. The server never reads, so the proxy never reads as far as the EOF;
    // a grace period (here 200 ms) without progress, with the client gone, counts as its EOF.
    let state = temp_dir("stalled");
    let config = state.join("grace.yaml");
    std::fs::write(&config, "proxy:\n  shutdown_grace_ms: 200\n").unwrap();
    let spawn = |server: &str| {
        parapet(&state)
            .arg("--config")
            .arg(&config)
            .args(["wrap", "--", "sh", "-c", server])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let send_and_close = |child: &mut Child| {
        let mut stdin = child.stdin.take().unwrap();
        let pad = "x".repeat(10_000);
        std::thread::spawn(move || {
            for i in 0..12 {
                let line = format!(
                    r#"{{"jsonrpc":"2.0","id":{i},"method":"ping","params":{{"pad":"{pad}"}}}}"#
                );
                if writeln!(stdin, "{line}").is_err() {
                    return;
                }
            }
        })
    };
    let mut child = spawn("sleep 60");
    drop(child.stdout.take());
    let writer = send_and_close(&mut child);
    let status = wait_with_timeout(&mut child, Duration::from_secs(20));
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.and_then(|s| s.code()), Some(128 + 15), "{err}");
    assert!(err.contains("the client has gone"), "{err}");
    let _ = writer.join();
    // A client that still reads the answers is not cut off while the server is busy: here
    // the server reads nothing for 2 s (ten grace periods), then everything.
    let mut child = spawn("sleep 2; cat >/dev/null");
    let writer = send_and_close(&mut child);
    let status = wait_with_timeout(&mut child, Duration::from_secs(20));
    let _ = writer.join();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{err}");
    assert!(!err.contains("the client has gone"), "{err}");
}

#[test]
fn a_refusal_reaches_a_client_that_closes_right_after_its_call() {
    // The refusal is queued for the client while its EOF ends the session: it must still be
    // written before the proxy exits (a race that lost it about one time in ten).
    let state = temp_dir("last-reply");
    for _ in 0..10 {
        let mut child = parapet(&state)
            .args(["wrap", "--", "sh", "-c", "cat >/dev/null"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        writeln!(
            stdin,
            r#"{{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{{"name":"delete_everything","arguments":{{}}}}}}"#
        )
        .unwrap();
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("-32001") && text.contains(r#""id":7"#),
            "{text:?}"
        );
    }
}

#[test]
fn sigterm_while_the_rules_load_reaches_the_server() {
    // The server starts before the rules load (so the two start-ups overlap); a SIGTERM in
    // that window must not end the proxy and leave the server running: it is forwarded once
    // the proxy runs. A fresh cache makes the window seconds long (the database compiles).
    let state = temp_dir("sigterm-early");
    let cache = temp_dir("sigterm-early-cache");
    let cache_dir = cache.to_str().unwrap();
    let mut child = spawn_wrap(
        &state,
        &[],
        &[("XDG_CACHE_HOME", cache_dir), ("MOCK_IGNORE_EOF", "1")],
    );
    std::thread::sleep(Duration::from_millis(300));
    unsafe {
        libc_kill(child.id() as i32, 15);
    }
    let status =
        wait_with_timeout(&mut child, Duration::from_secs(120)).expect("exits after SIGTERM");
    assert_eq!(
        status.code(),
        Some(128 + 15),
        "the proxy ends with the server's status, the server having got the SIGTERM ({status:?})"
    );
    let _ = std::fs::remove_dir_all(&cache);
}

#[test]
fn a_session_that_fails_to_start_stops_its_server_and_says_why() {
    // The server is started before the session is set up; when setting up fails (here: an
    // audit trail that cannot be opened), the server is stopped and the error reported.
    let state = temp_dir("failed-start");
    let cfg = state.join("p.yaml");
    std::fs::write(&cfg, "audit:\n  log_file: /proc/no-such-dir/audit.jsonl\n").unwrap();
    let mut child = spawn_wrap(
        &state,
        &["--config", cfg.to_str().unwrap()],
        &[("MOCK_IGNORE_EOF", "1")],
    );
    let status = wait_with_timeout(&mut child, Duration::from_secs(30)).expect("exits");
    assert_eq!(status.code(), Some(2));
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(err.contains("cannot open the audit trail"), "{err}");
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

#[test]
fn config_after_wrap_and_exit_codes() {
    // Reference bug 18: `wrap --config` (the form its README shows) was rejected.
    let state = temp_dir("config");
    let cfg = state.join("p.yaml");
    std::fs::write(&cfg, "server_name: from-config\n").unwrap();
    let mut child = parapet(&state)
        .args(["wrap", "--config"])
        .arg(&cfg)
        .arg("--")
        .arg(mock_server())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, r#"{{"jsonrpc":"2.0","method":"exit"}}"#).unwrap();
    let status = wait_with_timeout(&mut child, Duration::from_secs(20)).expect("exits");
    assert_eq!(status.code(), Some(3));
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(err.contains("from-config"), "{err}");

    let out = parapet(&state).arg("wrap").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: mcp-parapet wrap"));
    let out = parapet(&state)
        .args(["wrap", "--", "/nonexistent/server"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot start /nonexistent/server"));
}

#[test]
fn the_server_does_not_inherit_the_proxy_s_keys() {
    // With the signing key in its environment a server could sign pins for a changed tool
    // list (a rug pull the proxy would accept) and forge the audit chain.
    let state = temp_dir("env-keys");
    let seen = state.join("seen");
    let script = format!(
        "echo \"${{PARAPET_SIGNING_KEY:-none}} ${{PARAPET_FINGERPRINT_KEY:-none}} ${{OTHER_VAR:-none}}\" > {}",
        seen.display()
    );
    let out = parapet(&state)
        .args(["wrap", "--", "sh", "-c", &script])
        .env("PARAPET_SIGNING_KEY", "a-signing-key-of-thirty-two-bytes!!")
        .env(
            "PARAPET_FINGERPRINT_KEY",
            "a-fingerprint-key-of-thirty-two-b",
        )
        .env("OTHER_VAR", "kept")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&seen).unwrap(), "none none kept\n");
}

#[test]
fn a_project_s_config_may_not_relax_the_proxy() {
    // Clients start project-scoped servers inside the project: a repository's own
    // parapet.yaml must not be able to switch the firewall off.
    let state = temp_dir("project-config");
    std::fs::write(
        state.join(".parapet.yml"),
        "scanner:\n  policy_secrets: allow\naudit:\n  enabled: false\nservers:\n  default:\n    trust_level: privileged\n",
    )
    .unwrap();
    let out = wrap_mock(&state, &[], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "scanner.policy_secrets: allow",
        "audit.enabled: false",
        "servers.default (changed)",
        "--config",
    ] {
        assert!(err.contains(needle), "{needle}: {err}");
    }
    let scan = parapet(&state).args(["scan", "-"]).output().unwrap();
    assert_eq!(scan.status.code(), Some(2));
    // Named explicitly, the same file is the user's choice.
    let out = wrap_mock(&state, &["--config", ".parapet.yml"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A project file that only tightens is used.
    std::fs::write(
        state.join(".parapet.yml"),
        "scanner:\n  policy_pii: redact\n",
    )
    .unwrap();
    let out = wrap_mock(&state, &[], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // So is the template `init` writes, whatever the environment says (the environment is
    // the user's, not the file's).
    std::fs::remove_file(state.join(".parapet.yml")).unwrap();
    assert!(parapet(&state).arg("init").status().unwrap().success());
    let out = wrap_mock(
        &state,
        &[],
        &[
            ("PARAPET_SIGNING_KEY", "a-signing-key-of-thirty-two-bytes!!"),
            ("PARAPET_POLICY_SECRETS", "flag"),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_project_s_config_is_laid_over_the_user_s_own() {
    let state = temp_dir("project-over-home");
    let home = state.join("home");
    std::fs::create_dir_all(home.join(".config/mcp-parapet")).unwrap();
    std::fs::write(
        home.join(".config/mcp-parapet/config.yaml"),
        "scanner:\n  policy_secrets: reject\nservers:\n  default:\n    blocked_tools: [echo]\n",
    )
    .unwrap();
    let token = "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";
    // A project file that says something else keeps the user's settings in force.
    std::fs::write(state.join("parapet.yaml"), "log_level: info\n").unwrap();
    let mut child = parapet(&state)
        .env("HOME", &home)
        .args(["scan", "--fail-on", "reject", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "token {token}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Undoing one of them is a relaxation of the user's config.
    std::fs::write(
        state.join("parapet.yaml"),
        "servers:\n  default:\n    blocked_tools: []\n",
    )
    .unwrap();
    let out = parapet(&state)
        .env("HOME", &home)
        .args(["scan", "-"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("servers.default (changed)"));
}

#[test]
fn a_name_with_no_section_is_warned_about() {
    let state = temp_dir("no-section");
    let cfg = state.join("p.yaml");
    std::fs::write(&cfg, "servers:\n  filesystem:\n    trust_level: none\n").unwrap();
    let out = wrap_mock(
        &state,
        &["--config", cfg.to_str().unwrap(), "--name", "FileSystem"],
        &[],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no servers.FileSystem section (did you mean --name filesystem?)"),
        "{err}"
    );
}

#[test]
fn init_writes_a_template_that_loads() {
    let state = temp_dir("init");
    let out = parapet(&state).arg("init").output().unwrap();
    assert!(out.status.success());
    assert!(state.join("parapet.yaml").exists());
    let again = parapet(&state).arg("init").output().unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    // The template is picked up from the working directory and is valid.
    let scan = parapet(&state).args(["scan", "-"]).output().unwrap();
    assert_eq!(
        scan.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&scan.stderr)
    );
    // A dangling link is not written through, even with --force.
    let target = state.join("elsewhere.yaml");
    std::os::unix::fs::symlink(&target, state.join("link.yaml")).unwrap();
    let out = parapet(&state)
        .args(["init", "--force", "-o", "link.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("symbolic link"));
    assert!(!target.exists());
}

/// `wrap` of `sh -c script` with no client, run to its end: its stderr (it must succeed).
fn wrap_shell(state: &Path, script: &str) -> String {
    let out = parapet(state)
        .args(["wrap", "--", "sh", "-c", script])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    err
}

#[test]
fn a_private_key_the_server_prints_over_several_stderr_lines_is_redacted() {
    let state = temp_dir("stderr-pem");
    let body = "DQ0N".repeat(16);
    let key = format!(
        "key loaded:\n-----BEGIN EC PRIVATE KEY-----\n{body}\n{body}\nDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ==\n-----END EC PRIVATE KEY-----\nready\n"
    );
    let file = state.join("key.txt");
    std::fs::write(&file, &key).unwrap();
    let script = format!("cat {} >&2", file.display());
    let err = wrap_shell(&state, &script);
    assert!(
        !err.contains(&body) && !err.contains("DQ0NDQ0NDQ0NDQ0NDQ0N"),
        "{err}"
    );
    assert!(err.contains("[REDACTED:private_key"), "{err}");
    assert!(
        err.contains("key loaded:") && err.contains("ready"),
        "{err}"
    );
}

#[test]
fn a_private_key_cut_short_or_paused_on_stderr_is_still_redacted() {
    let state = temp_dir("stderr-pem-unclosed");
    let body = "DQ0N".repeat(16);
    // A pause longer than the hold in the middle of the key, then its end; then a key that
    // never ends before the server exits.
    let script = format!(
        "printf 'start\\n-----BEGIN EC PRIVATE KEY-----\\n{body}\\n' >&2; sleep 0.5; \
         printf '{body}\\n-----END EC PRIVATE KEY-----\\nready\\n' >&2; \
         printf -- '-----BEGIN PRIVATE KEY-----\\n{body}\\n{body}\\n' >&2"
    );
    let err = wrap_shell(&state, &script);
    assert!(!err.contains("DQ0NDQ0N"), "{err}");
    assert!(err.contains("start") && err.contains("ready"), "{err}");
    assert!(err.contains("[REDACTED:private_key]"), "{err}");
}
