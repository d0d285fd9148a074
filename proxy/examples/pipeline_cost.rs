//! CPU cost of the pipeline alone (no I/O): one `tools/call` request and its response through
//! `from_client` and `from_server`, per payload size, with the audit trail on and off.
//! `cargo run --release -p parapet-proxy --example pipeline_cost` (`DEEP_SCAN=off` to compare
//! without the deep scan of message texts).

use std::sync::Arc;
use std::time::Instant;

use parapet_proxy::audit::Audit;
use parapet_proxy::config::Config;
use parapet_proxy::pipeline::{Pipeline, Settings};
use parapet_proxy::ratelimit::RateLimits;
use parapet_proxy::scanner_setup::{build_scanner, scanner_config, ScanOverrides};

/// The allocator the `mcp-parapet` binary uses, so these figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let deep = std::env::var("DEEP_SCAN").unwrap_or_else(|_| "messages".into());
    let config = Config::parse(&format!(
        "rate_limit:\n  enabled: false\nscanner:\n  deep_scan: {deep}\n"
    ))
    .unwrap();
    let scanner = Arc::new(
        build_scanner(scanner_config(&config, &ScanOverrides::default()).unwrap()).unwrap(),
    );
    let dir = std::env::temp_dir().join(format!("parapet-pipeline-cost-{}", std::process::id()));
    for audit_on in [false, true] {
        let (audit, writer) = if audit_on {
            let (a, w) = Audit::start(
                dir.join("a.jsonl"),
                b"k".to_vec(),
                u64::MAX,
                "bench",
                Some(scanner.clone()),
            )
            .unwrap();
            (a, Some(w))
        } else {
            (Audit::disabled("bench"), None)
        };
        let settings = Settings {
            server_name: "bench".into(),
            server: config.server("bench"),
            scan_tool_arguments: true,
            scan_tool_responses: true,
            refuse_as_tool_error: false,
            log_tool_arguments: true,
            log_tool_responses: false,
            alert_on_change: true,
            fail_closed: true,
        };
        let rate = RateLimits::new(&config.rate_limit, &settings.server);
        let p = Pipeline::new(scanner.clone(), settings, rate, None, audit);
        for size in [20usize, 10_000] {
            let text: String = "lorem ipsum dolor sit amet "
                .chars()
                .cycle()
                .take(size)
                .collect();
            let n = 20_000;
            let reqs: Vec<Vec<u8>> = (0..n)
                .map(|i| serde_json::to_vec(&serde_json::json!({"jsonrpc":"2.0","id":i,"method":"tools/call","params":{"name":"echo","arguments":{"text":text}}})).unwrap())
                .collect();
            let resps: Vec<Vec<u8>> = (0..n)
                .map(|i| serde_json::to_vec(&serde_json::json!({"jsonrpc":"2.0","id":i,"result":{"content":[{"type":"text","text":text}]}})).unwrap())
                .collect();
            let t = Instant::now();
            for (q, r) in reqs.iter().zip(&resps) {
                std::hint::black_box(p.from_client(q));
                std::hint::black_box(p.from_server(r));
            }
            let per = t.elapsed().as_secs_f64() / n as f64 * 1e6;
            let t = Instant::now();
            for q in &reqs {
                let s = &q[q.windows(9).position(|w| w == b"arguments").unwrap() + 11..q.len() - 2];
                std::hint::black_box(scanner.scan_json(s).unwrap());
            }
            let scan = t.elapsed().as_secs_f64() / n as f64 * 1e6;
            println!("audit {audit_on:5} payload {size:6} B: {per:6.1} us per call (request + response); one scan_json of the arguments {scan:5.1} us");
        }
        drop(p);
        if let Some(w) = writer {
            w.finish();
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
