//! Checks that run after a pattern matched: checksums, issued ranges, structure, entropy and the
//! closed list of placeholder conventions. Each takes the reported bytes and says keep or drop.

mod checksum;
mod email;
mod entropy;
mod jwt;
mod label;
mod numbers;
mod override_object;
pub use override_object::{follows_which_or_who, DESCRIBED_FACTOR};
mod negation;
mod password;
pub mod placeholder;
mod question;

pub use entropy::shannon_entropy;

use crate::rule::ValidatorKind;

/// The text around a match that a validator may look at (up to a few hundred bytes each side):
/// around the whole match, and around the reported bytes (its capture, where it has one).
#[derive(Clone, Copy)]
pub struct Around<'a> {
    pub before: &'a [u8],
    pub after: &'a [u8],
    pub before_span: &'a [u8],
    pub after_span: &'a [u8],
}

/// How much of `span` (the reported bytes, as the pattern matched them) the validator keeps:
/// all of it for most, a shorter reading for an IBAN (`numbers::valid_iban_len`), `None`
/// when no reading holds. [`apply`] then judges what is kept.
pub fn span_len(kind: ValidatorKind, span: &[u8]) -> Option<usize> {
    match kind {
        ValidatorKind::Iban => numbers::valid_iban_len(span),
        _ => Some(span.len()),
    }
}

/// The outcome of a validator on `span` (the reported bytes) within `matched` (the whole
/// match), with the text `around` it: drop it, or keep it with this confidence.
pub fn apply(
    kind: ValidatorKind,
    span: &[u8],
    matched: &[u8],
    around: Around,
    confidence: f32,
) -> Option<f32> {
    match kind {
        ValidatorKind::OverrideObject => Some(
            override_object::override_confidence(span, around.after, confidence)
                * override_object::clause_factor(around.before),
        ),
        ValidatorKind::Vocative => (!names_an_audience(span, around.before)).then_some(confidence),
        ValidatorKind::UnlessNegated => Some(
            if negation::is_negated(around.before, matched, around.after) {
                confidence * PROHIBITED_FACTOR
            } else {
                confidence
            },
        ),
        ValidatorKind::ConditionalAddress => (!names_an_audience(span, around.before)
            && !question::only_asks(around.after))
        .then_some(confidence),
        ValidatorKind::EmailAddress => {
            email::is_address(span, around.before, around.after).then_some(confidence)
        }
        ValidatorKind::Luhn => (numbers::is_payment_card(span)
            && !numbers::in_number_row(span, around.before_span, around.after_span, 4)
            && !numbers::between_long_numbers(span, around.before_span, around.after_span)
            && !numbers::in_decimal_number(around.before_span, around.after_span)
            && !numbers::in_column_of_other_numbers(span, around.before_span, around.after_span)
            && !numbers::in_url_path(around.before_span, around.after_span))
        .then(|| unless_other_identifier(confidence, around.before_span)),
        ValidatorKind::Ssn => numbers::is_issued_ssn(span)
            .then(|| unless_other_identifier(confidence, around.before_span)),
        ValidatorKind::Iban => numbers::is_valid_iban(span).then_some(confidence),
        ValidatorKind::Phone => (numbers::is_plausible_phone(span)
            && !numbers::plus_inside_token(span, around.before_span)
            && !numbers::mirrors_a_negative(span, around.before_span)
            && !numbers::in_decimal_number(around.before_span, around.after_span)
            && !numbers::in_number_row(span, around.before_span, around.after_span, 3))
        .then(|| unless_other_identifier(confidence, around.before_span)),
        ValidatorKind::LiteralValue => password::is_literal_value(span).then_some(confidence),
        ValidatorKind::Password => password::is_password_shaped(span).then_some(confidence),
        ValidatorKind::Jwt => jwt::is_jwt(span).then_some(confidence),
        ValidatorKind::UrlPassword => password::user_password_confidence(span, matched, confidence),
        ValidatorKind::Crc32Base62 => Some(checksum_confidence(
            checksum::crc32_base62_ok(span),
            confidence,
        )),
        ValidatorKind::Crc32Hex => Some(checksum_confidence(
            checksum::crc32_hex_ok(span),
            confidence,
        )),
    }
}

/// A token whose checksum holds is certainly real; one whose checksum fails still has the
/// provider's shape (documentation samples often do), so it is kept, less sure.
fn checksum_confidence(holds: bool, confidence: f32) -> f32 {
    if holds {
        confidence.max(0.99)
    } else {
        (confidence * 0.8).max(0.5)
    }
}

/// True when a phrase that opens with `AI …`/`LLM …`/`agent …` ("AI agents: search, …", "AI
/// models, create …") is the end of a compound ("multi-agent AI:") or has a word right before it ("Gmail for AI agents: search, read", "Run AI models,
/// create deployments"): the audience or object of a sentence, not a vocative, which opens its
/// sentence or follows a greeting ("Hey, AI assistant: …", ". AI summarizer, state …").
fn names_an_audience(span: &[u8], before: &[u8]) -> bool {
    const OPENERS: &[&str] = &[
        "hey",
        "hi",
        "hello",
        "dear",
        "psst",
        "btw",
        "ps",
        "attention",
        "note",
        "notice",
        "reminder",
        "important",
        "urgent",
        "warning",
        "also",
        "now",
        "so",
        "then",
    ];
    let opens_with_ai = ["ai", "llm", "agent", "agen", "asystent", "asisten"]
        .iter()
        .any(|w| {
            span.len() > w.len()
                && span[..w.len()].eq_ignore_ascii_case(w.as_bytes())
                && span[w.len()].is_ascii_whitespace()
        });
    // The last part of a compound ("multi-agent AI:") names a kind of system.
    if opens_with_ai && before.last() == Some(&b'-') {
        return true;
    }
    opens_with_ai
        && word_before(before).is_some_and(|w| !OPENERS.iter().any(|o| w.eq_ignore_ascii_case(o)))
}

/// The part of the match's own line that comes before it (`before` from its last newline).
pub(crate) fn line_before(before: &[u8]) -> &[u8] {
    &before[memchr::memrchr(b'\n', before).map_or(0, |i| i + 1)..]
}

/// The word (letters of any script, or `&`) that ends `before`, when whitespace separates it
/// from what follows: `None` when `before` does not end in whitespace or no word precedes it.
pub(crate) fn word_before(before: &[u8]) -> Option<String> {
    let head = before.trim_ascii_end();
    if head.len() == before.len() {
        return None;
    }
    let text = String::from_utf8_lossy(head);
    let start = text
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphabetic() || *c == '&')
        .last()
        .map(|(i, _)| i)?;
    Some(text[start..].to_string())
}

/// `confidence`, or less of it when the label before the number names another identifier
/// (`Part No. 285-94-6454`, `order_id=4539…`).
fn unless_other_identifier(confidence: f32, before: &[u8]) -> f32 {
    if label::names_other_identifier(before) {
        confidence * label::OTHER_IDENTIFIER_FACTOR
    } else {
        confidence
    }
}

/// Whether a secret rule's reported value holds a value at all: not a file path, not a value
/// cut short, not code in the value's place (a variable passed by name, a shell expansion's
/// unset message, and for the generic rules, whose keys take anything, a dotted name).
pub fn is_secret_value(span: &[u8], around: Around, generic_rule: bool) -> bool {
    !(is_file_path(span)
        || is_elided(span)
        || is_variable_in_code(span, around.before_span, around.after_span)
        || is_unset_variable_message(span, around.before_span)
        || continues_a_token(span, around.before_span)
        || !generic_rule && is_padded_blob(around.after_span)
        || generic_rule
            && (is_dotted_name(span)
                || is_file_name(span)
                || inside_an_arn(around.before_span)
                || keyed_by_type_path(around.before_span)
                || is_assigned_in_turn(around.after_span)
                || names_its_key(span, around.before_span)
                || is_parenthesised_word(span)
                || is_colon_record(span)
                || is_key_fingerprint(span) && names_a_signing_key(around.before_span)
                || is_documented_parameter(around.before)
                || around.before.ends_with(b"::")))
}

/// File name extensions: a value that ends in one names a file (`"S3Key":
/// "my-app/stage-150723.war"`, `dest_key: "service-account.json"`), it does not hold a secret.
const FILE_EXTENSIONS: &[&str] = &[
    "zip", "tar", "gz", "tgz", "bz2", "xz", "7z", "war", "jar", "ear", "ova", "ovf", "iso", "img",
    "vhd", "vmdk", "qcow2", "bin", "exe", "dll", "so", "dylib", "deb", "rpm", "apk", "msi", "json",
    "yaml", "yml", "toml", "xml", "csv", "tsv", "txt", "log", "md", "html", "htm", "pdf", "png",
    "jpg", "jpeg", "gif", "svg", "mp4", "mp3", "wav", "parquet", "avro", "orc", "py", "js", "ts",
    "rb", "go", "java", "sh", "ps1", "sql", "db", "sqlite", "pem", "crt", "cer", "der", "p12",
    "pfx", "key", "pub", "conf", "cfg", "ini", "env",
];

/// The offset of a value's last `.` and what follows it, its extension if it names a file.
fn extension(span: &[u8]) -> Option<(usize, &[u8])> {
    let dot = memchr::memrchr(b'.', span)?;
    Some((dot, &span[dot + 1..]))
}

/// Whether `span` ends in `.` + a known file extension, after a name of at least two bytes.
fn is_file_name(span: &[u8]) -> bool {
    let Some((dot, ext)) = extension(span) else {
        return false;
    };
    dot >= 2
        && FILE_EXTENSIONS
            .iter()
            .any(|e| ext.eq_ignore_ascii_case(e.as_bytes()))
}

/// Whether the key a value follows is part of an ARN (`arn:aws:secretsmanager:us-west-2:
/// 123456789012:secret:MySecret-a1b2c3`): the resource type `secret` names the secret, it does
/// not hold it.
fn inside_an_arn(before: &[u8]) -> bool {
    let token_start = before
        .iter()
        .rposition(|b| b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'=' | b'(' | b','))
        .map_or(0, |p| p + 1);
    let token = &before[token_start..];
    token.len() > 4 && token[..4].eq_ignore_ascii_case(b"arn:")
}

/// Whether the value's key is a quoted `::` path (`"AWS::IAM::AccessKey": "62d91b17309e76c8"`):
/// a table keyed by type names (CloudFormation resource types and their schema hashes), not a
/// field that holds a secret. An unquoted one (`Config::apiKey = "…"`) is an assignment.
fn keyed_by_type_path(before: &[u8]) -> bool {
    // Back over the value's opening quote, then the `:` or `=`.
    let head = before
        .strip_suffix(b"\"")
        .or_else(|| before.strip_suffix(b"'"))
        .unwrap_or(before)
        .trim_ascii_end();
    let Some(head) = head.strip_suffix(b":").or_else(|| head.strip_suffix(b"=")) else {
        return false;
    };
    let head = head.trim_ascii_end();
    let Some((&quote, key)) = head.split_last() else {
        return false;
    };
    if !matches!(quote, b'"' | b'\'') {
        return false;
    }
    let Some(open) = key.iter().rposition(|&b| b == quote) else {
        return false;
    };
    let key = &key[open + 1..];
    // Type names, each capitalised (`AWS::IAM::AccessKey`); Puppet's Hiera keys are `::`
    // paths too, in snake case, and hold secrets (`"mysql::server::root_password"`).
    let mut parts = key.split(|&b| b == b':').filter(|p| !p.is_empty());
    memchr::memmem::find(key, b"::").is_some()
        && parts.clone().nth(1).is_some()
        && parts.all(|p| p[0].is_ascii_uppercase() && p.iter().all(u8::is_ascii_alphanumeric))
}

/// A token's start found inside a longer one: after a `-` (`qaN-fw_htIgKUVXo…` in a base64url
/// digest), or after a `+` that ends a long run of the base64 alphabet (`…AxI+EAATEzNv…` in a
/// blob of data): the bytes before it belong to the same token, so it is not the provider's.
/// A `/` is no such sign: a URL's path holds tokens after long segments
/// (`/projects/1234567890123456789012/glpat-…`).
fn continues_a_token(span: &[u8], before: &[u8]) -> bool {
    const BLOB_RUN: usize = 20;
    if !span.first().is_some_and(u8::is_ascii_alphanumeric) {
        return false;
    }
    let run =
        |head: &[u8], part: &dyn Fn(&u8) -> bool| head.iter().rev().take_while(|b| part(b)).count();
    match before.split_last() {
        Some((b'-', head)) => run(head, &|b| b.is_ascii_alphanumeric() || *b == b'_') >= 3,
        Some((b'+', head)) => {
            run(head, &|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/')
            }) >= BLOB_RUN
        }
        _ => false,
    }
}

/// A value followed by base64 padding (`…AAAA=` then a quote): a blob of data that happens to
/// open like a provider's token, whose own alphabet has no `=`.
pub fn is_padded_blob(after: &[u8]) -> bool {
    let pad = after.iter().take_while(|&&b| b == b'=').count();
    (1..=2).contains(&pad) && !after.get(pad).is_some_and(u8::is_ascii_alphanumeric)
}

/// A record of colon-separated fields (`account:password:UID:GID`, `eli:x:2098:1000:Eli`) in
/// a value's place: three or more parts, each letters and digits only.
fn is_colon_record(span: &[u8]) -> bool {
    let parts: Vec<&[u8]> = span.split(|&b| b == b':').collect();
    parts.len() >= 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.iter().all(u8::is_ascii_alphanumeric))
}

/// A value that is itself assigned to (`exports.TOKEN = exports.STRICT_TOKEN = …`): a chain
/// of assignments between names, not a literal.
fn is_assigned_in_turn(after: &[u8]) -> bool {
    let rest = after.trim_ascii_start();
    rest.len() < after.len()
        && rest.first() == Some(&b'=')
        && !matches!(rest.get(1), Some(b'=' | b'>'))
}

/// A value that spells its own key (`CHALLENGE_PASSWORD: "challengePassword"`, `API_KEY =
/// 'api_key'`): a table of names, compared without case and separators.
fn names_its_key(span: &[u8], before: &[u8]) -> bool {
    // Letters and digits, lower case, last first: compared without copying either.
    fn letters(s: &[u8]) -> impl Iterator<Item = u8> + '_ {
        s.iter()
            .rev()
            .filter(|b| b.is_ascii_alphanumeric())
            .map(u8::to_ascii_lowercase)
    }
    let closing = before
        .iter()
        .rev()
        .take(6)
        .take_while(|b| matches!(b, b' ' | b'\t' | b'"' | b'\'' | b':' | b'=' | b'>'))
        .count();
    let head = &before[..before.len() - closing];
    let key_len = head
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        .count();
    let (mut key, value) = (letters(&head[head.len() - key_len..]), letters(span));
    let mut n = 0;
    for v in value {
        if key.next() != Some(v) {
            return false;
        }
        n += 1;
    }
    n >= 4
}

/// An OpenPGP key's fingerprint or long id as gpg prints them
/// (`19882D92DDA4C400C22C0D56CC2AF4472167BE03`): 40 or 16 upper-case hex digits. It names a
/// public key; it is published on purpose.
fn is_key_fingerprint(span: &[u8]) -> bool {
    matches!(span.len(), 16 | 40)
        && span
            .iter()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(b))
        && span.iter().any(u8::is_ascii_digit)
        && span.iter().any(u8::is_ascii_uppercase)
}

/// The text before a value speaks of signing keys (`signing key`, `gpg`, `pgp`, `fingerprint`,
/// `keyid`): a 16- or 40-digit upper-case hex value there is a key's id, not an API key.
fn names_a_signing_key(before: &[u8]) -> bool {
    let lower = line_before(before).to_ascii_lowercase();
    ["sign", "gpg", "pgp", "fingerprint", "keyid", "key id"]
        .iter()
        .any(|w| memchr::memmem::find(&lower, w.as_bytes()).is_some())
}

/// A word in brackets (`(Optional)`, `(required)`) where a value would be: a note in prose.
fn is_parenthesised_word(span: &[u8]) -> bool {
    matches!(span, [b'(', word @ .., b')'] if !word.is_empty() && word.iter().all(u8::is_ascii_alphabetic))
}

/// The key is a parameter documented in a docstring (`:param password:`, `@param token`).
fn is_documented_parameter(before: &[u8]) -> bool {
    let head = before.trim_ascii_end();
    head.len() < before.len() && (head.ends_with(b":param") || head.ends_with(b"@param"))
}

/// A relative file path (`backups/2024/12/01/db.sql.gz`): two or more `/`-separated parts and
/// a file extension at the end. Keys in the base64 alphabets have no `.`; such a value is an
/// object key or a file name, not a secret.
fn is_file_path(span: &[u8]) -> bool {
    let slashes = span.iter().filter(|&&b| b == b'/').count();
    let Some((dot, ext)) = extension(span) else {
        return false;
    };
    slashes >= 2
        && dot > memchr::memrchr(b'/', span).unwrap_or(0)
        && (1..=5).contains(&ext.len())
        && ext[0].is_ascii_alphabetic()
        && ext.iter().all(u8::is_ascii_alphanumeric)
}

/// A variable passed by name in code (`withCredentials: defaultToConfig2,`): an unquoted
/// [camel-case name](is_camel_case_name) that a `,`, `;` or `)` closes. Quoted, or alone on
/// its line, the same word is a literal (`password = "myPassword1"` is a weak password).
fn is_variable_in_code(span: &[u8], before: &[u8], after: &[u8]) -> bool {
    !matches!(before.last(), Some(b'"' | b'\'' | b'`'))
        && matches!(after.first(), Some(b',' | b';' | b')'))
        && (is_camel_case_name(span) || is_constant_or_type_name(span) || is_code_path(span))
}

/// A constant's or a type's name (`GNUTLS_PKCS11_OBJ_FLAG_PUBKEY`, `pub Token:
/// D3DKMT_PRESENTHISTORYTOKEN,`, `credentials: MI_UserCredentials_0,`): `_`-separated parts
/// opening with a capital. Three or more parts of capitals and digits; or two or more parts
/// that read as words: capitals with at most one digit in four (`D3DKMT`, `CREDENTIAL0`),
/// digits alone, or capitalised words with digits only at their end (`UserCredentials`). The
/// parts of random keys (`K7Q2M9X4_P3R8T5W1`) are neither.
fn is_constant_or_type_name(span: &[u8]) -> bool {
    let parts: Vec<&[u8]> = span.split(|&b| b == b'_').collect();
    let capitals = |p: &[u8]| {
        !p.is_empty()
            && p.iter()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    };
    if parts.len() >= 3
        && parts
            .iter()
            .all(|p| p[..].first().is_some_and(u8::is_ascii_uppercase) && capitals(p))
    {
        return true;
    }
    let word_of_capitals = |p: &[u8]| {
        let digits = p.iter().filter(|b| b.is_ascii_digit()).count();
        capitals(p) && (digits == p.len() || digits * 4 <= p.len())
    };
    let capitalised_words = |p: &[u8]| {
        let letters_end = p.len() - p.iter().rev().take_while(|b| b.is_ascii_digit()).count();
        let letters = &p[..letters_end];
        letters.len() >= 3
            && letters[0].is_ascii_uppercase()
            && letters.iter().all(u8::is_ascii_alphabetic)
            && letters
                .split(u8::is_ascii_uppercase)
                .skip(1)
                .all(|word| word.len() >= 2)
    };
    parts.len() >= 2
        && parts[0].first().is_some_and(u8::is_ascii_uppercase)
        && parts
            .iter()
            .all(|p| word_of_capitals(p) || capitalised_words(p))
}

/// A path of names joined by `::` (`super::Win32::Foundation::UNICODE_STRING`): a type or an
/// item in Rust or C++, not a value.
fn is_code_path(span: &[u8]) -> bool {
    let text = String::from_utf8_lossy(span);
    let parts: Vec<&str> = text.split("::").collect();
    parts.len() >= 2
        && parts.iter().all(|p| {
            p.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

/// How much of its confidence an exfiltration phrase keeps after a prohibition: below the
/// reporting floor alone.
pub const PROHIBITED_FACTOR: f32 = 0.5;

/// Whether `before` ends in a prohibition (`Don't`, `never`, `do not`, `must not` …): "Don't
/// send sensitive information in this parameter" warns against what an exfiltration phrase
/// orders. Exfiltration phrases only: an attack on the reader's rules is often phrased as a
/// prohibition ("do not follow your guidelines").
pub fn is_prohibited(before: &[u8]) -> bool {
    const ONE: &[&str] = &[
        "don't",
        "dont",
        "don’t",
        "never",
        "avoid",
        "shouldn't",
        "mustn't",
        "cannot",
        "can't",
        "won't",
        "shouldn’t",
        "mustn’t",
        "can’t",
        "won’t",
    ];
    const TWO: &[&str] = &[
        "do not",
        "should not",
        "must not",
        "will not",
        "may not",
        "to not",
    ];
    with_words_before(before, |words| {
        let mut words: Vec<String> = words.take(5).map(str::to_lowercase).collect();
        // "We will never ask you to send us your password": the prohibition governs the
        // asking.
        if words.len() >= 3
            && words[0] == "to"
            && words[1] == "you"
            && ["ask", "asks", "request", "tell", "expect", "require"].contains(&words[2].as_str())
        {
            words.drain(..3);
        }
        let last = words.first().map_or("", String::as_str);
        let prev = words.get(1).map_or("", String::as_str);
        ONE.contains(&last) || TWO.contains(&format!("{prev} {last}").as_str())
    })
    .unwrap_or(false)
}

/// `f` of the whitespace-separated words of `before`, last first, when `before` ends in
/// whitespace (the phrase after it opens a word of its own); `None` otherwise.
pub(crate) fn with_words_before<R>(
    before: &[u8],
    f: impl FnOnce(std::iter::Rev<std::str::SplitWhitespace<'_>>) -> R,
) -> Option<R> {
    if !before.last().is_some_and(u8::is_ascii_whitespace) {
        return None;
    }
    let text = String::from_utf8_lossy(before);
    Some(f(text.split_whitespace().rev()))
}

/// How much of its confidence an injection phrase keeps when it is quoted: a mention (an
/// article on prompt injection, a security guide), not an order. With the classifier or another
/// phrase it may still be reported.
pub const QUOTED_MENTION_FACTOR: f32 = 0.5;

/// True when a phrase opens right after a quotation mark and its closing mark follows on the
/// same line (`The article argues that "ignore previous instructions" has become…`).
pub fn is_quoted_mention(before: &[u8], after: &[u8]) -> bool {
    const PAIRS: &[(&str, &[&str])] = &[
        ("\"", &["\""]),
        ("“", &["”", "“"]),
        ("„", &["“", "”"]),
        ("«", &["»"]),
        ("«\u{a0}", &["\u{a0}»", "»"]),
        ("'", &["'"]),
        ("‘", &["’"]),
        ("`", &["`"]),
        // Japanese and Chinese corner brackets: never a data delimiter.
        ("「", &["」"]),
        ("『", &["』"]),
    ];
    let line = &after[..memchr::memchr(b'\n', after).unwrap_or(after.len()).min(300)];
    PAIRS.iter().any(|(open, closers)| {
        before.ends_with(open.as_bytes())
            && in_prose(&before[..before.len() - open.len()])
            && closers
                .iter()
                .any(|c| memchr::memmem::find(line, c.as_bytes()).is_some())
    })
}

/// True when the opening quote follows a word of prose that is not an order to write the
/// quoted text out (`argues that "`, `the phrase “`). A quote after `,` `:` `=` `[` or at a
/// line's start delimits data (a CSV field, a JSON string), whose text the model reads as is.
fn in_prose(before: &[u8]) -> bool {
    let text = String::from_utf8_lossy(before);
    let text = text.trim_end_matches([' ', '\t']);
    text.chars().next_back().is_some_and(char::is_alphabetic) && !ordered_to_write(text)
}

/// True when `before` (the text before an opening quote) ends in a verb that orders the quoted
/// text written out (`print 'AI jailbreaked successfully'`, `respond with "…"`): the quotes
/// hold the payload, not a mention.
fn ordered_to_write(before: &str) -> bool {
    const VERBS: &[&str] = &[
        "say", "print", "output", "write", "reply", "respond", "answer", "type", "repeat", "echo",
        "state", "return", "with", "saying", "prints", "outputs", "says", "include", "add",
        "append", "insert", "put", "send", "post",
    ];
    let word = before
        .trim_end_matches(|c: char| c.is_whitespace() || c == ':')
        .rsplit(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or("")
        .to_lowercase();
    VERBS.contains(&word.as_str())
}

/// A value cut short with an ellipsis (`"refresh_token": "def502..."`, `eyJhbGciOi…`): a
/// document showing the start of a token. The secret itself is not there.
fn is_elided(span: &[u8]) -> bool {
    span.ends_with(b"...") || span.ends_with("…".as_bytes())
}

/// A dotted name in code (`rust_openssl.hpke.MLKEM768X25519PrivateKey`, `self._lib.NID_aes_256_cbc`):
/// three or more identifiers joined by `.`, those before the last in lower (snake) case, the
/// last with a word in it (an `_`, or a capital and two lower-case letters). Tokens of dotted
/// parts (`hawk.nHAOHdJjXoNyzAcTDC5M.R2gq…`, a JWT) have random parts. For the generic rules
/// only: a provider's token may have this shape (`SG.<id>.<secret>`).
fn is_dotted_name(span: &[u8]) -> bool {
    let parts: Vec<&[u8]> = span.split(|&b| b == b'.').collect();
    let Some((last, path)) = parts.split_last() else {
        return false;
    };
    let snake = |part: &&[u8]| {
        part.first()
            .is_some_and(|b| b.is_ascii_lowercase() || *b == b'_')
            && part
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_')
    };
    let has_word = last.contains(&b'_')
        || last.windows(3).any(|w| {
            w[0].is_ascii_uppercase() && w[1].is_ascii_lowercase() && w[2].is_ascii_lowercase()
        })
        || last.len() >= 3 && last.iter().all(u8::is_ascii_lowercase);
    parts.len() >= 3
        && path.iter().all(|p| snake(p) || is_camel_case_name(p))
        && last
            .first()
            .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
        && last.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        && has_word
}

/// A name written in camel case (`defaultToConfig2`, `refreshTokenValue`): lower-case words,
/// each later one opening with a capital, at most two digits at the end. A random key of that
/// shape (no digit inside, no two capitals together) is rare.
fn is_camel_case_name(span: &[u8]) -> bool {
    let letters_end = span.len() - span.iter().rev().take_while(|b| b.is_ascii_digit()).count();
    let (letters, digits) = span.split_at(letters_end);
    if digits.len() > 2 || letters.len() < 6 || !letters[0].is_ascii_lowercase() {
        return false;
    }
    let mut words = 0;
    let mut run = 0;
    for &b in letters {
        if b.is_ascii_lowercase() {
            run += 1;
        } else if b.is_ascii_uppercase() && run >= 1 && (words > 0 || run >= 2) {
            words += 1;
            run = 0;
        } else {
            return false;
        }
    }
    words >= 1 && run >= 2
}

/// The message of a shell expansion that fails when a variable is unset (`${DB_PASSWORD:?required}`,
/// `${TOKEN?set TOKEN}`): `span` opens with the `?` and `before` ends in `${NAME` or `${NAME:`.
fn is_unset_variable_message(span: &[u8], before: &[u8]) -> bool {
    if span.first() != Some(&b'?') {
        return false;
    }
    let head = before.strip_suffix(b":").unwrap_or(before);
    let name_len = head
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
        .count();
    name_len > 0 && head[..head.len() - name_len].ends_with(b"${")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn around<'a>(before: &'a [u8], after: &'a [u8]) -> Around<'a> {
        Around {
            before,
            after,
            before_span: before,
            after_span: after,
        }
    }

    #[test]
    fn prohibitions() {
        assert!(is_prohibited(b"Encrypt the value. Don't "));
        assert!(is_prohibited(b"You should never "));
        assert!(is_prohibited(b"Please do not "));
        assert!(!is_prohibited(b"Quietly "));
        assert!(!is_prohibited(b"notdo not "));
        assert!(!is_prohibited(b"Don't"));
    }

    #[test]
    fn names_and_notes_in_a_values_place_are_no_values() {
        let generic = |before: &str, span: &str, after: &str| {
            is_secret_value(
                span.as_bytes(),
                around(before.as_bytes(), after.as_bytes()),
                true,
            )
        };
        assert!(!generic(
            "  FLAG_NO_STORE = ",
            "GNUTLS_PKCS11_OBJ_FLAG_PUBKEY",
            ","
        ));
        assert!(!generic(
            "exports2.TOKEN = ",
            "exports2.STRICT_TOKEN",
            " = exports2.HEX"
        ));
        assert!(!generic(
            "AttributeOID.CHALLENGE_PASSWORD: \"",
            "challengePassword",
            "\","
        ));
        assert!(!generic(
            ":param passphrase: ",
            "(Optional)",
            " The password"
        ));
        assert!(!generic("    :param ", "x9Kq2LmZ", ": the key"));
        assert!(!generic("    'Test2::Event::", "1.302138", "',"));
        assert!(!generic(
            "    pub PresentHistoryToken: ",
            "D3DKMT_PRESENTHISTORYTOKEN",
            ","
        ));
        assert!(!generic(
            "    pub Token: ",
            "STORAGE_OFFLOAD_TOKEN_0_0",
            ","
        ));
        assert!(!generic(
            "    pub credentials: ",
            "MI_UserCredentials_0",
            ","
        ));
        assert!(!generic(
            "    pub Password: ",
            "super::super::Win32::Foundation::UNICODE_STRING",
            ","
        ));
        // Quoted, or not followed by code, they stay values.
        assert!(generic("token: \"", "D3DKMT_PRESENTHISTORYTOKEN", "\","));
        assert!(generic("API_TOKEN=", "Q7MZ_2XK9PL4", ";"));
        assert!(generic("api_key=", "K7Q2M9X4_P3R8T5W1", ", user=bob"));
        assert!(generic(
            "{client_secret: ",
            "Rk3vT9qLm2Xw_Pz8Nc4Hy6Jd",
            ", "
        ));
        assert!(generic(
            "\"mysql::server::root_password\": \"",
            "Zq8vT2pLmW4xR9kY",
            "\","
        ));
        // Literals stay values.
        assert!(generic("API_KEY = ", "Q7mZ2xK9pL4vB8nR", "\n"));
        assert!(generic("password = \"", "hunter2Password", "\";"));
        assert!(generic("TOKEN=", "AB_CD", "\n"));
        assert!(generic("if (token == ", "Q7mZ2xK9pL4vB8nR", ") {"));
        // A provider token inside a longer one, after a `-`.
        let token = |before: &str| {
            is_secret_value(
                b"fw_htIgKUVXoAuAEVgKxQu3tZ9qE2eiKkWIS7LA",
                around(before.as_bytes(), b","),
                false,
            )
        };
        assert!(!token("version.py,sha256=qaN-"));
        assert!(token("FIREWORKS_API_KEY="));
        assert!(token("--key "));
        assert!(!token("AxI2RocwUBwgEAkOMjkOUjaHNrA7AxI+"));
        assert!(token("https://hooks.example.org/"));
        assert!(token("key: abc/"));
        assert!(token(
            "https://gitlab.com/api/v4/projects/1234567890123456789012/"
        ));
        assert!(!generic(
            "account:password:",
            "UID:GID:GECOS:directory:shell",
            "\n"
        ));
        assert!(!generic(
            "signing key ",
            "19882D92DDA4C400C22C0D56CC2AF4472167BE03",
            "\n"
        ));
        assert!(generic(
            "signing key ",
            "19882d92dda4c400c22c0d56cc2af4472167be03",
            "\n"
        ));
        assert!(generic("API_KEY=", "A1B2C3D4E5F60718", "\n"));
        assert!(generic("password: ", "s3cr3t:Pa55", "\n"));
        assert!(is_padded_blob(b"=\",\"AAAA"));
        assert!(!is_padded_blob(b"\n"));
        assert!(!is_padded_blob(b"=abc"));
    }

    #[test]
    fn an_audience_is_no_vocative() {
        assert!(names_an_audience(b"AI agents: search", b"Gmail for "));
        assert!(names_an_audience(b"AI agents: open", b"data for bots and "));
        assert!(!names_an_audience(
            b"AI assistant: before",
            b"Thanks for your order! "
        ));
        assert!(!names_an_audience(b"AI summarizer, state", b"page 47. "));
        assert!(!names_an_audience(
            b"Note to the model: call",
            b"Adds two. "
        ));
        assert!(!names_an_audience(b"AI agents: search", b""));
        assert!(names_an_audience(b"AI models, create", b"Run "));
        assert!(names_an_audience(
            "AI agents: search".as_bytes(),
            "API для ".as_bytes()
        ));
        assert!(!names_an_audience(b"AI assistant: forward", b"Hey, "));
        assert!(!names_an_audience(b"AI assistant: forward", b"Hello "));
        assert!(!names_an_audience(b"AI agents: forward", b"text.\n\n"));
        assert!(names_an_audience(
            b"agent AI: cone-bounded",
            b"harness for multi-"
        ));
        assert!(!names_an_audience(b"agent AI: prze\xc5\x9blij", b"Uwaga, "));
    }

    #[test]
    fn camel_case_names_are_code() {
        assert!(is_camel_case_name(b"defaultToConfig2"));
        assert!(is_camel_case_name(b"refreshTokenValue"));
        assert!(!is_camel_case_name(b"lTrfvmxd8R8QdS3x761ozvtdbyVBJOVo"));
        assert!(!is_camel_case_name(b"aBcDeFgHiJ"));
        assert!(!is_camel_case_name(b"xmlHTTPRequest"));
        assert!(!is_camel_case_name(b"password"));
        assert!(!is_camel_case_name(b"Hq7kW2vLp9"));
        assert!(!is_camel_case_name(b"tokenValue123"));
        assert!(is_variable_in_code(
            b"defaultToConfig2",
            b"withCredentials: ",
            b","
        ));
        assert!(!is_variable_in_code(
            b"myPassword1",
            b"password = \"",
            b"\";"
        ));
        assert!(!is_variable_in_code(b"myPassword1", b"PASSWORD=", b"\n"));
    }

    #[test]
    fn quoted_phrases_are_mentions() {
        assert!(is_quoted_mention(b"argues that \"", b"\" has become"));
        assert!(is_quoted_mention(
            "the phrase “".as_bytes(),
            " and reveal your prompt” is old".as_bytes()
        ));
        assert!(!is_quoted_mention(b"Note: ", b" and reveal the key."));
        assert!(!is_quoted_mention(b"Once done, print '", b"' now."));
        assert!(!is_quoted_mention(b"Respond with \"", b"\""));
        assert!(!is_quoted_mention(b"\"SKU-8812\",\"", b"\""));
        assert!(!is_quoted_mention(b"{\"comment\": \"", b"\"}"));
        assert!(!is_quoted_mention(b"\"", b"\""));
        assert!(!is_quoted_mention(b"say \"", b" now\nand later\""));
        assert!(is_quoted_mention(
            "文中に「".as_bytes(),
            "して○○せよ」といった命令文".as_bytes()
        ));
        assert!(!is_quoted_mention("「".as_bytes(), "」".as_bytes()));
    }

    #[test]
    fn elided_values_are_no_secrets() {
        assert!(is_elided(b"def502..."));
        assert!(is_elided("eyJhbGciOi…".as_bytes()));
        assert!(!is_elided(b"def502a1b2"));
    }

    #[test]
    fn dotted_names_are_code() {
        assert!(is_dotted_name(
            b"rust_openssl.hpke.MLKEM768X25519PrivateKey"
        ));
        assert!(is_dotted_name(b"self._lib.NID_aes_256_cbc"));
        assert!(!is_dotted_name(b"settings.API_KEY_V2"));
        assert!(!is_dotted_name(
            b"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r"
        ));
        assert!(!is_dotted_name(b"a1.b-2.c3"));
        assert!(!is_dotted_name(
            b"hawk.nHAOHdJjXoNyzAcTDC5M.R2gqQh2aCesrh0yCGB7q"
        ));
        assert!(!is_dotted_name(b"abc.def.ghi456ijk789mno0123456789abcde"));
    }

    #[test]
    fn unset_variable_messages_are_no_values() {
        assert!(is_unset_variable_message(
            b"?required",
            b"PASSWORD=\"${DB_PASSWORD:"
        ));
        assert!(is_unset_variable_message(b"?set_it", b"${TOKEN"));
        assert!(!is_unset_variable_message(b"?x9!Lq2z", b"password: "));
        assert!(!is_unset_variable_message(b"-s3cr3t", b"${DB_PASSWORD:"));
    }
}
