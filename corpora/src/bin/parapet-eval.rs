//! `parapet-eval [DIR]`: score the scanner on the labelled corpora (default
//! `../shared/corpora/labelled`) and print a markdown table: recall for pii/secret/injection,
//! false-positive rate for benign, per file and overall. `--by-kind` adds a per-kind table,
//! `--misses N` prints up to N missed positives and false positives per file. `--split test`
//! scores only the 20% test split the classifier never saw (`--split train`: the rest); the
//! injection-bearing files are then also summed up as one line.

use std::path::PathBuf;

use anyhow::Result;
use parapet_corpora::split::{split_of, Split};
use parapet_corpora::{evaluate, labelled_files, load_cases, tally, Outcome, INJECTION_FILES};
use parapet_engine::{Scanner, ScannerConfig};

/// Prints a line to stdout; a reader that went away (`parapet-eval | head`) ends the run
/// quietly instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout(), $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
            panic!("writing to stdout: {e}");
        }
    }};
}

fn main() -> Result<()> {
    let mut dir = PathBuf::from("../shared/corpora/labelled");
    let mut by_kind = false;
    let mut misses = 0usize;
    let mut split: Option<Vec<Split>> = None;
    let mut config = ScannerConfig::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--by-kind" => by_kind = true,
            "--misses" => misses = args.next().and_then(|n| n.parse().ok()).unwrap_or(10),
            "--deep-scan" => {
                config.deep_scan = args
                    .next()
                    .unwrap_or_default()
                    .parse()
                    .map_err(anyhow::Error::msg)?
            }
            "--split" => {
                split = match args.next().as_deref() {
                    Some("test") => Some(vec![Split::Test]),
                    Some("train") => Some(vec![Split::Train, Split::Validation]),
                    Some("all") => None,
                    other => anyhow::bail!("--split takes test, train or all, not {other:?}"),
                }
            }
            "-h" | "--help" => {
                out!("usage: parapet-eval [--by-kind] [--misses N] [--split test|train|all] [--deep-scan off|messages] [DIR]");
                return Ok(());
            }
            _ => dir = PathBuf::from(a),
        }
    }
    let scanner = Scanner::new(config)?;
    let mut all: Vec<Outcome> = Vec::new();
    let mut texts = std::collections::HashMap::new();
    for path in labelled_files(&dir)? {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let mut cases = load_cases(&path)?;
        if let Some(keep) = &split {
            cases.retain(|c| keep.contains(&split_of(&c.id)));
        }
        for c in &cases {
            texts.insert(c.id.clone(), c.text.clone());
        }
        all.extend(evaluate(&scanner, &name, &cases)?);
    }
    out!("| scope | label | cases | rate | span hits |");
    out!("|---|---|---|---|---|");
    let fmt_span = |t: &parapet_corpora::Tally| {
        if t.span_cases == 0 {
            "".to_string()
        } else {
            format!("{}/{}", t.span_hits, t.span_cases)
        }
    };
    for ((_, label), t) in tally(&all, |_| "all".into()) {
        out!(
            "| all | {label} | {} | {:.3} | {} |",
            t.cases,
            t.rate(),
            fmt_span(&t)
        );
    }
    let injection_files = all
        .iter()
        .filter(|o| o.label == "injection" && INJECTION_FILES.contains(&o.file.as_str()));
    for (_, t) in tally(injection_files, |_| "injection-bearing files".into()) {
        out!(
            "| injection-bearing files | injection | {} | {:.3} | |",
            t.cases,
            t.rate()
        );
    }
    for ((file, label), t) in tally(&all, |o| o.file.clone()) {
        out!(
            "| {file} | {label} | {} | {:.3} | {} |",
            t.cases,
            t.rate(),
            fmt_span(&t)
        );
    }
    if by_kind {
        out!("\n| kind | label | cases | rate |\n|---|---|---|---|");
        for ((kind, label), t) in
            tally(&all, |o| o.kind.split(':').next().unwrap_or("").to_string())
        {
            out!("| {kind} | {label} | {} | {:.3} |", t.cases, t.rate());
        }
    }
    if misses > 0 {
        let mut shown: std::collections::HashMap<(String, bool), usize> = Default::default();
        for o in &all {
            let benign = o.label == "benign";
            let bad = if benign { o.hit } else { !o.hit };
            if !bad {
                continue;
            }
            let n = shown.entry((o.file.clone(), benign)).or_default();
            if *n >= misses {
                continue;
            }
            *n += 1;
            let text: String = texts[&o.id].chars().take(300).collect();
            let what = if benign {
                format!("FP {:?}", o.rules)
            } else {
                "MISS".into()
            };
            out!(
                "{} {what} [{}] {}",
                o.file,
                o.kind,
                text.replace('\n', "\\n")
            );
        }
    }
    Ok(())
}
