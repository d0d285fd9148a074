//! Numeric PII validators: payment cards (Luhn, brand IIN ranges, lengths), US SSN issued ranges,
//! IBAN (country length and mod-97), and a plausibility check for phone numbers.

fn digits(span: &[u8]) -> Vec<u8> {
    span.iter()
        .filter(|b| b.is_ascii_digit())
        .map(|b| b - b'0')
        .collect()
}

fn luhn(d: &[u8]) -> bool {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            let x = x as u32;
            if i % 2 == 1 {
                let y = x * 2;
                if y > 9 {
                    y - 9
                } else {
                    y
                }
            } else {
                x
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// (lowest prefix, highest prefix, prefix digits, shortest length, longest length).
const IIN_RANGES: &[(u32, u32, u32, usize, usize)] = &[
    (4, 4, 1, 13, 13),           // Visa, old 13-digit cards
    (4, 4, 1, 16, 19), // Visa (16, 19; 17 and 18 exist for Electron-era cards; never 14 or 15)
    (51, 55, 2, 16, 16), // Mastercard
    (2221, 2720, 4, 16, 16), // Mastercard 2-series
    (34, 34, 2, 15, 15), // American Express
    (37, 37, 2, 15, 15), // American Express
    (6011, 6011, 4, 16, 19), // Discover
    (644, 649, 3, 16, 19), // Discover
    (65, 65, 2, 16, 19), // Discover / RuPay
    (622126, 622925, 6, 16, 19), // Discover co-branded UnionPay
    (62, 62, 2, 16, 19), // UnionPay
    (81, 82, 2, 16, 19), // UnionPay 81, RuPay 82
    (300, 305, 3, 14, 19), // Diners Club International
    (3095, 3095, 4, 14, 19), // Diners Club
    (36, 36, 2, 14, 19), // Diners Club
    (38, 39, 2, 14, 19), // Diners Club
    (3528, 3589, 4, 15, 19), // JCB
    (1800, 1800, 4, 15, 15), // JCB (15-digit)
    (2131, 2131, 4, 15, 15), // JCB (15-digit)
    (2200, 2204, 4, 16, 19), // Mir
    (50, 50, 2, 12, 19), // Maestro / Verve
    (56, 69, 2, 12, 19), // Maestro and other 6-series
    (60, 60, 2, 16, 19), // RuPay
    (9792, 9792, 4, 16, 16), // Troy
];

/// Luhn, a known brand prefix, and a length that brand issues.
pub fn is_payment_card(span: &[u8]) -> bool {
    let d = digits(span);
    if !(12..=19).contains(&d.len()) || !luhn(&d) {
        return false;
    }
    // One pair of digits over and over (`5454 5454 5454 5454`): a fill pattern or a test
    // number; issued numbers are not periodic. The published test cards among them stay
    // placeholders (reported below the floor), as the placeholder list says.
    if d.iter().skip(2).zip(&d).all(|(a, b)| a == b)
        && !super::placeholder::is_documented_number(span)
    {
        return false;
    }
    IIN_RANGES.iter().any(|&(lo, hi, n, min, max)| {
        let prefix = d[..n as usize].iter().fold(0u32, |a, &x| a * 10 + x as u32);
        (lo..=hi).contains(&prefix) && (min..=max).contains(&d.len())
    })
}

/// Area 001–899 except 666, group 01–99, serial 0001–9999 (the SSA's issuing rules).
pub fn is_issued_ssn(span: &[u8]) -> bool {
    let d = digits(span);
    if d.len() != 9 {
        return false;
    }
    let area = d[0] as u32 * 100 + d[1] as u32 * 10 + d[2] as u32;
    let group = d[3] as u32 * 10 + d[4] as u32;
    let serial = d[5..].iter().fold(0u32, |a, &x| a * 10 + x as u32);
    area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
}

const IBAN_LENGTHS: &[(&[u8; 2], usize)] = &[
    (b"AD", 24),
    (b"AE", 23),
    (b"AL", 28),
    (b"AT", 20),
    (b"AZ", 28),
    (b"BA", 20),
    (b"BE", 16),
    (b"BG", 22),
    (b"BH", 22),
    (b"BR", 29),
    (b"BY", 28),
    (b"CH", 21),
    (b"CR", 22),
    (b"CY", 28),
    (b"CZ", 24),
    (b"DE", 22),
    (b"DK", 18),
    (b"DO", 28),
    (b"EE", 20),
    (b"EG", 29),
    (b"ES", 24),
    (b"FI", 18),
    (b"FO", 18),
    (b"FR", 27),
    (b"GB", 22),
    (b"GE", 22),
    (b"GI", 23),
    (b"GL", 18),
    (b"GR", 27),
    (b"GT", 28),
    (b"HR", 21),
    (b"HU", 28),
    (b"IE", 22),
    (b"IL", 23),
    (b"IQ", 23),
    (b"IS", 26),
    (b"IT", 27),
    (b"JO", 30),
    (b"KW", 30),
    (b"KZ", 20),
    (b"LB", 28),
    (b"LC", 32),
    (b"LI", 21),
    (b"LT", 20),
    (b"LU", 20),
    (b"LV", 21),
    (b"LY", 25),
    (b"MC", 27),
    (b"MD", 24),
    (b"ME", 22),
    (b"MK", 19),
    (b"MR", 27),
    (b"MT", 31),
    (b"MU", 30),
    (b"NL", 18),
    (b"NO", 15),
    (b"PK", 24),
    (b"PL", 28),
    (b"PS", 29),
    (b"PT", 25),
    (b"QA", 29),
    (b"RO", 24),
    (b"RS", 22),
    (b"SA", 24),
    (b"SC", 31),
    (b"SD", 18),
    (b"SE", 24),
    (b"SI", 19),
    (b"SK", 24),
    (b"SM", 27),
    (b"ST", 25),
    (b"SV", 28),
    (b"TL", 23),
    (b"TN", 24),
    (b"TR", 26),
    (b"UA", 29),
    (b"VA", 22),
    (b"VG", 24),
    (b"XK", 20),
];

/// How much of `span` is a valid IBAN: all of it, or all but its last group where that group
/// is a word of up to four letters after the number (`… 4567 8901 X in a sentence`, `… 7034
/// ASAP`; a real IBAN may end in a short group of letters, `… 013A A`, so both readings are
/// tried, the whole first).
pub fn valid_iban_len(span: &[u8]) -> Option<usize> {
    if is_valid_iban(span) {
        return Some(span.len());
    }
    let cut = span.iter().rposition(|&b| b == b' ' || b == b'-')?;
    (span.len() - cut <= 5 && is_valid_iban(&span[..cut])).then_some(cut)
}

/// Country code with its registered length, then ISO 7064 mod-97 == 1.
pub fn is_valid_iban(span: &[u8]) -> bool {
    let s: Vec<u8> = span
        .iter()
        .filter(|b| !b.is_ascii_whitespace() && **b != b'-')
        .map(|b| b.to_ascii_uppercase())
        .collect();
    if s.len() < 15 || !s.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let Some(&(_, len)) = IBAN_LENGTHS.iter().find(|(cc, _)| cc[..] == s[..2]) else {
        return false;
    };
    if s.len() != len {
        return false;
    }
    // ISO 7064 MOD 97-10 check digits are 98 minus a remainder mod 97: 02 to 98. The mod-97
    // test alone also passes 00, 01 and 99 (`DE00…` filled to fit).
    let check = match (s[2], s[3]) {
        (a @ b'0'..=b'9', b @ b'0'..=b'9') => (a - b'0') * 10 + (b - b'0'),
        _ => return false,
    };
    if !(2..=98).contains(&check) {
        return false;
    }
    let mut rem: u32 = 0;
    for &b in s[4..].iter().chain(&s[..4]) {
        let v = if b.is_ascii_digit() {
            (b - b'0') as u32
        } else {
            (b - b'A') as u32 + 10
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

/// True when the digit groups of a match go on past it, with the same separator, into another
/// group of at least `min_group` digits: a row of a number table (`967 979 992 1004 1017`,
/// `6282 6319 6357 6394 6432`), not one number. `before` and `after` are the text around it.
pub fn in_number_row(span: &[u8], before: &[u8], after: &[u8], min_group: usize) -> bool {
    let is_sep = |b: &u8| matches!(b, b' ' | b'-' | b'.');
    let (Some(&first), Some(&last)) = (
        span.iter().find(|b| is_sep(b)),
        span.iter().rfind(|b| is_sep(b)),
    ) else {
        return false;
    };
    // A neighbouring group counts when it has the length of a group and a digit: hex code
    // tables (`6700 51F1 5272 5274 5275 5269 52DE`) hold letters too.
    let group = |g: &[u8]| g.len() >= min_group && g.iter().any(u8::is_ascii_digit);
    let back = before.strip_suffix(&[first]).map_or(&[][..], |b| {
        &b[b.len() - b.iter().rev().take_while(|b| b.is_ascii_hexdigit()).count()..]
    });
    let on = after.strip_prefix(&[last]).map_or(&[][..], |a| {
        &a[..a.iter().take_while(|b| b.is_ascii_hexdigit()).count()]
    });
    group(back) || group(on)
}

/// True when the number stands in a column of numbers of its length and that neighbour is no
/// card: the line above or below holds, after the same two bytes (`# `, `, `), a number of the
/// same length that fails the card checks. A table of ids or codes (`… # 4111251125234` in a
/// locale's stroke table, where one number in ten passes Luhn by chance), not a card; a list
/// of card numbers keeps its cards, since their neighbours are cards too.
pub fn in_column_of_other_numbers(span: &[u8], before: &[u8], after: &[u8]) -> bool {
    if !span.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let Some(line_start) = memchr::memrchr(b'\n', before).map(|p| p + 1) else {
        return false;
    };
    let lead = &before[line_start..];
    let field = &lead[lead.len().saturating_sub(2)..];
    if field.iter().any(u8::is_ascii_digit) {
        return false;
    }
    let other_number_in = |line: &[u8]| {
        let digit_at = |i: usize| line.get(i).is_some_and(u8::is_ascii_digit);
        let number_at = |at: usize| {
            line.get(at..at + span.len())
                .is_some_and(|n| n.iter().all(u8::is_ascii_digit) && !is_payment_card(n))
                && !digit_at(at + span.len())
                && (at == 0 || !digit_at(at - 1))
        };
        if field.is_empty() {
            return number_at(0);
        }
        memchr::memmem::find_iter(line, field).any(|i| number_at(i + field.len()))
    };
    let prev_end = line_start - 1;
    let above = memchr::memrchr(b'\n', &before[..prev_end])
        .map(|p| &before[p + 1..prev_end])
        .is_some_and(other_number_in);
    let below = memchr::memchr(b'\n', after).is_some_and(|p| {
        let next = &after[p + 1..];
        other_number_in(&next[..memchr::memchr(b'\n', next).unwrap_or(next.len())])
    });
    above || below
}

/// True when a signed number is a quantity, not a phone: a decimal (`+35236450.6`,
/// `+3.140000`: one `.` and nothing else between the digits) or a round number written without
/// separators (`+3600000` milliseconds: five zeros at the end). The domain registries' phone
/// format, a country code of one to three digits, a `.` and seven or more digits
/// (`+1.8005550123`), is a phone.
fn is_signed_quantity(span: &[u8]) -> bool {
    let body = span.strip_prefix(b"+").unwrap_or(span);
    let dots = body.iter().filter(|&&b| b == b'.').count();
    let digits_or_dot = body.iter().all(|b| b.is_ascii_digit() || *b == b'.');
    let registry_phone = span.starts_with(b"+")
        && memchr::memchr(b'.', body).is_some_and(|d| (1..=3).contains(&d) && body.len() - d > 7);
    let decimal = dots == 1
        && digits_or_dot
        && !registry_phone
        && body.first() != Some(&b'.')
        && body.last() != Some(&b'.');
    let round =
        dots == 0 && digits_or_dot && body.iter().rev().take_while(|&&b| b == b'0').count() >= 5;
    decimal || round
}

/// True when the number is the whole or the fractional part of a decimal number
/// (`5733723619916794.0083540`, `Decimal('+35236450.6')`, `3.4111111111111111`): a constant
/// in code or a measurement, not a card or a phone.
pub fn in_decimal_number(before: &[u8], after: &[u8]) -> bool {
    matches!(after, [b'.', d, ..] if d.is_ascii_digit())
        || matches!(before, [.., d, b'.'] if d.is_ascii_digit())
}

/// True when a number written as one run of digits sits between two other long integers in a
/// comma-separated list (`(16930026125143774626, 1273147485209053803),`): a table of constants
/// in code, not a card. Both neighbours must be there: a CSV row with an id beside a card
/// number (`1234567890,4532015112830366,Maria`) is still a card.
pub fn between_long_numbers(span: &[u8], before: &[u8], after: &[u8]) -> bool {
    const MIN_NEIGHBOUR_DIGITS: usize = 8;
    const MAX_GAP: usize = 16;
    let is_gap = |b: &u8| b" \t\r\n,;()[]{}".contains(b);
    let is_digit = |b: &&u8| b.is_ascii_digit() || **b == b'_';
    if !span.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let gap_back = before.iter().rev().take_while(|b| is_gap(b)).count();
    let gap_on = after.iter().take_while(|b| is_gap(b)).count();
    let listed = |gap: &[u8]| gap.len() <= MAX_GAP && gap.contains(&b',');
    listed(&before[before.len() - gap_back..])
        && listed(&after[..gap_on])
        && before[..before.len() - gap_back]
            .iter()
            .rev()
            .take_while(is_digit)
            .count()
            >= MIN_NEIGHBOUR_DIGITS
        && after[gap_on..].iter().take_while(is_digit).count() >= MIN_NEIGHBOUR_DIGITS
}

/// True when the number is a segment of a URL's path (`https://oss-fuzz.com/testcase-detail/
/// 5718889451749376`): a record's id in a web address. A number in the query (`?card=…`) is
/// not a path segment.
pub fn in_url_path(before: &[u8], after: &[u8]) -> bool {
    if before.last() != Some(&b'/') || after.first().is_some_and(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let token_start = before
        .iter()
        .rposition(|b| b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'<' | b'(' | b'['))
        .map_or(0, |i| i + 1);
    let url = &before[token_start..];
    memchr::memmem::find(url, b"://").is_some() && !url.contains(&b'?')
}

/// True when a `+` number is an ISO 8601 date with an expanded year (`+999999-12-31`,
/// `+10000-01-01`, the ordinal `+9999-365`): date libraries' limits, not phone numbers.
fn is_signed_iso_date(span: &[u8]) -> bool {
    let Some(rest) = span.strip_prefix(b"+") else {
        return false;
    };
    let year = rest
        .iter()
        .take_while(|b| b.is_ascii_digit() || **b == b'_')
        .count();
    let Some(date) = rest[year..].strip_prefix(b"-") else {
        return false;
    };
    let run = |from: usize| {
        date[from.min(date.len())..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let month_day = run(0) == 2 && date.get(2) == Some(&b'-') && run(3) == 2;
    let ordinal = run(0) == 3;
    (4..=8).contains(&year) && (month_day || ordinal)
}

/// True when a number that starts with `+` is the tail of a longer token: a version
/// (`6.4+20221224-2`, Debian's `1:10~+20191229111838`), an exponent (`1.2345E+12345680`), a
/// code point (`U+2266`). A phone
/// number's `+` follows a space, punctuation or the start of the text.
pub fn plus_inside_token(span: &[u8], before: &[u8]) -> bool {
    span.first() == Some(&b'+')
        && before
            .last()
            .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'+' | b'~'))
}

/// True for a North American 3-3-4 number written with two different separators and no
/// parentheses (`252.227-7013`, a clause number): people write one separator throughout.
fn mixed_separators(main: &[u8], lengths: &[usize]) -> bool {
    if lengths != [3, 3, 4] || main.contains(&b'(') {
        return false;
    }
    let mut seps = main.iter().filter(|b| !b.is_ascii_digit());
    let first = seps.next();
    seps.any(|b| Some(b) != first)
}

/// Country calling codes the ITU has not assigned (spare), as prefixes of the digits after `+`.
/// A `+` number opening with one is a quantity or an id (`+2147483647`), not a phone.
const SPARE_COUNTRY_CODES: &[&str] = &[
    "210", "214", "215", "217", "219", "259", "28", "292", "293", "294", "295", "296", "384",
    "422", "424", "425", "426", "427", "428", "429", "671", "684", "693", "694", "695", "696",
    "697", "698", "699", "801", "802", "803", "804", "805", "806", "807", "809", "83", "851",
    "854", "857", "858", "859", "871", "872", "873", "874", "875", "876", "877", "879", "884",
    "885", "887", "889", "89", "969", "978", "990", "997", "999",
];

/// True when the digits of an international number ([`international_digits`]) cannot be
/// one: a spare country code, or `+1` followed by an area code that opens with 0 or 1 (North
/// American area codes never do: `+1073741824`).
fn impossible_international(d: &[u8]) -> bool {
    let spare = SPARE_COUNTRY_CODES
        .iter()
        .any(|c| d.starts_with(c.as_bytes()));
    let nanp_area = d.first() == Some(&b'1') && matches!(d.get(1), Some(b'0' | b'1'));
    spare || nanp_area
}

/// The digits (ASCII) of a `+` number, country code first, without its extension; `None`
/// for a number without `+`.
fn international_digits(span: &[u8]) -> Option<Vec<u8>> {
    let rest = span.strip_prefix(b"+")?;
    Some(
        without_extension(rest)
            .iter()
            .copied()
            .filter(u8::is_ascii_digit)
            .collect(),
    )
}

/// A phone number without its extension (`x123`, `ext. 4`, `e…`).
fn without_extension(span: &[u8]) -> &[u8] {
    match span
        .iter()
        .position(|&b| b == b'x' || b == b'X' || b == b'e')
    {
        Some(i) => &span[..i],
        None => span,
    }
}

/// Lengths of the national significant number (the digits after the country code, a trunk
/// `0` not counted) in numbering plans that fix it: (country code, shortest, longest).
const NATIONAL_LENGTHS: &[(&str, usize, usize)] = &[
    ("1", 10, 10),  // North America
    ("7", 10, 10),  // Russia, Kazakhstan
    ("31", 9, 9),   // Netherlands
    ("33", 9, 9),   // France
    ("34", 9, 9),   // Spain
    ("44", 9, 10),  // United Kingdom
    ("52", 10, 10), // Mexico
    ("55", 10, 11), // Brazil
    ("61", 9, 9),   // Australia
    ("81", 9, 10),  // Japan
    ("86", 10, 11), // China
    ("91", 10, 10), // India
];

/// True when the digits of an international number ([`international_digits`]) have a country
/// code whose numbering plan fixes the length of its numbers and the digits after it are too
/// few or too many (`+44 1234567`: seven digits, where British numbers have nine or ten). A
/// trunk `0` after the code (`+44 (0)20 …`) is not counted.
fn wrong_national_length(d: &[u8]) -> bool {
    NATIONAL_LENGTHS.iter().any(|&(cc, min, max)| {
        d.strip_prefix(cc.as_bytes()).is_some_and(|nsn| {
            let nsn = nsn.strip_prefix(b"0").unwrap_or(nsn);
            !(min..=max).contains(&nsn.len())
        })
    })
}

/// True when the number repeats, with a `+`, a negative number just before it: the two ends of
/// a range (`(-32768000, +32768000)`).
pub fn mirrors_a_negative(span: &[u8], before: &[u8]) -> bool {
    let Some(body) = span.strip_prefix(b"+") else {
        return false;
    };
    let head = before
        .iter()
        .rev()
        .take_while(|b| matches!(b, b' ' | b',' | b';'))
        .count();
    let head = &before[..before.len() - head];
    head.len() < before.len()
        && head
            .strip_suffix(body)
            .is_some_and(|h| h.last() == Some(&b'-'))
}

/// 7–15 digits (E.164's maximum), not one repeated digit, not an ISO date or dotted quad, not
/// a version; a `+` number also no signed quantity or expanded-year date, with a country code
/// that exists and, where its plan fixes one, the length of its national numbers. Context
/// (the text around the number) is the validator's to weigh.
pub fn is_plausible_phone(span: &[u8]) -> bool {
    if is_signed_iso_date(span)
        || is_signed_quantity(span)
        || international_digits(span)
            .is_some_and(|d| impossible_international(&d) || wrong_national_length(&d))
    {
        return false;
    }
    let main = without_extension(span);
    let d = digits(main);
    if !(7..=15).contains(&d.len()) || d.iter().all(|&x| x == d[0]) {
        return false;
    }
    let groups: Vec<&[u8]> = main
        .split(|b| !b.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .collect();
    let dots = main.iter().filter(|&&b| b == b'.').count();
    if dots == 3 && groups.len() == 4 && groups.iter().all(|g| g.len() <= 3) {
        return false; // an IPv4 address
    }
    // North American 3-3-4: area codes never begin with 1 (nor 0, but that is the trunk
    // prefix of national numbers elsewhere, `083 564 9312`). `(123) 456-7890` is filler.
    let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    if matches!(lengths[..], [3, 3, 4] | [1, 3, 3, 4]) && groups[lengths.len() - 3][0] == b'1' {
        return false;
    }
    if mixed_separators(main, &lengths) {
        return false;
    }
    // Three or more one-digit groups: a version (`18.0.1.0.1.3`), not a phone.
    if lengths.iter().filter(|&&l| l == 1).count() >= 3 {
        return false;
    }
    if groups.len() >= 3 && groups[0].len() == 4 && groups[1].len() == 2 && groups[2].len() == 2 {
        let year = groups[0]
            .iter()
            .fold(0u32, |a, &x| a * 10 + (x - b'0') as u32);
        if (1900..=2100).contains(&year) {
            return false; // 2024-05-17 and friends
        }
    }
    true
}

#[cfg(test)]
mod tests {
    #[test]
    fn expanded_year_dates_are_no_phone_numbers() {
        use super::is_signed_iso_date;
        assert!(is_signed_iso_date(b"+999999-12-31 23"));
        assert!(is_signed_iso_date(b"+10000-01-01"));
        assert!(is_signed_iso_date(b"+9999-365"));
        assert!(is_signed_iso_date(b"+100_000-01-01"));
        assert!(!is_signed_iso_date(b"+44 1632 960123"));
        assert!(!is_signed_iso_date(b"+1-202-555-0143"));
        assert!(!is_signed_iso_date(b"+4930-1234-5678"));
    }

    #[test]
    fn a_number_in_a_url_path_is_an_id() {
        use super::in_url_path;
        assert!(in_url_path(
            b"Fixes https://oss-fuzz.com/testcase-detail/",
            b"\n"
        ));
        assert!(in_url_path(b"(https://chromestatus.com/feature/", b")"));
        assert!(!in_url_path(b"https://shop.example/pay?card=", b"&x=1"));
        assert!(!in_url_path(b"https://shop.example/pay?ref=/", b""));
        assert!(!in_url_path(b"card: ", b"\n"));
        assert!(!in_url_path(b"and/or ", b" "));
    }

    #[test]
    fn a_number_between_long_integers_is_a_table_entry() {
        let t = |b: &str, a: &str| {
            super::between_long_numbers(b"4951948911778577463", b.as_bytes(), a.as_bytes())
        };
        assert!(t(
            "(16930026125143774626, 1273147485209053803),\n    (",
            ", 2037035976334486086),"
        ));
        assert!(t("[7205759403792793600, ", ", 59604644775, 0],"));
        assert!(!t("1234567890,", ",Maria,Lopez"));
        assert!(!t("4111111111111111\n", "\n5500005555555559"));
        assert!(!t("[\"4532015112830366\", \"", "\", \"4716108999716531\"]"));
        assert!(!t("assert_eq!(results[0], ", ");"));
    }

    use super::*;

    #[test]
    fn cards() {
        assert!(is_payment_card(b"4539 1488 0343 6467"));
        assert!(is_payment_card(b"371449635398431"));
        assert!(!is_payment_card(b"4539 1488 0343 6468")); // Luhn fails
        assert!(!is_payment_card(b"1234567812345670")); // Luhn passes, no brand starts with 1
        assert!(!is_payment_card(b"5454 5454 5454 5454")); // a pair of digits repeated
        assert!(is_payment_card(b"4242424242424242")); // a published test card: a placeholder
    }

    #[test]
    fn visa_numbers_have_visa_lengths() {
        assert!(is_payment_card(b"4222222222222")); // 13 digits
        assert!(!is_payment_card(b"48146308100036")); // 14 digits: a company id (SIRET)
    }

    #[test]
    fn hex_code_tables_are_rows() {
        assert!(in_number_row(
            b"5272 5274 5275 5269",
            b"6700 51F1 ",
            b" 52DE",
            4
        ));
        assert!(in_number_row(
            b"5414 5415 5416 5417",
            b"",
            b" 20BBF 20BC6",
            4
        ));
        // A word without digits after a card is no group of a table.
        assert!(!in_number_row(
            b"4539 1488 0343 6467",
            b"card ",
            b" face value",
            4
        ));
        assert!(!in_number_row(
            b"4539 1488 0343 6467",
            b"card ",
            b" exp 12/29",
            4
        ));
    }

    #[test]
    fn decimal_numbers_are_no_cards_or_phones() {
        assert!(in_decimal_number(b"(", b".008354021149856937812556Q,"));
        assert!(in_decimal_number(b"Decimal('", b".6')"));
        assert!(in_decimal_number(b"x = 3.", b";"));
        assert!(!in_decimal_number(b"card ", b". Thanks"));
        assert!(!in_decimal_number(b"card ", b"."));
        assert!(!in_decimal_number(b"No. ", b" "));
    }

    #[test]
    fn signed_quantities_are_no_phones() {
        assert!(is_signed_quantity(b"+35236450.6"));
        assert!(is_signed_quantity(b"+3.140000"));
        assert!(is_signed_quantity(b"+3600000"));
        assert!(!is_signed_quantity(b"+442079460958"));
        assert!(!is_signed_quantity(b"+1.8005550123"));
        assert!(!is_signed_quantity(b"+44.2079460958"));
        assert!(!is_signed_quantity(b"+1.415.555.0132"));
        assert!(!is_signed_quantity(b"+44 20 7946 0000"));
        assert!(!is_signed_quantity(b"+1-800-500-0000"));
    }

    #[test]
    fn a_number_in_a_column_of_other_numbers_is_a_table_entry() {
        let row = |n: &str| format!("<U8A3F> <U8A3F>;IGNORE;IGNORE;IGNORE # {n}\n");
        let before = format!(
            "x\n{}<U8A83> <U8A83>;IGNORE;IGNORE;IGNORE # ",
            row("4111251212116")
        );
        let after = format!("\n{}", row("4111251354355"));
        let t = |b: &str, a: &str| {
            in_column_of_other_numbers(b"4111251125234", b.as_bytes(), a.as_bytes())
        };
        assert!(t(&before, &after));
        assert!(t(&before, ""));
        // Neighbours that are cards: a list of cards.
        assert!(!in_column_of_other_numbers(
            b"4111111111111111",
            b"cards\n5555555555554444\n",
            b"\n4012888888881881\n"
        ));
        // No line above, nothing below: unknown.
        assert!(!t("# ", ""));
        // A number of another length above.
        assert!(!t("x\n12345\n", "\n"));
        // Fields of different widths before the number: the same two bytes still open it.
        assert!(t(
            "x\n<U000279F3>;IGNORE # 4111251134115\n<U8A87>;IGNORE # ",
            "\n"
        ));
        // A CSV row of a card next to a row whose field holds another card.
        assert!(!in_column_of_other_numbers(
            b"4111111111111111",
            b"name,card\nBob,5555555555554444\nAlice,",
            b"\n"
        ));
    }

    #[test]
    fn national_numbers_have_their_plans_length() {
        let wrong_national_length =
            |s: &[u8]| international_digits(s).is_some_and(|d| wrong_national_length(&d));
        assert!(wrong_national_length(b"+44 1234567"));
        assert!(wrong_national_length(b"+1 555 0123"));
        assert!(!wrong_national_length(b"+44 20 7946 0958"));
        assert!(!wrong_national_length(b"+44 (0)20 7946 0958"));
        assert!(!wrong_national_length(b"+1-415-555-0132"));
        assert!(!wrong_national_length(b"+33 1 42 68 53 00"));
        assert!(!wrong_national_length(b"+49 30 901820"));
        assert!(!wrong_national_length(b"+8801670105219"));
        assert!(!wrong_national_length(b"415-555-0132"));
    }

    #[test]
    fn a_plus_inside_a_version_is_no_phone() {
        assert!(plus_inside_token(
            b"+20191229111838",
            b"llvm-toolchain-snapshot (1:10~"
        ));
        assert!(plus_inside_token(b"+20221224", b"6.4"));
        assert!(!plus_inside_token(b"+44 20 7946 0958", b"call "));
    }

    #[test]
    fn impossible_international_numbers() {
        let impossible_international =
            |s: &[u8]| international_digits(s).is_some_and(|d| impossible_international(&d));
        assert!(impossible_international(b"+2147483647"));
        assert!(impossible_international(b"+4294967295"));
        assert!(impossible_international(b"+1073741824"));
        assert!(!impossible_international(b"+1 415-555-0132"));
        assert!(!impossible_international(b"+44 20 7946 0958"));
        assert!(!impossible_international(b"+420 601 123 456"));
        assert!(!impossible_international(b"415-555-0132"));
        assert!(mirrors_a_negative(b"+32768000", b"range (\\-32768000, "));
        assert!(!mirrors_a_negative(b"+32768000", b"call "));
        assert!(!mirrors_a_negative(b"+3276800", b"(-32768000, "));
    }

    #[test]
    fn ssns() {
        assert!(is_issued_ssn(b"536-22-8726"));
        assert!(!is_issued_ssn(b"666-22-8726"));
        assert!(!is_issued_ssn(b"936-22-8726"));
        assert!(!is_issued_ssn(b"536-00-8726"));
        assert!(!is_issued_ssn(b"536-22-0000"));
    }

    #[test]
    fn ibans() {
        assert!(is_valid_iban(b"GB82 WEST 1234 5698 7654 32"));
        assert!(is_valid_iban(b"DE89370400440532013000"));
        assert!(!is_valid_iban(b"DE89370400440532013001"));
        assert!(!is_valid_iban(b"ZZ89370400440532013000"));
        let then_word = b"VG96 VPVG 0000 0123 4567 8901 X";
        assert_eq!(valid_iban_len(then_word), Some(then_word.len() - 2));
        assert_eq!(valid_iban_len(b"LI21 0881 0000 2324 013A A"), Some(26));
        assert_eq!(valid_iban_len(b"VG96 VPVG 0000 0123 4567 8902 X"), None);
        assert_eq!(valid_iban_len(b"BE68 5390 0754 7034 ASAP"), Some(19));
        // Pass mod 97, but no IBAN has check digits 00, 01 or 99.
        for fake in [
            b"DE00000000000000000066",
            b"DE01000000000000000048",
            b"DE99000000000000000030",
        ] {
            assert!(!is_valid_iban(fake), "{}", String::from_utf8_lossy(fake));
        }
    }

    #[test]
    fn phones() {
        assert!(is_plausible_phone(b"+1 415-555-0132"));
        assert!(is_plausible_phone(b"(415) 555-0132"));
        assert!(!is_plausible_phone(b"2024-05-17 10"));
        assert!(!is_plausible_phone(b"192.168.100.201"));
        assert!(!is_plausible_phone(b"1111111"));
        assert!(!is_plausible_phone(b"(123) 456-7890"));
        assert!(!is_plausible_phone(b"+1 123-456-7890"));
        assert!(is_plausible_phone(b"083 564 9312"));
        assert!(is_plausible_phone(b"+1 (212) 123-4567"));
        assert!(!is_plausible_phone(b"18.0.1.0.1.3"));
    }
}
