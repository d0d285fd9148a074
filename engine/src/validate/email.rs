//! E-mail addresses. The `@` of a URL's user part (`ssh://git@github.com`,
//! `https://user:secret@example.com`) is not an address: git remotes and connection strings
//! would otherwise fill every log with "e-mail" findings.

/// `true` when `before`, the text just before a match, ends in `scheme://` followed only by
/// characters a URL's user part may hold (RFC 3986 `userinfo`).
pub fn in_url_userinfo(before: &[u8]) -> bool {
    let mut i = before.len();
    while i > 0 && is_userinfo(before[i - 1]) {
        i -= 1;
    }
    before[..i].ends_with(b"://")
}

fn is_userinfo(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'%'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
        )
}

#[cfg(test)]
mod tests {
    use super::in_url_userinfo;

    #[test]
    fn the_user_part_of_a_url_is_not_an_address() {
        assert!(in_url_userinfo(b"clone ssh://"));
        assert!(in_url_userinfo(b"see https://public:"));
        assert!(in_url_userinfo(b"git+ssh://"));
    }

    #[test]
    fn addresses_elsewhere_are_kept() {
        assert!(!in_url_userinfo(b""));
        assert!(!in_url_userinfo(b"mail "));
        assert!(!in_url_userinfo(b"mailto:"));
        assert!(!in_url_userinfo(b"https://example.com/contact?email="));
        assert!(!in_url_userinfo(b"https://example.com/u/"));
    }
}
