//! The properties of a message read from a broker ([`StoredProperties`]): its properties string
//! (docs/remoting-protocol.md §5.2) kept as one text, with an index of its entries sorted by
//! name.
//!
//! A consumer reads every message's properties, about seven of them (`UNIQ_KEY`, `WAIT`, the
//! broker's `CLUSTER`, `MIN_OFFSET`, `MAX_OFFSET`, `TRACE_ON`, `MSG_REGION`, ...). As a map of
//! owned strings each message cost some 15 allocations and as many frees, most of the
//! instructions of reading it (callgrind, drain of 1 KiB messages: 8.7k of 32k per message in
//! parsing alone); here it costs two, the text and the index.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use super::properties::{NAME_VALUE_SEPARATOR, PROPERTY_SEPARATOR};
use crate::protocol::name_order::{self, cmp_prefixed, name_prefix};

/// A stored message's properties, read with Java's `string2messageProperties` rules (see
/// [`parse_properties`](super::parse_properties)). Names are unique; [`iter`](Self::iter) yields
/// them in byte order, as a `BTreeMap` of them would.
#[derive(Clone, Default)]
pub struct StoredProperties {
    text: String,
    /// One per name, sorted by name.
    entries: Vec<Entry>,
}

/// One property: its name's and value's spans of the text, and the name's first eight bytes
/// as a number ([`name_prefix`]), which orders most pairs of names with one comparison instead of
/// a call to `memcmp` (a consumer sorts about a dozen names per message and looks up as many).
#[derive(Clone)]
struct Entry {
    prefix: u64,
    name: Range<usize>,
    value: Range<usize>,
}

impl Entry {
    fn new(text: &str, name: Range<usize>, value: Range<usize>) -> Entry {
        Entry { prefix: name_prefix(&text.as_bytes()[name.clone()]), name, value }
    }

    /// This entry's name against `name` (whose prefix is `prefix`), in byte order.
    fn cmp_name(&self, text: &[u8], prefix: u64, name: &[u8]) -> std::cmp::Ordering {
        cmp_prefixed(self.prefix, &text[self.name.clone()], prefix, name)
    }
}

/// Room for the two properties a pull adds to each message (`MIN_OFFSET`, `MAX_OFFSET`) without
/// growing the text: the names and two 19-digit offsets.
const ROOM_FOR_ADDED: usize = 2 * (10 + 19);

impl StoredProperties {
    /// Reads a properties string; invalid UTF-8 is replaced by U+FFFD (splitting first and
    /// replacing within each piece gives the same text: the separators are ASCII and end any
    /// invalid sequence). Never fails.
    pub fn parse(raw: &[u8]) -> StoredProperties {
        let mut text = String::with_capacity(raw.len() + ROOM_FOR_ADDED);
        match std::str::from_utf8(raw) {
            Ok(valid) => text.push_str(valid),
            Err(_) => text.push_str(&String::from_utf8_lossy(raw)),
        }
        let mut entries = Vec::with_capacity(12);
        let bytes = text.as_bytes();
        let mut at = 0;
        while at < bytes.len() {
            let end = memchr::memchr(PROPERTY_SEPARATOR, &bytes[at..]).map_or(bytes.len(), |i| at + i);
            // The name ends at the entry's first 0x01; the value may hold further ones.
            if let Some(sep) = memchr::memchr(NAME_VALUE_SEPARATOR, &bytes[at..end]).map(|i| at + i) {
                if sep > at && sep + 1 < end {
                    entries.push(Entry::new(&text, at..sep, sep + 1..end));
                }
            }
            at = end + 1;
        }
        let mut properties = StoredProperties { text, entries };
        properties.sort_keeping_last();
        properties
    }

    /// Sorts the entries by name; of a repeated name only the last entry's value stays (the
    /// sort is stable, so it is the last of its equals, and each removed duplicate hands its
    /// spans to the one kept before it).
    fn sort_keeping_last(&mut self) {
        // Compared as bytes (the order of `str`), which skips the char-boundary checks of
        // slicing the text: spans start and end next to ASCII separators or the text's ends.
        let bytes = self.text.as_bytes();
        self.entries.sort_by(|a, b| a.cmp_name(bytes, b.prefix, &bytes[b.name.clone()]));
        self.entries.dedup_by(|later, kept| {
            let repeated = later.prefix == kept.prefix && bytes[later.name.clone()] == bytes[kept.name.clone()];
            if repeated {
                std::mem::swap(later, kept);
            }
            repeated
        });
    }

    /// Appends `name` and `value` to the text; their entry.
    fn push_text(&mut self, name: &str, value: &str) -> Entry {
        let name_at = self.text.len();
        self.text.push_str(name);
        let value_at = self.text.len();
        self.text.push_str(value);
        Entry { prefix: name_prefix(name.as_bytes()), name: name_at..value_at, value: value_at..self.text.len() }
    }

    fn position(&self, name: &str) -> Result<usize, usize> {
        let (bytes, name) = (self.text.as_bytes(), name.as_bytes());
        name_order::search(&self.entries, name_prefix(name), name, |e| e.prefix, |e| &bytes[e.name.clone()])
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.position(name).ok().map(|i| &self.text[self.entries[i].value.clone()])
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.position(name).is_ok()
    }

    /// Sets `name` to `value`, replacing a value it had.
    pub fn insert(&mut self, name: &str, value: &str) {
        let entry = self.push_text(name, value);
        match self.position(name) {
            Ok(i) => self.entries[i] = entry,
            Err(i) => self.entries.insert(i, entry),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// (name, value) pairs in name order.
    pub fn iter(&self) -> Iter<'_> {
        Iter { text: &self.text, entries: self.entries.iter() }
    }

    /// Where `value`, a value this holds (from [`get`](Self::get) or [`iter`](Self::iter)), is
    /// in its text: for [`at`](Self::at) to read it again without a lookup. `None` for text
    /// from elsewhere.
    pub(crate) fn span_of(&self, value: &str) -> Option<Range<usize>> {
        let start = (value.as_ptr() as usize).checked_sub(self.text.as_ptr() as usize)?;
        let end = start + value.len();
        (end <= self.text.len()).then_some(start..end)
    }

    /// The text at `span` ([`span_of`](Self::span_of)); `None` if it is not a span of the text
    /// (the text only grows, so a span stays one, but a caller may hold a stale one).
    pub(crate) fn at(&self, span: Range<usize>) -> Option<&str> {
        self.text.get(span)
    }

    /// The properties as a map of owned strings.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        self.iter().map(|(n, v)| (n.to_owned(), v.to_owned())).collect()
    }
}

/// The (name, value) pairs of [`StoredProperties`], in name order.
pub struct Iter<'a> {
    text: &'a str,
    entries: std::slice::Iter<'a, Entry>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        self.entries.next().map(|e| (&self.text[e.name.clone()], &self.text[e.value.clone()]))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.entries.size_hint()
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a StoredProperties {
    type Item = (&'a str, &'a str);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// Built from pairs as a map would be: a repeated name keeps its last value. Empty names or
/// values are kept as given (only [`StoredProperties::parse`] drops them, as the string form
/// cannot carry them).
impl<N: AsRef<str>, V: AsRef<str>> FromIterator<(N, V)> for StoredProperties {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(pairs: I) -> Self {
        let mut properties = StoredProperties::default();
        for (name, value) in pairs {
            let entry = properties.push_text(name.as_ref(), value.as_ref());
            properties.entries.push(entry);
        }
        properties.sort_keeping_last();
        properties
    }
}

impl PartialEq for StoredProperties {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for StoredProperties {}

impl fmt::Debug for StoredProperties {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// As a JSON object (a map of strings), in name order.
impl serde::Serialize for StoredProperties {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_looks_up_and_adds_as_a_map_would() {
        let mut p = StoredProperties::parse(b"WAIT\x01true\x02TAGS\x01A\x02UNIQ_KEY\x01ID1\x02TAGS\x01B\x02");
        assert_eq!(p.len(), 3);
        assert_eq!((p.get("TAGS"), p.get("WAIT"), p.get("UNIQ_KEY"), p.get("KEYS")), (Some("B"), Some("true"), Some("ID1"), None));
        p.insert("MIN_OFFSET", "0");
        p.insert("TAGS", "C");
        assert_eq!(p.get("TAGS"), Some("C"));
        assert!(p.contains_key("MIN_OFFSET") && !p.contains_key("MAX_OFFSET"));
        let names: Vec<&str> = p.iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["MIN_OFFSET", "TAGS", "UNIQ_KEY", "WAIT"]);
        assert_eq!(format!("{p:?}"), r#"{"MIN_OFFSET": "0", "TAGS": "C", "UNIQ_KEY": "ID1", "WAIT": "true"}"#);
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"MIN_OFFSET":"0","TAGS":"C","UNIQ_KEY":"ID1","WAIT":"true"}"#
        );
        let built: StoredProperties = [("WAIT", "true"), ("TAGS", "x"), ("UNIQ_KEY", "ID1"), ("TAGS", "C"), ("MIN_OFFSET", "0")]
            .into_iter()
            .collect();
        assert_eq!(built, p);
        assert_eq!(built.to_map(), p.to_map());
        assert!(StoredProperties::parse(b"").is_empty() && StoredProperties::parse(b"\x02\x02").is_empty());
    }

    proptest! {
        /// Parsed, then changed by inserts, the properties hold what a map given the same
        /// entries and inserts holds, in the same order.
        #[test]
        fn agrees_with_a_map(
            entries in proptest::collection::vec(("[a-d]{1,3}", "[a-z\u{e4}]{1,4}"), 0..10),
            inserts in proptest::collection::vec(("[a-e]{1,3}", "[0-9]{1,19}"), 0..4),
        ) {
            let raw: String = entries.iter().map(|(n, v)| format!("{n}\u{1}{v}\u{2}")).collect();
            let mut model: BTreeMap<String, String> = entries.into_iter().collect();
            let mut ours = StoredProperties::parse(raw.as_bytes());
            prop_assert_eq!(ours.to_map(), model.clone());
            for (name, value) in inserts {
                ours.insert(&name, &value);
                model.insert(name, value);
            }
            prop_assert_eq!(ours.len(), model.len());
            prop_assert!(ours.iter().eq(model.iter().map(|(n, v)| (n.as_str(), v.as_str()))));
            for name in ["a", "b", "ab", "e", "zz"] {
                prop_assert_eq!(ours.get(name), model.get(name).map(String::as_str));
            }
        }

        /// Names around the eight bytes [`name_prefix`] looks at (shared prefixes of seven,
        /// eight and more bytes, NULs where a shorter name's padding stands, non-ASCII) are
        /// ordered, deduplicated and found as a map orders and finds them.
        #[test]
        fn orders_names_across_their_prefix_as_a_map_does(
            entries in proptest::collection::vec(("(ABCDEFGH|ABCDEFG|AB)?[\\x00A-B\u{e4}]{0,3}", "[a-z]{1,3}"), 0..12),
            inserts in proptest::collection::vec(("(ABCDEFGH|ABCDEFG)?[\\x00A-B]{0,2}", "[0-9]{1,3}"), 0..4),
        ) {
            let raw: String = entries.iter().map(|(n, v)| format!("{n}\u{1}{v}\u{2}")).collect();
            let mut model: BTreeMap<String, String> =
                entries.iter().filter(|(n, _)| !n.is_empty()).cloned().collect();
            let mut ours = StoredProperties::parse(raw.as_bytes());
            prop_assert!(ours.iter().eq(model.iter().map(|(n, v)| (n.as_str(), v.as_str()))));
            for (name, value) in inserts {
                ours.insert(&name, &value);
                model.insert(name, value);
            }
            prop_assert!(ours.iter().eq(model.iter().map(|(n, v)| (n.as_str(), v.as_str()))));
            let probes = ["ABCDEFGH", "ABCDEFG\u{0}", "ABCDEFGHA", "AB\u{0}", "AB"];
            for name in entries.iter().map(|(n, _)| n.as_str()).chain(probes) {
                prop_assert_eq!(ours.get(name), model.get(name).map(String::as_str), "{:?}", name);
            }
        }
    }
}
