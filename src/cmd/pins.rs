//! `mcp-parapet approve` (accept a changed tool manifest) and `mcp-parapet verify` (check a pin
//! file's hashes and signature).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use parapet_proxy::integrity::{approve, PinFile};
use parapet_proxy::session::{manifest_dir, server_name, signing_key};

use crate::flags::load_config;

#[derive(clap::Args)]
pub struct ApproveArgs {
    /// The server whose pending tool changes to accept (as given to `wrap --name`).
    #[arg(short = 'n', long, value_name = "NAME")]
    name: Option<String>,
}

pub fn run_approve(args: ApproveArgs, config: Option<&Path>) -> Result<ExitCode> {
    let cfg = load_config(config)?;
    let name = server_name(args.name.as_deref(), &cfg);
    let dir = manifest_dir(&cfg).context("no manifest directory (set integrity.manifest_dir)")?;
    let diff = approve(&dir, &name, signing_key(&cfg).as_deref())
        .with_context(|| format!("cannot approve tools of {name:?}"))?;
    println!(
        "Approved the tool manifest of {name:?}: added {:?}, modified {:?}",
        diff.added, diff.modified
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
        .with_context(|| format!("manifest not found: {}", args.manifest.display()))?;
    if let Some(old) = parapet_proxy::integrity::ReferencePins::read(&bytes) {
        anyhow::bail!(
            "{} is a pin file of the Python reference (server {:?}, {} tools): `mcp-parapet wrap --name {}` converts it on its next start, keeping the original as {}.reference; verify the converted file then",
            args.manifest.display(),
            old.server_name,
            old.tools.len(),
            old.server_name,
            args.manifest.display()
        );
    }
    let pins: PinFile = serde_json::from_slice(&bytes)
        .with_context(|| format!("invalid manifest file {}", args.manifest.display()))?;
    let problems = pins.verify(signing_key(&cfg).as_deref());
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
