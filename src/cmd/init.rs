//! `mcp-parapet init`: write the commented config template.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};

#[derive(clap::Args)]
pub struct Args {
    /// Where to write it.
    #[arg(short, long, default_value = "parapet.yaml")]
    output: PathBuf,
    /// Overwrite an existing file.
    #[arg(short, long)]
    force: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    if args.output.exists() && !args.force {
        bail!(
            "{} already exists; use --force to overwrite it",
            args.output.display()
        );
    }
    std::fs::write(&args.output, parapet_proxy::template::TEMPLATE)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    println!("Created {}", args.output.display());
    Ok(ExitCode::SUCCESS)
}
