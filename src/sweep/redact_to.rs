//! `scan --redact-to DIR`: sanitized copies of the inputs, in the same tree and compressed the
//! same way, with every finding of the chosen categories replaced by `[REDACTED:<kind>]`
//! whatever the proxy policies say. Archives are rebuilt member by member. Each file (or
//! member) is rewritten in memory.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context, Result};
use parapet_engine::{Action, Category, Scanner, Verdict};

use super::source::{self, Compression, Sniffed};
use crate::output::Report;

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

fn redacted(
    scanner: &Scanner,
    data: &[u8],
    report: Option<&Report>,
    categories: &[Category],
) -> Vec<u8> {
    let Some(report) = report else {
        return data.to_vec();
    };
    let mut v: Verdict = report.verdict.clone();
    for d in &mut v.detections {
        d.action = if categories.contains(&d.category) {
            Action::Redact
        } else {
            Action::Allow
        };
    }
    scanner.redact_text(data, &v)
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

/// Writes the sanitized copy of one input. `reports` maps report paths to reports.
pub fn write_copy(
    scanner: &Scanner,
    input: &Path,
    name: &str,
    reports: &HashMap<&str, &Report>,
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
    let file = std::fs::File::create(&target)
        .with_context(|| format!("cannot create {}", target.display()))?;
    let mut out = compressor(compression, Box::new(std::io::BufWriter::new(file)))?;
    if source::is_tar(&head) {
        let mut archive = tar::Archive::new(&mut decoded);
        let mut builder = tar::Builder::new(&mut out);
        for entry in archive.entries()? {
            let mut entry = entry?;
            let mut header = entry.header().clone();
            let mut data = Vec::new();
            entry.read_to_end(&mut data)?;
            if header.entry_type().is_file() {
                let member = format!("{name}!{}", entry.path()?.display());
                data = redacted(
                    scanner,
                    &data,
                    reports.get(member.as_str()).copied(),
                    categories,
                );
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
        let clean = redacted(scanner, &data, reports.get(name).copied(), categories);
        out.write_all(&clean)?;
    }
    out.flush()?;
    Ok(())
}
