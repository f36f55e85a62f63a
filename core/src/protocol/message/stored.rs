//! The stored-message layout brokers return in pull, query, view and check-transaction bodies
//! (docs/remoting-protocol.md §6.1), inner-batch unwrapping (§6.2), and the limits that keep
//! decoding within a caller's budget.

#[allow(unused_imports)]
use super::*;

/// Magic code of a v1 stored message (topic length: 1 signed byte).
pub const MAGIC_CODE_V1: i32 = 0xDAA3_20A7_u32 as i32;
/// Magic code of a v2 stored message (topic length: i16), used for topics over 127 bytes.
pub const MAGIC_CODE_V2: i32 = 0xDAA3_20AB_u32 as i32;
/// End-of-file padding inside commit-log files; never a message.
pub const BLANK_MAGIC_CODE: i32 = 0xCBD4_3194_u32 as i32;

/// Limit on the sum of body bytes (after decompression) in one decode call, across all entries.
pub const MAX_DECODED_BODY_BYTES: usize = 256 * 1024 * 1024;
/// Limit on messages (after inner-batch unwrapping) produced by one decode call. Java pulls
/// at most 32 by default (1024 at most); a larger count is an error, not an allocation.
pub const MAX_DECODED_MESSAGES: usize = 1 << 18;

/// Stored-message format version (the magic code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageVersion {
    /// Magic `0xDAA320A7`, topic length in one signed byte.
    V1,
    /// Magic `0xDAA320AB`, topic length in a signed i16.
    V2,
}

impl MessageVersion {
    /// The magic code written for this version.
    pub fn magic_code(self) -> i32 {
        match self {
            MessageVersion::V1 => MAGIC_CODE_V1,
            MessageVersion::V2 => MAGIC_CODE_V2,
        }
    }

    fn from_magic(magic: i32) -> Result<MessageVersion> {
        match magic {
            MAGIC_CODE_V1 => Ok(MessageVersion::V1),
            MAGIC_CODE_V2 => Ok(MessageVersion::V2),
            BLANK_MAGIC_CODE => Err(Error::protocol("commit-log end-of-file padding, not a message")),
            other => Err(Error::protocol(format!("unknown stored-message magic code {:#010x}", other as u32))),
        }
    }
}

/// A message as a broker stored and returned it, body decompressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// TOTALSIZE of the stored entry (for inner-batch messages: of the outer entry).
    pub store_size: i32,
    pub queue_id: i32,
    /// User flag.
    pub flag: i32,
    /// Consume-queue offset (inner-batch messages: outer offset + index).
    pub queue_offset: i64,
    /// Commit-log offset (inner-batch messages share the outer one).
    pub commit_log_offset: i64,
    /// Sys flag as stored, except that [`sys_flag::COMPRESSED`] is cleared once the body was
    /// decompressed (as Java does) and unwrapped inner messages have INNER_BATCH/NEED_UNWRAP
    /// cleared so nothing unwraps them twice.
    pub sys_flag: i32,
    pub born_timestamp: i64,
    pub born_host: SocketAddr,
    pub store_timestamp: i64,
    pub store_host: SocketAddr,
    pub reconsume_times: i32,
    pub prepared_transaction_offset: i64,
    /// BODYCRC as stored (masked CRC32 of the stored, possibly compressed, body; see
    /// [`body_crc`]). 0 for unwrapped inner-batch messages (clients write 0 in batch entries).
    pub body_crc: i32,
    /// Body, decompressed.
    pub body: Bytes,
    pub topic: String,
    pub properties: StoredProperties,
    /// Offset message id (§7.1) from the store host and commit-log offset; the `offsetMsgId`
    /// of Java's received messages.
    pub offset_msg_id: String,
}

impl StoredMessage {
    /// A property value.
    pub fn property(&self, key: &str) -> Option<&str> {
        self.properties.get(key)
    }

    /// The `TAGS` property.
    pub fn tags(&self) -> Option<&str> {
        self.property(property::TAGS)
    }

    /// The `KEYS` property.
    pub fn keys(&self) -> Option<&str> {
        self.property(property::KEYS)
    }

    /// The client unique key (`UNIQ_KEY`).
    pub fn uniq_key(&self) -> Option<&str> {
        self.property(property::UNIQ_KEY)
    }

    /// The id users see (Java `MessageClientExt.getMsgId`): `UNIQ_KEY` if present, else the
    /// offset message id.
    pub fn msg_id(&self) -> &str {
        self.uniq_key().unwrap_or(&self.offset_msg_id)
    }
}

/// Why one entry of a stored-message body was not decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryFailure {
    /// Index of the entry in the body (counting entries, not unwrapped inner messages).
    pub entry_index: usize,
    /// Byte offset of the entry in the body.
    pub byte_offset: usize,
    /// Header fields, when the entry was long enough to read them (for logging and for
    /// locating the message with an admin tool).
    pub queue_id: Option<i32>,
    pub queue_offset: Option<i64>,
    pub commit_log_offset: Option<i64>,
    /// Bytes of the body not decoded because of this failure: the entry itself when its frame
    /// was intact and the walk went on, or everything from `byte_offset` to the end when the
    /// frame was broken and the walk stopped.
    pub skipped_bytes: usize,
    /// Whether decoding continued with the next entry.
    pub resumed: bool,
    pub error: Error,
}

/// Result of [`decode_stored_messages_lenient`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LenientDecode {
    pub messages: Vec<StoredMessage>,
    pub failures: Vec<EntryFailure>,
    /// [`decode_stored_messages_within`] only: the byte offset of the first entry left
    /// undecoded because taking it would have passed the [`DecodeLimits`]. That entry and the
    /// ones after it are not failures; whoever pulled them asks for them again.
    pub stopped_at_limit: Option<usize>,
}

/// What one [`decode_stored_messages_within`] call may produce: a pull reply is bounded by what
/// the consumer asked for and by the room its cache has, whatever the broker sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Messages (after inner-batch unwrapping). The first entry is taken even if it alone
    /// unwraps to more (within [`MAX_DECODED_MESSAGES`]), so a reply always makes progress.
    pub messages: usize,
    /// Body bytes (decompressed) of all messages together.
    pub body_bytes: usize,
    /// Body bytes the first entry may take when that is more than `body_bytes` (the consumer's
    /// whole cache may have room when this queue's share has none); at most
    /// [`MAX_DECOMPRESSED_BODY_LEN`] per body in any case.
    pub first_body_bytes: usize,
}

/// Fixed bytes of a stored entry with IPv4 hosts and a v1 topic length, empty body, topic and
/// properties: the smallest valid TOTALSIZE.
const MIN_STORED_SIZE: usize = 4 + 4 + 4 + 4 + 4 + 8 + 8 + 4 + 8 + 8 + 8 + 8 + 4 + 8 + 4 + 1 + 2;

/// Decodes every stored message in `buf` (concatenated entries, walked by TOTALSIZE),
/// decompressing bodies and unwrapping inner batches. All-or-nothing: the first entry that
/// does not decode fails the call (see the module docs for the lenient variant).
pub fn decode_stored_messages(buf: &[u8]) -> Result<Vec<StoredMessage>> {
    let decoded = walk_stored(buf, true, None);
    match decoded.failures.into_iter().next() {
        None => Ok(decoded.messages),
        Some(f) => {
            let mut where_ = format!("entry {} at byte {}", f.entry_index, f.byte_offset);
            if let (Some(q), Some(o)) = (f.queue_id, f.queue_offset) {
                where_.push_str(&format!(" (queue {q}, queue offset {o})"));
            }
            Err(Error::protocol(format!(
                "stored message {where_}: {} ({} entries decoded before it)",
                f.error.message(),
                f.entry_index
            )))
        }
    }
}

/// Decodes as many stored messages as possible, reporting each entry that failed (see the
/// module docs). Never fails and never panics.
pub fn decode_stored_messages_lenient(buf: &[u8]) -> LenientDecode {
    walk_stored(buf, false, None)
}

/// [`decode_stored_messages_lenient`] that stops, without a failure, before the first entry
/// that would take the result past `limits` (see [`LenientDecode::stopped_at_limit`]).
/// Memory is bounded by the limits, not by what the entries claim: a body is decompressed
/// with the bytes left as its output limit.
pub fn decode_stored_messages_within(buf: &[u8], limits: DecodeLimits) -> LenientDecode {
    walk_stored(buf, false, Some(limits))
}

pub(super) struct Budget {
    pub(super) body_bytes: usize,
    pub(super) messages: usize,
    /// Set by a decompression that failed only because of `body_bytes` (not the absolute
    /// per-body cap): the entry does not fit now, which is no fault of the entry.
    pub(super) over_budget: bool,
}

fn walk_stored(buf: &[u8], stop_at_first: bool, limits: Option<DecodeLimits>) -> LenientDecode {
    let mut out = LenientDecode::default();
    let mut budget = match limits {
        None => Budget { body_bytes: MAX_DECODED_BODY_BYTES, messages: MAX_DECODED_MESSAGES, over_budget: false },
        Some(l) => Budget {
            body_bytes: l.body_bytes.max(l.first_body_bytes).min(MAX_DECODED_BODY_BYTES),
            messages: MAX_DECODED_MESSAGES,
            over_budget: false,
        },
    };
    let mut pos = 0usize;
    let mut index = 0usize;
    let mut taken_messages = 0usize;
    let mut taken_bytes = 0usize;
    while pos < buf.len() {
        let entry = match frame(buf, pos, MIN_STORED_SIZE, "stored message") {
            Ok(entry) => entry,
            Err(error) => {
                let rest = &buf[pos..];
                out.failures.push(failure(rest, index, pos, rest.len(), false, error));
                break;
            }
        };
        if let Some(l) = limits {
            // After the first entry, only what is left of the reply's own limits.
            if index > 0 {
                if taken_messages >= l.messages {
                    out.stopped_at_limit = Some(pos);
                    break;
                }
                budget.body_bytes = l.body_bytes.saturating_sub(taken_bytes);
                budget.messages = l.messages - taken_messages;
            }
        }
        budget.over_budget = false;
        match decode_stored_entry(entry, &mut budget) {
            Ok(mut msgs) => {
                taken_messages += msgs.len();
                taken_bytes += msgs.iter().map(|m| m.body.len()).sum::<usize>();
                out.messages.append(&mut msgs);
            }
            Err(_) if limits.is_some() && budget.over_budget => {
                // Does not fit what is left: not a failure, pulled again later.
                out.stopped_at_limit = Some(pos);
                break;
            }
            Err(error) => {
                out.failures.push(failure(entry, index, pos, entry.len(), true, error));
                if stop_at_first {
                    break;
                }
            }
        }
        pos += entry.len();
        index += 1;
    }
    if stop_at_first {
        if let Some(f) = out.failures.first_mut() {
            f.resumed = false;
        }
    }
    out
}

fn failure(entry: &[u8], index: usize, pos: usize, skipped: usize, resumed: bool, error: Error) -> EntryFailure {
    let at = |from: usize, n: usize| entry.get(from..from + n);
    let queue_id = at(12, 4).map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    let read_i64 = |from| at(from, 8).map(|b| i64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]));
    EntryFailure {
        entry_index: index,
        byte_offset: pos,
        queue_id,
        queue_offset: read_i64(20),
        commit_log_offset: read_i64(28),
        skipped_bytes: skipped,
        resumed,
        error,
    }
}

/// Decodes one TOTALSIZE-delimited entry into one message, or several for an inner batch.
pub(super) fn decode_stored_entry(entry: &[u8], budget: &mut Budget) -> Result<Vec<StoredMessage>> {
    let mut r = Reader::new(entry);
    let store_size = r.i32("TOTALSIZE")?;
    let version = MessageVersion::from_magic(r.i32("MAGICCODE")?)?;
    let body_crc = r.i32("BODYCRC")?;
    let queue_id = r.i32("QUEUEID")?;
    let flag = r.i32("FLAG")?;
    let queue_offset = r.i64("QUEUEOFFSET")?;
    let commit_log_offset = r.i64("PHYSICALOFFSET")?;
    let mut sys = r.i32("SYSFLAG")?;
    let born_timestamp = r.i64("BORNTIMESTAMP")?;
    let born_host = r.host(sys & sys_flag::BORNHOST_V6 != 0, "BORNHOST")?;
    let store_timestamp = r.i64("STORETIMESTAMP")?;
    let store_host = r.host(sys & sys_flag::STOREHOST_V6 != 0, "STOREHOST")?;
    let reconsume_times = r.i32("RECONSUMETIMES")?;
    let prepared_transaction_offset = r.i64("PREPAREDTRANSACTIONOFFSET")?;

    let body_len = r.i32("BODY length")?;
    let body_len = r.len_from(body_len.into(), "BODY length")?;
    let stored_body = r.take(body_len, "BODY")?;
    // Java decompresses only a non-empty body and only then clears the flag.
    let body = if sys & sys_flag::COMPRESSED != 0 && !stored_body.is_empty() {
        let kind = CompressionType::from_sys_flag(sys)?;
        let limit = MAX_DECOMPRESSED_BODY_LEN.min(budget.body_bytes);
        let body = decompress_body_as(stored_body, kind, limit).map_err(|e| {
            if limit < MAX_DECOMPRESSED_BODY_LEN && e.message().contains("exceeds") {
                budget.over_budget = true;
                Error::protocol(format!(
                    "{} (the {MAX_DECODED_BODY_BYTES}-byte budget of decompressed bodies per response is spent)",
                    e.message()
                ))
            } else {
                e
            }
        })?;
        sys = sys_flag::clear_compressed(sys);
        Bytes::from(body)
    } else {
        if stored_body.len() > budget.body_bytes {
            budget.over_budget = true;
            return Err(Error::protocol(format!(
                "a {}-byte body exceeds the {} bytes left of the decode budget",
                stored_body.len(),
                budget.body_bytes
            )));
        }
        Bytes::copy_from_slice(stored_body)
    };
    budget.body_bytes = budget.body_bytes.saturating_sub(body.len());

    let topic_len: i64 = match version {
        MessageVersion::V1 => r.i8("TOPIC length")?.into(),
        MessageVersion::V2 => r.i16("TOPIC length")?.into(),
    };
    let topic_len = r.len_from(topic_len, "TOPIC length")?;
    let topic = String::from_utf8_lossy(r.take(topic_len, "TOPIC")?).into_owned();
    let props_len = r.i16("PROPERTIES length")?;
    let props_len = r.len_from(props_len.into(), "PROPERTIES length")?;
    let properties = parse_properties(r.take(props_len, "PROPERTIES")?);

    let offset_msg_id = encode_offset_msg_id(store_host, commit_log_offset);
    let outer = StoredMessage {
        store_size,
        queue_id,
        flag,
        queue_offset,
        commit_log_offset,
        sys_flag: sys,
        born_timestamp,
        born_host,
        store_timestamp,
        store_host,
        reconsume_times,
        prepared_transaction_offset,
        body_crc,
        body,
        topic,
        properties,
        offset_msg_id,
    };
    if !sys_flag::is_inner_batch_to_unwrap(sys) {
        take_message_budget(budget, 1)?;
        return Ok(vec![outer]);
    }
    let inner = decode_batch_body(&outer.body).map_err(|e| Error::protocol(format!("inner batch: {}", e.message())))?;
    take_message_budget(budget, inner.len())?;
    let inner_sys = sys & !(sys_flag::INNER_BATCH | sys_flag::NEED_UNWRAP);
    // Like Java's `MessageDecoder.decodeMessage(MessageExt, List)`: topic, queue, hosts, times
    // and commit-log offset come from the outer entry, flag, body and properties from the inner
    // one, and queue offsets count up from the outer offset.
    Ok(inner
        .into_iter()
        .enumerate()
        .map(|(i, e)| StoredMessage {
            queue_offset: outer.queue_offset.wrapping_add(i as i64),
            flag: e.flag,
            sys_flag: inner_sys,
            body_crc: 0,
            body: e.body,
            properties: parse_properties(e.properties.as_bytes()),
            topic: outer.topic.clone(),
            offset_msg_id: outer.offset_msg_id.clone(),
            ..outer.clone_header()
        })
        .collect())
}

fn take_message_budget(budget: &mut Budget, n: usize) -> Result<()> {
    if n > budget.messages {
        budget.over_budget = true;
        return Err(Error::protocol(format!("more than {MAX_DECODED_MESSAGES} messages in one response")));
    }
    budget.messages -= n;
    Ok(())
}

impl StoredMessage {
    /// The fixed header fields, with empty body, topic, properties and id.
    fn clone_header(&self) -> StoredMessage {
        StoredMessage {
            body: Bytes::new(),
            topic: String::new(),
            properties: StoredProperties::default(),
            offset_msg_id: String::new(),
            ..*self
        }
    }
}

/// Encodes a stored message as a broker writes it to the commit log (the inverse of
/// [`decode_stored_messages`] for one entry). Used by tests and mock brokers.
///
/// `msg.body` is the uncompressed body: if `msg.sys_flag` has [`sys_flag::COMPRESSED`] it is
/// compressed here with the type its type bits name. The host IPv6 bits of the sys flag are set
/// from the addresses; the TOTALSIZE and `offset_msg_id` of `msg` are ignored. Fails if a length
/// does not fit its field (a topic over 127 bytes needs [`MessageVersion::V2`]) or the type bits
/// name no compression type.
pub fn encode_stored_message(msg: &StoredMessage, version: MessageVersion) -> Result<Vec<u8>> {
    if msg.sys_flag & sys_flag::COMPRESSED != 0 && !msg.body.is_empty() {
        let kind = CompressionType::from_sys_flag(msg.sys_flag)?;
        let compressed = compress_body_as(&msg.body, kind, DEFAULT_COMPRESS_LEVEL as i32)?;
        encode_stored_entry(msg, version, &compressed)
    } else {
        encode_stored_entry(msg, version, &msg.body)
    }
}

/// [`encode_stored_message`] with the stored body bytes given as they are to be written.
pub(super) fn encode_stored_entry(msg: &StoredMessage, version: MessageVersion, body: &[u8]) -> Result<Vec<u8>> {
    let mut sys = msg.sys_flag & !(sys_flag::BORNHOST_V6 | sys_flag::STOREHOST_V6);
    if msg.born_host.is_ipv6() {
        sys |= sys_flag::BORNHOST_V6;
    }
    if msg.store_host.is_ipv6() {
        sys |= sys_flag::STOREHOST_V6;
    }
    let props = encode_properties(&msg.properties)?;
    let topic = msg.topic.as_bytes();
    let topic_len_ok = match version {
        MessageVersion::V1 => i8::try_from(topic.len()).is_ok(),
        MessageVersion::V2 => i16::try_from(topic.len()).is_ok(),
    };
    if !topic_len_ok || props.len() > MAX_PROPERTIES_LEN || i32::try_from(body.len()).is_err() {
        return Err(Error::invalid_argument("stored message field too long for its length field"));
    }
    let host_len = |a: &SocketAddr| if a.is_ipv6() { 20 } else { 8 };
    let topic_len_size = if version == MessageVersion::V1 { 1 } else { 2 };
    let size = MIN_STORED_SIZE - 8 - 8 - 1
        + host_len(&msg.born_host)
        + host_len(&msg.store_host)
        + topic_len_size
        + body.len()
        + topic.len()
        + props.len();
    let size = i32::try_from(size).map_err(|_| Error::invalid_argument("stored message too large"))?;

    let mut out = Vec::with_capacity(size as usize);
    let put_host = |out: &mut Vec<u8>, a: &SocketAddr| {
        match a.ip() {
            IpAddr::V4(ip) => out.extend_from_slice(&ip.octets()),
            IpAddr::V6(ip) => out.extend_from_slice(&ip.octets()),
        }
        out.extend_from_slice(&i32::from(a.port()).to_be_bytes());
    };
    out.extend_from_slice(&size.to_be_bytes());
    out.extend_from_slice(&version.magic_code().to_be_bytes());
    out.extend_from_slice(&msg.body_crc.to_be_bytes());
    out.extend_from_slice(&msg.queue_id.to_be_bytes());
    out.extend_from_slice(&msg.flag.to_be_bytes());
    out.extend_from_slice(&msg.queue_offset.to_be_bytes());
    out.extend_from_slice(&msg.commit_log_offset.to_be_bytes());
    out.extend_from_slice(&sys.to_be_bytes());
    out.extend_from_slice(&msg.born_timestamp.to_be_bytes());
    put_host(&mut out, &msg.born_host);
    out.extend_from_slice(&msg.store_timestamp.to_be_bytes());
    put_host(&mut out, &msg.store_host);
    out.extend_from_slice(&msg.reconsume_times.to_be_bytes());
    out.extend_from_slice(&msg.prepared_transaction_offset.to_be_bytes());
    out.extend_from_slice(&(body.len() as i32).to_be_bytes());
    out.extend_from_slice(body);
    match version {
        MessageVersion::V1 => out.push(topic.len() as u8),
        MessageVersion::V2 => out.extend_from_slice(&(topic.len() as i16).to_be_bytes()),
    }
    out.extend_from_slice(topic);
    out.extend_from_slice(&(props.len() as i16).to_be_bytes());
    out.extend_from_slice(props.as_bytes());
    Ok(out)
}
