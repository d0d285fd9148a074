//! mcp-parapet: a security firewall for MCP servers. This binary is the command line only; the
//! scanning core is the `parapet-engine` crate.

mod cmd;
mod output;
mod scanner_setup;

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
    /// Scan files or standard input and report findings.
    Scan(cmd::scan::Args),
    /// List the rule catalogue or check a rule file.
    #[command(subcommand)]
    Rules(cmd::rules::RulesCommand),
    /// Print the version.
    Version,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
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
