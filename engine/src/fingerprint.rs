//! Fingerprints identify a matched value without storing it: HMAC-SHA256 of the bytes under a
//! key, truncated to 128 bits, hex. The same value gives the same fingerprint across runs with
//! the same key, which is what grouping and allowlists need. [`DEFAULT_FINGERPRINT_KEY`] is
//! public: a caller that shows fingerprints to anyone sets a private key
//! (`ScannerConfig::fingerprint_key`; the CLI always does), or values with few candidates (an
//! SSN) could be recovered by trying each.

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const DEFAULT_FINGERPRINT_KEY: &[u8] = b"mcp-parapet fingerprint v1";

#[derive(Clone)]
pub struct Fingerprinter {
    mac: Hmac<Sha256>,
}

impl Fingerprinter {
    pub fn new(key: &[u8]) -> Self {
        Fingerprinter {
            mac: Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length"),
        }
    }

    pub fn fingerprint(&self, value: &[u8]) -> String {
        as_string(&self.hex(value))
    }

    /// The fingerprint's 32 hex digits, without an allocation.
    fn hex(&self, value: &[u8]) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(value);
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let out = mac.finalize().into_bytes();
        let mut hex = [0u8; 32];
        for (i, b) in out[..16].iter().enumerate() {
            hex[2 * i] = HEX[(b >> 4) as usize];
            hex[2 * i + 1] = HEX[(b & 15) as usize];
        }
        hex
    }
}

fn as_string(hex: &[u8; 32]) -> String {
    std::str::from_utf8(hex).expect("hex digits").to_owned()
}

/// The fingerprints of one scan's findings, taken in order: a value the same as the one
/// before it (one phrase repeated line after line, the same address in every log line)
/// reuses that fingerprint instead of computing the HMAC again.
pub struct Memo<'f, 'v> {
    fingerprinter: &'f Fingerprinter,
    last: Option<(&'v [u8], [u8; 32])>,
}

impl<'f, 'v> Memo<'f, 'v> {
    pub fn new(fingerprinter: &'f Fingerprinter) -> Self {
        Memo {
            fingerprinter,
            last: None,
        }
    }

    pub fn fingerprint(&mut self, value: &'v [u8]) -> String {
        match &self.last {
            Some((last, hex)) if *last == value => as_string(hex),
            _ => {
                let hex = self.fingerprinter.hex(value);
                self.last = Some((value, hex));
                as_string(&hex)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memo_gives_what_the_fingerprinter_gives() {
        let fp = Fingerprinter::new(b"key");
        let mut memo = Memo::new(&fp);
        for value in [&b"abc"[..], b"abc", b"abd", b"", b"abc"] {
            assert_eq!(memo.fingerprint(value), fp.fingerprint(value));
        }
        assert_eq!(fp.fingerprint(b"abc").len(), 32);
        assert_ne!(
            fp.fingerprint(b"abc"),
            Fingerprinter::new(b"other").fingerprint(b"abc")
        );
    }
}
