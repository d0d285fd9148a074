//! The outline of a message too large to parse: its top-level `id` and whether it has a
//! `method` and a `result` or `error`, read from its bytes as they stream past (strings
//! skipped with memchr, nothing kept but the id). Enough to answer an oversize request, drop an
//! oversize notification, and turn an oversize answer into an error for whoever asked —
//! wherever in the line those members are (an SDK may write `id` last).

/// Longest id kept; a longer one is not a usable id.
const ID_MAX: usize = 256;
/// Longest key kept (escapes included): more than any member the outline looks for.
const KEY_MAX: usize = 64;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outline {
    /// The top-level `id` as written (a string with its quotes, or a number).
    pub id: Option<String>,
    pub has_method: bool,
    /// A top-level `result` or `error`.
    pub has_answer: bool,
    started: bool,
    /// Not a JSON object: nothing more is read.
    not_object: bool,
    depth: u32,
    in_string: bool,
    escape: bool,
    /// At depth 1, between `{` or `,` and the next key.
    expect_key: bool,
    reading_key: bool,
    key: Vec<u8>,
    /// Collecting the value of the top-level `id`.
    in_id: bool,
    value: Vec<u8>,
}

impl Outline {
    /// Reads the next bytes of the line.
    pub fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() && !self.not_object {
            if self.in_string && !self.escape && !self.reading_key && !self.in_id {
                // Inside a string nobody needs: jump to its possible end.
                match memchr::memchr2(b'"', b'\\', bytes) {
                    Some(p) => bytes = &bytes[p..],
                    None => return,
                }
            }
            let b = bytes[0];
            bytes = &bytes[1..];
            self.step(b);
        }
    }

    fn step(&mut self, b: u8) {
        if !self.started {
            if b.is_ascii_whitespace() {
                return;
            }
            self.started = true;
            if b != b'{' {
                self.not_object = true;
                return;
            }
            self.depth = 1;
            self.expect_key = true;
            return;
        }
        if self.in_string {
            self.keep(b);
            if self.escape {
                self.escape = false;
            } else if b == b'\\' {
                self.escape = true;
            } else if b == b'"' {
                self.in_string = false;
                if self.reading_key {
                    self.reading_key = false;
                    // The key as a parser reads it: escapes decoded (`"\u0069d"` is `id`).
                    let mut quoted = vec![b'"'];
                    quoted.extend_from_slice(&self.key);
                    self.key = serde_json::from_slice::<String>(&quoted)
                        .map(String::into_bytes)
                        .unwrap_or_default();
                }
            }
            return;
        }
        match b {
            b'"' => {
                self.in_string = true;
                if self.depth == 1 && self.expect_key {
                    self.expect_key = false;
                    self.reading_key = true;
                    self.key.clear();
                } else {
                    self.keep(b);
                }
            }
            b':' if self.depth == 1 && !self.reading_key => match self.key.as_slice() {
                b"id" => {
                    self.in_id = true;
                    self.value.clear();
                }
                b"method" => self.has_method = true,
                b"result" | b"error" => self.has_answer = true,
                _ => {}
            },
            b',' if self.depth == 1 => {
                self.end_value();
                self.expect_key = true;
            }
            b'{' | b'[' => {
                self.keep(b);
                self.depth += 1;
            }
            b'}' | b']' => {
                if self.depth == 1 {
                    self.end_value();
                } else {
                    self.keep(b);
                }
                self.depth = self.depth.saturating_sub(1);
            }
            _ if b.is_ascii_whitespace() => {}
            _ => self.keep(b),
        }
    }

    /// Keeps a byte of the key or of the id being read.
    fn keep(&mut self, b: u8) {
        if self.reading_key {
            if self.key.len() <= KEY_MAX {
                self.key.push(b);
            }
        } else if self.in_id && self.value.len() <= ID_MAX {
            self.value.push(b);
        }
    }

    fn end_value(&mut self) {
        if !self.in_id {
            return;
        }
        self.in_id = false;
        let number = |b: &u8| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E');
        let usable = self.value.len() <= ID_MAX
            && (self.value.first() == Some(&b'"') || self.value.iter().all(number));
        if usable && !self.value.is_empty() {
            self.id = String::from_utf8(std::mem::take(&mut self.value)).ok();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outline(s: &str) -> Outline {
        let mut o = Outline::default();
        // Fed in small pieces, as a stream delivers them.
        for piece in s.as_bytes().chunks(3) {
            o.feed(piece);
        }
        o
    }

    #[test]
    fn the_top_level_members_wherever_they_are() {
        let big = "x".repeat(10_000);
        let o = outline(&format!(
            r#"{{"method":"tools/call","params":{{"arguments":{{"id":77,"t":"{big}\"}}"}}}},"jsonrpc":"2.0","id":9}}"#
        ));
        assert_eq!(
            (o.id.as_deref(), o.has_method, o.has_answer),
            (Some("9"), true, false)
        );
        let o = outline(r#" {"jsonrpc":"2.0","id":"a\"b","result":{"id":1}}"#);
        assert_eq!((o.id.as_deref(), o.has_answer), (Some(r#""a\"b""#), true));
        let o = outline(r#"{"method":"notifications/x","params":{"id":5}}"#);
        assert_eq!((o.id, o.has_method), (None, true));
        assert_eq!(outline(r#"[{"id":1}]"#).id, None);
        assert_eq!(outline(r#"{"id":{"x":1},"method":"m"}"#).id, None);
        // Keys with escapes, and ids that are numbers but not integers, as a parser reads them.
        let o = outline(r#"{"id":77,"method":"x"}"#);
        assert_eq!((o.id.as_deref(), o.has_method), (Some("77"), true));
        assert_eq!(
            outline(r#"{"method":"m","id":78.0}"#).id.as_deref(),
            Some("78.0")
        );
    }
}
