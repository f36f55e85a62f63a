//! A command's ext fields (the "custom header"): name-value strings, kept sorted by name in
//! one vector.
//!
//! A header has a few dozen fields at most, written once per request and read a few times per
//! response, so a sorted vector does the work of a map at a fraction of its cost: one
//! allocation where a `BTreeMap<String, String>` made a node and two strings per field and then
//! walked its nodes to drop them, and names that are the headers' own constants
//! (`&'static str`) are borrowed, not copied. Values up to [`INLINE_LEN`] bytes (numbers, flags,
//! most group, topic and broker names) are kept in the vector too ([`FieldText`]), and
//! names are ordered by their first eight bytes as a number
//! ([`name_order`](super::name_order)). Measured with callgrind, a sync send made some 30
//! allocations and 60 `memcmp` calls for its request's and answer's fields before.
//!
//! Iteration is in name order (byte order, which is Java `String` order for the ASCII names
//! the protocol uses), so a command encodes to the same bytes as before. A name given twice
//! keeps its last value, as Java's `HashMap` does, also for decoded input, where a hostile
//! frame could carry very many fields: those are sorted once (`from_unsorted`), not inserted
//! one by one.

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;

use super::name_order::{self, cmp_prefixed, name_prefix};

/// Ext fields sorted by name, each name once. Compared as maps (order is canonical anyway).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ExtFields {
    fields: Vec<Field>,
}

/// One field: its name, the name's first eight bytes as a number (the sort key), its value.
#[derive(Clone, PartialEq, Eq)]
pub struct Field {
    prefix: u64,
    name: Cow<'static, str>,
    value: FieldText,
}

impl Field {
    pub fn new(name: impl Into<Cow<'static, str>>, value: impl Into<FieldText>) -> Field {
        let name = name.into();
        Field { prefix: name_prefix(name.as_bytes()), name, value: value.into() }
    }

    fn cmp_name(&self, prefix: u64, name: &str) -> std::cmp::Ordering {
        cmp_prefixed(self.prefix, self.name.as_bytes(), prefix, name.as_bytes())
    }
}

impl ExtFields {
    pub fn new() -> Self {
        ExtFields::default()
    }

    pub fn with_capacity(capacity: usize) -> Self {
        ExtFields { fields: Vec::with_capacity(capacity) }
    }

    /// Fields in any order; a name given more than once keeps its last value.
    pub fn from_unsorted(mut fields: Vec<Field>) -> Self {
        // Stable: the entries of a repeated name stay in their order, and the last one wins.
        fields.sort_by(|a, b| a.cmp_name(b.prefix, &b.name));
        fields.dedup_by(|later, kept| {
            let repeated = later.prefix == kept.prefix && later.name == kept.name;
            if repeated {
                std::mem::swap(&mut later.value, &mut kept.value);
            }
            repeated
        });
        ExtFields { fields }
    }

    fn position(&self, name: &str) -> Result<usize, usize> {
        self.position_of(name_prefix(name.as_bytes()), name)
    }

    fn position_of(&self, prefix: u64, name: &str) -> Result<usize, usize> {
        name_order::search(&self.fields, prefix, name.as_bytes(), |f| f.prefix, |f| f.name.as_bytes())
    }

    /// Sets `name` to `value`; returns the value it replaces.
    pub fn insert(&mut self, name: impl Into<Cow<'static, str>>, value: impl Into<FieldText>) -> Option<FieldText> {
        let field = Field::new(name, value);
        // Request headers write their fields in name order: one after the last is appended
        // without a search.
        if self.fields.last().is_none_or(|last| last.cmp_name(field.prefix, &field.name).is_lt()) {
            self.fields.push(field);
            return None;
        }
        match self.position_of(field.prefix, &field.name) {
            Ok(i) => Some(std::mem::replace(&mut self.fields[i].value, field.value)),
            Err(i) => {
                self.fields.insert(i, field);
                None
            }
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.position(name).ok().map(|i| self.fields[i].value.as_str())
    }

    /// Removes `name`, returning its name and value.
    pub fn remove_entry(&mut self, name: &str) -> Option<(Cow<'static, str>, FieldText)> {
        self.position(name).ok().map(|i| {
            let f = self.fields.remove(i);
            (f.name, f.value)
        })
    }

    pub fn remove(&mut self, name: &str) -> Option<FieldText> {
        self.remove_entry(name).map(|(_, value)| value)
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Names and values, in name order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> {
        self.into_iter()
    }
}

impl fmt::Debug for ExtFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for &'a ExtFields {
    type Item = (&'a str, &'a str);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, Field>, fn(&'a Field) -> (&'a str, &'a str)>;

    fn into_iter(self) -> Self::IntoIter {
        self.fields.iter().map(|f| (f.name.as_ref(), f.value.as_str()))
    }
}

impl<N: Into<Cow<'static, str>>, V: Into<FieldText>> FromIterator<(N, V)> for ExtFields {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Self {
        ExtFields::from_unsorted(iter.into_iter().map(|(n, v)| Field::new(n, v)).collect())
    }
}

/// The longest value a [`FieldText`] keeps in place: room for a 19-digit offset, a timestamp,
/// a flag, a broker name, most group and topic names. The type is then 24 bytes, as big as a
/// `String`, and a field 56: a send's 14 fields and the signature's 4 fit in 1008 bytes, under
/// the 1 KiB up to which glibc's malloc serves a block from its per-thread cache.
pub const INLINE_LEN: usize = 22;

/// An ext field's value: text of up to [`INLINE_LEN`] bytes in place, longer text (a send's
/// properties, a long remark) on the heap. Reads as a `&str` (`Deref`).
#[derive(Clone)]
pub struct FieldText(Text);

#[derive(Clone)]
enum Text {
    /// Invariant: `bytes[..len]` is a whole `&str`'s bytes, so valid UTF-8.
    Inline { len: u8, bytes: [u8; INLINE_LEN] },
    Heap(Box<str>),
}

impl FieldText {
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Text::Inline { len, bytes } => {
                let bytes = &bytes[..usize::from(*len)];
                // SAFETY: the bytes of a whole `&str`, copied in by `From<&str>` and never
                // changed (the enum's invariant).
                unsafe { std::str::from_utf8_unchecked(bytes) }
            }
            Text::Heap(s) => s,
        }
    }

    /// The text as a `String` (an allocation for an inline one).
    pub fn into_string(self) -> String {
        match self.0 {
            Text::Heap(s) => s.into_string(),
            Text::Inline { .. } => self.as_str().to_owned(),
        }
    }
}

impl From<&str> for FieldText {
    fn from(s: &str) -> Self {
        if s.len() <= INLINE_LEN {
            let mut bytes = [0u8; INLINE_LEN];
            bytes[..s.len()].copy_from_slice(s.as_bytes());
            // In range: INLINE_LEN is below 256.
            FieldText(Text::Inline { len: s.len() as u8, bytes })
        } else {
            FieldText(Text::Heap(s.into()))
        }
    }
}

impl From<String> for FieldText {
    /// Keeps the string's allocation for long text (shrunk to fit); short text moves in place
    /// (and the allocation is freed here rather than when the field is).
    fn from(s: String) -> Self {
        if s.len() <= INLINE_LEN {
            FieldText::from(s.as_str())
        } else {
            FieldText(Text::Heap(s.into_boxed_str()))
        }
    }
}

impl From<&String> for FieldText {
    fn from(s: &String) -> Self {
        FieldText::from(s.as_str())
    }
}

impl Deref for FieldText {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for FieldText {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for FieldText {}

impl PartialEq<str> for FieldText {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for FieldText {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Debug for FieldText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for FieldText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// The sizes the capacity of a request's fields is chosen by (`RequestHeader::command`).
const _: () = assert!(std::mem::size_of::<FieldText>() == 24 && std::mem::size_of::<Field>() == 56);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[test]
    fn inserts_replace_and_iteration_is_in_name_order() {
        let mut f = ExtFields::new();
        assert_eq!(f.insert("topic", "T"), None);
        assert_eq!(f.insert("bname", "b"), None);
        assert_eq!(f.insert(String::from("queueId"), "1"), None);
        assert_eq!(f.insert("topic", "U").as_deref(), Some("T"));
        assert_eq!(f.iter().collect::<Vec<_>>(), [("bname", "b"), ("queueId", "1"), ("topic", "U")]);
        assert_eq!((f.get("queueId"), f.get("nope"), f.len()), (Some("1"), None, 3));
        assert_eq!(f.remove("bname").as_deref(), Some("b"));
        assert_eq!(f.get("bname"), None);
        assert_eq!(format!("{f:?}"), r#"{"queueId": "1", "topic": "U"}"#);
    }

    #[test]
    fn values_of_any_length_read_back_whole() {
        let at_the_limit = "é".repeat(INLINE_LEN / 2);
        let over_it = format!("{at_the_limit}x");
        for text in ["", "0", "ü", at_the_limit.as_str(), over_it.as_str(), &"p".repeat(5000)] {
            let from_str = FieldText::from(text);
            let from_string = FieldText::from(text.to_owned());
            assert_eq!((from_str.as_str(), from_string.as_str()), (text, text));
            assert_eq!(from_str.clone().into_string(), text);
            assert_eq!(from_str, from_string);
            assert_eq!(format!("{from_str}|{from_str:?}"), format!("{text}|{text:?}"));
        }
        assert!(matches!(FieldText::from(at_the_limit.as_str()).0, Text::Inline { .. }));
        assert!(matches!(FieldText::from(over_it).0, Text::Heap(_)));
    }

    proptest! {
        /// Whatever the order and repetition of the input, the fields are what a map filled
        /// in that order holds (the last value of a repeated name). Names share prefixes of
        /// up to and over the eight bytes the order looks at first; values are of any length.
        #[test]
        fn unsorted_fields_end_as_a_map_filled_in_their_order_would(
            pairs in proptest::collection::vec(("(queueOff|queue|q)?[a-d\\x00]{1,2}", "[a-z\u{e9}]{0,45}"), 0..40)
        ) {
            let map: BTreeMap<String, String> = pairs.iter().cloned().collect();
            let fields: ExtFields = pairs.iter().cloned().collect();
            let by_insert = pairs.iter().cloned().fold(ExtFields::new(), |mut f, (n, v)| {
                f.insert(n, v);
                f
            });
            // In name order (as request headers write them; a repeated name's values in their
            // order): each insert after the last field appends.
            let mut ascending = pairs.clone();
            ascending.sort_by(|a, b| a.0.cmp(&b.0));
            let by_ascending_insert = ascending.into_iter().fold(ExtFields::new(), |mut f, (n, v)| {
                f.insert(n, v);
                f
            });
            let expected: Vec<(&str, &str)> = map.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            prop_assert_eq!(fields.iter().collect::<Vec<_>>(), expected.clone());
            prop_assert_eq!(by_ascending_insert.iter().collect::<Vec<_>>(), expected.clone());
            prop_assert_eq!(by_insert.iter().collect::<Vec<_>>(), expected);
            for (k, v) in &map {
                prop_assert_eq!(fields.get(k), Some(v.as_str()));
            }
            for absent in ["queueOff", "queue\0", "queueOffe", ""] {
                prop_assert_eq!(fields.get(absent), map.get(absent).map(String::as_str));
            }
        }
    }
}
