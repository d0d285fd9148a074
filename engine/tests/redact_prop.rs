//! Property: redacting JSON yields valid JSON in which every redact-policy value is gone and
//! every byte outside the rewritten strings is unchanged.

use std::sync::OnceLock;

use parapet_engine::internals::string_tokens;
use parapet_engine::{Action, Scanner};
use proptest::prelude::*;

#[path = "support/rule_cache.rs"]
mod rule_cache;

fn scanner() -> &'static Scanner {
    static S: OnceLock<Scanner> = OnceLock::new();
    S.get_or_init(rule_cache::default_scanner)
}

const PLANTS: &[&str] = &[
    "ghp_Qm3kV9ZtR2xW8pLc4NbY7dFh1JsG6a0AbCdE",
    "AKIAZ7QW3ERT5YU2OP4L",
    "card 4539 1488 0343 6467",
    "maria.gonzalez@northwind-traders.com",
    "plain words",
    "caf\u{e9} \u{1f600} \"quoted\" back\\slash\nnewline",
];

fn leaf() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        (0..PLANTS.len(), "[a-z ]{0,12}")
            .prop_map(|(i, pad)| serde_json::Value::String(format!("{pad}{}{pad}", PLANTS[i]))),
        any::<i32>().prop_map(|n| serde_json::json!(n)),
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
    ]
}

fn doc() -> impl Strategy<Value = serde_json::Value> {
    leaf().prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::vec(("[a-z_]{1,8}", inner), 0..6)
                .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn redacted_json_is_valid_and_minimal(value in doc(), pretty in any::<bool>()) {
        let raw = if pretty { serde_json::to_vec_pretty(&value) } else { serde_json::to_vec(&value) }.unwrap();
        let s = scanner();
        let v = s.scan_json(&raw).unwrap();
        let out = s.redact_json(&raw, &v);
        let parsed: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
        let _ = parsed;
        // Nothing that policy says to redact is found again.
        let again = s.scan_json(&out).unwrap();
        prop_assert!(!again.detections.iter().any(|d| d.action == Action::Redact), "{:?}", again);
        // Outside string tokens, bytes are identical; untouched strings are identical.
        let (a, b) = (string_tokens(&raw), string_tokens(&out));
        prop_assert_eq!(a.len(), b.len());
        let mut prev = (0, 0);
        for (x, y) in a.iter().zip(&b) {
            prop_assert_eq!(&raw[prev.0..x.0], &out[prev.1..y.0]);
            let (rs, os) = (&raw[x.0..x.1], &out[y.0..y.1]);
            if rs != os {
                prop_assert!(String::from_utf8_lossy(os).contains("[REDACTED:"));
            }
            prev = (x.1, y.1);
        }
        prop_assert_eq!(&raw[prev.0..], &out[prev.1..]);
    }
}
