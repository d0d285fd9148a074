//! Invariants for the proxy's fuzz targets (`fuzz/`), also run by plain `cargo test` over seed
//! inputs. Each panics on a broken invariant.

use std::sync::{Arc, OnceLock};

use parapet_engine::Scanner;

use crate::audit::Audit;
use crate::config::Config;
use crate::pipeline::{Pipeline, Settings};
use crate::ratelimit::RateLimits;

/// One pipeline for the process (rate limits and the audit trail off), built with the first
/// scanner given: the fuzz targets' and the unit tests'.
pub(crate) fn pipeline(scanner: Arc<Scanner>) -> &'static Pipeline {
    static P: OnceLock<Pipeline> = OnceLock::new();
    P.get_or_init(|| {
        let config = Config::parse("rate_limit:\n  enabled: false\n").expect("config");
        let server = config.server("fuzz");
        let settings = Settings {
            server_name: "fuzz".into(),
            server,
            scan_tool_arguments: true,
            scan_tool_responses: true,
            refuse_as_tool_error: false,
            log_tool_arguments: true,
            log_tool_responses: false,
            alert_on_change: true,
            fail_closed: false,
        };
        let rate = RateLimits::new(&config.rate_limit, &settings.server);
        Pipeline::new(scanner, settings, rate, None, Audit::disabled("fuzz"))
    })
}

/// One line from either peer: never panics; whatever goes out is one line, and a forwarded
/// message that was JSON is still JSON.
pub fn pipeline_line(scanner: Arc<Scanner>, line: &[u8]) {
    if line.contains(&b'\n') {
        return;
    }
    let p = pipeline(scanner);
    let was_json = serde_json::from_slice::<serde::de::IgnoredAny>(line).is_ok();
    for out in [p.from_client(line), p.from_server(line)] {
        for bytes in out.forward.iter().chain(out.reply.iter()) {
            assert!(!bytes.contains(&b'\n'), "an output message spans lines");
        }
        if let Some(reply) = &out.reply {
            serde_json::from_slice::<serde_json::Value>(reply).expect("replies are JSON");
        }
        if let (true, Some(f)) = (was_json, &out.forward) {
            serde_json::from_slice::<serde::de::IgnoredAny>(f).expect("forwarded JSON stays JSON");
        }
    }
    crate::outline::Outline::default().feed(line);
}

/// Config YAML: loading never panics.
pub fn config_yaml(text: &str) {
    let _ = Config::parse(text);
}
