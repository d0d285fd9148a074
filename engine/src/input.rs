//! Input validation before any rule runs: the byte cap and the control characters that have no
//! business in a message. Tab, newline, carriage return and form feed are text; ESC is allowed
//! when it starts an ANSI sequence (`ESC [` or `ESC ]`), so coloured tool output passes.

/// Default byte cap per text or message: 64 MiB.
pub const DEFAULT_MAX_BYTES: usize = 64 << 20;

/// Deepest nesting of arrays and objects a JSON document may have ([`Problem::TooDeep`]).
pub use crate::json::MAX_DEPTH as MAX_JSON_DEPTH;

/// The kind of the finding that reports [`Problem::TooDeep`].
pub const JSON_TOO_DEEP_KIND: &str = "json_too_deep";

/// A validation problem: what it is and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    TooLarge {
        len: usize,
        max: usize,
    },
    /// A JSON document nested deeper than `max` levels ([`crate::json::MAX_DEPTH`]), `len`
    /// bytes long.
    TooDeep {
        len: usize,
        max: usize,
    },
    ControlCharacter {
        at: usize,
        byte: u8,
    },
}

#[inline]
fn suspicious(b: u8) -> bool {
    (b < 0x20 && b != b'\t' && b != b'\n' && b != b'\r' && b != 0x0c) || b == 0x7f
}

fn is_ansi_escape(bytes: &[u8], at: usize) -> bool {
    bytes[at] == 0x1b && matches!(bytes.get(at + 1), Some(b'[') | Some(b']') | Some(b'('))
}

/// The first dangerous control character, if any. Scans 32 bytes at a time without branches
/// inside a chunk so the compiler vectorizes it; only a chunk that trips is looked at closely.
pub fn first_control_character(bytes: &[u8]) -> Option<usize> {
    const CHUNK: usize = 32;
    let mut base = 0;
    for chunk in bytes.chunks(CHUNK) {
        let hit = chunk.iter().fold(false, |acc, &b| acc | suspicious(b));
        if hit {
            for (i, &b) in chunk.iter().enumerate() {
                if suspicious(b) && !is_ansi_escape(bytes, base + i) {
                    return Some(base + i);
                }
            }
        }
        base += chunk.len();
    }
    None
}

/// Size first (cheap, and a too-large input is not read further), then control characters.
pub fn validate(bytes: &[u8], max_bytes: usize) -> Option<Problem> {
    if bytes.len() > max_bytes {
        return Some(Problem::TooLarge {
            len: bytes.len(),
            max: max_bytes,
        });
    }
    first_control_character(bytes).map(|at| Problem::ControlCharacter {
        at,
        byte: bytes[at],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ansi_colour_passes_nul_does_not() {
        assert_eq!(validate(b"\x1b[31mred\x1b[0m\tok\r\n", 100), None);
        assert_eq!(
            validate(b"abc\x00def", 100),
            Some(Problem::ControlCharacter { at: 3, byte: 0 })
        );
        assert_eq!(
            validate(b"a lone \x1b escape", 100),
            Some(Problem::ControlCharacter { at: 7, byte: 0x1b })
        );
        let long = [b'a'; 100];
        assert_eq!(
            validate(&long, 99),
            Some(Problem::TooLarge { len: 100, max: 99 })
        );
    }
}
