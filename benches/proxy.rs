//! Proxy overhead: a `tools/call` echo round trip through `mcp-parapet wrap` against the same
//! server direct, at 20 B, 10 KB and 1 MB payloads (p50/p99 and the difference), pipelined
//! throughput, start-up to the first answered message (warm and cold rule cache), and the
//! proxy's resident memory after 10,000 calls. Rate limits are off (as in the reference's own
//! measurement); the audit trail is on.
//!
//! Full run: `cargo bench --bench proxy`. Quick (CI): `cargo bench --bench proxy -- --quick`.
//! The echo server is this same executable, started with PARAPET_BENCH_ECHO=1.
//! `PARAPET_BENCH_BIN=PATH` runs another build of the binary instead (to compare two builds in
//! one session, alternating).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

fn echo_server() {
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        let Some(id) = msg.get("id") else { continue };
        let text = msg["params"]["arguments"]["text"].as_str().unwrap_or("");
        let reply = serde_json::json!({"jsonrpc": "2.0", "id": id,
            "result": {"content": [{"type": "text", "text": text}]}});
        serde_json::to_writer(&mut out, &reply).unwrap();
        out.write_all(b"\n").unwrap();
        out.flush().unwrap();
    }
}

struct Peer {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Peer {
    fn spawn(wrapped: bool, state: &Path, cache: &Path) -> Peer {
        let me = std::env::current_exe().unwrap();
        let mut cmd = if wrapped {
            // PARAPET_BENCH_BIN: another build's binary, to compare two in one session.
            let bin = std::env::var_os("PARAPET_BENCH_BIN")
                .unwrap_or_else(|| env!("CARGO_BIN_EXE_mcp-parapet").into());
            let mut c = Command::new(bin);
            c.arg("-c")
                .arg(state.join("bench.yaml"))
                .args(["wrap", "--name", "bench", "--"])
                .arg(&me);
            c
        } else {
            Command::new(&me)
        };
        let mut child = cmd
            .env("PARAPET_BENCH_ECHO", "1")
            .env("XDG_STATE_HOME", state)
            .env("XDG_CACHE_HOME", cache)
            .env_remove("PARAPET_CONFIG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Peer {
            stdin: child.stdin.take().unwrap(),
            stdout: BufReader::new(child.stdout.take().unwrap()),
            child,
        }
    }

    fn call_line(id: usize, text: &str) -> Vec<u8> {
        let mut v = serde_json::to_vec(&serde_json::json!({"jsonrpc": "2.0", "id": id,
            "method": "tools/call", "params": {"name": "echo", "arguments": {"text": text}}}))
        .unwrap();
        v.push(b'\n');
        v
    }

    fn round_trip(&mut self, line: &[u8], buf: &mut Vec<u8>) -> Duration {
        let t = Instant::now();
        self.stdin.write_all(line).unwrap();
        self.stdin.flush().unwrap();
        buf.clear();
        self.stdout.read_until(b'\n', buf).unwrap();
        t.elapsed()
    }

    fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    fn finish(mut self) {
        drop(self.stdin);
        let _ = self.child.wait();
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn latencies(
    wrapped: bool,
    size: usize,
    n: usize,
    state: &Path,
    cache: &Path,
) -> (Duration, Duration) {
    let mut peer = Peer::spawn(wrapped, state, cache);
    let text: String = "lorem ipsum dolor sit amet "
        .chars()
        .cycle()
        .take(size)
        .collect();
    let mut buf = Vec::new();
    let mut times = Vec::with_capacity(n);
    for i in 0..(n + n / 10) {
        let line = Peer::call_line(i, &text);
        let t = peer.round_trip(&line, &mut buf);
        assert!(
            !buf.windows(8).any(|w| w == b"\"error\":"),
            "call refused: {}",
            String::from_utf8_lossy(&buf[..buf.len().min(300)])
        );
        if i >= n / 10 {
            times.push(t);
        }
    }
    peer.finish();
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.99))
}

fn pipelined(wrapped: bool, n: usize, state: &Path, cache: &Path) -> f64 {
    let mut peer = Peer::spawn(wrapped, state, cache);
    let mut stdin = peer.stdin;
    let writer = std::thread::spawn(move || {
        let mut w = std::io::BufWriter::new(&mut stdin);
        for i in 0..n {
            w.write_all(&Peer::call_line(i, "hello")).unwrap();
        }
        w.flush().unwrap();
        drop(w);
        stdin
    });
    let t = Instant::now();
    let mut buf = Vec::new();
    for _ in 0..n {
        buf.clear();
        peer.stdout.read_until(b'\n', &mut buf).unwrap();
    }
    let secs = t.elapsed().as_secs_f64();
    peer.stdin = writer.join().unwrap();
    peer.finish();
    n as f64 / secs
}

fn startup(state: &Path, cache: &Path) -> Duration {
    let t = Instant::now();
    let mut peer = Peer::spawn(true, state, cache);
    let mut buf = Vec::new();
    peer.round_trip(&Peer::call_line(0, "hi"), &mut buf);
    let d = t.elapsed();
    peer.finish();
    d
}

fn us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

fn main() {
    if std::env::var_os("PARAPET_BENCH_ECHO").is_some() {
        return echo_server();
    }
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let quick = std::env::args().any(|a| a == "--quick");
    let base = std::env::temp_dir().join(format!("parapet-bench-proxy-{}", std::process::id()));
    let (state, cache, cold) = (base.join("state"), base.join("cache"), base.join("cold"));
    for d in [&state, &cache, &cold] {
        std::fs::create_dir_all(d).unwrap();
    }
    // DEEP_SCAN=off compares with the rules alone (default: messages, as the proxy ships).
    let deep = std::env::var("DEEP_SCAN").unwrap_or_else(|_| "messages".into());
    std::fs::write(
        state.join("bench.yaml"),
        format!(
            "rate_limit:\n  enabled: false\nscanner:\n  policy_injection: flag\n  deep_scan: {deep}\n"
        ),
    )
    .unwrap();
    println!("deep scan: {deep}");
    let cold_start = startup(&state, &cold);
    startup(&state, &cache);
    let warm_start = startup(&state, &cache);
    println!(
        "start-up to first answered call: warm cache {} ms, cold {} ms",
        warm_start.as_millis(),
        cold_start.as_millis()
    );

    println!("| payload | direct p50 | direct p99 | wrap p50 | wrap p99 | added p50 | added p99 |");
    println!("|---|---|---|---|---|---|---|");
    for (label, size, n) in [
        ("20 B", 20, 2000),
        ("10 KB", 10_000, 2000),
        ("1 MB", 1 << 20, 60),
    ] {
        let n = if quick { (n / 10).max(10) } else { n };
        let (dp50, dp99) = latencies(false, size, n, &state, &cache);
        let (wp50, wp99) = latencies(true, size, n, &state, &cache);
        println!(
            "| {label} | {} | {} | {} | {} | {} | {} |",
            us(dp50),
            us(dp99),
            us(wp50),
            us(wp99),
            us(wp50.saturating_sub(dp50)),
            us(wp99.saturating_sub(dp99))
        );
    }
    let n = if quick { 5_000 } else { 50_000 };
    let direct = pipelined(false, n, &state, &cache);
    let wrapped = pipelined(true, n, &state, &cache);
    println!(
        "pipelined {n} calls: direct {direct:.0} msg/s, wrap {wrapped:.0} msg/s ({:.2}x)",
        wrapped / direct
    );

    let calls = if quick { 1_000 } else { 10_000 };
    let mut peer = Peer::spawn(true, &state, &cache);
    let mut buf = Vec::new();
    for i in 0..calls {
        peer.round_trip(&Peer::call_line(i, "steady state"), &mut buf);
    }
    let rss = peer.rss_kib();
    peer.finish();
    println!(
        "proxy RSS after {calls} calls: {} MiB",
        rss.map_or("?".into(), |k| format!("{:.1}", k as f64 / 1024.0))
    );
    let _ = std::fs::remove_dir_all(PathBuf::from(&base));
}
