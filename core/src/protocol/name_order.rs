//! Byte order of short names (message property names, a command's ext field names) through
//! their first eight bytes read as one number: sorting and looking up such names then costs an
//! integer comparison where a byte-slice comparison was a call to `memcmp`. Most names the
//! protocol uses fit in those eight bytes, so most comparisons end there.

use std::cmp::Ordering;

/// The bytes of a name [`name_prefix`] takes: a word.
pub(crate) const PREFIX_LEN: usize = 8;

/// The first eight bytes of `name`, zero-padded, big-endian: of two names with different
/// prefixes, the one with the lower prefix comes first in byte order (a padding zero stands
/// where the shorter name has ended, and an ended name comes first). Equal prefixes leave the
/// rest to compare ([`cmp_prefixed`]): `"AB"` and `"AB\0"` have the same one.
pub(crate) fn name_prefix(name: &[u8]) -> u64 {
    match name.first_chunk::<PREFIX_LEN>() {
        Some(first) => u64::from_be_bytes(*first),
        None => {
            let mut word = [0u8; PREFIX_LEN];
            for (to, from) in word.iter_mut().zip(name) {
                *to = *from;
            }
            u64::from_be_bytes(word)
        }
    }
}

/// `a` against `b` in byte order, given their [`name_prefix`]es.
pub(crate) fn cmp_prefixed(a_prefix: u64, a: &[u8], b_prefix: u64, b: &[u8]) -> Ordering {
    a_prefix.cmp(&b_prefix).then_with(|| {
        if a.len().min(b.len()) <= PREFIX_LEN {
            // Equal prefixes and one name within them: that name is the other's start (the
            // other's further bytes up to eight are the padding's zeros), so the shorter one
            // comes first, and equal lengths are equal names. A lookup that finds a short name
            // compares no bytes.
            a.len().cmp(&b.len())
        } else {
            // Both longer: their first eight bytes are the same.
            a[PREFIX_LEN..].cmp(&b[PREFIX_LEN..])
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Names that share long prefixes, end in NULs (the padding's value) or not, and carry
    /// bytes above 0x7f, so that every branch of the comparison is taken.
    fn names() -> impl Strategy<Value = Vec<u8>> {
        let near_the_prefix = proptest::collection::vec(prop_oneof![Just(b'A'), Just(b'B'), Just(0u8), Just(0xffu8)], 0..12)
            .prop_map(|tail| [b"ABCDEFG".as_slice(), &tail].concat());
        prop_oneof![near_the_prefix, proptest::collection::vec(any::<u8>(), 0..12)]
    }

    proptest! {
        #[test]
        fn orders_names_as_bytes_do(a in names(), b in names()) {
            prop_assert_eq!(cmp_prefixed(name_prefix(&a), &a, name_prefix(&b), &b), a.cmp(&b));
        }
    }

    #[test]
    fn names_that_differ_only_past_the_prefix_or_in_length() {
        let cases: [(&[u8], &[u8]); 5] =
            [(b"AB", b"AB\0"), (b"ABCDEFGH", b"ABCDEFGHI"), (b"queueOffset", b"queueOffsex"), (b"", b"\0"), (b"x", b"x")];
        for (a, b) in cases {
            assert_eq!(cmp_prefixed(name_prefix(a), a, name_prefix(b), b), a.cmp(b), "{a:?} {b:?}");
            assert_eq!(cmp_prefixed(name_prefix(b), b, name_prefix(a), a), b.cmp(a), "{b:?} {a:?}");
        }
    }
}
