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
        let mut mac = self.mac.clone();
        mac.update(value);
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let out = mac.finalize().into_bytes();
        let mut s = String::with_capacity(32);
        for b in &out[..16] {
            s.push(HEX[(b >> 4) as usize] as char);
            s.push(HEX[(b & 15) as usize] as char);
        }
        s
    }
}
