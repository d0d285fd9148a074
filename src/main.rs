//! mcp-parapet: a security firewall for MCP servers. This binary is the command line only; the
//! scanning core is the `parapet-engine` crate.

mod cmd;
mod flags;
mod logging;
mod output;
mod sweep;

#[cfg(test)]
#[path = "../engine/tests/support/rule_cache.rs"]
mod rule_cache;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc, not the system allocator: the proxy allocates a message's audit records on its
/// relay thread and frees them on the audit writer's, and glibc's malloc made those frees
/// contend for the arena lock (a futex wait and a context switch every call or two). Built
/// without transparent huge pages; for `wrap` also told to return freed memory at once and to
/// commit arenas only as they are used ([`allocator_settings`]), so the proxy's resident
/// memory stays what it was with glibc. `scan` keeps mimalloc's defaults: returning memory at
/// once (rather than after a second) made its chunk-sized allocations fault again each time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's options (numbered as in its 3.x `mimalloc.h`) for the long-running proxy: purge
/// freed memory without delay, and no eager commit of arenas.
fn allocator_settings() {
    const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: setting an option is allowed at any time; both take a plain integer.
    unsafe {
        libmimalloc_sys::mi_option_set(ARENA_EAGER_COMMIT, 0);
        libmimalloc_sys::mi_option_set(PURGE_DELAY, 0);
    }
}

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
    if matches!(cli.command, Command::Wrap(_)) {
        allocator_settings();
    }
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

#[cfg(test)]
mod tests {
    /// The option numbers [`super::allocator_settings`] uses are those of the mimalloc built in:
    /// each holds its documented default until set.
    #[test]
    fn allocator_option_numbers_name_the_options_meant() {
        // SAFETY: reading an option is allowed at any time.
        let (eager, purge) = unsafe {
            (
                libmimalloc_sys::mi_option_get(4),
                libmimalloc_sys::mi_option_get(15),
            )
        };
        // The defaults in mimalloc 3.x's `src/options.c`.
        assert_eq!(
            (eager, purge),
            (2, 1000),
            "arena_eager_commit, purge_delay defaults"
        );
    }
}
