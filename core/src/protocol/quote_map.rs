//! Where the quotes of a short JSON header are, found in one pass before it is read.
//!
//! Servers answer in JSON unless configured otherwise (docs/remoting-protocol.md §1.4), with
//! headers of a few hundred bytes (a send's answer is about 260): about twenty strings of 4 to
//! 32 bytes. Finding each string's end by scanning it, with the checks around each scan, cost
//! about 127 instructions a string, some 2.7k of a sync send's 22k (callgrind). When a header is
//! *plain* (ASCII, without a backslash or a control character anywhere), every string ends at
//! the next quote, so one pass over the header, 16 bytes at a time, marks its quotes and tells
//! whether it is plain, and each string's end is then a bit search (about 57 instructions a
//! string with the reader's checks, the pass about 370 for a send's answer). A header that is
//! not plain (an escaped remark, non-ASCII text) or is longer than [`MAX_BYTES`] gets no map,
//! and its reader scans its strings as before.

/// The longest header mapped, in bytes (one bit each).
pub(crate) const MAX_BYTES: usize = 64 * WORDS;
const WORDS: usize = 8;

/// The quotes of a plain header: bit `i % 64` of word `i / 64` for byte `i`.
pub(crate) struct QuoteMap {
    bits: [u64; WORDS],
}

impl QuoteMap {
    /// The map of `header`; `None` when it is longer than [`MAX_BYTES`] or not plain.
    pub(crate) fn of(header: &[u8]) -> Option<QuoteMap> {
        if header.len() > MAX_BYTES {
            return None;
        }
        let mut bits = [0u64; WORDS];
        scan(header, &mut bits).then_some(QuoteMap { bits })
    }

    /// The first quote at or after `from`, if any.
    #[inline]
    pub(crate) fn next(&self, from: usize) -> Option<usize> {
        let mut word = from / 64;
        let mut bits = *self.bits.get(word)? & (!0u64 << (from % 64));
        while bits == 0 {
            word += 1;
            bits = *self.bits.get(word)?;
        }
        Some(word * 64 + bits.trailing_zeros() as usize)
    }
}

/// Sets the bit of each quote of `header` (at most [`MAX_BYTES`]) in `bits`, which start
/// clear; whether the header is plain.
fn scan(header: &[u8], bits: &mut [u64; WORDS]) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        scan_sse2(header, bits)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        scan_words(header, bits)
    }
}

/// [`scan`] 16 bytes at a time with SSE2, which every x86_64 processor has.
#[cfg(target_arch = "x86_64")]
fn scan_sse2(header: &[u8], bits: &mut [u64; WORDS]) -> bool {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
        _mm_setzero_si128,
    };
    let chunks = header.chunks_exact(16);
    let tail = chunks.remainder();
    // SAFETY: SSE2 is part of the x86_64 baseline, so these intrinsics run on every x86_64
    // processor; each load reads the 16 bytes of one `chunks_exact(16)` chunk.
    let odd = unsafe {
        let quote = _mm_set1_epi8(b'"' as i8);
        let backslash = _mm_set1_epi8(b'\\' as i8);
        let last_control = _mm_set1_epi8(0x1f);
        let mut odd = _mm_setzero_si128();
        for (i, chunk) in chunks.enumerate() {
            let v = _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>());
            let quotes = _mm_movemask_epi8(_mm_cmpeq_epi8(v, quote)) as u16;
            bits[i / 4] |= u64::from(quotes) << (16 * (i % 4));
            // A control character is one the unsigned minimum with 0x1f leaves unchanged; a
            // byte that is not ASCII has its high bit set, which is what the mask reads.
            let control = _mm_cmpeq_epi8(_mm_min_epu8(v, last_control), v);
            odd = _mm_or_si128(odd, _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, backslash), control), v));
        }
        _mm_movemask_epi8(odd) != 0
    };
    !odd && scan_bytes(tail, header.len() - tail.len(), bits)
}

/// [`scan`] 8 bytes at a time in a 64-bit word, for processors without [`scan_sse2`].
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn scan_words(header: &[u8], bits: &mut [u64; WORDS]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    /// The high bit of each byte of `x` that is zero, and of no other (no borrows between
    /// bytes: the low seven bits are added apart from the high one).
    fn zero_bytes(x: u64) -> u64 {
        !(((x & LOW7) + LOW7) | x) & HIGHS
    }
    let words = header.chunks_exact(8);
    let tail = words.remainder();
    let mut odd = 0u64;
    for (i, word) in words.enumerate() {
        let w = u64::from_le_bytes([word[0], word[1], word[2], word[3], word[4], word[5], word[6], word[7]]);
        // Byte k's flag to bit k: shifted down, each flag is bit 8k, which the multiplier
        // moves to bit 56 + k, without carries (each product bit is set by one pair at most).
        let quotes = ((zero_bytes(w ^ (ONES * u64::from(b'"'))) >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56;
        bits[i / 8] |= quotes << (8 * (i % 8));
        // Control characters are the bytes whose top three bits are clear.
        odd |= zero_bytes(w ^ (ONES * u64::from(b'\\'))) | zero_bytes(w & (ONES * 0xe0)) | (w & HIGHS);
    }
    odd == 0 && scan_bytes(tail, header.len() - tail.len(), bits)
}

/// [`scan`] of the last bytes, one at a time: `tail` starts at byte `at` of the header.
fn scan_bytes(tail: &[u8], at: usize, bits: &mut [u64; WORDS]) -> bool {
    for (k, &b) in tail.iter().enumerate() {
        if b == b'"' {
            let i = at + k;
            bits[i / 64] |= 1 << (i % 64);
        } else if b == b'\\' || b < 0x20 || !b.is_ascii() {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The quotes and the plainness, a byte at a time.
    fn by_bytes(header: &[u8]) -> Option<Vec<usize>> {
        let plain = header.iter().all(|&b| b != b'\\' && b >= 0x20 && b.is_ascii());
        (header.len() <= MAX_BYTES && plain)
            .then(|| header.iter().enumerate().filter(|(_, &b)| b == b'"').map(|(i, _)| i).collect())
    }

    /// Every quote the map holds, in order, by `next`.
    fn quotes_of(map: &QuoteMap) -> Vec<usize> {
        let mut quotes = Vec::new();
        let mut from = 0;
        while let Some(q) = map.next(from) {
            quotes.push(q);
            from = q + 1;
        }
        quotes
    }

    /// Plain headers of every length to past [`MAX_BYTES`], some with one byte that is not
    /// plain (or may not be: 0x7f is ASCII and no control character) put in somewhere.
    fn header_bytes() -> impl Strategy<Value = Vec<u8>> {
        let plain_byte = prop_oneof![Just(b'"'), b' '..=b'[', b']'..=b'~'];
        let odd_byte = prop_oneof![Just(b'\\'), 0u8..0x20, 0x7fu8..=0xff];
        let plain = proptest::collection::vec(plain_byte, 0..=MAX_BYTES + 8);
        (plain, proptest::option::of((any::<usize>(), odd_byte))).prop_map(|(mut header, odd)| {
            if let Some((at, b)) = odd {
                header.insert(at % (header.len() + 1), b);
            }
            header
        })
    }

    #[test]
    fn a_send_answer_is_mapped() {
        let header = br#"{"code":0,"extFields":{"queueId":"0","msgId":"7F0000010000561D000000000E834F7E"},"flag":1}"#;
        let map = QuoteMap::of(header).expect("plain");
        assert_eq!(Some(quotes_of(&map)), by_bytes(header));
        assert_eq!(map.next(2), Some(6), "the quote closing \"code\"");
        assert!(map.next(header.len()).is_none());
        assert!(QuoteMap::of(br#"{"remark":"a\"b"}"#).is_none(), "an escape");
        assert!(QuoteMap::of("{\"remark\":\"é\"}".as_bytes()).is_none(), "not ASCII");
        assert!(QuoteMap::of(b"{\"code\":\t0}").is_none(), "a control character");
        assert!(QuoteMap::of(&[b' '; MAX_BYTES + 1]).is_none(), "too long");
        assert!(QuoteMap::of(&[b'"'; MAX_BYTES]).is_some_and(|m| m.next(MAX_BYTES - 1) == Some(MAX_BYTES - 1)));
    }

    proptest! {
        #[test]
        fn the_map_holds_every_quote_of_a_plain_header(header in header_bytes()) {
            let expected = by_bytes(&header);
            prop_assert_eq!(QuoteMap::of(&header).map(|m| quotes_of(&m)), expected.clone());
            // The portable scan agrees, where the vector one is used.
            if header.len() <= MAX_BYTES {
                let mut bits = [0u64; WORDS];
                let plain = scan_words(&header, &mut bits);
                prop_assert_eq!(plain.then(|| quotes_of(&QuoteMap { bits })), expected);
            }
        }
    }
}
