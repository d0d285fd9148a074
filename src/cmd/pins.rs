//! `mcp-parapet approve` (accept a changed tool manifest) and `mcp-parapet verify` (check a pin
//! file's hashes and signature).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use parapet_proxy::integrity::{approve_expecting, pending_change, PinFile};
use parapet_proxy::session::{manifest_dir, server_name, signing_key};

use crate::flags::load_config;
use crate::output;

#[derive(clap::Args)]
pub struct ApproveArgs {
    /// The server whose pending tool changes to accept (as given to `wrap --name`).
    #[arg(short = 'n', long, value_name = "NAME")]
    name: Option<String>,
    /// Show the pending change (each added or changed tool's definition, and its hash) and
    /// accept nothing.
    #[arg(long)]
    show: bool,
    /// Accept only if the pending listing is still the one with this hash (from `--show` or
    /// the proxy's stderr): a server that changed its tools again since is not accepted unseen.
    #[arg(long, value_name = "HASH")]
    expect: Option<String>,
}

pub fn run_approve(args: ApproveArgs, config: Option<&Path>) -> Result<ExitCode> {
    let cfg = load_config(config)?;
    let name = server_name(args.name.as_deref(), &cfg);
    let dir = manifest_dir(&cfg).context("no manifest directory (set integrity.manifest_dir)")?;
    let key = signing_key(&cfg);
    let change = pending_change(&dir, &name, key.as_deref())
        .with_context(|| format!("cannot read the pending tools of {name:?}"))?;
    // Whole definitions (what is accepted is all of it), and names, escaped: both are the
    // server's words, and must not drive the terminal.
    for (tool, before, after) in &change.changes {
        let tool = output::printable(tool);
        match before {
            Some(b) => {
                println!("modified {tool}:");
                println!("  pinned:  {}", output::printable(&b.to_string()));
            }
            None => println!("added {tool}:"),
        }
        println!("  pending: {}", output::printable(&after.to_string()));
    }
    if !change.diff.removed.is_empty() {
        println!("removed: {:?}", change.diff.removed);
    }
    if args.show {
        println!(
            "To accept exactly this: mcp-parapet approve --name {name} --expect {}",
            &change.hash[..16.min(change.hash.len())]
        );
        return Ok(ExitCode::SUCCESS);
    }
    let diff = approve_expecting(&dir, &name, key.as_deref(), args.expect.as_deref())
        .with_context(|| format!("cannot approve tools of {name:?}"))?;
    println!(
        "Approved the tool manifest of {name:?}: added {:?}, modified {:?}, removed {:?}",
        diff.added, diff.modified, diff.removed
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub struct VerifyArgs {
    /// A pin file (`<manifest_dir>/<name>.json`).
    manifest: PathBuf,
}

pub fn run_verify(args: VerifyArgs, config: Option<&Path>) -> Result<ExitCode> {
    let cfg = load_config(config)?;
    let bytes = std::fs::read(&args.manifest)
        .with_context(|| format!("cannot read the pin file {}", args.manifest.display()))?;
    if let Some(old) = parapet_proxy::integrity::ReferencePins::read(&bytes) {
        anyhow::bail!(
            "{} is a pin file of the Python reference (server {:?}, {} tools), whose own hash this version does not check. With no pins of its own, `wrap --name {}` imports such a file from ./.parapet/manifests/ in its working directory; one found in its pin directory is set aside (as .reference) and the tools are reviewed and approved anew",
            args.manifest.display(),
            old.server_name,
            old.tools.len(),
            old.server_name
        );
    }
    let pins: PinFile = serde_json::from_slice(&bytes)
        .with_context(|| format!("invalid manifest file {}", args.manifest.display()))?;
    let key = signing_key(&cfg);
    if key.is_none() && pins.algorithm != "sha256" {
        // Not a mismatch: without the key nothing can be said about a signed file.
        anyhow::bail!(
            "{} is signed ({}): set PARAPET_SIGNING_KEY (or integrity.signing_key) to the key the proxy uses to check it",
            args.manifest.display(),
            pins.algorithm
        );
    }
    let problems = pins.verify(key.as_deref());
    if problems.is_empty() {
        println!(
            "OK: Manifest for '{}' is valid ({} tools, {})",
            pins.server_name,
            pins.tools.len(),
            pins.algorithm
        );
        if pins.algorithm == "sha256" {
            println!("Note: unsigned pins only prove the file is consistent; set PARAPET_SIGNING_KEY to sign them.");
        }
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "MISMATCH: Manifest for '{}' has been modified",
        pins.server_name
    );
    for p in problems {
        println!("  {p}");
    }
    Ok(ExitCode::from(1))
}
