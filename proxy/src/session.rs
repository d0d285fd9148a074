//! Wires one `wrap` session together from the config: scanner, key, audit trail, pins, trust,
//! rate limits, pipeline, then the stdio transport.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use parapet_engine::Scanner;
use serde_json::json;

use crate::audit::{Audit, AuditWriter};
use crate::config::Config;
use crate::error::{ProxyError, Result};
use crate::integrity::Integrity;
use crate::pipeline::{Pipeline, Settings};
use crate::ratelimit::RateLimits;
use crate::{keys, paths, stdio, trust};

/// The server name: `--name`, else `server_name` in the config, else `default`.
pub fn server_name(flag: Option<&str>, config: &Config) -> String {
    flag.map(str::to_string)
        .or_else(|| config.server_name.clone())
        .unwrap_or_else(|| "default".into())
}

pub fn audit_path(config: &Config) -> Option<PathBuf> {
    config
        .audit
        .log_file
        .clone()
        .or_else(|| paths::state_dir().map(|d| d.join("audit.jsonl")))
}

pub fn manifest_dir(config: &Config) -> Option<PathBuf> {
    config
        .integrity
        .manifest_dir
        .clone()
        .or_else(|| paths::state_dir().map(|d| d.join("manifests")))
}

/// The signing key when one is configured (pins are then HMACs).
pub fn signing_key(config: &Config) -> Option<Vec<u8>> {
    let k = &config.integrity.signing_key;
    (!k.is_empty()).then(|| k.as_bytes().to_vec())
}

pub struct Session {
    pub pipeline: Arc<Pipeline>,
    writer: Option<AuditWriter>,
    name: String,
    max_bytes: usize,
    grace: Duration,
}

impl Session {
    pub fn new(config: &Config, name: &str, scanner: Arc<Scanner>) -> Result<Session> {
        crate::scanner_setup::check_override_names(config, &scanner)?;
        let server = config.server(name);
        let (audit, writer) = if config.audit.enabled {
            let path = audit_path(config).ok_or_else(|| {
                ProxyError::Invalid("no place for the audit trail: set audit.log_file".into())
            })?;
            let key = keys::load(&config.integrity.signing_key)?;
            let max = config.audit.max_file_size_mb.saturating_mul(1 << 20);
            match Audit::start(path.clone(), key.bytes, max, name, Some(scanner.clone())) {
                Ok((a, w)) => {
                    tracing::debug!("audit trail: {}", path.display());
                    (a, Some(w))
                }
                // audit.fail_closed: false asks to go on without a trail rather than stop.
                Err(e) if !config.audit.fail_closed => {
                    tracing::error!(
                        "cannot open the audit trail {}: {e}; going on without one (audit.fail_closed: false)",
                        path.display()
                    );
                    (Audit::disabled(name), None)
                }
                Err(e) => {
                    return Err(ProxyError::Io {
                        what: format!(
                            "cannot open the audit trail {} (set audit.log_file, or audit.enabled: false, or audit.fail_closed: false to run without it)",
                            path.display()
                        ),
                        cause: e,
                    })
                }
            }
        } else {
            (Audit::disabled(name), None)
        };
        let integrity = if config.integrity.enabled {
            let dir = manifest_dir(config).ok_or_else(|| {
                ProxyError::Invalid("no place for tool pins: set integrity.manifest_dir".into())
            })?;
            let i = Integrity::open(
                dir,
                name,
                signing_key(config),
                config.integrity.block_on_change,
            )
            .map_err(|e| ProxyError::Io {
                what: "cannot open the tool pins".into(),
                cause: e,
            })?;
            if let Some((from, n)) = i.imported() {
                audit.record(
                    "manifest_change",
                    vec![(
                        "metadata",
                        json!({"action": "imported_reference_pins", "from": from.display().to_string(), "tool_count": n}),
                    )],
                );
            }
            let problems = i.self_check();
            for problem in &problems {
                tracing::warn!("pin file for {name:?}: {problem}");
                audit.record(
                    "manifest_tampered",
                    vec![("metadata", json!({"problem": problem}))],
                );
            }
            if !problems.is_empty() {
                tracing::warn!(
                    "the pins of {name:?} are not used: every tool counts as new{}. If the signing key changed on purpose, or you trust what the server shows now, review its tools and remove {} so the next listing pins them again",
                    if config.integrity.block_on_change {
                        " and is withheld"
                    } else {
                        ""
                    },
                    i.pin_file().display()
                );
            }
            Some(i)
        } else {
            None
        };
        tracing::info!(
            "server {name:?}: trust level {}",
            trust::level_name(server.trust_level)
        );
        let rate = RateLimits::new(&config.rate_limit, &server);
        let settings = Settings {
            server_name: name.to_string(),
            server,
            scan_tool_arguments: config.scanner.scan_tool_arguments.unwrap_or(true),
            scan_tool_responses: config.scanner.scan_tool_responses.unwrap_or(true),
            refuse_as_tool_error: config.proxy.refuse_as_tool_error,
            log_tool_arguments: config.audit.log_tool_arguments,
            log_tool_responses: config.audit.log_tool_responses,
            alert_on_change: config.integrity.alert_on_change,
            fail_closed: config.audit.fail_closed,
        };
        // The scanner's cap: the config's, or --max-bytes over it.
        let max_bytes = scanner.max_bytes();
        let pipeline = Arc::new(Pipeline::new(scanner, settings, rate, integrity, audit));
        Ok(Session {
            pipeline,
            writer,
            name: name.to_string(),
            max_bytes,
            grace: Duration::from_millis(config.proxy.shutdown_grace_ms),
        })
    }

    /// Runs the proxy on this process's stdin and stdout with the `server` started from
    /// `command` by [`stdio::start`] (or the error that start gave); returns the server's exit
    /// code.
    pub async fn run_stdio(
        self,
        command: Vec<OsString>,
        server: std::io::Result<stdio::Server>,
    ) -> Result<i32> {
        let probe = Some(crate::stall::client_gone as fn() -> bool);
        self.run_server(command, server, stdin_reader(), stdout_writer(), probe)
            .await
    }

    /// Starts the server from `command` and runs the proxy between it and `input`/`output`.
    pub async fn run<R, W>(self, command: Vec<OsString>, input: R, output: W) -> Result<i32>
    where
        R: tokio::io::AsyncRead + Unpin + Send + 'static,
        W: tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let server = stdio::start(&command);
        self.run_server(command, server, input, output, None).await
    }

    async fn run_server<R, W>(
        self,
        command: Vec<OsString>,
        server: std::io::Result<stdio::Server>,
        input: R,
        output: W,
        client_gone: Option<fn() -> bool>,
    ) -> Result<i32>
    where
        R: tokio::io::AsyncRead + Unpin + Send + 'static,
        W: tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let shown: Vec<String> = command
            .iter()
            .map(|c| c.to_string_lossy().into_owned())
            .collect();
        let audit = self.pipeline.audit().clone();
        audit.record("proxy_start", vec![("metadata", json!({"command": shown}))]);
        let opts = stdio::Options {
            max_bytes: self.max_bytes,
            grace: self.grace,
            client_gone,
        };
        let result = match server {
            Ok(server) => stdio::run(self.pipeline.clone(), server, opts, input, output).await,
            Err(e) => Err(e),
        };
        let code = match &result {
            Ok(c) => json!(c),
            Err(_) => json!(null),
        };
        audit.record(
            "proxy_stop",
            vec![("metadata", json!({"exit_code": code, "server": self.name}))],
        );
        drop(audit);
        drop(self.pipeline);
        if let Some(w) = self.writer {
            w.finish();
        }
        result.map_err(|e| ProxyError::Io {
            what: "proxy".into(),
            cause: e,
        })
    }
}

/// Stdin as an async reader. A pipe (how MCP clients start servers) is read directly by the
/// event loop; anything else (a terminal, a file) through tokio's blocking-thread adapter.
fn stdin_reader() -> Box<dyn tokio::io::AsyncRead + Unpin + Send> {
    use std::os::fd::AsFd;
    if let Ok(fd) = std::io::stdin().as_fd().try_clone_to_owned() {
        if let Ok(r) = tokio::net::unix::pipe::Receiver::from_file(std::fs::File::from(fd)) {
            return Box::new(r);
        }
    }
    Box::new(tokio::io::stdin())
}

/// Stdout as an async writer, likewise.
fn stdout_writer() -> Box<dyn tokio::io::AsyncWrite + Unpin + Send> {
    use std::os::fd::AsFd;
    if let Ok(fd) = std::io::stdout().as_fd().try_clone_to_owned() {
        if let Ok(w) = tokio::net::unix::pipe::Sender::from_file(std::fs::File::from(fd)) {
            return Box::new(w);
        }
    }
    Box::new(tokio::io::stdout())
}
