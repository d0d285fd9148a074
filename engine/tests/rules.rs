//! Every built-in rule finds each of its examples and none of its negative examples.

use parapet_engine::{builtin_rules, ScannerConfig};

#[path = "support/rule_cache.rs"]
mod rule_cache;

#[test]
fn builtin_examples_and_negatives() {
    let scanner =
        rule_cache::cached_scanner(ScannerConfig::default()).expect("built-in rules compile");
    let problems = scanner.check_examples().unwrap();
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn builtin_ids_are_unique_and_every_rule_has_examples() {
    let rules = builtin_rules().unwrap();
    let mut ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    ids.sort();
    let before = ids.len();
    ids.dedup();
    assert_eq!(before, ids.len(), "duplicate rule ids across files");
    for r in &rules {
        assert!(!r.examples.is_empty(), "{} has no examples", r.id);
        assert!(
            !r.negative_examples.is_empty(),
            "{} has no negative examples",
            r.id
        );
    }
}

#[test]
fn every_builtin_pattern_and_anchor_compiles_as_a_user_rule_would() {
    // Start-up skips this for the built-in set; here each file goes through the full check.
    for (name, text) in parapet_engine::BUILTIN_RULE_FILES {
        if let Err(e) = parapet_engine::parse_rules(name, text) {
            panic!("{name}: {e}");
        }
    }
}

#[test]
fn secret_and_pii_rules_report_a_token_at_one_end() {
    // A pattern without an end boundary matches at every length its last repeat allows, and
    // each of those ends costs a second-stage search: on text that repeats the key word
    // (`password=password=…`) that was 1.5 µs a byte. Hyperscan's `$` may add one end
    // before a final newline, so two ends are allowed.
    use parapet_engine::internals::{Database, Scratch};
    use parapet_engine::{Category, Gate};
    let mut problems = Vec::new();
    for r in builtin_rules().unwrap() {
        if r.category == Category::Injection || r.gate != Gate::Hyperscan {
            continue;
        }
        let db = Database::compile(&[(r.pattern.clone(), 0)]).expect("compiles");
        let mut scratch = Scratch::new(&db).expect("scratch");
        for ex in &r.examples {
            let mut ends = Vec::new();
            scratch
                .scan(&db, ex.as_bytes(), |_, end| ends.push(end))
                .expect("scan");
            ends.dedup();
            if ends.len() > 2 {
                problems.push(format!("{}: {} ends in {ex:?}", r.id, ends.len()));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_file_that_is_not_toml_is_not_echoed_in_the_error() {
    let secret = "wJalrXUtnFEMIK7MDENGbPxRfiCYzzzzzzzzzzzz";
    let text = format!("# keys\nexport AWS_SECRET_ACCESS_KEY={secret}\n");
    let err = parapet_engine::parse_rules("dot.env", &text)
        .unwrap_err()
        .to_string();
    assert!(
        !err.contains(secret) && !err.contains("AWS_SECRET"),
        "{err}"
    );
    assert!(err.contains("line 2, column 8"), "{err}");
}

#[test]
fn context_lists_are_written_once_and_named() {
    let rule = |context: &str| {
        format!(
            "[lists]\nnot_secret = [\"public\", \"=changetoken\"]\n\n[[rule]]\nid = \"x.token\"\n\
             name = \"x\"\ncategory = \"secret\"\nkind = \"x\"\n\
             pattern = '''token=([A-Za-z0-9]{{20}})'''\nreject_context = [{context}]\n\
             examples = [\"token=Zq8vT2pLmW4xR9kYbN3c\"]\n"
        )
    };
    let rules = parapet_engine::parse_rules("x.toml", &rule("\"@not_secret\", \"csrf\"")).unwrap();
    assert_eq!(
        rules[0].reject_context,
        ["public", "=changetoken", "csrf"].map(String::from)
    );
    let err = parapet_engine::parse_rules("x.toml", &rule("\"@missing\""))
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown list @missing"), "{err}");
}

#[test]
fn a_repeat_of_a_non_ascii_character_is_refused_with_the_fix() {
    // Hyperscan matches bytes: `ँ?` would make only the last of its three bytes optional,
    // while Rust makes the character optional, so the two stages would disagree.
    let rule = |pattern: &str| {
        format!(
            "[[rule]]\nid = \"x.hindi\"\nname = \"x\"\ncategory = \"injection\"\n\
             kind = \"injection_override\"\npattern = '''{pattern}'''\n\
             examples = [\"मैं भगवान हूँ\"]\n"
        )
    };
    for bad in ["मैं\\s+भगवान\\s+हूँ?", "(?:ab|हूँ+)x", "a(?:हूँ{1,2})"]
    {
        let err = parapet_engine::parse_rules("x.toml", &rule(bad))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("repeats only its last byte") && err.contains("(?:ँ)?"),
            "{bad}: {err}"
        );
    }
    parapet_engine::parse_rules("x.toml", &rule("मैं\\s+भगवान\\s+हू(?:ँ)?")).unwrap();
    // An escaped byte is one byte to both engines.
    parapet_engine::parse_rules("x.toml", &rule("मैं\\s+भगवान\\s+हू\\xA0+")).unwrap();
}
