//! Inputs as byte streams: files, standard input, and what they hold once opened — gzip, zstd,
//! bzip2 and xz streams (recognised by their magic bytes, not their names) and tar archives,
//! whose members become inputs of their own (`archive.tar.gz!path/in/archive`).

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::rc::Rc;

/// How an input's bytes are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
    Bzip2,
    Xz,
}

impl Compression {
    pub fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
            // A skippable frame (magic 0x184D2A5?) may open a zstd stream.
            || (head.len() >= 4 && head[0] & 0xf0 == 0x50 && head[1..4] == [0x2a, 0x4d, 0x18])
        {
            Compression::Zstd
        } else if head.starts_with(b"BZh") && head.get(3).is_some_and(|b| (b'1'..=b'9').contains(b))
        {
            Compression::Bzip2
        } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
            Compression::Xz
        } else {
            Compression::None
        }
    }

    /// The decoded stream.
    pub fn decoder<'a>(self, r: Box<dyn BufRead + 'a>) -> io::Result<Box<dyn BufRead + 'a>> {
        Ok(match self {
            Compression::None => r,
            Compression::Gzip => Box::new(BufReader::new(flate2::bufread::MultiGzDecoder::new(r))),
            Compression::Zstd => Box::new(BufReader::new(ZstdFrames::new(r)?)),
            Compression::Bzip2 => Box::new(BufReader::new(bzip2::bufread::MultiBzDecoder::new(r))),
            Compression::Xz => Box::new(BufReader::new(
                liblzma::bufread::XzDecoder::new_multi_decoder(r),
            )),
        })
    }
}

/// The source of a zstd stream, shared with the decoder of its current frame so that it is
/// still there when the frame ends (or its header turns out to be a skippable frame's).
struct Shared<'a>(Rc<RefCell<Box<dyn BufRead + 'a>>>);

impl Read for Shared<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.borrow_mut().read(buf)
    }
}

/// Every frame of a zstd stream, one after the other, as `zstd -d` reads them (`cat a.zst
/// b.zst`, `zstd --adapt`, pzstd): a single-frame decoder stopped after the first and the rest
/// went unscanned. Skippable frames are skipped.
struct ZstdFrames<'a> {
    source: Rc<RefCell<Box<dyn BufRead + 'a>>>,
    frame: Option<ruzstd::decoding::StreamingDecoder<Shared<'a>, ruzstd::decoding::FrameDecoder>>,
}

impl<'a> ZstdFrames<'a> {
    fn new(r: Box<dyn BufRead + 'a>) -> io::Result<Self> {
        let mut frames = ZstdFrames {
            source: Rc::new(RefCell::new(r)),
            frame: None,
        };
        if !frames.next_frame()? {
            return Err(io::Error::other("empty zstd stream"));
        }
        Ok(frames)
    }

    /// Starts the next data frame; false at the end of the stream.
    fn next_frame(&mut self) -> io::Result<bool> {
        use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
        loop {
            if self.source.borrow_mut().fill_buf()?.is_empty() {
                return Ok(false);
            }
            match ruzstd::decoding::StreamingDecoder::new(Shared(self.source.clone())) {
                Ok(frame) => {
                    self.frame = Some(frame);
                    return Ok(true);
                }
                Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame {
                    length,
                    ..
                })) => {
                    let mut source = self.source.borrow_mut();
                    io::copy(&mut (&mut *source).take(u64::from(length)), &mut io::sink())?;
                }
                Err(e) => return Err(io::Error::other(e)),
            }
        }
    }
}

impl Read for ZstdFrames<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if let Some(frame) = &mut self.frame {
                let n = frame.read(buf)?;
                if n > 0 {
                    return Ok(n);
                }
                self.frame = None;
            }
            if !self.next_frame()? {
                return Ok(0);
            }
        }
    }
}

/// Whether `head` opens a zip archive (a local file header, or the end record of an empty one).
pub fn is_zip(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06")
}

/// A tar archive has `ustar` at offset 257 of its first header.
pub fn is_tar(head: &[u8]) -> bool {
    head.len() >= 262 && &head[257..262] == b"ustar"
}

/// A NUL byte in the first 8 KiB: binary, skipped unless `--binary`.
pub fn is_binary(head: &[u8]) -> bool {
    memchr::memchr(0, &head[..head.len().min(8192)]).is_some()
}

/// Opens a path (`-` is standard input) as a buffered stream with a large buffer, so the first
/// bytes can be sniffed.
pub fn open(path: &Path) -> io::Result<Box<dyn BufRead>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(BufReader::with_capacity(1 << 20, io::stdin())));
    }
    Ok(Box::new(BufReader::with_capacity(
        1 << 20,
        File::open(path)?,
    )))
}

/// A stream whose first bytes were read ahead to be sniffed, then replayed.
pub struct Sniffed<'a> {
    prefix: io::Cursor<Vec<u8>>,
    rest: Box<dyn BufRead + 'a>,
    /// An error met while reading the head after some bytes came (a gzip member followed by
    /// garbage, a checksum that fails at the end of a short stream): given once the head has
    /// been read, so what came before it is still scanned.
    pending: Option<io::Error>,
}

impl<'a> Sniffed<'a> {
    pub fn new(mut rest: Box<dyn BufRead + 'a>, n: usize) -> io::Result<(Self, Vec<u8>)> {
        let mut head = vec![0; n];
        let (mut len, mut pending) = (0, None);
        while len < n {
            match rest.read(&mut head[len..]) {
                Ok(0) => break,
                Ok(k) => len += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if len == 0 => return Err(e),
                Err(e) => {
                    pending = Some(e);
                    break;
                }
            }
        }
        head.truncate(len);
        Ok((
            Sniffed {
                prefix: io::Cursor::new(head.clone()),
                rest,
                pending,
            },
            head,
        ))
    }

    fn head_left(&self) -> bool {
        (self.prefix.position() as usize) < self.prefix.get_ref().len()
    }
}

impl Read for Sniffed<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.prefix.read(buf)?;
        if n > 0 {
            return Ok(n);
        }
        if let Some(e) = self.pending.take() {
            return Err(e);
        }
        self.rest.read(buf)
    }
}

impl BufRead for Sniffed<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.head_left() {
            return self.prefix.fill_buf();
        }
        if let Some(e) = self.pending.take() {
            return Err(e);
        }
        self.rest.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        if self.head_left() {
            self.prefix.consume(amt);
        } else {
            self.rest.consume(amt);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn magic_bytes_decide_not_names() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"hello").unwrap();
        let gz = gz.finish().unwrap();
        assert_eq!(Compression::sniff(&gz), Compression::Gzip);
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        bz.write_all(b"hello").unwrap();
        assert_eq!(
            Compression::sniff(&bz.finish().unwrap()),
            Compression::Bzip2
        );
        let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 1);
        xz.write_all(b"hello").unwrap();
        let xz = xz.finish().unwrap();
        assert_eq!(Compression::sniff(&xz), Compression::Xz);
        let mut out = String::new();
        Compression::Xz
            .decoder(Box::new(&xz[..]))
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "hello");
        assert_eq!(Compression::sniff(b"plain text"), Compression::None);
    }
}
