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
    // symlink_metadata: a dangling link "does not exist" for `exists()`, and writing through
    // it would create its target wherever it points.
    if let Ok(meta) = std::fs::symlink_metadata(&args.output) {
        if meta.file_type().is_symlink() {
            bail!(
                "{} is a symbolic link; write the template to the file itself",
                args.output.display()
            );
        }
        if !args.force {
            bail!(
                "{} already exists; use --force to overwrite it",
                args.output.display()
            );
        }
    }
    // Written beside it and renamed into place: an interrupted write leaves the old file.
    parapet_proxy::paths::write_atomic(
        &args.output,
        parapet_proxy::template::TEMPLATE.as_bytes(),
        false,
    )
    .with_context(|| format!("cannot write {}", args.output.display()))?;
    println!("Created {}", args.output.display());
    Ok(ExitCode::SUCCESS)
}
