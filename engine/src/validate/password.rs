//! Password and other secret values: whether a value reads as a typed literal or a password at
//! all, and the password of a `user:password` pair (a connection URL, `curl -u`).
//! Documentation fills the slot with its own name (`user:password@`, `USER:PASS@`) or repeats
//! the user name (`postgres:postgres@`, `guest:guest@`): those are not credentials. Any other
//! value is, but one of letters only (`user:secret@`) is a weaker sign than one with digits or
//! symbols.

/// What people choose as passwords when made to: 8–64 characters, no spaces, at least three of
/// lower case, upper case, digits and symbols. Prose words after `password is` fail it.
pub fn is_password_shaped(span: &[u8]) -> bool {
    if !(8..=64).contains(&span.len()) || !is_literal_value(span) {
        return false;
    }
    let classes = [
        span.iter().any(u8::is_ascii_lowercase),
        span.iter().any(u8::is_ascii_uppercase),
        span.iter().any(u8::is_ascii_digit),
        span.iter().any(|b| b.is_ascii_punctuation()),
    ];
    classes.iter().filter(|&&c| c).count() >= 3
}

/// Names of a credential slot itself, compared ASCII case-insensitively: documentation fills
/// the slot with its own name (`DB_PASSWORD=password`, `user:PASS@host`, `curl -u
/// username:token`).
const SLOT_NAMES: &[&[u8]] = &[b"password", b"passwd", b"pass", b"pwd", b"pw", b"token"];

fn is_slot_name(value: &[u8]) -> bool {
    SLOT_NAMES.iter().any(|s| value.eq_ignore_ascii_case(s))
}

/// The word `password` (or `passwd`, either plural) as one part of a route, selector or label
/// (`#add-password`, `Password:`, `cms/sites/passwords#edit`): such a value names the field
/// instead of filling it. A password that merely contains the word (`Password1!`) does not.
fn names_the_slot(span: &[u8]) -> bool {
    let lower = span.to_ascii_lowercase();
    // `,` and `;` end code (`key_password=key_password,`: a variable passed on by name).
    let part_edge = |b: u8| matches!(b, b'-' | b'_' | b'/' | b'#' | b':' | b'.' | b',' | b';');
    [b"password".as_slice(), b"passwd"].iter().any(|word| {
        memchr::memmem::find_iter(&lower, word).any(|start| {
            let mut end = start + word.len();
            if lower.get(end) == Some(&b's') {
                end += 1;
            }
            let left = start == 0 || part_edge(lower[start - 1]);
            let right = end == lower.len() || part_edge(lower[end]);
            left && right && end - start < lower.len()
        })
    })
}

/// A value that reads as a typed literal rather than code or a reference: not an identifier
/// (`cms_user_password`, `env.APP_PASSWORD`), not a path or URL or ARN, not a UUID, not an
/// HTML-escaped slot (`&lt;PASSWORD&gt;`) nor a slot's own name (`password`, `#add-password`),
/// no whitespace, not opening with `,` or `;` (the code after a closing quote:
/// `"Password:",next:`).
pub fn is_literal_value(span: &[u8]) -> bool {
    if span.is_empty()
        || matches!(span[0], b',' | b';')
        || span.iter().any(|b| b.is_ascii_whitespace())
        || is_slot_name(span)
        || names_the_slot(span)
    {
        return false;
    }
    let identifier = span
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'.')
        && (span.contains(&b'_') || span.contains(&b'.'))
        && !span.iter().any(u8::is_ascii_digit);
    let reference = span[0] == b'/'
        || span.windows(2).any(|w| w == b"::")
        || span.windows(3).any(|w| w == b"://")
        || span.windows(4).any(|w| w == b"&lt;" || w == b"&gt;")
        || html_escaped_bracket(span);
    let uuid = span.len() == 36
        && span.iter().enumerate().all(|(i, b)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                *b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        });
    !(identifier || reference || uuid || is_code(span))
}

/// `&#x3C;` / `&#60;` (or the closing `>`): a slot written in HTML, `&#x3C;string>`.
fn html_escaped_bracket(span: &[u8]) -> bool {
    let lower = span.to_ascii_lowercase();
    [b"&#x3c;".as_slice(), b"&#x3e;", b"&#60;", b"&#62;"]
        .iter()
        .any(|e| memchr::memmem::find(&lower, e).is_some())
}

/// Code where a value would be: a call or an index on a (dotted) identifier
/// (`utils.getSafeProp(auth`, `Optional[PassphraseCallableT]`, `getenv()`), or a type name that
/// ends a statement (`URLPatternComponentResult;`, capitalised). A password with brackets has something
/// other than a name inside them (`Summer(2024)`).
fn is_code(span: &[u8]) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'$';
    let mut i = 0;
    loop {
        let start = i;
        if !span
            .get(i)
            .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
        {
            return false;
        }
        while span.get(i).is_some_and(|&b| word(b)) {
            i += 1;
        }
        // A one-letter name opens code only when a member follows (`z.string()`).
        if i - start < 2 && start == 0 && span.get(i) != Some(&b'.') {
            return false;
        }
        if span.get(i) != Some(&b'.') {
            break;
        }
        i += 1;
    }
    match span.get(i) {
        Some(b'(' | b'[') => {
            span.get(i + 1).is_none_or(|&b| {
                b.is_ascii_alphabetic() || matches!(b, b'_' | b'\'' | b'"' | b')' | b']')
            }) || is_numeric_index(&span[i..])
        }
        // A type annotation (`password: URLPatternComponentResult;`); a value ending a
        // connection string's pair (`Password=myPassword;`) is no type name.
        Some(b';') => {
            i + 1 == span.len()
                && span[0].is_ascii_uppercase()
                && !span[..i].iter().any(u8::is_ascii_digit)
        }
        _ => false,
    }
}

/// `[2]` or `[2])` and nothing after: a list indexed by number (`auth_info[2])`,
/// `userPass[2]`). A password with brackets has more after them (`pa[55]word!`).
fn is_numeric_index(rest: &[u8]) -> bool {
    let Some(inner) = rest.strip_prefix(b"[") else {
        return false;
    };
    let digits = inner.iter().take_while(|b| b.is_ascii_digit()).count();
    digits > 0 && matches!(&inner[digits..], b"]" | b"])" | b"]," | b"];")
}

/// How much a password of letters only keeps of the rule's confidence.
const LETTERS_ONLY: f32 = 0.75;

/// `None` when `password`, found in `matched`, is the slot's name or the user name again;
/// else the confidence to report it with.
pub fn user_password_confidence(password: &[u8], matched: &[u8], confidence: f32) -> Option<f32> {
    if is_slot_name(password) {
        return None;
    }
    if user_before(matched, password).is_some_and(|user| user.eq_ignore_ascii_case(password)) {
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

/// The user name of the `user:password` pair in `matched`: the token just before the `:` that
/// precedes the password (`scheme://user:`, `-u "user:`).
fn user_before<'m>(matched: &'m [u8], password: &[u8]) -> Option<&'m [u8]> {
    let mut colon = memchr::memmem::rfind(matched, password)?.checked_sub(1)?;
    // `user:'password'` (`curl --user ops:'…'`).
    if matches!(matched[colon], b'\'' | b'"') {
        colon = colon.checked_sub(1)?;
    }
    if matched[colon] != b':' {
        return None;
    }
    let head = &matched[..colon];
    let start = head
        .iter()
        .rposition(|&b| b.is_ascii_whitespace() || matches!(b, b'/' | b'"' | b'\'' | b'=' | b'@'))
        .map_or(0, |i| i + 1);
    Some(&head[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str, password: &str) -> Option<f32> {
        user_password_confidence(password.as_bytes(), url.as_bytes(), 0.8)
    }

    #[test]
    fn password_values() {
        assert!(is_password_shaped(b"9*sXI1cgmsw6BlC"));
        assert!(!is_password_shaped(b"env.PERKEEP_TEST_PASSWORD"));
        assert!(!is_password_shaped(b"&lt;YOURPASSWROD&gt;"));
        assert!(!is_password_shaped(b"&#x3C;string|buffer>]}</code>."));
        assert!(is_literal_value(b"super$ecret"));
        assert!(!is_literal_value(b"cms_user_password"));
        assert!(is_literal_value(b"marmalade"));
        assert!(!is_literal_value(b"PASSWORD"));
        assert!(!is_literal_value(b"#add-password"));
        assert!(!is_literal_value(b"Password:"));
        assert!(!is_literal_value(b"cms/sites/passwords#edit"));
        assert!(is_literal_value(b"Password1!"));
        assert!(is_literal_value(b"passwordless42"));
        assert!(!is_literal_value(b",rememberMeLabel:"));
        assert!(!is_literal_value(b"29f63271-dc2f-4734-8221-5b31b5169bac"));
        assert!(!is_literal_value(
            b"arn:aws:iam::aws:policy/IAMUserChangePassword"
        ));
        // Code in the value's place.
        assert!(!is_literal_value(b"utils.getSafeProp(auth"));
        assert!(!is_literal_value(b"Optional[PassphraseCallableT]"));
        assert!(!is_literal_value(b"URLPatternComponentResult;"));
        assert!(!is_literal_value(b"os.getenv()"));
        assert!(!is_literal_value(b"z.string().min(6),"));
        assert!(!is_literal_value(b"auth_info[2])"));
        assert!(!is_literal_value(b"userPass[2]"));
        assert!(is_literal_value(b"pa[55]word!"));
        assert!(is_literal_value(b"x.Yz!92kq"));
        assert!(!is_literal_value(b"key_password,"));
        assert!(is_literal_value(b"myS3cret;"));
        assert!(is_literal_value(b"Summer(2024)"));
        assert!(is_literal_value(b"Tr0ub4dor&3;"));
        assert!(is_literal_value(b"x(y)Z9!kq"));
    }

    #[test]
    fn the_user_is_the_token_before_the_password() {
        assert_eq!(
            check("curl -u deploy:deploy https://nexus.quill.dev", "deploy"),
            None
        );
        // A host earlier on the line is not the user.
        assert!(check("curl https://cache:11222/k -u developer:cache", "cache").is_some());
    }

    #[test]
    fn slot_names_and_repeated_user_names_are_not_passwords() {
        assert_eq!(
            check("postgresql://user:password@localhost", "password"),
            None
        );
        assert_eq!(check("mysql://ROOT:PASS@db", "PASS"), None);
        assert_eq!(check("curl -u username:token", "token"), None);
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
