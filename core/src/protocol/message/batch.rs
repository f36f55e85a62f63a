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
    let mut total = 0usize;
    for (i, e) in entries.iter().enumerate() {
        if e.properties.len() > MAX_PROPERTIES_LEN {
            return Err(Error::invalid_argument(format!(
                "batch message {i}: properties are {} bytes, the limit is {MAX_PROPERTIES_LEN}",
                e.properties.len()
            )));
        }
        let size = BATCH_ENTRY_OVERHEAD + e.body.len() + e.properties.len();
        if i32::try_from(size).is_err() {
            return Err(Error::invalid_argument(format!("batch message {i} is too large ({size} bytes)")));
        }
        total = total.saturating_add(size);
    }
    let mut out = Vec::with_capacity(total);
    for e in entries {
        // Both lengths were checked above.
        let size = (BATCH_ENTRY_OVERHEAD + e.body.len() + e.properties.len()) as i32;
        out.extend_from_slice(&size.to_be_bytes());
        out.extend_from_slice(&0i32.to_be_bytes()); // magic
        out.extend_from_slice(&0i32.to_be_bytes()); // body CRC
        out.extend_from_slice(&e.flag.to_be_bytes());
        out.extend_from_slice(&(e.body.len() as i32).to_be_bytes());
        out.extend_from_slice(&e.body);
        out.extend_from_slice(&(e.properties.len() as i16).to_be_bytes());
        out.extend_from_slice(e.properties.as_bytes());
    }
    Ok(out)
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
