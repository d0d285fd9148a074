//! `scan --redact-to DIR`: sanitized copies of the inputs, in the same tree and compressed the
//! same way, with every finding of the chosen categories replaced by `[REDACTED:<kind>]`
//! whatever the proxy policies say. Archives are rebuilt member by member. Each file (or
//! member) is rewritten in memory and scanned again as text for it: the copy never depends on
//! how (or whether) the report scanned it — a file skipped as binary, one read as JSON, or two
//! whose names display alike are all redacted by what is in their own bytes. A copy is written
//! under a temporary name and renamed once whole.

use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context, Result};
use parapet_engine::{Action, Category, Scanner, Verdict};

use super::chunks::{self, Plan};
use super::source::{self, Compression, Sniffed};

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

fn redacted(scanner: &Scanner, data: &[u8], categories: &[Category]) -> Result<Vec<u8>> {
    let found = chunks::scan_slice(scanner, data, Plan::for_scanner(scanner), false)?;
    let mut v = Verdict::from_detections(found.into_iter().map(|f| f.detection).collect());
    for d in &mut v.detections {
        d.action = if categories.contains(&d.category) {
            Action::Redact
        } else {
            Action::Allow
        };
    }
    Ok(scanner.redact_text(data, &v))
}

fn compressor<'a>(c: Compression, w: Box<dyn Write + 'a>) -> Result<Box<dyn Write + 'a>> {
    Ok(match c {
        Compression::None => w,
        Compression::Gzip => Box::new(flate2::write::GzEncoder::new(
            w,
            flate2::Compression::default(),
        )),
        Compression::Bzip2 => Box::new(bzip2::write::BzEncoder::new(
            w,
            bzip2::Compression::default(),
        )),
        Compression::Xz => Box::new(liblzma::write::XzEncoder::new(w, 6)),
        Compression::Zstd => Box::new(ZstdWriter {
            buf: Vec::new(),
            out: Some(w),
        }),
    })
}

/// ruzstd compresses whole buffers: collect, then compress on drop... made explicit by `flush`.
struct ZstdWriter<'a> {
    buf: Vec<u8>,
    out: Option<Box<dyn Write + 'a>>,
}

impl Write for ZstdWriter<'_> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        if let Some(mut out) = self.out.take() {
            let z = ruzstd::encoding::compress_to_vec(
                &self.buf[..],
                ruzstd::encoding::CompressionLevel::Fastest,
            );
            out.write_all(&z)?;
            out.flush()?;
        }
        Ok(())
    }
}

/// Writes the sanitized copy of one input.
pub fn write_copy(
    scanner: &Scanner,
    input: &Path,
    dest: &Path,
    categories: &[Category],
) -> Result<()> {
    if input.as_os_str() == "-" {
        bail!("--redact-to needs files, not standard input");
    }
    let target = destination(dest, input);
    if target.exists() && std::fs::canonicalize(&target)? == std::fs::canonicalize(input)? {
        bail!("--redact-to would overwrite the input itself");
    }
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
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
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = compressor(compression, Box::new(std::io::BufWriter::new(file)))?;
    if source::is_tar(head) {
        let mut archive = tar::Archive::new(decoded);
        let mut builder = tar::Builder::new(&mut out);
        for entry in archive.entries()? {
            let mut entry = entry?;
            let mut header = entry.header().clone();
            let mut data = Vec::new();
            entry.read_to_end(&mut data)?;
            if header.entry_type().is_file() {
                data = redacted(scanner, &data, categories)?;
                header.set_size(data.len() as u64);
                header.set_cksum();
            }
            builder.append(&header, &data[..])?;
        }
        builder.finish()?;
        drop(builder);
    } else {
        let mut data = Vec::new();
        decoded.read_to_end(&mut data)?;
        let clean = redacted(scanner, &data, categories)?;
        out.write_all(&clean)?;
    }
    out.flush()?;
    Ok(())
}
