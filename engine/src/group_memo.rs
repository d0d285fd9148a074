//! Where a rule's reported group lies in a match, remembered by the match's bytes. Finding a
//! match takes regex-automata's DFAs; finding group 1 inside it takes its capture engine over
//! the match, ~1 µs through counted runs such as `[A-Za-z0-9_-]{40}` (a quarter of the scan
//! when findings are dense). Text that repeats a secret (the same token on every line of a
//! log) pays the capture engine once per distinct match.
//!
//! The group depends only on the match's bytes and the bytes just outside it (look-around:
//! `\b`, `^`, `$`) and whether there are any: the key is those bytes. A small direct-mapped
//! table per thread for all rules, the rule's confirmer named in the key (1,024 slots of keys
//! up to 256 bytes: at most ~280 KB a thread; 150 distinct matches of each of three rules in
//! a text still mostly hit): a slot holds the last match that hashed to it.

/// Matches longer than this are not remembered (a key is copied in).
pub const LONGEST_KEY: usize = 256;
const SLOTS: usize = 1024;

/// The group's start and end, relative to the match start.
pub type Group = (usize, usize);

#[derive(Default)]
pub struct GroupMemo {
    slots: Vec<Option<(Vec<u8>, Group)>>,
}

/// Writes into `buf` the key of the match `start..end` of `hay` for the confirmer `id`: the
/// id, a byte saying whether a byte precedes the match and whether one follows, then the
/// match with those bytes. False, and nothing written, for a match too long to keep.
pub fn key(id: u64, hay: &[u8], start: usize, end: usize, buf: &mut Vec<u8>) -> bool {
    if end - start > LONGEST_KEY {
        return false;
    }
    buf.clear();
    buf.extend_from_slice(&id.to_le_bytes());
    buf.push(u8::from(start > 0) | u8::from(end < hay.len()) << 1);
    buf.extend_from_slice(&hay[start.saturating_sub(1)..(end + 1).min(hay.len())]);
    true
}

/// A hash of a key: eight bytes at a time, each piece mixed in with one multiply.
fn slot_of(key: &[u8]) -> usize {
    let mut h = key.len() as u64;
    for piece in key.chunks(8) {
        let mut b = [0u8; 8];
        b[..piece.len()].copy_from_slice(piece);
        let x = (h ^ u64::from_le_bytes(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        h = x ^ (x >> 29);
    }
    (h >> 32) as usize % SLOTS
}

impl GroupMemo {
    pub fn get(&self, key: &[u8]) -> Option<Group> {
        match self.slots.get(slot_of(key))? {
            Some((k, group)) if k.as_slice() == key => Some(*group),
            _ => None,
        }
    }

    pub fn put(&mut self, key: &[u8], group: Group) {
        if self.slots.is_empty() {
            self.slots.resize_with(SLOTS, || None);
        }
        let slot = &mut self.slots[slot_of(key)];
        match slot {
            Some((k, g)) => {
                k.clear();
                k.extend_from_slice(key);
                *g = group;
            }
            None => *slot = Some((key.to_vec(), group)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_is_found_only_under_its_own_key() {
        let mut memo = GroupMemo::default();
        let mut k = Vec::new();
        assert!(key(7, b"xtoken=abc", 1, 10, &mut k));
        assert_eq!(memo.get(&k), None);
        memo.put(&k, (6, 9));
        assert_eq!(memo.get(&k), Some((6, 9)));
        // The same match bytes after another byte, or at the start of the text, differ.
        let mut other = Vec::new();
        key(7, b"_token=abc", 1, 10, &mut other);
        assert_eq!(memo.get(&other), None);
        key(7, b"token=abc", 0, 9, &mut other);
        assert_eq!(memo.get(&other), None);
        // Or before another byte.
        key(7, b"xtoken=abcd", 1, 10, &mut other);
        assert_eq!(memo.get(&other), None);
        assert!(!key(7, &[b'a'; 400], 0, 400, &mut other));
        // Or for another rule.
        key(8, b"xtoken=abc", 1, 10, &mut other);
        assert_eq!(memo.get(&other), None);
    }
}
