//! The closed list of placeholder conventions. A secret or PII match that is one of these is
//! documentation, not a leak: its confidence drops to [`PLACEHOLDER_CONFIDENCE`], below the
//! default reporting floor of 0.5. The list is short on purpose and is never grown from corpus
//! cases; each entry is a convention people write by hand:
//!
//! 1. the word `EXAMPLE`/`example`/`Example` inside the value (AWS's `AKIAIOSFODNN7EXAMPLE`
//!    style, `ExamplePreSharedKey1`);
//! 2. a run of four or more `x`/`X`/`*` (`sk_live_xxxxxxxx`, `****`);
//! 3. template references: `${…}`, `{{…}}`, `${{ secrets.X }}`, `%(name)s`;
//! 4. slots in angle or square brackets: `<your-key>`, `<TOKEN>`, `[password]`,
//!    `[secret_block]` (a name, not data, between the brackets);
//! 5. shell variable references: `$API_KEY`, `$env:TOKEN`;
//! 6. a value that starts with `your` + separator (`your-api-key-here`, `YOUR_TOKEN`);
//! 7. well-known test payment cards (Stripe's, Adyen's, Braintree's), the SSNs published as examples, and North American
//!    numbers 555-0100 to 555-0199 in any area code, which NANPA reserves for fiction;
//! 8. the sample token of the jwt.io debugger (its HS256 header and its claims `sub`
//!    1234567890, `name` John Doe, `iat` 1516239022), whatever signature follows;
//! 9. markers of a value kept encrypted elsewhere: Ansible Vault's `!vault`, SOPS's
//!    `ENC[AES256_GCM,…]` (the secret is not there);
//! 10. this tool's own redaction marker, `[REDACTED:<kind>]` or `[REDACTED]`: a sanitized copy
//!     (`scan --redact-to`) scanned again must come out clean.

pub const PLACEHOLDER_CONFIDENCE: f32 = 0.3;

const TEST_CARDS: &[&str] = &[
    "4111111111111111",
    "4242424242424242",
    "4012888888881881",
    "4222222222222",
    "4000056655665556",
    "5555555555554444",
    "5105105105105100",
    "5200828282828210",
    "2223003122003222",
    "378282246310005",
    "371449635398431",
    "378734493671000",
    "6011111111111117",
    "6011000990139424",
    "3056930009020004",
    "30569309025904",
    "38520000023237",
    "3530111333300000",
    "3566002020360505",
    "6200000000000005",
    // Stripe's published test cards for declines and 3-D Secure, Adyen's Visa test card.
    "4000000000000002",
    "4000000000009995",
    "4000000000000069",
    "4000000000000127",
    "4000002500003155",
    "4000000000003220",
    "4111111145551142",
    // Braintree's sandbox numbers (card types, networks and processor responses).
    "371260714673002",
    "371544868764018",
    "378267515471109",
    "4000111111111115",
    "4009348888881881",
    "4023898493988028",
    "4111111111111210",
    "4111111111112101",
    "4111111111121102",
    "4111111111131010",
    "4111111111310101",
    "4111111114101010",
    "4111111141010101",
    "4111111510101010",
    "4111161010101010",
    "4117101010101010",
    "4229989100000000",
    "4229989500000006",
    "4229989700000004",
    "4229989800000003",
    "4229989900000002",
    "4500600000000061",
    "5066991111111118",
    "6062820524845321",
    "6304000000000000",
    "6370950000000005",
];

const EXAMPLE_SSNS: &[&str] = &["123456789", "078051120", "219099999"];

/// Header and claims of the jwt.io sample token (item 8).
const JWT_IO_SAMPLE: &[u8] = b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.\
eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.";

fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

fn has_run(span: &[u8], set: &[u8], n: usize) -> bool {
    let mut run = 0;
    for b in span {
        if set.contains(b) {
            run += 1;
            if run >= n {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

/// True when `span` (the reported value) or the text just around it is a placeholder.
pub fn is_placeholder(span: &[u8]) -> bool {
    if span
        .windows(7)
        .any(|w| w == b"EXAMPLE" || w == b"example" || w == b"Example")
    {
        return true;
    }
    if is_square_bracket_slot(span) {
        return true;
    }
    if has_run(span, b"xX*", 4) {
        return true;
    }
    if span
        .windows(2)
        .any(|w| w == b"${" || w == b"{{" || w == b"%(")
        || (span.first() == Some(&b'<') && span.last() == Some(&b'>'))
    {
        return true;
    }
    if span.first() == Some(&b'$')
        && span[1..].iter().all(|b| {
            b.is_ascii_uppercase()
                || b.is_ascii_digit()
                || *b == b'_'
                || *b == b':'
                || b.is_ascii_lowercase()
        })
    {
        return true;
    }
    if span.len() > 5 && contains_ci(&span[..4], b"your") && matches!(span[4], b'-' | b'_' | b' ') {
        return true;
    }
    if memchr::memmem::find(span, JWT_IO_SAMPLE).is_some() {
        return true;
    }
    if span.starts_with(b"!vault") || span.starts_with(b"ENC[AES256_GCM") {
        return true;
    }
    if memchr::memmem::find(span, b"[REDACTED")
        .is_some_and(|at| matches!(span.get(at + 9), Some(b':' | b']')))
    {
        return true;
    }
    is_documented_number(span)
}

/// `[name]` with a name of letters, digits, `_`, `-` and spaces between the brackets (item 4).
fn is_square_bracket_slot(span: &[u8]) -> bool {
    let Some(inner) = span.strip_prefix(b"[").and_then(|s| s.strip_suffix(b"]")) else {
        return false;
    };
    inner.first().is_some_and(u8::is_ascii_alphabetic)
        && inner
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b' '))
}

/// Well-known test payment cards and the SSNs published as examples (item 7).
pub fn is_documented_number(span: &[u8]) -> bool {
    let digits: String = span
        .iter()
        .filter(|b| b.is_ascii_digit())
        .map(|&b| b as char)
        .collect();
    let only_digits_and_separators = span
        .iter()
        .all(|b| b.is_ascii_digit() || matches!(b, b' ' | b'-'));
    if only_digits_and_separators
        && (TEST_CARDS.contains(&digits.as_str()) || EXAMPLE_SSNS.contains(&digits.as_str()))
    {
        return true;
    }
    let phone_chars = span
        .iter()
        .all(|b| b.is_ascii_digit() || matches!(b, b' ' | b'-' | b'.' | b'+' | b'(' | b')'));
    let national = match digits.len() {
        11 if digits.starts_with('1') => &digits[1..],
        10 => &digits[..],
        _ => "",
    };
    phone_chars && national.len() == 10 && &national[3..6] == "555" && &national[6..8] == "01"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_closed_list() {
        assert!(is_placeholder(b"AKIAIOSFODNN7EXAMPLE"));
        assert!(is_placeholder(b"sk_live_xxxxxxxxxxxxxxxx"));
        assert!(is_placeholder(b"${{ secrets.NPM_TOKEN }}"));
        assert!(is_placeholder(b"<your-api-key>"));
        assert!(is_placeholder(b"[password]"));
        assert!(is_placeholder(b"[secret_block]"));
        assert!(is_placeholder(b"ExamplePreSharedKey1"));
        assert!(is_documented_number(b"+12065550100"));
        assert!(is_documented_number(b"(206) 555-0199"));
        assert!(!is_documented_number(b"(206) 555-0200"));
        assert!(!is_documented_number(b"+442065550100"));
        assert!(is_placeholder(b"$API_KEY"));
        assert!(is_placeholder(b"your-api-key-here"));
        assert!(is_placeholder(b"4111 1111 1111 1111"));
        assert!(is_placeholder(b"123-45-6789"));
        assert!(is_placeholder(
            b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9\
lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
        ));
        assert!(is_placeholder(b"!vault |"));
        assert!(is_placeholder(
            b"ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str]"
        ));
        assert!(is_placeholder(b"4000 0025 0000 3155"));
        assert!(is_placeholder(b"[REDACTED:pypi_token]"));
        assert!(is_placeholder(b"api:[REDACTED:password]"));
        assert!(is_placeholder(b"[REDACTED]"));
        assert!(!is_placeholder(b"UNREDACTEDx9Kq2"));
        // Only the marker itself: a secret that happens to contain the word is one.
        assert!(!is_placeholder(b"Zq8vT2pLmW4xR9kYREDACTED"));
        assert!(!is_placeholder(b"REDACTED:Zq8vT2pLmW4xR9kY"));
        assert!(!is_placeholder(b"ghp_Qm3kV9ZtR2xW8pLc4NbY7dFh1JsG6a0AbCdE"));
        assert!(!is_placeholder(b"4539 1488 0343 6467"));
        assert!(!is_placeholder(b"[Zq8v+T2pL/mW4xR9kY=]"));
    }
}
