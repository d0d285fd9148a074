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
use parapet_engine::{Category, Scanner};
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

/// Now, as the reference wrote its timestamps (`2026-11-24T11:04:19.612151+00:00`: RFC 3339
/// with microseconds and a numeric offset), which Python's `datetime.fromisoformat` reads in
/// every version; nanoseconds and `Z` it reads only from 3.11.
pub fn now_rfc3339() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}+00:00",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
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
        let lock = paths::open_append_private(&lock_path(&path))?;
        let (tx, rx) = mpsc::channel::<Map<String, Value>>();
        let failed = Arc::new(AtomicBool::new(false));
        let flag = failed.clone();
        let gap_server = server_name.to_string();
        let handle = std::thread::Builder::new()
            .name("parapet-audit".into())
            .spawn(move || {
                let mut w = ChainWriter {
                    path,
                    file: BufWriter::new(file),
                    lock,
                    len: None,
                    key,
                    prev: GENESIS.to_string(),
                    max_bytes,
                    scrub,
                    rotated_from: None,
                    last_is_ours: false,
                };
                let fail = |e: std::io::Error| {
                    if !flag.swap(true, Ordering::SeqCst) {
                        tracing::error!("audit trail cannot be written: {e}");
                    }
                };
                // Wait for a record, give the burst it belongs to a millisecond to arrive (senders
                // do not wake this thread while it sleeps), then write it all and flush once.
                // Records of batches that could not be written: the trail says how many once it
                // can be written again, and the proxy then stops refusing (a stall of another
                // process, a full disk freed) rather than refusing for the rest of its life.
                let mut lost = 0usize;
                while let Ok(first) = rx.recv() {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                    let mut batch = vec![first];
                    batch.extend(rx.try_iter());
                    if lost > 0 {
                        let mut gap = record_head("audit_records_lost", &gap_server);
                        gap.insert("metadata".into(), serde_json::json!({ "count": lost }));
                        batch.insert(0, gap);
                    }
                    let n = batch.len();
                    match w.write_batch(batch) {
                        Ok(()) if lost > 0 => {
                            tracing::warn!(
                                "audit trail writable again; {lost} records were lost (recorded as audit_records_lost)"
                            );
                            lost = 0;
                            flag.store(false, Ordering::SeqCst);
                        }
                        Ok(()) => {}
                        Err(e) => {
                            lost += n - usize::from(lost > 0);
                            fail(e);
                        }
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
        let mut m = record_head(event_type, &self.server_name);
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

/// The fields every record opens with: when, what, and which proxy's server.
fn record_head(event_type: &str, server_name: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("timestamp".into(), Value::String(now_rfc3339()));
    m.insert("event_type".into(), Value::String(event_type.into()));
    m.insert("server_name".into(), Value::String(server_name.into()));
    m
}

/// Writes batches of records under an exclusive lock on `<trail>.lock`, so several proxies
/// (one per server, all on the default trail) extend one chain: under the lock each writer
/// follows a rotation done by another, reads the chain's last link if the file grew since its
/// own last write, and ends a line cut short by a crash before adding its own.
struct ChainWriter {
    path: PathBuf,
    file: BufWriter<std::fs::File>,
    lock: std::fs::File,
    /// The file's length as this writer left it (`None` before its first batch): a file found
    /// longer was extended by another writer, whose last link must be read.
    len: Option<u64>,
    key: Vec<u8>,
    prev: String,
    max_bytes: u64,
    scrub: Option<Arc<Scanner>>,
    /// The file rotated away just before: named in the next record, so the new file's first
    /// line says why its `prev` is not the genesis link.
    rotated_from: Option<String>,
    /// Whether the line that ends at `len` is one this writer wrote (its chain is `prev`).
    last_is_ours: bool,
}

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    path.with_file_name(name)
}

/// Holds an exclusive `flock` until dropped.
struct Locked<'a>(&'a std::fs::File);

/// How long a batch waits for the trail's lock. Writers hold it for one batch (milliseconds);
/// a process that holds it longer (stuck, or on purpose) must not silently stop the trail:
/// the batch fails, and with `audit.fail_closed` requests are refused.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

impl<'a> Locked<'a> {
    fn new(file: &'a std::fs::File) -> std::io::Result<Self> {
        use std::os::fd::AsRawFd;
        let started = std::time::Instant::now();
        let mut pause = std::time::Duration::from_micros(200);
        loop {
            // SAFETY: flock on a descriptor this File owns for the lifetime of the guard.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                return Ok(Locked(file));
            }
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EWOULDBLOCK) {
                return Err(e);
            }
            if started.elapsed() >= LOCK_WAIT {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!(
                        "another process has held the audit trail's lock for over {} s",
                        LOCK_WAIT.as_secs()
                    ),
                ));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(std::time::Duration::from_millis(20));
        }
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        use std::os::fd::AsRawFd;
        // SAFETY: as in `new`.
        unsafe { libc::flock(self.0.as_raw_fd(), libc::LOCK_UN) };
    }
}

/// Fields whose strings come from a peer and are never scanned on the way: the message id, the
/// tool name, and everything in `metadata` but the logged arguments (already redacted from
/// their own scan). Each string with a secret or personal data is redacted.
const PEER_FIELDS: &[&str] = &["message_id", "tool_name", "metadata"];

fn scrub_strings(scanner: &Scanner, v: &mut Value) {
    match v {
        Value::String(s) => {
            // Accepted (allowlisted) secrets included: the trail holds none.
            if let Ok(verdict) = scanner.scan_ignoring_allowlists(s) {
                let mut verdict = verdict;
                verdict
                    .detections
                    .retain(|d| matches!(d.category, Category::Secret | Category::Pii));
                if !verdict.detections.is_empty() {
                    let red = scanner.redact_text_all(s.as_bytes(), &verdict);
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
    fn write_batch(&mut self, batch: Vec<Map<String, Value>>) -> std::io::Result<()> {
        let lock = self.lock.try_clone()?;
        let _locked = Locked::new(&lock)?;
        self.catch_up()?;
        for record in batch {
            self.write(record)?;
        }
        self.file.flush()?;
        Ok(())
    }

    /// Under the lock: the file another writer may have rotated or extended since this one
    /// last wrote, and the chain's last link in it.
    fn catch_up(&mut self) -> std::io::Result<()> {
        use std::os::unix::fs::MetadataExt;
        let ours = self.file.get_ref().metadata()?;
        let current = std::fs::metadata(&self.path).ok();
        // Another file in the trail's place. Another writer's rotation starts it with a line
        // that names the file it follows; anything else (the trail deleted, or replaced by an
        // edited copy, as `sed -i` does) must not start a chain that hides what was cut.
        let mut replaced = false;
        if current.is_none_or(|c| c.dev() != ours.dev() || c.ino() != ours.ino()) {
            let had_written = self.len.is_some();
            self.file = BufWriter::new(paths::open_append_private(&self.path)?);
            self.len = None;
            replaced = had_written && !rotated_from_file(&self.path, ours.dev(), ours.ino());
        }
        let meta = self.file.get_ref().metadata()?;
        if !meta.is_file() {
            self.len = Some(0);
            return Ok(());
        }
        if Some(meta.len()) == self.len {
            return Ok(());
        }
        // The same file, shorter than this writer left it, or longer but without its last
        // line where this writer left it: lines were cut out of it (and perhaps padded back).
        // The next record links to the last one this writer wrote, not to what is left, so
        // the cut stays visible to `audit verify` (it used to re-link to the new tail).
        let shrunk = replaced
            || self.len.is_some_and(|l| {
                meta.len() < l || (self.last_is_ours && !self.last_line_ends_at(l, &self.prev))
            });
        let (last, ends_in_newline) = last_chain(&self.path);
        let mut len = meta.len();
        if !ends_in_newline {
            // A line cut short (a crash, a full disk) is ended, not glued to the next record.
            self.file.write_all(b"\n")?;
            len += 1;
        }
        if shrunk {
            tracing::error!(
                "the audit trail {} is shorter than this proxy left it, or was replaced: lines were removed; the next record links to the last one written, so `audit verify` shows the gap",
                self.path.display()
            );
        } else {
            self.last_is_ours = false;
            self.prev = match last {
                Some(chain) => chain,
                // Only an empty trail starts a chain; a last line without one (an edit) must
                // not start another that would hide what came before.
                None if meta.len() == 0 => GENESIS.to_string(),
                None if self.len.is_some() => self.prev.clone(),
                None => "unchained: the trail's last line has no chain".to_string(),
            };
        }
        self.len = Some(len);
        Ok(())
    }

    /// Whether the trail's bytes before `end` are still the end of the line this writer wrote
    /// last, whose chain is `chain` (another writer only ever appends after it).
    fn last_line_ends_at(&self, end: u64, chain: &str) -> bool {
        let expected = format!(",\"chain\":\"{chain}\"}}\n");
        let Some(from) = end.checked_sub(expected.len() as u64) else {
            return false;
        };
        let mut found = vec![0u8; expected.len()];
        let read = std::fs::File::open(&self.path).and_then(|mut f| {
            f.seek(SeekFrom::Start(from))?;
            f.read_exact(&mut found)
        });
        read.is_ok() && found == expected.as_bytes()
    }

    fn write(&mut self, mut record: Map<String, Value>) -> std::io::Result<()> {
        let len = self.len.unwrap_or(0);
        if len >= self.max_bytes && len > 0 {
            self.rotate()?;
        }
        if let Some(from) = self.rotated_from.take() {
            record.insert("rotated_from".into(), Value::String(from));
        }
        if let Some(scanner) = &self.scrub {
            for field in PEER_FIELDS {
                if let Some(v) = record.get_mut(*field) {
                    scrub_strings(scanner, v);
                }
            }
            // A finding's JSON Pointer names the keys above it, which a peer chose: a key that
            // is an allowlisted secret is not masked by the scan (its finding was dropped).
            if let Some(Value::Array(found)) = record.get_mut("detections") {
                for pointer in found.iter_mut().filter_map(|d| d.get_mut("pointer")) {
                    scrub_strings(scanner, pointer);
                }
            }
        }
        record.insert("prev".into(), Value::String(self.prev.clone()));
        let mut line = serde_json::to_vec(&record)?;
        let chain = mac(&self.key, &line);
        line.pop();
        line.extend_from_slice(format!(",\"chain\":\"{chain}\"}}\n").as_bytes());
        self.file.write_all(&line)?;
        self.len = Some(self.len.unwrap_or(0) + line.len() as u64);
        self.prev = chain;
        self.last_is_ours = true;
        Ok(())
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        // Fixed width, so the rotated files sort by name in the order they were made.
        let t = time::OffsetDateTime::now_utc();
        let stamp = format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}.{:09}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.nanosecond()
        );
        let stem = self
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "audit".into());
        let rotated = self.path.with_file_name(format!("{stem}.{stamp}.jsonl"));
        self.file.flush()?;
        std::fs::rename(&self.path, &rotated)?;
        self.file = BufWriter::new(paths::open_append_private(&self.path)?);
        self.len = Some(0);
        self.rotated_from = rotated
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        Ok(())
    }
}

/// The `chain` of the last whole line of an existing trail (a regular file), to continue it,
/// and whether the file ends with a newline (an empty one does).
/// Whether the file's first line is the first of a rotated file (it names the file it follows).
/// Whether the file at `path` is another writer's rotation of the file this writer had open
/// (device `dev`, inode `ino`): its first line names the file it follows, that file's first
/// line the one before, and so on back to the file this writer had open (other writers may
/// have rotated several times meanwhile). A first line that names some other file (an edited
/// copy of the trail put in its place, as `sed -i` does) is not a rotation.
fn rotated_from_file(path: &Path, dev: u64, ino: u64) -> bool {
    use std::os::unix::fs::MetadataExt;
    let mut file = path.to_path_buf();
    // Rotated files are named by file name, beside the trail; a writer idle through more
    // rotations than this has lost its place either way.
    for _ in 0..64 {
        let Some(named) = first_line_rotated_from(&file).filter(|n| !n.contains('/')) else {
            return false;
        };
        file = path.with_file_name(named);
        match std::fs::metadata(&file) {
            Ok(m) if m.dev() == dev && m.ino() == ino => return true,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    false
}

/// The file a trail file's first line says it follows, if it is a rotated file's first line.
fn first_line_rotated_from(path: &Path) -> Option<String> {
    let f = std::fs::File::open(path).ok()?;
    let mut first = Vec::new();
    let _ = std::io::BufRead::read_until(
        &mut std::io::BufReader::new(f.take(1 << 20)),
        b'\n',
        &mut first,
    );
    serde_json::from_slice::<Value>(first.trim_ascii_end())
        .ok()?
        .get("rotated_from")?
        .as_str()
        .map(str::to_string)
}

fn last_chain(path: &Path) -> (Option<String>, bool) {
    let Ok(mut f) = std::fs::File::open(path) else {
        return (None, true);
    };
    let Some(len) = f.metadata().ok().filter(|m| m.is_file()).map(|m| m.len()) else {
        return (None, true);
    };
    // The last line is looked for in a growing tail: logged arguments can make lines long.
    let mut back = 4096u64;
    loop {
        let from = len.saturating_sub(back);
        let mut tail = Vec::new();
        if f.seek(SeekFrom::Start(from)).is_err() || f.read_to_end(&mut tail).is_err() {
            return (None, true);
        }
        let ends = tail.last().is_none_or(|&b| b == b'\n');
        let whole = tail.split(|&b| b == b'\n').collect::<Vec<_>>();
        // Lines wholly inside the tail: all but the first, unless the tail is the file.
        let usable = if from == 0 { &whole[..] } else { &whole[1..] };
        let last = usable
            .iter()
            .rev()
            .skip(usize::from(!ends))
            .find(|l| !l.iter().all(u8::is_ascii_whitespace));
        if let Some(line) = last {
            return (split_chain(line).map(|(_, c)| c.to_string()), ends);
        }
        if from == 0 || back >= 64 << 20 {
            return (None, ends);
        }
        back *= 4;
    }
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
    /// The file the first line checked says it was rotated from: the trail began before the
    /// files given, and what came before them is not proven (lines could be missing there).
    pub follows: Option<String>,
}

/// Checks the chain through `files`, in order (oldest first): every line's HMAC, every `prev`
/// link, and the links between files.
pub fn verify(files: &[PathBuf], key: &[u8]) -> std::io::Result<VerifyReport> {
    let mut report = VerifyReport::default();
    let mut prev: Option<String> = None;
    for file in files {
        let named =
            |e: std::io::Error| std::io::Error::new(e.kind(), format!("{}: {e}", file.display()));
        // A FIFO would be waited on forever; a trail is a regular file.
        if !std::fs::metadata(file).map_err(named)?.is_file() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{} is not a regular file", file.display()),
            ));
        }
        let text = std::fs::read(file).map_err(named)?;
        let ends_in_newline = text.last().is_none_or(|&b| b == b'\n');
        let lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
        // The piece after the last newline is no line.
        let lines = &lines[..lines.len() - usize::from(ends_in_newline)];
        let blank = |l: &[u8]| l.iter().all(u8::is_ascii_whitespace);
        for (n, line) in lines.iter().enumerate() {
            let at = format!("{}:{}", file.display(), n + 1);
            // The proxy never writes a blank line: one is where a line was blanked out, or
            // padding put in to hide a cut from the writer. A run is one problem.
            if blank(line) {
                if n == 0 || !blank(lines[n - 1]) {
                    let run = lines[n..].iter().take_while(|l| blank(l)).count();
                    report.problems.push(match run {
                        1 => format!("{at}: blank line"),
                        _ => format!("{at}: {run} blank lines"),
                    });
                }
                continue;
            }
            report.lines += 1;
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
            match (&prev, &claimed) {
                (Some(p), Some(c)) if p != c => report.problems.push(format!(
                    "{at}: chain broken (a line before it is missing or moved)"
                )),
                // The first line checked: the trail's first (the genesis link), or the first
                // of a file rotated from another (which it names).
                (None, Some(c)) if c != GENESIS => {
                    let rotated = serde_json::from_slice::<Value>(&body)
                        .ok()
                        .and_then(|v| v.get("rotated_from")?.as_str().map(str::to_string));
                    match rotated {
                        None => report.problems.push(format!(
                            "{at}: the trail does not start here (lines before it are missing)"
                        )),
                        Some(from) => {
                            // Rotated files stay beside the trail: one that is gone took its
                            // lines with it.
                            let beside = file.with_file_name(&from);
                            if from.contains('/') || !beside.exists() {
                                report.problems.push(format!(
                                    "{at}: follows {from}, which is not beside it (deleted? if it was moved, give it first)"
                                ));
                            }
                            report.follows = Some(from);
                        }
                    }
                }
                _ => {}
            }
            prev = Some(chain.to_string());
        }
    }
    if report.lines == 0 {
        report
            .problems
            .push("no audit records: the trail is empty (emptied, or not the trail)".into());
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
        assert_eq!(r.follows, None, "proved from the trail's start");
        // Without the oldest file the chain holds, but the report says its start is unproven.
        let later = verify(&files[1..], &key).unwrap();
        assert!(later.problems.is_empty() && later.follows.is_some());
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

    /// Whether `done` holds within 2 s (the writer thread writes batches as they come).
    fn eventually(mut done: impl FnMut() -> bool) -> bool {
        (0..400).any(|_| {
            done() || {
                std::thread::sleep(std::time::Duration::from_millis(5));
                false
            }
        })
    }

    /// What `sed -i '$d'` does: an edited copy without the last line renamed over the file.
    fn sed_delete_last_line(path: &Path) {
        let text = std::fs::read_to_string(path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let copy = path.with_extension("sed-copy");
        let kept: String = lines[..lines.len() - 1]
            .iter()
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(&copy, kept).unwrap();
        std::fs::rename(&copy, path).unwrap();
    }

    fn fresh_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("parapet-audit-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn writers_sharing_one_trail_extend_one_chain() {
        // Every `wrap` of a client's config writes to the default trail at once.
        let dir = fresh_dir("shared");
        let path = dir.join("a.jsonl");
        let key = b"k".to_vec();
        let (a, wa) = Audit::start(path.clone(), key.clone(), 2000, "one", None).unwrap();
        let (b, wb) = Audit::start(path.clone(), key.clone(), 2000, "two", None).unwrap();
        for i in 0..20 {
            let w = if i % 2 == 0 { &a } else { &b };
            w.record(
                "tool_call_request",
                vec![("message_id", json!(i.to_string()))],
            );
            std::thread::sleep(std::time::Duration::from_millis(3));
        }
        drop((a, b));
        wa.finish();
        wb.finish();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p != &path && p.extension().is_some_and(|e| e == "jsonl"))
            .collect();
        files.sort();
        files.push(path.clone());
        assert!(files.len() > 1, "rotated: {files:?}");
        let r = verify(&files, &key).unwrap();
        assert_eq!((r.lines, r.problems.len()), (20, 0), "{:?}", r.problems);
        // The live file alone starts with a line that names the file before it: no problem.
        assert!(verify(std::slice::from_ref(&path), &key)
            .unwrap()
            .problems
            .is_empty());
        // Unless that file is gone (its lines with it).
        for rotated in &files[..files.len() - 1] {
            std::fs::remove_file(rotated).unwrap();
        }
        let r = verify(std::slice::from_ref(&path), &key).unwrap();
        assert!(
            r.problems
                .iter()
                .any(|p| p.contains("which is not beside it")),
            "{:?}",
            r.problems
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_held_lock_fails_the_trail_and_the_gap_is_recorded_once_it_is_free() {
        use std::os::fd::AsRawFd;
        let dir = fresh_dir("held");
        let path = dir.join("a.jsonl");
        let key = b"k".to_vec();
        let (a, w) = Audit::start(path.clone(), key.clone(), u64::MAX, "srv", None).unwrap();
        // Another process holds the lock for longer than a batch waits.
        let holder = std::fs::File::open(lock_path(&path)).unwrap();
        // SAFETY: flock on a descriptor this test owns.
        assert_eq!(unsafe { libc::flock(holder.as_raw_fd(), libc::LOCK_EX) }, 0);
        a.record("tool_call_request", vec![("message_id", json!("1"))]);
        let waited = std::time::Instant::now();
        while !a.has_failed() && waited.elapsed() < LOCK_WAIT * 3 {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert!(a.has_failed(), "the batch failed once the wait ran out");
        drop(holder);
        a.record("tool_call_request", vec![("message_id", json!("2"))]);
        drop(a);
        w.finish();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(lines[0]["event_type"], "audit_records_lost");
        assert_eq!(lines[0]["metadata"]["count"], 1);
        assert_eq!(lines[0]["server_name"], "srv", "the gap names its proxy");
        assert_eq!(lines[1]["message_id"], "2");
        let r = verify(std::slice::from_ref(&path), &key).unwrap();
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn lines_cut_while_a_proxy_writes_stay_a_visible_gap() {
        // The trail is truncated under a running writer (the evidence of one call cut out):
        // the next record links to the last one written, so verify shows the gap.
        let dir = fresh_dir("truncated");
        let path = dir.join("a.jsonl");
        let key = b"k".to_vec();
        let (a, w) = Audit::start(path.clone(), key.clone(), u64::MAX, "t", None).unwrap();
        for i in 0..3 {
            a.record(
                "tool_call_request",
                vec![("message_id", json!(i.to_string()))],
            );
        }
        let written = |n: usize| {
            eventually(|| std::fs::read_to_string(&path).map_or(0, |t| t.lines().count()) >= n)
        };
        assert!(written(3), "records reached the file");
        let text = std::fs::read_to_string(&path).unwrap();
        let keep: usize = text.lines().take(2).map(|l| l.len() + 1).sum();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(keep as u64)
            .unwrap();
        a.record("tool_call_request", vec![("message_id", json!("after"))]);
        assert!(written(3), "the next record reached the file");
        // Replaced by an edited copy (`sed -i '$d'`: a new file renamed over it).
        sed_delete_last_line(&path);
        a.record(
            "tool_call_request",
            vec![("message_id", json!("after the copy"))],
        );
        drop(a);
        w.finish();
        // The copy dropped the line that showed the first cut; the record after it shows the
        // second (it links to the dropped line, not to what is left).
        let r = verify(std::slice::from_ref(&path), &key).unwrap();
        assert!(
            r.problems.iter().any(|p| p.contains(":3: chain broken")),
            "the cut is visible: {:?}",
            r.problems
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn cuts_padded_back_to_length_or_made_after_a_rotation_stay_visible() {
        let key = b"k".to_vec();
        let wait_for = |path: &Path, n: usize| {
            eventually(|| {
                std::fs::read_to_string(path).map_or(0, |t| {
                    t.lines().filter(|l| l.contains("message_id")).count()
                }) >= n
            })
        };
        // The last line cut in place, then blank lines padding the file past the length the
        // writer left: the writer must not take the new tail for another writer's records.
        let dir = fresh_dir("padded");
        let path = dir.join("a.jsonl");
        let (a, w) = Audit::start(path.clone(), key.clone(), u64::MAX, "t", None).unwrap();
        for i in 0..3 {
            a.record(
                "tool_call_request",
                vec![("message_id", json!(i.to_string()))],
            );
        }
        assert!(wait_for(&path, 3));
        let text = std::fs::read_to_string(&path).unwrap();
        let kept: String = text.lines().take(2).map(|l| format!("{l}\n")).collect();
        let padded = format!("{kept}{}", "\n".repeat(text.len() - kept.len() + 10));
        std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&path)
            .unwrap()
            .write_all(padded.as_bytes())
            .unwrap();
        a.record("tool_call_request", vec![("message_id", json!("after"))]);
        drop(a);
        w.finish();
        let r = verify(std::slice::from_ref(&path), &key).unwrap();
        assert!(
            r.problems.iter().any(|p| p.contains("chain broken")),
            "the cut is visible: {:?}",
            r.problems
        );
        assert!(r.problems.iter().any(|p| p.ends_with(" blank lines")));

        // After a rotation the live file starts with a line naming the file it follows; an
        // edited copy put in its place starts the same way, but follows no file of ours.
        let dir = fresh_dir("rotated-cut");
        let path = dir.join("a.jsonl");
        let (a, w) = Audit::start(path.clone(), key.clone(), 600, "t", None).unwrap();
        for i in 0..6 {
            a.record(
                "tool_call_request",
                vec![("message_id", json!(i.to_string()))],
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let live_lines = || std::fs::read_to_string(&path).unwrap().lines().count();
        assert!(
            eventually(|| live_lines() >= 2),
            "the live file holds two lines after a rotation"
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with('{') && text.lines().next().unwrap().contains("rotated_from"));
        sed_delete_last_line(&path);
        a.record("tool_call_request", vec![("message_id", json!("after"))]);
        drop(a);
        w.finish();
        let r = verify(std::slice::from_ref(&path), &key).unwrap();
        assert!(
            r.problems.iter().any(|p| p.contains("chain broken")),
            "the cut is visible: {:?}",
            r.problems
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_writer_idle_through_several_rotations_continues_the_chain() {
        let dir = fresh_dir("idle-rotations");
        let path = dir.join("a.jsonl");
        let key = b"k".to_vec();
        let count = |dir: &Path| {
            std::fs::read_dir(dir)
                .map(|d| {
                    d.filter_map(|e| e.ok())
                        .filter(|e| e.path().extension().is_some_and(|x| x == "jsonl"))
                        .map(|e| {
                            std::fs::read_to_string(e.path())
                                .unwrap_or_default()
                                .lines()
                                .count()
                        })
                        .sum::<usize>()
                })
                .unwrap_or(0)
        };
        let wait_for = |n: usize| eventually(|| count(&dir) >= n);
        let (a, wa) = Audit::start(path.clone(), key.clone(), 600, "a", None).unwrap();
        let (b, wb) = Audit::start(path.clone(), key.clone(), 600, "b", None).unwrap();
        a.record("tool_call_request", vec![("message_id", json!("a1"))]);
        assert!(wait_for(1));
        for i in 0..12 {
            b.record(
                "tool_call_request",
                vec![("message_id", json!(format!("b{i}")))],
            );
            assert!(wait_for(2 + i));
        }
        a.record("tool_call_request", vec![("message_id", json!("a2"))]);
        drop((a, b));
        wa.finish();
        wb.finish();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p != &path && p.extension().is_some_and(|e| e == "jsonl"))
            .collect();
        files.sort();
        assert!(files.len() >= 2, "rotated more than once: {files:?}");
        files.push(path.clone());
        let r = verify(&files, &key).unwrap();
        assert_eq!((r.lines, r.problems.len()), (14, 0), "{:?}", r.problems);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_empty_trail_does_not_verify() {
        let dir = fresh_dir("empty");
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in [("empty.jsonl", ""), ("blank.jsonl", "\n\n  \n")] {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            let r = verify(std::slice::from_ref(&path), b"k").unwrap();
            assert!(!r.problems.is_empty(), "{name}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn lines_cut_from_the_start_are_caught_and_a_cut_line_is_not_glued_to_the_next() {
        let dir = fresh_dir("cut");
        let path = dir.join("a.jsonl");
        let key = b"k".to_vec();
        let (a, w) = Audit::start(path.clone(), key.clone(), u64::MAX, "t", None).unwrap();
        for i in 0..4 {
            a.record(
                "tool_call_request",
                vec![("message_id", json!(i.to_string()))],
            );
        }
        drop(a);
        w.finish();
        let text = std::fs::read_to_string(&path).unwrap();
        let cut: String = text.lines().skip(2).map(|l| format!("{l}\n")).collect();
        let cut_path = dir.join("cut.jsonl");
        std::fs::write(&cut_path, cut).unwrap();
        let r = verify(&[cut_path], &key).unwrap();
        assert!(
            r.problems.iter().any(|p| p.contains("does not start")),
            "{:?}",
            r.problems
        );
        // A crash mid-line, then a new session: its first record gets a line of its own.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(b"{\"timestamp\":\"wor").unwrap();
        drop(f);
        let (a, w) = Audit::start(path.clone(), key.clone(), u64::MAX, "t", None).unwrap();
        a.record("proxy_start", vec![]);
        drop(a);
        w.finish();
        let text = std::fs::read_to_string(&path).unwrap();
        let last = text.lines().last().unwrap();
        assert!(
            last.starts_with("{\"timestamp\"") && last.contains("proxy_start"),
            "{text}"
        );
        let r = verify(std::slice::from_ref(&path), &key).unwrap();
        assert_eq!(r.problems.len(), 1, "only the cut line: {:?}", r.problems);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
