//! A command's ext fields (the "custom header"): name-value strings, kept sorted by name in
//! one vector.
//!
//! A header has a few dozen fields at most, written once per request and read a few times per
//! response, so a sorted vector does the work of a map at a fraction of its cost: one
//! allocation where a `BTreeMap<String, String>` made a node and two strings per field and then
//! walked its nodes to drop them, and names that are the headers' own constants
//! (`&'static str`) are borrowed, not copied. Measured with callgrind, building, encoding,
//! decoding and dropping the maps of one send and its answer took more instructions than
//! everything else the client does for a message sent in a batch.
//!
//! Iteration is in name order (byte order, which is Java `String` order for the ASCII names
//! the protocol uses), so a command encodes to the same bytes as before. A name given twice
//! keeps its last value, as Java's `HashMap` does, also for decoded input, where a hostile
//! frame could carry very many fields: those are sorted once (`from_unsorted`), not inserted
//! one by one.

use std::borrow::Cow;
use std::fmt;

/// Ext fields sorted by name, each name once. Compared as maps (order is canonical anyway).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ExtFields {
    fields: Vec<Field>,
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
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        fields.dedup_by(|later, kept| {
            let repeated = later.0 == kept.0;
            if repeated {
                std::mem::swap(&mut later.1, &mut kept.1);
            }
            repeated
        });
        ExtFields { fields }
    }

    fn position(&self, name: &str) -> Result<usize, usize> {
        self.fields.binary_search_by(|(n, _)| n.as_ref().cmp(name))
    }

    /// Sets `name` to `value`; returns the value it replaces.
    pub fn insert(&mut self, name: impl Into<Cow<'static, str>>, value: String) -> Option<String> {
        let name = name.into();
        match self.position(&name) {
            Ok(i) => Some(std::mem::replace(&mut self.fields[i].1, value)),
            Err(i) => {
                self.fields.insert(i, (name, value));
                None
            }
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.position(name).ok().map(|i| self.fields[i].1.as_str())
    }

    /// Removes `name`, returning its name and value.
    pub fn remove_entry(&mut self, name: &str) -> Option<Field> {
        self.position(name).ok().map(|i| self.fields.remove(i))
    }

    pub fn remove(&mut self, name: &str) -> Option<String> {
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

type Field = (Cow<'static, str>, String);

impl<'a> IntoIterator for &'a ExtFields {
    type Item = (&'a str, &'a str);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, Field>, fn(&'a Field) -> (&'a str, &'a str)>;

    fn into_iter(self) -> Self::IntoIter {
        self.fields.iter().map(|(n, v)| (n.as_ref(), v.as_str()))
    }
}

impl<N: Into<Cow<'static, str>>> FromIterator<(N, String)> for ExtFields {
    fn from_iter<I: IntoIterator<Item = (N, String)>>(iter: I) -> Self {
        ExtFields::from_unsorted(iter.into_iter().map(|(n, v)| (n.into(), v)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[test]
    fn inserts_replace_and_iteration_is_in_name_order() {
        let mut f = ExtFields::new();
        assert_eq!(f.insert("topic", "T".into()), None);
        assert_eq!(f.insert("bname", "b".into()), None);
        assert_eq!(f.insert(String::from("queueId"), "1".into()), None);
        assert_eq!(f.insert("topic", "U".into()), Some("T".into()));
        assert_eq!(f.iter().collect::<Vec<_>>(), [("bname", "b"), ("queueId", "1"), ("topic", "U")]);
        assert_eq!((f.get("queueId"), f.get("nope"), f.len()), (Some("1"), None, 3));
        assert_eq!(f.remove("bname").as_deref(), Some("b"));
        assert_eq!(f.get("bname"), None);
        assert_eq!(format!("{f:?}"), r#"{"queueId": "1", "topic": "U"}"#);
    }

    proptest! {
        /// Whatever the order and repetition of the input, the fields are what a map filled
        /// in that order holds (the last value of a repeated name).
        #[test]
        fn unsorted_fields_end_as_a_map_filled_in_their_order_would(
            pairs in proptest::collection::vec(("[a-d]{1,2}", "[a-z]{0,3}"), 0..40)
        ) {
            let map: BTreeMap<String, String> = pairs.iter().cloned().collect();
            let fields: ExtFields = pairs.iter().cloned().collect();
            let by_insert = pairs.iter().cloned().fold(ExtFields::new(), |mut f, (n, v)| {
                f.insert(n, v);
                f
            });
            let expected: Vec<(&str, &str)> = map.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            prop_assert_eq!(fields.iter().collect::<Vec<_>>(), expected.clone());
            prop_assert_eq!(by_insert.iter().collect::<Vec<_>>(), expected);
            for (k, v) in &map {
                prop_assert_eq!(fields.get(k), Some(v.as_str()));
            }
        }
    }
}
