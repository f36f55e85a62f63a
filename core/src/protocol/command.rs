//! The remoting command and its frame: `length | serializeType<<24 | headerLen | header | body`.
//!
//! Headers are written as JSON (the default, no code-width limit) or in the binary ROCKETMQ
//! layout, and read in whichever type each incoming frame announces, because servers answer
//! in their own configured type rather than the request's (docs/remoting-protocol.md §1.4).

use std::borrow::Cow;
use std::str::FromStr;

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::codes::{LanguageCode, CLIENT_VERSION};
pub use super::ext_fields::ExtFields;
use super::ext_fields::Field;
use super::quote_map::QuoteMap;
use crate::error::{Error, Result};

/// Frames larger than this are refused in both directions (the servers' default limit).
pub const MAX_FRAME_LEN: usize = 16 * 1024 * 1024;
/// Flag bit: this command is a response.
pub const FLAG_RESPONSE: i32 = 1;
/// Flag bit: this request expects no response.
pub const FLAG_ONEWAY: i32 = 2;

/// How a command's header is serialized; the high byte of the header-length word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SerializeType {
    #[default]
    Json,
    RocketMq,
}

impl SerializeType {
    fn byte(self) -> u8 {
        match self {
            SerializeType::Json => 0,
            SerializeType::RocketMq => 1,
        }
    }

    fn from_byte(b: u8) -> Result<Self> {
        match b {
            0 => Ok(SerializeType::Json),
            1 => Ok(SerializeType::RocketMq),
            other => Err(Error::protocol(format!("unknown header serialize type {other}"))),
        }
    }
}

/// One request or response. `ext_fields` are the "custom header" fields, all strings on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemotingCommand {
    pub code: i32,
    pub language: LanguageCode,
    pub version: i32,
    pub opaque: i32,
    pub flag: i32,
    pub remark: Option<String>,
    pub ext_fields: ExtFields,
    pub body: Bytes,
}

impl RemotingCommand {
    /// A new request with this client's language and version; the opaque is set by the
    /// connection when it is sent.
    pub fn request(code: i32) -> Self {
        RemotingCommand {
            code,
            language: LanguageCode::Rust,
            version: CLIENT_VERSION,
            opaque: 0,
            flag: 0,
            remark: None,
            ext_fields: ExtFields::new(),
            body: Bytes::new(),
        }
    }

    /// A response to the request with `opaque`.
    pub fn response(code: i32, opaque: i32, remark: Option<String>) -> Self {
        RemotingCommand { flag: FLAG_RESPONSE, opaque, remark, ..RemotingCommand::request(code) }
    }

    pub fn with_ext(mut self, key: &'static str, value: impl ToString) -> Self {
        self.ext_fields.insert(key, value.to_string());
        self
    }

    pub fn with_body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    pub fn is_response(&self) -> bool {
        self.flag & FLAG_RESPONSE != 0
    }

    pub fn is_oneway(&self) -> bool {
        self.flag & FLAG_ONEWAY != 0
    }

    pub fn ext(&self, key: &str) -> Option<&str> {
        self.ext_fields.get(key)
    }

    /// A required ext field parsed as `T`; the error names the field.
    pub fn ext_parse<T: FromStr>(&self, key: &str) -> Result<T> {
        let raw = self
            .ext(key)
            .ok_or_else(|| Error::protocol(format!("code {} reply lacks header field `{key}`", self.code)))?;
        raw.parse().map_err(|_| {
            // Capped: the value is the peer's and may be as long as a frame.
            let shown = crate::error::capped(raw);
            Error::protocol(format!("code {} reply has malformed header field `{key}`: {shown:?}", self.code))
        })
    }

    /// Appends this command as one frame to `dst`.
    pub fn encode(&self, serialize: SerializeType, dst: &mut BytesMut) -> Result<()> {
        self.encode_head(serialize, dst)?;
        dst.put_slice(&self.body);
        Ok(())
    }

    /// Appends this command's frame up to its body (length prefix, header length and header) to
    /// `dst`; the body follows it on the wire, written from its own buffer by the transport.
    ///
    /// The header is written in place after two placeholder words, which are filled in once its
    /// length is known: no buffer of its own, no copy (a trace message's header carries ~13 KB
    /// of keys). On error `dst` is left as it was.
    pub fn encode_head(&self, serialize: SerializeType, dst: &mut BytesMut) -> Result<()> {
        let start = dst.len();
        // One reservation for the words and the header (the JSON one's escapes aside): the
        // first write into an empty buffer would otherwise allocate for the words alone.
        let remark_len = self.remark.as_ref().map_or(0, |r| r.len());
        let written = match serialize {
            SerializeType::Json => {
                // The fixed keys and numbers take under 160 bytes; `,"remark":""` 12.
                dst.reserve(8 + 160 + remark_len + 12 + self.json_ext_fields_len());
                dst.put_u64(0);
                self.write_json_header(dst);
                Ok(())
            }
            SerializeType::RocketMq => {
                let ext_len = self.binary_ext_fields_len();
                dst.reserve(8 + 21 + remark_len + ext_len);
                dst.put_u64(0);
                self.write_binary_header(dst, ext_len)
            }
        };
        let header_len = dst.len() - start - 8;
        let length = 4 + header_len + self.body.len();
        let checked = written.and_then(|()| {
            if header_len >= 1 << 24 {
                return Err(Error::invalid_argument(format!(
                    "header of {header_len} bytes exceeds the 24-bit header length field"
                )));
            }
            if length + 4 > MAX_FRAME_LEN {
                return Err(Error::invalid_argument(format!(
                    "frame of {} bytes exceeds the {MAX_FRAME_LEN}-byte frame limit",
                    length + 4
                )));
            }
            Ok(())
        });
        if let Err(e) = checked {
            dst.truncate(start);
            return Err(e);
        }
        let words = &mut dst[start..start + 8];
        words[..4].copy_from_slice(&(length as i32).to_be_bytes());
        words[4..].copy_from_slice(&(((serialize.byte() as u32) << 24) | header_len as u32).to_be_bytes());
        Ok(())
    }

    fn write_json_header(&self, out: &mut BytesMut) {
        // Written by hand: keys in the alphabetical order Java's fastjson uses, no allocation of
        // an intermediate Value tree on the hot send path.
        let mut numbers = itoa::Buffer::new();
        out.extend_from_slice(b"{\"code\":");
        out.extend_from_slice(numbers.format(self.code).as_bytes());
        if !self.ext_fields.is_empty() {
            out.extend_from_slice(b",\"extFields\":{");
            for (i, (k, v)) in self.ext_fields.iter().enumerate() {
                if i > 0 {
                    out.put_u8(b',');
                }
                write_json_string(out, k);
                out.put_u8(b':');
                write_json_string(out, v);
            }
            out.put_u8(b'}');
        }
        out.extend_from_slice(b",\"flag\":");
        out.extend_from_slice(numbers.format(self.flag).as_bytes());
        out.extend_from_slice(b",\"language\":\"");
        out.extend_from_slice(self.language.name().as_bytes());
        out.extend_from_slice(b"\",\"opaque\":");
        out.extend_from_slice(numbers.format(self.opaque).as_bytes());
        if let Some(remark) = &self.remark {
            out.extend_from_slice(b",\"remark\":");
            write_json_string(out, remark);
        }
        out.extend_from_slice(b",\"serializeTypeCurrentRPC\":\"JSON\",\"version\":");
        out.extend_from_slice(numbers.format(self.version).as_bytes());
        out.put_u8(b'}');
    }

    /// The ext fields' bytes in a JSON header without escapes: quotes, colon and comma.
    fn json_ext_fields_len(&self) -> usize {
        self.ext_fields.iter().map(|(k, v)| k.len() + v.len() + 6).sum()
    }

    /// The ext fields' bytes in a binary header: each name and value with its length word.
    fn binary_ext_fields_len(&self) -> usize {
        self.ext_fields.iter().map(|(k, v)| 2 + k.len() + 4 + v.len()).sum()
    }

    /// `ext_len` is [`Self::binary_ext_fields_len`].
    fn write_binary_header(&self, out: &mut BytesMut, ext_len: usize) -> Result<()> {
        let code = i16::try_from(self.code).map_err(|_| {
            Error::invalid_argument(format!(
                "request code {} does not fit the binary header's 16-bit field; use JSON headers",
                self.code
            ))
        })?;
        let version = i16::try_from(self.version).unwrap_or(i16::MAX);
        out.put_i16(code);
        out.put_u8(self.language.ordinal());
        out.put_i16(version);
        out.put_i32(self.opaque);
        out.put_i32(self.flag);
        match &self.remark {
            Some(r) => {
                out.put_i32(r.len() as i32);
                out.put_slice(r.as_bytes());
            }
            None => out.put_i32(0),
        }
        out.put_i32(ext_len as i32);
        for (k, v) in &self.ext_fields {
            let key_len = i16::try_from(k.len())
                .map_err(|_| Error::invalid_argument(format!("header field name of {} bytes is too long", k.len())))?;
            out.put_i16(key_len);
            out.put_slice(k.as_bytes());
            out.put_i32(v.len() as i32);
            out.put_slice(v.as_bytes());
        }
        Ok(())
    }

    /// Decodes one frame's content (everything after the 4-byte length).
    pub fn decode(mut frame: Bytes) -> Result<Self> {
        if frame.len() < 4 {
            return Err(Error::protocol("frame shorter than its header-length word"));
        }
        let word = frame.get_u32();
        let serialize = SerializeType::from_byte((word >> 24) as u8)?;
        let header_len = (word & 0x00ff_ffff) as usize;
        if header_len > frame.len() {
            return Err(Error::protocol(format!(
                "header length {header_len} exceeds the {} bytes left in the frame",
                frame.len()
            )));
        }
        let header = frame.split_to(header_len);
        let mut cmd = match serialize {
            SerializeType::Json => decode_json_header(&header)?,
            SerializeType::RocketMq => decode_binary_header(header)?,
        };
        cmd.body = frame;
        Ok(cmd)
    }
}

/// Takes one complete frame off the front of `src`, if one is there. An error means the stream
/// is corrupt and the connection must be dropped.
pub fn decode_frame(src: &mut BytesMut) -> Result<Option<RemotingCommand>> {
    if src.len() < 4 {
        return Ok(None);
    }
    let length = i32::from_be_bytes([src[0], src[1], src[2], src[3]]);
    if length < 4 || length as usize + 4 > MAX_FRAME_LEN {
        return Err(Error::protocol(format!("invalid frame length {length}")));
    }
    let total = 4 + length as usize;
    if src.len() < total {
        src.reserve(total - src.len());
        return Ok(None);
    }
    let mut frame = src.split_to(total).freeze();
    frame.advance(4);
    RemotingCommand::decode(frame).map(Some)
}

/// Writes `s` as a JSON string, byte for byte as serde_json writes one: `\"`, `\\`, the short
/// escapes `\b \t \n \f \r`, `\u00xx` for the other control characters, everything else as
/// is. Where none needs escaping, bytes are checked [`CLEAN_BLOCK`] at a time (vector compares),
/// then eight at a time (one word): a header's `properties` field runs to kilobytes (a trace
/// message's keys), where serde_json looks at every byte. A word that holds a byte to escape
/// names the first such byte ([`escape_marks`]), so the scan goes straight to it: a message's
/// `properties` has two control characters per property (its separators), and looking at each
/// byte of their words in turn, with a block and a word check before each, cost 1.4k of a
/// JSON sync send's 26.5k instructions (callgrind).
fn write_json_string(out: &mut BytesMut, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    if short_and_clean(bytes) {
        // Most of a header's strings (its names, numbers, group and topic): checked at once
        // and copied whole.
        out.put_u8(b'"');
        out.extend_from_slice(bytes);
        out.put_u8(b'"');
        return;
    }
    out.put_u8(b'"');
    let mut clean_from = 0;
    let mut at = 0;
    while at < bytes.len() {
        if let Some(block) = bytes.get(at..).and_then(|rest| rest.first_chunk::<CLEAN_BLOCK>()) {
            if !block_needs_escape(block) {
                at += CLEAN_BLOCK;
                continue;
            }
        }
        let escaped_at = match bytes.get(at..).and_then(|rest| rest.first_chunk::<8>()) {
            Some(word) => match escape_marks(u64::from_le_bytes(*word)) {
                0 => {
                    at += 8;
                    continue;
                }
                marks => at + (marks.trailing_zeros() / 8) as usize,
            },
            // Fewer than 8 bytes left.
            None => match bytes[at..].iter().position(|&b| needs_escape(b)) {
                Some(offset) => at + offset,
                None => break,
            },
        };
        out.extend_from_slice(&bytes[clean_from..escaped_at]);
        write_escape(out, bytes[escaped_at]);
        clean_from = escaped_at + 1;
        at = escaped_at + 1;
    }
    out.extend_from_slice(&bytes[clean_from..]);
    out.put_u8(b'"');
}

fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Whether `bytes` is at most 16 bytes long, none of which needs escaping: 8 to 16 bytes are
/// checked as two words that overlap (a byte in both is checked twice, which changes nothing),
/// fewer one at a time.
fn short_and_clean(bytes: &[u8]) -> bool {
    match bytes.len() {
        0..=7 => !bytes.iter().any(|&b| needs_escape(b)),
        8..=16 => {
            let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or([0; 8]));
            escape_marks(word(0)) | escape_marks(word(bytes.len() - 8)) == 0
        }
        _ => false,
    }
}

/// Bytes [`write_json_string`] checks at once when none needs escaping: a trace message's keys
/// (message ids, 32 hexadecimal digits and a space each) checked a word at a time cost about
/// 1.4 instructions a byte, about a twentieth of what tracing adds per drained message
/// (callgrind).
const CLEAN_BLOCK: usize = 32;

/// Whether a byte of `block` needs escaping. Every byte is looked at (no early exit), which
/// lets the compiler compare the block as vectors.
fn block_needs_escape(block: &[u8; CLEAN_BLOCK]) -> bool {
    block.iter().fold(false, |found, &b| found | (b < 0x20) | (b == b'"') | (b == b'\\'))
}

/// The high bit of each byte of `word` (read little-endian: its first byte is the lowest) that
/// needs escaping, as far as the lowest such byte: the tests for a byte below 0x20 and for a
/// byte equal to c are the usual word-at-a-time ones, whose only false marks are above a true
/// one (a borrow from the matching byte). So the lowest mark is exact, and `trailing_zeros`
/// of the marks finds the first byte that needs escaping.
fn escape_marks(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let below_0x20 = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
    let equal = |c: u8| {
        let x = word ^ (ONES * u64::from(c));
        x.wrapping_sub(ONES) & !x & HIGHS
    };
    below_0x20 | equal(b'"') | equal(b'\\')
}

fn write_escape(out: &mut BytesMut, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match b {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        0x08 => out.extend_from_slice(b"\\b"),
        b'\t' => out.extend_from_slice(b"\\t"),
        b'\n' => out.extend_from_slice(b"\\n"),
        0x0c => out.extend_from_slice(b"\\f"),
        b'\r' => out.extend_from_slice(b"\\r"),
        _ => out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]]),
    }
}

fn decode_json_header(header: &[u8]) -> Result<RemotingCommand> {
    if let Some(cmd) = FlatJsonHeader::decode(header) {
        return Ok(cmd);
    }
    decode_json_header_in_full(header)
}

/// The JSON headers servers write, read without serde: flat, every ext field a string without
/// escapes, no key twice, no key this client does not know. Anything else (escapes, numbers or
/// objects as ext values, a language ordinal, malformed input) is left to
/// [`decode_json_header_in_full`] by returning `None`, so both agree on every header this one
/// takes (a property test checks it). Servers answer in JSON whatever the request's type
/// (module docs), so every answer is decoded here: through serde, a send's 260-byte answer
/// header took about 10,000 instructions, more than the rest of a sync send's client work
/// (callgrind).
struct FlatJsonHeader;

impl FlatJsonHeader {
    fn decode(header: &[u8]) -> Option<RemotingCommand> {
        let Some(quotes) = QuoteMap::of(header) else {
            return FlatJsonReader::<false>::read(std::str::from_utf8(header).ok()?, None);
        };
        // SAFETY: a header with a quote map is ASCII (`QuoteMap::of`), so UTF-8.
        let text = unsafe { std::str::from_utf8_unchecked(header) };
        // Servers write no whitespace: read as compact first, and again allowing it when that
        // fails (a header that is neither fails both, as it would once).
        FlatJsonReader::<true>::read(text, Some(&quotes)).or_else(|| FlatJsonReader::<false>::read(text, Some(&quotes)))
    }
}

/// The reader of [`FlatJsonHeader`]; `COMPACT` when whitespace between tokens is refused
/// rather than skipped (a tenth of a send's answer went to looking for it).
struct FlatJsonReader<'a, const COMPACT: bool> {
    /// The header, checked to be UTF-8 once, and its bytes.
    text: &'a str,
    b: &'a [u8],
    pos: usize,
    /// Where its quotes are, when it is short and plain (every header a server writes but an
    /// escaped remark): each string then ends at the next quote.
    quotes: Option<&'a QuoteMap>,
}

/// Names of the ext fields servers answer with most (sends, pulls, offsets), borrowed rather
/// than copied for each answer.
const KNOWN_ANSWER_FIELDS: [&str; 12] = [
    "msgId",
    "queueId",
    "queueOffset",
    "transactionId",
    "MSG_REGION",
    "TRACE_ON",
    "batchUniqId",
    "suggestWhichBrokerId",
    "nextBeginOffset",
    "minOffset",
    "maxOffset",
    "offset",
];

impl<'a, const COMPACT: bool> FlatJsonReader<'a, COMPACT> {
    /// The command `text` holds, whose quotes are `quotes` when it is plain.
    fn read(text: &'a str, quotes: Option<&'a QuoteMap>) -> Option<RemotingCommand> {
        let mut p = FlatJsonReader::<COMPACT> { text, b: text.as_bytes(), pos: 0, quotes };
        // What the full decoder gives a header without a field: 0, `Other`, none.
        let mut cmd = RemotingCommand {
            code: 0,
            language: LanguageCode::Other,
            version: 0,
            opaque: 0,
            flag: 0,
            remark: None,
            ext_fields: ExtFields::new(),
            body: Bytes::new(),
        };
        let mut seen = 0u8;
        p.byte(b'{')?;
        if !p.peek_is(b'}') {
            loop {
                let key = p.string()?;
                p.byte(b':')?;
                let bit = match key {
                    "code" => {
                        cmd.code = p.int()?;
                        1
                    }
                    "flag" => {
                        cmd.flag = p.int()?;
                        2
                    }
                    "opaque" => {
                        cmd.opaque = p.int()?;
                        4
                    }
                    "version" => {
                        cmd.version = p.int()?;
                        8
                    }
                    "language" => {
                        cmd.language = LanguageCode::from_name(p.string()?).unwrap_or(LanguageCode::Other);
                        16
                    }
                    "remark" => {
                        cmd.remark = if p.literal(b"null") { None } else { Some(p.string()?.to_owned()) };
                        32
                    }
                    "serializeTypeCurrentRPC" => {
                        p.string()?;
                        64
                    }
                    "extFields" => {
                        cmd.ext_fields = p.ext_fields()?;
                        128
                    }
                    _ => return None,
                };
                if seen & bit != 0 {
                    return None;
                }
                seen |= bit;
                if !p.comma_or(b'}')? {
                    break;
                }
            }
        }
        p.byte(b'}')?;
        p.skip_ws();
        (p.pos == p.b.len()).then_some(cmd)
    }

    fn ext_fields(&mut self) -> Option<ExtFields> {
        let mut fields = Vec::with_capacity(8);
        self.byte(b'{')?;
        if !self.peek_is(b'}') {
            loop {
                let name = self.string()?;
                self.byte(b':')?;
                // `null` is an absent field, as the full decoder reads it.
                if !self.literal(b"null") {
                    let name = match KNOWN_ANSWER_FIELDS.iter().find(|known| **known == name) {
                        Some(known) => Cow::Borrowed(*known),
                        None => Cow::Owned(name.to_owned()),
                    };
                    fields.push(Field::new(name, self.string()?));
                }
                if !self.comma_or(b'}')? {
                    break;
                }
            }
        }
        self.byte(b'}')?;
        Some(ExtFields::from_unsorted(fields))
    }

    fn skip_ws(&mut self) {
        if COMPACT {
            return;
        }
        while self.b.get(self.pos).is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn peek_is(&mut self, c: u8) -> bool {
        self.skip_ws();
        self.b.get(self.pos) == Some(&c)
    }

    fn byte(&mut self, c: u8) -> Option<()> {
        self.peek_is(c).then(|| self.pos += 1)
    }

    fn literal(&mut self, word: &[u8]) -> bool {
        self.skip_ws();
        let found = self.b[self.pos..].starts_with(word);
        if found {
            self.pos += word.len();
        }
        found
    }

    /// After a member: `true` past a comma (another member follows), `false` before `close`.
    fn comma_or(&mut self, close: u8) -> Option<bool> {
        if self.byte(b',').is_some() {
            return Some(true);
        }
        self.peek_is(close).then_some(false)
    }

    /// A string without escapes or control characters.
    #[inline]
    fn string(&mut self) -> Option<&'a str> {
        self.byte(b'"')?;
        let start = self.pos;
        if let Some(quotes) = self.quotes {
            // A plain header has no escapes or control characters: the next quote ends it.
            let end = quotes.next(start)?;
            self.pos = end + 1;
            return self.text.get(start..end);
        }
        let rest = &self.b[start..];
        // Eight bytes at a time to the first that ends a plain string (the closing quote, or
        // an escape or control character, which leave the header to the full decoder).
        let mut at = 0;
        let len = loop {
            match rest.get(at..at + 8) {
                Some(word) => {
                    let marks = escape_marks(u64::from_le_bytes(word.try_into().ok()?));
                    if marks != 0 {
                        break at + (marks.trailing_zeros() / 8) as usize;
                    }
                    at += 8;
                }
                None => break at + rest[at..].iter().position(|&c| needs_escape(c))?,
            }
        };
        // The closing quote itself: no whitespace is skipped inside a string.
        if rest[len] != b'"' {
            return None;
        }
        self.pos = start + len + 1;
        // Both ends are ASCII quotes, so char boundaries of the checked text.
        self.text.get(start..start + len)
    }

    /// An integer that fits an i32, in JSON's form (no leading zeros, no fraction or exponent).
    #[inline]
    fn int(&mut self) -> Option<i32> {
        self.skip_ws();
        let start = self.pos;
        if self.b.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        let digits = self.pos;
        while self.b.get(self.pos).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
        }
        let n = self.pos - digits;
        if n == 0 || n > 10 || (n > 1 && self.b[digits] == b'0') {
            return None;
        }
        if matches!(self.b.get(self.pos), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        // At most ten digits: no overflow of an i64 (`str::parse` cost some 70 instructions
        // more a number, with checks these digits do not need).
        let magnitude = self.b[digits..self.pos].iter().fold(0i64, |n, &d| n * 10 + i64::from(d - b'0'));
        i32::try_from(if digits > start { -magnitude } else { magnitude }).ok()
    }
}

fn decode_json_header_in_full(header: &[u8]) -> Result<RemotingCommand> {
    // Deserialized straight into the fields (no `serde_json::Value` tree: a send's answer cost
    // about thirty allocations that way, one per key, value and map node).
    let h: JsonHeader = serde_json::from_slice(header).map_err(|e| {
        if e.is_data() {
            Error::protocol(format!("JSON command header has a malformed field: {e}"))
        } else {
            Error::protocol(format!("JSON command header does not parse: {e}"))
        }
    })?;
    let int = |name: &str, v: Option<i64>| -> Result<i32> {
        v.map_or(Ok(0), |n| {
            i32::try_from(n).map_err(|_| Error::protocol(format!("JSON command header field `{name}` is not an i32")))
        })
    };
    let language = match h.language {
        Some(StrOrNumber::Name(s)) => LanguageCode::from_name(&s).unwrap_or(LanguageCode::Other),
        Some(StrOrNumber::Ordinal(n)) => {
            u8::try_from(n).ok().and_then(LanguageCode::from_ordinal).unwrap_or(LanguageCode::Other)
        }
        _ => LanguageCode::Other,
    };
    let ext_fields = h.ext_fields.map(|f| f.0).unwrap_or_default();
    Ok(RemotingCommand {
        code: int("code", h.code)?,
        language,
        version: int("version", h.version)?,
        opaque: int("opaque", h.opaque)?,
        flag: int("flag", h.flag)?,
        remark: h.remark.and_then(|r| match r {
            StrOrNumber::Name(s) => Some(s),
            _ => None,
        }),
        ext_fields,
        body: Bytes::new(),
    })
}

/// A JSON command header as Java writes it; other keys (`serializeTypeCurrentRPC`) are ignored.
#[derive(serde::Deserialize)]
struct JsonHeader {
    code: Option<i64>,
    language: Option<StrOrNumber>,
    version: Option<i64>,
    opaque: Option<i64>,
    flag: Option<i64>,
    /// Only a string is a remark; anything else is dropped.
    remark: Option<StrOrNumber>,
    #[serde(rename = "extFields")]
    ext_fields: Option<JsonExtFields>,
}

/// `extFields` read straight into [`ExtFields`] (no map in between); `null` values are absent.
struct JsonExtFields(ExtFields);

impl<'de> serde::Deserialize<'de> for JsonExtFields {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = JsonExtFields;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of header fields")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<JsonExtFields, A::Error> {
                let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(8).min(64));
                while let Some((name, value)) = map.next_entry::<String, ExtValue>()? {
                    if let Some(value) = value.0 {
                        fields.push(Field::new(name, value));
                    }
                }
                Ok(JsonExtFields(ExtFields::from_unsorted(fields)))
            }
        }
        d.deserialize_map(Visitor)
    }
}

/// A JSON value that is a string, an unsigned number, or anything else (`Other`, ignored):
/// the language is a name or an ordinal, a remark a string.
enum StrOrNumber {
    Name(String),
    Ordinal(u64),
    Other,
}

impl<'de> serde::Deserialize<'de> for StrOrNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = StrOrNumber;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<StrOrNumber, E> {
                Ok(StrOrNumber::Name(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> std::result::Result<StrOrNumber, E> {
                Ok(StrOrNumber::Name(v))
            }
            fn visit_u64<E>(self, v: u64) -> std::result::Result<StrOrNumber, E> {
                Ok(StrOrNumber::Ordinal(v))
            }
            fn visit_i64<E>(self, _: i64) -> std::result::Result<StrOrNumber, E> {
                Ok(StrOrNumber::Other)
            }
            fn visit_f64<E>(self, _: f64) -> std::result::Result<StrOrNumber, E> {
                Ok(StrOrNumber::Other)
            }
            fn visit_bool<E>(self, _: bool) -> std::result::Result<StrOrNumber, E> {
                Ok(StrOrNumber::Other)
            }
            fn visit_unit<E>(self) -> std::result::Result<StrOrNumber, E> {
                Ok(StrOrNumber::Other)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> std::result::Result<StrOrNumber, A::Error> {
                serde::de::IgnoredAny.visit_seq(seq).map(|_| StrOrNumber::Other)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> std::result::Result<StrOrNumber, A::Error> {
                serde::de::IgnoredAny.visit_map(map).map(|_| StrOrNumber::Other)
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// An `extFields` value: a string as it is, `null` as absent (`None`), any other value as its
/// JSON text (Java's fastjson writes every field as a string; others are tolerated).
struct ExtValue(Option<String>);

impl<'de> serde::Deserialize<'de> for ExtValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = ExtValue;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<ExtValue, E> {
                Ok(ExtValue(Some(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> std::result::Result<ExtValue, E> {
                Ok(ExtValue(Some(v)))
            }
            fn visit_unit<E>(self) -> std::result::Result<ExtValue, E> {
                Ok(ExtValue(None))
            }
            fn visit_u64<E>(self, v: u64) -> std::result::Result<ExtValue, E> {
                Ok(ExtValue(Some(v.to_string())))
            }
            fn visit_i64<E>(self, v: i64) -> std::result::Result<ExtValue, E> {
                Ok(ExtValue(Some(v.to_string())))
            }
            fn visit_f64<E>(self, v: f64) -> std::result::Result<ExtValue, E> {
                Ok(ExtValue(Some(serde_json::Value::from(v).to_string())))
            }
            fn visit_bool<E>(self, v: bool) -> std::result::Result<ExtValue, E> {
                Ok(ExtValue(Some(v.to_string())))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> std::result::Result<ExtValue, A::Error> {
                let v = <serde_json::Value as serde::Deserialize>::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))?;
                Ok(ExtValue(Some(v.to_string())))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> std::result::Result<ExtValue, A::Error> {
                let v = <serde_json::Value as serde::Deserialize>::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(ExtValue(Some(v.to_string())))
            }
        }
        d.deserialize_any(Visitor)
    }
}

fn take_string(buf: &mut Bytes, len: usize, what: &str) -> Result<String> {
    if len > buf.len() {
        return Err(Error::protocol(format!("binary header {what} of {len} bytes overruns the header")));
    }
    let raw = buf.split_to(len);
    String::from_utf8(raw.to_vec()).map_err(|_| Error::protocol(format!("binary header {what} is not UTF-8")))
}

fn decode_binary_header(mut h: Bytes) -> Result<RemotingCommand> {
    if h.len() < 2 + 1 + 2 + 4 + 4 + 4 {
        return Err(Error::protocol("binary command header is truncated"));
    }
    let code = h.get_i16() as i32;
    let language = LanguageCode::from_ordinal(h.get_u8()).unwrap_or(LanguageCode::Other);
    let version = h.get_i16() as i32;
    let opaque = h.get_i32();
    let flag = h.get_i32();
    let remark_len = h.get_i32();
    let remark = if remark_len > 0 { Some(take_string(&mut h, remark_len as usize, "remark")?) } else { None };
    if h.len() < 4 {
        return Err(Error::protocol("binary command header lacks its ext-fields length"));
    }
    let ext_len = h.get_i32();
    if ext_len < 0 || ext_len as usize > h.len() {
        return Err(Error::protocol(format!("binary header ext-fields length {ext_len} is invalid")));
    }
    let mut ext = h.split_to(ext_len as usize);
    let mut ext_fields = Vec::new();
    while ext.has_remaining() {
        if ext.len() < 2 {
            return Err(Error::protocol("binary header ext field key length is truncated"));
        }
        let key_len = ext.get_i16();
        let key = take_string(&mut ext, key_len.max(0) as usize, "ext field key")?;
        if ext.len() < 4 {
            return Err(Error::protocol("binary header ext field value length is truncated"));
        }
        let value_len = ext.get_i32();
        if value_len < 0 {
            return Err(Error::protocol("binary header ext field value length is negative"));
        }
        let value = take_string(&mut ext, value_len as usize, "ext field value")?;
        ext_fields.push(Field::new(key, value));
    }
    let ext_fields = ExtFields::from_unsorted(ext_fields);
    Ok(RemotingCommand { code, language, version, opaque, flag, remark, ext_fields, body: Bytes::new() })
}

#[cfg(test)]
mod tests {
    #[test]
    fn json_strings_are_written_as_serde_json_writes_them() {
        let mut cases: Vec<String> = (0u8..=0x7f).map(|b| char::from(b).to_string()).collect();
        cases.extend(["", "plain", "é ü 漢字 😀", "\u{7f}\u{80}\u{2028}", "a\"b\\c/d"].map(str::to_owned));
        // A separator and a quote at every offset of a long string, across word boundaries.
        for at in 0..20 {
            let mut s = "k".repeat(24);
            s.insert(at, '\u{1}');
            s.insert(at + 3, '"');
            cases.push(s);
        }
        // Strings shorter than a word, up to two words (checked as two overlapping ones) and
        // a bit more: each escaped byte at every offset.
        for len in 1..20 {
            for at in 0..len {
                for c in ['\u{0}', '\u{1f}', '"', '\\', '\t'] {
                    let mut s: String = "abcdefghijklmnopqrst"[..len - 1].to_owned();
                    s.insert(at, c);
                    cases.push(s);
                }
            }
        }
        // In a string longer than two blocks: each escaped byte at every offset, alone and
        // after a multi-byte character.
        for at in 0..100 {
            for c in ['\u{0}', '\u{1f}', '"', '\\', '\n'] {
                let mut s = "0123456789abcdef".repeat(7);
                s.insert(at, c);
                cases.push(s.clone());
                s.insert(at / 2, '漢');
                cases.push(s);
            }
        }
        // A pseudo-random mix of ASCII, control and multi-byte characters.
        let alphabet: Vec<char> = "ab \u{1}\u{2}\"\\\n\té漢\u{1f}\u{7f}".chars().collect();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..200 {
            let mut s = String::new();
            for _ in 0..(seed % 160) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                s.push(alphabet[(seed % alphabet.len() as u64) as usize]);
            }
            cases.push(s);
        }
        for case in cases {
            let mut ours = BytesMut::new();
            super::write_json_string(&mut ours, &case);
            assert_eq!(String::from_utf8(ours.to_vec()).unwrap(), serde_json::to_string(&case).unwrap(), "{case:?}");
        }
    }

    use super::*;
    use proptest::prelude::*;

    fn route_request() -> RemotingCommand {
        let mut cmd = RemotingCommand::request(105).with_ext("topic", "T");
        cmd.opaque = 1;
        cmd
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A command that cannot be framed is refused with an error naming why, and the frames
    /// already in the buffer stay as they were (the header is written in place).
    #[test]
    fn a_head_that_cannot_be_encoded_leaves_the_buffer_as_it_was() {
        let mut out = BytesMut::new();
        route_request().encode(SerializeType::RocketMq, &mut out).unwrap();
        let before = out.clone();
        let mut long_name = route_request();
        long_name.ext_fields.insert("k".repeat(40_000), "v");
        let mut cases = vec![
            (RemotingCommand::request(40_000), SerializeType::RocketMq, "does not fit"),
            (long_name, SerializeType::RocketMq, "name of 40000 bytes"),
            (route_request().with_ext("topic", "t".repeat(1 << 24)), SerializeType::Json, "24-bit header length"),
        ];
        let mut too_big = route_request();
        too_big.body = Bytes::from(vec![0; MAX_FRAME_LEN]);
        cases.push((too_big, SerializeType::Json, "frame limit"));
        for (cmd, serialize, why) in cases {
            let err = cmd.encode_head(serialize, &mut out).unwrap_err().to_string();
            assert!(err.contains(why), "{err}");
            assert_eq!(out, before);
        }
        // Appended after the first, the same frame as alone.
        route_request().encode(SerializeType::Json, &mut out).unwrap();
        let mut alone = BytesMut::new();
        route_request().encode(SerializeType::Json, &mut alone).unwrap();
        assert_eq!(out[before.len()..], alone[..]);
    }

    #[test]
    fn binary_vector_from_fact_sheet() {
        let mut out = BytesMut::new();
        route_request().encode(SerializeType::RocketMq, &mut out).unwrap();
        assert_eq!(
            hex(&out),
            "0000002501000021 0069 0c 01df 00000001 00000000 00000000 0000000c 0005 746f706963 00000001 54"
                .replace(' ', "")
        );
    }

    #[test]
    fn json_vector_from_fact_sheet() {
        let mut out = BytesMut::new();
        route_request().encode(SerializeType::Json, &mut out).unwrap();
        let header = br#"{"code":105,"extFields":{"topic":"T"},"flag":0,"language":"RUST","opaque":1,"serializeTypeCurrentRPC":"JSON","version":479}"#;
        assert_eq!(&out[0..4], &0x7fu32.to_be_bytes());
        assert_eq!(&out[4..8], &0x7bu32.to_be_bytes());
        assert_eq!(&out[8..], &header[..]);
    }

    #[test]
    fn decodes_java_style_json_response() {
        let header = br#"{"code":0,"extFields":{"queueId":"3","msgId":"7F00000100002A9F0000000000000000","queueOffset":"12"},"flag":1,"language":"JAVA","opaque":7,"serializeTypeCurrentRPC":"JSON","version":479}"#;
        let mut frame = BytesMut::new();
        frame.put_i32((4 + header.len() + 2) as i32);
        frame.put_u32(header.len() as u32);
        frame.put_slice(header);
        frame.put_slice(b"ok");
        let cmd = decode_frame(&mut frame).unwrap().unwrap();
        assert!(frame.is_empty());
        assert!(cmd.is_response());
        assert_eq!(cmd.opaque, 7);
        assert_eq!(cmd.language, LanguageCode::Java);
        assert_eq!(cmd.ext_parse::<i32>("queueId").unwrap(), 3);
        assert_eq!(&cmd.body[..], b"ok");
        assert!(cmd.ext_parse::<i32>("missing").unwrap_err().message().contains("missing"));
    }

    /// Java writes every ext field as a string; other JSON values are kept as their text,
    /// `null` as absent, and unknown keys and non-string remarks are ignored.
    #[test]
    fn json_headers_tolerate_what_java_does_not_write() {
        let decode = |header: &str| decode_json_header(header.as_bytes());
        let cmd = decode(
            r#"{"code":1,"extFields":{"n":12,"neg":-3,"f":1.5,"b":true,"z":null,"o":{"a":[1,"x"]},"s":"v"},
                "flag":0,"language":5,"opaque":-9,"remark":7,"serializeTypeCurrentRPC":"JSON","unknown":[1,{}]}"#,
        )
        .unwrap();
        let ext: Vec<(&str, &str)> = cmd.ext_fields.iter().collect();
        assert_eq!(
            ext,
            [("b", "true"), ("f", "1.5"), ("n", "12"), ("neg", "-3"), ("o", r#"{"a":[1,"x"]}"#), ("s", "v")]
        );
        assert_eq!((cmd.code, cmd.opaque, cmd.version), (1, -9, 0));
        assert_eq!(cmd.language, LanguageCode::from_ordinal(5).unwrap());
        assert_eq!(cmd.remark, None);
        assert_eq!(decode(r#"{"language":"GO","remark":"why"}"#).unwrap().remark.as_deref(), Some("why"));
        assert_eq!(decode(r#"{"language":"NOPE"}"#).unwrap().language, LanguageCode::Other);
        assert_eq!(decode(r#"{"language":{"a":1}}"#).unwrap().language, LanguageCode::Other);
        assert!(decode(r#"{"code":4294967296}"#).unwrap_err().message().contains("`code` is not an i32"));
        assert!(decode(r#"{"code":"1"}"#).unwrap_err().message().contains("malformed field"));
        assert!(decode(r#"{"code":1"#).unwrap_err().message().contains("does not parse"));
        assert!(decode(r#"[1]"#).is_err());
    }

    /// A 5.3.3 broker's answer to SEND_MESSAGE_V2 (captured), read by the flat reader.
    #[test]
    fn a_send_answer_is_read_without_serde() {
        let header = br#"{"code":0,"extFields":{"queueId":"0","transactionId":"AABBCCDDEEFF00112233445566778899","msgId":"7F0000010000561D000000000E834F7E","TRACE_ON":"true","MSG_REGION":"DefaultRegion","queueOffset":"24052"},"flag":1,"language":"JAVA","opaque":7,"serializeTypeCurrentRPC":"JSON","version":479}"#;
        let cmd = FlatJsonHeader::decode(header).expect("the flat reader takes a send's answer");
        assert_eq!(cmd, decode_json_header_in_full(header).unwrap());
        assert_eq!((cmd.code, cmd.flag, cmd.opaque, cmd.version, cmd.language), (0, 1, 7, 479, LanguageCode::Java));
        assert_eq!(cmd.ext("msgId"), Some("7F0000010000561D000000000E834F7E"));
        assert_eq!(cmd.ext("queueOffset"), Some("24052"));
        assert_eq!(cmd.ext_fields.len(), 6);
        // What it leaves to the full decoder, which reads them (or refuses them) as before.
        for other in [
            r#"{"code":1,"extFields":{"n":12}}"#,
            r#"{"code":1,"remark":"a\"b"}"#,
            r#"{"language":5}"#,
            r#"{"code":1,"code":2}"#,
            r#"{"code":01}"#,
            r#"{"code":1.0}"#,
            r#"{"code":2147483648}"#,
            r#"{"unknown":1}"#,
            r#"{"code":1,}"#,
            r#"{"code":1} x"#,
        ] {
            assert!(FlatJsonHeader::decode(other.as_bytes()).is_none(), "{other}");
        }
        assert_eq!(FlatJsonHeader::decode(b" { \"code\" : -3 , \"remark\" : null } ").map(|c| c.code), Some(-3));
    }

    #[test]
    fn a_huge_malformed_header_field_is_capped_in_the_error() {
        let cmd = RemotingCommand::response(0, 1, None).with_ext("queueId", "x".repeat(1 << 20));
        let e = cmd.ext_parse::<i32>("queueId").unwrap_err();
        assert!(e.message().contains("malformed header field `queueId`"), "{}", &e.message()[..100]);
        assert!(e.message().len() < crate::error::MAX_REMARK_BYTES + 200, "{} bytes", e.message().len());
        assert!(e.message().ends_with("more bytes cut)\""));
    }

    #[test]
    fn partial_frames_wait_for_more_bytes() {
        let mut full = BytesMut::new();
        route_request().with_body(vec![1u8, 0, 2]).encode(SerializeType::Json, &mut full).unwrap();
        for cut in 0..full.len() {
            let mut part = BytesMut::from(&full[..cut]);
            assert!(decode_frame(&mut part).unwrap().is_none(), "cut at {cut}");
        }
    }

    #[test]
    fn oversized_and_negative_lengths_are_errors() {
        let mut neg = BytesMut::from(&[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0][..]);
        assert!(decode_frame(&mut neg).is_err());
        let mut big = BytesMut::from(&[0x7f, 0, 0, 0][..]);
        assert!(decode_frame(&mut big).is_err());
        let big_code = RemotingCommand::request(200050);
        assert!(big_code.encode(SerializeType::RocketMq, &mut BytesMut::new()).is_err());
        assert!(big_code.encode(SerializeType::Json, &mut BytesMut::new()).is_ok());
    }

    fn arb_command() -> impl Strategy<Value = RemotingCommand> {
        (
            any::<i16>(),
            0u8..14,
            any::<i16>(),
            any::<i32>(),
            0i32..4,
            proptest::option::of("\\PC{1,20}"),
            proptest::collection::btree_map("[a-zA-Z_]{1,8}", "\\PC{1,16}", 0..6),
            proptest::collection::vec(any::<u8>(), 0..64),
        )
            .prop_map(|(code, lang, version, opaque, flag, remark, ext, body)| RemotingCommand {
                code: code as i32,
                language: LanguageCode::from_ordinal(lang).unwrap(),
                version: version as i32,
                opaque,
                flag,
                remark,
                ext_fields: ext.into_iter().collect(),
                body: Bytes::from(body),
            })
    }

    proptest! {
        /// The lowest mark is the first byte that needs escaping; no mark, no such byte.
        #[test]
        fn the_lowest_escape_mark_is_the_first_byte_to_escape(
            bytes in proptest::collection::vec(prop_oneof![Just(b'"'), Just(b'\\'), 0u8..0x21, 0x7fu8..=0xff, any::<u8>()], 8)
        ) {
            let word = u64::from_le_bytes(bytes.clone().try_into().unwrap());
            let first = bytes.iter().position(|&b| needs_escape(b)).unwrap_or(8);
            prop_assert_eq!((escape_marks(word).trailing_zeros() / 8) as usize, first);
        }
    }

    proptest! {
        #[test]
        fn round_trips_in_both_header_types(cmd in arb_command(), binary in any::<bool>()) {
            let ser = if binary { SerializeType::RocketMq } else { SerializeType::Json };
            let mut buf = BytesMut::new();
            cmd.encode(ser, &mut buf).unwrap();
            let decoded = decode_frame(&mut buf).unwrap().unwrap();
            prop_assert!(buf.is_empty());
            prop_assert_eq!(decoded, cmd);
        }

        /// The flat reader takes what the full decoder reads, and agrees with it on every
        /// header it takes, whole or with one byte changed, added or removed.
        #[test]
        fn the_flat_json_reader_agrees_with_the_full_decoder(
            cmd in arb_command(),
            edit in proptest::option::of((any::<usize>(), any::<u8>(), 0u8..3)),
        ) {
            let mut frame = BytesMut::new();
            cmd.encode_head(SerializeType::Json, &mut frame).unwrap();
            let mut header = frame[8..].to_vec();
            if let Some((pos, byte, how)) = edit {
                let i = pos % header.len();
                match how {
                    0 => header[i] = byte,
                    1 => header.insert(i, byte),
                    _ => drop(header.remove(i)),
                }
            }
            let full = decode_json_header_in_full(&header);
            match FlatJsonHeader::decode(&header) {
                Some(flat) => prop_assert_eq!(Ok(flat), full.map_err(|e| e.to_string())),
                // Unedited, only escapes in its strings send a header to the full decoder.
                None => prop_assert!(edit.is_some() || header.contains(&b'\\'), "{}", String::from_utf8_lossy(&header)),
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let mut buf = BytesMut::from(&bytes[..]);
            let _ = decode_frame(&mut buf);
            let _ = RemotingCommand::decode(Bytes::from(bytes));
        }

        #[test]
        fn corrupted_valid_frames_never_panic(cmd in arb_command(), pos in any::<usize>(), byte in any::<u8>()) {
            let mut buf = BytesMut::new();
            cmd.encode(SerializeType::RocketMq, &mut buf).unwrap();
            let i = pos % buf.len();
            buf[i] = byte;
            let _ = decode_frame(&mut buf);
        }
    }
}
