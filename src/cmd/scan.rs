//! `mcp-parapet scan`: scan files or standard input and report findings.
//!
//! Exit codes follow grep: 2 if any input could not be scanned (after scanning all the others),
//! else 1 if there were findings, else 0. `--fail-on reject` gives the Python reference's
//! meaning: 1 only when the policy would reject.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::ValueEnum;
use parapet_engine::{Action, Category};

use crate::flags::{load_config, ScanFlags};
use crate::output::{self, Format};
use crate::sweep;
use parapet_proxy::keys;
use parapet_proxy::scanner_setup::{build_scanner, scanner_config};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Exit 1 when anything is found.
    Findings,
    /// Exit 1 only when the policy would reject an input (the reference's meaning).
    Reject,
}

#[derive(clap::Args)]
#[command(
    after_help = "Inputs: files, directories (recursive), `-` for standard input; gzip, zstd, \
bzip2 and xz streams and tar archives are opened (recognised by content), archive members \
reported as `archive.tar.gz!path/in/archive`. Files with a NUL byte in their first 8 KiB are \
skipped as binary unless --binary.\n\nExit status: 0 nothing found; 1 findings (with --fail-on \
reject: only when the policy would reject); 2 an input could not be read or parsed (the others \
are still scanned).\n\nOffsets are UTF-8 byte offsets (the Python reference counted code points)."
)]
pub struct Args {
    /// Files, directories or `-` (standard input).
    #[arg(required = true, value_name = "PATH")]
    inputs: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Colour in text output.
    #[arg(long, value_enum, default_value_t = output::Color::Auto)]
    color: output::Color,
    /// Parse each input as one JSON document and scan every string in it (findings carry JSON
    /// Pointers).
    #[arg(long, conflicts_with = "json_lines")]
    json: bool,
    /// Parse each line as a JSON document (agent transcripts, MCP captures).
    #[arg(long)]
    json_lines: bool,
    /// Print matched values in clear (by default they are masked; never in jsonl without this).
    #[arg(long)]
    show_secrets: bool,
    /// When to exit 1.
    #[arg(long, value_enum, default_value_t = FailOn::Findings)]
    fail_on: FailOn,
    /// Worker threads (default: the number of cores; at most 8 per core).
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    jobs: Option<u16>,
    /// Scan files that look binary instead of skipping them.
    #[arg(long)]
    binary: bool,
    /// Honour .gitignore/.ignore files in directories (off by default: logs are often ignored).
    #[arg(long)]
    gitignore: bool,
    /// No progress bar and no summary line.
    #[arg(short, long)]
    quiet: bool,
    /// Write sanitized copies of the inputs under DIR (same tree, compressed the same way),
    /// every finding redacted whatever the policies say.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["json", "json_lines"])]
    redact_to: Option<PathBuf>,
    /// Categories --redact-to replaces (default: pii,secret,injection).
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        requires = "redact_to"
    )]
    redact_categories: Vec<String>,
    #[command(flatten)]
    flags: ScanFlags,
}

/// The smallest byte cap `scan` accepts: below it a token and its key no longer fit a chunk
/// with context on both sides.
const MIN_SCAN_BYTES: usize = 4 << 10;

pub fn run(args: Args, config: Option<&std::path::Path>) -> Result<ExitCode> {
    let cfg = load_config(config)?;
    // A configuration found in the working directory changes what is reported (a scanned
    // repository may carry its own): say which file is in force.
    if !args.quiet {
        if let Some(found) = parapet_proxy::config::config_path(config).filter(|p| {
            config.is_none() && p.is_relative() && std::env::var_os("PARAPET_CONFIG").is_none()
        }) {
            eprintln!(
                "mcp-parapet: using {} from the working directory (--config FILE or PARAPET_CONFIG picks another)",
                found.display()
            );
        }
    }
    let mut sc = scanner_config(&cfg, &args.flags.overrides())?;
    sc.fingerprint_key = match keys::fingerprint_key(&cfg.integrity.signing_key) {
        Ok(key) => key.bytes,
        Err(e) => {
            if !args.quiet {
                eprintln!(
                    "mcp-parapet: warning: {e}; fingerprints hold for this run only (set PARAPET_FINGERPRINT_KEY for fingerprints that last)"
                );
            }
            keys::ephemeral()?.bytes
        }
    };
    let plan = sweep::chunks::Plan::for_max_bytes(sc.max_bytes);
    if sc.max_bytes < MIN_SCAN_BYTES {
        anyhow::bail!(
            "a byte cap of {} (--max-bytes, or scanner.content_max_length in the configuration) is too small to scan with: a token and the key before it need room, and findings would be cut at every chunk boundary; use {}K or more",
            sc.max_bytes,
            MIN_SCAN_BYTES >> 10
        );
    }
    if plan.overlap < sweep::chunks::FULL_OVERLAP && !args.quiet {
        eprintln!(
            "mcp-parapet: warning: a byte cap of {} leaves {} bytes of context between chunks of a file; a finding longer than that across a chunk boundary can be missed (the default cap leaves {} KiB)",
            sc.max_bytes,
            plan.overlap,
            sweep::chunks::FULL_OVERLAP >> 10
        );
    }
    let scanner = build_scanner(sc)?;
    let opts = sweep::Options {
        jobs: {
            let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
            // Each worker holds its own scan buffers: thousands of threads only cost memory
            // and start-up time.
            args.jobs.map_or(cores, |j| usize::from(j).min(8 * cores))
        },
        binary: args.binary,
        gitignore: args.gitignore,
        json_lines: args.json_lines,
        json_doc: args.json,
        // Matched bytes are shown only in text (masked) or with --show-secrets.
        keep_values: args.show_secrets || args.format == Format::Text,
        exclude: args
            .redact_to
            .iter()
            .filter_map(|d| std::fs::canonicalize(d).ok())
            .collect(),
    };
    let tally = sweep::Tally::default();
    let started = Instant::now();
    let show_bar = !args.quiet && std::io::stderr().is_terminal();
    let stop = AtomicBool::new(false);
    let mut result = std::thread::scope(|s| {
        let bar = show_bar.then(|| s.spawn(|| progress(&tally, &stop)));
        let result = sweep::run(&scanner, &args.inputs, &opts, &tally);
        stop.store(true, Ordering::Relaxed);
        if let Some(bar) = bar {
            let _ = bar.join();
        }
        result
    })?;
    if let Some(dest) = &args.redact_to {
        let categories = redact_categories(&args.redact_categories)?;
        let mut errors = Vec::new();
        // `..` and the root are left out of a copy's path, so two inputs can map to one copy
        // (`../src/a.log` and `src/a.log`): the second would replace the first unseen.
        let mut written: std::collections::HashMap<std::path::PathBuf, &std::path::Path> =
            std::collections::HashMap::new();
        for f in &result.files {
            let name = sweep::display(f);
            let target = sweep::redact_to::destination(dest, f);
            if let Some(first) = written.get(&target) {
                let same = std::fs::canonicalize(first).ok() == std::fs::canonicalize(f).ok();
                if !same {
                    errors.push(format!(
                        "{name}: --redact-to: its copy would be {}, already written for {} (paths are mirrored without `..`: sanitize them in separate runs)",
                        target.display(),
                        sweep::display(first)
                    ));
                }
                continue;
            }
            written.insert(target, f);
            if let Err(e) = sweep::redact_to::write_copy(&scanner, f, dest, &categories) {
                errors.push(format!("{name}: --redact-to: {e:#}"));
            }
        }
        result.errors.extend(errors);
    }
    // In path order whatever order the threads finished in.
    result.errors.sort();
    for e in &result.errors {
        eprintln!("mcp-parapet: {}", output::printable(e));
    }
    // Buffered: stdout is line-buffered, which made a write call per finding.
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let one_input = args.inputs.len() == 1 && !args.inputs[0].is_dir();
    // One input that could not be read has no verdict: an "allowed" one would say it was
    // scanned. The error is on stderr and in the exit status.
    let unread = one_input && result.reports.is_empty() && !result.errors.is_empty();
    // A reader that stopped reading (`| head`) is no error: the exit status still says what
    // the scan found, as grep's does, and the summary is left out with the rest.
    let mut reader_gone = false;
    if !(unread && args.format == Format::Json) {
        let written = output::write(
            &mut out,
            args.format,
            &result.reports,
            args.show_secrets,
            args.color.enabled(),
            one_input,
        )
        .and_then(|()| out.flush());
        match written {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => reader_gone = true,
            other => other.context("cannot write the report")?,
        }
    }
    if !args.quiet && !reader_gone {
        eprintln!(
            "{}",
            summary(
                &result.reports,
                &tally,
                started.elapsed(),
                result.errors.len()
            )
        );
    }
    let failed = result.reports.iter().any(|r| match args.fail_on {
        FailOn::Findings => !r.verdict.detections.is_empty(),
        FailOn::Reject => r.verdict.action == Action::Reject,
    });
    Ok(ExitCode::from(if !result.errors.is_empty() {
        2
    } else if failed {
        1
    } else {
        0
    }))
}

/// `n` and `noun`, with an `s` unless `n` is one: `1 input`, `2 inputs`.
fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// `12 inputs, 1.2 GB in 3.1 s (0.39 GB/s): 5 findings (secret 3, pii 2); 2 binary files skipped`
fn summary(
    reports: &[output::Report],
    tally: &sweep::Tally,
    elapsed: std::time::Duration,
    errors: usize,
) -> String {
    let bytes = tally.bytes.load(Ordering::Relaxed);
    let mut by_category: std::collections::BTreeMap<&str, usize> = Default::default();
    for r in reports {
        for d in &r.verdict.detections {
            *by_category.entry(d.category.as_str()).or_default() += 1;
        }
    }
    let total: usize = by_category.values().sum();
    let cats: Vec<String> = by_category
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let secs = elapsed.as_secs_f64().max(1e-9);
    let mut s = format!(
        "{}, {:.1} MB in {:.2} s ({:.2} GB/s): {}{}",
        count(tally.inputs.load(Ordering::Relaxed), "input"),
        bytes as f64 / 1e6,
        secs,
        bytes as f64 / secs / 1e9,
        count(total, "finding"),
        if cats.is_empty() {
            String::new()
        } else {
            format!(" ({})", cats.join(", "))
        }
    );
    let skipped = tally.binary_skipped.load(Ordering::Relaxed);
    if skipped > 0 {
        s.push_str(&format!(
            "; {} skipped (--binary scans them)",
            count(skipped, "binary file")
        ));
    }
    let zips = tally.zip_skipped.load(Ordering::Relaxed);
    if zips > 0 {
        s.push_str(&format!(
            "; {} not opened (zip is not supported: unpack it, or pack it as tar)",
            count(zips, "zip archive")
        ));
    }
    let links = tally.symlinks_skipped.load(Ordering::Relaxed);
    if links > 0 {
        s.push_str(&format!(
            "; {} inside directories not followed",
            count(links, "symbolic link")
        ));
    }
    if errors > 0 {
        // Unreadable inputs, but also streams cut short or corrupt and inputs that were not
        // the JSON asked for (scanned as text): each is named with its error above.
        s.push_str(&format!(
            "; {} with an error (named above)",
            count(errors, "input")
        ));
    }
    s
}

fn redact_categories(names: &[String]) -> Result<Vec<Category>> {
    if names.is_empty() {
        return Ok(vec![Category::Pii, Category::Secret, Category::Injection]);
    }
    names
        .iter()
        .map(|n| match n.trim() {
            "pii" => Ok(Category::Pii),
            "secret" | "secrets" => Ok(Category::Secret),
            "injection" => Ok(Category::Injection),
            other => anyhow::bail!(
                "--redact-categories: unknown category {other:?} (pii, secret, injection)"
            ),
        })
        .collect()
}

/// A progress line on stderr, redrawn until `stop` is set.
fn progress(tally: &sweep::Tally, stop: &AtomicBool) {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {elapsed} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    let started = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let bytes = tally.bytes.load(Ordering::Relaxed) as f64;
        bar.set_message(format!(
            "{}, {:.1} MB, {}, {:.2} GB/s",
            count(tally.inputs.load(Ordering::Relaxed), "input"),
            bytes / 1e6,
            count(tally.findings.load(Ordering::Relaxed), "finding"),
            bytes / started.elapsed().as_secs_f64().max(1e-9) / 1e9
        ));
        bar.tick();
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    bar.finish_and_clear();
}
