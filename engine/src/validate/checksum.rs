//! Checksums that providers put at the end of their tokens: GitHub and npm end in six base62
//! characters, Cloudflare's scannable credentials in eight hex digits, each the CRC32 of the
//! random body before them.

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

fn base62_6(mut n: u32) -> [u8; 6] {
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out
}

/// The random body and the `n`-character checksum after the prefix (up to the last `_`), when
/// both are letters and digits.
fn body_and_sum(token: &[u8], n: usize) -> Option<(&[u8], &[u8])> {
    let rest = match token.iter().rposition(|&b| b == b'_') {
        Some(i) => &token[i + 1..],
        None => token,
    };
    (rest.len() > n && rest.iter().all(u8::is_ascii_alphanumeric))
        .then(|| rest.split_at(rest.len() - n))
}

/// `prefix_` + body + 6-char checksum, where checksum = base62(crc32(body)).
pub fn crc32_base62_ok(token: &[u8]) -> bool {
    body_and_sum(token, 6).is_some_and(|(body, sum)| base62_6(crc32(body)) == sum)
}

/// `prefix_` + 40-character body + 8 lower-case hex digits, the body's CRC32 (Cloudflare's
/// `cfk_`, `cfut_` and `cfat_` credentials).
pub fn crc32_hex_ok(token: &[u8]) -> bool {
    body_and_sum(token, 8).is_some_and(|(body, sum)| {
        let crc = crc32(body);
        sum.iter().enumerate().all(|(k, &d)| {
            let nibble = (crc >> (28 - 4 * k)) & 0xf;
            d == b"0123456789abcdef"[nibble as usize]
        })
    })
}

#[cfg(test)]
pub fn make_token(prefix: &str, body: &str) -> String {
    let sum = base62_6(crc32(body.as_bytes()));
    format!("{prefix}{body}{}", std::str::from_utf8(&sum).unwrap())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_known_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn valid_and_tampered_tokens() {
        let t = make_token("ghp_", "Qm3kV9ZtR2xW8pLc4NbY7dFh1JsG6a");
        assert!(crc32_base62_ok(t.as_bytes()));
        let mut bad = t.into_bytes();
        bad[6] = if bad[6] == b'A' { b'B' } else { b'A' };
        assert!(!crc32_base62_ok(&bad));
    }

    #[test]
    fn cloudflare_hex_checksum() {
        let t = b"cfut_U8JZpDE0iGXlD6gNCFbaEPFjbD0kH8Oool8DklZD7506738b";
        assert!(crc32_hex_ok(t));
        let mut bad = t.to_vec();
        bad[7] = b'Z';
        assert!(!crc32_hex_ok(&bad));
        assert!(!crc32_hex_ok(b"cfut_7506738b"));
    }
}
