//! The audit trail: append-only JSONL, one line per decision, written by a dedicated thread.
//! Each line carries `prev` (the previous line's `chain`) and `chain`, an HMAC-SHA256 with the
//! install key over the line up to that field, so a removed, reordered or edited line breaks the
//! chain; the first line of a rotated file carries the last `chain` of the file before it.
//! Never a raw secret: callers pass detections as kind, rule, pointer, span and fingerprint.

use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

use hmac::{Hmac, Mac};
use parapet_engine::{Action, Category, Scanner};
use serde_json::{Map, Value};
use sha2::Sha256;

use crate::paths;

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn mac(key: &[u8], body: &[u8]) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    m.update(body);
    hex(&m.finalize().into_bytes())
}

pub fn hex(bytes: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(H[(b >> 4) as usize] as char);
        s.push(H[(b & 15) as usize] as char);
    }
    s
}

pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Sends records to the writer thread. Cheap to clone.
#[derive(Clone)]
pub struct Audit {
    tx: Option<mpsc::Sender<Map<String, Value>>>,
    failed: Arc<AtomicBool>,
    server_name: String,
}

pub struct AuditWriter {
    handle: Option<JoinHandle<()>>,
}

impl AuditWriter {
    /// Waits until every record sent before the last `Audit` was dropped is written.
    pub fn finish(mut self) {
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Audit {
    /// An audit that records nothing (`audit.enabled: false`).
    pub fn disabled(server_name: &str) -> Self {
        Audit {
            tx: None,
            failed: Arc::new(AtomicBool::new(false)),
            server_name: server_name.to_string(),
        }
    }

    /// Opens (or continues) the trail at `path` and starts the writer thread.
    /// `scrub`: the scanner that finds secrets and personal data in the fields a peer chooses
    /// (ids, tool names, the server command) before they are written.
    pub fn start(
        path: PathBuf,
        key: Vec<u8>,
        max_bytes: u64,
        server_name: &str,
        scrub: Option<Arc<Scanner>>,
    ) -> std::io::Result<(Audit, AuditWriter)> {
        let file = paths::open_append_private(&path)?;
        let prev = last_chain(&path).unwrap_or_else(|| GENESIS.to_string());
        let (tx, rx) = mpsc::channel::<Map<String, Value>>();
        let failed = Arc::new(AtomicBool::new(false));
        let flag = failed.clone();
        let handle = std::thread::Builder::new()
            .name("parapet-audit".into())
            .spawn(move || {
                let size = file.metadata().map(|m| m.len()).unwrap_or(0);
                let mut w = ChainWriter {
                    path,
                    file: BufWriter::new(file),
                    size,
                    key,
                    prev,
                    max_bytes,
                    scrub,
                };
                let fail = |e: std::io::Error| {
                    if !flag.swap(true, Ordering::SeqCst) {
                        tracing::error!("audit trail cannot be written: {e}");
                    }
                };
                // Wait for a record, give the burst it belongs to a millisecond to arrive (senders
                // do not wake this thread while it sleeps), then write it all and flush once.
                while let Ok(first) = rx.recv() {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                    let mut result = w.write(first);
                    while let (Ok(()), Ok(next)) = (&result, rx.try_recv()) {
                        result = w.write(next);
                    }
                    if let Err(e) = result.and_then(|()| w.file.flush()) {
                        fail(e);
                    }
                }
            })?;
        Ok((
            Audit {
                tx: Some(tx),
                failed,
                server_name: server_name.to_string(),
            },
            AuditWriter {
                handle: Some(handle),
            },
        ))
    }

    /// True once a write failed (the pipeline then fails closed if configured to).
    pub fn has_failed(&self) -> bool {
        self.failed.load(Ordering::SeqCst)
    }

    pub fn enabled(&self) -> bool {
        self.tx.is_some()
    }

    /// Records one event. `fields` holds the event's own fields (tool_name, direction, verdict,
    /// detections, message_id, metadata); empty ones are left out.
    pub fn record(&self, event_type: &str, fields: Vec<(&str, Value)>) {
        let Some(tx) = &self.tx else { return };
        let mut m = Map::new();
        m.insert("timestamp".into(), Value::String(now_rfc3339()));
        m.insert("event_type".into(), Value::String(event_type.into()));
        m.insert(
            "server_name".into(),
            Value::String(self.server_name.clone()),
        );
        for (k, v) in fields {
            let empty = match &v {
                Value::Null => true,
                Value::Array(a) => a.is_empty(),
                Value::Object(o) => o.is_empty(),
                Value::String(s) => s.is_empty(),
                _ => false,
            };
            if !empty {
                m.insert(k.into(), v);
            }
        }
        if tx.send(m).is_err() {
            self.failed.store(true, Ordering::SeqCst);
        }
    }
}

struct ChainWriter {
    path: PathBuf,
    file: BufWriter<std::fs::File>,
    size: u64,
    key: Vec<u8>,
    prev: String,
    max_bytes: u64,
    scrub: Option<Arc<Scanner>>,
}

/// Fields whose strings come from a peer and are never scanned on the way: the message id, the
/// tool name, and everything in `metadata` but the logged arguments (already redacted from
/// their own scan). Each string with a secret or personal data is redacted.
const PEER_FIELDS: &[&str] = &["message_id", "tool_name", "metadata"];

fn scrub_strings(scanner: &Scanner, v: &mut Value) {
    match v {
        Value::String(s) => {
            if let Ok(verdict) = scanner.scan(s) {
                let mut verdict = verdict;
                verdict
                    .detections
                    .retain(|d| matches!(d.category, Category::Secret | Category::Pii));
                if !verdict.detections.is_empty() {
                    for d in &mut verdict.detections {
                        d.action = Action::Redact;
                    }
                    let red = scanner.redact_text(s.as_bytes(), &verdict);
                    *s = String::from_utf8_lossy(&red).into_owned();
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|v| scrub_strings(scanner, v)),
        Value::Object(o) => o
            .iter_mut()
            .filter(|(k, _)| k.as_str() != "arguments")
            .for_each(|(_, v)| scrub_strings(scanner, v)),
        _ => {}
    }
}

impl ChainWriter {
    fn write(&mut self, mut record: Map<String, Value>) -> std::io::Result<()> {
        if self.size >= self.max_bytes && self.size > 0 {
            self.rotate()?;
        }
        if let Some(scanner) = &self.scrub {
            for field in PEER_FIELDS {
                if let Some(v) = record.get_mut(*field) {
                    scrub_strings(scanner, v);
                }
            }
        }
        record.insert("prev".into(), Value::String(self.prev.clone()));
        let mut line = serde_json::to_vec(&record)?;
        let chain = mac(&self.key, &line);
        line.pop();
        line.extend_from_slice(format!(",\"chain\":\"{chain}\"}}\n").as_bytes());
        self.file.write_all(&line)?;
        self.size += line.len() as u64;
        self.prev = chain;
        Ok(())
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        let stamp = now_rfc3339().replace([':', '+'], "-");
        let stem = self
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "audit".into());
        let rotated = self.path.with_file_name(format!("{stem}.{stamp}.jsonl"));
        self.file.flush()?;
        std::fs::rename(&self.path, rotated)?;
        self.file = BufWriter::new(paths::open_append_private(&self.path)?);
        self.size = 0;
        Ok(())
    }
}

/// The `chain` of the last line of an existing trail, to continue it.
fn last_chain(path: &Path) -> Option<String> {
    let mut f = std::fs::File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    let from = len.saturating_sub(64 * 1024);
    f.seek(SeekFrom::Start(from)).ok()?;
    let mut tail = Vec::new();
    f.read_to_end(&mut tail).ok()?;
    let text = String::from_utf8_lossy(&tail);
    let last = text.lines().rev().find(|l| !l.trim().is_empty())?;
    split_chain(last.as_bytes()).map(|(_, c)| c.to_string())
}

/// A line's body (as it was when its HMAC was taken) and its `chain`.
fn split_chain(line: &[u8]) -> Option<(Vec<u8>, &str)> {
    let text = std::str::from_utf8(line).ok()?.trim_end();
    let at = text.rfind(",\"chain\":\"")?;
    let chain = text[at + 10..].strip_suffix("\"}")?;
    let mut body = text.as_bytes()[..at].to_vec();
    body.push(b'}');
    Some((body, chain))
}

/// What `audit verify` found.
#[derive(Debug, Default)]
pub struct VerifyReport {
    pub lines: usize,
    pub problems: Vec<String>,
}

/// Checks the chain through `files`, in order (oldest first): every line's HMAC, every `prev`
/// link, and the links between files.
pub fn verify(files: &[PathBuf], key: &[u8]) -> std::io::Result<VerifyReport> {
    let mut report = VerifyReport::default();
    let mut prev: Option<String> = None;
    for file in files {
        let text = std::fs::read(file)?;
        for (n, line) in text.split(|&b| b == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            report.lines += 1;
            let at = format!("{}:{}", file.display(), n + 1);
            let Some((body, chain)) = split_chain(line) else {
                report.problems.push(format!("{at}: no chain field"));
                continue;
            };
            if mac(key, &body).as_bytes().ct_ne(chain.as_bytes()) {
                report.problems.push(format!(
                    "{at}: HMAC does not match (edited, or another key)"
                ));
            }
            let claimed = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v.get("prev")?.as_str().map(str::to_string));
            if let (Some(p), Some(c)) = (&prev, &claimed) {
                if p != c {
                    report.problems.push(format!(
                        "{at}: chain broken (a line before it is missing or moved)"
                    ));
                }
            }
            prev = Some(chain.to_string());
        }
    }
    Ok(report)
}

trait CtNe {
    fn ct_ne(&self, other: &[u8]) -> bool;
}

impl CtNe for [u8] {
    fn ct_ne(&self, other: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        !bool::from(self.ct_eq(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn chain_verifies_and_catches_edits_removals_and_rotation_links() {
        let dir = std::env::temp_dir().join(format!("parapet-audit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("a.jsonl");
        let key = b"k".to_vec();
        let (audit, writer) = Audit::start(path.clone(), key.clone(), 300, "t", None).unwrap();
        for i in 0..6 {
            audit.record(
                "tool_call_request",
                vec![("message_id", json!(i.to_string()))],
            );
        }
        drop(audit);
        writer.finish();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert!(files.len() > 1, "rotation happened: {files:?}");
        // Rotated files sort by their time stamp; the live file is last.
        files.retain(|f| f != &path);
        files.sort();
        files.push(path.clone());
        let r = verify(&files, &key).unwrap();
        assert_eq!((r.lines, r.problems.len()), (6, 0), "{:?}", r.problems);
        assert!(!verify(&files, b"other").unwrap().problems.is_empty());
        // Drop one file from the middle of the sequence: the link breaks.
        let mut gap = files.clone();
        gap.remove(files.len() / 2);
        assert!(!verify(&gap, &key).unwrap().problems.is_empty());
        // Edit a line.
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(
            &path,
            text.replacen("tool_call_request", "tool_call_requesT", 1),
        )
        .unwrap();
        assert!(!verify(&files, &key).unwrap().problems.is_empty());
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&path).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
