//! The password of a connection URL (`postgres://user:password@host`). Documentation fills the
//! slot with its own name (`user:password@`, `USER:PASS@`) or repeats the user name
//! (`postgres:postgres@`, `guest:guest@`): those are not credentials. Any other value is, but one
//! of letters only (`user:secret@`) is a weaker sign than one with digits or symbols.

use super::numbers::is_slot_name;

/// How much a password of letters only keeps of the rule's confidence.
const LETTERS_ONLY: f32 = 0.75;

/// `None` when `password`, found in `matched`, is the slot's name or the user name again;
/// else the confidence to report it with.
pub fn url_password_confidence(password: &[u8], matched: &[u8], confidence: f32) -> Option<f32> {
    if is_slot_name(password) {
        return None;
    }
    if user_of(matched).is_some_and(|user| user.eq_ignore_ascii_case(password)) {
        return None;
    }
    let letters_only = password
        .iter()
        .all(|b| b.is_ascii_alphabetic() || matches!(b, b'_' | b'-'));
    Some(if letters_only {
        confidence * LETTERS_ONLY
    } else {
        confidence
    })
}

/// The user name of the first `://user:` in `matched`.
fn user_of(matched: &[u8]) -> Option<&[u8]> {
    let from = memchr::memmem::find(matched, b"://")? + 3;
    let rest = &matched[from..];
    let end = memchr::memchr(b':', rest)?;
    Some(&rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str, password: &str) -> Option<f32> {
        url_password_confidence(password.as_bytes(), url.as_bytes(), 0.8)
    }

    #[test]
    fn slot_names_and_repeated_user_names_are_not_passwords() {
        assert_eq!(
            check("postgresql://user:password@localhost", "password"),
            None
        );
        assert_eq!(check("mysql://ROOT:PASS@db", "PASS"), None);
        assert_eq!(
            check("postgres://postgres:postgres@localhost", "postgres"),
            None
        );
        assert_eq!(check("amqp://guest:Guest@mq", "Guest"), None);
    }

    #[test]
    fn letters_only_is_reported_less_sure() {
        let word = check("postgresql://app:secret@db.internal", "secret").unwrap();
        let mixed = check("postgresql://app:s3cr3t!x@db.internal", "s3cr3t!x").unwrap();
        assert!(word >= 0.5 && word < mixed, "{word} {mixed}");
    }
}
