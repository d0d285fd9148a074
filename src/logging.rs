//! Our logs: tracing to stderr only (stdout is the MCP protocol channel in `wrap`).

pub fn init(level: Option<&str>) {
    let level = level
        .and_then(|l| parapet_proxy::config::check_log_level(l).ok())
        .unwrap_or("info");
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(tracing_subscriber::EnvFilter::new(format!(
            "mcp_parapet={level},parapet_proxy={level},parapet_engine={level},warn"
        )))
        .try_init();
}
