//! The hashing of the client's own hot tables ([`WordHashing`]), where std's SipHash cost more
//! than the rest of the work around a lookup: a trace message's index keys (docs/traces.md),
//! the running listener calls and consumed offsets a consumer updates for every message, and
//! what every request looks up (its connection, the requests awaiting answers on it, the
//! topic's route, the broker's send latency): about 650 instructions of a sync send's SipHash.

use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;

/// Hashes a word (8 bytes) at a time from a seed drawn once per process, so keys chosen to
/// collide cannot be prepared ahead. Not a cryptographic hash: fit for tables whose keys come
/// from this process or its brokers, a few operations per word where SipHash takes dozens.
#[derive(Clone, Copy)]
pub(crate) struct WordHashing {
    seed: u64,
}

impl Default for WordHashing {
    fn default() -> Self {
        static SEED: OnceLock<u64> = OnceLock::new();
        WordHashing { seed: *SEED.get_or_init(rand::random) }
    }
}

impl BuildHasher for WordHashing {
    type Hasher = WordHasher;

    fn build_hasher(&self) -> WordHasher {
        WordHasher(self.seed)
    }
}

pub(crate) struct WordHasher(u64);

/// One round of mixing: multiplies by an odd constant (the 64-bit golden ratio), then folds
/// the high half into the low one, so every input bit reaches the bits a table uses.
fn mix(x: u64) -> u64 {
    let x = x.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    x ^ (x >> 32)
}

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            self.0 = mix(self.0 ^ u64::from_le_bytes(w));
        }
        let rest = words.remainder();
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        self.0 = mix(self.0 ^ u64::from_le_bytes(w) ^ ((rest.len() as u64) << 59));
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = mix(self.0 ^ n);
    }

    // Integer keys (the pending requests' i32 opaque ids, queue ids) and the marker byte std
    // ends a `str` with are one word, not the byte-slice path's loop and padding.
    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_i32(&mut self, n: i32) {
        self.write_u32(n as u32);
    }

    fn write_i64(&mut self, n: i64) {
        self.write_u64(n as u64);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn finish(&self) -> u64 {
        mix(self.0 ^ (self.0 >> 29))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn equal_keys_hash_alike_and_near_keys_spread() {
        let hashing = WordHashing::default();
        assert_eq!(hashing.hash_one("TopicA"), WordHashing::default().hash_one("TopicA"));
        // Keys that differ in one byte or only in length, and sequential ids, land in
        // different places of a 1024-slot table (hashbrown takes the low bits for the slot).
        let texts: Vec<String> = (0..512).map(|i| format!("{:032X}", i)).collect();
        let slots: HashSet<u64> = texts.iter().map(|t| hashing.hash_one(t) & 1023).collect();
        assert!(slots.len() > 300, "{} slots for 512 ids", slots.len());
        let ids: HashSet<u64> = (0u64..512).map(|i| hashing.hash_one(i) & 1023).collect();
        assert!(ids.len() > 300, "{} slots for 512 ids", ids.len());
        let opaques: HashSet<u64> = (0i32..512).map(|i| hashing.hash_one(i) & 1023).collect();
        assert!(opaques.len() > 300, "{} slots for 512 request ids", opaques.len());
        assert_ne!(hashing.hash_one(-1i32), hashing.hash_one(1i32));
        assert_ne!(hashing.hash_one(&b"ab"[..]), hashing.hash_one(&b"ab\0"[..]));
    }
}
