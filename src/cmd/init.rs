//! `mcp-parapet init`: write the commented config template.

use std::io::Write;
use std::path::{Path, PathBuf};
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
    write_beside_then_rename(&args.output, parapet_proxy::template::TEMPLATE.as_bytes())
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    println!("Created {}", args.output.display());
    Ok(ExitCode::SUCCESS)
}

/// Writes a new file beside `path` (created exclusively: a link planted under its name is not
/// followed) and renames it into place, so an interrupted write leaves the old file; the
/// directory must exist. The new file is removed if anything fails.
fn write_beside_then_rename(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("not a file name"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let written = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}
