//! mcp-parapet: a security firewall for MCP servers. This binary is the command line only; the
//! scanning core is the `parapet-engine` crate.

mod cmd;
mod flags;
mod logging;
mod output;
mod sweep;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "mcp-parapet",
    version,
    about = "Scan MCP traffic, files and logs for secrets, personal data and prompt injection",
    propagate_version = true
)]
struct Cli {
    /// Configuration file (YAML); also PARAPET_CONFIG. Accepted before or after the subcommand.
    #[arg(short = 'c', long, global = true, value_name = "FILE")]
    config: Option<std::path::PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run an MCP server behind the firewall: `wrap [--name NAME] -- <command> [args…]`.
    Wrap(cmd::wrap::Args),
    /// Scan files or standard input and report findings.
    Scan(cmd::scan::Args),
    /// List the rule catalogue or check a rule file.
    #[command(subcommand)]
    Rules(cmd::rules::RulesCommand),
    /// Write a commented config template.
    Init(cmd::init::Args),
    /// Accept a server's changed tool manifest (re-pin it).
    Approve(cmd::pins::ApproveArgs),
    /// Check a tool pin file's hashes and signature.
    Verify(cmd::pins::VerifyArgs),
    /// Audit trail tools.
    #[command(subcommand)]
    Audit(cmd::audit::AuditCommand),
    /// Print the version.
    Version,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Wrap(args) => cmd::wrap::run(args, cli.config.as_deref()),
        Command::Init(args) => cmd::init::run(args),
        Command::Approve(args) => cmd::pins::run_approve(args, cli.config.as_deref()),
        Command::Verify(args) => cmd::pins::run_verify(args, cli.config.as_deref()),
        Command::Audit(c) => cmd::audit::run(c, cli.config.as_deref()),
        Command::Scan(args) => cmd::scan::run(args, cli.config.as_deref()),
        Command::Rules(c) => cmd::rules::run(c, cli.config.as_deref()),
        Command::Version => {
            println!("mcp-parapet {}", env!("CARGO_PKG_VERSION"));
            Ok(ExitCode::SUCCESS)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("mcp-parapet: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
