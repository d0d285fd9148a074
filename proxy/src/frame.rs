//! Bytes in → frames: newline-delimited messages of any length up to a cap. A line over the cap
//! is skipped to its newline and reported with its length, its first bytes and its outline
//! (top-level id, method, answer), so one huge message never kills the stream.

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

use crate::outline::Outline;

/// How much of an oversize line is kept to identify it.
const HEAD_LEN: usize = 4096;

#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// One line without its `\n` (a `\r` before it is kept, so it is forwarded as received).
    Line(Vec<u8>),
    /// A line over the cap: its full length, its first bytes and its outline.
    Oversize {
        len: usize,
        head: Vec<u8>,
        outline: Outline,
    },
}

pub struct FrameReader<R> {
    inner: R,
    cap: usize,
}

impl<R: AsyncBufRead + Unpin> FrameReader<R> {
    pub fn new(inner: R, cap: usize) -> Self {
        FrameReader { inner, cap }
    }

    /// The next frame, or `None` at end of input. Blank lines are skipped.
    pub async fn next(&mut self) -> std::io::Result<Option<Frame>> {
        loop {
            let mut line = Vec::new();
            let mut len = 0usize;
            let mut over = false;
            let mut outline = Outline::default();
            loop {
                let buf = self.inner.fill_buf().await?;
                if buf.is_empty() {
                    if len == 0 {
                        return Ok(None);
                    }
                    break;
                }
                let (chunk, done) = match memchr::memchr(b'\n', buf) {
                    Some(i) => (&buf[..i], Some(i + 1)),
                    None => (buf, None),
                };
                len += chunk.len();
                if !over && len > self.cap {
                    over = true;
                    outline.feed(&line);
                    line.truncate(HEAD_LEN);
                }
                if !over {
                    line.extend_from_slice(chunk);
                } else {
                    outline.feed(chunk);
                }
                if over && line.len() < HEAD_LEN {
                    let room = HEAD_LEN - line.len();
                    line.extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
                let consumed = done.unwrap_or(buf.len());
                self.inner.consume(consumed);
                if done.is_some() {
                    break;
                }
            }
            if over {
                return Ok(Some(Frame::Oversize {
                    len,
                    head: line,
                    outline,
                }));
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Ok(Some(Frame::Line(line)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lines_blank_lines_oversize_and_a_last_line_without_newline() {
        let input = b"{\"a\":1}\r\n\n   \n0123456789ABCDEF\n{\"b\":2}".to_vec();
        let mut r = FrameReader::new(&input[..], 10);
        assert_eq!(
            r.next().await.unwrap(),
            Some(Frame::Line(b"{\"a\":1}\r".to_vec()))
        );
        assert_eq!(
            r.next().await.unwrap(),
            Some(Frame::Oversize {
                len: 16,
                head: b"0123456789ABCDEF".to_vec(),
                outline: {
                    let mut o = Outline::default();
                    o.feed(b"0123456789ABCDEF");
                    o
                }
            })
        );
        assert_eq!(
            r.next().await.unwrap(),
            Some(Frame::Line(b"{\"b\":2}".to_vec()))
        );
        assert_eq!(r.next().await.unwrap(), None);
    }

    #[tokio::test]
    async fn lines_longer_than_the_read_buffer() {
        let big = vec![b'x'; 200_000];
        let mut input = big.clone();
        input.push(b'\n');
        let reader = tokio::io::BufReader::with_capacity(1024, &input[..]);
        let mut r = FrameReader::new(reader, 1 << 20);
        assert_eq!(r.next().await.unwrap(), Some(Frame::Line(big)));
    }
}
