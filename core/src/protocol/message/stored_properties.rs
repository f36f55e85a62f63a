//! The properties of a message read from a broker ([`StoredProperties`]): its properties string
//! (docs/remoting-protocol.md §5.2) kept as one text, with an index of its entries: in the
//! order read while there are few ([`UNSORTED_MAX`]), else sorted by name.
//!
//! A consumer reads every message's properties, about seven of them (`UNIQ_KEY`, `WAIT`, the
//! broker's `CLUSTER`, `MIN_OFFSET`, `MAX_OFFSET`, `TRACE_ON`, `MSG_REGION`, ...). As a map of
//! owned strings each message cost some 15 allocations and as many frees, most of the
//! instructions of reading it (callgrind, drain of 1 KiB messages: 8.7k of 32k per message in
//! parsing alone); here it costs two, the text and the index.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use super::properties::{for_each_separator, PROPERTY_SEPARATOR};
use crate::protocol::name_order::{self, cmp_prefixed, name_prefix};

/// A stored message's properties, read with Java's `string2messageProperties` rules (see
/// [`parse_properties`](super::parse_properties)). Names are unique; [`iter`](Self::iter) yields
/// them in byte order, as a `BTreeMap` of them would.
#[derive(Clone, Default)]
pub struct StoredProperties {
    text: String,
    /// One per name; sorted by name whenever there are more than [`UNSORTED_MAX`].
    entries: Vec<Entry>,
}

/// Up to this many entries are kept in the order read and searched one by one. A stored
/// message has about a dozen, and a consumer reads each message's names once and looks up a
/// few: sorting them when read was some 530 instructions per consumed message, and adding the
/// two a pull adds (`MIN_OFFSET`, `MAX_OFFSET`) in sorted place some 200 more (callgrind of a
/// drain). More entries are sorted and binary-searched, so that a text of thousands (a hostile
/// or broken broker's) costs n log n to read, not n squared.
const UNSORTED_MAX: usize = 16;

/// One property: its name's and value's spans of the text, and the name's first eight bytes
/// as a number ([`name_prefix`]), which tells most pairs of names apart (and orders them) with
/// one comparison instead of a call to `memcmp`.
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

    /// Whether this entry's name is `name` (whose prefix is `prefix`): mostly one integer
    /// comparison.
    fn is_named(&self, text: &[u8], prefix: u64, name: &[u8]) -> bool {
        self.prefix == prefix && &text[self.name.clone()] == name
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
        // The entry being read starts at `at`; its name ends at its first 0x01 (`name_end`), the
        // value may hold further ones; 0x02 ends it (the last one needs none).
        let (mut at, mut name_end) = (0, None);
        let mut end_entry = |at: usize, name_end: Option<usize>, end: usize| {
            if let Some(sep) = name_end.filter(|&sep| sep > at && sep + 1 < end) {
                entries.push(Entry::new(&text, at..sep, sep + 1..end));
            }
        };
        for_each_separator(text.as_bytes(), |i, separator| {
            if separator == PROPERTY_SEPARATOR {
                end_entry(at, name_end, i);
                (at, name_end) = (i + 1, None);
            } else if name_end.is_none() {
                name_end = Some(i);
            }
        });
        end_entry(at, name_end, text.len());
        let mut properties = StoredProperties { text, entries };
        properties.index();
        properties
    }

    /// Makes the entries, as read or pushed (a name may repeat), the index: of a repeated name
    /// only the last entry's value stays; sorted by name when there are more than
    /// [`UNSORTED_MAX`].
    fn index(&mut self) {
        if self.entries.len() > UNSORTED_MAX {
            self.sort_keeping_last();
        } else {
            self.keep_last();
        }
    }

    /// Keeps one entry per name, with the last value given for it (few entries: each against
    /// those kept before it). Texts rarely repeat a name: a 64-bit filter of the names'
    /// prefixes seen so far lets most entries skip the comparisons (hashed to one bit each, a
    /// dozen names leave an entry a one in five chance or less of being compared for nothing).
    fn keep_last(&mut self) {
        let bytes = self.text.as_bytes();
        let (mut seen, mut kept) = (0u64, 0);
        for i in 0..self.entries.len() {
            let prefix = self.entries[i].prefix;
            let bit = 1u64 << (prefix.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58);
            let earlier = match seen & bit {
                0 => None,
                _ => {
                    let name = &bytes[self.entries[i].name.clone()];
                    self.entries[..kept].iter().position(|k| k.is_named(bytes, prefix, name))
                }
            };
            seen |= bit;
            match earlier {
                Some(earlier) => self.entries[earlier].value = self.entries[i].value.clone(),
                None => {
                    // What is at `kept` (when behind) was merged into an earlier entry.
                    self.entries.swap(kept, i);
                    kept += 1;
                }
            }
        }
        self.entries.truncate(kept);
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
            let repeated = later.is_named(bytes, kept.prefix, &bytes[kept.name.clone()]);
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

    /// Where `name`'s entry is; else where a new one goes (the end, while the entries are few
    /// and unsorted).
    fn position(&self, name: &str) -> Result<usize, usize> {
        let (bytes, name, prefix) = (self.text.as_bytes(), name.as_bytes(), name_prefix(name.as_bytes()));
        if self.entries.len() > UNSORTED_MAX {
            return name_order::search(&self.entries, prefix, name, |e| e.prefix, |e| &bytes[e.name.clone()]);
        }
        let found = self.entries.iter().position(|e| e.is_named(bytes, prefix, name));
        found.ok_or(self.entries.len())
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
            Err(i) => {
                self.entries.insert(i, entry);
                if self.entries.len() == UNSORTED_MAX + 1 {
                    // Names are unique: no entry to drop.
                    self.sort_keeping_last();
                }
            }
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
        let mut order = [0u8; UNSORTED_MAX];
        let sorted = self.entries.len() > UNSORTED_MAX;
        if !sorted {
            let bytes = self.text.as_bytes();
            let order = &mut order[..self.entries.len()];
            for (i, slot) in order.iter_mut().enumerate() {
                *slot = i as u8;
            }
            order.sort_unstable_by(|&a, &b| {
                let (a, b) = (&self.entries[usize::from(a)], &self.entries[usize::from(b)]);
                a.cmp_name(bytes, b.prefix, &bytes[b.name.clone()])
            });
        }
        Iter { text: &self.text, entries: &self.entries, order: (!sorted).then_some(order), next: 0 }
    }

    /// (name, value) pairs in no particular order: for a reader of every entry that does not
    /// need [`iter`](Self::iter)'s.
    pub(crate) fn iter_unordered(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|e| (&self.text[e.name.clone()], &self.text[e.value.clone()]))
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
    entries: &'a [Entry],
    /// The entries' indexes in name order, when they are not sorted themselves.
    order: Option<[u8; UNSORTED_MAX]>,
    /// How many were yielded.
    next: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.entries.len() {
            return None;
        }
        // With an order there are at most `UNSORTED_MAX` entries: `next` is within it.
        let at = self.order.as_ref().map_or(self.next, |order| usize::from(order[self.next]));
        let e = &self.entries[at];
        self.next += 1;
        Some((&self.text[e.name.clone()], &self.text[e.value.clone()]))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.entries.len() - self.next;
        (left, Some(left))
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
        properties.index();
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
        /// entries and inserts holds, in the same order: few entries (kept unsorted), many
        /// (sorted), and inserts that take them across [`UNSORTED_MAX`].
        #[test]
        fn agrees_with_a_map(
            entries in proptest::collection::vec(("[a-d]{1,3}", "[a-z\u{e4}]{1,4}"), 0..40),
            inserts in proptest::collection::vec(("[a-e]{1,3}", "[0-9]{1,19}"), 0..8),
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
            prop_assert_eq!(ours.iter().len(), model.len());
            prop_assert!(ours.iter().eq(model.iter().map(|(n, v)| (n.as_str(), v.as_str()))));
            let mut unordered: Vec<(&str, &str)> = ours.iter_unordered().collect();
            unordered.sort();
            prop_assert!(unordered.into_iter().eq(model.iter().map(|(n, v)| (n.as_str(), v.as_str()))));
            for name in ["a", "b", "ab", "e", "zz"] {
                prop_assert_eq!(ours.get(name), model.get(name).map(String::as_str));
            }
        }

        /// Any text over separators, NULs, the byte a borrow may flag after one (0x03) and
        /// non-ASCII is read as Java's `string2messageProperties` reads it: split at every 0x02,
        /// a name up to the entry's first 0x01 and the rest its value (further 0x01 bytes
        /// included), entries with an empty name or value dropped, a repeated name's last
        /// value kept.
        #[test]
        fn splits_as_java_does(raw in proptest::collection::vec(
            proptest::sample::select(vec![0u8, 1, 2, 3, b'a', b'b', 0xC3, 0xA4]), 0..80,
        )) {
            let text = String::from_utf8_lossy(&raw).into_owned();
            let mut model = BTreeMap::new();
            for entry in text.split('\u{2}') {
                if let Some((name, value)) = entry.split_once('\u{1}') {
                    if !name.is_empty() && !value.is_empty() {
                        model.insert(name.to_owned(), value.to_owned());
                    }
                }
            }
            prop_assert_eq!(StoredProperties::parse(&raw).to_map(), model);
        }

        /// Names around the eight bytes [`name_prefix`] looks at (shared prefixes of seven,
        /// eight and more bytes, NULs where a shorter name's padding stands, non-ASCII) are
        /// ordered, deduplicated and found as a map orders and finds them.
        #[test]
        fn orders_names_across_their_prefix_as_a_map_does(
            entries in proptest::collection::vec(("(ABCDEFGH|ABCDEFG|AB)?[\\x00A-B\u{e4}]{0,3}", "[a-z]{1,3}"), 0..30),
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
