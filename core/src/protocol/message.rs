//! Message bytes: the properties string (docs/remoting-protocol.md §5.2), the property keys and
//! the reserved set (§5.3), batch bodies (§5.4), message and pull sys flags (§5.5), body
//! compression (zlib, LZ4 frames and Zstandard, as the Java 5.x client writes them;
//! docs/compression.md), and the stored-message layout brokers return in pull, query, view and
//! check-transaction bodies (§6.1), including inner-batch unwrapping (§6.2).
//!
//! Decoders take untrusted bytes: every length is checked against the bytes that remain,
//! decompression is capped, and nothing here panics on any input (property tests below).
//!
//! # Bad entries in a stored-message body
//!
//! Java stops at the first entry it cannot decode and silently drops the rest. Here:
//! * [`decode_stored_messages`] is all-or-nothing: the first bad entry fails the call, and the
//!   error names the entry index, its byte offset and its queue offset when readable.
//! * [`decode_stored_messages_lenient`] returns every entry it could decode plus one
//!   [`EntryFailure`] per entry it could not. When the bad entry's TOTALSIZE frame is intact
//!   (for example an LZ4 body or a corrupt zlib stream) only that entry is skipped and the walk
//!   goes on; when the frame itself is broken the walk stops there, and the failure says how
//!   many bytes were left undecoded. Nothing is dropped without a failure record.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use bytes::Bytes;

use super::msgid::encode_offset_msg_id;
use crate::error::{Error, Result};

/// Message property keys (Java `MessageConst`, plus the ONS keys the open-source client lacks).
pub mod property {
    /// Tag of the message (one tag; its Java hash is the tags code brokers filter on).
    pub const TAGS: &str = "TAGS";
    /// Business keys separated by [`KEY_SEPARATOR`]; indexed for QUERY_MESSAGE.
    pub const KEYS: &str = "KEYS";
    /// Separator between several [`KEYS`].
    pub const KEY_SEPARATOR: &str = " ";
    /// Client-side unique message id (docs/remoting-protocol.md §7.2).
    pub const UNIQ_KEY: &str = "UNIQ_KEY";
    /// `true`: the broker answers only after the message is stored.
    pub const WAIT: &str = "WAIT";
    /// 4.x delay level 1..=18.
    pub const DELAY: &str = "DELAY";
    /// `true` marks a transactional half message.
    pub const TRAN_MSG: &str = "TRAN_MSG";
    /// Producer group (required on half messages).
    pub const PGROUP: &str = "PGROUP";
    /// Client-local copy of the transaction id.
    pub const TRANSACTION_ID: &str = "__transactionId__";
    /// First transaction check not before this many seconds.
    pub const CHECK_IMMUNITY_TIME_IN_SECONDS: &str = "CHECK_IMMUNITY_TIME_IN_SECONDS";
    /// Number of transaction checks already done (broker).
    pub const TRANSACTION_CHECK_TIMES: &str = "TRANSACTION_CHECK_TIMES";
    /// Queue offset of the half message (broker).
    pub const TRAN_PREPARED_QUEUE_OFFSET: &str = "TRAN_PREPARED_QUEUE_OFFSET";
    /// Original topic of a retried message.
    pub const RETRY_TOPIC: &str = "RETRY_TOPIC";
    /// Reconsume count when re-sent through the producer path.
    pub const RECONSUME_TIME: &str = "RECONSUME_TIME";
    /// Maximum reconsume count when re-sent through the producer path.
    pub const MAX_RECONSUME_TIMES: &str = "MAX_RECONSUME_TIMES";
    /// Message id of the first delivery of a retried message.
    pub const ORIGIN_MESSAGE_ID: &str = "ORIGIN_MESSAGE_ID";
    /// Original topic of delayed, timer and half messages.
    pub const REAL_TOPIC: &str = "REAL_TOPIC";
    /// Original queue id of delayed, timer and half messages.
    pub const REAL_QID: &str = "REAL_QID";
    /// Queue min offset from the pull response (consumer-local).
    pub const MIN_OFFSET: &str = "MIN_OFFSET";
    /// Queue max offset from the pull response (consumer-local).
    pub const MAX_OFFSET: &str = "MAX_OFFSET";
    /// Consumption start time, for the consume timeout (consumer-local).
    pub const CONSUME_START_TIME: &str = "CONSUME_START_TIME";
    /// 5.x timer: absolute deliver time in ms.
    pub const TIMER_DELIVER_MS: &str = "TIMER_DELIVER_MS";
    /// 5.x timer: relative delay in seconds.
    pub const TIMER_DELAY_SEC: &str = "TIMER_DELAY_SEC";
    /// 5.x timer: relative delay in ms.
    pub const TIMER_DELAY_MS: &str = "TIMER_DELAY_MS";
    /// Timer internals (broker).
    pub const TIMER_OUT_MS: &str = "TIMER_OUT_MS";
    /// Timer internals (broker).
    pub const TIMER_ENQUEUE_MS: &str = "TIMER_ENQUEUE_MS";
    /// Timer internals (broker).
    pub const TIMER_DEQUEUE_MS: &str = "TIMER_DEQUEUE_MS";
    /// Timer internals (broker).
    pub const TIMER_ROLL_TIMES: &str = "TIMER_ROLL_TIMES";
    /// Timer internals (broker).
    pub const TIMER_DEL_UNIQKEY: &str = "TIMER_DEL_UNIQKEY";
    /// Timer internals (broker).
    pub const TIMER_DELAY_LEVEL: &str = "TIMER_DELAY_LEVEL";
    /// ONS absolute deliver time in ms; only Alibaba Cloud brokers act on it.
    pub const START_DELIVER_TIME: &str = "__STARTDELIVERTIME";
    /// ONS sharding (ordering) key; metadata only for open-source brokers.
    pub const SHARDING_KEY: &str = "__SHARDINGKEY";
    /// Namespace of the producer.
    pub const INSTANCE_ID: &str = "INSTANCE_ID";
    /// Broker-added trace switch.
    pub const TRACE_ON: &str = "TRACE_ON";
    /// Broker-added region.
    pub const MSG_REGION: &str = "MSG_REGION";
    /// Broker-added cluster name.
    pub const CLUSTER: &str = "CLUSTER";
    /// Request-reply: message type.
    pub const MSG_TYPE: &str = "MSG_TYPE";
    /// Request-reply: correlation id.
    pub const CORRELATION_ID: &str = "CORRELATION_ID";
    /// Request-reply: client to reply to.
    pub const REPLY_TO_CLIENT: &str = "REPLY_TO_CLIENT";
    /// Request-reply: time to live.
    pub const TTL: &str = "TTL";
    /// Request-reply: arrive time.
    pub const ARRIVE_TIME: &str = "ARRIVE_TIME";
    /// Request-reply: push reply time.
    pub const PUSH_REPLY_TIME: &str = "PUSH_REPLY_TIME";
    /// Reserved.
    pub const BUYER_ID: &str = "BUYER_ID";
    /// Reserved.
    pub const TRANSFER_FLAG: &str = "TRANSFER_FLAG";
    /// Reserved.
    pub const CORRECTION_FLAG: &str = "CORRECTION_FLAG";
    /// Reserved.
    pub const MQ2_FLAG: &str = "MQ2_FLAG";
    /// Reserved.
    pub const EXTEND_UNIQ_INFO: &str = "EXTEND_UNIQ_INFO";
    /// Reserved.
    pub const DUP_INFO: &str = "DUP_INFO";
    /// Inner-batch message count.
    pub const INNER_NUM: &str = "INNER_NUM";
    /// Inner-batch base offset.
    pub const INNER_BASE: &str = "INNER_BASE";
    /// Multi-dispatch (light message queue) targets.
    pub const INNER_MULTI_DISPATCH: &str = "INNER_MULTI_DISPATCH";
    /// Multi-dispatch queue offsets.
    pub const INNER_MULTI_QUEUE_OFFSET: &str = "INNER_MULTI_QUEUE_OFFSET";
    /// POP checkpoint.
    pub const POP_CK: &str = "POP_CK";
    /// POP checkpoint offset.
    pub const POP_CK_OFFSET: &str = "POP_CK_OFFSET";
    /// First POP time.
    pub const FIRST_POP_TIME: &str = "1ST_POP_TIME";
    /// Born host as text.
    pub const BORN_HOST: &str = "__BORNHOST";
    /// Born timestamp as text.
    pub const BORN_TIMESTAMP: &str = "BORN_TIMESTAMP";
    /// Original topic of a dead-lettered message.
    pub const DLQ_ORIGIN_TOPIC: &str = "DLQ_ORIGIN_TOPIC";
    /// Original message id of a dead-lettered message.
    pub const DLQ_ORIGIN_MESSAGE_ID: &str = "DLQ_ORIGIN_MESSAGE_ID";
    /// Trace context.
    pub const TRACE_CONTEXT: &str = "TRACE_CONTEXT";
    /// Redirect marker.
    pub const REDIRECT: &str = "REDIRECT";
    /// Forward queue id.
    pub const FORWARD_QUEUE_ID: &str = "PROPERTY_FORWARD_QUEUE_ID";
    /// Body CRC appended by brokers with `enabledAppendPropCRC`.
    pub const CRC32: &str = "__CRC32#";
    /// Properties starting with this prefix are never stored by brokers.
    pub const TRANSIENT_PREFIX: &str = "__RMQ.TRANSIENT.";
}

/// Keys Java's `Message.putUserProperty` refuses (`MessageConst.STRING_HASH_SET`, Apache
/// RocketMQ master 2025-09). Keys a user legitimately sets through the property API in Java,
/// such as `CHECK_IMMUNITY_TIME_IN_SECONDS`, `__SHARDINGKEY` and `__STARTDELIVERTIME`, are
/// deliberately not in it.
const RESERVED_PROPERTIES: [&str; 51] = [
    property::TRACE_ON,
    property::MSG_REGION,
    property::KEYS,
    property::TAGS,
    property::WAIT,
    property::DELAY,
    property::RETRY_TOPIC,
    property::REAL_TOPIC,
    property::REAL_QID,
    property::TRAN_MSG,
    property::PGROUP,
    property::MIN_OFFSET,
    property::MAX_OFFSET,
    property::BUYER_ID,
    property::ORIGIN_MESSAGE_ID,
    property::TRANSFER_FLAG,
    property::CORRECTION_FLAG,
    property::MQ2_FLAG,
    property::RECONSUME_TIME,
    property::UNIQ_KEY,
    property::MAX_RECONSUME_TIMES,
    property::CONSUME_START_TIME,
    property::POP_CK,
    property::POP_CK_OFFSET,
    property::FIRST_POP_TIME,
    property::TRAN_PREPARED_QUEUE_OFFSET,
    property::DUP_INFO,
    property::EXTEND_UNIQ_INFO,
    property::INSTANCE_ID,
    property::CORRELATION_ID,
    property::REPLY_TO_CLIENT,
    property::TTL,
    property::ARRIVE_TIME,
    property::PUSH_REPLY_TIME,
    property::CLUSTER,
    property::MSG_TYPE,
    property::INNER_MULTI_QUEUE_OFFSET,
    property::TIMER_DELAY_MS,
    property::TIMER_DELAY_SEC,
    property::TIMER_DELIVER_MS,
    property::TIMER_ENQUEUE_MS,
    property::TIMER_DEQUEUE_MS,
    property::TIMER_ROLL_TIMES,
    property::TIMER_OUT_MS,
    property::TIMER_DEL_UNIQKEY,
    property::TIMER_DELAY_LEVEL,
    property::BORN_HOST,
    property::BORN_TIMESTAMP,
    property::DLQ_ORIGIN_TOPIC,
    property::DLQ_ORIGIN_MESSAGE_ID,
    property::CRC32,
];

/// Whether `key` is a system property a user may not set (Java `MessageConst.STRING_HASH_SET`).
pub fn is_reserved_property(key: &str) -> bool {
    RESERVED_PROPERTIES.contains(&key)
}

/// Message sys flag bits (send header `f`, stored SYSFLAG; docs/remoting-protocol.md §5.5).
pub mod sys_flag {
    /// Body is compressed (type in [`COMPRESSION_TYPE_MASK`]).
    pub const COMPRESSED: i32 = 0x1;
    /// Broker-set for MULTI_TAG topics.
    pub const MULTI_TAGS: i32 = 0x2;
    /// Transaction bits: none.
    pub const TRANSACTION_NOT_TYPE: i32 = 0;
    /// Transaction bits: half (prepared) message.
    pub const TRANSACTION_PREPARED_TYPE: i32 = 0x4;
    /// Transaction bits: commit.
    pub const TRANSACTION_COMMIT_TYPE: i32 = 0x8;
    /// Transaction bits: rollback; also the mask of the transaction bits.
    pub const TRANSACTION_ROLLBACK_TYPE: i32 = 0xC;
    /// Born host is IPv6 (20 bytes instead of 8).
    pub const BORNHOST_V6: i32 = 0x10;
    /// Store host is IPv6 (20 bytes instead of 8).
    pub const STOREHOST_V6: i32 = 0x20;
    /// Inner batch that the client must unwrap.
    pub const NEED_UNWRAP: i32 = 0x40;
    /// Body is an inner batch (§5.4 layout).
    pub const INNER_BATCH: i32 = 0x80;
    /// Compression type LZ4 (LZ4 frame format).
    pub const COMPRESSION_LZ4_TYPE: i32 = 0x100;
    /// Compression type ZSTD.
    pub const COMPRESSION_ZSTD_TYPE: i32 = 0x200;
    /// Compression type ZLIB (type bits 0 also mean zlib: 4.x clients set only 0x1).
    pub const COMPRESSION_ZLIB_TYPE: i32 = 0x300;
    /// Mask of the compression-type bits.
    pub const COMPRESSION_TYPE_MASK: i32 = 0x700;

    /// The transaction bits of `flag`.
    pub fn transaction_value(flag: i32) -> i32 {
        flag & TRANSACTION_ROLLBACK_TYPE
    }

    /// `flag` with its transaction bits replaced by `kind`.
    pub fn reset_transaction_value(flag: i32, kind: i32) -> i32 {
        (flag & !TRANSACTION_ROLLBACK_TYPE) | (kind & TRANSACTION_ROLLBACK_TYPE)
    }

    /// `flag` without [`COMPRESSED`].
    pub fn clear_compressed(flag: i32) -> i32 {
        flag & !COMPRESSED
    }

    /// Whether any bit of `expected` is set in `flag` (Java `MessageSysFlag.check`).
    pub fn check(flag: i32, expected: i32) -> bool {
        flag & expected != 0
    }

    /// Whether the message is an inner batch to unwrap (both 0x80 and 0x40 set).
    pub fn is_inner_batch_to_unwrap(flag: i32) -> bool {
        check(flag, INNER_BATCH) && check(flag, NEED_UNWRAP)
    }
}

/// Pull request sys flags (pull header `sysFlag`).
pub mod pull_sys_flag {
    /// Also commit the consumer offset carried in the request.
    pub const COMMIT_OFFSET: i32 = 0x1;
    /// Long polling: the broker may hold the request.
    pub const SUSPEND: i32 = 0x2;
    /// The request carries a subscription expression.
    pub const SUBSCRIPTION: i32 = 0x4;
    /// Class filter mode.
    pub const CLASS_FILTER: i32 = 0x8;
    /// Lite pull consumer.
    pub const LITE_PULL: i32 = 0x10;

    /// Java `PullSysFlag.buildSysFlag`.
    pub fn build(commit_offset: bool, suspend: bool, subscription: bool, class_filter: bool) -> i32 {
        let mut flag = 0;
        if commit_offset {
            flag |= COMMIT_OFFSET;
        }
        if suspend {
            flag |= SUSPEND;
        }
        if subscription {
            flag |= SUBSCRIPTION;
        }
        if class_filter {
            flag |= CLASS_FILTER;
        }
        flag
    }

    /// `flag` without [`COMMIT_OFFSET`].
    pub fn clear_commit_offset(flag: i32) -> i32 {
        flag & !COMMIT_OFFSET
    }
}

/// Compression algorithm named by the sys-flag type bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompressionType {
    /// zlib (RFC 1950); type bits 0x300, or 0 for 4.x clients.
    Zlib,
    /// LZ4 frame format (what lz4-java's `LZ4FrameOutputStream` writes); type bits 0x100.
    Lz4,
    /// Zstandard frames (what zstd-jni's `ZstdOutputStream` writes); type bits 0x200.
    Zstd,
}

impl CompressionType {
    /// The compression type of a sys flag (Java `CompressionType.findByValue`): bits 0 and 3
    /// mean zlib, 1 LZ4, 2 ZSTD; 4..=7 are unknown and an error.
    pub fn from_sys_flag(flag: i32) -> Result<CompressionType> {
        match (flag & sys_flag::COMPRESSION_TYPE_MASK) >> 8 {
            0 | 3 => Ok(CompressionType::Zlib),
            1 => Ok(CompressionType::Lz4),
            2 => Ok(CompressionType::Zstd),
            other => Err(Error::protocol(format!("unknown compression type {other} in sys flag {flag:#x}"))),
        }
    }

    /// The sys-flag bits announcing this type.
    pub fn sys_flag_bits(self) -> i32 {
        match self {
            CompressionType::Zlib => sys_flag::COMPRESSION_ZLIB_TYPE,
            CompressionType::Lz4 => sys_flag::COMPRESSION_LZ4_TYPE,
            CompressionType::Zstd => sys_flag::COMPRESSION_ZSTD_TYPE,
        }
    }

    /// The Java name (`CompressionType.name()`).
    pub fn name(self) -> &'static str {
        match self {
            CompressionType::Zlib => "ZLIB",
            CompressionType::Lz4 => "LZ4",
            CompressionType::Zstd => "ZSTD",
        }
    }

    /// The type named `name` (ZLIB, LZ4 or ZSTD, any case), as Java's `CompressionType.of`.
    pub fn from_name(name: &str) -> Option<CompressionType> {
        [CompressionType::Zlib, CompressionType::Lz4, CompressionType::Zstd]
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(name.trim()))
    }

    /// The levels this type accepts (zlib 0..=9, Zstandard 1..=22; LZ4 frames have none and
    /// ignore the level, as Java's `Lz4Compressor` does).
    pub fn level_range(self) -> std::ops::RangeInclusive<i32> {
        match self {
            CompressionType::Zlib => 0..=9,
            CompressionType::Lz4 => i32::MIN..=i32::MAX,
            CompressionType::Zstd => 1..=22,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Properties string (§5.2)

/// Separates a property name from its value.
pub const NAME_VALUE_SEPARATOR: u8 = 0x01;
/// Ends every property (including the last).
pub const PROPERTY_SEPARATOR: u8 = 0x02;
/// Longest properties string a broker stores (its length is a signed i16).
pub const MAX_PROPERTIES_LEN: usize = i16::MAX as usize;

/// Message properties. Ordered so the encoded string is deterministic.
pub type Properties = BTreeMap<String, String>;

/// Parses a properties string the way Java's `string2messageProperties` does: split on 0x02;
/// an entry is kept only when it has a non-empty name before its first 0x01 and a non-empty
/// value after it (the value may contain further 0x01 bytes); the last entry needs no
/// trailing 0x02; a repeated name keeps its last value. Invalid UTF-8 becomes U+FFFD, as Java's
/// decoder does. Never fails.
pub fn parse_properties(raw: &[u8]) -> Properties {
    let mut map = Properties::new();
    for entry in raw.split(|&b| b == PROPERTY_SEPARATOR) {
        let Some(sep) = entry.iter().position(|&b| b == NAME_VALUE_SEPARATOR) else {
            continue;
        };
        let (name, value) = (&entry[..sep], &entry[sep + 1..]);
        if name.is_empty() || value.is_empty() {
            continue;
        }
        map.insert(String::from_utf8_lossy(name).into_owned(), String::from_utf8_lossy(value).into_owned());
    }
    map
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
        let (name, value) = (name.as_ref(), value.as_ref());
        if check_property(name, value)? {
            out.push_str(name);
            out.push(char::from(NAME_VALUE_SEPARATOR));
            out.push_str(value);
            out.push(char::from(PROPERTY_SEPARATOR));
        }
    }
    Ok(out)
}

/// The length [`encode_properties`] would produce, with the same checks, without building it.
pub fn encoded_properties_len<I, K, V>(props: I) -> Result<usize>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut len = 0;
    for (name, value) in props {
        let (name, value) = (name.as_ref(), value.as_ref());
        if check_property(name, value)? {
            len += name.len() + value.len() + 2;
        }
    }
    Ok(len)
}

/// Whether a property may be sent (an error if it never may); `false` for an empty value,
/// which is left out, as the Java client does.
fn check_property(name: &str, value: &str) -> Result<bool> {
    if name.is_empty() {
        return Err(Error::invalid_argument("message property name is empty"));
    }
    let bad = |s: &str| s.bytes().any(|b| b == NAME_VALUE_SEPARATOR || b == PROPERTY_SEPARATOR);
    if bad(name) || bad(value) {
        return Err(Error::invalid_argument(format!(
            "message property {name:?} contains a reserved separator byte (0x01 or 0x02)"
        )));
    }
    Ok(!value.is_empty())
}

// ---------------------------------------------------------------------------------------------
// Body compression

/// Bodies at least this long are compressed by single-message sends (`compressMsgBodyOverHowmuch`).
pub const COMPRESS_BODY_THRESHOLD: usize = 4096;
/// Java's default deflate level (`rocketmq.message.compressLevel`).
pub const DEFAULT_COMPRESS_LEVEL: u32 = 5;
/// Largest body [`decompress_body`] produces; a larger result is an error, so a small
/// compressed body cannot expand without bound (brokers store at most 4 MiB by default).
pub const MAX_DECOMPRESSED_BODY_LEN: usize = 64 * 1024 * 1024;

/// Compresses a body as Java's producer does: a zlib (RFC 1950) stream at `level` (0..=9,
/// larger values are clamped to 9; Java uses [`DEFAULT_COMPRESS_LEVEL`]).
pub fn compress_body(body: &[u8], level: u32) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(body.len() / 2 + 64),
        flate2::Compression::new(level.min(9)),
    );
    // Writing into a Vec has no I/O that could fail; the only error source would be a
    // flate2 internal bug.
    encoder.write_all(body).expect("zlib compression into a Vec cannot fail");
    encoder.finish().expect("zlib compression into a Vec cannot fail")
}

/// Compresses a body with `kind` as the Java 5.x producer does (`Lz4Compressor`: an LZ4 frame
/// of independent blocks, no level; `ZstdCompressor`: one Zstandard frame at `level`; zlib as
/// [`compress_body`]). `level` is clamped into [`CompressionType::level_range`].
pub fn compress_body_as(body: &[u8], kind: CompressionType, level: i32) -> Result<Vec<u8>> {
    let range = kind.level_range();
    let level = level.clamp(*range.start(), *range.end());
    match kind {
        CompressionType::Zlib => Ok(compress_body(body, level.unsigned_abs())),
        CompressionType::Lz4 => {
            // Independent blocks: lz4-java's LZ4FrameInputStream reads no other kind.
            let info = lz4_flex::frame::FrameInfo::new().block_mode(lz4_flex::frame::BlockMode::Independent);
            let mut encoder =
                lz4_flex::frame::FrameEncoder::with_frame_info(info, Vec::with_capacity(body.len() / 2 + 64));
            encoder.write_all(body).map_err(|e| Error::invalid_argument(format!("LZ4 compression failed: {e}")))?;
            encoder.finish().map_err(|e| Error::invalid_argument(format!("LZ4 compression failed: {e}")))
        }
        CompressionType::Zstd => zstd::stream::encode_all(body, level)
            .map_err(|e| Error::invalid_argument(format!("ZSTD compression failed: {e}"))),
    }
}

/// Decompresses a zlib body, failing if it is corrupt, truncated, or would exceed
/// [`MAX_DECOMPRESSED_BODY_LEN`].
pub fn decompress_body(data: &[u8]) -> Result<Vec<u8>> {
    decompress_body_with_limit(data, MAX_DECOMPRESSED_BODY_LEN)
}

/// [`decompress_body`] with an explicit output limit in bytes.
pub fn decompress_body_with_limit(data: &[u8], limit: usize) -> Result<Vec<u8>> {
    decompress_body_as(data, CompressionType::Zlib, limit)
}

/// Largest Zstandard window a body may ask for (8 MiB). The decoder allocates the window a
/// frame header announces, so without this a 20-byte hostile frame could claim 128 MiB or
/// more; a Java producer's frame for a message under the broker's 4 MiB limit (or a larger
/// body that compresses under it, at the default level) never needs more.
const ZSTD_WINDOW_LOG_MAX: u32 = 23;

/// Decompresses a body compressed with `kind`, failing if it is corrupt, truncated, or would
/// exceed `limit` bytes. Never holds more than `limit + 1` bytes of output, whatever sizes the
/// compressed stream announces.
pub fn decompress_body_as(data: &[u8], kind: CompressionType, limit: usize) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let read = match kind {
        CompressionType::Zlib => read_at_most(flate2::read::ZlibDecoder::new(data), limit, &mut out),
        CompressionType::Lz4 => read_at_most(lz4_flex::frame::FrameDecoder::new(data), limit, &mut out),
        CompressionType::Zstd => zstd::stream::read::Decoder::with_buffer(data).and_then(|mut decoder| {
            decoder.window_log_max(ZSTD_WINDOW_LOG_MAX)?;
            // One frame, as Java writes; bytes after it are not part of the body.
            read_at_most(decoder.single_frame(), limit, &mut out)
        }),
    };
    let more = read.map_err(|e| Error::protocol(format!("cannot decompress {} message body: {e}", kind.name())))?;
    if more {
        return Err(Error::protocol(format!(
            "decompressed {} message body exceeds the {limit}-byte limit",
            kind.name()
        )));
    }
    Ok(out)
}

/// Reads `reader` into `out`, at most `limit` bytes; returns whether more was left. The probe
/// for "more" reads one byte aside, so `out` never grows past the limit for it.
fn read_at_most(reader: impl Read, limit: usize, out: &mut Vec<u8>) -> std::io::Result<bool> {
    let mut reader = reader;
    (&mut reader).take(u64::try_from(limit).unwrap_or(u64::MAX)).read_to_end(out)?;
    let mut probe = [0u8; 1];
    loop {
        match reader.read(&mut probe) {
            Ok(n) => return Ok(n > 0),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Body CRC as brokers store it: CRC32 (IEEE) of the stored body bytes with the top bit
/// cleared (Java `UtilAll.crc32`).
pub fn body_crc(body: &[u8]) -> i32 {
    // The mask leaves 31 bits, so the value always fits a non-negative i32.
    (crc32fast::hash(body) & 0x7FFF_FFFF) as i32
}

// ---------------------------------------------------------------------------------------------
// Bounds-checked reader

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(Error::protocol(format!(
                "{what}: needs {n} bytes at offset {}, only {} left",
                self.pos,
                self.remaining()
            )));
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    fn i8(&mut self, what: &str) -> Result<i8> {
        Ok(i8::from_be_bytes(self.array(what)?))
    }

    fn i16(&mut self, what: &str) -> Result<i16> {
        Ok(i16::from_be_bytes(self.array(what)?))
    }

    fn i32(&mut self, what: &str) -> Result<i32> {
        Ok(i32::from_be_bytes(self.array(what)?))
    }

    fn i64(&mut self, what: &str) -> Result<i64> {
        Ok(i64::from_be_bytes(self.array(what)?))
    }

    /// A length field: must be non-negative (Java would fail on a negative array size or
    /// misread the rest of the entry).
    fn len_from(&self, value: i64, what: &str) -> Result<usize> {
        usize::try_from(value)
            .map_err(|_| Error::protocol(format!("{what} is negative ({value}) at offset {}", self.pos)))
    }

    fn host(&mut self, v6: bool, what: &str) -> Result<SocketAddr> {
        let ip = if v6 {
            IpAddr::V6(Ipv6Addr::from(self.array::<16>(what)?))
        } else {
            IpAddr::V4(Ipv4Addr::from(self.array::<4>(what)?))
        };
        let port = self.i32(what)?;
        let port = u16::try_from(port).map_err(|_| Error::protocol(format!("{what}: port {port} out of range")))?;
        Ok(SocketAddr::new(canonical_ip(ip), port))
    }
}

/// Java turns a 16-byte IPv4-mapped address into an `Inet4Address`; do the same so offset
/// message ids and host comparisons agree with Java.
fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

// ---------------------------------------------------------------------------------------------
// Batch body (§5.4)

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
fn frame<'a>(buf: &'a [u8], pos: usize, min: usize, what: &str) -> Result<&'a [u8]> {
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

// ---------------------------------------------------------------------------------------------
// Stored messages (§6.1)

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
    pub properties: Properties,
    /// Offset message id (§7.1) from the store host and commit-log offset; the `offsetMsgId`
    /// of Java's received messages.
    pub offset_msg_id: String,
}

impl StoredMessage {
    /// A property value.
    pub fn property(&self, key: &str) -> Option<&str> {
        self.properties.get(key).map(String::as_str)
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

struct Budget {
    body_bytes: usize,
    messages: usize,
    /// Set by a decompression that failed only because of `body_bytes` (not the absolute
    /// per-body cap): the entry does not fit now, which is no fault of the entry.
    over_budget: bool,
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
fn decode_stored_entry(entry: &[u8], budget: &mut Budget) -> Result<Vec<StoredMessage>> {
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
            properties: Properties::new(),
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
fn encode_stored_entry(msg: &StoredMessage, version: MessageVersion, body: &[u8]) -> Result<Vec<u8>> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample(topic: &str) -> StoredMessage {
        let mut properties = Properties::new();
        properties.insert("TAGS".into(), "TagA".into());
        properties.insert("UNIQ_KEY".into(), "7F0000010F5A18B4AAC2636DA2E90000".into());
        properties.insert("WAIT".into(), "true".into());
        StoredMessage {
            store_size: 0,
            queue_id: 3,
            flag: 7,
            queue_offset: 42,
            commit_log_offset: 0x1234,
            sys_flag: 0,
            born_timestamp: 1_700_000_000_000,
            born_host: "10.0.0.5:53211".parse().unwrap(),
            store_timestamp: 1_700_000_000_123,
            store_host: "127.0.0.1:10911".parse().unwrap(),
            reconsume_times: 1,
            prepared_transaction_offset: 0,
            body_crc: body_crc(b"hello"),
            body: Bytes::from_static(b"hello"),
            topic: topic.into(),
            properties,
            offset_msg_id: String::new(),
        }
    }

    /// What decoding an encoded message yields: size and id filled, compressed flag cleared.
    fn expected_after_round_trip(msg: &StoredMessage, encoded_len: usize) -> StoredMessage {
        let mut m = msg.clone();
        m.store_size = encoded_len as i32;
        m.sys_flag &= !(sys_flag::BORNHOST_V6 | sys_flag::STOREHOST_V6);
        if m.born_host.is_ipv6() {
            m.sys_flag |= sys_flag::BORNHOST_V6;
        }
        if m.store_host.is_ipv6() {
            m.sys_flag |= sys_flag::STOREHOST_V6;
        }
        if !m.body.is_empty() {
            m.sys_flag = sys_flag::clear_compressed(m.sys_flag);
        }
        m.properties.retain(|_, v| !v.is_empty());
        m.offset_msg_id = encode_offset_msg_id(m.store_host, m.commit_log_offset);
        m
    }

    #[test]
    fn parse_properties_rules() {
        let p = parse_properties(b"TAGS\x01TagA\x02KEYS\x01k1 k2\x02");
        assert_eq!(p.get("TAGS").map(String::as_str), Some("TagA"));
        assert_eq!(p.get("KEYS").map(String::as_str), Some("k1 k2"));
        assert_eq!(p.len(), 2);
        // Last entry without the trailing separator is kept.
        assert_eq!(parse_properties(b"a\x01b").get("a").map(String::as_str), Some("b"));
        // Empty value, empty name, no separator: dropped.
        assert!(parse_properties(b"a\x01\x02\x01b\x02ab\x02\x02\x02").is_empty());
        // Duplicate: last wins. A value may contain 0x01.
        let p = parse_properties(b"k\x01v1\x02k\x01v\x012\x02");
        assert_eq!(p.get("k").map(String::as_str), Some("v\u{1}2"));
        // Invalid UTF-8 is replaced, not an error.
        let p = parse_properties(b"k\x01\xff\x02");
        assert_eq!(p.get("k").map(String::as_str), Some("\u{FFFD}"));
        assert!(parse_properties(b"").is_empty());
    }

    #[test]
    fn encode_properties_rules() {
        let s = encode_properties([("TAGS", "TagA"), ("EMPTY", ""), ("WAIT", "true")]).unwrap();
        assert_eq!(s, "TAGS\u{1}TagA\u{2}WAIT\u{1}true\u{2}");
        assert!(encode_properties([("", "v")]).is_err());
        assert!(encode_properties([("k", "a\u{2}b")]).is_err());
        assert!(encode_properties([("k\u{1}", "v")]).is_err());
        assert_eq!(encode_properties(Vec::<(String, String)>::new()).unwrap(), "");
        assert_eq!(encoded_properties_len([("TAGS", "TagA"), ("EMPTY", ""), ("WAIT", "true")]).unwrap(), s.len());
        assert!(encoded_properties_len([("k", "a\u{2}b")]).is_err());
    }

    #[test]
    fn reserved_set_matches_java() {
        for k in ["TAGS", "KEYS", "UNIQ_KEY", "WAIT", "DELAY", "TRAN_MSG", "PGROUP", "__CRC32#", "TIMER_DELIVER_MS"] {
            assert!(is_reserved_property(k), "{k}");
        }
        for k in ["CHECK_IMMUNITY_TIME_IN_SECONDS", "__SHARDINGKEY", "__STARTDELIVERTIME", "__transactionId__", "myKey"]
        {
            assert!(!is_reserved_property(k), "{k}");
        }
        let unique: std::collections::BTreeSet<_> = RESERVED_PROPERTIES.iter().collect();
        assert_eq!(unique.len(), RESERVED_PROPERTIES.len());
    }

    #[test]
    fn sys_flags() {
        assert_eq!(CompressionType::from_sys_flag(0x1).unwrap(), CompressionType::Zlib);
        assert_eq!(CompressionType::from_sys_flag(0x301).unwrap(), CompressionType::Zlib);
        assert_eq!(CompressionType::from_sys_flag(0x101).unwrap(), CompressionType::Lz4);
        assert_eq!(CompressionType::from_sys_flag(0x201).unwrap(), CompressionType::Zstd);
        assert!(CompressionType::from_sys_flag(0x401).is_err());
        assert_eq!(sys_flag::transaction_value(0x7), sys_flag::TRANSACTION_PREPARED_TYPE);
        assert_eq!(sys_flag::reset_transaction_value(0x5, sys_flag::TRANSACTION_COMMIT_TYPE), 0x9);
        assert!(sys_flag::is_inner_batch_to_unwrap(0xC0));
        assert!(!sys_flag::is_inner_batch_to_unwrap(0x80));
        assert_eq!(pull_sys_flag::build(true, true, true, false), 0x7);
        assert_eq!(pull_sys_flag::clear_commit_offset(0x7), 0x6);
    }

    #[test]
    fn compression_round_trip_and_limits() {
        let body = vec![b'x'; 100_000];
        let z = compress_body(&body, DEFAULT_COMPRESS_LEVEL);
        assert_eq!(&z[..1], &[0x78], "RFC 1950 header");
        assert!(z.len() < 1000);
        assert_eq!(decompress_body(&z).unwrap(), body);
        assert_eq!(decompress_body_with_limit(&z, 100_000).unwrap().len(), 100_000);
        assert!(decompress_body_with_limit(&z, 99_999).is_err());
        assert!(decompress_body(&z[..z.len() / 2]).is_err(), "truncated stream");
        assert!(decompress_body(b"not zlib").is_err());
        assert!(decompress_body(&[]).is_err());
    }

    #[test]
    fn zip_bomb_is_capped() {
        // 80 MiB of zeros compresses to ~80 KiB; the decoder must refuse, not allocate it.
        let z = compress_body(&vec![0u8; 80 * 1024 * 1024], 9);
        let err = decompress_body(&z).unwrap_err();
        assert!(err.message().contains("limit"), "{err}");
        // The same bomb as a stored body: the decoder reports it instead of expanding it.
        let mut m = sample("T");
        m.sys_flag = sys_flag::COMPRESSED;
        let bytes = encode_stored_entry(&m, MessageVersion::V1, &z).unwrap();
        let err = decode_stored_messages(&bytes).unwrap_err();
        assert!(err.message().contains("limit"), "{err}");
    }

    #[test]
    fn decodes_v1_and_v2_and_ipv6() {
        let m = sample("TopicTest");
        let v1 = encode_stored_message(&m, MessageVersion::V1).unwrap();
        assert_eq!(&v1[4..8], &MAGIC_CODE_V1.to_be_bytes());
        let decoded = decode_stored_messages(&v1).unwrap();
        assert_eq!(decoded, vec![expected_after_round_trip(&m, v1.len())]);
        assert_eq!(decoded[0].offset_msg_id, "7F00000100002A9F0000000000001234");
        assert_eq!(decoded[0].msg_id(), "7F0000010F5A18B4AAC2636DA2E90000");
        assert_eq!(decoded[0].tags(), Some("TagA"));

        let long_topic = "T".repeat(200);
        let mut m2 = sample(&long_topic);
        m2.born_host = "[2001:db8::5]:40000".parse().unwrap();
        m2.store_host = "[2001:db8::1]:10911".parse().unwrap();
        assert!(encode_stored_message(&m2, MessageVersion::V1).is_err());
        let v2 = encode_stored_message(&m2, MessageVersion::V2).unwrap();
        let decoded = decode_stored_messages(&v2).unwrap();
        assert_eq!(decoded, vec![expected_after_round_trip(&m2, v2.len())]);
        assert_eq!(decoded[0].sys_flag, sys_flag::BORNHOST_V6 | sys_flag::STOREHOST_V6);
        assert_eq!(decoded[0].offset_msg_id.len(), 56);

        // Several entries back to back.
        let mut both = v1.clone();
        both.extend_from_slice(&v2);
        assert_eq!(decode_stored_messages(&both).unwrap().len(), 2);
        assert!(decode_stored_messages(&[]).unwrap().is_empty());
    }

    #[test]
    fn ipv4_mapped_store_host_becomes_ipv4() {
        let mut m = sample("T");
        m.store_host = "[::ffff:127.0.0.1]:10911".parse().unwrap();
        let bytes = encode_stored_message(&m, MessageVersion::V1).unwrap();
        let d = decode_stored_messages(&bytes).unwrap();
        assert_eq!(d[0].store_host, "127.0.0.1:10911".parse::<SocketAddr>().unwrap());
        assert_eq!(d[0].offset_msg_id, "7F00000100002A9F0000000000001234");
    }

    /// The input of the Java vectors below: `"rocketmq-ons {i % 7} "` for i in 0..40.
    fn java_vector_input() -> Vec<u8> {
        (0..40).map(|i| format!("rocketmq-ons {} ", i % 7)).collect::<String>().into_bytes()
    }

    /// What Apache RocketMQ 5.3.3's own compressors (`CompressorFactory.getCompressor(type)
    /// .compress(input, 5)`: lz4-java 1.8.0's LZ4FrameOutputStream, zstd-jni 1.5.2's
    /// ZstdOutputStream, java.util.zip's Deflater) wrote for [`java_vector_input`].
    const JAVA_LZ4: &str = "04224d1860707336000000f900726f636b65746d712d6f6e732030200f001a310f001a320f001a330f001a340f001a350f001a360f000f6900ffcb506e7320342000000000";
    const JAVA_ZSTD: &str = "28b52ffd00589403007403726f636b65746d712d6f6e73203020313233343536303132333435363031323334353630313233343536303132333435363031323334202720e0e7b2c8273359e493992cf2c94c16f964268b7c3293453e99c9423e99c9229fcc64914f66b2c8273359e493992cf2c94c162d5f72a43a010000";
    const JAVA_ZLIB: &str =
        "785e2bca4fce4e2dc92dd4cdcf2b5630502842e61aa2728d50b9c6a85c1354ae292ad70c953b6ad170b708005a3bd56c";

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn decompresses_what_the_java_compressors_write() {
        let input = java_vector_input();
        for (kind, hex) in
            [(CompressionType::Lz4, JAVA_LZ4), (CompressionType::Zstd, JAVA_ZSTD), (CompressionType::Zlib, JAVA_ZLIB)]
        {
            let body = decompress_body_as(&unhex(hex), kind, MAX_DECOMPRESSED_BODY_LEN).unwrap();
            assert_eq!(body, input, "{kind:?}");
            // The limit holds exactly: one byte less is an error, not a truncated body.
            let err = decompress_body_as(&unhex(hex), kind, input.len() - 1).unwrap_err();
            assert!(err.message().contains("exceeds"), "{kind:?}: {err}");
        }
    }

    #[test]
    fn every_compression_type_round_trips_and_mislabelled_bodies_fail_clearly() {
        let mut m = sample("T");
        m.body = Bytes::from(vec![b'a'; 10_000]);
        for (kind, bits) in [
            (CompressionType::Zlib, sys_flag::COMPRESSION_ZLIB_TYPE),
            (CompressionType::Lz4, sys_flag::COMPRESSION_LZ4_TYPE),
            (CompressionType::Zstd, sys_flag::COMPRESSION_ZSTD_TYPE),
        ] {
            let compressed = compress_body_as(&m.body, kind, DEFAULT_COMPRESS_LEVEL as i32).unwrap();
            assert!(compressed.len() < 1000, "{kind:?}: {} bytes", compressed.len());
            m.sys_flag = sys_flag::COMPRESSED | bits;
            let bytes = encode_stored_message(&m, MessageVersion::V1).unwrap();
            let d = decode_stored_messages(&bytes).unwrap();
            assert_eq!(d[0].body, m.body, "{kind:?}");
            assert_eq!(d[0].sys_flag, bits, "{kind:?}: 0x1 cleared, type kept");
        }

        // 4.x style: only 0x1 means zlib.
        m.sys_flag = sys_flag::COMPRESSED;
        let bytes = encode_stored_message(&m, MessageVersion::V1).unwrap();
        assert_eq!(decode_stored_messages(&bytes).unwrap()[0].body, m.body);

        // zlib bytes labelled LZ4: a clear error naming the type, not garbage.
        let mut lz4 = bytes.clone();
        lz4[36..40].copy_from_slice(&(sys_flag::COMPRESSED | sys_flag::COMPRESSION_LZ4_TYPE).to_be_bytes());
        let err = decode_stored_messages(&lz4).unwrap_err();
        assert!(err.message().contains("cannot decompress LZ4"), "{err}");
        assert_eq!(err.kind(), crate::error::ErrorKind::Protocol);
        // Type bits 4..=7 name nothing.
        let mut unknown = bytes.clone();
        unknown[36..40].copy_from_slice(&(sys_flag::COMPRESSED | 0x400).to_be_bytes());
        let err = decode_stored_messages(&unknown).unwrap_err();
        assert!(err.message().contains("unknown compression type 4"), "{err}");
    }

    #[test]
    fn a_zstd_frame_asking_for_a_huge_window_is_refused_without_allocating_it() {
        // A frame header with Window_Descriptor exponent 30 (1 GiB window), no content size,
        // then one raw block of 1 byte: legal Zstandard, but no Java producer writes it for a
        // message body and the decoder would allocate the window.
        let mut frame = vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, (30 - 10) << 3];
        frame.extend_from_slice(&[0x09, 0x00, 0x00, b'x']);
        let err = decompress_body_as(&frame, CompressionType::Zstd, MAX_DECOMPRESSED_BODY_LEN).unwrap_err();
        assert!(err.message().contains("cannot decompress ZSTD"), "{err}");
    }

    #[test]
    fn compression_names_and_levels() {
        assert_eq!(CompressionType::from_name("lz4"), Some(CompressionType::Lz4));
        assert_eq!(CompressionType::from_name(" ZSTD "), Some(CompressionType::Zstd));
        assert_eq!(CompressionType::from_name("gzip"), None);
        assert!(CompressionType::Zlib.level_range().contains(&9) && !CompressionType::Zlib.level_range().contains(&10));
        assert!(!CompressionType::Zstd.level_range().contains(&0));
    }

    #[test]
    fn unwraps_inner_batch() {
        let entries = vec![
            BatchEntry { flag: 1, body: Bytes::from_static(b"one"), properties: "TAGS\u{1}A\u{2}".into() },
            BatchEntry { flag: 2, body: Bytes::from_static(b"two"), properties: "TAGS\u{1}B\u{2}".into() },
            BatchEntry { flag: 3, body: Bytes::new(), properties: String::new() },
        ];
        let batch = encode_batch_body(&entries).unwrap();
        assert_eq!(decode_batch_body(&batch).unwrap(), entries);

        let mut m = sample("T");
        m.body = Bytes::from(batch);
        m.sys_flag = sys_flag::INNER_BATCH | sys_flag::NEED_UNWRAP | sys_flag::COMPRESSED;
        m.queue_offset = 100;
        let bytes = encode_stored_message(&m, MessageVersion::V1).unwrap();
        let d = decode_stored_messages(&bytes).unwrap();
        assert_eq!(d.len(), 3);
        for (i, msg) in d.iter().enumerate() {
            assert_eq!(msg.queue_offset, 100 + i as i64);
            assert_eq!(msg.flag, i as i32 + 1);
            assert_eq!(msg.topic, "T");
            assert_eq!(msg.queue_id, 3);
            assert_eq!(msg.commit_log_offset, 0x1234);
            assert_eq!(msg.sys_flag, 0);
        }
        assert_eq!(d[0].body, Bytes::from_static(b"one"));
        assert_eq!(d[1].tags(), Some("B"));
        assert!(d[2].properties.is_empty());
    }

    #[test]
    fn batch_body_layout() {
        let e = BatchEntry { flag: 9, body: Bytes::from_static(b"xy"), properties: "a\u{1}b\u{2}".into() };
        let b = encode_batch_body(std::slice::from_ref(&e)).unwrap();
        let mut expected = Vec::new();
        expected.extend_from_slice(&28i32.to_be_bytes());
        expected.extend_from_slice(&[0; 8]);
        expected.extend_from_slice(&9i32.to_be_bytes());
        expected.extend_from_slice(&2i32.to_be_bytes());
        expected.extend_from_slice(b"xy");
        expected.extend_from_slice(&4i16.to_be_bytes());
        expected.extend_from_slice(b"a\x01b\x02");
        assert_eq!(b, expected);
        let too_long = BatchEntry { properties: "x".repeat(MAX_PROPERTIES_LEN + 1), ..e };
        assert!(encode_batch_body(&[too_long]).is_err());
        assert!(decode_batch_body(&b[..b.len() - 1]).is_err());
    }

    #[test]
    fn bad_entries_are_reported() {
        let good = encode_stored_message(&sample("T"), MessageVersion::V1).unwrap();
        let mut lz4 = sample("T");
        lz4.sys_flag = sys_flag::COMPRESSED;
        let mut lz4 = encode_stored_message(&lz4, MessageVersion::V1).unwrap();
        lz4[36..40].copy_from_slice(&(sys_flag::COMPRESSED | sys_flag::COMPRESSION_ZSTD_TYPE).to_be_bytes());

        // good, bad-but-framed, good: lenient skips only the bad one.
        let mut buf = good.clone();
        buf.extend_from_slice(&lz4);
        buf.extend_from_slice(&good);
        let d = decode_stored_messages_lenient(&buf);
        assert_eq!(d.messages.len(), 2);
        assert_eq!(d.failures.len(), 1);
        let f = &d.failures[0];
        assert_eq!((f.entry_index, f.byte_offset, f.resumed), (1, good.len(), true));
        assert_eq!((f.queue_id, f.queue_offset, f.commit_log_offset), (Some(3), Some(42), Some(0x1234)));
        assert_eq!(f.skipped_bytes, lz4.len());
        let err = decode_stored_messages(&buf).unwrap_err();
        assert!(err.message().contains("entry 1 at byte"), "{err}");
        assert!(err.message().contains("ZSTD"), "{err}");

        // good, then a broken frame: the walk stops and says how much was left.
        let mut buf = good.clone();
        buf.extend_from_slice(&good[..50]);
        let d = decode_stored_messages_lenient(&buf);
        assert_eq!(d.messages.len(), 1);
        assert_eq!(d.failures.len(), 1);
        assert!(!d.failures[0].resumed);
        assert_eq!(d.failures[0].skipped_bytes, 50);
        assert!(decode_stored_messages(&buf).is_err());

        // Blank padding magic and a negative topic length are errors.
        let mut blank = good.clone();
        blank[4..8].copy_from_slice(&BLANK_MAGIC_CODE.to_be_bytes());
        assert!(decode_stored_messages(&blank).is_err());
        let mut neg = good.clone();
        let topic_at = 84 + 4 + 5;
        assert_eq!(neg[topic_at], 1);
        neg[topic_at] = 0xFF;
        assert!(decode_stored_messages(&neg).unwrap_err().message().contains("negative"));
    }

    #[test]
    fn per_response_budgets() {
        let mut m = sample("T");
        m.body = Bytes::from(vec![b'z'; 10_000]);
        m.sys_flag = sys_flag::COMPRESSED;
        let bytes = encode_stored_message(&m, MessageVersion::V1).unwrap();
        let mut budget = Budget { body_bytes: 9_999, messages: 10, over_budget: false };
        let err = decode_stored_entry(&bytes, &mut budget).unwrap_err();
        assert!(err.message().contains("budget"), "{err}");
        let mut budget = Budget { body_bytes: 10_000, messages: 10, over_budget: false };
        assert_eq!(decode_stored_entry(&bytes, &mut budget).unwrap().len(), 1);
        assert_eq!((budget.body_bytes, budget.messages), (0, 9));

        let entries = vec![BatchEntry::default(); 3];
        m.body = Bytes::from(encode_batch_body(&entries).unwrap());
        m.sys_flag = sys_flag::INNER_BATCH | sys_flag::NEED_UNWRAP;
        let bytes = encode_stored_message(&m, MessageVersion::V1).unwrap();
        let mut budget = Budget { body_bytes: MAX_DECODED_BODY_BYTES, messages: 2, over_budget: false };
        assert!(decode_stored_entry(&bytes, &mut budget).is_err());
        let mut budget = Budget { body_bytes: MAX_DECODED_BODY_BYTES, messages: 3, over_budget: false };
        assert_eq!(decode_stored_entry(&bytes, &mut budget).unwrap().len(), 3);
    }

    #[test]
    fn field_overrunning_totalsize_is_an_error() {
        let good = encode_stored_message(&sample("T"), MessageVersion::V1).unwrap();
        // Shrink TOTALSIZE by one: the properties no longer fit the entry.
        let mut short = good.clone();
        short[..4].copy_from_slice(&(good.len() as i32 - 1).to_be_bytes());
        short.pop();
        assert!(decode_stored_messages(&short).is_err());
        // Grow TOTALSIZE with trailing bytes inside the entry: tolerated.
        let mut long = good.clone();
        long.extend_from_slice(&[0xEE; 3]);
        long[..4].copy_from_slice(&(good.len() as i32 + 3).to_be_bytes());
        assert_eq!(decode_stored_messages(&long).unwrap().len(), 1);
    }

    fn arb_addr() -> impl Strategy<Value = SocketAddr> {
        prop_oneof![
            (any::<[u8; 4]>(), any::<u16>()).prop_map(|(ip, p)| SocketAddr::new(Ipv4Addr::from(ip).into(), p)),
            (any::<[u8; 16]>(), any::<u16>())
                .prop_map(|(ip, p)| { SocketAddr::new(canonical_ip(IpAddr::V6(Ipv6Addr::from(ip))), p) }),
        ]
    }

    fn arb_props() -> impl Strategy<Value = Properties> {
        proptest::collection::btree_map("[A-Za-z0-9_#.]{1,12}", "[^\u{1}\u{2}]{0,20}", 0..6)
    }

    prop_compose! {
        fn arb_stored()(
            queue_id in any::<i32>(), flag in any::<i32>(), queue_offset in any::<i64>(),
            commit_log_offset in any::<i64>(),
            sys in prop_oneof![Just(0), Just(0x1), Just(0x301), Just(0x2), Just(0x4), Just(0x8)],
            born_timestamp in any::<i64>(), born_host in arb_addr(), store_timestamp in any::<i64>(),
            store_host in arb_addr(), reconsume_times in any::<i32>(),
            prepared_transaction_offset in any::<i64>(), body_crc in any::<i32>(),
            body in proptest::collection::vec(any::<u8>(), 0..300),
            topic in "[%|a-zA-Z0-9_-]{0,200}", properties in arb_props(),
        ) -> StoredMessage {
            StoredMessage {
                store_size: 0, queue_id, flag, queue_offset, commit_log_offset, sys_flag: sys,
                born_timestamp, born_host, store_timestamp, store_host, reconsume_times,
                prepared_transaction_offset, body_crc, body: Bytes::from(body), topic, properties,
                offset_msg_id: String::new(),
            }
        }
    }

    proptest! {
        #[test]
        fn stored_round_trip(msgs in proptest::collection::vec(arb_stored(), 0..5)) {
            let mut buf = Vec::new();
            let mut expected = Vec::new();
            for m in &msgs {
                let version = if m.topic.len() > 127 { MessageVersion::V2 } else { MessageVersion::V1 };
                let bytes = encode_stored_message(m, version).unwrap();
                expected.push(expected_after_round_trip(m, bytes.len()));
                buf.extend_from_slice(&bytes);
            }
            prop_assert_eq!(decode_stored_messages(&buf).unwrap(), expected);
        }

        #[test]
        fn stored_decoder_never_panics(buf in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = decode_stored_messages(&buf);
            let _ = decode_stored_messages_lenient(&buf);
        }

        #[test]
        fn stored_decoder_survives_mutations(
            m in arb_stored(),
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        ) {
            // Mutating valid entries reaches far deeper than random bytes.
            let version = if m.topic.len() > 127 { MessageVersion::V2 } else { MessageVersion::V1 };
            let mut bytes = encode_stored_message(&m, version).unwrap();
            for (i, b) in flips {
                let at = i.index(bytes.len());
                bytes[at] = b;
            }
            let _ = decode_stored_messages(&bytes);
            let _ = decode_stored_messages_lenient(&bytes);
        }

        #[test]
        fn batch_round_trip(entries in proptest::collection::vec(
            (any::<i32>(), proptest::collection::vec(any::<u8>(), 0..100), "[^\u{1}\u{2}]{0,30}")
                .prop_map(|(flag, body, properties)| BatchEntry { flag, body: Bytes::from(body), properties }),
            0..6,
        )) {
            let encoded = encode_batch_body(&entries).unwrap();
            prop_assert_eq!(decode_batch_body(&encoded).unwrap(), entries);
        }

        #[test]
        fn batch_decoder_never_panics(buf in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode_batch_body(&buf);
        }

        #[test]
        fn properties_round_trip(props in arb_props()) {
            let encoded = encode_properties(&props).unwrap();
            let mut expected = props.clone();
            expected.retain(|_, v| !v.is_empty());
            prop_assert_eq!(parse_properties(encoded.as_bytes()), expected);
        }

        #[test]
        fn properties_parser_never_panics(buf in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_properties(&buf);
        }

        #[test]
        fn decompress_never_panics(buf in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decompress_body_with_limit(&buf, 4096);
        }

        #[test]
        fn compress_round_trip(body in proptest::collection::vec(any::<u8>(), 0..2000), level in 0u32..12) {
            prop_assert_eq!(decompress_body(&compress_body(&body, level)).unwrap(), body);
        }
    }
}
