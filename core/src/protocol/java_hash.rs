//! Java `String` semantics the protocol depends on: `String.hashCode` (tag codes in
//! subscriptions, sharding-key queue selection) and `String.compareTo` (queue ordering, which
//! must match Java so Rust and Java consumers of one group allocate queues identically).
//!
//! Java strings are sequences of UTF-16 code units, so both functions work on
//! `str::encode_utf16`, not on UTF-8 bytes or `char`s.

use std::cmp::Ordering;

/// Java `String.hashCode`: `h = 31 * h + unit` over the UTF-16 code units, wrapping on
/// overflow. `"TagA"` → 2598919, `"*"` → 42, `""` → 0.
pub fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, unit| h.wrapping_mul(31).wrapping_add(i32::from(unit)))
}

/// Java `String.compareTo`: lexicographic order of UTF-16 code units.
///
/// This differs from Rust's `str` order (UTF-8 bytes, i.e. code points) only when a character
/// outside the BMP (a surrogate pair, units 0xD800..=0xDFFF) meets a BMP character in
/// U+E000..=U+FFFF; Java orders the surrogate first.
pub fn java_string_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// Queue index the Alibaba Cloud ONS order producer picks for a sharding key among
/// `queue_count` queues (the ONS `OrderProducer` selector):
/// `select = Math.abs(key.hashCode()); if (select < 0) select = 0; select % size`.
///
/// `Math.abs(Integer.MIN_VALUE)` is still negative in Java, and ONS maps that one hash
/// (e.g. the key `"polygenelubricants"`) to queue 0. For every other key this equals
/// [`select_queue_by_hash_index`] (Apache `SelectMessageQueueByHash`), and for the
/// `i32::MIN` key both agree whenever `queue_count` is a power of two (then `MIN % n == 0`).
///
/// Returns 0 when `queue_count` is 0; callers must check for an empty queue list first.
pub fn ons_order_queue_index(sharding_key: &str, queue_count: usize) -> usize {
    if queue_count == 0 {
        return 0;
    }
    let hash = java_string_hash(sharding_key);
    // `checked_abs` is `None` exactly for i32::MIN, the value Java leaves negative.
    let select = hash.checked_abs().unwrap_or(0);
    // `select` is in 0..=i32::MAX, so the conversion cannot fail.
    usize::try_from(select).unwrap_or(0) % queue_count
}

/// Queue index Apache's `SelectMessageQueueByHash` picks:
/// `value = key.hashCode() % size; if (value < 0) value = Math.abs(value);`.
///
/// Taking the remainder first means `i32::MIN` is no special case here (its remainder is
/// greater than `-size`); it differs from [`ons_order_queue_index`] only for that one hash and
/// a queue count that is not a power of two. Returns 0 when `queue_count` is 0.
pub fn select_queue_by_hash_index(key: &str, queue_count: usize) -> usize {
    if queue_count == 0 {
        return 0;
    }
    // Java's `List.size()` is an int; larger counts cannot occur in Java. Widening to i64 keeps
    // the arithmetic exact for every count Java can have and never overflows.
    let size = i64::try_from(queue_count).unwrap_or(i64::MAX);
    let value = (i64::from(java_string_hash(key)) % size).abs();
    usize::try_from(value).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hash_matches_known_java_values() {
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash("TagA"), 2598919);
        assert_eq!(java_string_hash("*"), 42);
        assert_eq!(java_string_hash("hello"), 99162322);
        assert_eq!(java_string_hash("Aa"), 2112);
        assert_eq!(java_string_hash("BB"), 2112);
        assert_eq!(java_string_hash("polygenelubricants"), i32::MIN);
        // "中国".hashCode() == 642672 in Java (U+4E2D * 31 + U+56FD).
        assert_eq!(java_string_hash("中国"), 642672);
    }

    #[test]
    fn hash_uses_utf16_surrogate_pairs() {
        // U+1F600 is the surrogate pair D83D DE00 in UTF-16.
        let expected = 0xD83D_i32 * 31 + 0xDE00;
        assert_eq!(expected, 1772899);
        assert_eq!(java_string_hash("😀"), expected);
        // Not the code point: hashing U+1F600 as one unit would give 0x1F600.
        assert_ne!(java_string_hash("😀"), 0x1F600);
    }

    #[test]
    fn compare_follows_utf16_units() {
        assert_eq!(java_string_cmp("broker-a", "broker-b"), Ordering::Less);
        assert_eq!(java_string_cmp("a", "a"), Ordering::Equal);
        assert_eq!(java_string_cmp("ab", "a"), Ordering::Greater);
        // U+FF01 (unit 0xFF01) sorts after U+1F600 (units D83D DE00) in Java, before it in
        // UTF-8 byte order.
        assert_eq!(java_string_cmp("😀", "\u{FF01}"), Ordering::Less);
        assert_eq!("😀".cmp("\u{FF01}"), Ordering::Greater);
    }

    #[test]
    fn ons_index_pins_min_value_key() {
        // hash == i32::MIN: ONS maps it to 0 for every queue count.
        for n in 1..=17 {
            assert_eq!(ons_order_queue_index("polygenelubricants", n), 0);
        }
        // Apache's selector takes the remainder first: MIN % 3 == -2 -> 2.
        assert_eq!(select_queue_by_hash_index("polygenelubricants", 3), 2);
        assert_eq!(select_queue_by_hash_index("polygenelubricants", 8), 0);
        assert_eq!(select_queue_by_hash_index("polygenelubricants", 1), 0);
    }

    #[test]
    fn ons_index_known_values() {
        // "TagA" -> 2598919; 2598919 % 8 == 7, % 3 == 1.
        assert_eq!(ons_order_queue_index("TagA", 8), 7);
        assert_eq!(ons_order_queue_index("TagA", 3), 1);
        assert_eq!(ons_order_queue_index("anything", 0), 0);
        assert_eq!(select_queue_by_hash_index("anything", 0), 0);
    }

    #[test]
    fn negative_hash_keys() {
        // "hellohello..." style keys overflow into negatives; check one explicitly.
        let key = "ZZZZZZZZ";
        let h = java_string_hash(key);
        assert!(h < 0, "expected a negative hash, got {h}");
        let n = 7;
        let java_abs_then_mod = (h.wrapping_abs() as i64 % n as i64) as usize;
        assert_eq!(ons_order_queue_index(key, n), java_abs_then_mod);
        assert_eq!(select_queue_by_hash_index(key, n), java_abs_then_mod);
    }

    proptest! {
        #[test]
        fn hash_is_the_polynomial(s in ".*") {
            let mut h: i64 = 0;
            for u in s.encode_utf16() {
                h = (h * 31 + i64::from(u)) & 0xFFFF_FFFF;
            }
            prop_assert_eq!(java_string_hash(&s), h as u32 as i32);
        }

        #[test]
        fn selectors_agree_except_min(s in ".*", n in 1usize..2000) {
            let a = ons_order_queue_index(&s, n);
            let b = select_queue_by_hash_index(&s, n);
            prop_assert!(a < n && b < n);
            if java_string_hash(&s) != i32::MIN {
                prop_assert_eq!(a, b);
            }
        }

        #[test]
        fn cmp_agrees_with_utf16_vectors(a in ".*", b in ".*") {
            let ua: Vec<u16> = a.encode_utf16().collect();
            let ub: Vec<u16> = b.encode_utf16().collect();
            prop_assert_eq!(java_string_cmp(&a, &b), ua.cmp(&ub));
        }
    }
}
