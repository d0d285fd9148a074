//! `scan --redact-to DIR`: sanitized copies of the inputs, in the same tree and compressed the
//! same way, with every finding of the chosen categories replaced by `[REDACTED:<kind>]`
//! whatever the proxy policies say. Archives are rebuilt member by member. Each file (or
//! member) is rewritten in memory and scanned again as text for it: the copy never depends on
//! how (or whether) the report scanned it — a file skipped as binary, one read as JSON, or two
//! whose names display alike are all redacted by what is in their own bytes. A copy is written
//! under a temporary name and renamed once whole. UTF-16 text is redacted as UTF-8 and
//! written back as UTF-16.

use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context, Result};
use parapet_engine::{Action, Category, Detection, Scanner, Verdict};

use super::chunks::{self, Plan};
use super::source::{self, Compression, Sniffed};
use super::utf16::Utf16;

/// Where the copy of `input` goes: `dest` plus the input's path without root or `..` parts.
pub fn destination(dest: &Path, input: &Path) -> PathBuf {
    let mut out = dest.to_path_buf();
    for c in input.components() {
        if let Component::Normal(p) = c {
            out.push(p);
        }
    }
    out
}

/// `data` redacted. UTF-16 text (with its byte-order mark) is redacted as UTF-8 and written
/// back as UTF-16 in its own byte order; with nothing to redact it is copied as it is, and an
/// odd last byte (not part of any character) is kept as it was.
fn redacted(scanner: &Scanner, data: &[u8], categories: &[Category]) -> Result<Vec<u8>> {
    let Some(order) = Utf16::sniff(data) else {
        return redacted_utf8(scanner, data, categories);
    };
    let (units, odd) = data.split_at(data.len() - data.len() % 2);
    let text = order.decode(units);
    let clean = redacted_utf8(scanner, &text, categories)?;
    if clean == text {
        return Ok(data.to_vec());
    }
    let mut out = order.encode(&clean);
    out.extend_from_slice(odd);
    Ok(out)
}

/// A file's text redacted from `reader` to `out` a chunk at a time, so a copy of a 10 GB log
/// (or a small file that decompresses to one) needs one chunk's memory, not the file's. Each
/// step scans its chunk with the plan's context on both sides and writes through the end of
/// the findings that start in it (a finding running past the chunk is written whole, and one
/// starting inside that run joins it); the next chunk starts there.
fn redact_stream(
    scanner: &Scanner,
    reader: &mut dyn Read,
    out: &mut dyn Write,
    categories: &[Category],
) -> Result<()> {
    let plan = Plan::for_scanner(scanner);
    // `buf` holds the text from offset `base`; everything before `written` is out.
    let (mut buf, mut base, mut written, mut eof) = (Vec::new(), 0usize, 0usize, false);
    loop {
        let want = (written - base) + plan.chunk + plan.overlap;
        while buf.len() < want && !eof {
            let len = buf.len();
            buf.resize(want, 0);
            let n = reader.read(&mut buf[len..])?;
            buf.truncate(len + n);
            eof = n == 0;
        }
        let own = written - base;
        if own == buf.len() && eof {
            return Ok(());
        }
        let chosen_end = if eof {
            buf.len()
        } else {
            (own + plan.chunk).min(buf.len())
        };
        let found: Vec<_> = scanner
            .scan_bytes(&buf)?
            .detections
            .into_iter()
            .filter(|d| categories.contains(&d.category) && d.span.0 >= own)
            .collect();
        // Through the end of every finding that starts before the end reached so far.
        let mut end = chosen_end;
        loop {
            let further = found
                .iter()
                .filter(|d| d.span.0 < end)
                .map(|d| d.span.1.min(buf.len()))
                .fold(end, usize::max);
            if further == end {
                break;
            }
            end = further;
        }
        let chosen = found
            .into_iter()
            .filter(|d| d.span.0 < end)
            .map(|mut d| {
                d.span = (d.span.0 - own, d.span.1 - own);
                d
            })
            .filter(|d| d.span.0 < d.span.1)
            .collect();
        out.write_all(&redact_categories(
            scanner,
            &buf[own..end],
            chosen,
            categories,
        ))?;
        written = base + end;
        // The chunk's end stays as the next one's context.
        let drop = end.saturating_sub(plan.overlap);
        buf.drain(..drop);
        base += drop;
    }
}

fn redacted_utf8(scanner: &Scanner, data: &[u8], categories: &[Category]) -> Result<Vec<u8>> {
    let found = chunks::scan_slice(scanner, data, Plan::for_scanner(scanner), false)?;
    let found = found.into_iter().map(|f| f.detection).collect();
    Ok(redact_categories(scanner, data, found, categories))
}

/// `text` with `found` redacted where their category is one of `categories`, whatever their
/// policy said.
fn redact_categories(
    scanner: &Scanner,
    text: &[u8],
    found: Vec<Detection>,
    categories: &[Category],
) -> Vec<u8> {
    let mut v = Verdict::from_detections(found);
    for d in &mut v.detections {
        d.action = if categories.contains(&d.category) {
            Action::Redact
        } else {
            Action::Allow
        };
    }
    scanner.redact_text(text, &v)
}

/// The writer of a copy, compressed as its input was. It must be [`Encoder::finish`]ed: a
/// compressor writes its trailer there, and its errors are seen (dropping it would hide them).
enum Encoder<W: Write> {
    Plain(W),
    Gzip(flate2::write::GzEncoder<W>),
    Bzip2(bzip2::write::BzEncoder<W>),
    Xz(liblzma::write::XzEncoder<W>),
    Zstd(ZstdWriter<W>),
}

impl<W: Write> Encoder<W> {
    fn new(c: Compression, w: W) -> Self {
        match c {
            Compression::None => Encoder::Plain(w),
            Compression::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(
                w,
                flate2::Compression::default(),
            )),
            Compression::Bzip2 => Encoder::Bzip2(bzip2::write::BzEncoder::new(
                w,
                bzip2::Compression::default(),
            )),
            Compression::Xz => Encoder::Xz(liblzma::write::XzEncoder::new(w, 6)),
            Compression::Zstd => Encoder::Zstd(ZstdWriter {
                buf: Vec::new(),
                out: w,
            }),
        }
    }

    fn inner(&mut self) -> &mut dyn Write {
        match self {
            Encoder::Plain(w) => w,
            Encoder::Gzip(e) => e,
            Encoder::Bzip2(e) => e,
            Encoder::Xz(e) => e,
            Encoder::Zstd(e) => e,
        }
    }

    /// Writes what is left (a trailer) and hands back the destination.
    fn finish(self) -> std::io::Result<W> {
        match self {
            Encoder::Plain(w) => Ok(w),
            Encoder::Gzip(e) => e.finish(),
            Encoder::Bzip2(e) => e.finish(),
            Encoder::Xz(e) => e.finish(),
            Encoder::Zstd(e) => e.finish(),
        }
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.inner().write(b)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner().flush()
    }
}

/// ruzstd compresses whole buffers: collected, compressed by `finish`.
struct ZstdWriter<W: Write> {
    buf: Vec<u8>,
    out: W,
}

impl<W: Write> ZstdWriter<W> {
    fn finish(mut self) -> std::io::Result<W> {
        let z = ruzstd::encoding::compress_to_vec(
            &self.buf[..],
            ruzstd::encoding::CompressionLevel::Fastest,
        );
        self.out.write_all(&z)?;
        Ok(self.out)
    }
}

impl<W: Write> Write for ZstdWriter<W> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A member of an archive, redacted: decompressed first when it is compressed itself
/// (`logs.tar!app.log.gz`), as the scan reads it, and compressed again the same way.
/// A member that is itself an archive is rebuilt member by member in turn (as the scan opens
/// it, up to [`super::MAX_ARCHIVE_DEPTH`]); a deeper one, or a zip archive, fails the copy:
/// its bytes redacted as text would be a corrupt archive, and copied as they are would keep
/// what it holds.
fn redacted_member(
    scanner: &Scanner,
    data: &[u8],
    categories: &[Category],
    depth: usize,
) -> Result<Vec<u8>> {
    let inner = Compression::sniff(&data[..data.len().min(512)]);
    let plain_owned;
    let plain: &[u8] = if inner == Compression::None {
        data
    } else {
        let mut buf = Vec::new();
        inner.decoder(Box::new(data))?.read_to_end(&mut buf)?;
        plain_owned = buf;
        &plain_owned
    };
    let head = &plain[..plain.len().min(512)];
    refuse_unopened(head, depth)?;
    let clean = if source::is_tar(head) {
        let mut rebuilt = Vec::new();
        rebuild_tar(
            scanner,
            &mut &plain[..],
            &mut rebuilt,
            categories,
            depth + 1,
        )?;
        rebuilt
    } else {
        redacted(scanner, plain, categories)?
    };
    if inner == Compression::None {
        return Ok(clean);
    }
    let mut enc = Encoder::new(inner, Vec::new());
    enc.write_all(&clean)?;
    Ok(enc.finish()?)
}

/// An error for what the scan does not open either — a zip archive, or a tar archive inside
/// `depth` archives already at [`super::MAX_ARCHIVE_DEPTH`]: redacted as text its copy would
/// be corrupt, and copied as it is it would keep what it holds.
fn refuse_unopened(head: &[u8], depth: usize) -> Result<()> {
    if source::is_zip(head) {
        bail!("{}", super::ZIP_NOT_SUPPORTED);
    }
    if source::is_tar(head) && depth >= super::MAX_ARCHIVE_DEPTH {
        bail!("{}", super::too_deep());
    }
    Ok(())
}

/// A tar archive rebuilt with every regular member redacted; headers, links and other
/// entries kept. `depth` is the archive's own (1 for a file's).
fn rebuild_tar(
    scanner: &Scanner,
    reader: &mut dyn Read,
    out: &mut dyn Write,
    categories: &[Category],
    depth: usize,
) -> Result<()> {
    let mut archive = tar::Archive::new(reader);
    let mut builder = tar::Builder::new(out);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let mut header = entry.header().clone();
        // The full path (a long one lives in an extension entry the header alone loses).
        let name = entry.path()?.into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data)?;
        if header.entry_type().is_file() {
            data = redacted_member(scanner, &data, categories, depth)?;
            header.set_size(data.len() as u64);
        }
        match entry.link_name()? {
            // A link keeps its full target too (a long one lives in an extension entry).
            Some(target) => {
                let target = target.into_owned();
                builder.append_link(&mut header, &name, &target)?;
            }
            None => builder.append_data(&mut header, &name, &data[..])?,
        }
    }
    builder.finish()?;
    Ok(())
}

/// Writes the sanitized copy of one input.
pub fn write_copy(
    scanner: &Scanner,
    input: &Path,
    dest: &Path,
    categories: &[Category],
) -> Result<()> {
    if input.as_os_str() == "-" {
        bail!("needs files, not standard input");
    }
    // A pipe, a FIFO or a device was drained by the scan (or waits for a writer that is
    // gone): its copy would be empty. Save it to a file first.
    let meta = std::fs::metadata(input).context("cannot read its metadata")?;
    if !meta.is_file() {
        bail!("copies regular files only, and this is not one (a pipe, FIFO or device): save it to a file and scan that");
    }
    let target = destination(dest, input);
    if target.exists() && std::fs::canonicalize(&target)? == std::fs::canonicalize(input)? {
        bail!("would overwrite the input itself");
    }
    if let Some(dir) = target.parent() {
        create_dirs_like(dir, input.parent())?;
    }
    let (mut stream, head) = Sniffed::new(source::open(input)?, 512)?;
    let compression = Compression::sniff(&head);
    let decoded = compression.decoder(Box::new(&mut stream))?;
    let (mut decoded, head) = Sniffed::new(decoded, 512)?;
    let partial = {
        let mut name = target.file_name().unwrap_or_default().to_os_string();
        name.push(format!(".parapet-partial-{}", std::process::id()));
        target.with_file_name(name)
    };
    let written = write_redacted(
        scanner,
        &mut decoded,
        &head,
        compression,
        &partial,
        categories,
    )
    .and_then(|()| {
        // The copy gets the input's permissions (it was private while written): a file only
        // its owner could read must not become readable by all through its copy.
        std::fs::set_permissions(&partial, meta.permissions())
            .with_context(|| format!("cannot set the permissions of {}", target.display()))?;
        std::fs::rename(&partial, &target)
            .with_context(|| format!("cannot create {}", target.display()))
    });
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written
}

fn write_redacted(
    scanner: &Scanner,
    decoded: &mut dyn std::io::BufRead,
    head: &[u8],
    compression: Compression,
    path: &Path,
    categories: &[Category],
) -> Result<()> {
    refuse_unopened(head, 0)?;
    let file = private_file(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = Encoder::new(compression, std::io::BufWriter::new(file));
    if source::is_tar(head) {
        rebuild_tar(scanner, decoded, &mut out, categories, 1)?;
    } else if Utf16::sniff(head).is_some() {
        let mut data = Vec::new();
        decoded.read_to_end(&mut data)?;
        let clean = redacted(scanner, &data, categories)?;
        out.write_all(&clean)?;
    } else {
        redact_stream(scanner, decoded, &mut out, categories)?;
    }
    // Whole or an error: the compressor's trailer, then the buffer, then the disk.
    let file = out
        .finish()?
        .into_inner()
        .map_err(|e| anyhow::anyhow!("cannot write {}: {}", path.display(), e.error()))?;
    // Not synced to disk: a sanitized copy is made again by running the scan again, and a
    // sync per file made copying 3,000 small files take 28 s instead of under one.
    drop(file);
    Ok(())
}

/// A new file only its owner can read or write (until its permissions are set from the input).
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Creates `dir` and the directories above it that are missing; each new one gets the
/// permissions of the input's directory at the same depth (`source`), so a private directory
/// stays private in the copy.
fn create_dirs_like(dir: &Path, source: Option<&Path>) -> Result<()> {
    let missing: Vec<&Path> = dir.ancestors().take_while(|d| !d.exists()).collect();
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // Levels pair up only when the input's path has no `.` or `..` (the copy's path drops
    // them, so depths would shift).
    let plain = source.is_some_and(|s| {
        s.components()
            .all(|c| !matches!(c, Component::CurDir | Component::ParentDir))
    });
    if !plain {
        return Ok(());
    }
    let sources = source.into_iter().flat_map(Path::ancestors);
    for (made, src) in dir.ancestors().zip(sources) {
        if !missing.contains(&made) {
            break;
        }
        if let Some(meta) = std::fs::metadata(src).ok().filter(|m| m.is_dir()) {
            // The owner keeps write access: a read-only source directory (0555) must still
            // take the copies this run writes into it.
            #[cfg(unix)]
            let mode = {
                use std::os::unix::fs::PermissionsExt;
                std::fs::Permissions::from_mode(meta.permissions().mode() | 0o700)
            };
            #[cfg(not(unix))]
            let mode = meta.permissions();
            let _ = std::fs::set_permissions(made, mode);
        }
    }
    Ok(())
}
