//! Batch bodies: several messages in one SEND_BATCH_MESSAGE (docs/remoting-protocol.md §5.4).

#[allow(unused_imports)]
use super::*;

/// One message of a batch body: flag, body and its own encoded properties string.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BatchEntry {
    pub flag: i32,
    pub body: Bytes,
    /// Encoded properties string (see [`encode_properties`]).
    pub properties: String,
}

/// Fixed bytes of a batch entry: total size, magic, body CRC, flag, body length, properties
/// length.
const BATCH_ENTRY_OVERHEAD: usize = 4 + 4 + 4 + 4 + 4 + 2;

/// Encodes a batch body (code 320): per entry `total | magic 0 | crc 0 | flag | body | props`.
///
/// Fails with `InvalidArgument` if a properties string exceeds [`MAX_PROPERTIES_LEN`] or an
/// entry would not fit the i32 size field, instead of writing a corrupt length.
pub fn encode_batch_body(entries: &[BatchEntry]) -> Result<Vec<u8>> {
    let total = entries.iter().map(|e| batch_entry_len(e.body.len(), e.properties.len())).sum();
    let mut out = Vec::with_capacity(total);
    for (i, e) in entries.iter().enumerate() {
        append_batch_entry(&mut out, i, e.flag, &e.body, &e.properties)?;
    }
    Ok(out)
}

/// Bytes one entry of a batch body takes.
pub fn batch_entry_len(body_len: usize, properties_len: usize) -> usize {
    BATCH_ENTRY_OVERHEAD.saturating_add(body_len).saturating_add(properties_len)
}

/// Appends one entry (the `index`th, for the error message) to a batch body; nothing is
/// appended when it fails: properties over [`MAX_PROPERTIES_LEN`], or an entry whose size does
/// not fit the i32 size field.
pub fn append_batch_entry(out: &mut Vec<u8>, index: usize, flag: i32, body: &[u8], properties: &str) -> Result<()> {
    if properties.len() > MAX_PROPERTIES_LEN {
        return Err(Error::invalid_argument(format!(
            "batch message {index}: properties are {} bytes, the limit is {MAX_PROPERTIES_LEN}",
            properties.len()
        )));
    }
    let size = batch_entry_len(body.len(), properties.len());
    let Ok(size) = i32::try_from(size) else {
        return Err(Error::invalid_argument(format!("batch message {index} is too large ({size} bytes)")));
    };
    out.reserve(size as usize);
    out.extend_from_slice(&size.to_be_bytes());
    out.extend_from_slice(&0i32.to_be_bytes()); // magic
    out.extend_from_slice(&0i32.to_be_bytes()); // body CRC
    out.extend_from_slice(&flag.to_be_bytes());
    // Both fit: each is shorter than `size`, and properties were checked against i16 above.
    out.extend_from_slice(&(body.len() as i32).to_be_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(&(properties.len() as i16).to_be_bytes());
    out.extend_from_slice(properties.as_bytes());
    Ok(())
}

/// Decodes a batch body (§5.4; also the body of an inner-batch stored message).
///
/// Each entry is delimited by its TOTALSIZE; its fields must fit inside it (Java reads the
/// fields sequentially and ignores TOTALSIZE, which agrees whenever the sizes are consistent;
/// bytes after the properties inside an entry are ignored). Magic and CRC are not checked:
/// clients write 0 for both. Any malformed entry fails the whole body.
pub fn decode_batch_body(buf: &[u8]) -> Result<Vec<BatchEntry>> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < buf.len() {
        let entry = frame(buf, pos, BATCH_ENTRY_OVERHEAD, "batch entry")?;
        let index = out.len();
        out.push(
            decode_batch_entry(entry)
                .map_err(|e| Error::protocol(format!("batch entry {index} at byte {pos}: {}", e.message())))?,
        );
        pos += entry.len();
    }
    Ok(out)
}

/// The TOTALSIZE-delimited entry starting at `pos`, or why there is none.
pub(super) fn frame<'a>(buf: &'a [u8], pos: usize, min: usize, what: &str) -> Result<&'a [u8]> {
    let rest = &buf[pos..];
    let Some(size) = rest.get(..4) else {
        return Err(Error::protocol(format!("{what} at byte {pos}: {} stray bytes, no size", rest.len())));
    };
    let size = i32::from_be_bytes([size[0], size[1], size[2], size[3]]);
    match usize::try_from(size) {
        Ok(n) if n >= min && n <= rest.len() => Ok(&rest[..n]),
        _ => Err(Error::protocol(format!(
            "{what} at byte {pos}: size {size} is not within {min}..={} (bytes left)",
            rest.len()
        ))),
    }
}

fn decode_batch_entry(entry: &[u8]) -> Result<BatchEntry> {
    let mut r = Reader::new(entry);
    r.i32("size")?;
    r.i32("magic")?;
    r.i32("body CRC")?;
    let flag = r.i32("flag")?;
    let body_len = r.i32("body length")?;
    let body_len = r.len_from(body_len.into(), "body length")?;
    let body = Bytes::copy_from_slice(r.take(body_len, "body")?);
    let props_len = r.i16("properties length")?;
    let props_len = r.len_from(props_len.into(), "properties length")?;
    let properties = String::from_utf8_lossy(r.take(props_len, "properties")?).into_owned();
    Ok(BatchEntry { flag, body, properties })
}
