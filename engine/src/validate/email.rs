//! E-mail addresses. The `@` of a URL's user part (`ssh://git@github.com`,
//! `https://user:secret@example.com`) or of an scp-style remote (`git@github.com:acme/app.git`)
//! is not an address: git remotes and connection strings would otherwise fill every log with
//! "e-mail" findings.

/// `true` unless the match is the user part of a URL or of an scp-style remote, a file
/// name (`logo@2x.png`, `icon@3x.webp`: image sizes, not addresses), a mail's message
/// id (`Message-ID: <CAH4kL9x7q2@mail.gmail.com>`: a mail server's name for one message), a
/// calendar event's id (`UID:5kq2f1@google.com`, the same kind of name), or an address already
/// masked (`j***n@example.com`).
pub fn is_address(span: &[u8], before: &[u8], after: &[u8]) -> bool {
    !in_url_userinfo(before)
        && !is_scp_remote(after)
        && !is_file_name(span)
        && !is_message_id(before, after)
        && !is_calendar_uid(before)
        && !is_masked(span, before)
}

/// Whether the match is the value of an iCalendar `UID:` line (RFC 5545: a globally unique
/// name for an event, often written `id@host`).
fn is_calendar_uid(before: &[u8]) -> bool {
    super::line_before(before).eq_ignore_ascii_case(b"UID:")
}

/// Whether the local part holds a run of `*` (`j***n@…`, where the match may start after the
/// stars): an address masked for display.
fn is_masked(span: &[u8], before: &[u8]) -> bool {
    let local = span.split(|&b| b == b'@').next().unwrap_or_default();
    memchr::memmem::find(local, b"**").is_some() || before.ends_with(b"**")
}

/// Whether the match sits in `<…>` on a line that names a message-id header or field
/// (`Message-ID:`, `In-Reply-To:`, `References:`, `Content-ID:`, `"message_id":`).
fn is_message_id(before: &[u8], after: &[u8]) -> bool {
    const FIELDS: &[&[u8]] = &[
        b"messageid",
        b"msgid",
        b"inreplyto",
        b"references",
        b"contentid",
    ];
    if before.last() != Some(&b'<') || after.first() != Some(&b'>') {
        return false;
    }
    let line: Vec<u8> = super::line_before(before)
        .iter()
        .filter(|b| b.is_ascii_alphanumeric())
        .map(u8::to_ascii_lowercase)
        .collect();
    FIELDS
        .iter()
        .any(|f| memchr::memmem::find(&line, f).is_some())
}

/// Whether the "top-level domain" is a file extension no TLD uses.
fn is_file_name(span: &[u8]) -> bool {
    const EXTENSIONS: &[&[u8]] = &[
        b"png", b"jpg", b"jpeg", b"gif", b"svg", b"webp", b"avif", b"ico", b"bmp", b"tif", b"tiff",
        b"css", b"js", b"mjs", b"map", b"pdf", b"woff", b"woff2", b"ttf",
    ];
    let tld = span.rsplit(|&b| b == b'.').next().unwrap_or_default();
    EXTENSIONS.iter().any(|e| e.eq_ignore_ascii_case(tld))
}

/// `true` when `before`, the text just before a match, ends in `scheme://` followed only by
/// characters a URL's user part may hold (RFC 3986 `userinfo`).
fn in_url_userinfo(before: &[u8]) -> bool {
    let userinfo = |b: u8| b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=:".contains(&b);
    let start = before
        .iter()
        .rposition(|&b| !userinfo(b))
        .map_or(0, |i| i + 1);
    before[..start].ends_with(b"://")
}

/// `true` when `after`, the text just after a match, goes on as the path of an scp-style
/// remote: a `:` and then a path character, no space (`git@github.com:acme/app.git`).
fn is_scp_remote(after: &[u8]) -> bool {
    matches!(after, [b':', c, ..] if c.is_ascii_alphanumeric() || b"/~_.-".contains(c))
}

#[cfg(test)]
mod tests {
    use super::{
        in_url_userinfo, is_calendar_uid, is_file_name, is_masked, is_message_id, is_scp_remote,
    };

    #[test]
    fn a_calendar_uid_or_a_masked_address_is_not_an_address() {
        assert!(is_calendar_uid(b"BEGIN:VEVENT\r\nUID:"));
        assert!(is_calendar_uid(b"uid:"));
        assert!(!is_calendar_uid(b"ORGANIZER;CN=Maria:mailto:"));
        assert!(!is_calendar_uid(b"Contact UID: "));
        assert!(is_masked(b"j***n@example.com", b"to "));
        assert!(is_masked(b"n@example.com", b"to j***"));
        assert!(!is_masked(b"maria@example.com", b"to "));
        assert!(!is_masked(b"a*b@example.com", b"to "));
    }

    #[test]
    fn a_message_id_is_not_an_address() {
        assert!(is_message_id(b"Message-ID: <", b">\r\n"));
        assert!(is_message_id(b"References: <a1@lists.debian.org> <", b">"));
        assert!(is_message_id(b"{\"message_id\": \"<", b">\""));
        assert!(!is_message_id(b"To: Maria Lopez <", b">"));
        assert!(!is_message_id(b"Message-ID: <x@y>\nFrom: Maria <", b">"));
        assert!(!is_message_id(b"Message-ID: ", b" "));
    }

    #[test]
    fn an_image_size_is_not_an_address() {
        assert!(is_file_name(b"logo@2x.png"));
        assert!(is_file_name(b"hero-image@3x.WEBP"));
        assert!(!is_file_name(b"maria@northwind.com"));
    }

    #[test]
    fn the_user_part_of_a_url_is_not_an_address() {
        assert!(in_url_userinfo(b"clone ssh://"));
        assert!(in_url_userinfo(b"see https://public:"));
        assert!(in_url_userinfo(b"git+ssh://"));
    }

    #[test]
    fn an_scp_remote_is_not_an_address() {
        assert!(is_scp_remote(b":acme/widgets.git"));
        assert!(is_scp_remote(b":~/repos/app"));
        assert!(!is_scp_remote(b": he will reply"));
        assert!(!is_scp_remote(b":"));
        assert!(!is_scp_remote(b", thanks"));
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
