//! JSON Web Tokens: three base64url parts whose first two decode to JSON objects, the header
//! naming an `alg`.

fn b64url_decode(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for &c in s {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

fn json_object(part: &[u8]) -> Option<serde_json::Map<String, serde_json::Value>> {
    let raw = b64url_decode(part)?;
    match serde_json::from_slice(&raw).ok()? {
        serde_json::Value::Object(m) => Some(m),
        _ => None,
    }
}

pub fn is_jwt(span: &[u8]) -> bool {
    let mut parts = span.split(|&b| b == b'.');
    let (Some(h), Some(p)) = (parts.next(), parts.next()) else {
        return false;
    };
    let Some(header) = json_object(h) else {
        return false;
    };
    header.contains_key("alg") && json_object(p).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structure() {
        // {"alg":"HS256","typ":"JWT"} . {"sub":"42","name":"Ada"} . signature
        let t = b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsIm5hbWUiOiJBZGEifQ.c2lnbmF0dXJlLWJ5dGVz";
        assert!(is_jwt(t));
        assert!(!is_jwt(b"eyJub3RqdXN0.eyJzdWIiOiI0MiJ9.x"));
    }
}
