//! `scan` over many inputs: expands directories, opens compressed streams and tar archives,
//! skips binary files, and scans everything on a rayon pool (`--jobs`), large files in
//! parallel chunks. Produces one [`Report`] per input (archive members are inputs).

pub mod chunks;
pub mod redact_to;
pub mod source;
pub mod utf16;

use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use anyhow::{Context, Result};
use parapet_engine::{Category, Detection, Scanner, Verdict};
use rayon::prelude::*;

use crate::output::Report;
use chunks::{Found, Plan};
use source::{Compression, Sniffed};
use utf16::Utf16;

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub jobs: usize,
    /// Scan files that look binary (a NUL in the first 8 KiB) instead of skipping them.
    pub binary: bool,
    /// Honour .gitignore and .ignore files while walking directories.
    pub gitignore: bool,
    /// Each line is one JSON document (agent transcripts, MCP captures).
    pub json_lines: bool,
    /// Each input is one JSON document.
    pub json_doc: bool,
    /// Keep matched bytes (for masking in text output, or --show-secrets).
    pub keep_values: bool,
    /// Directories never walked into (`--redact-to`'s, when it lies inside an input: its
    /// copies are not inputs).
    pub exclude: Vec<PathBuf>,
}

/// Counters shown by the progress bar and the summary line.
#[derive(Default)]
pub struct Tally {
    pub bytes: AtomicU64,
    pub inputs: AtomicUsize,
    pub findings: AtomicUsize,
    pub binary_skipped: AtomicUsize,
    /// Symbolic links met inside directories: not followed (a link may leave the tree or loop).
    pub symlinks_skipped: AtomicUsize,
    /// Zip archives met inside directories or archives: not opened (zip is not supported),
    /// counted like binary files. One named as an input is an error instead.
    pub zip_skipped: AtomicUsize,
    /// Inputs or archive members that were met but not scanned: (name, why, whether it is a
    /// zip archive). Reported as errors — the exit status says the scan was not complete —
    /// except zips met while walking, which are counted in `zip_skipped`.
    not_scanned: Mutex<Vec<(String, String, bool)>>,
}

impl Tally {
    fn not_scanned(&self, name: &str, why: &str, zip: bool) {
        self.not_scanned
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((name.to_string(), why.to_string(), zip));
    }
}

/// Why a zip archive is not scanned (also `--redact-to`'s reason not to copy one).
pub(crate) const ZIP_NOT_SUPPORTED: &str =
    "a zip archive, not opened (zip is not supported: unpack it, or pack it as tar)";

/// Why an archive inside [`MAX_ARCHIVE_DEPTH`] archives is not scanned.
pub(crate) fn too_deep() -> String {
    format!("an archive nested more than {MAX_ARCHIVE_DEPTH} deep, not opened (unpack the outer ones first)")
}

pub struct Sweep {
    /// Every file scanned (directories expanded), in path order.
    pub files: Vec<PathBuf>,
    pub reports: Vec<Report>,
    /// `path: message` for each input that could not be read.
    pub errors: Vec<String>,
}

/// The inputs without those another input already covers: the same file or directory given
/// twice (`a.log ./a.log`), or one inside a directory also given (`logs logs/app.log`), so
/// nothing is scanned, reported and copied twice.
fn distinct_inputs(inputs: &[PathBuf], gitignore: bool) -> Vec<&PathBuf> {
    let canon: Vec<Option<PathBuf>> = inputs
        .iter()
        .map(|p| {
            (p.as_os_str() != "-")
                .then(|| std::fs::canonicalize(p).ok())
                .flatten()
        })
        .collect();
    let mut kept = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let covered = canon[i].as_ref().is_some_and(|c| {
            canon.iter().enumerate().any(|(j, other)| {
                other.as_ref().is_some_and(|o| {
                    // With --gitignore a directory's walk may skip a file named on its own:
                    // then only the same path given twice counts as covered.
                    (o == c && j < i)
                        || (!gitignore && o != c && c.starts_with(o) && inputs[j].is_dir())
                })
            })
        });
        if !covered {
            kept.push(input);
        }
    }
    kept
}

/// Files under each input, in path order; `-` stays as it is.
fn expand(
    inputs: &[PathBuf],
    opts: &Options,
    errors: &mut Vec<String>,
    tally: &Tally,
) -> Vec<PathBuf> {
    let gitignore = opts.gitignore;
    let mut files = Vec::new();
    for input in distinct_inputs(inputs, gitignore) {
        if input.as_os_str() == "-" || !input.is_dir() {
            files.push(input.clone());
            continue;
        }
        let exclude = opts.exclude.clone();
        let walk = ignore::WalkBuilder::new(input)
            .standard_filters(false)
            .git_ignore(gitignore)
            .ignore(gitignore)
            .require_git(false)
            .sort_by_file_path(|a, b| a.cmp(b))
            .filter_entry(move |e| {
                !(e.file_type().is_some_and(|t| t.is_dir())
                    && !exclude.is_empty()
                    && std::fs::canonicalize(e.path()).is_ok_and(|c| exclude.contains(&c)))
            })
            .build();
        for entry in walk {
            match entry {
                Ok(e) if e.file_type().is_some_and(|t| t.is_file()) => files.push(e.into_path()),
                Ok(e) if e.path_is_symlink() => {
                    tally.symlinks_skipped.fetch_add(1, Ordering::Relaxed);
                }
                Ok(_) => {}
                Err(e) => errors.push(format!("{}: {e}", input.display())),
            }
        }
    }
    files
}

pub fn run(scanner: &Scanner, inputs: &[PathBuf], opts: &Options, tally: &Tally) -> Result<Sweep> {
    let mut errors = Vec::new();
    let files = expand(inputs, opts, &mut errors, tally);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs.max(1))
        .build()
        .context("cannot start the worker threads")?;
    let errors = Mutex::new(errors);
    let mut reports: Vec<Report> = pool.install(|| {
        files
            .par_iter()
            .flat_map_iter(|path| {
                // What was found before an error (a truncated archive, a stream cut short) is
                // still reported, next to the error.
                let mut out = Vec::new();
                if let Err(e) = scan_path(scanner, path, opts, tally, &mut out) {
                    errors
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(format!("{}: {e:#}", display(path)));
                }
                out
            })
            .collect()
    });
    reports.sort_by(|a, b| a.path.cmp(&b.path));
    let mut errors = errors.into_inner().unwrap_or_else(|e| e.into_inner());
    let named: Vec<String> = inputs.iter().map(|p| display(p)).collect();
    let not_scanned =
        std::mem::take(&mut *tally.not_scanned.lock().unwrap_or_else(|e| e.into_inner()));
    for (name, why, zip) in not_scanned {
        if zip && !named.contains(&name) {
            tally.zip_skipped.fetch_add(1, Ordering::Relaxed);
        } else {
            errors.push(format!("{name}: {why}"));
        }
    }
    Ok(Sweep {
        files,
        reports,
        errors,
    })
}

pub fn display(path: &Path) -> String {
    if path.as_os_str() == "-" {
        "-".into()
    } else {
        path.display().to_string()
    }
}

/// The report of one input from its findings, given in parts (a file's chunks) that are freed
/// one by one as they are moved in: millions of findings are not held twice.
fn report(path: String, parts: Vec<Vec<Found>>, json: bool, tally: &Tally) -> Report {
    let n: usize = parts.iter().map(Vec::len).sum();
    tally.inputs.fetch_add(1, Ordering::Relaxed);
    tally.findings.fetch_add(n, Ordering::Relaxed);
    let mut places = Vec::with_capacity(n);
    let mut columns_utf16 = Vec::with_capacity(n);
    let mut values = Vec::with_capacity(n);
    let mut detections: Vec<Detection> = Vec::with_capacity(n);
    for f in parts.into_iter().flatten() {
        places.push((f.line, f.column));
        columns_utf16.push(f.column_utf16);
        values.push(f.value);
        detections.push(f.detection);
    }
    Report {
        path,
        verdict: Verdict::from_detections(detections),
        json,
        places,
        columns_utf16,
        decoded: false,
        values,
    }
}

/// One path: a regular file is read by position and scanned in parallel chunks; anything
/// compressed, an archive, a pipe or standard input is streamed.
fn scan_path(
    scanner: &Scanner,
    path: &Path,
    opts: &Options,
    tally: &Tally,
    out: &mut Vec<Report>,
) -> Result<()> {
    let name = display(path);
    let (mut stream, head) = Sniffed::new(source::open(path).context("cannot open")?, 512)?;
    let compression = Compression::sniff(&head);
    // A regular file with a size is read by position, in parallel chunks. Anything else —
    // a pipe, a FIFO, `/dev/stdin`, a `/proc` file that says it is empty — is streamed from
    // the reader already open: opening it again would find it drained, or wait forever.
    let regular = std::fs::metadata(path)
        .ok()
        .filter(|m| m.is_file() && m.len() > 0);
    if let (Compression::None, Some(meta)) = (compression, regular) {
        // UTF-16 is transcoded as a stream, like decompressed data.
        if path.as_os_str() != "-" && !source::is_tar(&head) && Utf16::sniff(&head).is_none() {
            let file = std::fs::File::open(path).context("cannot open")?;
            return scan_file(scanner, name, &file, meta.len(), opts, tally, out);
        }
    }
    let decoded = compression.decoder(Box::new(&mut stream))?;
    let (decoded, head) = Sniffed::new(decoded, 512)?;
    let (mut decoded, head, transcoded) = as_utf8(decoded, head)?;
    if source::is_tar(&head) {
        return scan_tar(scanner, &name, &mut decoded, opts, tally, out, 1);
    }
    let before = out.len();
    let scanned = scan_stream(scanner, name, &mut decoded, &head, opts, tally, out);
    if compression != Compression::None || transcoded {
        out[before..].iter_mut().for_each(|r| r.decoded = true);
    }
    scanned
}

/// Archives inside archives are opened this deep (`logs.tgz!old.tar!app.log` is depth 2);
/// deeper ones are reported as not scanned.
pub(crate) const MAX_ARCHIVE_DEPTH: usize = 4;

/// Every regular member of a tar archive, each reported as `name!member`; a member that is
/// itself compressed is decompressed, one that is itself an archive opened in turn.
fn scan_tar(
    scanner: &Scanner,
    name: &str,
    reader: &mut dyn std::io::Read,
    opts: &Options,
    tally: &Tally,
    out: &mut Vec<Report>,
    depth: usize,
) -> Result<()> {
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries().context("cannot read the tar archive")? {
        let entry = entry.context("cannot read the tar archive")?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let member = format!("{name}!{}", entry.path()?.display());
        let (mut member_stream, head) =
            Sniffed::new(Box::new(std::io::BufReader::new(entry)), 512)?;
        let inner = Compression::sniff(&head);
        let decoded = inner.decoder(Box::new(&mut member_stream))?;
        let (decoded, head) = Sniffed::new(decoded, 512)?;
        let (mut decoded, head, _) = as_utf8(decoded, head)?;
        let before = out.len();
        let scanned = if source::is_tar(&head) && depth < MAX_ARCHIVE_DEPTH {
            scan_tar(scanner, &member, &mut decoded, opts, tally, out, depth + 1)
        } else if source::is_tar(&head) {
            tally.not_scanned(&member, &too_deep(), false);
            Ok(())
        } else {
            scan_stream(
                scanner,
                member.clone(),
                &mut decoded,
                &head,
                opts,
                tally,
                out,
            )
        };
        out[before..].iter_mut().for_each(|r| r.decoded = true);
        // A member that could not be read whole (not JSON, a corrupt inner stream) is an
        // error of its own: the archive's other members are still scanned. (An error of the
        // archive itself ends the loop at the next entry.)
        if let Err(e) = scanned {
            tally.not_scanned(&member, &format!("{e:#}"), false);
        }
    }
    Ok(())
}

/// `stream` as UTF-8: transcoded when `head` (its first bytes) opens with a UTF-16
/// byte-order mark; then the head of what it gives, and whether it was transcoded.
fn as_utf8<'a>(
    stream: Sniffed<'a>,
    head: Vec<u8>,
) -> Result<(Box<dyn BufRead + 'a>, Vec<u8>, bool)> {
    let Some(order) = Utf16::sniff(&head) else {
        return Ok((Box::new(stream), head, false));
    };
    let (text, head) = Sniffed::new(order.reader(Box::new(stream)), 512)?;
    Ok((Box::new(text), head, true))
}

fn skip_binary(name: &str, head: &[u8], opts: &Options, tally: &Tally) -> bool {
    if !opts.binary && source::is_zip(head) {
        tally.not_scanned(name, ZIP_NOT_SUPPORTED, true);
        return true;
    }
    if !opts.binary && source::is_binary(head) {
        tally.binary_skipped.fetch_add(1, Ordering::Relaxed);
        return true;
    }
    false
}

/// A regular file: plain text in parallel chunks read by position; JSON modes as a stream.
fn scan_file(
    scanner: &Scanner,
    name: String,
    file: &std::fs::File,
    len: u64,
    opts: &Options,
    tally: &Tally,
    out: &mut Vec<Report>,
) -> Result<()> {
    if opts.json_doc || opts.json_lines {
        let mut reader = std::io::BufReader::new(file);
        let (mut stream, head) = Sniffed::new(Box::new(&mut reader), 8192)?;
        return scan_stream(scanner, name, &mut stream, &head, opts, tally, out);
    }
    let mut head = Vec::new();
    {
        use std::io::Read;
        file.take(8192).read_to_end(&mut head)?;
    }
    if skip_binary(&name, &head, opts, tally) {
        return Ok(());
    }
    let found = chunks::scan_file(
        scanner,
        file,
        len,
        Plan::for_scanner(scanner),
        opts.keep_values,
    )?;
    tally.bytes.fetch_add(len, Ordering::Relaxed);
    out.push(report(name, found, false, tally));
    Ok(())
}

fn scan_stream(
    scanner: &Scanner,
    name: String,
    r: &mut dyn BufRead,
    head: &[u8],
    opts: &Options,
    tally: &Tally,
    out: &mut Vec<Report>,
) -> Result<()> {
    // Standard input is what the user chose to pipe in: never skipped as binary (a NUL in it
    // is reported as a control character, like any message's).
    if name != "-" && skip_binary(&name, head, opts, tally) {
        return Ok(());
    }
    let mut cut_short = None;
    let mut not_json = None;
    let found = if opts.json_doc {
        // A document longer than the scanner's cap is held only up to it.
        let cap = scanner.max_bytes().saturating_add(1);
        let mut all = Vec::new();
        // What was read before a stream error is still scanned; the error is reported after.
        if let Err(e) = (&mut *r).take(cap as u64).read_to_end(&mut all) {
            cut_short = Some(e);
        }
        if all.len() >= cap && cut_short.is_none() {
            not_json = Some(anyhow::anyhow!(
                "longer than the {}-byte cap: scanned as text instead",
                scanner.max_bytes()
            ));
            let (found, _, error) = scan_as_text(scanner, all, &mut *r, opts, tally)?;
            cut_short = error;
            found
        } else {
            tally.bytes.fetch_add(all.len() as u64, Ordering::Relaxed);
            match json_doc(scanner, &all, opts.keep_values) {
                Ok(found) => found,
                // Not JSON after all: scanned as text, so nothing in it goes unreported; the
                // input still counts as one that could not be parsed.
                Err(e) => {
                    not_json = Some(e.context("not read as JSON: scanned as text instead"));
                    chunks::scan_slice(scanner, &all, Plan::for_scanner(scanner), opts.keep_values)?
                }
            }
        }
    } else if opts.json_lines {
        let (found, bad, error) = json_lines(scanner, r, opts, tally)?;
        cut_short = error;
        if let Some((count, first)) = bad {
            not_json = Some(anyhow::anyhow!(
                "{count} line{} not valid JSON, nested deeper than {} levels or longer than the {}-byte cap (the first is line {first}): scanned as text instead",
                if count == 1 { " is" } else { "s are" },
                parapet_engine::input::MAX_JSON_DEPTH,
                scanner.max_bytes()
            ));
        }
        found
    } else {
        let (found, _, error) = scan_as_text(scanner, Vec::new(), r, opts, tally)?;
        cut_short = error;
        found
    };
    out.push(report(
        name,
        vec![found],
        (opts.json_doc && not_json.is_none()) || opts.json_lines,
        tally,
    ));
    if let Some(e) = not_json {
        return Err(e);
    }
    match cut_short {
        // A stream that ends early is cut short; one whose bytes do not decode (a checksum
        // that does not match, a bad block) is corrupt.
        Some(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            Err(anyhow::Error::new(e).context("the stream was cut short"))
        }
        Some(e) => Err(anyhow::Error::new(e).context("the stream is corrupt")),
        None => Ok(()),
    }
}

/// The verdict on `data` read as JSON, or why it could not be: not JSON, longer than the
/// scanner's byte cap, or nested deeper than a message may be (the proxy refuses such a
/// message; a file's content is still scanned, as text).
fn scan_as_json(scanner: &Scanner, data: &[u8]) -> Result<parapet_engine::Verdict> {
    if data.len() > scanner.max_bytes() {
        anyhow::bail!("longer than the {}-byte cap", scanner.max_bytes());
    }
    let verdict = scanner.scan_json(data).context("cannot scan as JSON")?;
    let too_deep = parapet_engine::input::JSON_TOO_DEEP_KIND;
    if verdict.detections.iter().any(|d| d.kind == too_deep) {
        anyhow::bail!(
            "nested deeper than {} levels",
            parapet_engine::input::MAX_JSON_DEPTH
        );
    }
    Ok(verdict)
}

fn json_doc(scanner: &Scanner, data: &[u8], keep_values: bool) -> Result<Vec<Found>> {
    let verdict = scan_as_json(scanner, data)?;
    Ok(json_found(
        scanner,
        data,
        verdict.detections,
        0,
        keep_values,
    ))
}

/// The findings of one JSON document on `line` (0: the whole input), with each matched value
/// (decoded from its string) when asked for.
fn json_found(
    scanner: &Scanner,
    doc: &[u8],
    detections: Vec<Detection>,
    line: usize,
    keep_values: bool,
) -> Vec<Found> {
    let values = if keep_values {
        scanner.matched_json(doc, &detections)
    } else {
        vec![None; detections.len()]
    };
    detections
        .into_iter()
        .zip(values)
        .map(|(d, value)| Found {
            value: value.filter(|_| d.category != Category::Validation),
            detection: d,
            line,
            column: 0,
            column_utf16: 0,
        })
        .collect()
}

/// `held` and then what `rest` holds, scanned as text in chunks (an input, or the document or
/// line too long to scan as one message, whose head was already read): memory stays at a few
/// chunks whatever their length. Returns the findings, the length scanned and the read error
/// that ended it early, if one did.
fn scan_as_text(
    scanner: &Scanner,
    held: Vec<u8>,
    rest: impl Read,
    opts: &Options,
    tally: &Tally,
) -> Result<(Vec<Found>, u64, Option<std::io::Error>)> {
    let progress = |n: u64| {
        tally.bytes.fetch_add(n, Ordering::Relaxed);
    };
    let mut input = std::io::Cursor::new(held).chain(rest);
    let plan = Plan::for_scanner(scanner);
    chunks::scan_stream(scanner, &mut input, plan, opts.keep_values, &progress)
}

/// The rest of the current line of a reader, its newline included.
struct RestOfLine<'a> {
    r: &'a mut dyn BufRead,
    done: bool,
}

impl std::io::Read for RestOfLine<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.done || out.is_empty() {
            return Ok(0);
        }
        let avail = self.r.fill_buf()?;
        let (upto, ends) = match memchr::memchr(b'\n', avail) {
            Some(p) => (p + 1, true),
            None => (avail.len(), avail.is_empty()),
        };
        let n = upto.min(out.len());
        out[..n].copy_from_slice(&avail[..n]);
        self.r.consume(n);
        self.done = ends && n == upto;
        Ok(n)
    }
}

/// Lines of a `--json-lines` input that were not JSON: how many, and the first one's number.
type NotJsonLines = Option<(usize, usize)>;

/// One JSON document per line: the findings of every line, the lines that were not JSON (those are scanned as text:
/// nothing in them goes unreported), and the error that ended the stream early, if one did
/// (the lines before it are still scanned).
fn json_lines(
    scanner: &Scanner,
    r: &mut dyn BufRead,
    opts: &Options,
    tally: &Tally,
) -> Result<(Vec<Found>, NotJsonLines, Option<std::io::Error>)> {
    let mut error = None;
    let mut bad: NotJsonLines = None;
    let mut found = Vec::new();
    let mut line = Vec::new();
    let (mut n, mut next_offset) = (0, 0usize);
    // A line longer than the scanner's cap could not be scanned as one message: it is held
    // only up to the cap, and scanned as text in chunks, whatever its length.
    // The cap leaves room for a line ending (`\r\n`), not counted against the document.
    let cap = scanner.max_bytes().saturating_add(2);
    while error.is_none() {
        line.clear();
        // Whole when it ended, at a newline or at the end of the input, within the cap.
        let whole = match (&mut *r).take(cap as u64).read_until(b'\n', &mut line) {
            Ok(_) => line.last() == Some(&b'\n') || line.len() < cap,
            // A last line cut by the error is still scanned.
            Err(e) => {
                error = Some(e);
                true
            }
        };
        if line.is_empty() {
            break;
        }
        n += 1;
        // Where this line starts in the input: a line that is not JSON is reported with
        // offsets into the input, like any text.
        let offset = next_offset;
        if !whole {
            bad.get_or_insert((0, n)).0 += 1;
            let rest = RestOfLine {
                r: &mut *r,
                done: false,
            };
            let (in_line, len, failed) =
                scan_as_text(scanner, std::mem::take(&mut line), rest, opts, tally)?;
            found.extend(in_line.into_iter().map(|mut f| {
                f.line += n - 1;
                f.detection.span.0 += offset;
                f.detection.span.1 += offset;
                f
            }));
            next_offset += len as usize;
            error = failed;
            continue;
        }
        next_offset += line.len();
        tally.bytes.fetch_add(line.len() as u64, Ordering::Relaxed);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        // The document without its line ending: a line of exactly the cap and its newline is
        // within the cap.
        let body = line.strip_suffix(b"\n").unwrap_or(&line);
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        match scan_as_json(scanner, body) {
            Ok(v) => found.extend(json_found(scanner, body, v.detections, n, opts.keep_values)),
            Err(_) => {
                bad.get_or_insert((0, n)).0 += 1;
                found.extend(
                    chunks::scan_slice(
                        scanner,
                        body,
                        Plan::for_scanner(scanner),
                        opts.keep_values,
                    )?
                    .into_iter()
                    .map(|mut f| {
                        f.line = n;
                        f.detection.span.0 += offset;
                        f.detection.span.1 += offset;
                        f
                    }),
                )
            }
        }
    }
    Ok((found, bad, error))
}
