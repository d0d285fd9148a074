//! Text stored as UTF-16 with a byte-order mark — what Windows tools write: PowerShell
//! transcripts and `Out-File`, `reg export`, SQL Server scripts. Read as it is, every other
//! byte is a NUL, so it looked binary and was skipped, and no rule could match across the
//! NULs anyway. It is transcoded to UTF-8 (the mark dropped, unpaired surrogates as U+FFFD)
//! and scanned as a stream; `--redact-to` writes the copy back as UTF-16 with its mark.

use std::io::{BufRead, BufReader};

/// The byte order of a UTF-16 input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Utf16 {
    Le,
    Be,
}

impl Utf16 {
    /// The byte order a byte-order mark at the start of `head` names; none without one.
    /// `FF FE 00 00` opens UTF-32LE, which is not read as text.
    pub fn sniff(head: &[u8]) -> Option<Utf16> {
        match head {
            [0xFF, 0xFE, 0, 0, ..] => None,
            [0xFF, 0xFE, ..] => Some(Utf16::Le),
            [0xFE, 0xFF, ..] => Some(Utf16::Be),
            _ => None,
        }
    }

    fn encoding(self) -> &'static encoding_rs::Encoding {
        match self {
            Utf16::Le => encoding_rs::UTF_16LE,
            Utf16::Be => encoding_rs::UTF_16BE,
        }
    }

    /// `r` (the mark included) as a stream of UTF-8.
    pub fn reader<'a>(self, r: Box<dyn BufRead + 'a>) -> Box<dyn BufRead + 'a> {
        let decoded = encoding_rs_io::DecodeReaderBytesBuilder::new()
            .encoding(Some(self.encoding()))
            .build(r);
        Box::new(BufReader::with_capacity(1 << 20, decoded))
    }

    /// `bytes` (the mark included) as UTF-8.
    pub fn decode(self, bytes: &[u8]) -> Vec<u8> {
        let (text, _) = self.encoding().decode_with_bom_removal(bytes);
        text.into_owned().into_bytes()
    }

    /// UTF-8 `text` as UTF-16 in this byte order, with the mark first.
    pub fn encode(self, text: &[u8]) -> Vec<u8> {
        let text = String::from_utf8_lossy(text);
        let mut out = Vec::with_capacity(2 + 2 * text.len());
        for unit in std::iter::once(0xFEFF).chain(text.encode_utf16()) {
            out.extend_from_slice(&match self {
                Utf16::Le => unit.to_le_bytes(),
                Utf16::Be => unit.to_be_bytes(),
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn marks_name_the_order_and_text_round_trips() {
        let text = "user=bob\r\npassword=hunter2 — café 🙂\n";
        for order in [Utf16::Le, Utf16::Be] {
            let bytes = order.encode(text.as_bytes());
            assert_eq!(Utf16::sniff(&bytes), Some(order));
            assert_eq!(order.decode(&bytes), text.as_bytes());
            let mut streamed = String::new();
            order
                .reader(Box::new(&bytes[..]))
                .read_to_string(&mut streamed)
                .unwrap();
            assert_eq!(streamed, text);
        }
        assert_eq!(Utf16::sniff(b"plain"), None);
        assert_eq!(Utf16::sniff(&[0xFF, 0xFE, 0, 0, b'a', 0, 0, 0]), None);
        assert_eq!(Utf16::sniff(&[0xEF, 0xBB, 0xBF, b'a']), None);
    }

    #[test]
    fn broken_text_decodes_with_replacement_characters() {
        // An unpaired high surrogate, then a lone byte at the end.
        let bytes = [0xFF, 0xFE, b'a', 0, 0x00, 0xD8, b'b', 0, b'c'];
        assert_eq!(
            String::from_utf8(Utf16::Le.decode(&bytes)).unwrap(),
            "a\u{fffd}b\u{fffd}"
        );
    }
}
