//! Frame → classified message: a JSON-RPC object read without copying its parts (params, result
//! and error stay raw slices of the line, so an unchanged message is forwarded byte for byte and
//! a changed part is spliced back in place). Builders for the errors the proxy answers with.

use serde::Deserialize;
use serde_json::value::RawValue;

/// The envelope of one JSON-RPC message. Duplicate keys are an error (two parsers must never
/// disagree about which `method` a message has).
#[derive(Debug, Default)]
pub struct Envelope<'a> {
    /// `None` only when there is no `id` member: `"id": null` is kept as its text.
    pub id: Option<&'a RawValue>,
    pub method: Option<String>,
    pub params: Option<&'a RawValue>,
    pub result: Option<&'a RawValue>,
    pub error: Option<&'a RawValue>,
    /// The `jsonrpc` member as written.
    pub jsonrpc: Option<&'a RawValue>,
    /// Members JSON-RPC does not define (`_meta` beside `params`, anything else): no part of
    /// the pipeline reads them, so they are scanned on their own.
    pub extra: Vec<(String, &'a RawValue)>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Envelope<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let members = Members::deserialize(d)?;
        if members.has_duplicates() {
            return Err(D::Error::custom("duplicate member"));
        }
        // `null` reads as absent, as `Option` does, except for the id.
        let value = |raw: &'a RawValue| (raw.get() != "null").then_some(raw);
        let mut env = Envelope::default();
        for (name, raw) in members.0 {
            match name.as_str() {
                "id" => env.id = Some(raw),
                "method" => {
                    env.method = serde_json::from_str::<Option<String>>(raw.get())
                        .map_err(|_| D::Error::custom("method is not a string"))?
                }
                "params" => env.params = value(raw),
                // `"result": null` is an answer (a method with nothing to return).
                "result" => env.result = Some(raw),
                "error" => env.error = value(raw),
                "jsonrpc" => env.jsonrpc = Some(raw),
                _ => env.extra.push((name, raw)),
            }
        }
        Ok(env)
    }
}

/// The members of a JSON object in order, duplicates kept (a map would keep one of them).
pub struct Members<'a>(pub Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for Members<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visit<'a> {
            type Value = Members<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut m: M,
            ) -> Result<Members<'a>, M::Error> {
                let mut out = Vec::new();
                while let Some(pair) = m.next_entry::<String, &'de RawValue>()? {
                    out.push(pair);
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(Visit(std::marker::PhantomData))
    }
}

impl Members<'_> {
    /// Whether a member's name comes twice: the two could be read either way by a peer.
    pub fn has_duplicates(&self) -> bool {
        let mut seen = std::collections::HashSet::new();
        !self.0.iter().all(|(k, _)| seen.insert(k.as_str()))
    }
}

/// What a message is, by the JSON-RPC rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Request,
    Notification,
    Response,
    /// An object that is none of the above.
    Other,
}

impl Envelope<'_> {
    /// By JSON-RPC 2.0: a message with a `method` is a notification only when it has no `id`
    /// member at all; `"id": null` is a request (MCP forbids it, a lenient server still runs
    /// it, so it goes through the request policy).
    pub fn kind(&self) -> Kind {
        let has_id = self.id.is_some();
        match (&self.method, has_id) {
            (Some(_), true) => Kind::Request,
            (Some(_), false) => Kind::Notification,
            (None, true) if self.result.is_some() || self.error.is_some() => Kind::Response,
            _ => Kind::Other,
        }
    }

    /// The id as its JSON text, for correlation and for echoing back.
    pub fn id_text(&self) -> Option<&str> {
        self.id.map(|id| id.get())
    }
}

/// The key a request is remembered by until its answer: the id's value, not its text, so an
/// answer that writes id `2` as `2.0` or `2e0` still finds its request. Numbers and strings
/// stay apart here (`2` is not `"2"`); see [`id_key_js`] for the fallback.
pub fn id_key(id_text: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(id_text) {
        Ok(serde_json::Value::Number(n)) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (_, Some(u), _) => u.to_string(),
            (_, _, Some(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => (f as i64).to_string(),
            (_, _, Some(f)) => f.to_string(),
            _ => id_text.to_string(),
        },
        Ok(serde_json::Value::String(s)) => serde_json::to_string(&s).unwrap_or_default(),
        _ => id_text.trim().to_string(),
    }
}

/// The id as a JavaScript client reads it when it matches an answer (the MCP TypeScript SDK
/// uses `Number(id)`): a string that reads as a number (`"1"`, `" 1.0"`, `"0x1"`) is that
/// number. The fallback when an answer's exact id ([`id_key`]) matches no request.
pub fn id_key_js(id_text: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(id_text) {
        Ok(serde_json::Value::String(s)) => match js_number(&s) {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => (f as i64).to_string(),
            Some(f) => f.to_string(),
            None => serde_json::to_string(&s).unwrap_or_default(),
        },
        _ => id_key(id_text),
    }
}

/// The number JavaScript's `Number(s)` gives, when finite.
fn js_number(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.is_empty() {
        return Some(0.0);
    }
    let radix = |p: &str, r| u64::from_str_radix(p, r).ok().map(|n| n as f64);
    let n = match t.get(..2) {
        Some("0x" | "0X") => radix(&t[2..], 16),
        Some("0o" | "0O") => radix(&t[2..], 8),
        Some("0b" | "0B") => radix(&t[2..], 2),
        // Rust reads "inf" and "nan", which JavaScript does not.
        _ if t
            .bytes()
            .any(|b| b.is_ascii_alphabetic() && !matches!(b, b'e' | b'E')) =>
        {
            None
        }
        _ => t.parse::<f64>().ok(),
    };
    n.filter(|f| f.is_finite())
}

/// The parsed shape of one line.
pub enum Parsed<'a> {
    Object(Envelope<'a>),
    /// A JSON-RPC batch: the raw elements.
    Batch(Vec<&'a RawValue>),
    /// Valid JSON that is not an object or array (a scalar, `null`).
    OtherJson,
    NotJson,
}

pub fn parse(line: &[u8]) -> Parsed<'_> {
    let first = line.iter().find(|b| !b.is_ascii_whitespace()).copied();
    match first {
        Some(b'{') => match serde_json::from_slice::<Envelope>(line) {
            Ok(env) => Parsed::Object(env),
            Err(_) => Parsed::NotJson,
        },
        Some(b'[') => match serde_json::from_slice::<Vec<&RawValue>>(line) {
            Ok(items) => Parsed::Batch(items),
            Err(_) => Parsed::NotJson,
        },
        _ => match serde_json::from_slice::<serde::de::IgnoredAny>(line) {
            Ok(_) => Parsed::OtherJson,
            Err(_) => Parsed::NotJson,
        },
    }
}

/// `line` with the bytes of `part` (a slice of it) replaced by `with`.
pub fn splice(line: &[u8], part: &RawValue, with: &[u8]) -> Vec<u8> {
    let start = part.get().as_ptr() as usize - line.as_ptr() as usize;
    let end = start + part.get().len();
    let mut out = Vec::with_capacity(line.len() + with.len());
    out.extend_from_slice(&line[..start]);
    out.extend_from_slice(with);
    out.extend_from_slice(&line[end..]);
    out
}

/// A JSON array of `items`, each already JSON (what is left of a listing, to splice in).
pub fn array_of<T: AsRef<[u8]>>(items: &[T]) -> Vec<u8> {
    let mut out = b"[".to_vec();
    for (k, item) in items.iter().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        out.extend_from_slice(item.as_ref());
    }
    out.push(b']');
    out
}

/// `line` with each part (a slice of it; parts do not overlap) replaced by its bytes.
pub fn splice_many(line: &[u8], mut parts: Vec<(&RawValue, Vec<u8>)>) -> Vec<u8> {
    let offset = |p: &RawValue| p.get().as_ptr() as usize - line.as_ptr() as usize;
    parts.sort_by_key(|(p, _)| offset(p));
    let mut out = Vec::with_capacity(line.len());
    let mut at = 0;
    for (part, with) in parts {
        let start = offset(part);
        out.extend_from_slice(&line[at..start]);
        out.extend_from_slice(&with);
        at = start + part.get().len();
    }
    out.extend_from_slice(&line[at..]);
    out
}

/// A JSON-RPC error response for request `id` (its JSON text).
pub fn error_response(id: &str, code: i64, message: &str, data: serde_json::Value) -> Vec<u8> {
    let mut out = format!("{{\"jsonrpc\":\"2.0\",\"id\":{id},\"error\":").into_bytes();
    let err = serde_json::json!({ "code": code, "message": message, "data": data });
    out.extend(serde_json::to_vec(&err).unwrap_or_default());
    out.push(b'}');
    out
}

/// A refused `tools/call` answered as a tool result the model can read.
pub fn tool_error_result(id: &str, text: &str) -> Vec<u8> {
    let result =
        serde_json::json!({ "content": [{ "type": "text", "text": text }], "isError": true });
    let mut out = format!("{{\"jsonrpc\":\"2.0\",\"id\":{id},\"result\":").into_bytes();
    out.extend(serde_json::to_vec(&result).unwrap_or_default());
    out.push(b'}');
    out
}

pub const TRUST_DENIED: i64 = -32001;
pub const RATE_LIMITED: i64 = -32002;
pub const REQUEST_CONTENT: i64 = -32003;
pub const RESPONSE_CONTENT: i64 = -32004;
pub const INVALID_REQUEST: i64 = -32600;
pub const INVALID_PARAMS: i64 = -32602;
pub const PARSE_ERROR: i64 = -32700;

/// Whether `json` reads the same to every parser as far as member names go: no object at any
/// depth has a name twice (serde_json keeps the last, others the first). `false` for JSON that
/// does not parse, or nests deeper than serde_json reads.
pub fn unique_names_throughout(json: &str) -> bool {
    struct Unique;
    impl<'de> Deserialize<'de> for Unique {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(UniqueVisitor)
        }
    }
    struct UniqueVisitor;
    impl<'de> serde::de::Visitor<'de> for UniqueVisitor {
        type Value = Unique;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_bool<E>(self, _: bool) -> Result<Unique, E> {
            Ok(Unique)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Unique, E> {
            Ok(Unique)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Unique, E> {
            Ok(Unique)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Unique, E> {
            Ok(Unique)
        }
        fn visit_str<E>(self, _: &str) -> Result<Unique, E> {
            Ok(Unique)
        }
        fn visit_unit<E>(self) -> Result<Unique, E> {
            Ok(Unique)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut s: A) -> Result<Unique, A::Error> {
            while s.next_element::<Unique>()?.is_some() {}
            Ok(Unique)
        }
        fn visit_map<M: serde::de::MapAccess<'de>>(self, mut m: M) -> Result<Unique, M::Error> {
            // A set: a hostile object may have a million members.
            let mut names: std::collections::HashSet<std::borrow::Cow<'de, str>> =
                std::collections::HashSet::new();
            while let Some(name) = m.next_key::<std::borrow::Cow<'de, str>>()? {
                if !names.insert(name) {
                    return Err(serde::de::Error::custom("a member name comes twice"));
                }
                m.next_value::<Unique>()?;
            }
            Ok(Unique)
        }
    }
    serde_json::from_str::<Unique>(json).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_shapes() {
        let Parsed::Object(e) = parse(br#"{"jsonrpc":"2.0","id":0,"method":"ping"}"#) else {
            panic!()
        };
        assert_eq!(e.kind(), Kind::Request);
        assert_eq!(e.id_text(), Some("0"));
        let Parsed::Object(e) = parse(br#"{"jsonrpc":"2.0","method":"x","params":null}"#) else {
            panic!()
        };
        assert_eq!(e.kind(), Kind::Notification);
        assert!(matches!(parse(b"[1,{}]"), Parsed::Batch(v) if v.len() == 2));
        assert!(matches!(parse(b"42"), Parsed::OtherJson));
        assert!(matches!(parse(b"null"), Parsed::OtherJson));
        assert!(matches!(parse(b"Content-Length: 5"), Parsed::NotJson));
        // Duplicate keys are refused, not resolved one way or the other.
        assert!(matches!(
            parse(br#"{"id":1,"method":"ping","method":"tools/call"}"#),
            Parsed::NotJson
        ));
    }

    #[test]
    fn ids_are_matched_by_value_and_type() {
        assert_eq!(id_key("2"), id_key("2.0"));
        assert_eq!(id_key("2"), id_key("2e0"));
        assert_eq!(id_key("-7"), id_key("-7.00"));
        assert_eq!(id_key(r#""ab""#), id_key(r#""\u0061b""#));
        assert_ne!(id_key("2"), id_key(r#""2""#));
        // As a JavaScript client reads them: a numeric string answers the number.
        assert_eq!(id_key_js("2"), id_key_js(r#""2""#));
        assert_eq!(id_key_js("1"), id_key_js(r#"" 1.0""#));
        assert_eq!(id_key_js("1"), id_key_js(r#""0x1""#));
        assert_ne!(id_key_js("2"), id_key_js(r#""2a""#));
        assert_ne!(id_key_js(r#""inf""#), id_key_js(r#""nan""#));
        assert_ne!(id_key("2"), id_key("2.5"));
        let Parsed::Object(e) = parse(br#"{"jsonrpc":"2.0","id":null,"method":"tools/call"}"#)
        else {
            panic!()
        };
        assert_eq!(
            e.kind(),
            Kind::Request,
            "an id member, even null, makes a request"
        );
    }

    #[test]
    fn splice_changes_only_the_part() {
        let line = br#"{"id":1,"params":{"a":"x"},"z":"caf\u00e9"}"#;
        let Parsed::Object(e) = parse(line) else {
            panic!()
        };
        let out = splice(line, e.params.unwrap(), br#"{"a":"y"}"#);
        assert_eq!(out, br#"{"id":1,"params":{"a":"y"},"z":"caf\u00e9"}"#);
    }
}
