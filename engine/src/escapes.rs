//! Control characters written as escapes (`\n`, `\r`, `\t`) in text that was never decoded: a
//! JSON log line scanned as text, a tool result whose text is itself JSON. After the letter
//! `n` of `\n` a rule sees no word boundary and no line start, so `…done\nAKIA…` would hide
//! the key, and a value's end before the `\` goes unseen. The view writes the escape as a
//! space and the control character it stands for: same length, same offsets, so findings map
//! back to the original bytes unchanged. JSON's escaped solidus (`\/`, which PHP writes in
//! every URL and in any value with a `/`) reads as `//` for the same reason: a rule's value
//! stopped at the `\`, and a password or key with a `/` in it was found only up to there.

use std::borrow::Cow;

/// `text` with every `\n`, `\r` and `\t` escape replaced by a space and that control
/// character, and every `\/` by `//` (`\\n`, an escaped backslash and a letter, is left
/// alone); borrowed when there is none.
pub fn with_escaped_controls(text: &[u8]) -> Cow<'_, [u8]> {
    let mut view: Option<Vec<u8>> = None;
    let mut from = 0;
    while let Some(i) = memchr::memchr(b'\\', &text[from..]).map(|i| from + i) {
        let replacement = match text.get(i + 1) {
            Some(b'n') => Some([b' ', b'\n']),
            Some(b'r') => Some([b' ', b'\r']),
            Some(b't') => Some([b' ', b'\t']),
            Some(b'/') => Some([b'/', b'/']),
            _ => None,
        };
        if let Some(r) = replacement {
            let view = view.get_or_insert_with(|| text.to_vec());
            view[i..i + 2].copy_from_slice(&r);
        }
        // The escape's second byte is never the start of another escape (`\\n`).
        from = i + 2;
        if from >= text.len() {
            break;
        }
    }
    view.map_or(Cow::Borrowed(text), Cow::Owned)
}

#[cfg(test)]
mod tests {
    use super::with_escaped_controls;

    #[test]
    fn escapes_become_control_characters_in_place() {
        let view = with_escaped_controls(br"done\nAKIA\tx\r");
        assert_eq!(&view[..], b"done \nAKIA \tx \r");
    }

    #[test]
    fn an_escaped_solidus_reads_as_two_slashes() {
        assert_eq!(
            &with_escaped_controls(br#"{"p":"Tr0ub4dor\/3xK9"}"#)[..],
            br#"{"p":"Tr0ub4dor//3xK9"}"#
        );
    }

    #[test]
    fn an_escaped_backslash_is_no_escape() {
        assert_eq!(
            &with_escaped_controls(br"C:\\new\\temp")[..],
            br"C:\\new\\temp"
        );
        assert_eq!(&with_escaped_controls(br"a\\\nb")[..], b"a\\\\ \nb");
    }

    #[test]
    fn text_without_escapes_is_borrowed() {
        assert!(matches!(
            with_escaped_controls(b"plain text"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert!(matches!(
            with_escaped_controls(br"trailing \"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
