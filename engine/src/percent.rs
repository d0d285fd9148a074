//! Tokens right after a percent-escaped delimiter, as URLs and URL-encoded logs carry them
//! (`state=x%3Dghp_…`, `Authorization: Bearer%20ghp_…`, `%22sk_live_…%22`). The escape's hex
//! digits touch the token, so a rule that opens with a word boundary sees none and the token
//! goes unfound in text the deep scan does not decode (log sweeps). These are the places to
//! look again with the escape's digits read as spaces.

/// Delimiters a token follows, as escapes: space, `"`, `&`, `'`, `,`, `/`, `:`, `;`, `=`,
/// `@`, tab, newline and carriage return (hex digits in upper or lower case).
fn is_delimiter_escape(hi: u8, lo: u8) -> bool {
    let (hi, lo) = (hi.to_ascii_uppercase(), lo.to_ascii_uppercase());
    matches!(
        (hi, lo),
        (b'2', b'0' | b'2' | b'6' | b'7' | b'C' | b'F')
            | (b'3', b'A' | b'B' | b'D')
            | (b'4', b'0')
            | (b'0', b'9' | b'A' | b'D')
    )
}

/// A token worth a second look runs at least this far: every provider prefix rule's token
/// does.
const MIN_TOKEN: usize = 16;

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

/// Where each token that follows a delimiter escape starts, and where its run of token bytes
/// ends (`[A-Za-z0-9_.-]`, at least 16 of them).
pub fn escaped_tokens(text: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(p) = memchr::memchr(b'%', &text[from..]).map(|i| from + i) {
        from = p + 1;
        let (Some(&hi), Some(&lo)) = (text.get(p + 1), text.get(p + 2)) else {
            break;
        };
        if !is_delimiter_escape(hi, lo) {
            continue;
        }
        let start = p + 3;
        let end = text[start..]
            .iter()
            .position(|&b| !is_token_byte(b))
            .map_or(text.len(), |n| start + n);
        if end - start >= MIN_TOKEN {
            out.push((start, end));
            from = end;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escaped_tokens;

    #[test]
    fn tokens_after_delimiter_escapes_only() {
        let text = b"GET /cb?state=x%3Dghp_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d&a=%2Fshort HTTP";
        assert_eq!(escaped_tokens(text), vec![(18, 58)]);
        // Not after an escape of a letter, nor a short run, nor a cut escape.
        assert!(escaped_tokens(b"%41ghp_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d").is_empty());
        assert!(escaped_tokens(b"a%20b%2").is_empty());
        assert_eq!(escaped_tokens(b"Bearer%20abcdefghijklmnop").len(), 1);
    }
}
