//! `mcp-parapet rules list` prints the catalogue; `rules check FILE` verifies a user rule file:
//! it parses, every pattern compiles in both engines, every example is found by its rule and no
//! negative example is.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use parapet_engine::{Scanner, ScannerConfig};

use crate::flags::{load_config, ScanFlags};
use crate::output::Format;
use parapet_proxy::scanner_setup::{build_scanner, load_rule_file, scanner_config};

#[derive(Subcommand)]
pub enum RulesCommand {
    /// Print every rule in force: id, category, kind, name.
    List {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[command(flatten)]
        flags: ScanFlags,
    },
    /// Check rule files: syntax, both engines, examples and negative examples. Exit status 1
    /// when a rule fails, 2 when a file cannot be read.
    Check {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
}

pub fn run(cmd: RulesCommand, config: Option<&std::path::Path>) -> Result<ExitCode> {
    match cmd {
        RulesCommand::List { format, flags } => {
            let cfg = load_config(config)?;
            // The cached database when there is one: listing should not wait for a compile.
            let scanner = build_scanner(scanner_config(&cfg, &flags.overrides())?)?;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            for r in scanner.rules() {
                let written = match format {
                    Format::Text => writeln!(
                        out,
                        "{:<40} {:<10} {:<32} {}",
                        r.id,
                        r.category.to_string(),
                        r.kind,
                        r.name
                    ),
                    _ => writeln!(
                        out,
                        "{}",
                        serde_json::json!({"id": r.id, "name": r.name, "category": r.category, "kind": r.kind, "confidence": r.confidence, "validator": r.validator})
                    ),
                };
                // A reader that stops early (`| head`) ends the listing, not a panic.
                if written.is_err() {
                    return Ok(ExitCode::SUCCESS);
                }
            }
            if scanner.has_classifier() {
                let (id, kind, name) = (
                    parapet_engine::CLASSIFIER_RULE_ID,
                    parapet_engine::CLASSIFIER_KIND,
                    "Injection classifier of the deep scan (switch off with --disable-rule)",
                );
                let _ = match format {
                    Format::Text => writeln!(out, "{id:<40} {:<10} {kind:<32} {name}", "injection"),
                    _ => writeln!(
                        out,
                        "{}",
                        serde_json::json!({"id": id, "name": name, "category": "injection", "kind": kind})
                    ),
                };
            }
            let _ = out.flush();
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::Check { files } => {
            // 1 when a rule fails its check, 2 when a file cannot be read at all (as grep).
            let (mut failed, mut unreadable) = (false, false);
            // Files given together are used together: an id in two of them is a clash too.
            let mut seen: std::collections::HashMap<String, PathBuf> = Default::default();
            let mut checked = std::collections::HashSet::new();
            for f in files {
                if !checked.insert(std::fs::canonicalize(&f).unwrap_or_else(|_| f.clone())) {
                    continue;
                }
                if let Err(e) = std::fs::File::open(&f) {
                    unreadable = true;
                    eprintln!("mcp-parapet: {}: cannot read: {e}", f.display());
                    continue;
                }
                let result = load_rule_file(&f).and_then(|rules| {
                    // `scan --rules` adds a file to the built-in rules: an id they already use
                    // would refuse it there.
                    let builtin: std::collections::HashSet<String> =
                        parapet_engine::builtin_rules()?
                            .into_iter()
                            .map(|r| r.id)
                            .collect();
                    let mut clashes: Vec<String> = rules
                        .iter()
                        .filter(|r| builtin.contains(&r.id)
                                || parapet_engine::BUILTIN_CHECK_IDS.contains(&r.id.as_str()))
                        .map(|r| format!("{}: a built-in rule or check has this id; rename it", r.id))
                        .collect();
                    for r in &rules {
                        if let Some(other) = seen.insert(r.id.clone(), f.clone()) {
                            clashes.push(format!(
                                "{}: also in {} (the two files cannot be used together); rename one",
                                r.id,
                                other.display()
                            ));
                        }
                    }
                    let n = rules.len();
                    let scanner = Scanner::new(ScannerConfig {
                        no_builtin_rules: true,
                        extra_rules: rules,
                        ..ScannerConfig::default()
                    })?;
                    let mut problems = clashes;
                    problems.extend(scanner.check_examples()?);
                    Ok((n, problems))
                });
                match result {
                    Ok((n, problems)) if problems.is_empty() => {
                        println!("{}: ok ({n} rules)", f.display());
                    }
                    Ok((_, problems)) => {
                        failed = true;
                        for p in problems {
                            println!("{}: {p}", f.display());
                        }
                    }
                    Err(e) => {
                        failed = true;
                        println!("{}: {e:#}", f.display());
                    }
                }
            }
            Ok(ExitCode::from(if unreadable {
                2
            } else {
                u8::from(failed)
            }))
        }
    }
}
