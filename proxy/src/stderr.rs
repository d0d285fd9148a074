//! The server's stderr, relayed to ours line by line with whatever the scanner finds redacted
//! (every finding, whatever the policies say: a log is not a message anyone judged). A private
//! key printed in a log spans lines, so the lines from its `-----BEGIN` to its `-----END` are
//! held and scanned as one text; a block that has to go out before its end (over
//! `MAX_HELD_LINES` lines or `MAX_HELD_BYTES`, no line for `HOLD_FOR`, the end of the
//! stream) has its key lines redacted whole, and the lines after it too, up to its `-----END`. A line over the cap is
//! cut, and the partial token at the cut dropped, so a secret cut in two shows no part of
//! itself.

use std::sync::Arc;
use std::time::Duration;

use parapet_engine::{Category, Scanner};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

use crate::frame::{Frame, FrameReader};
use crate::pipeline::Pipeline;

/// Longest stderr line relayed whole; a longer one is cut.
pub const LINE_CAP: usize = 1 << 20;
/// A PEM block is held for at most this many lines, or bytes.
const MAX_HELD_LINES: usize = 200;
const MAX_HELD_BYTES: usize = 64 << 10;
/// A held block goes out when no line has come for this long (a server that printed half a
/// key and went quiet).
const HOLD_FOR: Duration = Duration::from_millis(200);

/// Relays `input` (the server's stderr) to `out` until `input` ends.
pub async fn relay<R, W>(pipeline: Arc<Pipeline>, input: R, mut out: W)
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin,
{
    // Cut within the scanner's byte cap too: a line over it would only get a too-large
    // verdict, and be relayed unredacted.
    let cap = LINE_CAP.min(pipeline.scanner().max_bytes());
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(64);
    // Lines are read on a task of their own, so waiting for the next one can time out without
    // losing a line half read.
    tokio::spawn(async move {
        let mut frames = FrameReader::new(BufReader::new(input), cap);
        while let Ok(Some(frame)) = frames.next().await {
            let line = match frame {
                Frame::Line(l) => l,
                Frame::Oversize { len, head, .. } => cut(head, cap, len),
            };
            if tx.send(line).await.is_err() {
                break;
            }
        }
    });
    let scanner = pipeline.scanner();
    let mut relay = Relay {
        held: Vec::new(),
        unclosed: 0,
    };
    loop {
        let next = if relay.held.is_empty() {
            rx.recv().await
        } else {
            match tokio::time::timeout(HOLD_FOR, rx.recv()).await {
                Ok(next) => next,
                Err(_) => {
                    if relay.flush(&mut out, scanner).await.is_err() {
                        return;
                    }
                    continue;
                }
            }
        };
        let Some(line) = next else { break };
        if relay.line(&mut out, scanner, line).await.is_err() {
            return;
        }
    }
    let _ = relay.flush(&mut out, scanner).await;
}

/// The relay's state between lines.
struct Relay {
    /// Lines of a private key block not yet closed, held to be scanned as one text.
    held: Vec<Vec<u8>>,
    /// After a block went out without its `-----END` line (a pause, its size, the end of the
    /// stream): how many more lines are taken as the rest of the key and redacted whole.
    unclosed: usize,
}

impl Relay {
    async fn line<W: AsyncWrite + Unpin>(
        &mut self,
        out: &mut W,
        scanner: &Scanner,
        line: Vec<u8>,
    ) -> std::io::Result<()> {
        if self.unclosed > 0 {
            self.unclosed = if closes_pem(&line) {
                0
            } else {
                self.unclosed - 1
            };
            return write_raw(out, REDACTED_LINE).await;
        }
        if self.held.is_empty() && !opens_private_key(&line) {
            return write(out, scanner, &[line]).await;
        }
        // A line that closes one block and opens another keeps holding.
        let closes = closes_pem(&line) && !ends_before_begin(&line);
        self.held.push(line);
        let bytes: usize = self.held.iter().map(Vec::len).sum();
        if closes {
            write(out, scanner, &std::mem::take(&mut self.held)).await
        } else if self.held.len() >= MAX_HELD_LINES || bytes >= MAX_HELD_BYTES {
            self.flush(out, scanner).await
        } else {
            Ok(())
        }
    }

    /// Sends out a block that has no `-----END` yet: the lines before its `-----BEGIN` as
    /// scanned, the key's lines redacted whole (a rule only sees a key's header and first line
    /// without its end), and the lines that follow taken as more of it.
    async fn flush<W: AsyncWrite + Unpin>(
        &mut self,
        out: &mut W,
        scanner: &Scanner,
    ) -> std::io::Result<()> {
        let held = std::mem::take(&mut self.held);
        let Some(begin) = held.iter().position(|l| opens_private_key(l)) else {
            return write(out, scanner, &held).await;
        };
        write(out, scanner, &held[..begin]).await?;
        let line = &held[begin];
        let at = memchr::memmem::rfind(line, b"-----BEGIN ").unwrap_or(0);
        let mut head = line[..at].to_vec();
        head.extend_from_slice(REDACTED_LINE);
        write_raw(out, &head).await?;
        for _ in &held[begin + 1..] {
            write_raw(out, REDACTED_LINE).await?;
        }
        self.unclosed = MAX_HELD_LINES;
        Ok(())
    }
}

/// What a line of an unclosed private key is written as.
const REDACTED_LINE: &[u8] = b"[REDACTED:private_key]";

/// A line that opens a private key block (`-----BEGIN RSA PRIVATE KEY-----`, `…OPENSSH
/// PRIVATE KEY…`, `…PGP PRIVATE KEY BLOCK…`); other PEM blocks (certificates, public keys)
/// hold no secret and go line by line.
fn opens_private_key(line: &[u8]) -> bool {
    memchr::memmem::rfind(line, b"-----BEGIN ")
        .is_some_and(|at| memchr::memmem::find(&line[at..], b"PRIVATE KEY").is_some())
}

/// `line` and a line break, as it is.
async fn write_raw<W: AsyncWrite + Unpin>(out: &mut W, line: &[u8]) -> std::io::Result<()> {
    let mut bytes = line.to_vec();
    bytes.push(b'\n');
    out.write_all(&bytes).await?;
    out.flush().await
}

fn closes_pem(line: &[u8]) -> bool {
    memchr::memmem::rfind(line, b"-----END ").is_some()
}

/// Whether the line's last `-----END` comes before its last `-----BEGIN` (a block that opens
/// again on the line that closes one).
fn ends_before_begin(line: &[u8]) -> bool {
    match (
        memchr::memmem::rfind(line, b"-----END "),
        memchr::memmem::rfind(line, b"-----BEGIN "),
    ) {
        (Some(end), Some(begin)) => end < begin,
        _ => false,
    }
}

/// `lines` scanned as one text (joined by line breaks), every finding redacted, written with a
/// line break after each line.
async fn write<W: AsyncWrite + Unpin>(
    out: &mut W,
    scanner: &Scanner,
    lines: &[Vec<u8>],
) -> std::io::Result<()> {
    if lines.is_empty() {
        return Ok(());
    }
    let mut text = lines.join(&b'\n');
    if let Ok(v) = scanner.scan_bytes(&text) {
        if v.detections
            .iter()
            .any(|d| d.category != Category::Validation)
        {
            text = scanner.redact_text_all(&text, &v);
        }
    }
    text.push(b'\n');
    out.write_all(&text).await?;
    out.flush().await
}

/// The first bytes of a line over the cap, cut where a token ends, with a note of its length.
fn cut(mut head: Vec<u8>, cap: usize, len: usize) -> Vec<u8> {
    head.truncate(cap.saturating_sub(32));
    // The bytes after the last separator may be the start of a secret whose rest was cut
    // off: the shortened value matches no rule, so they go (all of it, for a line that is one
    // token).
    let is_separator = |b: &u8| b.is_ascii_whitespace() || b"\"',;<>()[]{}|".contains(b);
    let keep = head.iter().rposition(is_separator).map_or(0, |p| p + 1);
    head.truncate(keep);
    head.extend_from_slice(format!(" …[{len} bytes, cut]").as_bytes());
    head
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_line_shows_no_part_of_a_token_cut_in_two() {
        let mut head = b"started; key AKIAZ7Q3N5X2L8P4R6T1 loaded ".to_vec();
        head.extend_from_slice(b"AKIAZ7Q3N5");
        let out = cut(head.clone(), head.len() + 32, 5_000_000);
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.starts_with("started; key AKIAZ7Q3N5X2L8P4R6T1 loaded  …"),
            "{out}"
        );
        assert!(out.ends_with("[5000000 bytes, cut]"), "{out}");
        assert_eq!(
            cut(b"AKIAZ7Q3N5X2".to_vec(), 44, 9),
            " …[9 bytes, cut]".as_bytes()
        );
    }

    #[test]
    fn pem_blocks_are_told_apart() {
        assert!(opens_private_key(b"key: -----BEGIN RSA PRIVATE KEY-----"));
        assert!(opens_private_key(b"-----BEGIN PGP PRIVATE KEY BLOCK-----"));
        assert!(!opens_private_key(b"-----BEGIN CERTIFICATE-----"));
        assert!(closes_pem(b"-----END RSA PRIVATE KEY-----"));
        assert!(ends_before_begin(b"-----END A----- -----BEGIN B-----"));
        assert!(!ends_before_begin(b"-----BEGIN A----- x -----END A-----"));
    }
}
