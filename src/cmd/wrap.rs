//! `mcp-parapet wrap -- <server> [args…]`: run an MCP server behind the firewall on stdio.
//! stdout is the protocol channel: everything this command says goes to stderr.

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use parapet_proxy::scanner_setup::{build_scanner, scanner_config};
use parapet_proxy::session::{server_name, Session};
use parapet_proxy::{shutdown, stdio};

use crate::flags::{refuse_relaxing_project_config, ScanFlags};

#[derive(clap::Args)]
#[command(
    after_help = "Example (Claude Desktop, Cursor): \"command\": \"mcp-parapet\", \"args\": \
[\"wrap\", \"--name\", \"filesystem\", \"--\", \"npx\", \"-y\", \
\"@modelcontextprotocol/server-filesystem\", \"/home/me\"]\n\nThe exit status is the server's."
)]
pub struct Args {
    /// Server name: selects `servers.<NAME>` in the config and names pins and audit lines.
    #[arg(short = 'n', long, value_name = "NAME")]
    name: Option<String>,
    #[command(flatten)]
    flags: ScanFlags,
    /// The server command and its arguments (after `--`).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    command: Vec<OsString>,
}

pub fn run(args: Args, config: Option<&Path>) -> Result<ExitCode> {
    if args.command.is_empty() {
        bail!(
            "no server command given\nusage: mcp-parapet wrap [--name NAME] -- <command> [args...]"
        );
    }
    let cfg = parapet_proxy::Config::load(config)?;
    crate::logging::init(cfg.log_level.as_deref());
    for warning in &cfg.warnings {
        tracing::warn!("{warning}");
    }
    if let Some(origin) = &cfg.origin {
        tracing::info!("config: {}", origin.path.display());
    }
    refuse_relaxing_project_config(&cfg)?;
    let name = server_name(args.name.as_deref(), &cfg);
    if !cfg.servers.is_empty() && !cfg.servers.contains_key(&name) {
        let near = cfg
            .servers
            .keys()
            .find(|k| k.eq_ignore_ascii_case(&name))
            .map(|k| format!(" (did you mean --name {k}?)"))
            .unwrap_or_default();
        tracing::warn!(
            "the config has no servers.{name} section{near}: this server runs with the defaults; sections: {}",
            cfg.servers.keys().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    let mut scan_config = scanner_config(&cfg, &args.flags.overrides())?;
    scan_config.fingerprint_key = parapet_proxy::keys::fingerprint_key(&cfg.integrity.signing_key)
        .context("cannot load the key for finding fingerprints")?
        .bytes;
    // Two workers: one direction can be scanning a large message while the other flows.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    // The server starts first, so its own start-up (a Node or Python process takes hundreds of
    // milliseconds) overlaps the loading of the rules; what it writes meanwhile waits in its
    // pipes. Should anything below fail, it is stopped as at the end of a session (SIGTERM,
    // the grace period, SIGKILL). SIGINT and SIGTERM are caught from just before it starts: one
    // that comes while the rules load (25 ms with the cache, seconds without) is forwarded to
    // the server as soon as the proxy runs.
    let server = {
        let _in_runtime = runtime.enter();
        stdio::start(&args.command)
    };
    let ready = || -> Result<Session> {
        let started = std::time::Instant::now();
        let scanner = build_scanner(scan_config)?;
        tracing::debug!("scanner ready in {:?}", started.elapsed());
        Ok(Session::new(&cfg, &name, Arc::new(scanner))?)
    };
    let session = match ready() {
        Ok(session) => session,
        Err(e) => {
            if let Ok(server) = server {
                let grace = std::time::Duration::from_millis(cfg.proxy.shutdown_grace_ms);
                runtime.block_on(shutdown::stop(server.child, grace));
            }
            return Err(e);
        }
    };
    let code = runtime.block_on(session.run_stdio(args.command, server))?;
    // Do not wait for the blocked stdin read of a client that is still connected.
    runtime.shutdown_background();
    Ok(ExitCode::from(code.clamp(0, 255) as u8))
}
