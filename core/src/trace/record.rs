//! Trace records and their text form, as the Apache RocketMQ Java client writes and reads them
//! (`client/src/main/java/org/apache/rocketmq/client/trace/TraceDataEncoder.java`,
//! `encoderFromContextBean` and `decoderFromTraceDataString`; docs/traces.md lists the fields).
//!
//! A record is its fields joined by [`CONTENT_SEPARATOR`] (char 1) and ended by
//! [`FIELD_SEPARATOR`] (char 2); a trace message's body is records one after the other. A field
//! the Java client has no value for is written as `null` (Java's `StringBuilder.append` of a
//! null string), so a message without tags or keys has `null` there.

use std::cell::Cell;
use std::ops::Range;

use crate::error::{Error, Result};

/// Between the fields of a record (Java `TraceConstants.CONTENT_SPLITOR`).
pub const CONTENT_SEPARATOR: char = '\u{1}';
/// After each record (Java `TraceConstants.FIELD_SPLITOR`).
pub const FIELD_SEPARATOR: char = '\u{2}';
/// [`CONTENT_SEPARATOR`] as text, a piece of [`append_all!`].
const CONTENT_SEPARATOR_STR: &str = "\u{1}";

/// Appends the pieces (`&str`s) one after the other to `out`, with one capacity check for all of
/// them rather than one each (with a length update each: about a third of a batched message's
/// `Pub` record, callgrind). A macro rather than a loop over an array: each piece's copy is
/// inlined on its own, and a constant piece (a separator) becomes a store of its bytes.
macro_rules! append_all {
    ($out:expr, [$($piece:expr),+ $(,)?] $(,)?) => {{
        let out: &mut String = $out;
        let pieces: [&str; 0 $(+ { let _ = stringify!($piece); 1 })+] = [$($piece),+];
        let total: usize = pieces.iter().map(|p| p.len()).sum();
        out.reserve(total);
        // SAFETY: `reserve` made room for `total` more bytes after `len`, and the pieces,
        // written one after the other from there, are `total` bytes together: every write is
        // within that room. The bytes are whole `&str`s appended after a whole `String`'s, so
        // the text stays UTF-8 when `len` grows by `total`.
        unsafe {
            let bytes = out.as_mut_vec();
            let mut dst = bytes.as_mut_ptr().add(bytes.len());
            let mut next = 0;
            $(
                let _ = stringify!($piece);
                copy_piece(pieces[next].as_bytes(), dst);
                dst = dst.add(pieces[next].len());
                next += 1;
            )+
            let _ = (dst, next);
            bytes.set_len(bytes.len() + total);
        }
    }};
}

/// Java `org.apache.rocketmq.common.message.MessageType`; the records carry its ordinal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceMessageType {
    Normal = 0,
    TransactionHalf = 1,
    TransactionCommit = 2,
    Delay = 3,
    Order = 4,
}

impl TraceMessageType {
    fn from_ordinal(n: i32) -> Option<Self> {
        Some(match n {
            0 => Self::Normal,
            1 => Self::TransactionHalf,
            2 => Self::TransactionCommit,
            3 => Self::Delay,
            4 => Self::Order,
            _ => return None,
        })
    }
}

/// A message sent (Java `TraceType.Pub`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PubTrace {
    /// When the send started, ms since the epoch.
    pub timestamp: i64,
    /// The region the broker named in its answer (`MSG_REGION`).
    pub region_id: String,
    /// The producer group, without namespace.
    pub group: String,
    /// The topic, without namespace.
    pub topic: String,
    /// The message id (`UNIQ_KEY`).
    pub msg_id: String,
    pub tags: Option<String>,
    pub keys: Option<String>,
    /// The address of the broker that stored the message.
    pub store_host: String,
    pub body_length: i32,
    /// How long the send took, ms.
    pub cost_ms: i64,
    pub msg_type: TraceMessageType,
    /// The broker's offset message id.
    pub offset_msg_id: String,
    pub success: bool,
}

/// A message handed to a listener (Java `TraceType.SubBefore`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubBeforeTrace {
    pub timestamp: i64,
    pub region_id: String,
    /// The consumer group, without namespace.
    pub group: String,
    /// Pairs this record with its [`SubAfterTrace`].
    pub request_id: String,
    pub msg_id: String,
    pub retry_times: i32,
    pub keys: Option<String>,
}

/// A listener's result (Java `TraceType.SubAfter`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubAfterTrace {
    pub request_id: String,
    pub msg_id: String,
    /// The listener's time divided by the messages it was given, ms.
    pub cost_ms: i64,
    pub success: bool,
    pub keys: Option<String>,
    /// Java `ConsumeReturnType` ordinal: 0 success, 1 timeout, 2 exception, 3 null, 4 failed.
    pub context_code: i32,
    /// When the listener returned, ms since the epoch. Written since Apache RocketMQ 4.9 (the
    /// Java decoder reads it when a record has 9 fields); 0 when a record read lacks it.
    pub timestamp: i64,
    /// The consumer group (same version note as `timestamp`); empty when a record read lacks it.
    pub group: String,
}

/// A transaction's end (Java `TraceType.EndTransaction`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndTransactionTrace {
    pub timestamp: i64,
    pub region_id: String,
    pub group: String,
    pub topic: String,
    pub msg_id: String,
    pub tags: Option<String>,
    pub keys: Option<String>,
    pub store_host: String,
    pub msg_type: TraceMessageType,
    pub transaction_id: String,
    /// Java `LocalTransactionState` name: `COMMIT_MESSAGE`, `ROLLBACK_MESSAGE` or `UNKNOW`.
    pub transaction_state: String,
    pub from_transaction_check: bool,
}

/// One trace record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TraceRecord {
    Pub(PubTrace),
    SubBefore(SubBeforeTrace),
    SubAfter(SubAfterTrace),
    EndTransaction(EndTransactionTrace),
}

/// Where in an encoded record (see [`TraceRecord::encode_spans`]) its traced topic (empty for
/// consume records, which name none), message id and keys (empty when it has none) are: ranges
/// of the text the record was written into, none before the record's start.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Spans {
    pub topic: Range<usize>,
    pub msg_id: Range<usize>,
    pub keys: Range<usize>,
}

/// A `Pub` record's fields, borrowed: a producer encodes one per message it sends without first
/// copying them into a [`PubTrace`].
pub(crate) struct PubFields<'a> {
    pub timestamp: i64,
    pub region_id: &'a str,
    pub group: &'a str,
    pub topic: &'a str,
    pub msg_id: &'a str,
    pub tags: Option<&'a str>,
    pub keys: Option<&'a str>,
    pub store_host: &'a str,
    pub body_length: i32,
    pub cost_ms: i64,
    pub msg_type: TraceMessageType,
    pub offset_msg_id: &'a str,
    pub success: bool,
}

impl PubFields<'_> {
    pub fn encode(&self, out: &mut String) -> Spans {
        let mut w = FieldWriter::new(out);
        w.text("Pub");
        w.timestamp(self.timestamp);
        w.text(self.region_id);
        w.text(self.group);
        let topic = w.text(self.topic);
        let msg_id = w.text(self.msg_id);
        w.text(self.tags.unwrap_or("null"));
        let keys = w.optional(self.keys);
        w.text(self.store_host);
        w.num(self.body_length);
        w.num(self.cost_ms);
        w.num(self.msg_type as i32);
        w.text(self.offset_msg_id);
        w.flag(self.success);
        w.end();
        Spans { topic, msg_id, keys }
    }
}

/// What the `Pub` records of one batch send share: everything but each message's own fields
/// ([`PubOfBatch`]).
pub(crate) struct PubBatchFields<'a> {
    pub timestamp: i64,
    pub region_id: &'a str,
    pub group: &'a str,
    pub topic: &'a str,
    pub store_host: &'a str,
    pub cost_ms: i64,
    pub msg_type: TraceMessageType,
}

/// One message's own fields of a batch send's `Pub` record.
pub(crate) struct PubOfBatch<'a> {
    pub msg_id: &'a str,
    pub tags: Option<&'a str>,
    pub keys: Option<&'a str>,
    pub body_length: i32,
    pub offset_msg_id: &'a str,
    pub success: bool,
}

/// Encodes the `Pub` records of one batch send, the same text as [`PubFields::encode`]. The
/// fields the messages share (timestamp, region, group, topic; store host, cost, type) are
/// written once. A message like the one before it (the same tags, keys and body length, as the
/// messages of a batch often are) is five copied pieces: the fields before its id, its id, the
/// fields between its id and its offset id (`middle`, kept from the run's first messages), its
/// offset id and its status. Any other message is written as twelve pieces. Each piece copied
/// costs some twenty instructions (its size class, the pointer's step): encoding a batched
/// message's fourteen fields one by one was most of what tracing a batch cost, and thirteen
/// pieces a record still a third of it (callgrind, docs/traces.md). Messages that all differ
/// (unique keys, varying lengths) pay for the comparison with the message before and three
/// capacity checks instead of one, about 25 instructions each; keeping `middle` for every
/// message, written again whenever one differed, cost them about 60 (cachegrind of 96000
/// encodes, 32 a batch).
///
/// `'m` is the lifetime of the batch's messages, whose fields the encoder compares with the
/// next message's.
pub(crate) struct PubBatchEncoder<'m> {
    /// `Pub`, timestamp, region, group, topic, each followed by a separator.
    head: String,
    /// The topic's span of `head`.
    topic: Range<usize>,
    /// The store host between separators, then cost and message type, each followed by a
    /// separator.
    host: String,
    cost_and_type: String,
    /// A separator, tags, a separator, keys, `host`, body length, a separator and
    /// `cost_and_type`, for the messages whose own fields are `middle_of`'s.
    middle: String,
    /// Whose fields `middle` holds; none when the last message was unlike the one before it.
    middle_of: Option<VaryingFields<'m>>,
    /// The last message's fields, when `middle` is not for them.
    previous: Option<VaryingFields<'m>>,
}

/// The fields of a batched message's record that may differ from message to message and sit
/// between its id and its offset id, which [`PubBatchEncoder::middle`] is written from
/// (borrowed from the message: comparing them costs no copy).
#[derive(Clone, Copy)]
struct VaryingFields<'m> {
    tags: Option<&'m str>,
    keys: Option<&'m str>,
    body_length: i32,
}

impl<'m> VaryingFields<'m> {
    fn of(m: &PubOfBatch<'m>) -> Self {
        VaryingFields { tags: m.tags, keys: m.keys, body_length: m.body_length }
    }

    /// Whether `m` has these fields (the body length compared first: the cheapest, and the
    /// likeliest to differ).
    fn is_of(&self, m: &PubOfBatch<'_>) -> bool {
        self.body_length == m.body_length && self.keys == m.keys && self.tags == m.tags
    }
}

impl<'m> PubBatchEncoder<'m> {
    pub fn new(shared: &PubBatchFields<'_>) -> Self {
        // Room for every field: a number takes at most 20 characters, plus a separator each.
        let mut head =
            String::with_capacity(3 + 20 + shared.region_id.len() + shared.group.len() + shared.topic.len() + 5);
        let mut w = FieldWriter::new(&mut head);
        w.text("Pub");
        w.timestamp(shared.timestamp);
        w.text(shared.region_id);
        w.text(shared.group);
        let topic = w.text(shared.topic);
        append_separator(&mut head, CONTENT_SEPARATOR);
        let mut host = String::with_capacity(shared.store_host.len() + 2);
        append_all!(&mut host, [CONTENT_SEPARATOR_STR, shared.store_host, CONTENT_SEPARATOR_STR]);
        let mut cost_and_type = String::with_capacity(20 + 1 + 2 + 2);
        let mut w = FieldWriter::new(&mut cost_and_type);
        w.num(shared.cost_ms);
        w.num(shared.msg_type as i32);
        append_separator(&mut cost_and_type, CONTENT_SEPARATOR);
        PubBatchEncoder { head, topic, host, cost_and_type, middle: String::new(), middle_of: None, previous: None }
    }

    /// Appends the record of message `m` to `out` (a message like the one before it under one
    /// capacity check, [`append_all!`]); the fields' spans are found from the pieces' lengths.
    pub fn encode(&mut self, m: &PubOfBatch<'m>, out: &mut String) -> Spans {
        if !self.middle_of.is_some_and(|of| of.is_of(m)) {
            if !self.previous.is_some_and(|p| p.is_of(m)) {
                // Unlike the message before it: no run to keep a middle for.
                self.middle_of = None;
                self.previous = Some(VaryingFields::of(m));
                return self.encode_each(m, out);
            }
            // Like the message before it: a run starts.
            self.write_middle(m);
        }
        let head = self.head.as_str();
        let start = out.len();
        let (msg_id, keys) = self.id_and_keys_spans(m, start);
        append_all!(
            out,
            [
                head,
                m.msg_id,
                self.middle.as_str(),
                m.offset_msg_id,
                if m.success { "\u{1}true\u{2}" } else { "\u{1}false\u{2}" },
            ],
        );
        Spans { topic: start + self.topic.start..start + self.topic.end, msg_id, keys }
    }

    /// [`encode`](Self::encode) of a message unlike the one before it: twelve pieces.
    fn encode_each(&self, m: &PubOfBatch<'_>, out: &mut String) -> Spans {
        let start = out.len();
        let (msg_id, keys) = self.id_and_keys_spans(m, start);
        append_all!(out, [self.head.as_str(), m.msg_id]);
        self.append_middle(out, m);
        append_all!(out, [m.offset_msg_id, if m.success { "\u{1}true\u{2}" } else { "\u{1}false\u{2}" }]);
        Spans { topic: start + self.topic.start..start + self.topic.end, msg_id, keys }
    }

    /// Appends the fields of `m` between its id and its offset id (see `middle`).
    #[inline(always)]
    fn append_middle(&self, out: &mut String, m: &PubOfBatch<'_>) {
        let mut digits = itoa::Buffer::new();
        append_all!(
            out,
            [
                CONTENT_SEPARATOR_STR,
                m.tags.unwrap_or("null"),
                CONTENT_SEPARATOR_STR,
                m.keys.unwrap_or("null"),
                self.host.as_str(),
                digits.format(m.body_length),
                CONTENT_SEPARATOR_STR,
                self.cost_and_type.as_str(),
            ],
        );
    }

    /// Where the message id and the keys of `m`'s record, written at `start`, are. An absent
    /// key's span is empty (`Spans`), though `null` is written.
    fn id_and_keys_spans(&self, m: &PubOfBatch<'_>, start: usize) -> (Range<usize>, Range<usize>) {
        let msg_id = start + self.head.len()..start + self.head.len() + m.msg_id.len();
        let keys_at = msg_id.end + 1 + m.tags.map_or(4, str::len) + 1;
        (msg_id, keys_at..keys_at + m.keys.map_or(0, str::len))
    }

    /// Writes `middle` for the tags, keys and body length of `m`.
    fn write_middle(&mut self, m: &PubOfBatch<'m>) {
        let mut middle = std::mem::take(&mut self.middle);
        middle.clear();
        self.append_middle(&mut middle, m);
        self.middle = middle;
        self.middle_of = Some(VaryingFields::of(m));
        self.previous = None;
    }
}

/// A `SubBefore` record's fields, borrowed: a consumer encodes one per message it hands over
/// without first copying them into a [`SubBeforeTrace`].
pub(crate) struct SubBeforeFields<'a> {
    pub timestamp: i64,
    pub region_id: &'a str,
    pub group: &'a str,
    pub request_id: &'a str,
    pub msg_id: &'a str,
    pub retry_times: i32,
    pub keys: Option<&'a str>,
}

impl SubBeforeFields<'_> {
    pub fn encode(&self, out: &mut String) -> Spans {
        // Consume records name no topic: an empty span where the record starts.
        let start = out.len();
        let mut w = FieldWriter::new(out);
        w.text("SubBefore");
        w.timestamp(self.timestamp);
        w.text(self.region_id);
        w.text(self.group);
        w.text(self.request_id);
        let msg_id = w.text(self.msg_id);
        w.num(self.retry_times);
        let keys = w.optional(self.keys);
        w.end();
        Spans { topic: start..start, msg_id, keys }
    }
}

/// A `SubAfter` record's fields, borrowed (see [`SubBeforeFields`]).
pub(crate) struct SubAfterFields<'a> {
    pub request_id: &'a str,
    pub msg_id: &'a str,
    pub cost_ms: i64,
    pub success: bool,
    pub keys: Option<&'a str>,
    pub context_code: i32,
    pub timestamp: i64,
    pub group: &'a str,
    /// The `CLOUD` access channel's form: without timestamp and group, but with the separator
    /// after the context code (Java `TraceDataEncoder.encoderFromContextBean`).
    pub cloud: bool,
}

impl SubAfterFields<'_> {
    /// The `LOCAL` access channel's form, or the `CLOUD` one (`cloud`).
    pub fn encode(&self, out: &mut String) -> Spans {
        // Consume records name no topic: an empty span where the record starts.
        let start = out.len();
        let mut w = FieldWriter::new(out);
        w.text("SubAfter");
        w.text(self.request_id);
        let msg_id = w.text(self.msg_id);
        w.num(self.cost_ms);
        w.flag(self.success);
        let keys = w.optional(self.keys);
        w.num(self.context_code);
        if self.cloud {
            append_separator(w.out, CONTENT_SEPARATOR);
        } else {
            w.timestamp(self.timestamp);
            w.text(self.group);
        }
        w.end();
        Spans { topic: start..start, msg_id, keys }
    }
}

/// Appends `piece` to `out`. A record is some twenty pieces of a few to 64 bytes (names, ids,
/// separators, numbers); through `push_str` each was a call to `memcpy`, about a quarter of a
/// consume record's encoding (callgrind). Here pieces of up to 64 bytes are copied inline
/// ([`copy_piece`]).
#[inline(always)]
fn append(out: &mut String, piece: &str) {
    append_all!(out, [piece]);
}

/// Copies `piece` to `dst`: up to 64 bytes inline, as two overlapping loads and stores of the
/// largest power of two not above its length; longer ones through `memcpy`.
///
/// # Safety
/// `dst` must be valid for writes of `piece.len()` bytes, and not overlap `piece`.
#[inline(always)]
unsafe fn copy_piece(piece: &[u8], dst: *mut u8) {
    /// The first and the last `K` bytes of `src` (`K <= n`) to the same places of `dst`; the
    /// two stores overlap only in bytes they both write, with the same values.
    #[inline(always)]
    unsafe fn ends<const K: usize>(src: *const u8, dst: *mut u8, n: usize) {
        let (head, tail) = (src.cast::<[u8; K]>().read_unaligned(), src.add(n - K).cast::<[u8; K]>().read_unaligned());
        dst.cast::<[u8; K]>().write_unaligned(head);
        dst.add(n - K).cast::<[u8; K]>().write_unaligned(tail);
    }
    let (src, n) = (piece.as_ptr(), piece.len());
    // SAFETY (each arm): every read is within `piece` (`[0, K)` and `[n - K, n)` with
    // `K <= n`), every write within `dst`'s `n` bytes, as the caller promised.
    match n {
        0 => {}
        1..=3 => {
            for i in 0..n {
                *dst.add(i) = *src.add(i);
            }
        }
        4..=7 => ends::<4>(src, dst, n),
        8..=15 => ends::<8>(src, dst, n),
        16..=31 => ends::<16>(src, dst, n),
        32..=64 => ends::<32>(src, dst, n),
        _ => std::ptr::copy_nonoverlapping(src, dst, n),
    }
}

/// Appends the separator `c` (an ASCII character) to `out`, without the UTF-8 encoding
/// `String::push` works through.
#[inline(always)]
fn append_separator(out: &mut String, c: char) {
    assert!(c.is_ascii(), "separators are ASCII");
    // SAFETY: one ASCII byte appended to UTF-8 text leaves it UTF-8.
    unsafe { out.as_mut_vec().push(c as u8) }
}

/// Writes a record's fields, [`CONTENT_SEPARATOR`] between them, [`FIELD_SEPARATOR`] at the end.
struct FieldWriter<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> FieldWriter<'a> {
    fn new(out: &'a mut String) -> Self {
        FieldWriter { out, first: true }
    }

    fn separate(&mut self) {
        if !self.first {
            append_separator(self.out, CONTENT_SEPARATOR);
        }
        self.first = false;
    }

    /// Writes `value`; returns where it is.
    #[inline(always)]
    fn text(&mut self, value: &str) -> Range<usize> {
        self.separate();
        let start = self.out.len();
        append(self.out, value);
        start..self.out.len()
    }

    /// Writes `value`, or `null` for none; returns where the value is (empty for none).
    fn optional(&mut self, value: Option<&str>) -> Range<usize> {
        match value {
            Some(v) => self.text(v),
            None => {
                let at = self.text("null").start;
                at..at
            }
        }
    }

    fn end(self) {
        append_separator(self.out, FIELD_SEPARATOR);
    }

    /// Java's `String.valueOf(boolean)`.
    fn flag(&mut self, value: bool) {
        self.text(if value { "true" } else { "false" });
    }

    /// A record's timestamp (ms since the epoch), as [`num`](Self::num) writes it. The records
    /// a thread writes mostly carry the millisecond of its record before (a listener call's
    /// `SubBefore` and `SubAfter`, the calls of one millisecond, a producer's sends), so each
    /// thread keeps the digits of its last one and copies them when it repeats: formatting
    /// thirteen digits took some 80 instructions (callgrind of a traced drain).
    #[inline(always)]
    fn timestamp(&mut self, ms: i64) {
        self.separate();
        let last = LAST_TIMESTAMP.get();
        if last.ms == ms && last.len > 0 {
            append(self.out, last.text());
        } else {
            let digits = TimestampDigits::of(ms);
            append(self.out, digits.text());
            LAST_TIMESTAMP.set(digits);
        }
    }

    /// A decimal number, as Java's `String.valueOf` writes it (digits, a leading `-`), without
    /// the formatting machinery (a record has up to four numbers, and one record per message).
    #[inline(always)]
    fn num(&mut self, value: impl Into<i64>) {
        self.separate();
        match value.into() {
            // Costs, context codes, retry counts: most are one digit.
            small @ 0..=9 => append_separator(self.out, char::from(b'0' + small as u8)),
            value => append(self.out, itoa::Buffer::new().format(value)),
        }
    }
}

thread_local! {
    /// The last timestamp [`FieldWriter::timestamp`] wrote on this thread.
    static LAST_TIMESTAMP: Cell<TimestampDigits> = const { Cell::new(TimestampDigits::NONE) };
}

/// A number and its decimal digits (with a `-` when negative: at most 20 characters).
#[derive(Clone, Copy)]
struct TimestampDigits {
    ms: i64,
    /// How many of `digits` are the number's; 0 for [`TimestampDigits::NONE`].
    len: u8,
    digits: [u8; 20],
}

impl TimestampDigits {
    const NONE: TimestampDigits = TimestampDigits { ms: 0, len: 0, digits: [0; 20] };

    fn of(ms: i64) -> Self {
        let mut buffer = itoa::Buffer::new();
        let text = buffer.format(ms).as_bytes();
        let mut digits = [0; 20];
        digits[..text.len()].copy_from_slice(text);
        TimestampDigits { ms, len: text.len() as u8, digits }
    }

    fn text(&self) -> &str {
        // SAFETY: `digits[..len]` is what `itoa` wrote: ASCII digits and a sign.
        unsafe { std::str::from_utf8_unchecked(&self.digits[..usize::from(self.len)]) }
    }
}

fn opt(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("null")
}

/// A record's text field back to an option (`null` is how Java writes none).
fn unopt(s: &str) -> Option<String> {
    (s != "null").then(|| s.to_owned())
}

impl TraceRecord {
    /// The id of the message the record is about.
    pub fn msg_id(&self) -> &str {
        match self {
            TraceRecord::Pub(r) => &r.msg_id,
            TraceRecord::SubBefore(r) => &r.msg_id,
            TraceRecord::SubAfter(r) => &r.msg_id,
            TraceRecord::EndTransaction(r) => &r.msg_id,
        }
    }

    /// The region the record names; `SubAfter` records name none.
    pub fn region_id(&self) -> Option<&str> {
        match self {
            TraceRecord::Pub(r) => Some(&r.region_id),
            TraceRecord::SubBefore(r) => Some(&r.region_id),
            TraceRecord::SubAfter(_) => None,
            TraceRecord::EndTransaction(r) => Some(&r.region_id),
        }
    }

    /// The message's keys (space-separated, as in the `KEYS` property).
    pub fn keys(&self) -> Option<&str> {
        match self {
            TraceRecord::Pub(r) => r.keys.as_deref(),
            TraceRecord::SubBefore(r) => r.keys.as_deref(),
            TraceRecord::SubAfter(r) => r.keys.as_deref(),
            TraceRecord::EndTransaction(r) => r.keys.as_deref(),
        }
    }

    /// Appends the record's text, ended by [`FIELD_SEPARATOR`].
    pub fn encode_into(&self, out: &mut String) {
        self.encode_spans(out);
    }

    /// [`encode_into`](Self::encode_into), telling where in `out` the traced topic, message id
    /// and keys were written.
    pub(crate) fn encode_spans(&self, out: &mut String) -> Spans {
        match self {
            TraceRecord::Pub(r) => PubFields {
                timestamp: r.timestamp,
                region_id: &r.region_id,
                group: &r.group,
                topic: &r.topic,
                msg_id: &r.msg_id,
                tags: r.tags.as_deref(),
                keys: r.keys.as_deref(),
                store_host: &r.store_host,
                body_length: r.body_length,
                cost_ms: r.cost_ms,
                msg_type: r.msg_type,
                offset_msg_id: &r.offset_msg_id,
                success: r.success,
            }
            .encode(out),
            TraceRecord::SubBefore(r) => SubBeforeFields {
                timestamp: r.timestamp,
                region_id: &r.region_id,
                group: &r.group,
                request_id: &r.request_id,
                msg_id: &r.msg_id,
                retry_times: r.retry_times,
                keys: r.keys.as_deref(),
            }
            .encode(out),
            TraceRecord::SubAfter(r) => SubAfterFields {
                request_id: &r.request_id,
                msg_id: &r.msg_id,
                cost_ms: r.cost_ms,
                success: r.success,
                keys: r.keys.as_deref(),
                context_code: r.context_code,
                timestamp: r.timestamp,
                group: &r.group,
                cloud: false,
            }
            .encode(out),
            TraceRecord::EndTransaction(r) => {
                let mut w = FieldWriter::new(out);
                w.text("EndTransaction");
                w.timestamp(r.timestamp);
                w.text(&r.region_id);
                w.text(&r.group);
                let topic = w.text(&r.topic);
                let msg_id = w.text(&r.msg_id);
                w.text(opt(&r.tags));
                let keys = w.optional(r.keys.as_deref());
                w.text(&r.store_host);
                w.num(r.msg_type as i32);
                w.text(&r.transaction_id);
                w.text(&r.transaction_state);
                w.flag(r.from_transaction_check);
                w.end();
                Spans { topic, msg_id, keys }
            }
        }
    }

    /// The record's text.
    pub fn encode(&self) -> String {
        let mut s = String::with_capacity(256);
        self.encode_into(&mut s);
        s
    }

    /// The index keys a trace message carrying this record needs, so that a query of the
    /// trace topic by the message's id (or by one of its keys) finds it: the message id and
    /// each of the message's keys (Java `TraceTransferBean.transKey`).
    pub fn index_keys(&self) -> impl Iterator<Item = &str> {
        index_keys_of(self.msg_id(), self.keys())
    }
}

/// The index keys of a record about message `msg_id` with `keys` (see
/// [`TraceRecord::index_keys`]).
pub(crate) fn index_keys_of<'a>(msg_id: &'a str, keys: Option<&'a str>) -> impl Iterator<Item = &'a str> {
    std::iter::once(msg_id).chain(keys.into_iter().flat_map(|k| k.split(' '))).filter(|k| is_index_key(k))
}

/// Calls `add` with each of [`index_keys_of`], in order. What packing runs for every record
/// queued: the chained iterator cost some seventy instructions per record of a batch send
/// (callgrind), most of it for a record without keys.
#[inline]
pub(crate) fn for_each_index_key<'a>(msg_id: &'a str, keys: Option<&'a str>, mut add: impl FnMut(&'a str)) {
    if is_index_key(msg_id) {
        add(msg_id);
    }
    for key in keys.into_iter().flat_map(|k| k.split(' ')) {
        if is_index_key(key) {
            add(key);
        }
    }
}

/// Whether `key` is one a trace message is indexed by: not empty, and not the `null` a
/// record writes for a missing value.
#[inline]
fn is_index_key(key: &str) -> bool {
    !key.is_empty() && key != "null"
}

/// Reads the records of a trace message's body (Java `decoderFromTraceDataString`, including
/// the shorter forms older Java clients wrote). Records of types this client does not know
/// (e.g. `Recall`) are skipped; a known record that does not parse is an error.
pub fn decode(data: &str) -> Result<Vec<TraceRecord>> {
    let mut out = Vec::new();
    for record in data.split(FIELD_SEPARATOR).filter(|r| !r.is_empty()) {
        let f: Vec<&str> = record.split(CONTENT_SEPARATOR).collect();
        let bad = || Error::new(crate::error::ErrorKind::Protocol, format!("unreadable trace record {record:?}"));
        let int = |i: usize| -> Result<i64> { f.get(i).and_then(|s| s.parse().ok()).ok_or_else(bad) };
        let text = |i: usize| -> Result<String> { f.get(i).map(|s| s.to_string()).ok_or_else(bad) };
        let flag = |i: usize| -> Result<bool> { f.get(i).map(|s| *s == "true").ok_or_else(bad) };
        let msg_type =
            |i: usize| -> Result<TraceMessageType> { TraceMessageType::from_ordinal(int(i)? as i32).ok_or_else(bad) };
        match f[0] {
            "Pub" => {
                // 13 fields: no offset id; 14 and more: offset id and status.
                let (offset_msg_id, success) =
                    if f.len() == 13 { (String::new(), flag(12)?) } else { (text(12)?, flag(13)?) };
                out.push(TraceRecord::Pub(PubTrace {
                    timestamp: int(1)?,
                    region_id: text(2)?,
                    group: text(3)?,
                    topic: text(4)?,
                    msg_id: text(5)?,
                    tags: unopt(&text(6)?),
                    keys: unopt(&text(7)?),
                    store_host: text(8)?,
                    body_length: int(9)? as i32,
                    cost_ms: int(10)?,
                    msg_type: msg_type(11)?,
                    offset_msg_id,
                    success,
                }));
            }
            "SubBefore" => out.push(TraceRecord::SubBefore(SubBeforeTrace {
                timestamp: int(1)?,
                region_id: text(2)?,
                group: text(3)?,
                request_id: text(4)?,
                msg_id: text(5)?,
                retry_times: int(6)? as i32,
                keys: unopt(&text(7)?),
            })),
            "SubAfter" => out.push(TraceRecord::SubAfter(SubAfterTrace {
                request_id: text(1)?,
                msg_id: text(2)?,
                cost_ms: int(3)?,
                success: flag(4)?,
                keys: unopt(&text(5)?),
                context_code: if f.len() >= 7 { int(6)? as i32 } else { 0 },
                timestamp: if f.len() >= 9 { int(7)? } else { 0 },
                group: if f.len() >= 9 { text(8)? } else { String::new() },
            })),
            "EndTransaction" => out.push(TraceRecord::EndTransaction(EndTransactionTrace {
                timestamp: int(1)?,
                region_id: text(2)?,
                group: text(3)?,
                topic: text(4)?,
                msg_id: text(5)?,
                tags: unopt(&text(6)?),
                keys: unopt(&text(7)?),
                store_host: text(8)?,
                msg_type: msg_type(9)?,
                transaction_id: text(10)?,
                transaction_state: text(11)?,
                from_transaction_check: flag(12)?,
            })),
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_of_every_length_are_copied_whole_and_in_order() {
        let text: String = (0..200).map(|i| char::from(b'!' + (i % 90) as u8)).collect();
        for n in 0..=130 {
            let piece = &text[..n];
            let mut out = String::from("ab");
            append(&mut out, piece);
            assert_eq!(out, format!("ab{piece}"), "{n} bytes");
            // Three pieces around it, the next one's first write overlapping nothing it wrote.
            let mut out = String::from("ab");
            append_all!(&mut out, ["x", piece, &text[n..n + 5], CONTENT_SEPARATOR_STR]);
            assert_eq!(out, format!("abx{piece}{}\u{1}", &text[n..n + 5]), "{n} bytes");
        }
    }

    #[test]
    fn a_batch_encodes_each_record_as_its_own_fields_would() {
        let shared = PubBatchFields {
            timestamp: 1700000000123,
            region_id: "DefaultRegion",
            group: "GID_p",
            topic: "T1",
            store_host: "127.0.0.1:10911",
            cost_ms: 4,
            msg_type: TraceMessageType::Delay,
        };
        let mut encoder = PubBatchEncoder::new(&shared);
        let of = |msg_id, tags, keys, body_length| PubOfBatch {
            msg_id,
            tags,
            keys,
            body_length,
            offset_msg_id: "O",
            success: body_length != 0,
        };
        // Runs of messages whose tags, keys and body length repeat (the encoder's middle piece
        // kept), and each of the three changing alone (the piece written again).
        let messages = [
            of("M1", Some("TagA"), Some("k1 k2"), 1024),
            of("M2", Some("TagA"), Some("k1 k2"), 1024),
            of("M3", None, None, 0),
            of("M4", Some("null"), Some("null"), 0),
            of("M5", Some(""), Some("k"), i32::MAX),
            of("M6", Some(""), Some("k"), 1),
            of("M7", Some(""), Some("k2"), 1),
            of("M8", Some("TagB"), Some("k2"), 1),
            of("M9", Some("TagB"), Some("k2"), 1),
            PubOfBatch { offset_msg_id: "", ..of("M10", None, None, 7) },
        ];
        // Records appended after other text, so that spans are checked away from the start.
        let (mut batched, mut single) = (String::from("xx"), String::from("xx"));
        for m in &messages {
            let spans = encoder.encode(m, &mut batched);
            let fields = PubFields {
                timestamp: shared.timestamp,
                region_id: shared.region_id,
                group: shared.group,
                topic: shared.topic,
                msg_id: m.msg_id,
                tags: m.tags,
                keys: m.keys,
                store_host: shared.store_host,
                body_length: m.body_length,
                cost_ms: shared.cost_ms,
                msg_type: shared.msg_type,
                offset_msg_id: m.offset_msg_id,
                success: m.success,
            };
            assert_eq!(spans, fields.encode(&mut single));
            assert_eq!(batched, single);
            assert_eq!(&batched[spans.topic.clone()], "T1");
            assert_eq!(&batched[spans.msg_id.clone()], m.msg_id);
        }
        let decoded = decode(&batched[2..]).unwrap();
        assert_eq!(decoded.len(), messages.len());
        assert_eq!(decoded[2].keys(), None);
    }

    fn pub_record() -> TraceRecord {
        TraceRecord::Pub(PubTrace {
            timestamp: 1700000000123,
            region_id: "DefaultRegion".into(),
            group: "GID_p".into(),
            topic: "T1".into(),
            msg_id: "7F00000100002A9F0000000000000001".into(),
            tags: Some("TagA".into()),
            keys: Some("k1 k2".into()),
            store_host: "127.0.0.1:10911".into(),
            body_length: 5,
            cost_ms: 3,
            msg_type: TraceMessageType::Normal,
            offset_msg_id: "7F00000100002A9F0000000000000ABC".into(),
            success: true,
        })
    }

    // The vectors follow `TraceDataEncoder.encoderFromContextBean` field by field; the
    // integration test (tests/tests/trace.rs) has the Java decoder read what we write.
    #[test]
    fn pub_record_has_the_java_fields_in_order() {
        let expected = "Pub\u{1}1700000000123\u{1}DefaultRegion\u{1}GID_p\u{1}T1\u{1}\
            7F00000100002A9F0000000000000001\u{1}TagA\u{1}k1 k2\u{1}127.0.0.1:10911\u{1}5\u{1}3\u{1}0\u{1}\
            7F00000100002A9F0000000000000ABC\u{1}true\u{2}";
        assert_eq!(pub_record().encode(), expected);
        assert_eq!(decode(expected).unwrap(), vec![pub_record()]);
        let record = pub_record();
        let keys: Vec<&str> = record.index_keys().collect();
        assert_eq!(keys, ["7F00000100002A9F0000000000000001", "k1", "k2"]);
    }

    #[test]
    fn each_index_key_is_called_in_the_iterator_s_order() {
        let cases = [
            ("M", None),
            ("M", Some("")),
            ("M", Some("k1 k2")),
            ("M", Some(" k1  k2 ")),
            ("M", Some("null k null")),
            ("", Some("k")),
            ("null", None),
            ("", None),
        ];
        for (msg_id, keys) in cases {
            let mut called = Vec::new();
            for_each_index_key(msg_id, keys, |k| called.push(k));
            assert_eq!(called, index_keys_of(msg_id, keys).collect::<Vec<_>>(), "{msg_id:?} {keys:?}");
        }
    }

    #[test]
    fn sub_records_and_missing_tags_and_keys() {
        let before = TraceRecord::SubBefore(SubBeforeTrace {
            timestamp: 1,
            region_id: "R".into(),
            group: "GID_c".into(),
            request_id: "REQ".into(),
            msg_id: "M".into(),
            retry_times: 2,
            keys: None,
        });
        let after = TraceRecord::SubAfter(SubAfterTrace {
            request_id: "REQ".into(),
            msg_id: "M".into(),
            cost_ms: 7,
            success: false,
            keys: None,
            context_code: 4,
            timestamp: 9,
            group: "GID_c".into(),
        });
        let mut body = String::new();
        before.encode_into(&mut body);
        after.encode_into(&mut body);
        assert_eq!(
            body,
            "SubBefore\u{1}1\u{1}R\u{1}GID_c\u{1}REQ\u{1}M\u{1}2\u{1}null\u{2}\
             SubAfter\u{1}REQ\u{1}M\u{1}7\u{1}false\u{1}null\u{1}4\u{1}9\u{1}GID_c\u{2}"
        );
        assert_eq!(decode(&body).unwrap(), vec![before.clone(), after]);
        assert_eq!(before.index_keys().collect::<Vec<_>>(), ["M"]);
    }

    #[test]
    fn end_transaction_record() {
        let r = TraceRecord::EndTransaction(EndTransactionTrace {
            timestamp: 5,
            region_id: "R".into(),
            group: "GID_t".into(),
            topic: "T".into(),
            msg_id: "M".into(),
            tags: None,
            keys: Some("k".into()),
            store_host: "h:1".into(),
            msg_type: TraceMessageType::TransactionHalf,
            transaction_id: "X".into(),
            transaction_state: "COMMIT_MESSAGE".into(),
            from_transaction_check: false,
        });
        let text = "EndTransaction\u{1}5\u{1}R\u{1}GID_t\u{1}T\u{1}M\u{1}null\u{1}k\u{1}h:1\u{1}1\u{1}X\u{1}COMMIT_MESSAGE\u{1}false\u{2}";
        assert_eq!(r.encode(), text);
        assert_eq!(decode(text).unwrap(), vec![r]);
    }

    #[test]
    fn spans_point_at_the_topic_id_and_keys() {
        let mut text = String::from("earlier records");
        let spans = pub_record().encode_spans(&mut text);
        let TraceRecord::Pub(p) = pub_record() else { unreachable!() };
        assert_eq!(&text[spans.topic.clone()], p.topic);
        assert_eq!(&text[spans.msg_id.clone()], p.msg_id);
        assert_eq!(Some(&text[spans.keys.clone()]), p.keys.as_deref());
        let after = SubAfterFields {
            request_id: "REQ",
            msg_id: "MID",
            cost_ms: 3,
            success: true,
            keys: None,
            context_code: 0,
            timestamp: 9,
            group: "G",
            cloud: false,
        };
        let mut text = String::new();
        let spans = after.encode(&mut text);
        assert_eq!((spans.topic.is_empty(), &text[spans.msg_id], spans.keys.is_empty()), (true, "MID", true));
        assert!(text.contains("\u{1}null\u{1}"), "no keys are written as null: {text:?}");
    }

    #[test]
    fn the_cloud_sub_after_form_ends_after_the_context_code_s_separator() {
        // Java `TraceDataEncoder.encoderFromContextBean`, SubAfter with AccessChannel.CLOUD:
        // `... contextCode CONTENT_SPLITOR` then FIELD_SPLITOR, no timestamp and group.
        let fields = |cloud| SubAfterFields {
            request_id: "REQ",
            msg_id: "MID",
            cost_ms: 3,
            success: false,
            keys: Some("k1 k2"),
            context_code: 4,
            timestamp: 1700000000123,
            group: "GID_c",
            cloud,
        };
        let mut cloud = String::new();
        let spans = fields(true).encode(&mut cloud);
        assert_eq!(cloud, "SubAfter\u{1}REQ\u{1}MID\u{1}3\u{1}false\u{1}k1 k2\u{1}4\u{1}\u{2}");
        assert_eq!((&cloud[spans.msg_id], &cloud[spans.keys]), ("MID", "k1 k2"));
        let mut local = String::new();
        fields(false).encode(&mut local);
        assert_eq!(local, "SubAfter\u{1}REQ\u{1}MID\u{1}3\u{1}false\u{1}k1 k2\u{1}4\u{1}1700000000123\u{1}GID_c\u{2}");
        // Both read back; the cloud form has neither timestamp nor group.
        let [TraceRecord::SubAfter(c)] = &decode(&cloud).unwrap()[..] else { panic!() };
        assert_eq!((c.context_code, c.timestamp, c.group.as_str(), c.success), (4, 0, "", false));
        let [TraceRecord::SubAfter(l)] = &decode(&local).unwrap()[..] else { panic!() };
        assert_eq!((l.context_code, l.timestamp, l.group.as_str()), (4, 1700000000123, "GID_c"));
    }

    proptest::proptest! {
        /// `append` writes what `push_str` writes, whatever the lengths (the inline copies
        /// change at 4, 8, 16 and 32 bytes) and the room the string has.
        #[test]
        fn append_writes_what_push_str_writes(
            before in "\\PC{0,40}",
            piece in "\\PC{0,48}",
            room in 0usize..64,
        ) {
            let mut ours = String::with_capacity(before.len() + room);
            ours.push_str(&before);
            let mut expected = ours.clone();
            append(&mut ours, &piece);
            expected.push_str(&piece);
            proptest::prop_assert_eq!(ours, expected);
        }
    }

    #[test]
    fn numbers_are_written_as_java_writes_them() {
        for n in [0, 7, 9, 10, -1, -7, 1_733_300_000_123, i64::MIN, i64::MAX] {
            let mut out = String::new();
            FieldWriter { out: &mut out, first: true }.num(n);
            assert_eq!(out, n.to_string());
        }
    }

    #[test]
    fn timestamps_are_written_as_numbers_whether_repeated_or_not() {
        // Repeats (the kept digits), changes of length and sign, and the extremes, in turn.
        let values = [1_733_300_000_123, 1_733_300_000_123, 1_733_300_000_124, 0, 0, 9, 10, -1, -1, i64::MIN, i64::MAX];
        for n in values.into_iter().chain(values.into_iter().rev()) {
            let mut out = String::new();
            FieldWriter { out: &mut out, first: true }.timestamp(n);
            assert_eq!(out, n.to_string());
        }
        // Each thread keeps its own: another thread's last value is not this one's.
        let mut here = String::new();
        FieldWriter { out: &mut here, first: true }.timestamp(5);
        std::thread::spawn(|| {
            let mut there = String::new();
            FieldWriter { out: &mut there, first: true }.timestamp(6);
            assert_eq!(there, "6");
        })
        .join()
        .unwrap();
        let mut again = String::new();
        FieldWriter { out: &mut again, first: true }.timestamp(6);
        assert_eq!((here.as_str(), again.as_str()), ("5", "6"));
    }

    #[test]
    fn older_and_cloud_forms_decode() {
        // A 13-field Pub (no offset id) and a 7-field SubAfter (CLOUD channel), as older or
        // cloud Java clients write them; an unknown type is skipped.
        let text = "Pub\u{1}1\u{1}R\u{1}G\u{1}T\u{1}M\u{1}null\u{1}null\u{1}h\u{1}0\u{1}1\u{1}3\u{1}false\u{2}\
            SubAfter\u{1}REQ\u{1}M\u{1}2\u{1}true\u{1}null\u{1}0\u{1}\u{2}Recall\u{1}1\u{1}R\u{1}G\u{1}T\u{1}M\u{1}true\u{2}";
        let records = decode(text).unwrap();
        assert_eq!(records.len(), 2);
        match &records[0] {
            TraceRecord::Pub(p) => {
                assert_eq!((p.msg_type, p.success, p.offset_msg_id.as_str()), (TraceMessageType::Delay, false, ""))
            }
            other => panic!("{other:?}"),
        }
        match &records[1] {
            TraceRecord::SubAfter(s) => assert_eq!((s.cost_ms, s.timestamp, s.group.as_str()), (2, 0, "")),
            other => panic!("{other:?}"),
        }
        assert!(decode("Pub\u{1}x\u{2}").is_err());
    }
}
