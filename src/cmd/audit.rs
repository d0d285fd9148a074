//! `mcp-parapet audit verify FILE…`: prove the audit trail's hash chain.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::flags::load_config;

#[derive(clap::Subcommand)]
pub enum AuditCommand {
    /// Check every line's HMAC and the links between lines and files (give rotated files
    /// oldest first, the live file last).
    Verify {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
}

pub fn run(cmd: AuditCommand, config: Option<&Path>) -> Result<ExitCode> {
    let AuditCommand::Verify { files } = cmd;
    let cfg = load_config(config)?;
    let key = parapet_proxy::keys::load_existing(&cfg.integrity.signing_key)?;
    let report =
        parapet_proxy::audit::verify(&files, &key.bytes).context("cannot read the audit trail")?;
    if report.problems.is_empty() {
        match &report.follows {
            // Not a full proof: what came before the first file given is not checked.
            Some(from) => println!(
                "OK: {} lines, chain intact from the first file given, which follows {from}: give the files from the oldest to prove the trail's start",
                report.lines
            ),
            None => println!("OK: {} lines, chain intact from the trail's start", report.lines),
        }
        return Ok(ExitCode::SUCCESS);
    }
    for p in &report.problems {
        println!("{p}");
    }
    println!(
        "FAILED: {} problems in {} lines (key: {})",
        report.problems.len(),
        report.lines,
        key.source
    );
    Ok(ExitCode::from(1))
}
