//! Test harness: a proxy session in-process, the client side on a duplex pipe, the server a
//! real child process (the `mock_server` example, or any command).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use parapet_engine::Scanner;
use parapet_proxy::scanner_setup::{scanner_config, ScanOverrides};
use parapet_proxy::session::Session;
use parapet_proxy::Config;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream, ReadHalf, WriteHalf};

#[path = "../../../engine/tests/support/rule_cache.rs"]
mod rule_cache;

/// The scanner this config asks for (the built-in rules' database comes from the tests' shared
/// cache; the user's own cache is left alone).
pub fn scanner(config: &Config) -> Arc<Scanner> {
    let sc = scanner_config(config, &ScanOverrides::default()).unwrap();
    Arc::new(rule_cache::cached_scanner(sc).unwrap())
}

pub fn mock_server() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let p = dir.join("examples").join("mock_server");
    assert!(
        p.exists(),
        "build the mock server first: cargo build -p parapet-proxy --examples ({})",
        p.display()
    );
    p
}

pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        let d = std::env::temp_dir().join(format!(
            "parapet-proxy-test-{name}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&d).unwrap();
        TempDir(d)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A config whose state files live in `dir`; `extra` is appended YAML.
pub fn config(dir: &TempDir, extra: &str) -> Config {
    let text = format!(
        "audit:\n  log_file: '{}/audit.jsonl'\nintegrity:\n  signing_key: test-key\n  manifest_dir: '{}/manifests'\n{extra}",
        dir.0.display(),
        dir.0.display()
    );
    Config::parse(&text).unwrap()
}

pub struct Client {
    tx: WriteHalf<DuplexStream>,
    rx: BufReader<ReadHalf<DuplexStream>>,
    pub task: tokio::task::JoinHandle<parapet_proxy::Result<i32>>,
}

impl Client {
    /// Starts a session for server `name` running `command` (env vars as `K=V` first).
    pub fn start(config: &Config, name: &str, command: &[&str]) -> Client {
        let session = Session::new(config, name, scanner(config)).unwrap();
        let (client_side, proxy_side) = tokio::io::duplex(1 << 20);
        let (proxy_in, proxy_out) = tokio::io::split(proxy_side);
        let mut cmd: Vec<std::ffi::OsString> = vec!["env".into()];
        cmd.extend(command.iter().map(Into::into));
        let task = tokio::spawn(session.run(cmd, proxy_in, proxy_out));
        let (rx, tx) = tokio::io::split(client_side);
        Client {
            tx,
            rx: BufReader::new(rx),
            task,
        }
    }

    pub fn mock(config: &Config, name: &str, env: &[&str]) -> Client {
        let server = mock_server();
        let mut cmd: Vec<&str> = env.to_vec();
        cmd.push(server.to_str().unwrap());
        Client::start(config, name, &cmd)
    }

    pub async fn send(&mut self, line: &str) {
        self.tx.write_all(line.as_bytes()).await.unwrap();
        self.tx.write_all(b"\n").await.unwrap();
        self.tx.flush().await.unwrap();
    }

    /// The next line from the proxy, as bytes.
    pub async fn recv_raw(&mut self) -> Vec<u8> {
        let mut buf = Vec::new();
        tokio::time::timeout(Duration::from_secs(20), self.rx.read_until(b'\n', &mut buf))
            .await
            .expect("a reply within 20 s")
            .unwrap();
        assert!(
            buf.ends_with(b"\n"),
            "proxy closed: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.pop();
        buf
    }

    pub async fn recv(&mut self) -> Value {
        let raw = self.recv_raw().await;
        serde_json::from_slice(&raw)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&raw)))
    }

    pub async fn send_and_raw(&mut self, line: &str) -> Vec<u8> {
        self.send(line).await;
        self.recv_raw().await
    }

    pub async fn call(&mut self, id: u64, tool: &str, args: Value) -> Value {
        let msg = serde_json::json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": tool, "arguments": args}});
        self.send(&msg.to_string()).await;
        self.recv().await
    }

    pub async fn list_tools(&mut self, id: u64) -> Vec<String> {
        self.send(&format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/list"}}"#
        ))
        .await;
        let r = self.recv().await;
        r["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect()
    }

    /// Closes the client side and returns the proxy's exit code.
    pub async fn close(mut self) -> i32 {
        self.tx.shutdown().await.unwrap();
        drop(self.tx);
        tokio::time::timeout(Duration::from_secs(20), self.task)
            .await
            .expect("proxy ends")
            .unwrap()
            .unwrap()
    }
}

pub fn audit_lines(dir: &TempDir) -> Vec<Value> {
    std::fs::read_to_string(dir.0.join("audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
