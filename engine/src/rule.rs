//! Rules as data: the TOML schema, loading, and the load-time checks every rule must pass.

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};

/// The three detector families. Validation failures are reported under their own category.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    Pii,
    Secret,
    Injection,
    Validation,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Pii => "pii",
            Category::Secret => "secret",
            Category::Injection => "injection",
            Category::Validation => "validation",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Checks run on a match after the pattern found it; see `validate/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValidatorKind {
    Luhn,
    Ssn,
    Iban,
    Crc32Base62,
    /// Eight lower-case hex digits after a 40-character body: its CRC32 (Cloudflare).
    Crc32Hex,
    Jwt,
    Phone,
    /// A typed literal, not an identifier, path, URL, ARN, UUID, escaped slot or a password
    /// slot's own name.
    LiteralValue,
    /// A literal value of 8+ characters from at least three of: lower case, upper case, digits, symbols.
    Password,
    /// The password of a `scheme://user:password@host` URL: not the user name again, not the
    /// name of the slot (`password`, `pass`…); a password of letters only is less certain.
    UrlPassword,
    /// An e-mail address, not the user part of a URL (`ssh://git@github.com`).
    EmailAddress,
    /// An override phrase: less sure when it is aimed only at correspondence (a message, an
    /// e-mail) rather than at instructions.
    OverrideObject,
    /// An address to the AI reading a text: not "AI agents:" right after a word other than a
    /// greeting, nor as the end of a compound ("Gmail for AI agents: search, read", "multi-agent
    /// AI:"), which names a product's audience or a kind of system.
    Vocative,
    /// A conditional address to the AI reading a text ("Si eres una IA, …"): as `Vocative`,
    /// and not when the sentence after it only asks a question that names no address or link
    /// ("Si eres una IA, ¿cómo te sientes?"), which is curiosity, not an order.
    ConditionalAddress,
    /// A request or order in another language (for a password, to send a secret): less sure
    /// when negated ("Huwag ibigay ang inyong password", "IT จะไม่ขอรหัสผ่าน"), which is a
    /// security reminder, not a request.
    UnlessNegated,
}

/// Which first-pass engine finds a rule's candidates. Most rules carry a literal and go to
/// the Hyperscan database; literal-free PII shapes are cheaper behind a byte-class gate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Gate {
    #[default]
    Hyperscan,
    /// Runs of digits (with separators) found by a dedicated pass.
    Digits,
    /// Around each `@`.
    At,
    /// Around each `@` that closes a URL's user part (`scheme://user:password@`).
    Userinfo,
    /// Around each pair of dots seven bytes apart with token characters between and a long
    /// run of them before (`<base64 id>.<6>.<hmac>`, Discord's token shape).
    Dotted,
    /// Runs of Unicode tag characters that hold a tag space (the tag gate's windows).
    Tags,
}

/// One detection rule, exactly as written in a rule file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub category: Category,
    pub kind: String,
    pub pattern: String,
    /// A cheap pattern every match contains (a rare word set, a key name): when given, the
    /// first pass looks for it instead of `pattern`, and `pattern` is searched only in a window
    /// around each hit. For rules whose own literals are common words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor: Option<String>,
    #[serde(default = "default_confidence")]
    pub confidence: f32,
    #[serde(default)]
    pub validator: Option<ValidatorKind>,
    #[serde(default)]
    pub min_entropy: Option<f32>,
    #[serde(default)]
    pub gate: Gate,
    /// Words that, found in the key before the reported value (the match and the identifier
    /// characters just before it), make it not a secret: e.g. a key named `public_key` or
    /// `csrf_token` for a generic rule. Compared without case and without `_`, `-` and `.`:
    /// `cache_key` also rejects `cacheKey` and `CACHE-KEY`.
    #[serde(default)]
    pub reject_context: Vec<String>,
    /// Words of which at least one must stand, as a whole word and in any case, in the
    /// statement before the reported value (back to a `;`, a blank line or 256 bytes): e.g.
    /// `user`, `role` or `grant` for a SQL password, so that "commits identified by "fixup"" in
    /// prose is not one. Empty: no such condition.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub require_context: Vec<String>,
    /// The phrase speaks to the model that reads the text ("Note to the AI:", "include ... in
    /// your response"). Tool, prompt and resource definitions are written for the model, so
    /// there such a finding counts for less ([`crate::Scanner::scan_definition_json_allowing`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub addresses_the_model: bool,
    /// A speed hint for injection rules matched whole on the folded view (no anchor): with
    /// `true` (the default) the folded database gets the pattern with each `\s+` written `\s`
    /// (on that view they match the same), so Hyperscan can take a phrase as one literal; with
    /// `false` it gets the pattern as written. Which is faster depends on the rule and is
    /// measured (`AS_WRITTEN=ID,… rule_cost FILE`); what is found is the same either way.
    #[serde(default = "default_true", skip_serializing_if = "is_true")]
    pub fold_whitespace: bool,
    #[serde(default)]
    pub examples: Vec<String>,
    #[serde(default)]
    pub negative_examples: Vec<String>,
}

fn default_true() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

fn default_confidence() -> f32 {
    0.8
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    /// Named word lists that rules of the file name as `@name` in `reject_context` and
    /// `require_context`, so a list several rules share is written once.
    #[serde(default)]
    lists: std::collections::BTreeMap<String, Vec<String>>,
    #[serde(default)]
    rule: Vec<Rule>,
}

impl RuleFile {
    /// Replaces each `@name` in the rules' context words with the words of that list.
    fn expand_lists(&mut self, source_name: &str) -> Result<()> {
        for rule in &mut self.rule {
            for words in [&mut rule.reject_context, &mut rule.require_context] {
                let mut out = Vec::with_capacity(words.len());
                for w in words.drain(..) {
                    match w.strip_prefix('@') {
                        Some(name) => match self.lists.get(name) {
                            Some(list) => out.extend(list.iter().cloned()),
                            None => {
                                return Err(EngineError::Rule {
                                    id: rule.id.clone(),
                                    source_name: source_name.to_string(),
                                    message: format!(
                                        "unknown list @{name}: define it under [lists] in this file"
                                    ),
                                })
                            }
                        },
                        None => out.push(w),
                    }
                }
                *words = out;
            }
        }
        Ok(())
    }
}

/// Longest match a rule may report; the second stage looks this far back from a match end.
pub const MAX_MATCH_LEN: usize = 4096;
/// PEM blocks are longer.
pub const MAX_PEM_LEN: usize = 16384;

impl Rule {
    /// How far back from a match end the second stage searches for the start.
    pub fn window(&self) -> usize {
        if self.kind == "private_key" {
            MAX_PEM_LEN
        } else {
            MAX_MATCH_LEN
        }
    }

    /// `parse`: also the checks that parse and build each pattern (user files). Built-in rules
    /// skip them at start-up, where they cost tens of milliseconds: the test suite runs them
    /// on every built-in file (`engine/tests/rules.rs`), and compiles and runs every rule.
    fn check(&self, source_name: &str, parse: bool) -> Result<()> {
        let err = |message: String| EngineError::Rule {
            id: self.id.clone(),
            source_name: source_name.to_string(),
            message,
        };
        if self.id.trim().is_empty() || self.id.chars().any(char::is_whitespace) {
            return Err(err("id must be non-empty and contain no spaces".into()));
        }
        if self.category == Category::Validation {
            return Err(err(
                "category must be pii, secret or injection (validation is reserved)".into(),
            ));
        }
        if self.kind.is_empty()
            || !self
                .kind
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
        {
            return Err(err(
                "kind must be snake_case ASCII, e.g. github_token".into()
            ));
        }
        if !(0.0..=1.0).contains(&self.confidence) {
            return Err(err(format!(
                "confidence {} is outside 0..1",
                self.confidence
            )));
        }
        if self.pattern.contains("(?=")
            || self.pattern.contains("(?!")
            || self.pattern.contains("(?<")
            || self.pattern.contains("\\z")
        {
            return Err(err(
                "look-around, named groups and \\z are outside the dialect (see engine/rules/README.md)"
                    .into(),
            ));
        }
        // What only parsing a pattern tells: a repeat Hyperscan reads otherwise, then whether
        // it builds.
        let check_syntax = |what: &str, p: &str| {
            if !parse {
                return Ok(());
            }
            if let Some(c) = quantified_non_ascii(p) {
                return Err(err(format!(
                    "{what}: a repeat right after the non-ASCII character {c:?} repeats only its last byte in Hyperscan: group it, (?:{c})?"
                )));
            }
            crate::confirm::compile(p)
                .map(drop)
                .map_err(|e| err(format!("{what}: {e}")))
        };
        check_syntax("pattern", &self.pattern)?;
        if self.gate == Gate::Userinfo
            && !(self.pattern.contains("://") && self.pattern.contains('@'))
        {
            return Err(err(
                "a rule behind the userinfo gate matches `scheme://user:password@`: its pattern must hold `://` and `@`".into(),
            ));
        }
        if self.gate == Gate::Dotted && !self.pattern.contains(r"\.[A-Za-z0-9_-]{6}\.") {
            return Err(err(
                "a rule behind the dotted gate matches two dots with six token characters between: its pattern must hold `\\.[A-Za-z0-9_-]{6}\\.`".into(),
            ));
        }
        if self.gate == Gate::Tags && !self.pattern.contains(r"\xF3\xA0") {
            return Err(err(
                "a rule behind the tags gate matches Unicode tag characters: its pattern must hold their lead bytes `\\xF3\\xA0`".into(),
            ));
        }
        if let Some(anchor) = &self.anchor {
            if self.gate != Gate::Hyperscan {
                return Err(err(
                    "an anchor is only for rules in the Hyperscan database".into()
                ));
            }
            check_syntax("anchor", anchor)?;
        }
        Ok(())
    }
}

/// The first non-ASCII character a repeat (`?`, `*`, `+`, `{m,n}`) applies to directly, outside
/// the dialect: Rust repeats the character, Hyperscan (matching bytes) its last byte only.
fn quantified_non_ascii(pattern: &str) -> Option<char> {
    use regex_syntax::ast::{Ast, LiteralKind};
    fn walk(ast: &Ast) -> Option<char> {
        match ast {
            // Written as is: `\xA0+` is one byte to both engines.
            Ast::Repetition(r) => match &*r.ast {
                Ast::Literal(l) if !l.c.is_ascii() && l.kind == LiteralKind::Verbatim => Some(l.c),
                inner => walk(inner),
            },
            Ast::Group(g) => walk(&g.ast),
            Ast::Alternation(a) => a.asts.iter().find_map(walk),
            Ast::Concat(c) => c.asts.iter().find_map(walk),
            _ => None,
        }
    }
    walk(
        &regex_syntax::ast::parse::Parser::new()
            .parse(pattern)
            .ok()?,
    )
}

/// A TOML error as `line L, column C: message`, without the excerpt of the file that its
/// own message quotes: a file given as rules by mistake (a `.env`) must not be echoed.
fn toml_error(e: &toml::de::Error, text: &str) -> String {
    match e.span() {
        Some(span) => {
            let before = &text.as_bytes()[..span.start.min(text.len())];
            let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
            let column = before.len()
                - before
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |p| p + 1)
                + 1;
            format!("line {line}, column {column}: {}", e.message())
        }
        None => e.message().to_string(),
    }
}

/// Parses one rule file (TOML with `[[rule]]` tables) and checks every rule in it.
pub fn parse_rules(source_name: &str, text: &str) -> Result<Vec<Rule>> {
    parse_rules_checked(source_name, text, true)
}

fn parse_rules_checked(source_name: &str, text: &str, parse: bool) -> Result<Vec<Rule>> {
    let mut file: RuleFile = toml::from_str(text).map_err(|e| EngineError::RuleFile {
        source_name: source_name.to_string(),
        message: toml_error(&e, text),
    })?;
    file.expand_lists(source_name)?;
    let mut seen = HashSet::new();
    for rule in &file.rule {
        rule.check(source_name, parse)?;
        if !seen.insert(rule.id.as_str()) {
            return Err(EngineError::Rule {
                id: rule.id.clone(),
                source_name: source_name.to_string(),
                message: "duplicate id in this file".into(),
            });
        }
    }
    Ok(file.rule)
}

/// The rule files compiled into the binary, one per family.
pub const BUILTIN_RULE_FILES: &[(&str, &str)] = &[
    ("pii.toml", include_str!("../rules/pii.toml")),
    ("injection.toml", include_str!("../rules/injection.toml")),
    ("secrets_ai.toml", include_str!("../rules/secrets_ai.toml")),
    (
        "secrets_cloud.toml",
        include_str!("../rules/secrets_cloud.toml"),
    ),
    (
        "secrets_comm_pay.toml",
        include_str!("../rules/secrets_comm_pay.toml"),
    ),
    (
        "secrets_dev.toml",
        include_str!("../rules/secrets_dev.toml"),
    ),
    (
        "secrets_keys.toml",
        include_str!("../rules/secrets_keys.toml"),
    ),
    (
        "secrets_generic.toml",
        include_str!("../rules/secrets_generic.toml"),
    ),
    (
        "secrets_hashes.toml",
        include_str!("../rules/secrets_hashes.toml"),
    ),
];

/// Every built-in rule, in file order.
pub fn builtin_rules() -> Result<Vec<Rule>> {
    // One thread per file: parsing the TOML was a fifth of start-up.
    let files = crate::threads::map_in_order(
        BUILTIN_RULE_FILES,
        BUILTIN_RULE_FILES.len(),
        |&(name, text)| parse_rules_checked(name, text, false),
    );
    let mut rules = Vec::new();
    for file in files {
        rules.append(&mut file?);
    }
    Ok(rules)
}
