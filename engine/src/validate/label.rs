//! The label written just before a number (`Part No. 285-94-6454`, `order_id=4539…`,
//! `Tracking number: …`). A label that names a document, product or system identifier says the
//! digits are that identifier, not a social security, card or phone number that happens to
//! share their shape: such a finding is reported below the confidence floor.

/// Words that name an identifier which is no personal number. Compared in lower case against
/// the last word of the label, after the words that only say "number" ([`NUMBER_WORDS`]).
const OTHER_IDENTIFIERS: &[&str] = &[
    "part",
    "model",
    "serial",
    "order",
    "invoice",
    "ticket",
    "case",
    "tracking",
    "trace",
    "span",
    "request",
    "transaction",
    "txn",
    "patent",
    "catalog",
    "catalogue",
    "item",
    "sku",
    "lot",
    "batch",
    "docket",
    "confirmation",
    "shipment",
    "booking",
    "reservation",
    "correlation",
    "reference",
    "ref",
    "build",
    "product",
    "article",
    "asset",
    "isbn",
    "issue",
    "policy",
    "claim",
];

/// Words that only say "the number of": skipped before the naming word is compared.
const NUMBER_WORDS: &[&str] = &[
    "no",
    "nr",
    "num",
    "number",
    "id",
    "ident",
    "identifier",
    "code",
];

/// How much of a rule's confidence a number labelled as another identifier keeps: below the
/// default floor (0.5) for every numeric rule, still visible with `--min-confidence 0.4`.
pub const OTHER_IDENTIFIER_FACTOR: f32 = 0.5;

/// True when `before`, the text just before a number, ends in a label naming an identifier
/// that is no personal number: `Part No. `, `order_id=`, `"trackingNumber": "`, `Invoice #`.
/// Only the label's own line counts, and only when nothing but punctuation and spaces (at
/// most 6 bytes) separates it from the number.
pub fn names_other_identifier(before: &[u8]) -> bool {
    let line = super::line_before(before);
    let line = &line[line.len().saturating_sub(64)..];
    let gap = line
        .iter()
        .rev()
        .take_while(|b| b" \t:#=.\"'-_(".contains(b))
        .count();
    if gap > 6 {
        return false;
    }
    let label = &line[..line.len() - gap];
    if !ends_in_letter(label) {
        return false;
    }
    words_of(label)
        .iter()
        .rev()
        .find(|w| !NUMBER_WORDS.contains(&w.as_str()))
        .is_some_and(|w| OTHER_IDENTIFIERS.contains(&w.as_str()))
}

/// True when `text` ends in a letter: the label touches the gap before the number (`No.`,
/// `order_id`), not a digit or other token (`v2.1 `).
fn ends_in_letter(text: &[u8]) -> bool {
    text.last().is_some_and(u8::is_ascii_alphabetic)
}

/// The trailing words of `text` (letters only, lower case; `orderId` and `order_id` both give
/// `order`, `id`), up to the first byte that is neither a letter nor a separator of a label.
fn words_of(text: &[u8]) -> Vec<String> {
    let start = text
        .iter()
        .rposition(|b| !(b.is_ascii_alphabetic() || b" \t._-#:".contains(b)))
        .map_or(0, |i| i + 1);
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut prev_lower = false;
    for &b in &text[start..] {
        if b.is_ascii_alphabetic() {
            if b.is_ascii_uppercase() && prev_lower && !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            word.push(b.to_ascii_lowercase() as char);
            prev_lower = b.is_ascii_lowercase();
        } else {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            prev_lower = false;
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::names_other_identifier;

    #[test]
    fn identifier_labels() {
        for label in [
            "Part No. ",
            "order_id=",
            "Order ",
            "{\"trackingNumber\": \"",
            "Invoice #",
            "see ticket ",
            "SKU: ",
            "Patent No. ",
            "x-correlation-id: ",
        ] {
            assert!(names_other_identifier(label.as_bytes()), "{label}");
        }
    }

    #[test]
    fn personal_number_labels() {
        for label in [
            "SSN: ",
            "card number ",
            "Social Security No. ",
            "call me on ",
            "my order was paid with card ",
            "order v2 ",
            "the number of the order is the one on the ticket, and my SSN is ",
            "Order\n",
            "",
        ] {
            assert!(!names_other_identifier(label.as_bytes()), "{label:?}");
        }
    }
}
