//! Checks that run after a pattern matched: checksums, issued ranges, structure, entropy and the
//! closed list of placeholder conventions. Each takes the reported bytes and says keep or drop.

mod checksum;
mod email;
mod entropy;
mod jwt;
mod numbers;
mod override_object;
mod password;
pub mod placeholder;

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
        ValidatorKind::OverrideObject => Some(override_object::override_confidence(
            span,
            around.after,
            confidence,
        )),
        ValidatorKind::EmailAddress => {
            email::is_address(span, around.before, around.after).then_some(confidence)
        }
        ValidatorKind::Luhn => (numbers::is_payment_card(span)
            && !numbers::in_number_row(span, around.before_span, around.after_span, 4))
        .then_some(confidence),
        ValidatorKind::Ssn => numbers::is_issued_ssn(span).then_some(confidence),
        ValidatorKind::Iban => numbers::is_valid_iban(span).then_some(confidence),
        ValidatorKind::Phone => (numbers::is_plausible_phone(span)
            && !numbers::plus_inside_token(span, around.before_span)
            && !numbers::in_number_row(span, around.before_span, around.after_span, 3))
        .then_some(confidence),
        ValidatorKind::LiteralValue => password::is_literal_value(span).then_some(confidence),
        ValidatorKind::Password => password::is_password_shaped(span).then_some(confidence),
        ValidatorKind::Jwt => jwt::is_jwt(span).then_some(confidence),
        ValidatorKind::UrlPassword => password::user_password_confidence(span, matched, confidence),
        // A token whose checksum holds is certainly real; one whose checksum fails still has
        // the provider's shape (documentation samples often do), so it is kept, less sure.
        ValidatorKind::Crc32Base62 => Some(if checksum::crc32_base62_ok(span) {
            confidence.max(0.99)
        } else {
            (confidence * 0.8).max(0.5)
        }),
    }
}

/// A relative file path (`backups/2024/12/01/db.sql.gz`): two or more `/`-separated parts and
/// a file extension at the end. Keys in the base64 alphabets have no `.`; such a value is an
/// object key or a file name, not a secret.
pub fn is_file_path(span: &[u8]) -> bool {
    let slashes = span.iter().filter(|&&b| b == b'/').count();
    let Some(dot) = memchr::memrchr(b'.', span) else {
        return false;
    };
    let ext = &span[dot + 1..];
    slashes >= 2
        && dot > memchr::memrchr(b'/', span).unwrap_or(0)
        && (1..=5).contains(&ext.len())
        && ext[0].is_ascii_alphabetic()
        && ext.iter().all(u8::is_ascii_alphanumeric)
}
