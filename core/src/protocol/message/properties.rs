//! The properties string of a message (docs/remoting-protocol.md §5.2).

#[allow(unused_imports)]
use super::*;

/// Separates a property name from its value.
pub const NAME_VALUE_SEPARATOR: u8 = 0x01;
/// Ends every property (including the last).
pub const PROPERTY_SEPARATOR: u8 = 0x02;
/// Longest properties string a broker stores (its length is a signed i16).
pub const MAX_PROPERTIES_LEN: usize = i16::MAX as usize;

/// Message properties. Ordered so the encoded string is deterministic.
pub type MessageProperties = BTreeMap<String, String>;

/// Parses a properties string the way Java's `string2messageProperties` does: split on 0x02;
/// an entry is kept only when it has a non-empty name before its first 0x01 and a non-empty
/// value after it (the value may contain further 0x01 bytes); the last entry needs no
/// trailing 0x02; a repeated name keeps its last value. Invalid UTF-8 becomes U+FFFD, as Java's
/// decoder does. Never fails.
pub fn parse_properties(raw: &[u8]) -> StoredProperties {
    StoredProperties::parse(raw)
}

/// Whether `s` holds a byte that separates properties or a name from its value (0x01, 0x02).
/// Long values are searched a vector at a time (memchr: a trace message's keys run to
/// kilobytes, checked more than once per send); short ones, most property names and values,
/// a word (8 bytes) at a time, which costs less than setting the vector search up (about 80
/// instructions). Byte by byte, checking a message's properties twice per send (a message id,
/// `WAIT`, perhaps tags and keys) cost about 400 instructions of a batch send's 8300 per message
/// (callgrind).
pub fn contains_separator(s: &str) -> bool {
    const VECTOR_SEARCH_FROM: usize = 64;
    let bytes = s.as_bytes();
    if bytes.len() >= VECTOR_SEARCH_FROM {
        return memchr::memchr2(NAME_VALUE_SEPARATOR, PROPERTY_SEPARATOR, bytes).is_some();
    }
    let mut words = bytes.chunks_exact(8);
    let mut found = false;
    for word in &mut words {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        found |= word_has_separator(u64::from_le_bytes(w));
    }
    found || words.remainder().iter().any(|&b| b == NAME_VALUE_SEPARATOR || b == PROPERTY_SEPARATOR)
}

/// Calls `found` with the position and value of each separator (0x01 or 0x02) in `bytes`, in
/// order. A stored message's properties (some 150-300 bytes holding about 14 separators) were
/// searched with a `memchr` per separator, about 50 instructions each to set up a vector search
/// that then ran over a few dozen bytes: some 730 instructions per consumed message (callgrind
/// of a drain). Here the text is read once, a word (8 bytes) at a time: `x - 0x03.. & !x &
/// 0x80..` sets the high bit of every byte below 3 (and, from a borrow, perhaps of a byte right
/// after one), so each flagged byte is checked before it is reported.
pub(crate) fn for_each_separator(bytes: &[u8], mut found: impl FnMut(usize, u8)) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut words = bytes.chunks_exact(8);
    let mut base = 0;
    for word in &mut words {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        let x = u64::from_le_bytes(w);
        let mut flagged = x.wrapping_sub(3 * ONES) & !x & HIGHS;
        while flagged != 0 {
            // Little-endian: the lowest flagged bit is the earliest byte.
            let i = flagged.trailing_zeros() as usize / 8;
            if matches!(word[i], NAME_VALUE_SEPARATOR | PROPERTY_SEPARATOR) {
                found(base + i, word[i]);
            }
            flagged &= flagged - 1;
        }
        base += 8;
    }
    for (i, &b) in words.remainder().iter().enumerate() {
        if matches!(b, NAME_VALUE_SEPARATOR | PROPERTY_SEPARATOR) {
            found(base + i, b);
        }
    }
}

/// Whether one of the 8 bytes of `word` is 0x01 or 0x02. `x - 0x01.. & !x & 0x80..` is nonzero
/// exactly when some byte of `x` is zero (a borrow can set a byte's high bit only after a byte
/// below it was zero), so it is exact about whether a byte equals the separator `x` was
/// XORed with, which is all this asks.
fn word_has_separator(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let equal = |c: u8| {
        let x = word ^ (ONES * u64::from(c));
        x.wrapping_sub(ONES) & !x & HIGHS
    };
    (equal(NAME_VALUE_SEPARATOR) | equal(PROPERTY_SEPARATOR)) != 0
}

/// Encodes properties as `name 0x01 value 0x02` per entry, in iteration order.
///
/// Entries with an empty value are skipped: Java writes them, but every parser drops them, so
/// the wire result is the same. A name that is empty, or a name or value containing 0x01 or
/// 0x02, would corrupt the string and is an `InvalidArgument` error. The caller checks the
/// total length against [`MAX_PROPERTIES_LEN`] where it applies.
pub fn encode_properties<I, K, V>(props: I) -> Result<String>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    // Enough for the usual TAGS, KEYS, WAIT and UNIQ_KEY without growing.
    let mut out = String::with_capacity(128);
    for (name, value) in props {
        append_property(&mut out, name.as_ref(), value.as_ref())?;
    }
    Ok(out)
}

/// Appends one property to an [`encode_properties`] string, by its rules (nothing for an empty
/// value; an error for an empty name or a separator byte).
pub fn append_property(out: &mut String, name: &str, value: &str) -> Result<()> {
    if check_property(name, value)? {
        push_property(out, name, value);
    }
    Ok(())
}

/// Appends a property named by one of this crate's constants (`property::*`; debug builds
/// assert the name is valid), checking only its value: an empty one is left out, as
/// [`append_property`] does, and one with a separator byte is an error. Six of these per
/// message, checking the constant names each time was about a quarter of a batch send's
/// property work (callgrind).
pub fn append_system_property(out: &mut String, name: &'static str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Ok(());
    }
    debug_assert!(!name.is_empty() && !contains_separator(name), "system property name {name:?}");
    if contains_separator(value) {
        return Err(Error::invalid_argument(format!(
            "message property {name:?} contains a reserved separator byte (0x01 or 0x02)"
        )));
    }
    push_property(out, name, value);
    Ok(())
}

fn push_property(out: &mut String, name: &str, value: &str) {
    out.push_str(name);
    out.push(char::from(NAME_VALUE_SEPARATOR));
    out.push_str(value);
    out.push(char::from(PROPERTY_SEPARATOR));
}

/// Whether a property may be sent (an error if it never may); `false` for an empty value,
/// which is left out, as the Java client does.
fn check_property(name: &str, value: &str) -> Result<bool> {
    if name.is_empty() {
        return Err(Error::invalid_argument("message property name is empty"));
    }
    if contains_separator(name) || contains_separator(value) {
        return Err(Error::invalid_argument(format!(
            "message property {name:?} contains a reserved separator byte (0x01 or 0x02)"
        )));
    }
    Ok(!value.is_empty())
}
