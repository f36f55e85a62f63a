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
        // Shifted in byte by byte: copied into a padded array instead, the bytes went through
        // a call to `memcpy` (a short name such as `WAIT` or `TAGS`, looked up per message).
        None => name.iter().enumerate().fold(0, |word, (at, b)| word | u64::from(*b) << (56 - 8 * at)),
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

/// Where `name` (whose [`name_prefix`] is `prefix`) is among `items`, sorted by name in byte
/// order, as `binary_search_by` would answer. The search compares prefixes only (an integer
/// comparison a step, where comparing names also slices them and checks lengths); then the
/// items sharing `name`'s prefix, rarely more than one, are compared whole.
pub(crate) fn search<'a, T>(
    items: &'a [T],
    prefix: u64,
    name: &[u8],
    prefix_of: impl Fn(&T) -> u64,
    name_of: impl Fn(&'a T) -> &'a [u8],
) -> Result<usize, usize> {
    let mut at = items.partition_point(|item| prefix_of(item) < prefix);
    while let Some(item) = items.get(at).filter(|item| prefix_of(item) == prefix) {
        match cmp_prefixed(prefix, name_of(item), prefix, name) {
            Ordering::Less => at += 1,
            Ordering::Equal => return Ok(at),
            Ordering::Greater => break,
        }
    }
    Err(at)
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

        #[test]
        fn search_finds_what_a_binary_search_of_the_names_finds(
            mut sorted in proptest::collection::vec(names(), 0..24),
            probes in proptest::collection::vec(names(), 1..8),
        ) {
            sorted.sort();
            sorted.dedup();
            let items: Vec<(u64, Vec<u8>)> = sorted.iter().map(|n| (name_prefix(n), n.clone())).collect();
            // Present names and others, some sharing long prefixes with present ones.
            for probe in probes.iter().chain(&sorted) {
                let found = search(&items, name_prefix(probe), probe, |i| i.0, |i| &i.1[..]);
                prop_assert_eq!(found, sorted.binary_search(probe), "{:?}", probe);
            }
        }
    }

    #[test]
    fn a_short_names_prefix_is_its_bytes_zero_padded() {
        assert_eq!(name_prefix(b"WAIT"), u64::from_be_bytes(*b"WAIT\0\0\0\0"));
        assert_eq!(name_prefix(b"\xff"), 0xff << 56);
        assert_eq!(name_prefix(b"ABCDEFG"), u64::from_be_bytes(*b"ABCDEFG\0"));
        assert_eq!(name_prefix(b""), 0);
        assert_eq!(name_prefix(b"ABCDEFGHIJ"), u64::from_be_bytes(*b"ABCDEFGH"));
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
